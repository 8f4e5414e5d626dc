#include "cli/cli-options.h"

#include <string.h>

#include "cli/cli.h"

void cli_parser_init(struct cli_parser *p, int argc, char **argv, const char *verb)
{
    p->argc = argc;
    p->argv = argv;
    p->index = 1;
    p->short_pos = 0;
    p->verb = verb;
}

static int take_value(struct cli_parser *p, const char *inline_value, const char *shown,
                      const char **ret_value)
{
    if (inline_value) {
        *ret_value = inline_value;
        return 0;
    }
    if (p->index >= p->argc) {
        cli_usage_error(p->verb, "option '%s' needs a value", shown);
        return -1;
    }
    *ret_value = p->argv[p->index++];
    return 0;
}

int cli_next_option(struct cli_parser *p, const struct cli_option *opts, const char **ret_value)
{
    *ret_value = NULL;
    if (p->short_pos > 0) {
        const char *arg = p->argv[p->index];
        char c = arg[p->short_pos];
        for (const struct cli_option *o = opts; o->id; o++) {
            if (o->short_name != c)
                continue;
            if (o->takes_value) {
                const char *rest = arg[p->short_pos + 1] ? arg + p->short_pos + 1 : NULL;
                p->short_pos = 0;
                p->index++;
                char shown[3] = {'-', c, 0};
                return take_value(p, rest, shown, ret_value) < 0 ? -1 : o->id;
            }
            p->short_pos++;
            if (!arg[p->short_pos]) {
                p->short_pos = 0;
                p->index++;
            }
            return o->id;
        }
        cli_usage_error(p->verb, "unknown option '-%c' (see 'berth %s --help')", c, p->verb);
        return -1;
    }
    if (p->index >= p->argc)
        return 0;
    const char *arg = p->argv[p->index];
    if (!strcmp(arg, "--")) {
        p->index++;
        return 0;
    }
    if (arg[0] != '-' || arg[1] == '\0')
        return 0;
    if (arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (const struct cli_option *o = opts; o->id; o++) {
            if (!o->long_name || strlen(o->long_name) != len || strncmp(o->long_name, name, len))
                continue;
            p->index++;
            if (!o->takes_value) {
                if (eq) {
                    cli_usage_error(p->verb, "option '--%s' takes no value", o->long_name);
                    return -1;
                }
                return o->id;
            }
            return take_value(p, eq ? eq + 1 : NULL, arg, ret_value) < 0 ? -1 : o->id;
        }
        cli_usage_error(p->verb, "unknown option '%.*s' (see 'berth %s --help')", (int)len + 2, arg,
                        p->verb);
        return -1;
    }
    p->short_pos = 1;
    return cli_next_option(p, opts, ret_value);
}
