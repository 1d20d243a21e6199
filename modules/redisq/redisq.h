/*
 * redisq: the asynq-compatible task queue module; internal declarations.
 *
 * Threads of one instance (each owns its own Redis connection):
 *   fetcher     dequeues (batched Lua script) and ll_dispatch()es tasks
 *   waiter x Q  one per served queue, blocks in BLMOVE pending->pending
 *               while the fetcher is idle: a pure wake-up
 *   acker       writes each attempt's outcome (Done batched per queue,
 *               the rest pipelined)
 *   timer       forwards scheduled/retry tasks at their millisecond due time
 *   house       heartbeat + lease extension (5 s), deadlines (100 ms),
 *               recoverer (60 s), janitor (8 s)
 *   cancel      SUBSCRIBE asynq:cancel
 * Handler-pool threads call rq_done(); any thread calls the handle hook
 * (client pool of connections).  One mutex (srv->lock) guards the job
 * lists and counters.  See README.md for the design.
 */
#ifndef REDISQ_H_INCLUDED
#define REDISQ_H_INCLUDED

#include <pthread.h>
#include <stdint.h>

#include "looklook.h"
#include "rq_client.h"
#include "rq_redis.h"
#include "rq_task.h"

#define RQ_MAX_QUEUES     64
#define RQ_CLIENT_CONNS   8

typedef struct {
    char               *redis;
    char               *username;
    char               *password;
    int64_t             db;
    int64_t             connect_timeout;    /* ms */
    int64_t             concurrency;
    const ll_conf_node_t *queues;
    int                 strict_priority;
    int64_t             dequeue_batch;
    int64_t             janitor_interval;   /* ms */
    int64_t             janitor_batch;
    int64_t             recover_interval;   /* ms */
    int64_t             forward_poll;       /* ms: re-read of the due zsets */
} rq_conf_t;

typedef struct rq_server_s  rq_server_t;

typedef struct {
    rq_keys_t           k;
    char                held[RQ_KEY_MAX + 48];  /* asynq:{q}:ll_held:<sid>:
                                     * the leases this server gave (zset) */
    char                owners[RQ_KEY_MAX];     /* asynq:{q}:ll_owners */
    rq_server_t        *srv;
    int                 priority;
    int                 paused;             /* last dequeue said paused */
    ll_log_limit_t      fail;               /* error replies on the queue */
    pthread_t           waiter;
    int                 waiter_started;
} rq_queue_t;

/* job states (atomic) */
enum { RQ_JOB_RUNNING = 0, RQ_JOB_DONE, RQ_JOB_ORPHANED, RQ_JOB_LATE };

/* why the attempt failed regardless of the handler's answer */
enum { RQ_WHY_NONE = 0, RQ_WHY_DEADLINE, RQ_WHY_CANCELED, RQ_WHY_UNDECODABLE,
       RQ_WHY_NOSTART };

typedef struct rq_job_s  rq_job_t;

struct rq_job_s {
    ll_msg_t            msg;        /* first: rq_done gets &msg */
    rq_job_t           *prev;       /* srv->jobs (in flight until written) */
    rq_job_t           *next;
    rq_job_t           *ack_next;   /* srv->acks or srv->ready */
    rq_queue_t         *q;
    Asynq__TaskMessage *tm;         /* NULL when undecodable */
    char               *id;         /* tm->id or the raw ID (which may
                                     * hold NUL bytes: use idlen) */
    size_t              idlen;
    uint8_t            *raw;        /* undecodable msg bytes */
    size_t              rawlen;
    ll_header_t        *headers;
    ll_opt_t            opt;        /* msg.opts: the queue */
    const char         *held;       /* ll_held zset of its holder, or NULL
                                     * when another server held it */
    char                expect[24]; /* lease score the write requires, or
                                     * "" (a dead server's task) */
    int64_t             start_ms;
    int64_t             deadline_ms;
    int64_t             lease_ms;   /* local lease (Unix ms), under lock */
    unsigned            hb_gen;     /* heartbeat that extends it */
    int                 state;      /* RQ_JOB_*, atomic */
    int                 why;        /* RQ_WHY_*, under lock */
    int                 dispatched; /* handed to the pool, under lock */
    int                 outcome;
    int                 reason;     /* ll_reason_e of a retry */
    int64_t             retry_delay_ms;
    char                error[LL_ERROR_MAX];
};

struct rq_server_s {
    ll_instance_t      *in;
    rq_conf_t          *conf;
    rq_redis_conf_t     rc;
    rq_queue_t          queues[RQ_MAX_QUEUES];
    int                 nqueues;
    int                 total_priority;
    char                where[300];     /* "host:port/db", for logs */
    ll_log_limit_t      down;           /* Redis outages, all threads */
    char                host[256];
    char                server_id[37];
    char                machine[128];   /* boot ID + PID namespace: whose
                                         * PIDs this host can check; "" */
    char                servers_key[400];
    char                workers_key[400];
    int64_t             started_ms;

    pthread_mutex_t     lock;
    pthread_cond_t      fetch_cond;     /* slot freed, wake-up, stop */
    pthread_cond_t      idle_cond;      /* fetcher went idle (waiters) */
    pthread_cond_t      ack_cond;       /* acks queued, stop */
    pthread_cond_t      timer_cond;     /* earlier due time, stop */
    pthread_cond_t      drain_cond;     /* a job left srv->jobs */
    pthread_cond_t      house_cond;     /* stop */
    int                 stopping;       /* intake stops */
    int                 ack_stop;
    int                 busy;           /* dispatched, handler not back
                                         * (atomic; changed under lock
                                         * where the fetcher must see it) */
    int                 njobs;          /* in srv->jobs */
    int                 idle;           /* the fetcher sleeps: no work */
    int                 wake;           /* a waiter (or enqueue) saw work */
    int64_t             timer_next_ms;  /* when the timer sleeps until */
    rq_job_t           *jobs;
    rq_job_t           *acks;           /* lock-free stack (newest first) */
    rq_job_t           *ready;          /* leased, waiting for a slot */
    rq_job_t          **ready_tail;
    int                 nready;         /* atomic reads outside the lock */
    int                 reserved;       /* slots the waiters' dequeues in
                                         * flight may fill (atomic) */
    pthread_mutex_t     deq_lock;       /* dequeue replies, one at a time */
    rq_job_t           *orphans;        /* given back at stop; freed in fini */

    unsigned            ack_loaded;     /* rq_load_scripts per thread */
    unsigned            house_loaded;
    pthread_t           fetcher, acker, timer, house, canceller;
    int                 started;
    int                 nthreads;       /* of acker, house, timer,
                                         * canceller, fetcher: started */

    /* script error replies (rq_errors.c) */
    ll_log_limit_t      err_log;
    ll_log_limit_t      hb_log;         /* heartbeat error replies */
    ll_series_t        *err_series;

    /* client connections for the handle hook */
    rq_redis_t          client[RQ_CLIENT_CONNS];
    pthread_mutex_t     client_lock[RQ_CLIENT_CONNS];
    unsigned            client_next;
};

/* a + b and a * b, saturated at the int64_t limits: times built from a
 * stored message (timeout, deadline, retention near 2^62) never overflow */
static inline int64_t
rq_sat_add(int64_t a, int64_t b)
{
    int64_t  r;

    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN)
                                            : r;
}

static inline int64_t
rq_sat_mul(int64_t a, int64_t b)
{
    int64_t  r;

    return __builtin_mul_overflow(a, b, &r)
           ? ((a < 0) != (b < 0) ? INT64_MIN : INT64_MAX) : r;
}

/* condvars use CLOCK_MONOTONIC: waits end at lt_mono_deadline() */

/* A call on r got no answer: log it, once per outage for all threads
 * (the first reconnect of a connection that had died while idle is
 * tried first: a late-seen restart is no outage).  @locality r's thread */
void rq_redis_failed(rq_server_t *s, rq_redis_t *r);

/* A call got an answer: logs "reconnected after S s" after an outage;
 * cheap otherwise.  @locality any thread */
void rq_redis_fine(rq_server_t *s);

/* jobs */
void rq_job_free(rq_job_t *j);
/* what starts the error_msg of a task archived as undecodable */
#define RQ_WHY_PREFIX  "redisq: "

/* Decode the stored (id, msg) into j: 0 with j->tm and j->id set; 1 when
 * msg does not decode, lacks type or id, or names another ID than its key
 * (j->id is then a copy of the key's ID, j->raw of msg, j->error says
 * why); -1 when out of memory.  @locality any thread */
int rq_job_decode(rq_job_t *j, const redisReply *id, const redisReply *msg);
void rq_job_unlink(rq_server_t *s, rq_job_t *j);    /* under lock */
/* Push j for the acker without locking; signals the acker (taking
 * s->lock unless locked says the caller holds it) when the stack was
 * empty: the acker gathers the rest.  @locality any thread */
void rq_ack_push(rq_server_t *s, rq_job_t *j, int locked);

/* threads: rq_fetch.c, rq_ack.c, rq_timer.c, rq_house.c */
void *rq_fetcher_main(void *arg);
void *rq_waiter_main(void *arg);
void *rq_acker_main(void *arg);
void *rq_timer_main(void *arg);
void *rq_house_main(void *arg);
void *rq_cancel_main(void *arg);

/* Wake the timer when something becomes due at due_ms, earlier than it
 * planned.  @locality any thread */
void rq_timer_poke(rq_server_t *s, int64_t due_ms);

/* The asynq default back-off for n failures so far, in seconds. */
int64_t rq_backoff_s(int n);

/* Write the outcome of finished jobs in srv->jobs (rq_ack.c), unlinking
 * and freeing them.  Returns the jobs it could not write (Redis gone) as a
 * list through ack_next.  @locality the acker (or stop, after it) */
rq_job_t *rq_ack_write(rq_server_t *s, rq_redis_t *r, rq_job_t *list);

/* Write Retry (after delay_ms, -1: asynq's back-off) or Archive, with the
 * error text why, for tasks some other server held (not in srv->jobs): its
 * lease expired, or it died; a job without tm is archived with the reason
 * the caller put in its error.  Returns how many were written.
 * @locality the house thread */
int rq_recover_write(rq_server_t *s, rq_redis_t *r, rq_job_t **jobs, int n,
    const char *why, int64_t delay_ms);

/* This server's keys of the dead-worker recovery (ll_held, ll_owners) and
 * the host's identity, once the server ID is known (rq_house.c). */
void rq_owner_init(rq_server_t *s);

/* Pipeline this server's ll_owners entries (heartbeat) or their removal
 * and its ll_held zsets' (clean stop); return the commands appended. */
int rq_owner_append(rq_server_t *s, rq_redis_t *r, int64_t now_ms);
int rq_owner_clear_append(rq_server_t *s, rq_redis_t *r);

/* Retry now the tasks of dead servers of this host (rq_reap.c).
 * @locality the house thread */
void rq_reap(rq_server_t *s, rq_redis_t *r);

/* SCRIPT LOAD the outcome scripts when r has a new connection since
 * *loaded (so pipelined EVALSHA never meets NOSCRIPT). */
void rq_load_scripts(rq_redis_t *r, unsigned *loaded);

/* Requeue jobs given back at stop (rq_ack.c). */
void rq_requeue(rq_server_t *s, rq_redis_t *r, rq_job_t *list);

/* Set up the script error counter (rq_errors.c). */
void rq_errors_init(rq_server_t *s);

/* Report an error reply rep of a script run for what ("janitor on Q"):
 * counted in looklook_redisq_script_errors_total and logged through
 * ll_log_fail on l (NULL: the server's own), so a repeated error is
 * written once, then with its count.  @locality any thread (each l has
 * one user thread) */
void rq_script_error(rq_server_t *s, ll_log_limit_t *l, const char *what,
    const redisReply *rep);

/* Clear this server's heartbeat keys (rq_house.c). */
void rq_house_clear(rq_server_t *s, rq_redis_t *r);

#endif /* REDISQ_H_INCLUDED */
