/* docker/OCI seccomp profile JSON -> struct seccomp_profile. Pure: fuzzed. */
#include "runtime/seccomp-profile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

#define MAX_ERRNO 4095

static const struct {
    const char *name;
    enum seccomp_action action;
} actions[] = {
    {"SCMP_ACT_KILL", SECCOMP_ACTION_KILL_THREAD},
    {"SCMP_ACT_KILL_THREAD", SECCOMP_ACTION_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SECCOMP_ACTION_KILL_PROCESS},
    {"SCMP_ACT_TRAP", SECCOMP_ACTION_TRAP},
    {"SCMP_ACT_ERRNO", SECCOMP_ACTION_ERRNO},
    {"SCMP_ACT_TRACE", SECCOMP_ACTION_TRACE},
    {"SCMP_ACT_ALLOW", SECCOMP_ACTION_ALLOW},
    {"SCMP_ACT_LOG", SECCOMP_ACTION_LOG},
};

static const struct {
    const char *name;
    enum seccomp_op op;
} ops[] = {
    {"SCMP_CMP_NE", SECCOMP_OP_NE},
    {"SCMP_CMP_LT", SECCOMP_OP_LT},
    {"SCMP_CMP_LE", SECCOMP_OP_LE},
    {"SCMP_CMP_EQ", SECCOMP_OP_EQ},
    {"SCMP_CMP_GE", SECCOMP_OP_GE},
    {"SCMP_CMP_GT", SECCOMP_OP_GT},
    {"SCMP_CMP_MASKED_EQ", SECCOMP_OP_MASKED_EQ},
};

const char *seccomp_action_name(enum seccomp_action a)
{
    for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
        if (actions[i].action == a)
            return actions[i].name;
    return NULL;
}

const char *seccomp_op_name(enum seccomp_op op)
{
    for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
        if (ops[i].op == op)
            return ops[i].name;
    return NULL;
}

static void strv_free(char **v)
{
    strvfreep(&v);
}

static void filter_free(struct seccomp_filter *f)
{
    strv_free(f->caps);
    strv_free(f->arches);
    free(f->min_kernel);
}

void seccomp_profile_free(struct seccomp_profile *p)
{
    if (!p)
        return;
    strv_free(p->architectures);
    for (size_t i = 0; p->arch_map && i < p->n_arch_map; i++) {
        free(p->arch_map[i].arch);
        strv_free(p->arch_map[i].sub);
    }
    free(p->arch_map);
    for (size_t i = 0; p->rules && i < p->n_rules; i++) {
        struct seccomp_rule *r = &p->rules[i];
        strv_free(r->names);
        free(r->args);
        filter_free(&r->includes);
        filter_free(&r->excludes);
    }
    free(p->rules);
    free(p);
}

static int parse_action(const cJSON *j, const char *what, enum seccomp_action *ret,
                        struct error **err)
{
    if (!cJSON_IsString(j))
        return error_set_plain(err, EINVAL, "%s: not a string", what);
    for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
        if (strcmp(actions[i].name, j->valuestring) == 0) {
            *ret = actions[i].action;
            return 0;
        }
    return error_set_plain(err, EINVAL, "%s: unknown action '%s'", what, j->valuestring);
}

/* JSON numbers are doubles: an integer in [0, MAX] exactly, or a refusal. */
static int parse_uint(const cJSON *j, double max, const char *what, uint64_t *ret,
                      struct error **err)
{
    /* The negated range test also refuses NaN; in range, the cast is defined. */
    if (!cJSON_IsNumber(j) || !(j->valuedouble >= 0 && j->valuedouble <= max) ||
        j->valuedouble != (double)(uint64_t)j->valuedouble)
        return error_set_plain(err, EINVAL, "%s: not an integer in [0, %.0f]", what, max);
    *ret = (uint64_t)j->valuedouble;
    return 0;
}

static int parse_errno(const cJSON *j, const char *what, unsigned int *ret, struct error **err)
{
    uint64_t v = 0;
    int r = parse_uint(j, MAX_ERRNO, what, &v, err);
    if (r < 0)
        return r;
    *ret = (unsigned int)v;
    return 0;
}

/* An array of strings (or null/absent: NULL) -> NULL-terminated vector. */
static int parse_strv(const cJSON *a, const char *what, char ***ret, struct error **err)
{
    *ret = NULL;
    if (!a || cJSON_IsNull(a))
        return 0;
    if (!cJSON_IsArray(a))
        return error_set_plain(err, EINVAL, "%s: not an array", what);
    int n = cJSON_GetArraySize(a);
    _cleanup_strv_ char **v = calloc((size_t)n + 1, sizeof(char *));
    if (!v)
        return error_set(err, ENOMEM, "%s", what);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        if (!cJSON_IsString(e) || !e->valuestring[0])
            return error_set_plain(err, EINVAL, "%s: holds an empty or non-string entry", what);
        if (!(v[i++] = strdup(e->valuestring)))
            return error_set(err, ENOMEM, "%s", what);
    }
    *ret = TAKE_PTR(v);
    return 0;
}

static int parse_filter(const cJSON *j, const char *what, struct seccomp_filter *f,
                        struct error **err)
{
    if (!j || cJSON_IsNull(j))
        return 0;
    if (!cJSON_IsObject(j))
        return error_set_plain(err, EINVAL, "%s: not an object", what);
    int r;
    if ((r = parse_strv(cJSON_GetObjectItemCaseSensitive(j, "caps"), what, &f->caps, err)) < 0 ||
        (r = parse_strv(cJSON_GetObjectItemCaseSensitive(j, "arches"), what, &f->arches, err)) < 0)
        return r;
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "minKernel");
    if (k && !cJSON_IsNull(k)) {
        if (!cJSON_IsString(k) || !k->valuestring[0])
            return error_set_plain(err, EINVAL, "%s: 'minKernel' is not a version", what);
        if (!(f->min_kernel = strdup(k->valuestring)))
            return error_set(err, ENOMEM, "%s", what);
    }
    return 0;
}

static int parse_arg(const cJSON *j, struct seccomp_arg *a, struct error **err)
{
    if (!cJSON_IsObject(j))
        return error_set_plain(err, EINVAL, "argument is not an object");
    uint64_t index = 0;
    /* 2^64-1 is not a double: the largest double below 2^64 is the limit. */
    const double u64_max = 18446744073709549568.0;
    int r = parse_uint(cJSON_GetObjectItemCaseSensitive(j, "index"), 5, "argument 'index'", &index,
                       err);
    if (r < 0)
        return r;
    a->index = (unsigned int)index;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "value");
    if (v && (r = parse_uint(v, u64_max, "argument 'value'", &a->value, err)) < 0)
        return r;
    v = cJSON_GetObjectItemCaseSensitive(j, "valueTwo");
    if (v && (r = parse_uint(v, u64_max, "argument 'valueTwo'", &a->value_two, err)) < 0)
        return r;
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(j, "op");
    if (!cJSON_IsString(op))
        return error_set_plain(err, EINVAL, "argument without an 'op'");
    for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
        if (strcmp(ops[i].name, op->valuestring) == 0) {
            a->op = ops[i].op;
            return 0;
        }
    return error_set_plain(err, EINVAL, "unknown operator '%s'", op->valuestring);
}

static int parse_rule(const cJSON *j, struct seccomp_rule *rule, struct error **err)
{
    if (!cJSON_IsObject(j))
        return error_set_plain(err, EINVAL, "not an object");
    int r;
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(j, "names");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name"); /* docker < 1.12 */
    if (names) {
        if ((r = parse_strv(names, "'names'", &rule->names, err)) < 0)
            return r;
    } else if (cJSON_IsString(name) && name->valuestring[0]) {
        if (!(rule->names = calloc(2, sizeof(char *))) ||
            !(rule->names[0] = strdup(name->valuestring)))
            return error_set(err, ENOMEM, "names");
    }
    if (!rule->names || !rule->names[0])
        return error_set_plain(err, EINVAL, "no syscall 'names'");
    if ((r = parse_action(cJSON_GetObjectItemCaseSensitive(j, "action"), "'action'", &rule->action,
                          err)) < 0)
        return r;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "errnoRet");
    if (e && !cJSON_IsNull(e)) {
        if ((r = parse_errno(e, "'errnoRet'", &rule->errno_ret, err)) < 0)
            return r;
        rule->has_errno = 1;
    }
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(j, "args");
    if (args && !cJSON_IsNull(args)) {
        if (!cJSON_IsArray(args))
            return error_set_plain(err, EINVAL, "'args' is not an array");
        int n = cJSON_GetArraySize(args);
        if (n > 6)
            return error_set_plain(err, EINVAL, "more than 6 'args'");
        if (n > 0 && !(rule->args = calloc((size_t)n, sizeof(*rule->args))))
            return error_set(err, ENOMEM, "args");
        const cJSON *a;
        cJSON_ArrayForEach(a, args)
        {
            if ((r = parse_arg(a, &rule->args[rule->n_args], err)) < 0)
                return r;
            rule->n_args++;
        }
    }
    if ((r = parse_filter(cJSON_GetObjectItemCaseSensitive(j, "includes"), "'includes'",
                          &rule->includes, err)) < 0 ||
        (r = parse_filter(cJSON_GetObjectItemCaseSensitive(j, "excludes"), "'excludes'",
                          &rule->excludes, err)) < 0)
        return r;
    return 0;
}

static int parse_arch_map(const cJSON *a, struct seccomp_profile *p, struct error **err)
{
    if (!a || cJSON_IsNull(a))
        return 0;
    if (!cJSON_IsArray(a))
        return error_set_plain(err, EINVAL, "'archMap' is not an array");
    int n = cJSON_GetArraySize(a);
    if (n == 0)
        return 0;
    if (!(p->arch_map = calloc((size_t)n, sizeof(*p->arch_map))))
        return error_set(err, ENOMEM, "archMap");
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        struct seccomp_arch_map *m = &p->arch_map[p->n_arch_map++];
        const cJSON *arch = cJSON_GetObjectItemCaseSensitive(e, "architecture");
        if (!cJSON_IsString(arch) || !arch->valuestring[0])
            return error_set_plain(err, EINVAL, "'archMap' entry without an 'architecture'");
        if (!(m->arch = strdup(arch->valuestring)))
            return error_set(err, ENOMEM, "archMap");
        int r = parse_strv(cJSON_GetObjectItemCaseSensitive(e, "subArchitectures"),
                           "'subArchitectures'", &m->sub, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int parse(const cJSON *root, struct seccomp_profile *p, struct error **err)
{
    if (!cJSON_IsObject(root))
        return error_set_plain(err, EINVAL, "not a JSON object");
    int r = parse_action(cJSON_GetObjectItemCaseSensitive(root, "defaultAction"), "'defaultAction'",
                         &p->default_action, err);
    if (r < 0)
        return r;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "defaultErrnoRet");
    if (e && !cJSON_IsNull(e)) {
        if ((r = parse_errno(e, "'defaultErrnoRet'", &p->default_errno, err)) < 0)
            return r;
        p->has_default_errno = 1;
    }
    if ((r = parse_strv(cJSON_GetObjectItemCaseSensitive(root, "architectures"), "'architectures'",
                        &p->architectures, err)) < 0 ||
        (r = parse_arch_map(cJSON_GetObjectItemCaseSensitive(root, "archMap"), p, err)) < 0)
        return r;
    const cJSON *syscalls = cJSON_GetObjectItemCaseSensitive(root, "syscalls");
    if (!syscalls || cJSON_IsNull(syscalls))
        return 0;
    if (!cJSON_IsArray(syscalls))
        return error_set_plain(err, EINVAL, "'syscalls' is not an array");
    int n = cJSON_GetArraySize(syscalls);
    if (n == 0)
        return 0;
    if (!(p->rules = calloc((size_t)n, sizeof(*p->rules))))
        return error_set(err, ENOMEM, "syscalls");
    const cJSON *s;
    cJSON_ArrayForEach(s, syscalls)
    {
        size_t i = p->n_rules++;
        if ((r = parse_rule(s, &p->rules[i], err)) < 0)
            return error_prefix(err, "'syscalls' entry %zu", i);
    }
    return 0;
}

int seccomp_profile_parse(const char *json, struct seccomp_profile **ret, struct error **err)
{
    cJSON *root = cJSON_Parse(json);
    if (!root)
        return error_set_plain(err, EINVAL, "seccomp profile: not valid JSON");
    struct seccomp_profile *p = calloc(1, sizeof(*p));
    if (!p) {
        cJSON_Delete(root);
        return error_set(err, ENOMEM, "seccomp profile");
    }
    int r = parse(root, p, err);
    cJSON_Delete(root);
    if (r < 0) {
        seccomp_profile_free(p);
        return error_prefix(err, "seccomp profile");
    }
    *ret = p;
    return 0;
}
