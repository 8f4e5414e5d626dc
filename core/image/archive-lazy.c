#define ARCHIVE_LAZY_IMPLEMENTATION
#include "image/archive-lazy.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#define ARCHIVE_LAZY_DEFINE(f) __typeof__(f) *lazy_##f;
ARCHIVE_LAZY_FUNCS(ARCHIVE_LAZY_DEFINE)
#undef ARCHIVE_LAZY_DEFINE

static void *archive_handle;

int archive_lazy_load(struct error **err)
{
    if (archive_handle)
        return 0;
    /* The soname Debian 12's libarchive13 package ships. */
    void *h = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return error_set_plain(err, ENOENT, "load libarchive: %s", dlerror());
#define ARCHIVE_LAZY_RESOLVE(f)                                                                    \
    *(void **)&lazy_##f = dlsym(h, #f);                                                            \
    if (!lazy_##f) {                                                                               \
        dlclose(h);                                                                                \
        return error_set_plain(err, ENOENT, "load libarchive: no symbol '%s'", #f);                \
    }
    ARCHIVE_LAZY_FUNCS(ARCHIVE_LAZY_RESOLVE)
#undef ARCHIVE_LAZY_RESOLVE
    archive_handle = h;
    return 0;
}

void archive_lazy_unload(void)
{
    if (!archive_handle)
        return;
    dlclose(archive_handle);
    archive_handle = NULL;
#define ARCHIVE_LAZY_CLEAR(f) lazy_##f = NULL;
    ARCHIVE_LAZY_FUNCS(ARCHIVE_LAZY_CLEAR)
#undef ARCHIVE_LAZY_CLEAR
}
