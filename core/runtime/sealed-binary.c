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
#include <unistd.h>

#include "memfd-seal.h"
#include "runtime.h"
#include "util/cleanup.h"

#define SEALED_ENV "_BERTH_SEALED"

extern char **environ;

static int running_sealed(void)
{
    _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    return fd >= 0 && memfd_is_sealed(fd);
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
    if (memfd_seal_contents(mfd) < 0)
        return error_set(err, errno, "seal the binary copy");

    if (setenv(SEALED_ENV, "1", 1) < 0)
        return error_set(err, errno, "setenv");
    fexecve(mfd, argv, environ);
    int saved = errno;
    unsetenv(SEALED_ENV);
    return error_set(err, saved, "re-exec the sealed binary");
}
