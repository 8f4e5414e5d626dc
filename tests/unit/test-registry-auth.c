/* Registry auth pieces: the WWW-Authenticate parser, base64, the auth file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry/auth-file.h"
#include "registry/www-authenticate.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

static int parse(const char *s, struct auth_challenge *c)
{
    struct error *err = NULL;
    int r = auth_challenge_parse(s, strlen(s), c, &err);
    error_free(&err);
    return r;
}

static void challenges(void **state)
{
    (void)state;
    struct auth_challenge c;
    assert_int_equal(parse("Bearer realm=\"https://auth.example/token\",service=\"registry."
                           "example\",scope=\"repository:a/b:pull\"",
                           &c),
                     0);
    assert_int_equal(c.scheme, AUTH_SCHEME_BEARER);
    assert_string_equal(c.realm, "https://auth.example/token");
    assert_string_equal(c.service, "registry.example");
    assert_string_equal(c.scope, "repository:a/b:pull");
    auth_challenge_clear(&c);

    assert_int_equal(parse("basic Realm=berth , charset=\"UTF-8\"", &c), 0);
    assert_int_equal(c.scheme, AUTH_SCHEME_BASIC);
    assert_string_equal(c.realm, "berth");
    assert_null(c.service);
    auth_challenge_clear(&c);

    assert_int_equal(parse("Bearer realm=\"a\\\"b\"", &c), 0);
    assert_string_equal(c.realm, "a\"b");
    auth_challenge_clear(&c);

    assert_int_equal(parse("Basic", &c), 0);
    auth_challenge_clear(&c);

    const char *bad[] = {
        "",
        "Negotiate abc",
        "Bearer service=\"x\"",        /* no realm */
        "Bearer realm=\"unterminated", /* quote */
        "Bearer realm=",               /* empty value */
        "Bearer realm=\"a\" service=\"b\"",
        "Bearer realm=\"a\x01\"",
        "Bearer =x",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        if (parse(bad[i], &c) == 0)
            fail_msg("'%s' accepted", bad[i]);
    /* Bounded: a huge header is refused, not copied. */
    _cleanup_free_ char *huge = malloc(10000);
    memset(huge, 'a', 9999);
    huge[9999] = '\0';
    memcpy(huge, "Bearer realm=", 13);
    assert_int_not_equal(parse(huge, &c), 0);
}

static void base64(void **state)
{
    (void)state;
    static const char *const cases[][2] = {{"", ""},
                                           {"f", "Zg=="},
                                           {"fo", "Zm8="},
                                           {"foo", "Zm9v"},
                                           {"user:pa:ss", "dXNlcjpwYTpzcw=="}};
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *e = base64_encode(cases[i][0], strlen(cases[i][0]));
        assert_string_equal(e, cases[i][1]);
        size_t n;
        _cleanup_free_ char *d = base64_decode(cases[i][1], &n);
        assert_non_null(d);
        assert_int_equal(n, strlen(cases[i][0]));
        assert_string_equal(d, cases[i][0]);
    }
    const char *bad[] = {"Zg=", "Z===", "Zg==Zg==", "Z!==", "=Zg=", "Zh==", "Zm9=", "YWxt="};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *d = base64_decode(bad[i], NULL);
        if (d)
            fail_msg("'%s' decoded", bad[i]);
    }
}

static void auth_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/berth-auth-XXXXXX";
    assert_non_null(mkdtemp(dir));
    _cleanup_free_ char *path = xasprintf("%s/sub/auth.json", dir);
    struct error *err = NULL;
    char *u = NULL, *p = NULL;
    /* A missing file is no credentials. */
    assert_int_equal(auth_file_get(path, "h:1", &u, &p, &err), 0);
    assert_null(u);
    assert_int_equal(auth_file_set(path, "h:1", "me", "p:w", &err), 0);
    assert_int_equal(auth_file_set(path, "docker.io", "hub", "x", &err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    _cleanup_free_ char *text = NULL;
    assert_int_equal(read_file(path, &text, NULL, &err), 0);
    assert_non_null(strstr(text, "\"auths\""));
    assert_non_null(strstr(text, "bWU6cDp3")); /* base64("me:p:w") */
    assert_int_equal(auth_file_get(path, "h:1", &u, &p, &err), 0);
    assert_string_equal(u, "me");
    assert_string_equal(p, "p:w");
    free(u);
    free(p);
    /* Docker Hub's other names find the docker.io entry. */
    assert_int_equal(auth_file_get(path, "registry-1.docker.io", &u, &p, &err), 0);
    assert_string_equal(u, "hub");
    free(u);
    free(p);
    assert_int_equal(auth_file_remove(path, "h:1", &err), 0);
    assert_int_equal(auth_file_get(path, "h:1", &u, &p, &err), 0);
    assert_null(u);
    assert_int_equal(auth_file_remove(path, "h:1", &err), -ENOENT);
    error_free(&err);
    /* Not JSON: an error, not a crash. */
    assert_int_equal(write_file_atomic(path, "[1]", 3, 0600, &err), 0);
    assert_int_not_equal(auth_file_get(path, "h:1", &u, &p, &err), 0);
    error_free(&err);
    assert_int_equal(rm_rf(dir, &err), 0);
}

static void auth_file_choice(void **state)
{
    (void)state;
    unsetenv("REGISTRY_AUTH_FILE");
    setenv("XDG_CONFIG_HOME", "/x", 1);
    _cleanup_free_ char *a = auth_file_path(NULL);
    assert_string_equal(a, "/x/berth/auth.json");
    setenv("REGISTRY_AUTH_FILE", "/env.json", 1);
    _cleanup_free_ char *b = auth_file_path(NULL);
    assert_string_equal(b, "/env.json");
    _cleanup_free_ char *c = auth_file_path("/flag.json");
    assert_string_equal(c, "/flag.json");
    unsetenv("REGISTRY_AUTH_FILE");
    unsetenv("XDG_CONFIG_HOME");
    setenv("HOME", "/home/u", 1);
    _cleanup_free_ char *d = auth_file_path(NULL);
    assert_string_equal(d, "/home/u/.config/berth/auth.json");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(challenges),
        cmocka_unit_test(base64),
        cmocka_unit_test(auth_file),
        cmocka_unit_test(auth_file_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
