/*
 * The libraries image code loads on first use (libarchive and what it
 * needs, ISA-L, zlib, libzstd), unloaded together by a process that will
 * not need them again: a detached container's monitor is forked from the
 * berth that unpacked the image's layers and would otherwise keep them
 * mapped (and their relocated pages resident) for the container's life.
 */
#ifndef BERTH_LAZY_LIBS_H
#define BERTH_LAZY_LIBS_H

/* Safe to call anytime no unpack or diff_id stream is running; a later
 * user loads them again. */
void image_lazy_libraries_unload(void);

#endif
