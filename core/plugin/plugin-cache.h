/*
 * The plugin descriptor cache: what each .so of the plugin path is (name and
 * kind, or why it was refused), keyed by the file's identity (device, inode,
 * size, modification time), so that a command can dlopen only the plugins it
 * calls. dlopen of a network driver drags in its libraries (netlink,
 * netfilter) and costs milliseconds; a container run with `--network none`
 * has no use for them.
 *
 * The cache lives in the run dir: it is rebuilt after a reboot, and any
 * change to the plugin path (a file added, removed, replaced or touched, a
 * directory added or removed, another berth version) is a miss, after which
 * the caller loads every plugin and writes the cache anew.
 */
#ifndef BERTH_PLUGIN_CACHE_H
#define BERTH_PLUGIN_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct plugin_file {
    char *path;
    unsigned long long dev, ino;
    long long size, mtime_ns;
    /* Known once loaded, or from the cache: */
    char *name;    /* NULL if the descriptor was never read */
    uint32_t kind; /* BERTH_KIND_*, 0 if unknown */
    char *refused; /* why the descriptor was refused, NULL if it was acceptable */
};

/*
 * The *.so files of each directory of DIRS (NULL-terminated), in the order a
 * load visits them (directories in order, files sorted by name), with their
 * identity. A missing directory is skipped.
 */
int plugin_files_scan(char *const *dirs, struct plugin_file **ret, size_t *ret_n);
void plugin_files_free(struct plugin_file *files, size_t n);

/*
 * Fills name, kind and refused of FILES from the cache at CACHE_PATH if the
 * cache describes exactly these files of these DIRS. Returns 1 on a hit, 0
 * on a miss (absent, stale or unreadable cache: never an error).
 */
int plugin_cache_read(const char *cache_path, char *const *dirs, struct plugin_file *files,
                      size_t n);
/* Writes the cache; a failure only costs the next command a full load. */
void plugin_cache_write(const char *cache_path, char *const *dirs, const struct plugin_file *files,
                        size_t n);

#endif
