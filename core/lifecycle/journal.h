/*
 * The transaction journal of one container: an append-only file of JSON
 * lines, each naming what undoes a finished step. Appends are plain
 * write(2)s with O_APPEND: they survive the death of berth (the page cache
 * outlives a killed process), and a reboot kills containers anyway, after
 * which gc reconciles by id. Rolling back runs the undos newest first.
 */
#ifndef BERTH_JOURNAL_H
#define BERTH_JOURNAL_H

#include <cjson/cJSON.h>

#include "util/error.h"

struct journal;

/* Called for each undo entry, newest first; a failure is logged and the
 * rollback goes on, since every undo is idempotent. */
typedef int (*journal_undo_fn)(void *ctx, const cJSON *entry, struct error **err);

/* Opens (creating, empty) the journal at PATH. */
int journal_open(const char *path, struct journal **ret, struct error **err);
/* Appends ENTRY as one line. */
int journal_append(struct journal *j, const cJSON *entry, struct error **err);
/* Forgets every entry: the steps so far are committed. */
int journal_commit(struct journal *j, struct error **err);
/* Runs every entry's undo newest first, then empties the journal. Returns
 * the number of undos that failed. */
int journal_rollback(struct journal *j, journal_undo_fn fn, void *ctx);
/* Closes and deletes the journal file. */
void journal_close_remove(struct journal *j);
/* Closes, keeping the file (the caller died is simulated in tests). */
void journal_close(struct journal *j);

/*
 * Rolls back the journal file at PATH left by a dead process: reads every
 * complete line (a torn last line is ignored), runs the undos newest first,
 * and deletes the file. A missing file is success.
 */
int journal_recover(const char *path, journal_undo_fn fn, void *ctx);

#endif
