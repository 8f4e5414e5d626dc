/* SPDX-License-Identifier: MIT */
/*
 * berth's plugin conformance suites: the contract of <berth/storage.h>,
 * <berth/volume.h>, <berth/network.h> and <berth/hook.h> as executable
 * checks. `berth plugin test FILE.so` loads the plugin, makes new mount and
 * network namespaces and an empty state and run directory, fills a struct
 * conformance and calls the suite of the plugin's kind. Every case prints
 * one line, "ok NAME" or "FAIL NAME: why".
 *
 * The suites use only the SDK headers and libc, so that a plugin author can
 * read them as the specification of what berth expects: what each operation
 * is called with, in which order, and what must hold afterwards.
 */
#ifndef BERTH_CONFORMANCE_H
#define BERTH_CONFORMANCE_H

#include <stddef.h>

#include <berth/hook.h>
#include <berth/network.h>
#include <berth/storage.h>
#include <berth/volume.h>

#define CONF_MAX_MOUNTS 16
#define CONF_MAX_TRACKED 64

/* The mounts one prepare (or volume mount) reported, copied. */
struct conf_mounts {
    unsigned n;
    struct {
        char type[64];
        char source[1024];
        char target[1024];
        char options[4096];
    } m[CONF_MAX_MOUNTS];
    int overflow;
};

/* A plugin loaded beside the one under test (network: the drivers that join
 * before it in the chain, e.g. bridge before nat). */
struct conf_plugin {
    const struct berth_plugin_descriptor *desc;
    void *state;
    const struct berth_services *services;
};

struct conformance {
    /* Filled by the runner. */
    const struct berth_plugin_descriptor *desc;
    void *state; /* what the plugin's init stored */
    const struct berth_services *services;
    /* The error object every operation receives; error_text gives what the
     * plugin set with set_error (NULL if nothing), error_reset clears it. */
    struct berth_error *err;
    const char *(*error_text)(struct conformance *c);
    void (*error_reset)(struct conformance *c);
    void *runner;
    /* An empty scratch directory for layer tars, mount points and netns
     * files; it is on the filesystem of the plugin's state dir. */
    const char *work_dir;
    /* A word unique to this run, part of every id the suite makes. */
    const char *token;
    int verbose;
    /* Parallel workers for the concurrency cases. */
    unsigned concurrency;
    /* Network: drivers whose join runs before the plugin's (may be empty). */
    const struct conf_plugin *chain;
    unsigned n_chain;

    /* Counted by the suite. */
    unsigned n_ok, n_fail, n_skip;
    /* Names of objects (container ids, volume and network names, layer
     * hashes) the suite made: the runner looks for them in the state and run
     * dirs after the suite, where nothing may remain. */
    char tracked[CONF_MAX_TRACKED][160];
    unsigned n_tracked;
};

/* The suites; each returns the number of failed cases. */
int conformance_storage(struct conformance *c);
int conformance_volume(struct conformance *c);
int conformance_network(struct conformance *c);
int conformance_hook(struct conformance *c);
/* Runs the suite of c->desc->kind. */
int conformance_run(struct conformance *c);

/* --- helpers shared by the suites (conformance-util.c) ------------------ */

void conf_ok(struct conformance *c, const char *name);
void conf_fail(struct conformance *c, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void conf_skip(struct conformance *c, const char *name, const char *why);
void conf_note(struct conformance *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Passes NAME if COND, else fails it with the formatted reason. Returns COND. */
int conf_check(struct conformance *c, int cond, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The plugin's message for the last call, or "(no message)"; resets it. */
const char *conf_why(struct conformance *c, int r);
void conf_track(struct conformance *c, const char *name);

/* Result sinks handed to the plugin. */
void conf_prepare_result(struct berth_storage_prepare_result *res, struct conf_mounts *mounts);
struct conf_text {
    char text[16384];
    int set;
};
void conf_text_result(struct berth_text_result *res, struct conf_text *text);

/* One entry of a layer tar: 'f' file, 'd' directory, 'l' symlink. */
struct conf_tar_entry {
    char type;
    unsigned mode;
    const char *name;
    const char *data; /* file content or symlink target */
};
/* Writes an uncompressed POSIX ustar archive of ENTRIES at PATH. */
int conf_write_tar(const char *path, const struct conf_tar_entry *entries, size_t n);
/* "sha256:" and 64 hex digits derived from TEXT (an id, not a digest). */
void conf_fake_digest(const char *text, char out[72]);

/*
 * Performs MOUNTS below ROOT (an existing directory) in this process's mount
 * namespace as berth's runtime would inside a container: "bind" mounts as
 * bind (rbind: recursive), then a read-only remount if "ro" is among the
 * options; other types with the flags they name and the rest as data.
 * Returns 0 or -errno with the failing mount in WHY.
 */
int conf_do_mounts(const struct conf_mounts *mounts, const char *root, char *why, size_t why_len);
/* Unmounts everything at and below ROOT, deepest first. */
void conf_undo_mounts(const char *root);
/* The number of mount points at or below PATH in this namespace. */
int conf_count_mounts(const char *path);

int conf_write_file(const char *path, const char *data);
/* Reads at most LEN-1 bytes of PATH into BUF. Returns 0 or -errno. */
int conf_read_file(const char *path, char *buf, size_t len);
int conf_exists(const char *path);
int conf_mkdir_p(const char *path);
int conf_rm_rf(const char *path);
/* Whether any file below DIR has a name containing NEEDLE. Stores the path.
 * A directory ".locks" (the host's lock files, berth_services.lock) is skipped. */
int conf_find_name(const char *dir, const char *needle, char *found, size_t len);

/* The netfilter rules of this network namespace as iptables-legacy-save,
 * iptables-nft-save (rules and user chains only: the kernel's empty tables
 * and built-in chains are nobody's) and nft list ruleset print them, where
 * those tools are installed; empty otherwise. */
void conf_netfilter_rules(char *buf, size_t len);

/* Runs FN(c, i, arg) in N forked children at once; returns how many failed
 * (exit status != 0); each child's own cases are reported by it. */
int conf_parallel(struct conformance *c, unsigned n,
                  int (*fn)(struct conformance *c, unsigned i, void *arg), void *arg);

#endif
