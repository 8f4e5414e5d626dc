/* SPDX-License-Identifier: MIT */
/* Shared by the files of libberth-fsutil only; not installed. */
#ifndef BERTH_FSUTIL_INTERNAL_H
#define BERTH_FSUTIL_INTERNAL_H

#include <stdlib.h>
#include <unistd.h>

/* Cleanup attributes, as the drivers have their own (the SDK exports none). */
static inline void fsutil_freep(void *p)
{
    free(*(void **)p);
}
static inline void fsutil_closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}
#define _cleanup_free_ __attribute__((cleanup(fsutil_freep)))
#define _cleanup_close_ __attribute__((cleanup(fsutil_closep)))

#endif
