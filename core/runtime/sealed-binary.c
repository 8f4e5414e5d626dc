/*
 * Re-exec from a sealed memfd copy of the binary (CVE-2019-5736, as crun's
 * cloned_binary.c and LXC's rexec.c). A container that gets berth exec'd
 * inside it, e.g. through an image binary "#!/proc/self/exe", can reach the
 * running executable through /proc/PID/exe; when that is a sealed memfd, no
 * write can reach the host's berth.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"
#include "util/cleanup.h"

#define SEALED_ENV "_BERTH_SEALED"
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
/* One of the two write seals is added too; see seal_copy. */
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW)
#define WRITE_SEALS (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)

extern char **environ;

static int running_sealed(void)
{
    _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int seals = fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (seals & SEALS) == SEALS && (seals & WRITE_SEALS) != 0;
}

/*
 * F_SEAL_WRITE fails with EBUSY while the kernel still holds a reference to a
 * page of the copy (the page cache's per-cpu batches, a splice buffer not yet
 * released), which happens under load. It is tried again after a pause; if
 * the pages stay pinned, F_SEAL_FUTURE_WRITE refuses every later write and
 * writable mapping all the same (no writable mapping exists to keep), and
 * does not wait for pins.
 */
static int seal_copy(int mfd)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        if (fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE) == 0)
            return fcntl(mfd, F_ADD_SEALS, SEALS);
        if (errno != EBUSY)
            return -1;
        struct timespec pause = {0, 2000000L << attempt};
        nanosleep(&pause, NULL);
    }
    if (fcntl(mfd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) < 0)
        return -1;
    return fcntl(mfd, F_ADD_SEALS, SEALS);
}

int sealed_binary_ensure(int argc, char **argv, struct error **err)
{
    (void)argc;
    /*
     * The marker only says a re-exec happened; the seals are what is trusted.
     * It goes from the environment either way, so containers never see it.
     */
    int marked = getenv(SEALED_ENV) != NULL;
    if (marked)
        unsetenv(SEALED_ENV);
    if (running_sealed())
        return 0;
    if (marked)
        return error_set(err, EPERM, "re-executed, but the binary is not sealed");

    _cleanup_close_ int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (exe < 0)
        return error_set(err, errno, "open '/proc/self/exe'");
    struct stat st;
    if (fstat(exe, &st) < 0)
        return error_set(err, errno, "stat '/proc/self/exe'");
    _cleanup_close_ int mfd = memfd_create("berth", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return error_set(err, errno, "memfd_create");
    /* sendfile: copy_file_range refuses to cross file system types. */
    for (off_t off = 0; off < st.st_size;) {
        ssize_t n = sendfile(mfd, exe, &off, (size_t)(st.st_size - off));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return error_set(err, n < 0 ? errno : EIO, "copy '/proc/self/exe'");
    }
    if (seal_copy(mfd) < 0)
        return error_set(err, errno, "seal the binary copy");

    if (setenv(SEALED_ENV, "1", 1) < 0)
        return error_set(err, errno, "setenv");
    fexecve(mfd, argv, environ);
    int saved = errno;
    unsetenv(SEALED_ENV);
    return error_set(err, saved, "re-exec the sealed binary");
}
