/*
 * libarchive, loaded on first use. Linking it would load libxml2, ICU and
 * libstdc++ into every berth process — about 3 ms per exec on these
 * machines, paid twice by `run` (the sealed re-exec) — while only image
 * imports, layer unpacks and commits (layer-pack.c) need it. Include this
 * instead of <archive.h>; call archive_lazy_load() before the first
 * archive_* call.
 */
#ifndef BERTH_ARCHIVE_LAZY_H
#define BERTH_ARCHIVE_LAZY_H

#include <archive.h>
#include <archive_entry.h>

#include "util/error.h"

/* Loads libarchive once (RTLD_NOW | RTLD_LOCAL). */
int archive_lazy_load(struct error **err);
/* Unloads it (and what it alone needed); the next archive_lazy_load loads it again. */
void archive_lazy_unload(void);

#define ARCHIVE_LAZY_FUNCS(X)                                                                      \
    X(archive_entry_atime)                                                                         \
    X(archive_entry_atime_is_set)                                                                  \
    X(archive_entry_atime_nsec)                                                                    \
    X(archive_entry_filetype)                                                                      \
    X(archive_entry_gid)                                                                           \
    X(archive_entry_hardlink)                                                                      \
    X(archive_entry_mtime)                                                                         \
    X(archive_entry_mtime_nsec)                                                                    \
    X(archive_entry_pathname)                                                                      \
    X(archive_entry_perm)                                                                          \
    X(archive_entry_rdev)                                                                          \
    X(archive_entry_size)                                                                          \
    X(archive_entry_size_is_set)                                                                   \
    X(archive_entry_symlink)                                                                       \
    X(archive_entry_uid)                                                                           \
    X(archive_entry_xattr_next)                                                                    \
    X(archive_entry_xattr_reset)                                                                   \
    X(archive_errno)                                                                               \
    X(archive_error_string)                                                                        \
    X(archive_read_data)                                                                           \
    X(archive_read_data_block)                                                                     \
    X(archive_read_free)                                                                           \
    X(archive_read_new)                                                                            \
    X(archive_read_next_header)                                                                    \
    X(archive_read_open)                                                                           \
    X(archive_read_open_fd)                                                                        \
    X(archive_read_open_filename)                                                                  \
    X(archive_read_support_filter_gzip)                                                            \
    X(archive_read_support_filter_xz)                                                              \
    X(archive_read_support_filter_zstd)                                                            \
    X(archive_read_support_format_raw)                                                             \
    X(archive_read_support_format_tar)                                                             \
    X(archive_set_error)                                                                           \
    X(archive_entry_clear)                                                                         \
    X(archive_entry_free)                                                                          \
    X(archive_entry_new)                                                                           \
    X(archive_entry_set_filetype)                                                                  \
    X(archive_entry_set_gid)                                                                       \
    X(archive_entry_set_hardlink)                                                                  \
    X(archive_entry_set_mtime)                                                                     \
    X(archive_entry_set_pathname)                                                                  \
    X(archive_entry_set_perm)                                                                      \
    X(archive_entry_set_rdev)                                                                      \
    X(archive_entry_set_size)                                                                      \
    X(archive_entry_set_symlink)                                                                   \
    X(archive_entry_set_uid)                                                                       \
    X(archive_entry_xattr_add_entry)                                                               \
    X(archive_write_add_filter_gzip)                                                               \
    X(archive_write_close)                                                                         \
    X(archive_write_data)                                                                          \
    X(archive_write_free)                                                                          \
    X(archive_write_header)                                                                        \
    X(archive_write_new)                                                                           \
    X(archive_write_open_fd)                                                                       \
    X(archive_write_set_bytes_in_last_block)                                                       \
    X(archive_write_set_filter_option)                                                             \
    X(archive_write_set_format_pax_restricted)                                                     \
    X(archive_write_set_format_raw)

#define ARCHIVE_LAZY_DECLARE(f) extern __typeof__(f) *lazy_##f;
ARCHIVE_LAZY_FUNCS(ARCHIVE_LAZY_DECLARE)
#undef ARCHIVE_LAZY_DECLARE

#ifndef ARCHIVE_LAZY_IMPLEMENTATION
#define archive_entry_atime (*lazy_archive_entry_atime)
#define archive_entry_atime_is_set (*lazy_archive_entry_atime_is_set)
#define archive_entry_atime_nsec (*lazy_archive_entry_atime_nsec)
#define archive_entry_filetype (*lazy_archive_entry_filetype)
#define archive_entry_gid (*lazy_archive_entry_gid)
#define archive_entry_hardlink (*lazy_archive_entry_hardlink)
#define archive_entry_mtime (*lazy_archive_entry_mtime)
#define archive_entry_mtime_nsec (*lazy_archive_entry_mtime_nsec)
#define archive_entry_pathname (*lazy_archive_entry_pathname)
#define archive_entry_perm (*lazy_archive_entry_perm)
#define archive_entry_rdev (*lazy_archive_entry_rdev)
#define archive_entry_size (*lazy_archive_entry_size)
#define archive_entry_size_is_set (*lazy_archive_entry_size_is_set)
#define archive_entry_symlink (*lazy_archive_entry_symlink)
#define archive_entry_uid (*lazy_archive_entry_uid)
#define archive_entry_xattr_next (*lazy_archive_entry_xattr_next)
#define archive_entry_xattr_reset (*lazy_archive_entry_xattr_reset)
#define archive_errno (*lazy_archive_errno)
#define archive_error_string (*lazy_archive_error_string)
#define archive_read_data (*lazy_archive_read_data)
#define archive_read_data_block (*lazy_archive_read_data_block)
#define archive_read_free (*lazy_archive_read_free)
#define archive_read_new (*lazy_archive_read_new)
#define archive_read_next_header (*lazy_archive_read_next_header)
#define archive_read_open (*lazy_archive_read_open)
#define archive_read_open_fd (*lazy_archive_read_open_fd)
#define archive_read_open_filename (*lazy_archive_read_open_filename)
#define archive_read_support_filter_gzip (*lazy_archive_read_support_filter_gzip)
#define archive_read_support_filter_xz (*lazy_archive_read_support_filter_xz)
#define archive_read_support_filter_zstd (*lazy_archive_read_support_filter_zstd)
#define archive_read_support_format_raw (*lazy_archive_read_support_format_raw)
#define archive_read_support_format_tar (*lazy_archive_read_support_format_tar)
#define archive_set_error (*lazy_archive_set_error)
#define archive_entry_clear (*lazy_archive_entry_clear)
#define archive_entry_free (*lazy_archive_entry_free)
#define archive_entry_new (*lazy_archive_entry_new)
#define archive_entry_set_filetype (*lazy_archive_entry_set_filetype)
#define archive_entry_set_gid (*lazy_archive_entry_set_gid)
#define archive_entry_set_hardlink (*lazy_archive_entry_set_hardlink)
#define archive_entry_set_mtime (*lazy_archive_entry_set_mtime)
#define archive_entry_set_pathname (*lazy_archive_entry_set_pathname)
#define archive_entry_set_perm (*lazy_archive_entry_set_perm)
#define archive_entry_set_rdev (*lazy_archive_entry_set_rdev)
#define archive_entry_set_size (*lazy_archive_entry_set_size)
#define archive_entry_set_symlink (*lazy_archive_entry_set_symlink)
#define archive_entry_set_uid (*lazy_archive_entry_set_uid)
#define archive_entry_xattr_add_entry (*lazy_archive_entry_xattr_add_entry)
#define archive_write_add_filter_gzip (*lazy_archive_write_add_filter_gzip)
#define archive_write_close (*lazy_archive_write_close)
#define archive_write_data (*lazy_archive_write_data)
#define archive_write_free (*lazy_archive_write_free)
#define archive_write_header (*lazy_archive_write_header)
#define archive_write_new (*lazy_archive_write_new)
#define archive_write_open_fd (*lazy_archive_write_open_fd)
#define archive_write_set_bytes_in_last_block (*lazy_archive_write_set_bytes_in_last_block)
#define archive_write_set_filter_option (*lazy_archive_write_set_filter_option)
#define archive_write_set_format_pax_restricted (*lazy_archive_write_set_format_pax_restricted)
#define archive_write_set_format_raw (*lazy_archive_write_set_format_raw)
#endif

#endif
