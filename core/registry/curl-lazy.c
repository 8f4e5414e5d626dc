#define CURL_LAZY_IMPLEMENTATION
#include "registry/curl-lazy.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#define CURL_LAZY_DEFINE(f) __typeof__(f) *lazy_##f;
CURL_LAZY_FUNCS(CURL_LAZY_DEFINE)
#undef CURL_LAZY_DEFINE

static void *curl_handle;

int curl_lazy_load(struct error **err)
{
    if (curl_handle)
        return 0;
    /* The soname of Debian 12's libcurl4 (OpenSSL flavour). */
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return error_set_plain(err, ENOENT, "load libcurl: %s", dlerror());
#define CURL_LAZY_RESOLVE(f)                                                                       \
    *(void **)&lazy_##f = dlsym(h, #f);                                                            \
    if (!lazy_##f) {                                                                               \
        dlclose(h);                                                                                \
        return error_set_plain(err, ENOENT, "load libcurl: no symbol '%s'", #f);                   \
    }
    CURL_LAZY_FUNCS(CURL_LAZY_RESOLVE)
#undef CURL_LAZY_RESOLVE
    if (lazy_curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        dlclose(h);
        return error_set_plain(err, EIO, "load libcurl: global init failed");
    }
    curl_handle = h;
    return 0;
}
