/*
 * Fault containment for plugins configured with "isolate": true: each
 * operation runs in a forked child with a deadline. The child calls the
 * operation and sends back over a pipe its return value, the error the
 * plugin set and what it put into the result sinks (a mount list, a text
 * result); a child that dies by a signal, exits without an answer or
 * overruns its deadline (it is then SIGKILLed, by pid) fails that one
 * operation with an error such as "prepare: killed by SIGSEGV", and the
 * caller rolls back as with any failing step.
 *
 * Plugins are loaded and initialised before any fork; the child leaves with
 * _exit, so neither atexit handlers nor stdio buffers run twice. What the
 * plugin changes in its memory is lost with the child: an isolated plugin
 * keeps its state on disk (state_dir), as a daemonless berth needs anyway.
 */
#ifndef BERTH_PLUGIN_ISOLATE_H
#define BERTH_PLUGIN_ISOLATE_H

#include <sys/types.h>

#include "lifecycle/plugin-calls.h"

struct plugin_child {
    struct plugin *plugin;
    const char *op;
    pid_t pid;
    int fd;               /* parent: read end; child: write end */
    size_t mounts_before; /* the child sends only the mounts it added */
};

enum {
    PLUGIN_RUN_HERE = 0,   /* not isolated: call the operation in this process */
    PLUGIN_RUN_CHILD = 1,  /* in the child: call it, then plugin_child_exit */
    PLUGIN_RUN_PARENT = 2, /* in berth: plugin_child_wait for the answer */
};

/* Forks when P is isolated. Returns PLUGIN_RUN_*, or -errno with PERR set.
 * MOUNTS is the list the operation will append to (or NULL). */
int plugin_child_start(struct plugin *p, const char *op, struct plugin_child *ch,
                       const struct mount_list *mounts, struct berth_error *perr);
/* In the child: sends R, PERR and the sinks' content, then _exit()s. */
_Noreturn void plugin_child_exit(struct plugin_child *ch, int r, struct berth_error *perr,
                                 struct mount_list *mounts, struct text_sink *text);
/* In berth: waits for the child's answer or its deadline. Returns the
 * operation's result, its error in PERR and its mounts and text appended to
 * MOUNTS and TEXT (either may be NULL); a crash or timeout is -EIO or
 * -ETIMEDOUT with PERR saying what happened. */
int plugin_child_wait(struct plugin_child *ch, struct berth_error *perr, struct mount_list *mounts,
                      struct text_sink *text);

/*
 * Evaluates CALL (a plugin operation such as o->prepare(p->state, ...)) in
 * this process or, for an isolated plugin, in a child; MOUNTS and TEXT are
 * the sinks CALL's result struct feeds (or NULL). The value is CALL's.
 */
#define PLUGIN_RUN(p, op, perr, mounts, text, call)                                                \
    __extension__({                                                                                \
        struct plugin_child ch_;                                                                   \
        int r_ = plugin_child_start((p), (op), &ch_, (mounts), (perr));                            \
        if (r_ == PLUGIN_RUN_HERE)                                                                 \
            r_ = (call);                                                                           \
        else if (r_ == PLUGIN_RUN_CHILD)                                                           \
            plugin_child_exit(&ch_, (call), (perr), (mounts), (text));                             \
        else if (r_ == PLUGIN_RUN_PARENT)                                                          \
            r_ = plugin_child_wait(&ch_, (perr), (mounts), (text));                                \
        r_;                                                                                        \
    })

#endif
