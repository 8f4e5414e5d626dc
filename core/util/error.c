#define BERTH_ERROR_C /* the definitions: no analyzer wrappers (error.h) */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_one_line(char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

int error_code(const struct error *err)
{
    if (!err || err->errnum == 0)
        return -EINVAL;
    return -err->errnum;
}

int error_setv(struct error **err, int errnum, const char *fmt, va_list ap)
{
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    if (!err) {
        free(text);
        return errnum ? -errnum : -EINVAL;
    }
    error_free(err);
    struct error *e = calloc(1, sizeof(*e));
    if (!e) {
        free(text);
        return errnum ? -errnum : -EINVAL;
    }
    e->errnum = errnum;
    e->exit_status = EXIT_BERTH_ERROR;
    if (errnum && text) {
        char *full = NULL;
        if (asprintf(&full, "%s: %s", text, strerror(errnum)) >= 0) {
            free(text);
            text = full;
        }
    }
    /* Names in messages come from users and files: they stay on one line. */
    text_one_line(text);
    e->msg = text ? text : strdup("out of memory");
    *err = e;
    return errnum ? -errnum : -EINVAL;
}

int error_set(struct error **err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = error_setv(err, errnum, fmt, ap);
    va_end(ap);
    return r;
}

int error_set_plain(struct error **err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = error_setv(err, 0, fmt, ap);
    va_end(ap);
    if (err && *err)
        (*err)->errnum = errnum;
    return errnum ? -errnum : r;
}

int error_set_status(struct error **err, int status, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = error_setv(err, errnum, fmt, ap);
    va_end(ap);
    if (err && *err)
        (*err)->exit_status = status;
    return r;
}

int error_prefix(struct error **err, const char *fmt, ...)
{
    if (!err || !*err)
        return -EINVAL;
    char *ctx = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&ctx, fmt, ap);
    va_end(ap);
    if (n >= 0) {
        char *full = NULL;
        if (asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
            text_one_line(full);
            free((*err)->msg);
            (*err)->msg = full;
        }
        free(ctx);
    }
    return error_code(*err);
}

void error_free(struct error **err)
{
    if (!err || !*err)
        return;
    free((*err)->msg);
    free(*err);
    *err = NULL;
}
