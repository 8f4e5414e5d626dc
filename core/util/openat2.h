/* openat2(2), which glibc 2.36 does not wrap. */
#ifndef BERTH_OPENAT2_H
#define BERTH_OPENAT2_H

#include <stdint.h>

/* openat2(DFD, PATH) with open FLAGS and RESOLVE_* flags; the fd, or -1 and errno. */
int openat2_resolve(int dfd, const char *path, int flags, uint64_t resolve);

#endif
