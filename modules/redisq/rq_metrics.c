/*
 * rq_metrics: what redisq publishes for the admin module, under the names
 * of asynq's Prometheus exporter so its dashboards work: queue size by
 * state, latency of the oldest pending task, processed and failed totals,
 * paused queues.  They are read from Redis by worker 0 only, at most every
 * RQ_METRICS_MS (never per scrape), on the house thread's connection.
 * Every worker also keeps its health: unready while Redis does not answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redisq.h"
#include "rq_inspect.h"
#include "rq_metrics.h"

#define RQ_METRICS_MS  5000
#define RQ_HEALTH_MS   1000

static const char  *states[] = { "pending", "active", "scheduled", "retry",
                                 "archived", "completed" };

typedef struct {
    ll_series_t    *state[6], *size, *latency, *processed, *failed, *paused;
} rq_qseries_t;

struct rq_metrics_s {
    rq_server_t    *srv;
    rq_qseries_t    q[RQ_MAX_QUEUES];
    int64_t         next_read, next_ping;
    int             healthy;        /* -1 unknown */
};

static ll_series_t *
series(rq_metrics_t *m, int type, const char *name, const char *help,
    const char *q, const char *state)
{
    return ll_metric(m->srv->in, type, name, help, "queue", q,
                     state ? "state" : NULL, state, (const char *) NULL);
}

rq_metrics_t *
rq_metrics_new(rq_server_t *s)
{
    rq_metrics_t  *m = calloc(1, sizeof(*m));
    rq_qseries_t  *qs;
    const char    *q;
    int            i, j;

    if (m == NULL) {
        return NULL;
    }
    m->srv = s;
    m->healthy = -1;
    if (ll_worker_id(s->in) != 0) {
        return m;           /* worker 0 reads the queues for everybody */
    }
    for (i = 0; i < s->nqueues; i++) {
        qs = &m->q[i];
        q = s->queues[i].k.name;
        for (j = 0; j < 6; j++) {
            /* a gauge in asynq's exporter, whose name ends in _total */
            qs->state[j] = series(m, LL_METRIC_UNTYPED,
                                  "asynq_tasks_enqueued_total",
                                  "Number of tasks enqueued; broken down by "
                                  "queue and state.", q, states[j]);
        }
        qs->size = series(m, LL_METRIC_GAUGE, "asynq_queue_size",
                          "Number of tasks in a queue", q, NULL);
        qs->latency = series(m, LL_METRIC_GAUGE, "asynq_queue_latency_seconds",
                             "Number of seconds the oldest pending task is "
                             "waiting in pending state to be processed.", q,
                             NULL);
        qs->processed = series(m, LL_METRIC_COUNTER,
                               "asynq_tasks_processed_total",
                               "Number of tasks processed (both succeeded and "
                               "failed); broken down by queue", q, NULL);
        qs->failed = series(m, LL_METRIC_COUNTER, "asynq_tasks_failed_total",
                            "Number of tasks failed; broken down by queue", q,
                            NULL);
        qs->paused = series(m, LL_METRIC_UNTYPED, "asynq_queue_paused_total",
                            "Number of queues paused", q, NULL);
    }
    return m;
}

void
rq_metrics_free(rq_metrics_t *m)
{
    free(m);
}

static void
rq_metrics_read(rq_metrics_t *m, rq_redis_t *r)
{
    rq_server_t      *s = m->srv;
    rq_queue_info_t   qi;
    rq_qseries_t     *qs;
    char              err[256];
    long long         v[6];
    int               i, j;

    for (i = 0; i < s->nqueues; i++) {
        qs = &m->q[i];
        if (rq_queue_info(r, s->queues[i].k.name, &qi, err, sizeof(err))
            != 0)
        {
            if (r->c == NULL) {
                return;     /* Redis gone: the health says so */
            }
            /* not in asynq:queues yet: nothing was ever enqueued */
            memset(&qi, 0, sizeof(qi));
        }
        v[0] = qi.pending;
        v[1] = qi.active;
        v[2] = qi.scheduled;
        v[3] = qi.retry;
        v[4] = qi.archived;
        v[5] = qi.completed;
        for (j = 0; j < 6; j++) {
            ll_metric_set(qs->state[j], (double) v[j]);
        }
        ll_metric_set(qs->size, (double) (v[0] + v[1] + v[2] + v[3] + v[4]
                                          + v[5]));
        ll_metric_set(qs->latency, qi.latency_s > 0 ? qi.latency_s : 0);
        ll_metric_set(qs->processed, (double) qi.processed);
        ll_metric_set(qs->failed, (double) qi.failed);
        ll_metric_set(qs->paused, qi.paused);
    }
}

void
rq_metrics_tick(rq_metrics_t *m, rq_redis_t *r, int64_t now)
{
    redisReply  *rep;
    int          ok;

    if (m == NULL) {
        return;
    }
    if (now >= m->next_ping) {
        m->next_ping = now + RQ_HEALTH_MS;
        rep = rq_redis_cmd(r, "PING");
        ok = rep != NULL && rep->type != REDIS_REPLY_ERROR;
        freeReplyObject(rep);
        if (ok != m->healthy) {
            m->healthy = ok;
            if (ok) {
                ll_health_set(m->srv->in, LL_HEALTH_READY, NULL);
            } else {
                ll_health_set(m->srv->in, LL_HEALTH_UNREADY, "redis: %s",
                              r->err[0] ? r->err : "no answer");
            }
        }
    }
    if (ll_worker_id(m->srv->in) == 0 && m->healthy == 1
        && now >= m->next_read)
    {
        m->next_read = now + RQ_METRICS_MS;
        rq_metrics_read(m, r);
    }
}
