/*
 * The CLI's strings: the first byte picks the parser, the rest is the text:
 * 0 -p port specs, 1 IPv4 addresses and CIDRs (strict and loose), 2 -v,
 * 3 --mount, 4 --tmpfs, 5 the option parser (the text split at '\n' into
 * an argv).
 */
#include "cli/cli-options.h"
#include "fuzz-util.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "network/cidr.h"
#include "network/port-spec.h"
#include "volume/mount-spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_port(const char *s)
{
    struct port_spec ps;
    const char *reason = NULL;
    if (port_spec_parse(s, &ps, &reason) == 0) {
        FUZZ_ASSERT(ps.container_port > 0 && ps.container_port <= 65535);
        FUZZ_ASSERT(ps.host_port >= 0 && ps.host_port <= 65535);
        FUZZ_ASSERT(memchr(ps.host_ip, '\0', sizeof(ps.host_ip)));
        FUZZ_ASSERT(memchr(ps.protocol, '\0', sizeof(ps.protocol)));
    } else {
        FUZZ_ASSERT(reason);
    }
}

static void fuzz_cidr(const char *s)
{
    uint32_t a = 0;
    char buf[32];
    if (ipv4_parse(s, &a) == 0)
        ipv4_format(a, buf);
    for (int loose = 0; loose <= 1; loose++) {
        struct cidr c;
        if (cidr_parse(s, loose, &c) == 0) {
            FUZZ_ASSERT(c.prefix >= 0 && c.prefix <= 32);
            cidr_format(&c, buf);
            struct cidr back;
            FUZZ_ASSERT(cidr_parse(buf, 0, &back) == 0);
            FUZZ_ASSERT(back.addr == c.addr && back.prefix == c.prefix);
            FUZZ_ASSERT(cidr_within(&c, &c) && cidr_overlaps(&c, &back));
            (void)cidr_contains(&c, a);
        }
    }
}

/* Absolute, no empty, "." or ".." component, no trailing '/'. */
static int target_is_normal(const char *t)
{
    if (t[0] != '/')
        return 0;
    if (!t[1])
        return 1;
    for (const char *c = t + 1;;) {
        size_t n = strcspn(c, "/");
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        if (!c[n])
            return 1;
        c += n + 1;
    }
}

static void fuzz_mount(int which, const char *s)
{
    struct mount_spec m = {0};
    struct error *err = NULL;
    int r = which == 2   ? mount_spec_parse_volume(s, &m, &err)
            : which == 3 ? mount_spec_parse_mount(s, &m, &err)
                         : mount_spec_parse_tmpfs(s, &m, &err);
    if (r == 0) {
        FUZZ_ASSERT(m.target && m.target[0] == '/');
        FUZZ_ASSERT(target_is_normal(m.target));
        (void)mount_kind_name(m.kind);
    } else {
        FUZZ_ASSERT(err && err->msg);
    }
    error_free(&err);
    mount_spec_clear(&m);
}

static void fuzz_options(char *s)
{
    static const struct cli_option opts[] = {
        {"detach", 'd', 0, 1}, {"name", 0, 1, 2},          {"publish", 'p', 1, 3},
        {"volume", 'v', 1, 4}, {"interactive", 'i', 0, 5}, {"tty", 't', 0, 6},
        {"env", 'e', 1, 7},    {"attach", 'a', 1, 8},      {NULL, 0, 0, 0},
    };
    char *argv[34] = {"run"};
    int argc = 1;
    for (char *save = NULL, *tok = strtok_r(s, "\n", &save); tok && argc < 33;
         tok = strtok_r(NULL, "\n", &save))
        argv[argc++] = tok;
    argv[argc] = NULL;
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "run");
    const char *value;
    int id, steps = 0;
    while ((id = cli_next_option(&p, opts, &value)) > 0) {
        FUZZ_ASSERT(id <= 8 && ++steps <= 64 * 33);
        if (id == 2 || id == 3 || id == 4 || id == 7 || id == 8)
            FUZZ_ASSERT(value);
    }
    FUZZ_ASSERT(p.index >= 1 && p.index <= argc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    _cleanup_free_ char *s = fuzz_strndup(data + 1, size - 1);
    switch (data[0] % 6) {
    case 0:
        fuzz_port(s);
        break;
    case 1:
        fuzz_cidr(s);
        break;
    case 5:
        fuzz_options(s);
        break;
    default:
        fuzz_mount(data[0] % 6, s);
        break;
    }
    return 0;
}
