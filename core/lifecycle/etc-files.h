/*
 * A container's /etc/hosts, /etc/resolv.conf and /etc/hostname, as docker
 * and podman give them: written into the bundle at every start (the
 * container's address may change) and bind-mounted over the image's files,
 * except where the user mounts something of their own (docs/networking.md
 * "Names and DNS").
 */
#ifndef BERTH_ETC_FILES_H
#define BERTH_ETC_FILES_H

#include <cjson/cJSON.h>

#include "runtime/runtime.h"
#include "util/error.h"

/* Docker's servers when the host's are all unusable in a container. */
#define ETC_FALLBACK_DNS "8.8.8.8", "8.8.4.4"

/*
 * Pure: the container's resolv.conf from the host's HOST_TEXT (may be
 * NULL). Nameservers on loopback reach nothing in another network
 * namespace and are dropped unless HOST_NETWORK; SERVERS, SEARCH and
 * OPTIONS (--dns, --dns-search, --dns-option; NULL-terminated, may be
 * NULL) replace the host's lines of their kind (a SEARCH of "." alone: no
 * search line). Without any nameserver left, ETC_FALLBACK_DNS, as docker.
 */
char *etc_resolv_conf(const char *host_text, char *const *servers, char *const *search,
                      char *const *options, int host_network);
/* Pure: whether ADDR (text) is a loopback address (127/8, ::1). */
int etc_is_loopback(const char *addr);
/*
 * Pure: the container's /etc/hosts: HOST_TEXT as it is for the host's
 * network, else docker's localhost lines; then EXTRA ("HOST:IP", from
 * --add-host), then HOSTNAME on IP (the container's address without its
 * prefix) or, without one, on 127.0.1.1.
 */
char *etc_hosts(const char *host_text, const char *hostname, const char *ip, char *const *extra);

/*
 * Writes the files of REC's container into DIR and returns in *RET the
 * mounts USER (N of them) followed by a bind of each file whose target, or
 * /etc, no user mount covers (*RET_N of them). The sources are DIR's
 * files; free *RET with free() and its sources with etc_files_free_sources.
 */
int etc_files_prepare(const cJSON *rec, const char *dir, const struct mount_entry *user, size_t n,
                      struct mount_entry **ret, size_t *ret_n, struct error **err);
void etc_files_free_sources(struct mount_entry *m, size_t n_user, size_t n);

#endif
