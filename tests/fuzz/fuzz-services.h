/*
 * A fake host services table for plugin sources compiled into a target:
 * errors and logs are formatted (so a bad format argument still trips the
 * sanitizers) and dropped; locks always succeed; nothing is unpacked.
 */
#ifndef BERTH_FUZZ_SERVICES_H
#define BERTH_FUZZ_SERVICES_H

#include <stdarg.h>
#include <stdio.h>

#include <berth/plugin.h>

static void fuzz_log(struct berth_host *host, int level, const char *fmt, ...) BERTH_PRINTF(3, 4);
static void fuzz_log(struct berth_host *host, int level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    (void)host;
    (void)level;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
}

static void fuzz_set_error(struct berth_error *err, int errnum, const char *fmt, ...)
    BERTH_PRINTF(3, 4);
static void fuzz_set_error(struct berth_error *err, int errnum, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    (void)err;
    (void)errnum;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
}

static int fuzz_lock(struct berth_host *host, const char *name, int *ret_token)
{
    (void)host;
    (void)name;
    *ret_token = 1;
    return 0;
}

static void fuzz_unlock(struct berth_host *host, int token)
{
    (void)host;
    (void)token;
}

static int fuzz_unpack_layer(struct berth_host *host, const char *tar_path, const char *dest_dir,
                             uint32_t whiteout_mode, struct berth_error *err)
{
    (void)host;
    (void)tar_path;
    (void)dest_dir;
    (void)whiteout_mode;
    (void)err;
    return -ENOSYS;
}

/* STATE_DIR must outlive the table. */
static struct berth_services fuzz_services(const char *state_dir)
{
    return (struct berth_services){
        .size = sizeof(struct berth_services),
        .state_dir = state_dir,
        .run_dir = state_dir,
        .config_json = "{}",
        .log = fuzz_log,
        .set_error = fuzz_set_error,
        .lock = fuzz_lock,
        .unlock = fuzz_unlock,
        .unpack_layer = fuzz_unpack_layer,
    };
}

#endif
