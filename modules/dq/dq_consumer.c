/*
 * dq_consumer: the slots.  A slot reserves one job at a time on its own
 * connection, checks its wrapper and its lock, hands it to the routed
 * handler and, by the answer, deletes, releases (retry, with a delay) or
 * buries (fail) it.  While the handler runs, or while a transient failure
 * (Redis down, a handler answering "unavailable") is waited out, the slot
 * touches the job so its TTR does not hand it to another consumer; when a
 * worker dies, the server gives its reserved jobs back after their TTR.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dq.h"

#define DQ_RESERVE_WAIT_S    1      /* how soon a slot notices stop */
#define DQ_RECONNECT_MIN_MS  200
#define DQ_RECONNECT_MAX_MS  5000

static const char *const  dq_outcome_names[] = {
    "done", "retried", "buried", "duplicate", "expired", "given_back"
};


/* retry_backoff doubled per attempt (1, 2, ...), at most retry_backoff_max */
int64_t
dq_backoff_ms(const dq_conf_t *c, int attempt)
{
    int64_t  d = c->retry_backoff_ms;

    while (--attempt > 0 && d < c->retry_backoff_max_ms) {
        d *= 2;
    }
    return d < c->retry_backoff_max_ms ? d : c->retry_backoff_max_ms;
}


void
dq_health_update(dq_t *dq)
{
    int  i, up = 0, state;
    char why[160] = "";

    pthread_mutex_lock(&dq->lock);
    for (i = 0; i < dq->nnodes; i++) {
        up += !dq->nodes[i].down;
    }
    if (dq->redis_down) {
        snprintf(why, sizeof(why), "redis unreachable");
    } else if (up == 0) {
        snprintf(why, sizeof(why), "no beanstalkd node reachable");
    }
    state = why[0] ? LL_HEALTH_UNREADY : LL_HEALTH_READY;
    if (state != dq->health && !dq->stopping) {
        dq->health = state;
        ll_health_set(dq->in, state, state == LL_HEALTH_READY ? NULL : "%s",
                      why);
    }
    pthread_mutex_unlock(&dq->lock);
}


static void
dq_count(dq_t *dq, int outcome)
{
    ll_metric_add(dq->jobs[outcome], 1);
}


/* Sleep until the mono time `until` or stop.  1 when stopping. */
static int
dq_nap(dq_t *dq, int64_t until)
{
    struct timespec  ts;
    int              stopping;

    pthread_mutex_lock(&dq->lock);
    while (!dq->stopping && lt_mono_ms() < until) {
        ts.tv_sec = until / 1000;
        ts.tv_nsec = (until % 1000) * 1000000;
        pthread_cond_timedwait(&dq->cond, &dq->lock, &ts);
    }
    stopping = dq->stopping;
    pthread_mutex_unlock(&dq->lock);
    return stopping;
}


static int
dq_slot_connect(dq_slot_t *s)
{
    dq_node_t  *n = s->node;

    if (bs_connect(&s->bs, n->endpoint) != BS_OK
        || bs_watch(&s->bs, n->tube) != BS_OK
        || (strcmp(n->tube, "default") != 0
            && bs_ignore(&s->bs, "default") != BS_OK))
    {
        bs_close(&s->bs);
        return -1;
    }
    return 0;
}


/* The core's answer.  @locality a handler-pool thread */
static void
dq_on_done(ll_msg_t *msg, int outcome, const ll_result_t *res, void *arg)
{
    dq_slot_t  *s = arg;

    (void) msg;
    pthread_mutex_lock(&s->dq->lock);
    s->outcome = outcome;
    s->reason = res->reason;
    s->retry_delay_ms = res->retry_delay_ms;
    snprintf(s->error, sizeof(s->error), "%s", res->error);
    s->done = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->dq->lock);
}


/*
 * Hold the reserved job until the mono time `until`, or until the handler
 * answered (for_done), touching it every touch_ms.  0: the time came or
 * the answer; 1: give the job back (stop, or the shutdown deadline passed
 * while the handler still runs: the slot is then abandoned); -1: the
 * connection broke (the server gave the job back).
 */
static int
dq_hold(dq_slot_t *s, int64_t until, int for_done, int64_t touch_ms)
{
    dq_t            *dq = s->dq;
    struct timespec  ts;
    int64_t          next_touch = lt_mono_ms() + touch_ms, wake, now;
    int              rc = 0;

    pthread_mutex_lock(&dq->lock);
    for ( ;; ) {
        now = lt_mono_ms();
        if (for_done && s->done) {
            break;
        }
        if (dq->stopping) {
            if (!for_done) {
                rc = 1;
                break;
            }
            if (ll_now_ms() >= ll_shutdown_deadline(dq->in)) {
                s->abandoned = 1;
                rc = 1;
                break;
            }
        }
        if (!for_done && now >= until) {
            break;
        }
        if (now >= next_touch) {
            pthread_mutex_unlock(&dq->lock);
            rc = bs_touch(&s->bs, s->id) == BS_OK ? 0 : -1;
            pthread_mutex_lock(&dq->lock);
            if (rc != 0 && !for_done) {
                break;
            }
            rc = 0;
            next_touch = now + touch_ms;
        }
        wake = next_touch;
        if (!for_done && until < wake) {
            wake = until;
        }
        if (dq->stopping && wake > now + 100) {
            wake = now + 100;   /* watch the shutdown deadline */
        }
        ts.tv_sec = wake / 1000;
        ts.tv_nsec = (wake % 1000) * 1000000;
        pthread_cond_timedwait(&s->cond, &dq->lock, &ts);
    }
    pthread_mutex_unlock(&dq->lock);
    return rc;
}


/* Give a reserved job back at once: closing the connection makes the
 * server put it back to ready (without counting a release). */
static void
dq_give_back(dq_slot_t *s)
{
    ll_log(s->dq->in, LL_LOG_INFO, "job %s given back", s->id_text);
    dq_count(s->dq, DQ_JOB_GIVEN_BACK);
    bs_close(&s->bs);
}


static void
dq_bury(dq_slot_t *s, int outcome, const char *fmt, const char *why)
{
    int  rc = bs_bury(&s->bs, s->id, (uint32_t) s->dq->conf->priority);

    ll_log(s->dq->in, LL_LOG_WARN, fmt, s->id_text, why);
    if (rc != BS_OK) {
        ll_log(s->dq->in, LL_LOG_ERR, "job %s: bury: %s", s->id_text,
               s->bs.err);
    }
    dq_count(s->dq, outcome);
}


/* Run one reserved job (its body in s->bs.body) to its end. */
static void
dq_slot_job(dq_slot_t *s, char **payload, size_t *payload_cap)
{
    dq_t        *dq = s->dq;
    dq_conf_t   *c = dq->conf;
    char         key[33], value[17], why[160];
    const char  *task;
    size_t       task_len;
    int64_t      at_ns, attempt = 0, ttr_s, touch_ms, delay;
    int          rc, stalls = 0;

    snprintf(s->id_text, sizeof(s->id_text), "%s/%s/%" PRIu64,
             s->node->endpoint, s->node->tube, s->id);
    dq_lock_key(s->bs.body, s->bs.body_len, key);
    rc = dq_unwrap(s->bs.body, s->bs.body_len, lt_now_ns(), &at_ns,
                   &task, &task_len, why, sizeof(why));
    if (rc != 0) {
        dq_bury(s, rc == -1 ? DQ_JOB_BURIED : DQ_JOB_EXPIRED,
                rc == -1 ? "job %s buried: bad body: %s"
                         : "job %s buried: expired: %s", why);
        return;
    }
    if (task_len + 1 > *payload_cap) {
        char  *p = realloc(*payload, task_len + 1);

        if (p == NULL) {
            ll_log(dq->in, LL_LOG_ERR, "job %s: out of memory", s->id_text);
            dq_give_back(s);
            return;
        }
        *payload = p;
        *payload_cap = task_len + 1;
    }
    memcpy(*payload, task, task_len);

    if (bs_stats_job(&s->bs, s->id) != BS_OK) {
        return;     /* connection lost: the server has the job back */
    }
    attempt = bs_stat(s->bs.body, "releases");
    ttr_s = bs_stat(s->bs.body, "ttr");
    touch_ms = (ttr_s > 1 ? ttr_s : 1) * 500;
    dq_lock_value(s->id_text, value);

    /* the lock: a copy of this job on another node may have run already */
    while ((rc = dq_lock(&s->redis, key, value)) < 0) {
        pthread_mutex_lock(&dq->lock);
        dq->redis_down = 1;
        pthread_mutex_unlock(&dq->lock);
        dq_health_update(dq);
        ll_log_fail(dq->in, &dq->redis_log, LL_LOG_ERR, "redis: %s",
                    s->redis.err);
        rc = dq_hold(s, lt_mono_ms() + dq_backoff_ms(c, ++stalls), 0,
                     touch_ms);
        if (rc != 0) {
            if (rc > 0) {
                dq_give_back(s);
            }
            return;
        }
    }
    if (dq->redis_down) {
        pthread_mutex_lock(&dq->lock);
        dq->redis_down = 0;
        pthread_mutex_unlock(&dq->lock);
        dq_health_update(dq);
        ll_log_recovered(dq->in, &dq->redis_log, "redis reachable again");
    }
    if (rc == 0) {
        ll_log(dq->in, LL_LOG_DEBUG, "job %s: a copy ran already (lock %s "
               "held), deleted", s->id_text, key);
        bs_delete(&s->bs, s->id);
        dq_count(dq, DQ_JOB_DUPLICATE);
        return;
    }

    stalls = 0;
    for ( ;; ) {
        ll_msg_init(&s->msg);
        s->msg.source = ll_instance_name(dq->in);
        s->msg.type = s->node->tube;
        s->msg.id = s->id_text;
        s->msg.payload = *payload;
        s->msg.payload_len = task_len;
        s->msg.attempt = (int) (attempt > 0 ? attempt : 0);
        s->msg.max_retry = (int) c->max_retries;
        s->opt = (ll_opt_t) LL_OPT_N("due", at_ns / 1000000);
        s->msg.opts = &s->opt;
        s->msg.nopts = 1;
        pthread_mutex_lock(&dq->lock);
        s->done = 0;
        pthread_mutex_unlock(&dq->lock);
        if (ll_dispatch(dq->in, &s->msg, dq_on_done, s) != 0) {
            dq_give_back(s);
            return;
        }
        rc = dq_hold(s, 0, 1, touch_ms);
        if (rc > 0) {
            dq_give_back(s);    /* the handler overran the shutdown */
            return;
        }
        if (s->outcome != LL_RETRY || !ll_reason_transient(s->reason)) {
            break;
        }
        /* not the job's fault: kept reserved, tried again, no attempt spent */
        delay = s->retry_delay_ms >= 0 ? s->retry_delay_ms
                                       : dq_backoff_ms(c, ++stalls);
        ll_log(dq->in, LL_LOG_INFO, "job %s: %s (%s), again in %" PRId64 " ms",
               s->id_text, s->error, ll_reason_name(s->reason), delay);
        rc = dq_hold(s, lt_mono_ms() + delay, 0, touch_ms);
        if (rc != 0) {
            if (rc > 0) {
                dq_give_back(s);
            }
            return;
        }
    }

    if (s->outcome == LL_DONE || s->outcome == LL_REVOKE) {
        rc = bs_delete(&s->bs, s->id);
        dq_count(dq, DQ_JOB_DONE);
    } else if (s->outcome == LL_RETRY && attempt < c->max_retries) {
        delay = s->retry_delay_ms >= 0 ? s->retry_delay_ms
                                       : dq_backoff_ms(c, (int) attempt + 1);
        ll_log(dq->in, LL_LOG_INFO, "job %s: retry %" PRId64 " of %" PRId64
               " in %" PRId64 " ms: %s", s->id_text, attempt + 1,
               c->max_retries, delay, s->error);
        /* beanstalkd counts delays in whole seconds: round up */
        rc = bs_release(&s->bs, s->id, (uint32_t) c->priority,
                        (uint32_t) ((delay + 999) / 1000));
        dq_count(dq, DQ_JOB_RETRIED);
    } else {
        ll_log(dq->in, LL_LOG_WARN, "job %s buried after %" PRId64
               " attempt(s)%s (%s): %s", s->id_text, attempt + 1,
               s->outcome == LL_RETRY ? ", retries exhausted" : "",
               ll_reason_name(s->reason), s->error);
        rc = bs_bury(&s->bs, s->id, (uint32_t) c->priority);
        dq_count(dq, DQ_JOB_BURIED);
    }
    if (rc != BS_OK) {
        /* the connection broke, or the TTR ran out while touching failed:
         * the server has the job back and it will run again */
        ll_log(dq->in, LL_LOG_ERR, "job %s: %s", s->id_text, s->bs.err);
    }
}


static void *
dq_slot_main(void *arg)
{
    dq_slot_t  *s = arg;
    dq_t       *dq = s->dq;
    dq_node_t  *n = s->node;
    char       *payload = NULL;
    size_t      cap = 0;
    int64_t     backoff = 0;
    int         rc;

    while (!dq->stopping) {
        if (s->bs.fd < 0) {
            if (dq_slot_connect(s) != 0) {
                if (!n->down) {
                    pthread_mutex_lock(&dq->lock);
                    n->down = 1;
                    pthread_mutex_unlock(&dq->lock);
                    dq_health_update(dq);
                }
                ll_log_fail(dq->in, &n->get_log, LL_LOG_ERR, "beanstalkd %s: "
                            "%s", n->endpoint, s->bs.err);
                backoff = backoff ? backoff * 2 : DQ_RECONNECT_MIN_MS;
                if (backoff > DQ_RECONNECT_MAX_MS) {
                    backoff = DQ_RECONNECT_MAX_MS;
                }
                dq_nap(dq, lt_mono_ms() + backoff);
                continue;
            }
            backoff = 0;
            if (n->down) {
                pthread_mutex_lock(&dq->lock);
                n->down = 0;
                pthread_mutex_unlock(&dq->lock);
                dq_health_update(dq);
            }
            ll_log_recovered(dq->in, &n->get_log, "beanstalkd %s reachable "
                             "again", n->endpoint);
        }
        rc = bs_reserve(&s->bs, DQ_RESERVE_WAIT_S, &s->id);
        if (rc == BS_OK) {
            dq_slot_job(s, &payload, &cap);
        } else if (rc != BS_TIMED_OUT && rc != BS_DEADLINE_SOON
                   && rc != BS_EIO)
        {
            ll_log(dq->in, LL_LOG_ERR, "beanstalkd %s: reserve: %s",
                   n->endpoint, s->bs.err);
            dq_nap(dq, lt_mono_ms() + 1000);
        }
    }
    if (!s->abandoned) {
        free(payload);      /* an abandoned handler may still read it */
    }
    bs_close(&s->bs);
    rq_redis_close(&s->redis);
    return NULL;
}


int
dq_consumers_start(dq_t *dq, char *err, size_t errlen)
{
    int  i, k, n, rc;

    for (i = 0; i < (int) (sizeof(dq->jobs) / sizeof(dq->jobs[0])); i++) {
        dq->jobs[i] = ll_metric(dq->in, LL_METRIC_COUNTER,
                                "looklook_dq_jobs_total",
                                "Jobs reserved from beanstalkd, by what "
                                "became of them.", "outcome",
                                dq_outcome_names[i], (const char *) NULL);
    }
    if (!dq->conf->consume) {
        return 0;
    }
    n = dq->nnodes * (int) dq->conf->concurrency;     /* slots: dq_init */
    for (k = 0; k < n; k++) {
        dq_slot_t  *s = &dq->slots[k];

        s->dq = dq;
        s->node = &dq->nodes[k / dq->conf->concurrency];
        pthread_cond_init(&s->cond, &dq->cond_attr);
        bs_init(&s->bs, dq->conf->connect_timeout_ms);
        rq_redis_init(&s->redis, &dq->redis_conf);
        dq->nslots++;
    }
    for (k = 0; k < n; k++) {
        rc = pthread_create(&dq->slots[k].thread, NULL, dq_slot_main,
                            &dq->slots[k]);
        if (rc != 0) {
            snprintf(err, errlen, "pthread_create: %s", strerror(rc));
            dq_consumers_stop(dq);
            return -1;
        }
        dq->slots[k].started = 1;
    }
    return 0;
}


void
dq_consumers_stop(dq_t *dq)
{
    int  i;

    pthread_mutex_lock(&dq->lock);
    dq->stopping = 1;
    pthread_cond_broadcast(&dq->cond);
    for (i = 0; i < dq->nslots; i++) {
        pthread_cond_signal(&dq->slots[i].cond);
    }
    pthread_mutex_unlock(&dq->lock);
    for (i = 0; i < dq->nslots; i++) {
        if (dq->slots[i].started) {
            pthread_join(dq->slots[i].thread, NULL);
            dq->slots[i].started = 0;
        }
    }
}
