/* openat2(2) (openat2.h). */
#include "util/openat2.h"

#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

int openat2_resolve(int dfd, const char *path, int flags, uint64_t resolve)
{
    struct open_how how = {.flags = (uint64_t)flags, .resolve = resolve};
    return (int)syscall(SYS_openat2, dfd, path, &how, sizeof(how));
}
