/*
 * libcurl, loaded on first use as image/archive-lazy.h loads libarchive:
 * linking it would load OpenSSL, nghttp2, libssh2, LDAP, Kerberos … into
 * every berth process, while only pull, push and login talk to a registry.
 * Include this instead of <curl/curl.h>; call curl_lazy_load() first.
 */
#ifndef BERTH_CURL_LAZY_H
#define BERTH_CURL_LAZY_H

/* The type-checking macros of curl.h would hide the functions we point at. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
/* ...and the argument-count macros that replace them otherwise. */
#undef curl_easy_setopt
#undef curl_easy_getinfo

#include "util/error.h"

/* Loads libcurl once (RTLD_NOW | RTLD_LOCAL) and runs curl_global_init. */
int curl_lazy_load(struct error **err);

#define CURL_LAZY_FUNCS(X)                                                                         \
    X(curl_global_init)                                                                            \
    X(curl_easy_init)                                                                              \
    X(curl_easy_setopt)                                                                            \
    X(curl_easy_perform)                                                                           \
    X(curl_easy_getinfo)                                                                           \
    X(curl_easy_cleanup)                                                                           \
    X(curl_easy_strerror)                                                                          \
    X(curl_easy_escape)                                                                            \
    X(curl_free)                                                                                   \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)                                                                         \
    X(curl_multi_init)                                                                             \
    X(curl_multi_add_handle)                                                                       \
    X(curl_multi_remove_handle)                                                                    \
    X(curl_multi_perform)                                                                          \
    X(curl_multi_poll)                                                                             \
    X(curl_multi_info_read)                                                                        \
    X(curl_multi_cleanup)                                                                          \
    X(curl_multi_strerror)

#define CURL_LAZY_DECLARE(f) extern __typeof__(f) *lazy_##f;
CURL_LAZY_FUNCS(CURL_LAZY_DECLARE)
#undef CURL_LAZY_DECLARE

#ifndef CURL_LAZY_IMPLEMENTATION
#define curl_global_init (*lazy_curl_global_init)
#define curl_easy_init (*lazy_curl_easy_init)
#define curl_easy_setopt (*lazy_curl_easy_setopt)
#define curl_easy_perform (*lazy_curl_easy_perform)
#define curl_easy_getinfo (*lazy_curl_easy_getinfo)
#define curl_easy_cleanup (*lazy_curl_easy_cleanup)
#define curl_easy_strerror (*lazy_curl_easy_strerror)
#define curl_easy_escape (*lazy_curl_easy_escape)
#define curl_free (*lazy_curl_free)
#define curl_slist_append (*lazy_curl_slist_append)
#define curl_slist_free_all (*lazy_curl_slist_free_all)
#define curl_multi_init (*lazy_curl_multi_init)
#define curl_multi_add_handle (*lazy_curl_multi_add_handle)
#define curl_multi_remove_handle (*lazy_curl_multi_remove_handle)
#define curl_multi_perform (*lazy_curl_multi_perform)
#define curl_multi_poll (*lazy_curl_multi_poll)
#define curl_multi_info_read (*lazy_curl_multi_info_read)
#define curl_multi_cleanup (*lazy_curl_multi_cleanup)
#define curl_multi_strerror (*lazy_curl_multi_strerror)
#endif

#endif
