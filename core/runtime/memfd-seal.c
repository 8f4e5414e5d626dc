#include "memfd-seal.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define SIZE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW)
#define WRITE_SEALS (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)

/*
 * F_SEAL_WRITE fails with EBUSY while the kernel still holds a reference to a
 * page of the file (the page cache's per-cpu batches, a splice buffer not yet
 * released), which CI saw under load, or while a writable shared mapping
 * exists. It is tried again after short pauses; if the pages stay pinned,
 * F_SEAL_FUTURE_WRITE refuses every later write() and writable mapping all
 * the same, without waiting for pins.
 */
int memfd_seal_contents(int fd)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0)
            return fcntl(fd, F_ADD_SEALS, SIZE_SEALS);
        if (errno != EBUSY)
            return -1;
        struct timespec pause = {0, 2000000L << attempt};
        nanosleep(&pause, NULL);
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) < 0)
        return -1;
    return fcntl(fd, F_ADD_SEALS, SIZE_SEALS);
}

int memfd_is_sealed(int fd)
{
    int seals = fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (seals & SIZE_SEALS) == SIZE_SEALS && (seals & WRITE_SEALS) != 0;
}
