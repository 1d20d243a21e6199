/*
 * rq_client: enqueue asynq tasks (docs/asynq-compat.md 4), one at a time
 * or many in one pipeline.  The request is an ll_msg_t with the submission
 * fields: type, payload, id (NULL = new UUID v4), process_at_ms, max_retry
 * (-1 = 25), timeout_ms, deadline_ms, headers, and the redisq message
 * options "queue" (default "default"), "unique_ttl" and "retention" (ms).
 * Shared by the redisq module (its handle hook) and looklook-cli (task
 * enqueue).
 *
 * Results, the texts they carry (also in README.md) and the reason code
 * the handle hook answers with:
 *   RQ_OK         the task is stored; id holds its ID
 *   RQ_EINVAL     "redisq: invalid task: <why>"        LL_R_INVALID
 *   RQ_EDUP       "redisq: task already exists (unique lock held)"
 *                                                      LL_R_DUPLICATE
 *   RQ_ECONFLICT  "redisq: task ID conflicts with another task"
 *                                                      LL_R_CONFLICT
 *   RQ_EREDIS     "redisq: redis unreachable: <why>"   LL_R_UNAVAILABLE
 *   RQ_ENOMEM     "redisq: out of memory"              LL_R_NO_MEMORY
 */
#ifndef RQ_CLIENT_H_INCLUDED
#define RQ_CLIENT_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "ll_msg.h"
#include "rq_redis.h"
#include "rq_task.h"

typedef enum {
    RQ_OK = 0,
    RQ_EINVAL,
    RQ_EDUP,
    RQ_ECONFLICT,
    RQ_EREDIS,
    RQ_ENOMEM
} rq_enq_rc_e;

#define RQ_ERR_DUP       "redisq: task already exists (unique lock held)"
#define RQ_ERR_CONFLICT  "redisq: task ID conflicts with another task"

typedef struct {
    int     rc;                 /* rq_enq_rc_e */
    char    id[RQ_ID_MAX + 1];  /* the task ID (also on error, if known) */
    char    error[256];         /* text for rc != RQ_OK */
} rq_enq_out_t;

/* Room for the redisq options of one request built outside a module
 * (looklook-cli). */
typedef struct {
    ll_opt_t    opt[3];
} rq_opts_t;

/*
 * Point m's options at o, filled with the queue (NULL: none, the default
 * queue), the unique TTL and the retention (ms, 0: none).
 * @locality any thread
 */
void rq_msg_opts(ll_msg_t *m, rq_opts_t *o, const char *queue,
    int64_t unique_ttl_ms, int64_t retention_ms);

/*
 * Enqueue one task: SADD asynq:queues and the enqueue / enqueue-unique /
 * schedule / schedule-unique script, in one round trip.  Returns out->rc.
 * @locality r's thread
 */
int rq_enqueue(rq_redis_t *r, const ll_msg_t *m, rq_enq_out_t *out);

/*
 * Enqueue n tasks, each with its own result in out[i]: chunks of 512,
 * each run of tasks for one queue in a chunk stored by one call of the
 * batch script (one SADD and one EVALSHA, pipelined), which writes
 * exactly the bytes rq_enqueue would.  Not atomic as a whole: every task
 * is stored or refused on its own.  Returns the number stored.
 * @locality r's thread
 */
size_t rq_enqueue_many(rq_redis_t *r, const ll_msg_t *m, size_t n,
    rq_enq_out_t *out);

/*
 * The TaskMessage rq_enqueue would store for m at now_ms, packed
 * (malloc'ed, *len set), without Redis; NULL with out->rc and out->error
 * when m is refused.  What the fuzz targets check enqueues with.
 * @locality any thread
 */
uint8_t *rq_enq_msg(const ll_msg_t *m, int64_t now_ms, size_t *len,
    rq_enq_out_t *out);

#endif /* RQ_CLIENT_H_INCLUDED */
