/*
 * Signals and waiting for containers, whoever owns them (a monitor for a
 * detached one, the foreground berth otherwise): a container is running
 * while its record lock is held, and its owner does the stop transaction
 * when the process ends. These calls only signal and wait on that lock.
 */
#ifndef BERTH_CONTAINER_CONTROL_H
#define BERTH_CONTAINER_CONTROL_H

#include <cjson/cJSON.h>

#include "lifecycle/engine.h"

/* Sends SIG to REF's process; an error if it is not running. */
int container_kill(struct engine *e, const char *ref, int sig, struct error **err);
/*
 * Stops REF: tells its monitor not to restart it, sends the stop signal
 * (--stop-signal, default SIGTERM), SIGKILL after TIMEOUT_S seconds (< 0:
 * 10), and returns once the owner finished the stop transaction. A container
 * that is not running is left as it is (success).
 */
int container_stop(struct engine *e, const char *ref, int timeout_s, struct error **err);
/* Waits until REF is not running; *RET_STATUS: its exit status. */
int container_wait(struct engine *e, const char *ref, int *ret_status, struct error **err);
/* 1 if ID's record lock is held (a transaction or a running container). */
int container_lock_held(struct engine *e, const char *id);
/* Tells REC's monitor (if any) that the user ends the container: no restart. */
void container_tell_monitor_stop(const cJSON *rec);

#endif
