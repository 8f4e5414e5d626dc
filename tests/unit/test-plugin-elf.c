/* Unit tests: plugin-elf.c (the exported symbols of a shared object, read
 * from .dynsym) on ELF files built here byte by byte, and the conformance
 * suites' layer-tar writer read back with libarchive. */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "../../sdk/conformance/conformance.h"
#include "plugin/plugin-elf.h"
#include "util/cleanup.h"

static char dir[] = "/tmp/berth-test-elf-XXXXXX";

static char *write_tmp(const char *name, const void *data, size_t len)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

/* A 64-bit ET_DYN with sections: null, .dynsym, .dynstr. */
struct tiny_so {
    Elf64_Ehdr eh;
    Elf64_Sym syms[7];
    char strs[80];
    Elf64_Shdr sh[3];
};

static void build_so(struct tiny_so *so)
{
    memset(so, 0, sizeof(*so));
    memcpy(so->eh.e_ident, ELFMAG, SELFMAG);
    so->eh.e_ident[EI_CLASS] = ELFCLASS64;
    so->eh.e_ident[EI_DATA] = ELFDATA2LSB;
    so->eh.e_ident[EI_VERSION] = EV_CURRENT;
    so->eh.e_type = ET_DYN;
    so->eh.e_machine = EM_X86_64;
    so->eh.e_version = EV_CURRENT;
    so->eh.e_ehsize = sizeof(Elf64_Ehdr);
    so->eh.e_shentsize = sizeof(Elf64_Shdr);
    so->eh.e_shnum = 3;
    so->eh.e_shoff = offsetof(struct tiny_so, sh);
    /* names: \0berth_plugin_entry\0helper\0hidden\0undef\0loc\0weak\0 */
    static const char names[] = "\0berth_plugin_entry\0helper\0hidden\0undef\0loc\0weak";
    memcpy(so->strs, names, sizeof(names));
    size_t off_entry = 1, off_helper = 20, off_hidden = 27, off_undef = 34, off_loc = 40,
           off_weak = 44;
    so->syms[1] = (Elf64_Sym){.st_name = (Elf64_Word)off_entry,
                              .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
                              .st_shndx = 1};
    so->syms[2] = (Elf64_Sym){.st_name = (Elf64_Word)off_helper,
                              .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
                              .st_shndx = 1};
    so->syms[3] = (Elf64_Sym){.st_name = (Elf64_Word)off_hidden,
                              .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
                              .st_other = STV_HIDDEN,
                              .st_shndx = 1};
    so->syms[4] = (Elf64_Sym){.st_name = (Elf64_Word)off_undef,
                              .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
                              .st_shndx = SHN_UNDEF};
    so->syms[5] = (Elf64_Sym){.st_name = (Elf64_Word)off_loc,
                              .st_info = ELF64_ST_INFO(STB_LOCAL, STT_FUNC),
                              .st_shndx = 1};
    so->syms[6] = (Elf64_Sym){.st_name = (Elf64_Word)off_weak,
                              .st_info = ELF64_ST_INFO(STB_WEAK, STT_OBJECT),
                              .st_shndx = 1};
    so->sh[1] = (Elf64_Shdr){.sh_type = SHT_DYNSYM,
                             .sh_offset = offsetof(struct tiny_so, syms),
                             .sh_size = sizeof(so->syms),
                             .sh_link = 2,
                             .sh_entsize = sizeof(Elf64_Sym)};
    so->sh[2] = (Elf64_Shdr){.sh_type = SHT_STRTAB,
                             .sh_offset = offsetof(struct tiny_so, strs),
                             .sh_size = sizeof(names)};
}

static void test_exports(void **state)
{
    (void)state;
    struct tiny_so so;
    build_so(&so);
    _cleanup_free_ char *path = write_tmp("good.so", &so, sizeof(so));
    _cleanup_strv_ char **names = NULL;
    struct error *err _cleanup_error_ = NULL;
    assert_int_equal(plugin_elf_exports(path, &names, &err), 0);
    assert_string_equal(names[0], "berth_plugin_entry");
    assert_string_equal(names[1], "helper");
    assert_string_equal(names[2], "weak");
    assert_null(names[3]);
}

static void test_refusals(void **state)
{
    (void)state;
    struct error *err _cleanup_error_ = NULL;
    _cleanup_strv_ char **names = NULL;
    _cleanup_free_ char *text = write_tmp("text.so", "hello\n", 6);
    assert_true(plugin_elf_exports(text, &names, &err) < 0);
    assert_non_null(strstr(err->msg, "is not an ELF file"));
    error_free(&err);

    struct tiny_so so;
    build_so(&so);
    so.eh.e_type = ET_REL;
    _cleanup_free_ char *rel = write_tmp("rel.so", &so, sizeof(so));
    assert_true(plugin_elf_exports(rel, &names, &err) < 0);
    assert_non_null(strstr(err->msg, "not a shared object"));
    error_free(&err);

    build_so(&so);
    so.eh.e_shoff = 1u << 30;
    _cleanup_free_ char *bad = write_tmp("bad.so", &so, sizeof(so));
    assert_true(plugin_elf_exports(bad, &names, &err) < 0);
    assert_non_null(strstr(err->msg, "corrupt ELF section table"));
    error_free(&err);

    build_so(&so);
    so.syms[2].st_name = 5000;
    _cleanup_free_ char *name = write_tmp("name.so", &so, sizeof(so));
    assert_true(plugin_elf_exports(name, &names, &err) < 0);
    assert_non_null(strstr(err->msg, "corrupt symbol name"));
    error_free(&err);

    build_so(&so);
    so.sh[1].sh_type = SHT_PROGBITS;
    _cleanup_free_ char *nodyn = write_tmp("nodyn.so", &so, sizeof(so));
    assert_true(plugin_elf_exports(nodyn, &names, &err) < 0);
    assert_non_null(strstr(err->msg, "no dynamic symbol table"));
    assert_null(names);
}

static void test_conformance_tar(void **state)
{
    (void)state;
    static const struct conf_tar_entry entries[] = {
        {'d', 0755, "etc/", NULL},
        {'f', 0600, "etc/a.txt", "hello\n"},
        {'l', 0777, "link", "etc/a.txt"},
        {'f', 0644, "empty", ""},
    };
    _cleanup_free_ char *path = NULL;
    assert_true(asprintf(&path, "%s/layer.tar", dir) > 0);
    assert_int_equal(conf_write_tar(path, entries, 4), 0);
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_filename(a, path, 4096), ARCHIVE_OK);
    struct archive_entry *e;
    int n = 0;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        assert_string_equal(archive_entry_pathname(e), entries[n].name);
        if (entries[n].type == 'f') {
            char buf[64] = "";
            la_ssize_t got = archive_read_data(a, buf, sizeof(buf) - 1);
            assert_int_equal(got, (la_ssize_t)strlen(entries[n].data));
            assert_string_equal(buf, entries[n].data);
            assert_int_equal(archive_entry_perm(e), entries[n].mode);
        } else if (entries[n].type == 'l') {
            assert_string_equal(archive_entry_symlink(e), "etc/a.txt");
        } else {
            assert_int_equal(archive_entry_filetype(e), AE_IFDIR);
        }
        n++;
    }
    assert_int_equal(n, 4);
    archive_read_free(a);

    char d1[72], d2[72];
    conf_fake_digest("one", d1);
    conf_fake_digest("two", d2);
    assert_int_equal(strlen(d1), 7 + 64);
    assert_memory_equal(d1, "sha256:", 7);
    assert_string_not_equal(d1, d2);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return conf_rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exports),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_conformance_tar),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
