/* The exported dynamic symbols of an ELF shared object, read with <elf.h>. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "plugin/plugin-elf.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

#if __SIZEOF_POINTER__ == 8
#define HOST_CLASS ELFCLASS64
#else
#define HOST_CLASS ELFCLASS32
#endif

struct mapping {
    void *addr;
    size_t len;
};

static void unmapp(struct mapping *m)
{
    if (m->addr && m->addr != MAP_FAILED)
        munmap(m->addr, m->len);
}

/* Whether [OFF, OFF+LEN) lies inside a file of SIZE bytes. */
static int in_file(size_t size, uint64_t off, uint64_t len)
{
    return off <= size && len <= size - off;
}

static int push_name(char ***names, size_t *n, const char *name)
{
    char **grown = realloc(*names, (*n + 2) * sizeof(char *));
    if (!grown)
        return -ENOMEM;
    *names = grown;
    grown[*n] = strdup(name);
    if (!grown[*n])
        return -ENOMEM;
    grown[++*n] = NULL;
    return 0;
}

int plugin_elf_exports(const char *path, char ***ret_names, struct error **err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, errno, "cannot open '%s'", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return error_set(err, errno, "cannot read '%s'", path);
    if (!S_ISREG(st.st_mode))
        return error_set_plain(err, EINVAL, "'%s' is not a regular file", path);
    size_t size = (size_t)st.st_size;
    struct mapping m _cleanup_(unmapp) = {NULL, size};
    if (size >= EI_NIDENT) {
        m.addr = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m.addr == MAP_FAILED)
            return error_set(err, errno, "cannot map '%s'", path);
    }
    const unsigned char *base = m.addr;
    if (size < EI_NIDENT || memcmp(base, ELFMAG, SELFMAG) != 0)
        return error_set_plain(err, ENOEXEC,
                               "'%s' is not an ELF file: build the plugin as a shared object "
                               "(add_library(... MODULE) or cc -shared)",
                               path);
    if (base[EI_CLASS] != HOST_CLASS)
        return error_set_plain(err, ENOEXEC, "'%s' is a %d-bit ELF file, berth is %d-bit", path,
                               base[EI_CLASS] == ELFCLASS64 ? 64 : 32,
                               HOST_CLASS == ELFCLASS64 ? 64 : 32);
    if (size < sizeof(ElfW(Ehdr)))
        return error_set_plain(err, ENOEXEC, "'%s': truncated ELF header", path);
    const ElfW(Ehdr) *eh = m.addr;
    if (eh->e_type != ET_DYN)
        return error_set_plain(err, ENOEXEC,
                               "'%s' is an ELF %s, not a shared object: link it with -shared", path,
                               eh->e_type == ET_EXEC ? "executable" : "relocatable object");
    if (eh->e_shentsize != sizeof(ElfW(Shdr)) ||
        !in_file(size, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(ElfW(Shdr))))
        return error_set_plain(err, ENOEXEC, "'%s': corrupt ELF section table", path);
    const ElfW(Shdr) *sh = (const void *)(base + eh->e_shoff);
    const ElfW(Shdr) *dynsym = NULL;
    for (size_t i = 0; i < eh->e_shnum; i++)
        if (sh[i].sh_type == SHT_DYNSYM)
            dynsym = &sh[i];
    if (!dynsym)
        return error_set_plain(err, ENOEXEC,
                               "'%s' has no dynamic symbol table: it exports nothing, not even "
                               "berth_plugin_entry",
                               path);
    if (dynsym->sh_link >= eh->e_shnum || dynsym->sh_entsize != sizeof(ElfW(Sym)) ||
        !in_file(size, dynsym->sh_offset, dynsym->sh_size))
        return error_set_plain(err, ENOEXEC, "'%s': corrupt .dynsym", path);
    const ElfW(Shdr) *strtab = &sh[dynsym->sh_link];
    if (!in_file(size, strtab->sh_offset, strtab->sh_size) || strtab->sh_size == 0)
        return error_set_plain(err, ENOEXEC, "'%s': corrupt .dynstr", path);
    const char *strs = (const char *)base + strtab->sh_offset;
    const ElfW(Sym) *syms = (const void *)(base + dynsym->sh_offset);
    size_t n_syms = dynsym->sh_size / sizeof(ElfW(Sym));

    _cleanup_strv_ char **names = calloc(1, sizeof(char *));
    size_t n = 0;
    if (!names)
        return error_set(err, ENOMEM, "read '%s'", path);
    for (size_t i = 1; i < n_syms; i++) {
        const ElfW(Sym) *s = &syms[i];
        unsigned bind = ELF64_ST_BIND(s->st_info);
        unsigned vis = ELF64_ST_VISIBILITY(s->st_other);
        if (s->st_shndx == SHN_UNDEF || s->st_shndx == SHN_ABS)
            continue;
        if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
            continue;
        if (vis != STV_DEFAULT && vis != STV_PROTECTED)
            continue;
        if (s->st_name >= strtab->sh_size ||
            !memchr(strs + s->st_name, '\0', strtab->sh_size - s->st_name))
            return error_set_plain(err, ENOEXEC, "'%s': corrupt symbol name", path);
        if (push_name(&names, &n, strs + s->st_name) < 0)
            return error_set(err, ENOMEM, "read '%s'", path);
    }
    *ret_names = TAKE_PTR(names);
    return 0;
}
