/*
 * dq_wire: the bytes go-queue's dq puts on beanstalkd and in Redis (the
 * dq module and looklook-cli dq).
 *
 * A job body is "<due time in Unix nanoseconds>/<task body>".  go-queue's
 * consumer drops a job whose due time is more than 30 minutes past, and
 * before running a task takes go-zero's RedisLock on the md5 hex of the
 * whole body for 3600 s (PX 3600500), so a job written to several nodes
 * runs once.
 */
#ifndef DQ_WIRE_H_INCLUDED
#define DQ_WIRE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "rq_redis.h"

#define DQ_LOCK_SECONDS  3600       /* go-queue's lock expiration */
#define DQ_LOCK_SLACK_MS 500        /* go-zero's RedisLock tolerance */
#define DQ_STALE_MS      (30 * 60 * 1000)   /* go-queue's tolerance */

/* "<unix ns>/" before a body: the prefix into buf (>= 24 bytes), its length */
size_t dq_wrap_prefix(char *buf, size_t len, int64_t at_ns);

/* Split a reserved body as go-queue's consumer does: 0 with the due time
 * and the task body, -1 (malformed) or -2 (due more than 30 minutes
 * before now_ns) with why. */
int dq_unwrap(const char *body, size_t len, int64_t now_ns, int64_t *at_ns,
    const char **task, size_t *task_len, char *why, size_t whylen);

/* The lock key (md5 hex of the whole reserved body, 33 bytes with NUL) and
 * this job's lock value (16 characters of [0-9a-f] from endpoint/tube/id,
 * 17 bytes with NUL). */
void dq_lock_key(const void *body, size_t len, char key[33]);
void dq_lock_value(const char *id_text, char value[17]);

/* Take the lock in Redis: 1 taken (or already ours), 0 held by another
 * copy of the job, -1 Redis did not answer (r->err). */
int dq_lock(rq_redis_t *r, const char *key, const char *value);

#endif /* DQ_WIRE_H_INCLUDED */
