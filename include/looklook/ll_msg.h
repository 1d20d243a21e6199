/*
 * looklook messages: what an mq module hands the core and a handler takes,
 * and what the handler answers.
 *
 * One struct serves every source.  Fields a source does not have are zero,
 * NULL or -1 (partition/offset).  The same struct, with the "submission"
 * fields set, is what a module hands an mq module through ll_send() to
 * enqueue a task (redisq) or publish a record (kafka).
 */
#ifndef LL_MSG_H_INCLUDED
#define LL_MSG_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef enum {
    LL_DONE   = 0,  /* handled: ack the task, commit the offset */
    LL_RETRY  = 1,  /* try again later (res->error, res->retry_delay_ms) */
    LL_FAIL   = 2,  /* fail for good: archive / dead letter (res->error) */
    LL_REVOKE = 3   /* drop quietly: counted as processed, no failure */
} ll_outcome_e;

typedef struct {
    const char     *name;
    const void     *value;
    size_t          value_len;
} ll_header_t;

typedef struct ll_msg_s {
    /* where it came from */
    const char         *source;     /* mq module instance name: "redisq" */
    const char         *type;       /* task type, topic or cron entry id */
    const char         *id;         /* task id; kafka: NULL */
    const char         *queue;      /* redisq queue; NULL elsewhere */
    int32_t             partition;  /* kafka partition, else -1 */
    int64_t             offset;     /* kafka offset, else -1 */

    /* what it carries; bytes, not NUL-terminated */
    const void         *key;
    size_t              key_len;
    const void         *payload;
    size_t              payload_len;
    const ll_header_t  *headers;
    size_t              nheaders;

    /* delivery state */
    int                 attempt;    /* failures so far (asynq "retried") */
    int                 max_retry;  /* retries allowed before archive/DLQ;
                                     * submission: -1 = module default */
    int64_t             deadline_ms;/* Unix ms the attempt must end by; 0 none */

    /* submission options (ll_send to an mq module); 0 = module default */
    int64_t             process_at_ms;  /* run at (Unix ms); 0 = now */
    int64_t             timeout_ms;     /* per-attempt timeout */
    int64_t             unique_ttl_ms;  /* uniqueness lock lifetime */
    int64_t             retention_ms;   /* keep as completed this long */

    /* set by the source when the handler should give up: deadline passed,
     * task cancelled, fast shutdown; read it with ll_msg_cancelled() */
    volatile int        cancelled;

    void               *core[4];    /* the core's; do not touch */
} ll_msg_t;

#define LL_ERROR_MAX  512

typedef struct {
    char                error[LL_ERROR_MAX];    /* reason, for retry/fail */
    int64_t             retry_delay_ms;         /* retry: -1 (as the core
                                                 * passes it) = source's
                                                 * default back-off */
    char                id[128];                /* an id produced (ll_send) */
} ll_result_t;

/* Set msg fields to "none": partition, offset and max_retry -1 (module
 * default), everything else 0.  Use it before filling a message. */
static inline void
ll_msg_init(ll_msg_t *m)
{
    *m = (ll_msg_t) { .partition = -1, .offset = -1, .max_retry = -1 };
}

#endif /* LL_MSG_H_INCLUDED */
