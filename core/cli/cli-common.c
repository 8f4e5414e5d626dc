#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lifecycle/engine.h"
#include "util/cleanup.h"

int cli_report(const char *verb, struct error *err)
{
    fprintf(stderr, "berth: %s: %s\n", verb, err && err->msg ? err->msg : "failed");
    return err ? err->exit_status : EXIT_BERTH_ERROR;
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "berth: %s: %s\n", verb, msg);
    return EXIT_BERTH_ERROR;
}

int cli_is_help(const char *arg)
{
    return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

void cli_image_size(long long n, char *out, size_t len)
{
    const char *units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000;
        u++;
    }
    snprintf(out, len, u == 0 ? "%.0f%s" : "%.3g%s", v, units[u]);
}

int cli_open_engine(struct cli_globals *g, const char *verb, struct engine **ret)
{
    struct error *err _cleanup_error_ = NULL;
    if (engine_open(g, ret, &err) < 0)
        return cli_report(verb, err);
    return 0;
}
