/* The option parser: long/short forms, values, combined flags, operands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli-options.h"

static const struct cli_option opts[] = {{"rm", 0, 0, 1},
                                         {"env", 'e', 1, 2},
                                         {"interactive", 'i', 0, 3},
                                         {"tty", 't', 0, 4},
                                         {NULL, 0, 0, 0}};

static void parses_forms(void **state)
{
    (void)state;
    char *argv[] = {"run", "--rm", "-e", "A=1", "--env=B=2", "-eC=3", "-it", "img", "-e", "x"};
    struct cli_parser p;
    cli_parser_init(&p, 10, argv, "run");
    const char *v;
    assert_int_equal(cli_next_option(&p, opts, &v), 1);
    assert_int_equal(cli_next_option(&p, opts, &v), 2);
    assert_string_equal(v, "A=1");
    assert_int_equal(cli_next_option(&p, opts, &v), 2);
    assert_string_equal(v, "B=2");
    assert_int_equal(cli_next_option(&p, opts, &v), 2);
    assert_string_equal(v, "C=3");
    assert_int_equal(cli_next_option(&p, opts, &v), 3);
    assert_int_equal(cli_next_option(&p, opts, &v), 4);
    /* The image ends berth's options: the container's "-e" is its own. */
    assert_int_equal(cli_next_option(&p, opts, &v), 0);
    assert_int_equal(p.index, 7);
}

static void rejects_unknown_and_missing(void **state)
{
    (void)state;
    char *a1[] = {"run", "--nope"};
    struct cli_parser p;
    const char *v;
    cli_parser_init(&p, 2, a1, "run");
    assert_int_equal(cli_next_option(&p, opts, &v), -1);
    char *a2[] = {"run", "-e"};
    cli_parser_init(&p, 2, a2, "run");
    assert_int_equal(cli_next_option(&p, opts, &v), -1);
    char *a3[] = {"run", "--rm=1"};
    cli_parser_init(&p, 2, a3, "run");
    assert_int_equal(cli_next_option(&p, opts, &v), -1);
    char *a4[] = {"run", "--", "-x"};
    cli_parser_init(&p, 3, a4, "run");
    assert_int_equal(cli_next_option(&p, opts, &v), 0);
    assert_int_equal(p.index, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_forms),
        cmocka_unit_test(rejects_unknown_and_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
