/*
 * The core's error object, after crun's libcrun_error_t: a fallible function
 * returns a negative errno and fills *ERR; each caller on the way up may add
 * context with error_prefix(); the CLI prints the chain once as one line.
 */
#ifndef BERTH_ERROR_H
#define BERTH_ERROR_H

#include <stdarg.h>

/* Exit statuses, as docker's. */
#define EXIT_BERTH_ERROR 125
#define EXIT_CANNOT_INVOKE 126
#define EXIT_NOT_FOUND 127

struct error {
    int errnum;      /* positive errno, or 0 */
    int exit_status; /* 125 unless set otherwise */
    char *msg;       /* "what: why" */
};

/*
 * Makes a new error in *ERR (which must be NULL) from FMT, appending
 * ": strerror(ERRNUM)" when ERRNUM is non-zero. Returns -ERRNUM, or -EINVAL
 * when ERRNUM is 0, so that callers can `return error_set(err, …)`.
 */
int error_set(struct error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int error_setv(struct error **err, int errnum, const char *fmt, va_list ap);
/* Like error_set, but the message is exactly FMT: for errors whose errno
 * only classifies them ("no such container 'x'"), where strerror adds noise. */
int error_set_plain(struct error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like error_set with exit status STATUS (126/127). */
int error_set_status(struct error **err, int status, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prepends "CONTEXT: " to *ERR's message. Returns -errnum of *ERR. */
int error_prefix(struct error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees *ERR and sets it to NULL; accepts NULL. */
void error_free(struct error **err);
/* The negative return for an existing error. */
int error_code(const struct error *err);
/* Replaces control characters (newlines among them) in S with '?': an error
 * is one line, whatever names from files or users it quotes. */
void text_one_line(char *s);

#define _cleanup_error_ __attribute__((cleanup(error_free)))

#if defined(__clang_analyzer__) && !defined(BERTH_ERROR_C)
/* clang's analyzer sees only the declarations above and would follow a
 * `return error_set(...)` as if it could return 0 or more, past every output
 * parameter left unset. The definitions (error.c) always return < 0. */
#define ERROR_NEGATIVE_(call)                                                                      \
    ({                                                                                             \
        int error_r_ = (call);                                                                     \
        __builtin_assume(error_r_ < 0);                                                            \
        error_r_;                                                                                  \
    })
#define error_set(...) ERROR_NEGATIVE_((error_set)(__VA_ARGS__))
#define error_setv(...) ERROR_NEGATIVE_((error_setv)(__VA_ARGS__))
#define error_set_plain(...) ERROR_NEGATIVE_((error_set_plain)(__VA_ARGS__))
#define error_set_status(...) ERROR_NEGATIVE_((error_set_status)(__VA_ARGS__))
#define error_prefix(...) ERROR_NEGATIVE_((error_prefix)(__VA_ARGS__))
#define error_code(...) ERROR_NEGATIVE_((error_code)(__VA_ARGS__))
#endif

#endif
