/*
 * The devices cgroup on v2: no controller files, a BPF_CGROUP_DEVICE
 * program instead, attached to the container's cgroup. The program is
 * built here from the rule list (struct cgroup_device_rule) with the raw
 * bpf() syscall, as runc's devicefilter does, without libbpf: for each
 * allow rule, in order, "type, major and minor match and no access bit
 * outside the rule's" returns 1 (allow); falling off the end returns 0
 * (deny). The list berth writes starts with deny-all; a deny rule anywhere
 * else is refused (berth never writes one).
 *
 * The kernel's context (struct bpf_cgroup_dev_ctx): access_type (type in
 * the low 16 bits: 1 block, 2 char; access above: 1 mknod, 2 read,
 * 4 write), major, minor.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"
#include "util/cleanup.h"

#define INSN(c, d, s, o, i)                                                                        \
    ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(d, s, off) INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, off, 0)
#define MOV_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define AND_IMM(d, i) INSN(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, i)
#define RSH_IMM(d, i) INSN(BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0, i)
#define JNE_IMM(d, i, off) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, off, i)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* BPF_DEVCG_ACC_* bits of an "rwm" string. */
static int access_bits(const char *a)
{
    int bits = 0;
    for (; *a; a++)
        bits |= *a == 'm'   ? BPF_DEVCG_ACC_MKNOD
                : *a == 'r' ? BPF_DEVCG_ACC_READ
                            : BPF_DEVCG_ACC_WRITE;
    return bits;
}

/* The program for RULES, into INSNS (room for 8 + 9 per rule). Returns its length, or -EINVAL. */
static int build(const struct cgroup_device_rule *rules, size_t n, struct bpf_insn *insns)
{
    size_t k = 0;
    insns[k++] = LDX_W(BPF_REG_2, BPF_REG_1, 0); /* access_type */
    insns[k++] = MOV_REG(BPF_REG_3, BPF_REG_2);
    insns[k++] = AND_IMM(BPF_REG_3, 0xffff);     /* type */
    insns[k++] = RSH_IMM(BPF_REG_2, 16);         /* access */
    insns[k++] = LDX_W(BPF_REG_4, BPF_REG_1, 4); /* major */
    insns[k++] = LDX_W(BPF_REG_5, BPF_REG_1, 8); /* minor */
    for (size_t i = 0; i < n; i++) {
        const struct cgroup_device_rule *r = &rules[i];
        if (!r->allow) {
            if (i == 0 && r->type == 'a')
                continue; /* deny-all first: the default of the program */
            return -EINVAL;
        }
        struct bpf_insn block[9];
        size_t b = 0;
        if (r->type != 'a')
            block[b++] =
                JNE_IMM(BPF_REG_3, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0);
        if (r->major >= 0)
            block[b++] = JNE_IMM(BPF_REG_4, (int32_t)r->major, 0);
        if (r->minor >= 0)
            block[b++] = JNE_IMM(BPF_REG_5, (int32_t)r->minor, 0);
        int bits = access_bits(r->access);
        if (bits != (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)) {
            block[b++] = MOV_REG(BPF_REG_6, BPF_REG_2);
            block[b++] = AND_IMM(BPF_REG_6, ~bits & 7);
            block[b++] = JNE_IMM(BPF_REG_6, 0, 0);
        }
        block[b++] = MOV_IMM(BPF_REG_0, 1);
        block[b++] = EXIT();
        /* Every conditional jump goes past the block: to the next rule. */
        for (size_t j = 0; j < b; j++)
            if (block[j].code == (BPF_JMP | BPF_JNE | BPF_K))
                block[j].off = (int16_t)(b - j - 1);
        memcpy(&insns[k], block, b * sizeof(*block));
        k += b;
        /* An allow of everything ends the program (the verifier refuses dead code). */
        if (b == 2)
            return (int)k;
    }
    insns[k++] = MOV_IMM(BPF_REG_0, 0);
    insns[k++] = EXIT();
    return (int)k;
}

int cgroup_v2_devices_apply(const char *dir, const struct cgroup_limits *l, struct error **err)
{
    if (!l->n_devices)
        return 0;
    _cleanup_free_ struct bpf_insn *insns = calloc(8 + 9 * l->n_devices, sizeof(*insns));
    if (!insns)
        return error_set(err, ENOMEM, "devices program");
    int n = build(l->devices, l->n_devices, insns);
    if (n < 0)
        return error_set_plain(err, EINVAL,
                               "devices cgroup: only a leading deny-all rule is supported on v2");
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = (uint32_t)n;
    attr.license = (uint64_t)(uintptr_t) "GPL";
    _cleanup_close_ int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
    if (prog < 0)
        return error_set(err, errno, "load the devices program");
    _cleanup_close_ int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg < 0)
        return error_set(err, errno, "open '%s'", dir);
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cg;
    attr.attach_bpf_fd = (uint32_t)prog;
    attr.attach_type = BPF_CGROUP_DEVICE;
    /* The cgroup holds the program from now on; it goes with the cgroup. */
    if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr)) < 0)
        return error_set(err, errno, "attach the devices program to '%s'", dir);
    return 0;
}
