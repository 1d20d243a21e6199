/*
 * cron_asynq: what cron shares with asynq's scheduler format and with
 * looklook-cli: Redis key names, stable entry IDs, Go duration text, and
 * the SchedulerEntry / SchedulerEnqueueEvent encoders
 * (docs/asynq-compat.md 3.2, 11).
 */
#ifndef CRON_ASYNQ_H_INCLUDED
#define CRON_ASYNQ_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

/* Keys.  The per-entry state and the run-request list are looklook's own;
 * the rest is asynq's layout, read by asynqmon and the asynq CLI. */
#define CRON_KEY_STATE      "looklook:cron:state:"      /* + entry id */
#define CRON_KEY_RUN        "looklook:cron:run"
#define CRON_KEY_REPLY      "looklook:cron:reply:"      /* + request id */
#define CRON_KEY_LEADER     "looklook:cron:leader"
#define CRON_KEY_NAMES      "looklook:cron:names"       /* uuid -> id */
#define CRON_KEY_SCHEDULERS "asynq:schedulers"
#define CRON_KEY_HISTORY    "asynq:scheduler_history:"  /* + entry uuid */

/* Go's zero time.Time as a Timestamp: "never run" (docs/asynq-compat.md 3.2). */
#define CRON_GO_ZERO_TIME   (-62135596800LL)

/*
 * The stable asynq entry ID of looklook entry `id`: a name-based UUID
 * (version 5, SHA-1) in looklook's cron namespace, so every instance and
 * every reload gives an entry the same ID and shares its history.
 * out: 37 bytes.  @locality any thread
 */
void cron_entry_uuid(const char *id, char out[37]);

/* Go's Duration.String() of ms: "0s", "250ms", "1.5s", "2m30s",
 * "1h0m0s".  @locality any thread */
void cron_go_duration(int64_t ms, char *buf, size_t len);

/* Go's %q of s: "\"critical\"".  @locality any thread */
void cron_go_quote(const char *s, char *buf, size_t len);

/*
 * Encode a SchedulerEntry; next/prev in Unix seconds, prev = 0 meaning
 * "never" (written as Go's zero time).  Returns a malloc'ed buffer owned
 * by the caller and its length in *len, or NULL when out of memory.
 * @locality any thread
 */
uint8_t *cron_encode_entry(const char *uuid, const char *spec,
    const char *type, const void *payload, size_t payload_len,
    char **options, size_t noptions, int64_t next, int64_t prev,
    size_t *len);

/* Encode a SchedulerEnqueueEvent; as cron_encode_entry. */
uint8_t *cron_encode_event(const char *task_id, int64_t enqueue_time,
    size_t *len);

#endif /* CRON_ASYNQ_H_INCLUDED */
