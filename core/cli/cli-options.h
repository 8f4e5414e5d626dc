/* A small docker-style option parser: --long VALUE, --long=VALUE, -s VALUE,
 * -sVALUE, combined short flags (-ai), and "--" ending the options. Parsing
 * stops at the first operand so that a container's own arguments are never
 * taken for berth's. */
#ifndef BERTH_CLI_OPTIONS_H
#define BERTH_CLI_OPTIONS_H

struct cli_option {
    const char *long_name; /* without "--" */
    char short_name;       /* 0 if none */
    int takes_value;
    int id; /* > 0 */
};

struct cli_parser {
    int argc;
    char **argv;
    int index;        /* next argv element to read; starts at 1 (after the verb) */
    int short_pos;    /* position inside a combined short flag group */
    const char *verb; /* for error messages */
};

void cli_parser_init(struct cli_parser *p, int argc, char **argv, const char *verb);
/*
 * Returns the next option's id and stores its value (or NULL) in *RET_VALUE;
 * 0 when the options end (p->index is then the first operand); -1 after
 * printing one error line for an unknown option or a missing value.
 */
int cli_next_option(struct cli_parser *p, const struct cli_option *opts, const char **ret_value);

#endif
