/*
 * dq: go-queue's dq (a delayed queue on beanstalkd) as a looklook mq module.
 *
 * Each worker serves every configured node with `concurrency` slots: a
 * slot is a thread with its own beanstalkd connection (a reserved job can
 * only be deleted, released, buried or touched by the connection that
 * reserved it) and its own Redis connection for the de-duplication lock.
 * Through its handle hook the module produces jobs as go-queue's producer
 * does: wrapped with their due time, written to several nodes.
 */
#ifndef DQ_H_INCLUDED
#define DQ_H_INCLUDED

#include <pthread.h>
#include <stdint.h>

#include <looklook/looklook.h>

#include "bs_client.h"
#include "rq_redis.h"

#define DQ_MAX_NODES     16
#define DQ_PRI_NORMAL    2          /* go-queue's PriNormal */
#define DQ_LOCK_SECONDS  3600       /* go-queue's lock expiration */
#define DQ_LOCK_SLACK_MS 500        /* go-zero's RedisLock tolerance */
#define DQ_STALE_MS      (30 * 60 * 1000)   /* go-queue's tolerance */
#define DQ_REPLICAS      3          /* go-queue's replicaNodes */
#define DQ_MIN_WRITTEN   2          /* go-queue's minWrittenNodes */

typedef struct {
    const ll_conf_node_t  *beanstalks;
    char                  *redis;
    int                    consume;
    int64_t                concurrency;
    int64_t                max_retries;
    int64_t                retry_backoff_ms;
    int64_t                retry_backoff_max_ms;
    int64_t                ttr_ms;
    int64_t                priority;
    int64_t                connect_timeout_ms;
} dq_conf_t;

typedef struct dq_s  dq_t;

/* One beanstalkd node: where, which tube, and its producer connection. */
typedef struct {
    char               *endpoint;
    char               *tube;
    dq_t               *dq;
    int                 down;       /* consumers could not connect */

    pthread_mutex_t     put_lock;   /* the producer connection */
    bs_conn_t           put;
    int64_t             put_retry_ms;   /* no reconnect before (mono ms) */
    int64_t             put_backoff_ms;
    ll_log_limit_t      put_log;
    ll_log_limit_t      get_log;    /* the slots' connection failures */
} dq_node_t;

/* One job in work: a slot thread, its connections, the job it holds. */
typedef struct {
    dq_t               *dq;
    dq_node_t          *node;
    pthread_t           thread;
    int                 started;
    bs_conn_t           bs;
    rq_redis_t          redis;

    /* the job */
    uint64_t            id;
    char                id_text[200];   /* endpoint/tube/id, as go-queue */
    ll_msg_t            msg;
    ll_opt_t            opt;
    int                 done;           /* done callback came */
    int                 abandoned;      /* the slot gave up waiting */
    int                 outcome;
    int                 reason;
    int64_t             retry_delay_ms;
    char                error[LL_ERROR_MAX];
} dq_slot_t;

struct dq_s {
    ll_instance_t      *in;
    dq_conf_t          *conf;
    dq_node_t           nodes[DQ_MAX_NODES];
    int                 nnodes;
    rq_redis_conf_t     redis_conf;

    pthread_mutex_t     lock;       /* below, and every slot's done state */
    pthread_cond_t      cond;
    volatile int        stopping;
    int                 health;     /* last set: -1 none */
    int                 redis_down;
    ll_log_limit_t      redis_log;
    dq_slot_t          *slots;
    int                 nslots;

    ll_series_t        *jobs[6];    /* by dq_outcome_e */
};

/* What became of a reserved job, for the jobs_total metric. */
typedef enum {
    DQ_JOB_DONE = 0, DQ_JOB_RETRIED, DQ_JOB_BURIED, DQ_JOB_DUPLICATE,
    DQ_JOB_EXPIRED, DQ_JOB_GIVEN_BACK
} dq_outcome_e;

/* dq_wrap.c: go-queue's job body and de-duplication lock. */

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

/* dq_consumer.c */
int  dq_consumers_start(dq_t *dq, char *err, size_t errlen);
void dq_consumers_stop(dq_t *dq);
void dq_health_update(dq_t *dq);

/* dq_producer.c: a message sent to the module.  @locality any thread */
int  dq_produce(dq_t *dq, const ll_msg_t *msg, ll_result_t *res);
void dq_producer_close(dq_node_t *node);

int64_t dq_mono_ms(void);
int64_t dq_backoff_ms(const dq_conf_t *c, int attempt);

#endif /* DQ_H_INCLUDED */
