/* seccomp profiles -> OCI linux.seccomp (at create) and -> a loaded filter (before exec). */
#include "runtime/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs-util.h"

/* Syscall numbers above the highest named one get ENOSYS up to here. */
#define SYSCALL_NR_LIMIT 1024

/* docker's names for architectures (Go's GOARCH), as "includes.arches" uses them. */
static const char *native_docker_arch(void)
{
#if defined(__x86_64__) && defined(__ILP32__)
    return "x32";
#elif defined(__x86_64__)
    return "amd64";
#elif defined(__i386__)
    return "x86";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__arm__)
    return "arm";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "ppc64le";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#else
    return "unknown";
#endif
}

static const char *native_scmp_arch(void)
{
#if defined(__x86_64__) && defined(__ILP32__)
    return "SCMP_ARCH_X32";
#elif defined(__x86_64__)
    return "SCMP_ARCH_X86_64";
#elif defined(__i386__)
    return "SCMP_ARCH_X86";
#elif defined(__aarch64__)
    return "SCMP_ARCH_AARCH64";
#elif defined(__arm__)
    return "SCMP_ARCH_ARM";
#elif defined(__s390x__)
    return "SCMP_ARCH_S390X";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "SCMP_ARCH_PPC64LE";
#elif defined(__riscv) && __riscv_xlen == 64
    return "SCMP_ARCH_RISCV64";
#else
    return "SCMP_ARCH_NATIVE";
#endif
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token; 0 if unknown. */
static uint32_t arch_token(const char *name)
{
    if (strncmp(name, "SCMP_ARCH_", 10) != 0)
        return 0;
    _cleanup_free_ char *lower = strdup(name + 10);
    if (!lower)
        return 0;
    for (char *c = lower; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    if (strcmp(lower, "x86_64") == 0)
        return SCMP_ARCH_X86_64;
    return seccomp_arch_resolve_name(lower);
}

static int strv_contains(char *const *v, const char *s)
{
    for (; v && *v; v++)
        if (strcmp(*v, s) == 0)
            return 1;
    return 0;
}

int seccomp_profile_check(const struct seccomp_profile *p, struct error **err)
{
    for (char **a = p->architectures; a && *a; a++)
        if (!arch_token(*a))
            return error_set_plain(err, EINVAL, "seccomp profile: unknown architecture '%s'", *a);
    for (size_t i = 0; i < p->n_arch_map; i++) {
        if (!arch_token(p->arch_map[i].arch))
            return error_set_plain(err, EINVAL, "seccomp profile: unknown architecture '%s'",
                                   p->arch_map[i].arch);
        for (char **a = p->arch_map[i].sub; a && *a; a++)
            if (!arch_token(*a))
                return error_set_plain(err, EINVAL, "seccomp profile: unknown architecture '%s'",
                                       *a);
    }
    for (size_t i = 0; i < p->n_rules; i++)
        for (char **n = p->rules[i].names; *n; n++)
            if (seccomp_syscall_resolve_name(*n) == __NR_SCMP_ERROR)
                return error_set_plain(err, EINVAL, "seccomp profile: unknown syscall '%s'", *n);
    return 0;
}

static int kernel_at_least(const char *min)
{
    struct utsname u;
    unsigned int kmaj = 0, kmin = 0, wmaj = 0, wmin = 0;
    if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &kmaj, &kmin) < 1)
        return 1;
    if (sscanf(min, "%u.%u", &wmaj, &wmin) < 1)
        return 1;
    return kmaj > wmaj || (kmaj == wmaj && kmin >= wmin);
}

static int cap_in(uint64_t caps, const char *name)
{
    int cap = capability_from_name(name);
    return cap >= 0 && (caps & (UINT64_C(1) << cap));
}

/* docker's rule: every included cap held, no excluded cap held; arches likewise. */
static int rule_applies(const struct seccomp_rule *r, uint64_t caps)
{
    const char *arch = native_docker_arch();
    if (r->includes.arches && !strv_contains(r->includes.arches, arch))
        return 0;
    for (char **c = r->includes.caps; c && *c; c++)
        if (!cap_in(caps, *c))
            return 0;
    if (r->includes.min_kernel && !kernel_at_least(r->includes.min_kernel))
        return 0;
    if (r->excludes.arches && strv_contains(r->excludes.arches, arch))
        return 0;
    for (char **c = r->excludes.caps; c && *c; c++)
        if (cap_in(caps, *c))
            return 0;
    if (r->excludes.min_kernel && kernel_at_least(r->excludes.min_kernel))
        return 0;
    return 1;
}

/* The architectures a filter covers: archMap's entry for this machine, else "architectures". */
static void filter_arches(const struct seccomp_profile *p, const char **ret_main, char ***ret_sub)
{
    const char *native = native_scmp_arch();
    for (size_t i = 0; i < p->n_arch_map; i++)
        if (strcmp(p->arch_map[i].arch, native) == 0) {
            *ret_main = p->arch_map[i].arch;
            *ret_sub = p->arch_map[i].sub;
            return;
        }
    *ret_main = NULL;
    *ret_sub = p->architectures;
}

int seccomp_profile_to_oci(const struct seccomp_profile *p, uint64_t caps, cJSON **ret,
                           struct error **err)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return error_set(err, ENOMEM, "seccomp");
    cJSON_AddStringToObject(o, "defaultAction", seccomp_action_name(p->default_action));
    if (p->has_default_errno)
        cJSON_AddNumberToObject(o, "defaultErrnoRet", p->default_errno);
    const char *main_arch = NULL;
    char **sub = NULL;
    filter_arches(p, &main_arch, &sub);
    cJSON *arches = cJSON_AddArrayToObject(o, "architectures");
    if (main_arch)
        cJSON_AddItemToArray(arches, cJSON_CreateString(main_arch));
    for (char **a = sub; a && *a; a++)
        cJSON_AddItemToArray(arches, cJSON_CreateString(*a));
    cJSON *syscalls = cJSON_AddArrayToObject(o, "syscalls");
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct seccomp_rule *r = &p->rules[i];
        if (!rule_applies(r, caps))
            continue;
        cJSON *s = cJSON_CreateObject();
        cJSON *names = cJSON_AddArrayToObject(s, "names");
        for (char **n = r->names; *n; n++)
            cJSON_AddItemToArray(names, cJSON_CreateString(*n));
        cJSON_AddStringToObject(s, "action", seccomp_action_name(r->action));
        if (r->has_errno)
            cJSON_AddNumberToObject(s, "errnoRet", r->errno_ret);
        if (r->n_args) {
            cJSON *args = cJSON_AddArrayToObject(s, "args");
            for (size_t k = 0; k < r->n_args; k++) {
                cJSON *a = cJSON_CreateObject();
                cJSON_AddNumberToObject(a, "index", r->args[k].index);
                cJSON_AddNumberToObject(a, "value", (double)r->args[k].value);
                if (r->args[k].value_two)
                    cJSON_AddNumberToObject(a, "valueTwo", (double)r->args[k].value_two);
                cJSON_AddStringToObject(a, "op", seccomp_op_name(r->args[k].op));
                cJSON_AddItemToArray(args, a);
            }
        }
        cJSON_AddItemToArray(syscalls, s);
    }
    *ret = o;
    return 0;
}

static uint32_t scmp_action(enum seccomp_action a, int has_errno, unsigned int errno_ret,
                            unsigned int default_errno)
{
    switch (a) {
    case SECCOMP_ACTION_KILL_THREAD:
        return SCMP_ACT_KILL_THREAD;
    case SECCOMP_ACTION_KILL_PROCESS:
        return SCMP_ACT_KILL_PROCESS;
    case SECCOMP_ACTION_TRAP:
        return SCMP_ACT_TRAP;
    case SECCOMP_ACTION_ERRNO:
        return SCMP_ACT_ERRNO(has_errno ? errno_ret : default_errno);
    case SECCOMP_ACTION_TRACE:
        return SCMP_ACT_TRACE(has_errno ? errno_ret : default_errno);
    case SECCOMP_ACTION_LOG:
        return SCMP_ACT_LOG;
    case SECCOMP_ACTION_ALLOW:
        return SCMP_ACT_ALLOW;
    }
    return SCMP_ACT_KILL_PROCESS;
}

static enum scmp_compare scmp_op(enum seccomp_op op)
{
    switch (op) {
    case SECCOMP_OP_NE:
        return SCMP_CMP_NE;
    case SECCOMP_OP_LT:
        return SCMP_CMP_LT;
    case SECCOMP_OP_LE:
        return SCMP_CMP_LE;
    case SECCOMP_OP_EQ:
        return SCMP_CMP_EQ;
    case SECCOMP_OP_GE:
        return SCMP_CMP_GE;
    case SECCOMP_OP_GT:
        return SCMP_CMP_GT;
    case SECCOMP_OP_MASKED_EQ:
        return SCMP_CMP_MASKED_EQ;
    }
    return _SCMP_CMP_MIN;
}

struct seccomp_filter_ctx {
    scmp_filter_ctx ctx;
};

void seccomp_filter_free(struct seccomp_filter_ctx *f)
{
    if (!f)
        return;
    if (f->ctx)
        seccomp_release(f->ctx);
    free(f);
}

static void filter_freep(struct seccomp_filter_ctx **f)
{
    seccomp_filter_free(*f);
}

/*
 * runc's and crun's rule for OCI profiles: several args on one index are
 * alternatives (one rule each), args on distinct indexes all must match.
 */
static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const struct seccomp_rule *r)
{
    int same_index = 0;
    for (size_t i = 0; i < r->n_args; i++)
        for (size_t j = i + 1; j < r->n_args; j++)
            if (r->args[i].index == r->args[j].index)
                same_index = 1;
    struct scmp_arg_cmp cmp[6];
    if (!same_index) {
        for (size_t i = 0; i < r->n_args; i++)
            cmp[i] = (struct scmp_arg_cmp){r->args[i].index, scmp_op(r->args[i].op),
                                           r->args[i].value, r->args[i].value_two};
        return seccomp_rule_add_array(ctx, action, nr, (unsigned int)r->n_args, cmp);
    }
    for (size_t i = 0; i < r->n_args; i++) {
        cmp[0] = (struct scmp_arg_cmp){r->args[i].index, scmp_op(r->args[i].op), r->args[i].value,
                                       r->args[i].value_two};
        int ret = seccomp_rule_add_array(ctx, action, nr, 1, cmp);
        if (ret < 0)
            return ret;
    }
    return 0;
}

int seccomp_filter_build(const struct seccomp_profile *p, uint64_t caps,
                         struct seccomp_filter_ctx **ret, struct error **err)
{
    unsigned int default_errno = p->has_default_errno ? p->default_errno : EPERM;
    uint32_t def = scmp_action(p->default_action, p->has_default_errno, p->default_errno, EPERM);
    _cleanup_(filter_freep) struct seccomp_filter_ctx *f = calloc(1, sizeof(*f));
    if (!f || !(f->ctx = seccomp_init(def)))
        return error_set(err, ENOMEM, "seccomp_init");
    int r;
    /* The binary tree keeps a 300-rule filter cheap per syscall. */
    seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    /* no_new_privs is the runtime's decision, made before this. */
    seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_NNP, 0);

    int highest = -1;
    for (size_t i = 0; i < p->n_rules; i++)
        for (char **n = p->rules[i].names; *n; n++) {
            int nr = seccomp_syscall_resolve_name(*n);
            if (nr > highest)
                highest = nr;
        }
    /*
     * Newer than the profile: ENOSYS, so that libc falls back to what it
     * knows. Added while the filter holds the native architecture alone:
     * libseccomp cannot translate a number it has no name for to the others.
     */
    if (def != SCMP_ACT_ALLOW && highest >= 0) {
        for (int nr = highest + 1; nr < SYSCALL_NR_LIMIT; nr++) {
            r = seccomp_rule_add(f->ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
            if (r < 0 && r != -EEXIST && r != -EDOM)
                return error_set(err, -r, "seccomp: ENOSYS rule for syscall %d", nr);
        }
    }

    const char *main_arch = NULL;
    char **sub = NULL;
    filter_arches(p, &main_arch, &sub);
    for (char **a = sub; a && *a; a++) {
        uint32_t tok = arch_token(*a);
        if (!tok)
            return error_set_plain(err, EINVAL, "seccomp: unknown architecture '%s'", *a);
        if (tok == seccomp_arch_native())
            continue;
        if ((r = seccomp_arch_add(f->ctx, tok)) < 0 && r != -EEXIST)
            return error_set(err, -r, "seccomp: add architecture '%s'", *a);
    }

    for (size_t i = 0; i < p->n_rules; i++) {
        const struct seccomp_rule *rule = &p->rules[i];
        if (!rule_applies(rule, caps))
            continue;
        uint32_t action =
            scmp_action(rule->action, rule->has_errno, rule->errno_ret, default_errno);
        if (action == def)
            continue; /* libseccomp refuses a rule that repeats the default */
        for (char **n = rule->names; *n; n++) {
            int nr = seccomp_syscall_resolve_name(*n);
            /* Unknown here, or another architecture's call (runc ignores both). */
            if (nr == __NR_SCMP_ERROR)
                continue;
            r = add_rule(f->ctx, action, nr, rule);
            if (r < 0 && nr >= 0)
                return error_set(err, -r, "seccomp: rule for '%s'", *n);
        }
    }
    *ret = TAKE_PTR(f);
    return 0;
}

int seccomp_filter_load(struct seccomp_filter_ctx *f, struct error **err)
{
    int r = seccomp_load(f->ctx);
    if (r < 0)
        return error_set(err, -r, "load the seccomp filter");
    return 0;
}

int seccomp_apply_from_config(const struct oci_config *cfg, struct error **err)
{
    if (!cfg->seccomp)
        return 0;
    if (cfg->seccomp_bpf)
        return seccomp_bpf_load(cfg->seccomp_bpf, cfg->seccomp_bpf_len, err);
    _cleanup_(filter_freep) struct seccomp_filter_ctx *f = NULL;
    int r = seccomp_filter_build(cfg->seccomp, cfg->cap_bounding, &f, err);
    if (r < 0)
        return r;
    return seccomp_filter_load(f, err);
}

/*
 * Compiled filters, shared by containers. libseccomp needs 50-200 ms here to
 * compile docker's profile for x86-64 + x86 + x32 (name lookups per
 * architecture), far more than the rest of a container's start; the BPF it
 * makes depends only on the resolved profile. A cache file holds a key (the
 * libseccomp version, the architecture and the exact linux.seccomp text)
 * then the BPF program; a lookup compares the whole key, so the file's name
 * (a hash) only has to spread, not to resist collisions.
 */
#define BPF_MAGIC "berth-seccomp-bpf 1\n"

static char *cache_key(const char *oci_json)
{
    const struct scmp_version *v = seccomp_version();
    return xasprintf("libseccomp %u.%u.%u %s\n%s", v ? v->major : 0, v ? v->minor : 0,
                     v ? v->micro : 0, native_scmp_arch(), oci_json);
}

/* magic, key length in decimal, newline, key, then the program. */
static int read_cached(const char *path, const char *key, void **ret, size_t *ret_len)
{
    /* The path comes from config.json: a regular file of sane size, never a FIFO or a device. */
    _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        st.st_size > (1 << 20))
        return -ENOENT;
    size_t len = (size_t)st.st_size;
    _cleanup_free_ char *data = malloc(len);
    if (!data)
        return -ENOMEM;
    for (size_t got = 0; got < len;) {
        ssize_t n = read(fd, data + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -EIO;
        got += (size_t)n;
    }
    size_t mlen = strlen(BPF_MAGIC), klen = strlen(key);
    char head[32];
    int hlen = snprintf(head, sizeof(head), "%zu\n", klen);
    size_t off = mlen + (size_t)hlen + klen;
    if (len <= off || memcmp(data, BPF_MAGIC, mlen) != 0 ||
        memcmp(data + mlen, head, (size_t)hlen) != 0 ||
        memcmp(data + mlen + hlen, key, klen) != 0 || (len - off) % sizeof(struct sock_filter))
        return -EINVAL;
    void *prog = malloc(len - off);
    if (!prog)
        return -ENOMEM;
    memcpy(prog, data + off, len - off);
    *ret = prog;
    *ret_len = (len - off) / sizeof(struct sock_filter);
    return 0;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

int seccomp_bpf_cache(const char *cache_dir, const cJSON *oci, char **ret_path, struct error **err)
{
    _cleanup_free_ char *text = cJSON_PrintUnformatted(oci);
    if (!text)
        return error_set(err, ENOMEM, "seccomp");
    _cleanup_free_ char *key = cache_key(text);
    _cleanup_free_ char *path =
        xasprintf("%s/%016llx.bpf", cache_dir, (unsigned long long)fnv1a(key));
    void *prog = NULL;
    size_t n = 0;
    if (read_cached(path, key, &prog, &n) == 0) {
        free(prog);
        *ret_path = TAKE_PTR(path);
        return 0;
    }

    _cleanup_seccomp_profile_ struct seccomp_profile *p = NULL;
    int r = seccomp_profile_parse(text, &p, err);
    if (r < 0)
        return r;
    _cleanup_(filter_freep) struct seccomp_filter_ctx *f = NULL;
    /* The profile is resolved already: includes/excludes are gone. */
    if ((r = seccomp_filter_build(p, ~UINT64_C(0), &f, err)) < 0)
        return r;
    if ((r = mkdir_p(cache_dir, 0700, err)) < 0)
        return r;
    _cleanup_free_ char *tmp = xasprintf("%s/.tmp.%d", cache_dir, (int)getpid());
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return error_set(err, errno, "create '%s'", tmp);
    FILE *out = fdopen(dup(fd), "w");
    if (!out)
        return error_set(err, errno, "seccomp cache");
    fprintf(out, "%s%zu\n%s", BPF_MAGIC, strlen(key), key);
    if (fclose(out) != 0) {
        unlink(tmp);
        return error_set(err, errno, "write '%s'", tmp);
    }
    lseek(fd, 0, SEEK_END);
    if ((r = seccomp_export_bpf(f->ctx, fd)) < 0) {
        unlink(tmp);
        return error_set(err, -r, "export the seccomp filter");
    }
    if (rename(tmp, path) < 0) {
        int saved = errno;
        unlink(tmp);
        return error_set(err, saved, "rename '%s'", tmp);
    }
    *ret_path = TAKE_PTR(path);
    return 0;
}

int seccomp_bpf_read(const char *path, const char *oci_json, void **ret, size_t *ret_len)
{
    _cleanup_free_ char *key = cache_key(oci_json);
    return read_cached(path, key, ret, ret_len);
}

int seccomp_bpf_load(const void *prog, size_t n, struct error **err)
{
    struct sock_fprog fprog = {.len = (unsigned short)n, .filter = (struct sock_filter *)prog};
    if (n == 0 || n > 0xffff)
        return error_set_plain(err, EINVAL, "seccomp: empty or oversized program");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
        return error_set(err, errno, "load the seccomp filter");
    return 0;
}
