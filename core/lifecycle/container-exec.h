/* berth exec: one more process in a running container (runtime/exec.h). */
#ifndef BERTH_CONTAINER_EXEC_H
#define BERTH_CONTAINER_EXEC_H

#include "lifecycle/engine.h"

struct exec_options {
    char **args;      /* NULL-terminated */
    char **env;       /* -e K=V over the container's env; may be NULL */
    const char *cwd;  /* -w; NULL: the container's */
    const char *user; /* -u; NULL: the container's */
    int tty;          /* -t */
    int interactive;  /* -i */
    int detach;       /* -d: return once the command runs */
};

/*
 * Runs O->args in the running container REF and stores its exit status (or
 * 0 with O->detach). A container that is not running is refused with
 * "container 'REF' is not running". The container's record is only read:
 * exec takes no lock and changes nothing on disk.
 */
int container_exec(struct engine *e, const char *ref, const struct exec_options *o,
                   int *ret_exit_status, struct error **err);

#endif
