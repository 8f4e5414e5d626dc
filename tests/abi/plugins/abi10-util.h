/* SPDX-License-Identifier: MIT */
/* Helpers the ABI 1.0 fixtures share; libc only, as a third party's. */
#ifndef ABI10_UTIL_H
#define ABI10_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int abi10_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

/* Removes PATH and everything below it; absent is fine. */
static inline int abi10_rm_rf(const char *path)
{
    if (access(path, F_OK) < 0)
        return 0;
    return nftw(path, abi10_rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -EIO : 0;
}

/* [A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 bytes: no '/', no "..". */
static inline int abi10_name_ok(const char *name)
{
    if (!name || !*name || strlen(name) > 128 ||
        !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", name[0]))
        return 0;
    for (const char *p = name; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *p))
            return 0;
    return strstr(name, "..") == NULL;
}

static inline int abi10_listed(const char *const *ids, uint32_t n, const char *id)
{
    for (uint32_t i = 0; ids && i < n; i++)
        if (ids[i] && !strcmp(ids[i], id))
            return 1;
    return 0;
}

#endif
