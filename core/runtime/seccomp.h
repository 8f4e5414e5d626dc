/*
 * seccomp filters with libseccomp, from profiles in docker's JSON format
 * (seccomp-profile.h).
 *
 * Two steps, as docker and runc split them:
 *  - at create, seccomp_profile_to_oci() resolves a profile for this
 *    machine and the container's capabilities (docker's includes/excludes:
 *    caps, arches, minKernel; archMap) into the OCI runtime-spec's
 *    linux.seccomp object, which bundle-write.c puts in config.json;
 *  - in the runtime, the last step before execve (after capabilities and
 *    no_new_privs), seccomp_apply_from_config() compiles cfg->seccomp (parsed
 *    from config.json by the same parser) and loads it.
 *
 * `berth exec` must apply the container's filter to the process it starts
 * the same way: load config.json with oci_config_load() and call
 * seccomp_apply_from_config() just before its execve, after dropping
 * capabilities and setting no_new_privs. With cfg->seccomp NULL (privileged,
 * seccomp=unconfined) it does nothing.
 *
 * Denied calls return the profile's errno (EPERM in the default profile).
 * Syscalls newer than every syscall the profile names (numbers above the
 * highest one it mentions) get ENOSYS instead, so that a newer libc falls
 * back to an older call, as runc does; clone3 gets ENOSYS from the profile
 * itself.
 */
#ifndef BERTH_SECCOMP_H
#define BERTH_SECCOMP_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "runtime/runtime-internal.h"
#include "runtime/seccomp-profile.h"
#include "util/error.h"

/* Every syscall name and architecture is known to libseccomp (for some arch). */
int seccomp_profile_check(const struct seccomp_profile *p, struct error **err);

/*
 * Resolves P for the native architecture, the running kernel and the
 * capability set CAPS (bit N = capability N, the container's bounding set)
 * into an OCI linux.seccomp object (*RET, the caller deletes it).
 */
int seccomp_profile_to_oci(const struct seccomp_profile *p, uint64_t caps, cJSON **ret,
                           struct error **err);

/* An opaque, compiled but not yet loaded filter (libseccomp's context). */
struct seccomp_filter_ctx;
int seccomp_filter_build(const struct seccomp_profile *p, uint64_t caps,
                         struct seccomp_filter_ctx **ret, struct error **err);
/* Loads the filter into the calling thread (no_new_privs must be set, or CAP_SYS_ADMIN held). */
int seccomp_filter_load(struct seccomp_filter_ctx *ctx, struct error **err);
void seccomp_filter_free(struct seccomp_filter_ctx *ctx);

/*
 * The compiled filter of OCI (a resolved linux.seccomp object) from the
 * cache in CACHE_DIR, compiled and stored there first when missing; *RET_PATH
 * (caller frees) names the file, which config.json refers to under
 * "org.berth.seccomp": {"bpf": PATH}. Compiling docker's profile costs
 * 50-200 ms here; reading the file, microseconds.
 */
int seccomp_bpf_cache(const char *cache_dir, const cJSON *oci, char **ret_path, struct error **err);
/*
 * Reads the program cached at PATH if it was compiled from exactly OCI_JSON
 * (the printed linux.seccomp) by this libseccomp for this architecture.
 * Returns 0 with *RET (malloc'd sock_filter array) and *RET_LEN
 * (instructions), or -errno: the caller then compiles.
 */
int seccomp_bpf_read(const char *path, const char *oci_json, void **ret, size_t *ret_len);
/* Loads a BPF program of N instructions into the calling thread. */
int seccomp_bpf_load(const void *prog, size_t n, struct error **err);

/*
 * Builds and loads cfg->seccomp, for the calling process, with the
 * bounding set of CFG, or loads cfg->seccomp_bpf, the same filter compiled
 * at create (seccomp_bpf_cache), when config.json named one. Does nothing
 * when cfg->seccomp is NULL. For `berth exec` (see above).
 */
int seccomp_apply_from_config(const struct oci_config *cfg, struct error **err);

#endif
