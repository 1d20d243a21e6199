/*
 * rq_task: asynq key names, TaskMessage building and checking, IDs and
 * times.  Shared by the redisq module and looklook-cli (no core calls).
 */
#ifndef RQ_TASK_H_INCLUDED
#define RQ_TASK_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "asynq.pb-c.h"
#include "lt_clock.h"

#define RQ_QNAME_MAX   200      /* longest queue name we accept */
#define RQ_KEY_MAX     320      /* room for any key built from one */
#define RQ_ID_MAX      120      /* longest task ID we enqueue (ll_result_t
                                 * id); stored IDs are not limited */

/* The extra task-hash field holding the precise due time (Unix ms) of a
 * scheduled or retry task.  asynq readers HMGET only known fields. */
#define RQ_AT_FIELD    "ll_at_ms"

/* asynq's constants (docs/asynq-compat.md 4.1, 6, 9) */
#define RQ_DEFAULT_RETRY      25
#define RQ_DEFAULT_TIMEOUT_S  1800
#define RQ_LEASE_S            30
#define RQ_STATS_TTL_S        (90 * 24 * 3600)
#define RQ_ARCHIVE_MAX        10000     /* keeps 9,999, as asynq */
#define RQ_ARCHIVE_AGE_S      (90 * 24 * 3600)

/* Every key of one queue, built once (docs/asynq-compat.md 2.2). */
typedef struct {
    char    name[RQ_QNAME_MAX + 1];
    char    pending[RQ_KEY_MAX];
    char    active[RQ_KEY_MAX];
    char    lease[RQ_KEY_MAX];
    char    scheduled[RQ_KEY_MAX];
    char    retry[RQ_KEY_MAX];
    char    archived[RQ_KEY_MAX];
    char    completed[RQ_KEY_MAX];
    char    paused[RQ_KEY_MAX];
    char    processed[RQ_KEY_MAX];
    char    failed[RQ_KEY_MAX];
    char    task_prefix[RQ_KEY_MAX];    /* asynq:{q}:t: */
    char    group_prefix[RQ_KEY_MAX];   /* asynq:{q}:g: */
} rq_keys_t;

/* Fill k for queue q.  -1 when q is blank or too long.  @locality any */
int rq_keys_init(rq_keys_t *k, const char *q);

/* asynq:{q}:t:<id> into buf; -1 if it does not fit.  @locality any */
int rq_task_key(char *buf, size_t len, const rq_keys_t *k, const char *id);

/* "asynq:{q}:processed:YYYY-MM-DD" (or failed) for the UTC day of now_s. */
void rq_day_key(char *buf, size_t len, const char *total_key, int64_t now_s);

/* The state's container key ("pending" -> k->pending), or NULL.  */
const char *rq_state_key(const rq_keys_t *k, const char *state);

/* A new canonical lowercase v4 UUID (37 bytes with NUL), from getrandom
 * bytes drawn for many IDs at once.  @locality any thread */
void rq_uuid(char out[37]);

/* Whether s[0..n) is valid UTF-8 (Go rejects other proto3 strings). */
int rq_utf8_valid(const char *s, size_t n);

/* Whether a queue name / task type / task ID is acceptable: not blank
 * after trimming, valid UTF-8, not too long. */
int rq_name_ok(const char *s, size_t max);

/* Unique-lock key "asynq:{q}:unique:<type>:<md5hex>" (nil form for an
 * empty payload, as Go's NewTask(type, nil)).  -1 if it does not fit. */
int rq_unique_key(char *buf, size_t len, const char *q, const char *type,
    const void *payload, size_t payload_len);

/*
 * Decode a stored msg and check what a Go reader needs (type and id not
 * blank, valid UTF-8 strings).  Returns the message (free with
 * asynq__task_message__free_unpacked(m, NULL)) or NULL with a reason in
 * err.  @locality any
 */
Asynq__TaskMessage *rq_msg_decode(const void *buf, size_t len, char *err,
    size_t errlen);

/* Pack m into a malloc'ed buffer (*len set); NULL when out of memory.
 * Unknown fields kept by protobuf-c are written back.  @locality any */
uint8_t *rq_msg_pack(const Asynq__TaskMessage *m, size_t *len);

/*
 * A valid TaskMessage standing in for a stored msg that does not decode:
 * type "looklook:undecodable", the given id and queue, the original bytes
 * as payload, retry 0 and error_msg = why.  Packed, malloc'ed.  Go readers
 * (asynqmon, the asynq CLI, the recoverer) can read it; nothing is lost.
 * @locality any
 */
uint8_t *rq_msg_replacement(const char *id, const char *queue,
    const void *raw, size_t rawlen, const char *why, int64_t now_s,
    size_t *len);

#endif /* RQ_TASK_H_INCLUDED */
