/*
 * cron: the timed-tasks module.  Internal declarations shared by
 * cron_module.c (config, hooks), cron_sched.c (the scheduler thread) and
 * cron_store.c (the Redis side of exactly-once).  See README.md.
 */
#ifndef CRON_H_INCLUDED
#define CRON_H_INCLUDED

#include <pthread.h>
#include <stdint.h>

#include "looklook.h"
#include "rq_redis.h"
#include "cron_spec.h"
#include "cron_tz.h"

/* The module's settings (schema in cron_module.c). */
typedef struct {
    char                   *redis;          /* coordination Redis URL */
    char                   *redisq;         /* default target instance */
    char                   *timezone;       /* default zone */
    const ll_conf_node_t   *entries;
    int64_t                 lease_ms;       /* claim lease */
    int64_t                 grace_ms;       /* misfire grace */
    int64_t                 heartbeat_ms;   /* asynq schedulers heartbeat */
} cron_conf_t;

/* One entry: its settings (schema in cron_module.c), then what init
 * derives, then the scheduler thread's own fields. */
typedef struct {
    char                   *id;
    char                   *spec_text;
    char                   *timezone;
    char                   *task;
    char                   *payload;
    char                   *queue;
    char                   *target;
    char                   *misfire;
    int64_t                 retry;
    int64_t                 timeout_ms;
    int64_t                 unique_ms;
    int64_t                 retention_ms;

    cron_spec_t             spec;
    const cron_tz_t        *tz;
    char                    uuid[37];
    char                   *state_key;      /* looklook:cron:state:<id> */
    char                   *history_key;    /* asynq:scheduler_history:<uuid> */
    char                  **options;        /* asynq option texts (5.9) */
    size_t                  noptions;
    int                     handler;        /* target = "handler" */
    int                     fire_once;      /* misfire = "once" */
    int                     retention_opt;  /* the target takes "retention" */

    /* scheduler thread only */
    int64_t                 next;           /* tick to handle next, Unix s */
    int64_t                 wake_ms;        /* when to look at it again */
    int                     retrying;       /* next was tried already: no
                                             * lateness rule */
    int64_t                 held;           /* tick claimed, not recorded,
                                             * or -1 */
    size_t                  heap;           /* index in cron_t.heap */

    /* its series (cron_metrics.c) */
    ll_series_t            *m_fires, *m_misfires, *m_late, *m_last;
    ll_log_limit_t          enq_fail;       /* "not enqueued yet" */
} cron_entry_t;

typedef struct {
    ll_instance_t          *in;
    cron_conf_t            *conf;
    cron_entry_t           *entries;
    size_t                  n;
    cron_tz_t             **zones;          /* loaded once per name */
    size_t                  nzones;
    rq_redis_conf_t         rc;
    char                    where[300];     /* "host:port/db", for logs */
    ll_log_limit_t          down;           /* Redis outages */
    int64_t                 retention_floor_ms;

    /* the scheduler thread */
    pthread_t               thread;
    int                     started;
    pthread_mutex_t         mu;
    pthread_cond_t          cv;
    int                     stopping;       /* under mu */
    char                    owner[200];     /* host:pid:uuid, scheduler ID */
    char                   *list_key;       /* asynq:schedulers:{owner} */
    rq_redis_t              r;
    unsigned                loaded_for;     /* r.connects when CLAIM was
                                             * last loaded */
    cron_entry_t          **heap;           /* min-heap on wake_ms */
    size_t                  nheap;
    int                     leader;
    int64_t                 lead_at_ms;     /* next leadership heartbeat */
    int64_t                 runq_at_ms;     /* next run-request poll */
    int                     healthy;        /* Redis answered; -1 unknown */
} cron_t;

/* A takeover of an abandoned claim is allowed this long after its lease
 * ran out; older ones are given up (README.md, "Exactly once"). */
#define CRON_TAKEOVER_MS    60000

/* ---- cron_sched.c ------------------------------------------------------ */

/* A call on cr->r got no answer (or the claim script could not load):
 * logged once per outage, its end by cron_health.  @locality the
 * scheduler thread */
void cron_redis_failed(cron_t *cr);

/* Start / stop the scheduler thread.  @locality worker main thread */
int  cron_sched_start(cron_t *cr, char *err, size_t errlen);
void cron_sched_stop(cron_t *cr);

/* ---- cron_metrics.c: series and health -------------------------------- */

void cron_metrics_init(cron_t *cr);
void cron_metrics_fired(cron_entry_t *e, int64_t tick, int64_t late_us);
void cron_metrics_missed(cron_t *cr, cron_entry_t *e, int all);
void cron_health(cron_t *cr);

/* ---- cron_store.c: the Redis side -------------------------------------- */

enum { CRON_DONE = 0, CRON_BUSY = 1, CRON_GO = 2 };

typedef struct {
    int                     code;           /* CRON_DONE/BUSY/GO, -1 error */
    int64_t                 tick;           /* GO: tick to fire; DONE:
                                             * handled up to; BUSY: held */
    int64_t                 wait_ms;        /* BUSY: lease left */
    int64_t                 gave_up;        /* an abandoned tick given up,
                                             * or -1 */
    char                    from[200];      /* GO: whose expired claim was
                                             * taken over, or "" */
} cron_claim_t;

/*
 * Claim tick `tick` of each of the n entries in one pipeline; out[i] gets
 * entry i's answer.  Returns 0, or -1 when Redis did not answer (every
 * out[i].code is then -1).  @locality scheduler thread
 */
int cron_store_claim(cron_t *cr, cron_entry_t **e, const int64_t *tick,
    size_t n, cron_claim_t *out);

/*
 * Record that `tick` of e was handled: fired watermark, and when task_id
 * is not NULL also prev/task and one asynq history event.  tick < 0: a
 * manual run (history only).  @locality scheduler thread
 */
int cron_store_fired(cron_t *cr, cron_entry_t *e, int64_t tick,
    const char *task_id, int64_t enqueue_time);

/* Give a claim back at once (stop, failed fire).  @locality scheduler */
void cron_store_release(cron_t *cr, cron_entry_t *e, int64_t tick);

/* Read the fired watermark of each entry (-1 if never fired); 0 or -1.
 * @locality scheduler thread */
int cron_store_watermarks(cron_t *cr, int64_t *fired);

/* Leadership and the asynq schedulers list (11).  @locality scheduler */
void cron_store_heartbeat(cron_t *cr);
void cron_store_resign(cron_t *cr);

/* Pop up to max run requests ("<entry id> <request id>"); each is a
 * malloc'ed string in out.  Returns the count.  @locality scheduler */
size_t cron_store_run_requests(cron_t *cr, char **out, size_t max);

/* Answer a run request.  @locality scheduler thread */
void cron_store_reply(cron_t *cr, const char *reqid, const char *text);

#endif /* CRON_H_INCLUDED */
