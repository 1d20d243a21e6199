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
#include "dq_wire.h"
#include "lt_clock.h"
#include "rq_redis.h"

#define DQ_MAX_NODES     16
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
    pthread_cond_t      cond;           /* done, or stop (with dq->lock) */

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
    pthread_cond_t      cond;       /* stop, for the slots' naps */
    pthread_condattr_t  cond_attr;  /* CLOCK_MONOTONIC, for every cond */
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

/* dq_consumer.c */
int  dq_consumers_start(dq_t *dq, char *err, size_t errlen);
void dq_consumers_stop(dq_t *dq);
void dq_health_update(dq_t *dq);

/* dq_producer.c: a message sent to the module.  @locality any thread */
int  dq_produce(dq_t *dq, const ll_msg_t *msg, ll_result_t *res);
void dq_producer_close(dq_node_t *node);

int64_t dq_backoff_ms(const dq_conf_t *c, int attempt);

#endif /* DQ_H_INCLUDED */
