/*
 * Reading a plugin file as ELF without loading it: `berth plugin check`
 * says "not an ELF shared object" or "exports 'helper' besides the entry"
 * before dlopen() runs a line of the plugin's code.
 */
#ifndef BERTH_PLUGIN_ELF_H
#define BERTH_PLUGIN_ELF_H

#include "util/error.h"

/*
 * Reads PATH's .dynsym and stores in *RET_NAMES (NULL-terminated, caller
 * frees with strv_free) the names of every defined, exported dynamic symbol:
 * binding GLOBAL, WEAK or GNU_UNIQUE, visibility default or protected, in a
 * real section (version-definition symbols, which are absolute, are skipped).
 * Fails with a message saying what PATH is instead: not ELF, another class or
 * machine than this berth's, not a shared object, no dynamic symbol table.
 */
int plugin_elf_exports(const char *path, char ***ret_names, struct error **err);

#endif
