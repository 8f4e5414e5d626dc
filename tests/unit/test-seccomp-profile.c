/* The seccomp profile parser, the default profile, and its resolution for a container. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/seccomp.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

static struct seccomp_profile *parse_ok(const char *json)
{
    struct error *err = NULL;
    struct seccomp_profile *p = NULL;
    if (seccomp_profile_parse(json, &p, &err) < 0)
        fail_msg("'%s': %s", json, err ? err->msg : "?");
    assert_null(err);
    return p;
}

static void parse_bad(const char *json, const char *want)
{
    struct error *err = NULL;
    struct seccomp_profile *p = NULL;
    if (seccomp_profile_parse(json, &p, &err) >= 0)
        fail_msg("'%s' was accepted", json);
    assert_null(p);
    assert_non_null(err);
    if (!strstr(err->msg, want))
        fail_msg("'%s': message '%s' lacks '%s'", json, err->msg, want);
    assert_null(strchr(err->msg, '\n'));
    error_free(&err);
}

static void check_bad(const char *json, const char *want)
{
    struct error *err = NULL;
    _cleanup_seccomp_profile_ struct seccomp_profile *p = parse_ok(json);
    if (seccomp_profile_check(p, &err) >= 0)
        fail_msg("'%s' passed the check", json);
    if (!strstr(err->msg, want))
        fail_msg("'%s': message '%s' lacks '%s'", json, err->msg, want);
    error_free(&err);
}

static void test_default_profile(void **state)
{
    (void)state;
    struct error *err = NULL;
    _cleanup_seccomp_profile_ struct seccomp_profile *p = parse_ok(seccomp_default_profile_json);
    assert_int_equal(p->default_action, SECCOMP_ACTION_ERRNO);
    assert_int_equal(p->default_errno, 1);
    assert_true(p->n_rules > 30);
    assert_true(p->n_arch_map >= 8);
    assert_int_equal(seccomp_profile_check(p, &err), 0);
    assert_null(err);
    /* The first rule is docker's allow list: 346 names (no io_uring_*, as podman). */
    size_t n = 0;
    while (p->rules[0].names[n])
        n++;
    assert_int_equal(n, 346);
}

/* seccomp-default.c is generated from seccomp-default.json: they agree. */
static void test_default_matches_json(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s", __FILE__);
    char *slash = strrchr(path, '/');
    if (!slash)
        skip();
    snprintf(slash, sizeof(path) - (size_t)(slash - path),
             "/../../core/runtime/seccomp-default.json");
    _cleanup_free_ char *text = NULL;
    struct error *err = NULL;
    if (read_file(path, &text, NULL, &err) < 0) {
        error_free(&err);
        skip();
    }
    cJSON *a = cJSON_Parse(text), *b = cJSON_Parse(seccomp_default_profile_json);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(cJSON_Compare(a, b, 1));
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void test_full_rule(void **state)
{
    (void)state;
    _cleanup_seccomp_profile_ struct seccomp_profile *p = parse_ok(
        "{\"defaultAction\":\"SCMP_ACT_KILL_PROCESS\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
        "\"syscalls\":[{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,"
        "\"args\":[{\"index\":0,\"value\":40,\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}],"
        "\"includes\":{\"caps\":[\"CAP_NET_RAW\"],\"minKernel\":\"4.8\"},"
        "\"excludes\":{\"arches\":[\"s390x\"]}},"
        "{\"name\":\"read\",\"action\":\"SCMP_ACT_ALLOW\"}]}");
    assert_int_equal(p->default_action, SECCOMP_ACTION_KILL_PROCESS);
    assert_int_equal(p->n_rules, 2);
    assert_string_equal(p->rules[0].names[0], "socket");
    assert_int_equal(p->rules[0].errno_ret, 13);
    assert_int_equal(p->rules[0].n_args, 1);
    assert_int_equal(p->rules[0].args[0].value, 40);
    assert_int_equal(p->rules[0].args[0].op, SECCOMP_OP_EQ);
    assert_string_equal(p->rules[0].includes.caps[0], "CAP_NET_RAW");
    assert_string_equal(p->rules[0].includes.min_kernel, "4.8");
    assert_string_equal(p->rules[0].excludes.arches[0], "s390x");
    assert_string_equal(p->rules[1].names[0], "read");
}

static void test_bad_profiles(void **state)
{
    (void)state;
    parse_bad("", "not valid JSON");
    parse_bad("{", "not valid JSON");
    parse_bad("[]", "not a JSON object");
    parse_bad("{}", "defaultAction");
    parse_bad("{\"defaultAction\":\"SCMP_ACT_NOPE\"}", "unknown action 'SCMP_ACT_NOPE'");
    parse_bad("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":5000}", "defaultErrnoRet");
    parse_bad("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1.5}", "defaultErrnoRet");
    parse_bad("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":{}}", "not an array");
    parse_bad(
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"action\":\"SCMP_ACT_ALLOW\"}]}",
        "no syscall 'names'");
    parse_bad("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[],\"action\":"
              "\"SCMP_ACT_ALLOW\"}]}",
              "no syscall 'names'");
    parse_bad("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[1],\"action\":"
              "\"SCMP_ACT_ALLOW\"}]}",
              "non-string");
    parse_bad("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"]}]}",
              "'action'");
    parse_bad(
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":"
        "\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
        "index");
    parse_bad(
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":"
        "\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
        "value");
    parse_bad(
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":"
        "\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_XX\"}]}]}",
        "unknown operator");
    parse_bad("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"archMap\":[{}]}", "architecture");
    check_bad("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"mkdirz\"],"
              "\"action\":\"SCMP_ACT_ALLOW\"}]}",
              "unknown syscall 'mkdirz'");
    check_bad("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_VAX\"]}",
              "unknown architecture 'SCMP_ARCH_VAX'");
}

/* Does the resolved object hold a rule for NAME with ACTION (and ERRNO if >= 0)? */
static int has_rule(const cJSON *oci, const char *name, const char *action, int errnum)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(oci, "syscalls"))
    {
        const cJSON *n;
        cJSON_ArrayForEach(n, cJSON_GetObjectItem(s, "names"))
        {
            if (strcmp(n->valuestring, name) != 0)
                continue;
            if (strcmp(cJSON_GetObjectItem(s, "action")->valuestring, action) != 0)
                continue;
            const cJSON *e = cJSON_GetObjectItem(s, "errnoRet");
            if (errnum < 0 || (e && (int)e->valuedouble == errnum))
                return 1;
        }
    }
    return 0;
}

static void test_resolution(void **state)
{
    (void)state;
    struct error *err = NULL;
    _cleanup_seccomp_profile_ struct seccomp_profile *p = parse_ok(seccomp_default_profile_json);
    const uint64_t defaults = UINT64_C(0x800405fb), sys_admin = UINT64_C(1) << 21;
    cJSON *oci = NULL;
    assert_int_equal(seccomp_profile_to_oci(p, defaults, &oci, &err), 0);
    assert_string_equal(cJSON_GetObjectItem(oci, "defaultAction")->valuestring, "SCMP_ACT_ERRNO");
    assert_true(has_rule(oci, "clone3", "SCMP_ACT_ERRNO", 38));
    assert_true(has_rule(oci, "clone", "SCMP_ACT_ALLOW", -1));
    assert_true(has_rule(oci, "chroot", "SCMP_ACT_ALLOW", -1)); /* CAP_SYS_CHROOT is default */
    assert_false(has_rule(oci, "mount", "SCMP_ACT_ALLOW", -1));
    assert_false(has_rule(oci, "keyctl", "SCMP_ACT_ALLOW", -1));
#if defined(__x86_64__)
    assert_true(has_rule(oci, "arch_prctl", "SCMP_ACT_ALLOW", -1));
    assert_string_equal(
        cJSON_GetArrayItem(cJSON_GetObjectItem(oci, "architectures"), 0)->valuestring,
        "SCMP_ARCH_X86_64");
#endif
    /* The resolved object parses again with the same parser (config.json's path). */
    char *text = cJSON_PrintUnformatted(oci);
    struct seccomp_profile *again = parse_ok(text);
    free(text);
    struct seccomp_filter_ctx *f = NULL;
    assert_int_equal(seccomp_filter_build(again, defaults, &f, &err), 0);
    seccomp_filter_free(f);
    seccomp_profile_free(again);
    cJSON_Delete(oci);

    assert_int_equal(seccomp_profile_to_oci(p, defaults | sys_admin, &oci, &err), 0);
    assert_true(has_rule(oci, "mount", "SCMP_ACT_ALLOW", -1));
    assert_false(has_rule(oci, "clone3", "SCMP_ACT_ERRNO", 38));
    cJSON_Delete(oci);
    assert_null(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_profile), cmocka_unit_test(test_default_matches_json),
        cmocka_unit_test(test_full_rule),       cmocka_unit_test(test_bad_profiles),
        cmocka_unit_test(test_resolution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
