/*
 * The default profile's compiled filter, as the runtime loads it: the BPF
 * program seccomp_bpf_cache() stores, run here by a classic-BPF interpreter
 * over seccomp_data, so that every socket family and protocol can be tried
 * without asking the host's kernel (which would load a module for some).
 * libseccomp mishandles rules on one argument that overlap or nest at
 * different depths; these checks hold the socket rules of
 * seccomp-default.json to what docs/security.md says of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "runtime/seccomp.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

#define RET_ALLOW SECCOMP_RET_ALLOW
#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | (e))

/* x86-64 and i386 numbers (their ABIs are fixed). */
#define NR64_SOCKET 41
#define NR32_SOCKET 359
#define NR_IO_URING_SETUP 425
#define NR_IO_URING_ENTER 426
#define NR_IO_URING_REGISTER 427
#define NR64_READ 0
#define NR64_KEYCTL 250

struct filter {
    struct sock_filter *prog;
    size_t len;
};

static uint32_t run(const struct filter *f, uint32_t arch, int nr, const uint64_t args[6])
{
    struct seccomp_data d;
    memset(&d, 0, sizeof(d));
    d.nr = nr;
    d.arch = arch;
    memcpy(d.args, args, sizeof(d.args));
    uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
    for (size_t pc = 0; pc < f->len; pc++) {
        const struct sock_filter *i = &f->prog[pc];
        switch (i->code) {
        case BPF_LD | BPF_W | BPF_ABS:
            if (i->k % 4 != 0 || i->k + 4 > sizeof(d))
                fail_msg("load at offset %u", i->k);
            memcpy(&a, (const char *)&d + i->k, 4);
            break;
        case BPF_LD | BPF_IMM:
            a = i->k;
            break;
        case BPF_LDX | BPF_IMM:
            x = i->k;
            break;
        case BPF_LD | BPF_MEM:
            a = mem[i->k % BPF_MEMWORDS];
            break;
        case BPF_LDX | BPF_MEM:
            x = mem[i->k % BPF_MEMWORDS];
            break;
        case BPF_ST:
            mem[i->k % BPF_MEMWORDS] = a;
            break;
        case BPF_STX:
            mem[i->k % BPF_MEMWORDS] = x;
            break;
        case BPF_ALU | BPF_AND | BPF_K:
            a &= i->k;
            break;
        case BPF_ALU | BPF_OR | BPF_K:
            a |= i->k;
            break;
        case BPF_MISC | BPF_TAX:
            x = a;
            break;
        case BPF_MISC | BPF_TXA:
            a = x;
            break;
        case BPF_JMP | BPF_JA:
            pc += i->k;
            break;
        case BPF_JMP | BPF_JEQ | BPF_K:
            pc += a == i->k ? i->jt : i->jf;
            break;
        case BPF_JMP | BPF_JGT | BPF_K:
            pc += a > i->k ? i->jt : i->jf;
            break;
        case BPF_JMP | BPF_JGE | BPF_K:
            pc += a >= i->k ? i->jt : i->jf;
            break;
        case BPF_JMP | BPF_JSET | BPF_K:
            pc += (a & i->k) ? i->jt : i->jf;
            break;
        case BPF_RET | BPF_K:
            return i->k;
        case BPF_RET | BPF_A:
            return a;
        default:
            fail_msg("BPF opcode %#x at %zu is not interpreted here", i->code, pc);
        }
    }
    fail_msg("the program ran off its end");
    return 0;
}

/* The default profile resolved for CAPS and compiled through the cache. */
static void compile_default(uint64_t caps, struct filter *ret)
{
    struct error *err = NULL;
    _cleanup_seccomp_profile_ struct seccomp_profile *p = NULL;
    assert_int_equal(seccomp_profile_parse(seccomp_default_profile_json, &p, &err), 0);
    cJSON *oci = NULL;
    assert_int_equal(seccomp_profile_to_oci(p, caps, &oci, &err), 0);
    char dir[] = "/tmp/berth-test-seccomp.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = NULL;
    if (seccomp_bpf_cache(dir, oci, &path, &err) < 0)
        fail_msg("seccomp_bpf_cache: %s", err ? err->msg : "?");
    char *text = cJSON_PrintUnformatted(oci);
    void *prog = NULL;
    size_t len = 0;
    assert_int_equal(seccomp_bpf_read(path, text, &prog, &len), 0);
    assert_true(len > 10);
    ret->prog = prog;
    ret->len = len;
    free(text);
    free(path);
    cJSON_Delete(oci);
    assert_int_equal(rm_rf(dir, &err), 0);
    assert_null(err);
}

static const uint64_t DEFAULT_CAPS = UINT64_C(0x800405fb);
static const uint64_t CAP_AUDIT_WRITE_BIT = UINT64_C(1) << 29;

static uint32_t socket_call(const struct filter *f, uint32_t arch, uint64_t family,
                            uint64_t protocol)
{
    uint64_t args[6] = {family, 3 /* SOCK_RAW */, protocol, 0, 0, 0};
    return run(f, arch, arch == AUDIT_ARCH_X86_64 ? NR64_SOCKET : NR32_SOCKET, args);
}

static void check_sockets(const struct filter *f, int audit_write)
{
    static const uint32_t arches[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386};
    static const uint64_t protocols[] = {0, 1, 9, 15, 255};
    /* The kernel reads the family as an int: bits above 31 (garbage a
     * caller may pass on x86-64) must not change the verdict. */
    static const uint64_t high[] = {0, UINT64_C(1) << 32, UINT64_C(0xffffffff00000000)};
    for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++)
        for (uint64_t fam = 0; fam < 64; fam++)
            for (size_t p = 0; p < sizeof(protocols) / sizeof(protocols[0]); p++)
                for (size_t h = 0; h < sizeof(high) / sizeof(high[0]); h++) {
                    if (h > 0 && arches[a] != AUDIT_ARCH_X86_64)
                        continue; /* 32-bit arguments */
                    uint32_t want = RET_ALLOW;
                    if (fam == 40)
                        want = RET_ERRNO(1); /* AF_VSOCK */
                    else if (fam == 16 && protocols[p] == 9 && !audit_write)
                        want = RET_ERRNO(22); /* NETLINK_AUDIT */
                    uint32_t got = socket_call(f, arches[a], high[h] | fam, protocols[p]);
                    if (got != want)
                        fail_msg("arch %#x socket(%#llx, SOCK_RAW, %llu): %#x, expected %#x",
                                 arches[a], (unsigned long long)(high[h] | fam),
                                 (unsigned long long)protocols[p], got, want);
                }
    /* No family beyond 63 exists (AF_MAX is 46): refused, as anything else
     * the kernel would refuse itself. */
    assert_int_equal(socket_call(f, AUDIT_ARCH_X86_64, 64, 0), RET_ERRNO(1));
    assert_int_equal(socket_call(f, AUDIT_ARCH_X86_64, 1000, 0), RET_ERRNO(1));
}

static void test_sockets(void **state)
{
    (void)state;
#if defined(__x86_64__)
    struct filter f;
    compile_default(DEFAULT_CAPS, &f);
    /* The interpreter itself: an allowed call, a denied one. */
    uint64_t none[6] = {0};
    assert_int_equal(run(&f, AUDIT_ARCH_X86_64, NR64_READ, none), RET_ALLOW);
    assert_int_equal(run(&f, AUDIT_ARCH_X86_64, NR64_KEYCTL, none), RET_ERRNO(1));
    check_sockets(&f, 0);
    free(f.prog);

    compile_default(DEFAULT_CAPS | CAP_AUDIT_WRITE_BIT, &f);
    check_sockets(&f, 1);
    free(f.prog);
#else
    skip();
#endif
}

static void test_io_uring(void **state)
{
    (void)state;
#if defined(__x86_64__)
    struct filter f;
    compile_default(DEFAULT_CAPS, &f);
    uint64_t args[6] = {1, 0, 0, 0, 0, 0};
    static const int nrs[] = {NR_IO_URING_SETUP, NR_IO_URING_ENTER, NR_IO_URING_REGISTER};
    for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
        assert_int_equal(run(&f, AUDIT_ARCH_X86_64, nrs[i], args), RET_ERRNO(1));
        assert_int_equal(run(&f, AUDIT_ARCH_I386, nrs[i], args), RET_ERRNO(1));
    }
    free(f.prog);
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sockets),
        cmocka_unit_test(test_io_uring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
