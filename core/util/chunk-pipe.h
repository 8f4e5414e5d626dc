/*
 * A bounded byte pipe with its own consumer thread: one producer copies
 * bytes in (blocking while the pipe is full), the thread hands them to a
 * consume function in the order written. A download uses it to decompress
 * and hash a layer on another core while it receives (registry-client.c).
 *
 * The consume function runs on the pipe's thread only; it returns 0 or a
 * negative errno, and after its first failure it is not called again: the
 * producer sees the failure on its next write or at finish.
 */
#ifndef BERTH_CHUNK_PIPE_H
#define BERTH_CHUNK_PIPE_H

#include <stddef.h>

typedef int (*chunk_consume_fn)(void *userdata, const void *data, size_t len);

struct chunk_pipe;

/* Starts the thread. CAPACITY bytes are buffered at most. Returns 0 or -errno. */
int chunk_pipe_start(size_t capacity, chunk_consume_fn consume, void *userdata,
                     struct chunk_pipe **ret);

/* Copies LEN bytes in, waiting for room. Returns 0, or the consumer's failure. */
int chunk_pipe_write(struct chunk_pipe *p, const void *data, size_t len);

/* The bytes in the pipe that the consumer has not taken yet. */
size_t chunk_pipe_pending(struct chunk_pipe *p);

/*
 * Ends the stream: waits until the consumer took every byte, joins the
 * thread and frees P. Returns 0 or the consumer's first failure.
 */
int chunk_pipe_finish(struct chunk_pipe *p);

/* Stops the consumer (what is still buffered is dropped), joins, frees. Accepts NULL. */
void chunk_pipe_abort(struct chunk_pipe *p);

#endif
