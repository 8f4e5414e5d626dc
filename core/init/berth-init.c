/*
 * berth-init: the container's pid 1 with --init (tini's job, in the spirit
 * of docker-init). A static binary that berth bind-mounts read-only at
 * /dev/init; the command runs as its child. It
 *   - reaps every process re-parented to it (no zombies pile up),
 *   - forwards the signals it gets to the child (a pid-namespace init
 *     ignores signals it has no handler for, so without it `stop` must
 *     wait for SIGKILL),
 *   - exits with the child's status (code, or 128 + signal).
 * Usage: berth-init [--] COMMAND [ARG...]
 * It depends on libc only, is linked statically, and opens nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int first = 1;
    if (first < argc && !strcmp(argv[first], "--"))
        first++;
    if (first >= argc) {
        fprintf(stderr, "berth-init: usage: berth-init [--] COMMAND [ARG...]\n");
        return 125;
    }
    /* Outside a pid namespace (tests), orphans still come to us. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    sigset_t all, old;
    sigfillset(&all);
    /* Faults stay deliverable: they are about us, not for the child. */
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGABRT);
    sigprocmask(SIG_BLOCK, &all, &old);

    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "berth-init: fork: %s\n", strerror(errno));
        return 125;
    }
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        execvp(argv[first], argv + first);
        int e = errno;
        fprintf(stderr, "berth-init: exec '%s': %s\n", argv[first], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
    }

    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig < 0)
            continue;
        if (sig != SIGCHLD) {
            /* SIGSTOP/SIGKILL cannot arrive here; job-control stops go on. */
            kill(child, sig);
            continue;
        }
        int st;
        pid_t w;
        while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
            if (w != child)
                continue;
            /* The command ended: reap what is left, then leave with its status. */
            while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
            if (WIFEXITED(st))
                return WEXITSTATUS(st);
            return 128 + WTERMSIG(st);
        }
    }
}
