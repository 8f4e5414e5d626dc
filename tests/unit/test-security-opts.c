/* The security option parsers: capability names, sysctls, ulimits, devices, --security-opt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "runtime/security-opts.h"
#include "util/cleanup.h"

static void expect_error(struct error **err, const char *want)
{
    assert_non_null(*err);
    if (!strstr((*err)->msg, want))
        fail_msg("message '%s' lacks '%s'", (*err)->msg, want);
    assert_null(strchr((*err)->msg, '\n'));
    assert_int_equal((*err)->exit_status, 125);
    error_free(err);
}

static void test_caps(void **state)
{
    (void)state;
    struct error *err = NULL;
    uint64_t set = security_default_caps;
    char *add[] = {"net_admin", "CAP_SYS_PTRACE", "Cap_Net_Raw", NULL};
    assert_int_equal(security_caps_apply(&set, add, 1, &err), 0);
    assert_true(set & (UINT64_C(1) << 12));
    assert_true(set & (UINT64_C(1) << 19));
    assert_true(set & (UINT64_C(1) << 13));
    char *drop[] = {"chown", "CAP_KILL", NULL};
    assert_int_equal(security_caps_apply(&set, drop, 0, &err), 0);
    assert_false(set & (UINT64_C(1) << 0));
    assert_false(set & (UINT64_C(1) << 5));
    char *all[] = {"ALL", NULL};
    assert_int_equal(security_caps_apply(&set, all, 0, &err), 0);
    assert_int_equal(set, 0);
    assert_int_equal(security_caps_apply(&set, all, 1, &err), 0);
    assert_true(set & 1);
    char *bogus[] = {"CAP_BOGUS", NULL};
    assert_true(security_caps_apply(&set, bogus, 1, &err) < 0);
    expect_error(&err, "unknown capability 'CAP_BOGUS'");
}

static void test_sysctl(void **state)
{
    (void)state;
    struct error *err = NULL;
    char *k = NULL, *v = NULL;
    assert_int_equal(security_sysctl_parse("net.ipv4.ip_forward=1", 0, &k, &v, &err), 0);
    assert_string_equal(k, "net.ipv4.ip_forward");
    assert_string_equal(v, "1");
    free(k);
    free(v);
    static const char *const good[] = {"kernel.shmmax=1", "kernel.msgmax=8192",
                                       "kernel.sem=1 2 3 4", "fs.mqueue.msg_max=20",
                                       "kernel.domainname=x"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        k = v = NULL;
        if (security_sysctl_parse(good[i], 0, &k, &v, &err) < 0)
            fail_msg("'%s': %s", good[i], err->msg);
        free(k);
        free(v);
    }
    static const char *const bad[] = {"kernel.core_pattern=|x",
                                      "vm.drop_caches=3",
                                      "net.=1",
                                      "kernel.hostname=x",
                                      "net.ipv4/../../x=1",
                                      "=1",
                                      "net.a"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        k = v = NULL;
        if (security_sysctl_parse(bad[i], 0, &k, &v, &err) >= 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_null(k);
        expect_error(&err, "sysctl");
    }
    assert_true(security_sysctl_parse("net.ipv4.ip_forward=1", 1, &k, &v, &err) < 0);
    expect_error(&err, "--network host");
}

static void test_ulimit(void **state)
{
    (void)state;
    struct error *err = NULL;
    int res = -1;
    uint64_t soft = 0, hard = 0;
    assert_int_equal(security_ulimit_parse("nofile=100:200", &res, &soft, &hard, &err), 0);
    assert_int_equal(res, RLIMIT_NOFILE);
    assert_int_equal(soft, 100);
    assert_int_equal(hard, 200);
    assert_int_equal(security_ulimit_parse("NPROC=50", &res, &soft, &hard, &err), 0);
    assert_int_equal(res, RLIMIT_NPROC);
    assert_int_equal(soft, 50);
    assert_int_equal(hard, 50);
    struct rlimit core;
    if (getrlimit(RLIMIT_CORE, &core) == 0 && core.rlim_max == RLIM_INFINITY) {
        assert_int_equal(security_ulimit_parse("core=0:unlimited", &res, &soft, &hard, &err), 0);
        assert_int_equal(hard, RLIM_INFINITY);
    }
    static const char *const bad[] = {"nofile",
                                      "=1",
                                      "bogus=1",
                                      "nofile=abc",
                                      "nofile=2:1",
                                      "nofile=1:",
                                      "nofile=99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (security_ulimit_parse(bad[i], &res, &soft, &hard, &err) >= 0)
            fail_msg("'%s' accepted", bad[i]);
        expect_error(&err, "ulimit");
    }
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_max != RLIM_INFINITY) {
        char s[64];
        snprintf(s, sizeof(s), "nofile=1:%llu", (unsigned long long)nofile.rlim_max + 1);
        assert_true(security_ulimit_parse(s, &res, &soft, &hard, &err) < 0);
        expect_error(&err, "CAP_SYS_RESOURCE");
    }
}

static void test_device(void **state)
{
    (void)state;
    struct error *err = NULL;
    cJSON *d = NULL;
    assert_int_equal(security_device_parse("/dev/null", &d, &err), 0);
    assert_string_equal(cJSON_GetObjectItem(d, "path")->valuestring, "/dev/null");
    assert_string_equal(cJSON_GetObjectItem(d, "type")->valuestring, "c");
    assert_int_equal(cJSON_GetObjectItem(d, "major")->valuedouble, 1);
    assert_int_equal(cJSON_GetObjectItem(d, "minor")->valuedouble, 3);
    assert_string_equal(cJSON_GetObjectItem(d, "access")->valuestring, "rwm");
    cJSON_Delete(d);
    assert_int_equal(security_device_parse("/dev/null:/dev/mynull:r", &d, &err), 0);
    assert_string_equal(cJSON_GetObjectItem(d, "path")->valuestring, "/dev/mynull");
    assert_string_equal(cJSON_GetObjectItem(d, "access")->valuestring, "r");
    cJSON_Delete(d);
    assert_int_equal(security_device_parse("/dev/zero:rw", &d, &err), 0);
    assert_string_equal(cJSON_GetObjectItem(d, "path")->valuestring, "/dev/zero");
    assert_string_equal(cJSON_GetObjectItem(d, "access")->valuestring, "rw");
    cJSON_Delete(d);
    static const struct {
        const char *spec, *want;
    } bad[] = {
        {"/dev/nope", "No such file"},
        {"/etc/passwd", "not a character or block device"},
        {"dev/null", "absolute"},
        {"/dev/null:rel/path:r", "absolute"},
        {"/dev/null:/dev/x:rwx", "permissions"},
        {"/dev/null:/dev/../../x:r", "absolute"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        d = NULL;
        if (security_device_parse(bad[i].spec, &d, &err) >= 0)
            fail_msg("'%s' accepted", bad[i].spec);
        assert_null(d);
        expect_error(&err, bad[i].want);
    }
}

/* A --device: a node in linux.devices, or with a user namespace a bind of the host's node. */
static void test_device_apply(void **state)
{
    (void)state;
    struct error *err = NULL;
    for (int userns = 0; userns < 2; userns++) {
        cJSON *d = NULL;
        assert_int_equal(security_device_parse("/dev/null:/dev/mynull:r", &d, &err), 0);
        cJSON *sec = cJSON_CreateObject();
        cJSON_AddItemToArray(cJSON_AddArrayToObject(sec, "devices"), d);
        if (userns)
            cJSON_AddItemToObject(
                sec, "userns",
                cJSON_Parse("{\"mode\":\"map\",\"uid_map\":[{\"containerID\":0,\"hostID\":"
                            "200000,\"size\":65536}],\"gid_map\":[{\"containerID\":0,"
                            "\"hostID\":200000,\"size\":65536}]}"));
        cJSON_AddStringToObject(sec, "seccomp", "unconfined");
        cJSON *config = cJSON_Parse("{\"process\":{},\"linux\":{\"namespaces\":[]},"
                                    "\"mounts\":[{\"destination\":\"/dev\"}]}");
        assert_int_equal(security_oci_apply(config, sec, NULL, &err), 0);
        cJSON *linux_ = cJSON_GetObjectItem(config, "linux");
        const cJSON *devs = cJSON_GetObjectItem(linux_, "devices");
        const cJSON *mounts = cJSON_GetObjectItem(config, "mounts");
        if (!userns) {
            assert_int_equal(cJSON_GetArraySize(devs), 1);
            const cJSON *n = cJSON_GetArrayItem(devs, 0);
            assert_string_equal(cJSON_GetObjectItem(n, "path")->valuestring, "/dev/mynull");
            /* Not OCI: only berth's. */
            assert_null(cJSON_GetObjectItem(n, "hostPath"));
            assert_null(cJSON_GetObjectItem(n, "access"));
            assert_int_equal(cJSON_GetArraySize(mounts), 1);
        } else {
            assert_null(devs);
            assert_int_equal(cJSON_GetArraySize(mounts), 2);
            const cJSON *m = cJSON_GetArrayItem(mounts, 1);
            assert_string_equal(cJSON_GetObjectItem(m, "destination")->valuestring, "/dev/mynull");
            assert_string_equal(cJSON_GetObjectItem(m, "source")->valuestring, "/dev/null");
            assert_string_equal(cJSON_GetObjectItem(m, "type")->valuestring, "bind");
            char *opts = cJSON_PrintUnformatted(cJSON_GetObjectItem(m, "options"));
            assert_string_equal(opts, "[\"bind\",\"nosuid\",\"noexec\",\"ro\"]");
            free(opts);
        }
        /* The cgroup rule is the same either way: c 1:3, read (and mknod). */
        int found = 0;
        const cJSON *rule;
        cJSON_ArrayForEach(rule,
                           cJSON_GetObjectItem(cJSON_GetObjectItem(linux_, "resources"), "devices"))
        {
            const cJSON *t = cJSON_GetObjectItem(rule, "type");
            if (cJSON_IsTrue(cJSON_GetObjectItem(rule, "allow")) && t &&
                !strcmp(t->valuestring, "c") && cJSON_GetObjectItem(rule, "major")->valueint == 1 &&
                cJSON_GetObjectItem(rule, "minor") &&
                cJSON_GetObjectItem(rule, "minor")->valueint == 3) {
                assert_string_equal(cJSON_GetObjectItem(rule, "access")->valuestring, "rm");
                found++;
            }
        }
        assert_int_equal(found, 1);
        cJSON_Delete(config);
        cJSON_Delete(sec);
    }
    assert_null(err);
}

static void test_build(void **state)
{
    (void)state;
    struct error *err = NULL;
    cJSON *sec = NULL;
    assert_int_equal(security_options_build(NULL, &sec, &err), 0);
    assert_string_equal(cJSON_GetObjectItem(sec, "seccomp")->valuestring, "default");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(sec, "capabilities")), 11);
    cJSON_Delete(sec);

    char *unconfined[] = {"seccomp=unconfined", "no-new-privileges", NULL};
    struct security_request req = {.security_opt = unconfined};
    assert_int_equal(security_options_build(&req, &sec, &err), 0);
    assert_string_equal(cJSON_GetObjectItem(sec, "seccomp")->valuestring, "unconfined");
    cJSON_Delete(sec);

    char *nnp_false[] = {"no-new-privileges=false", NULL};
    req.security_opt = nnp_false;
    assert_true(security_options_build(&req, &sec, &err) < 0);
    expect_error(&err, "always sets no_new_privs");
    char *unknown[] = {"bogus=1", NULL};
    req.security_opt = unknown;
    assert_true(security_options_build(&req, &sec, &err) < 0);
    expect_error(&err, "unknown security option 'bogus=1'");
    char *missing[] = {"seccomp=/nonexistent/profile.json", NULL};
    req.security_opt = missing;
    assert_true(security_options_build(&req, &sec, &err) < 0);
    expect_error(&err, "seccomp profile");

    struct security_request priv = {.privileged = 1};
    assert_int_equal(security_options_build(&priv, &sec, &err), 0);
    assert_string_equal(cJSON_GetObjectItem(sec, "seccomp")->valuestring, "unconfined");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(sec, "privileged")));
    cJSON *config =
        cJSON_Parse("{\"process\":{},\"linux\":{\"maskedPaths\":[\"/proc/kcore\"]},"
                    "\"mounts\":[{\"destination\":\"/sys\",\"options\":[\"nosuid\",\"ro\"]}]}");
    assert_int_equal(security_oci_apply(config, sec, NULL, &err), 0);
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(config, "linux"), "maskedPaths"));
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(config, "linux"), "seccomp"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
                         cJSON_GetArrayItem(cJSON_GetObjectItem(config, "mounts"), 0), "options")),
                     1);
    cJSON_Delete(config);
    cJSON_Delete(sec);

    /* Defaults: docker's profile lands in linux.seccomp. */
    config = cJSON_Parse("{\"process\":{},\"linux\":{}}");
    assert_int_equal(security_oci_apply(config, NULL, NULL, &err), 0);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(config, "linux"), "seccomp"));
    cJSON_Delete(config);
    assert_null(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caps),         cmocka_unit_test(test_sysctl),
        cmocka_unit_test(test_ulimit),       cmocka_unit_test(test_device),
        cmocka_unit_test(test_device_apply), cmocka_unit_test(test_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
