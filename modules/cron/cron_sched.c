/*
 * cron_sched: the scheduler thread of one worker.
 *
 * Entries wait in a min-heap on the instant they are next due.  The
 * thread sleeps until the earliest one with pthread_cond_timedwait on an
 * absolute CLOCK_REALTIME deadline (the tick itself, never "now + delta",
 * so nothing drifts; stop wakes it at once).  Due entries are claimed in
 * one pipeline, fired, and recorded (cron_store.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "cron.h"
#include "cron_asynq.h"
#include "lt_clock.h"

#define CRON_BATCH        512       /* entries claimed per pipeline */
#define CRON_POLL_MS      250       /* re-check of a tick held by another */
#define CRON_RETRY_MS     500       /* after a Redis failure */
#define CRON_FOLLOW_MS    2000      /* non-leaders try to lead this often */
#define CRON_RUNQ_MS      1000      /* run requests polled this often */

/* A tick handed to a handler: owns the message until done. */
typedef struct {
    ll_msg_t        msg;
    char            id[160];
    char            entry[104];
} cron_job_t;

/* ---- the heap ---------------------------------------------------------- */

static void
heap_swap(cron_t *cr, size_t a, size_t b)
{
    cron_entry_t  *t = cr->heap[a];

    cr->heap[a] = cr->heap[b];
    cr->heap[b] = t;
    cr->heap[a]->heap = a;
    cr->heap[b]->heap = b;
}

static void
heap_push(cron_t *cr, cron_entry_t *e)
{
    size_t  i = cr->nheap++, p;

    cr->heap[i] = e;
    e->heap = i;
    while (i > 0) {
        p = (i - 1) / 2;
        if (cr->heap[p]->wake_ms <= cr->heap[i]->wake_ms) {
            break;
        }
        heap_swap(cr, i, p);
        i = p;
    }
}

static cron_entry_t *
heap_pop(cron_t *cr)
{
    cron_entry_t  *top = cr->heap[0];
    size_t         i = 0, l, m;

    heap_swap(cr, 0, --cr->nheap);
    for (;;) {
        l = 2 * i + 1;
        m = i;
        if (l < cr->nheap && cr->heap[l]->wake_ms < cr->heap[m]->wake_ms) {
            m = l;
        }
        if (l + 1 < cr->nheap
            && cr->heap[l + 1]->wake_ms < cr->heap[m]->wake_ms)
        {
            m = l + 1;
        }
        if (m == i) {
            break;
        }
        heap_swap(cr, i, m);
        i = m;
    }
    return top;
}

/* The wake-up instant (Unix ms) of a tick; never for CRON_NEVER. */
static int64_t
tick_ms(int64_t tick)
{
    return tick >= INT64_MAX / 1000 ? INT64_MAX : tick * 1000;
}

/* ---- waiting ----------------------------------------------------------- */

/* Sleep until Unix ms `until` (CLOCK_REALTIME, absolute) or stop.
 * Returns 1 when stopping. */
static int
cron_wait(cron_t *cr, int64_t until)
{
    struct timespec  ts;
    int              stopping;

    ts.tv_sec = until / 1000;
    ts.tv_nsec = (long) (until % 1000) * 1000000;
    pthread_mutex_lock(&cr->mu);
    while (!cr->stopping && ll_now_ms() < until) {
        if (pthread_cond_timedwait(&cr->cv, &cr->mu, &ts) == ETIMEDOUT) {
            break;
        }
    }
    stopping = cr->stopping;
    pthread_mutex_unlock(&cr->mu);
    return stopping;
}

static int
cron_stopping(cron_t *cr)
{
    int  s;

    pthread_mutex_lock(&cr->mu);
    s = cr->stopping;
    pthread_mutex_unlock(&cr->mu);
    return s;
}

/* ---- firing ------------------------------------------------------------ */

enum { FIRE_OK, FIRE_RETRY, FIRE_STALE };

/* @locality a handler-pool thread */
static void
cron_job_done(ll_msg_t *msg, int outcome, const ll_result_t *res, void *arg)
{
    cron_job_t  *job = arg;

    (void) msg;
    if (outcome != LL_DONE) {
        ll_log(NULL, LL_LOG_WARN, "cron entry %s: handler answered %d for %s:"
               " %s", job->entry, outcome, job->id, res->error);
    }
    free(job);
}

/* Hand the tick to the routed handler; the message lives in a job that
 * cron_job_done frees. */
static void
cron_dispatch(cron_t *cr, cron_entry_t *e, const char *task_id)
{
    cron_job_t  *job;

    job = calloc(1, sizeof(*job));
    if (job == NULL) {
        ll_log(cr->in, LL_LOG_ERR, "entry %s: out of memory for %s", e->id,
               task_id);
        return;
    }
    snprintf(job->id, sizeof(job->id), "%s", task_id);
    snprintf(job->entry, sizeof(job->entry), "%s", e->id);
    ll_msg_init(&job->msg);
    job->msg.source = ll_instance_name(cr->in);
    job->msg.type = e->id;
    job->msg.id = job->id;
    job->msg.payload = e->payload;
    job->msg.payload_len = strlen(e->payload);
    job->msg.max_retry = (int) e->retry;
    if (ll_dispatch(cr->in, &job->msg, cron_job_done, job) != 0) {
        ll_log(cr->in, LL_LOG_ERR, "entry %s: %s not dispatched: the handler "
               "pool is stopping", e->id, task_id);
        free(job);
    }
}

/*
 * Enqueue one task for e into its target.  Returns FIRE_OK when the task
 * is stored (or was stored before under the same ID: a takeover), with
 * *enqueued saying whether a task exists for this tick; FIRE_RETRY when
 * the target could not reach Redis.
 */
void
cron_redis_failed(cron_t *cr)
{
    if (!cr->r.held) {      /* a held call repeats the last try's error */
        ll_log_fail(cr->in, &cr->down, LL_LOG_ERR, "redis %s: %s",
                    cr->where, cr->r.err);
    }
}

static int
cron_enqueue(cron_t *cr, cron_entry_t *e, const char *task_id, int *enqueued)
{
    ll_msg_t     m;
    ll_result_t  res;
    ll_opt_t     opts[3];
    size_t       n = 0;
    int          rc;

    ll_msg_init(&m);
    m.type = e->task;
    m.payload = e->payload;
    m.payload_len = strlen(e->payload);
    m.id = task_id;
    m.max_retry = (int) e->retry;
    m.timeout_ms = e->timeout_ms;
    /* the target's options (redisq's): those the entry sets (init made
     * sure the target takes them), and the retention exactly once rests
     * on, where the target keeps one */
    if (e->queue != NULL) {
        opts[n++] = (ll_opt_t) LL_OPT_S("queue", e->queue);
    }
    if (e->unique_ms > 0) {
        opts[n++] = (ll_opt_t) LL_OPT_N("unique_ttl", e->unique_ms);
    }
    if (e->retention_opt) {
        opts[n++] = (ll_opt_t) LL_OPT_N("retention", e->retention_ms);
    }
    m.opts = opts;
    m.nopts = n;
    ll_result_init(&res);
    rc = ll_send(cr->in, e->target, &m, &res);
    *enqueued = 0;
    if (rc == LL_DONE) {
        ll_log_recovered(cr->in, &e->enq_fail, "entry %s: enqueued again",
                         e->id);
        *enqueued = 1;
        return FIRE_OK;
    }
    if (rc == LL_RETRY) {
        /* retried every CRON_RETRY_MS while the target is down: once */
        ll_log_fail(cr->in, &e->enq_fail, LL_LOG_WARN, "entry %s: not "
                    "enqueued yet: %s", e->id, res.error);
        return FIRE_RETRY;
    }
    if (res.reason == LL_R_CONFLICT) {
        /* an earlier claimer enqueued it and died before recording it */
        ll_log(cr->in, LL_LOG_INFO, "entry %s: %s was already enqueued",
               e->id, task_id);
        *enqueued = 1;
        return FIRE_OK;
    }
    ll_log(cr->in, LL_LOG_ERR, "entry %s: %s not enqueued: %s", e->id,
           task_id, res.error);
    return FIRE_OK;
}

/*
 * Fire tick `tick` of e, claimed by us at claimed_ms (local clock; only
 * the elapsed time counts, so clock skew with Redis does not matter).
 * A redisq target gets the task
 * first and the record after (a takeover re-enqueues under the same ID,
 * which the target refuses as a conflict); a handler gets the tick only
 * after it is recorded, so no tick reaches a handler twice.
 */
static int
cron_fire(cron_t *cr, cron_entry_t *e, int64_t tick, int64_t claimed_ms)
{
    char             id[160];
    int64_t          now = ll_now_ms(), fired_ns, late_us;
    int              enqueued, rc;

    if (now - claimed_ms >= cr->conf->lease_ms) {
        /* our lease may be gone (a long batch, a stall): another instance
         * may be firing this tick; claim it again rather than race */
        ll_log(cr->in, LL_LOG_DEBUG, "entry %s: claim of tick %lld is %lld ms "
               "old, claiming again", e->id, (long long) tick,
               (long long) (now - claimed_ms));
        return FIRE_STALE;
    }
    snprintf(id, sizeof(id), "cron:%s:%lld", e->id, (long long) tick);
    if (e->handler) {
        rc = cron_store_fired(cr, e, tick, id, now / 1000);
        if (rc < 0) {
            return FIRE_RETRY;
        }
        fired_ns = lt_now_ns();                 /* the tick is recorded */
        if (rc == 1) {
            cron_dispatch(cr, e, id);
        }
        enqueued = rc == 1;
    } else {
        if (cron_enqueue(cr, e, id, &enqueued) == FIRE_RETRY) {
            return FIRE_RETRY;
        }
        fired_ns = lt_now_ns();                 /* the task is stored */
        if (cron_store_fired(cr, e, tick, enqueued ? id : NULL, now / 1000)
            < 0)
        {
            return FIRE_RETRY;
        }
    }
    late_us = (fired_ns - tick * 1000000000) / 1000;
    ll_log(cr->in, LL_LOG_DEBUG, "entry %s: fired %s, %lld us after its tick",
           e->id, id, (long long) late_us);
    if (enqueued) {     /* not a takeover of a tick fired already */
        cron_metrics_fired(e, tick, late_us);
    }
    return FIRE_OK;
}

/* ---- due entries --------------------------------------------------------- */

/*
 * The tick of e to claim now, or -1 when e was rescheduled without one.
 * A tick reached for the first time more than misfire_grace late (this
 * instance was stopped, or Redis was unreachable) is a misfire: skipped,
 * or with misfire = "once" the latest such tick fires once.  A tick this
 * instance already tried (held by another, or a failed fire) is exempt.
 */
static int64_t
cron_due_tick(cron_t *cr, cron_entry_t *e, int64_t now_ms)
{
    int64_t  first_ok, last_missed, t = e->next;

    if (e->retrying || now_ms - t * 1000 <= cr->conf->grace_ms) {
        return t;
    }
    /* the first tick within grace */
    first_ok = cron_spec_next(&e->spec, e->tz,
                              (now_ms - cr->conf->grace_ms + 999) / 1000 - 1);
    last_missed = cron_spec_prev(&e->spec, e->tz,
                                 first_ok == CRON_NEVER ? now_ms / 1000
                                                        : first_ok - 1);
    if (last_missed == CRON_NEVER || last_missed < t) {
        last_missed = t;
    }
    cron_metrics_missed(cr, e, 0);
    if (e->fire_once) {
        ll_log(cr->in, LL_LOG_INFO, "entry %s: missed ticks %lld..%lld, "
               "firing %lld once (misfire = \"once\")", e->id, (long long) t,
               (long long) last_missed, (long long) last_missed);
        e->retrying = 1;
        return last_missed;
    }
    ll_log(cr->in, LL_LOG_INFO, "entry %s: missed ticks %lld..%lld, skipped "
           "(misfire = \"skip\")", e->id, (long long) t,
           (long long) last_missed);
    e->next = first_ok;
    if (tick_ms(first_ok) <= now_ms) {
        return first_ok;
    }
    e->wake_ms = tick_ms(first_ok);
    return -1;
}

/* Act on the claim answer for e; sets e->next / e->wake_ms. */
static void
cron_handle_claim(cron_t *cr, cron_entry_t *e, const cron_claim_t *c,
    int64_t now_ms)
{
    int64_t  w;

    if (c->gave_up >= 0) {
        ll_log(cr->in, LL_LOG_WARN, "entry %s: tick %lld was claimed by an "
               "instance that stopped more than %d s before anyone could take "
               "it over: given up", e->id, (long long) c->gave_up,
               CRON_TAKEOVER_MS / 1000);
        cron_metrics_missed(cr, e, 1);
    }
    switch (c->code) {
    case CRON_GO:
        e->held = c->tick;
        if (c->from[0] != '\0') {
            ll_log(cr->in, LL_LOG_WARN, "entry %s: took over tick %lld from "
                   "%s, whose claim expired unfired", e->id,
                   (long long) c->tick, c->from);
        }
        switch (cron_fire(cr, e, c->tick, now_ms)) {
        case FIRE_RETRY:
            e->retrying = 1;
            e->wake_ms = ll_now_ms() + CRON_RETRY_MS;
            return;
        case FIRE_STALE:
            e->retrying = 1;
            e->wake_ms = ll_now_ms();
            return;
        }
        e->held = -1;
        if (c->tick < e->next) {
            e->wake_ms = now_ms;            /* now our own tick */
            return;
        }
        e->next = cron_spec_next(&e->spec, e->tz, c->tick);
        e->retrying = 0;
        e->wake_ms = tick_ms(e->next);
        return;

    case CRON_BUSY:
        e->retrying = 1;
        w = c->wait_ms + 5 < CRON_POLL_MS ? c->wait_ms + 5 : CRON_POLL_MS;
        e->wake_ms = now_ms + w;
        return;

    case CRON_DONE:
        e->next = cron_spec_next(&e->spec, e->tz,
                                 c->tick > e->next ? c->tick : e->next);
        e->retrying = 0;
        e->wake_ms = tick_ms(e->next);
        return;

    default:
        e->wake_ms = now_ms + CRON_RETRY_MS;
        return;
    }
}

static void
cron_run_due(cron_t *cr)
{
    cron_entry_t  *due[CRON_BATCH];
    int64_t        ticks[CRON_BATCH], now_ms, t;
    cron_claim_t   res[CRON_BATCH];
    size_t         n, i;

    for (;;) {
        now_ms = ll_now_ms();
        n = 0;
        while (cr->nheap > 0 && cr->heap[0]->wake_ms <= now_ms
               && n < CRON_BATCH)
        {
            due[n] = heap_pop(cr);
            t = cron_due_tick(cr, due[n], now_ms);
            if (t < 0) {
                heap_push(cr, due[n]);      /* rescheduled into the future */
                continue;
            }
            ticks[n++] = t;
        }
        if (n == 0) {
            return;
        }
        if (cron_store_claim(cr, due, ticks, n, res) != 0) {
            cron_redis_failed(cr);
        }
        for (i = 0; i < n; i++) {
            cron_handle_claim(cr, due[i], &res[i], now_ms);
            heap_push(cr, due[i]);
        }
        if (cron_stopping(cr)) {
            return;
        }
    }
}

/* Read where every entry stands; waits for Redis (or stop). */
static int
cron_load_cursors(cron_t *cr)
{
    int64_t  *fired, now_s;
    size_t    i;

    fired = calloc(cr->n + 1, sizeof(int64_t));
    if (fired == NULL) {
        return -1;
    }
    while (cron_store_watermarks(cr, fired) != 0) {
        cron_health(cr);
        cron_redis_failed(cr);
        if (cron_wait(cr, ll_now_ms() + CRON_RETRY_MS)) {
            free(fired);
            return -1;
        }
    }
    now_s = ll_now_ms() / 1000;
    for (i = 0; i < cr->n; i++) {
        cron_entry_t  *e = &cr->entries[i];

        /* a new entry starts with the current second; a known one goes on
         * after the last tick anyone handled (misfires are judged then) */
        e->next = cron_spec_next(&e->spec, e->tz,
                                 fired[i] < 0 ? now_s - 1 : fired[i]);
        e->wake_ms = tick_ms(e->next);
        e->retrying = 0;
        e->held = -1;
        heap_push(cr, e);
    }
    free(fired);
    return 0;
}

/* ---- manual runs ("looklook-cli cron run ID") ---------------------------- */

static void
cron_run_requests(cron_t *cr)
{
    char     *req[16], *sp, id[160], text[256];
    size_t    n, i, j;
    int64_t   now;
    int       enqueued;

    n = cron_store_run_requests(cr, req, 16);
    for (i = 0; i < n; i++) {
        sp = strchr(req[i], ' ');
        if (sp == NULL) {
            free(req[i]);
            continue;
        }
        *sp++ = '\0';
        for (j = 0; j < cr->n && strcmp(cr->entries[j].id, req[i]) != 0; j++) {
            /* find the entry */
        }
        if (j == cr->n) {
            snprintf(text, sizeof(text), "error no entry \"%s\" in the "
                     "running config", req[i]);
            cron_store_reply(cr, sp, text);
            free(req[i]);
            continue;
        }
        now = ll_now_ms();
        snprintf(id, sizeof(id), "cron:%s:run:%lld", req[i], (long long) now);
        enqueued = 1;
        if (cr->entries[j].handler) {
            cron_dispatch(cr, &cr->entries[j], id);
        } else if (cron_enqueue(cr, &cr->entries[j], id, &enqueued)
                   == FIRE_RETRY || !enqueued)
        {
            snprintf(text, sizeof(text), "error %s could not be enqueued "
                     "(see the error log)", id);
            cron_store_reply(cr, sp, text);
            free(req[i]);
            continue;
        }
        cron_store_fired(cr, &cr->entries[j], -1, id, now / 1000);
        ll_log(cr->in, LL_LOG_INFO, "entry %s: run now: %s", req[i], id);
        snprintf(text, sizeof(text), "ok %s", id);
        cron_store_reply(cr, sp, text);
        free(req[i]);
    }
}

/* ---- the thread ---------------------------------------------------------- */

static void *
cron_thread(void *arg)
{
    cron_t   *cr = arg;
    int64_t   wake, now;
    size_t    i;

    if (cron_load_cursors(cr) == 0) {
        for (;;) {
            wake = cr->nheap > 0 ? cr->heap[0]->wake_ms : INT64_MAX;
            if (cr->lead_at_ms < wake) {
                wake = cr->lead_at_ms;
            }
            if (cr->runq_at_ms < wake) {
                wake = cr->runq_at_ms;
            }
            if (cron_wait(cr, wake)) {
                break;
            }
            cron_run_due(cr);
            now = ll_now_ms();
            if (now >= cr->lead_at_ms) {
                cron_store_heartbeat(cr);
                cr->lead_at_ms = now + (cr->leader ? cr->conf->heartbeat_ms
                                                   : CRON_FOLLOW_MS);
            }
            if (now >= cr->runq_at_ms) {
                cron_run_requests(cr);
                cr->runq_at_ms = now + CRON_RUNQ_MS;
            }
            cron_health(cr);
        }
    }
    /* give back what we hold, so another instance goes on at once */
    for (i = 0; i < cr->n; i++) {
        if (cr->entries[i].held >= 0) {
            cron_store_release(cr, &cr->entries[i], cr->entries[i].held);
        }
    }
    cron_store_resign(cr);
    rq_redis_close(&cr->r);
    return NULL;
}

int
cron_sched_start(cron_t *cr, char *err, size_t errlen)
{
    char    host[128];
    char    uuid[37];
    uuid_t  u;
    int     rc;

    if (gethostname(host, sizeof(host)) != 0) {
        snprintf(host, sizeof(host), "unknown-host");
    }
    host[sizeof(host) - 1] = '\0';
    uuid_generate_random(u);
    uuid_unparse_lower(u, uuid);
    snprintf(cr->owner, sizeof(cr->owner), "%s:%d:%s", host, (int) getpid(),
             uuid);
    if (asprintf(&cr->list_key, "%s:{%s}", CRON_KEY_SCHEDULERS, cr->owner)
        < 0)
    {
        cr->list_key = NULL;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cr->heap = calloc(cr->n + 1, sizeof(cron_entry_t *));
    if (cr->heap == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    cr->nheap = 0;
    cr->stopping = 0;
    cr->leader = 0;
    cr->lead_at_ms = 0;
    cr->runq_at_ms = 0;
    for (rc = 0; rc < (int) cr->n; rc++) {
        cr->entries[rc].held = -1;
    }
    rq_redis_init(&cr->r, &cr->rc);
    pthread_mutex_init(&cr->mu, NULL);
    pthread_cond_init(&cr->cv, NULL);
    rc = pthread_create(&cr->thread, NULL, cron_thread, cr);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the scheduler thread: %s",
                 strerror(rc));
        pthread_cond_destroy(&cr->cv);
        pthread_mutex_destroy(&cr->mu);
        goto fail;
    }
    cr->started = 1;
    ll_log(cr->in, LL_LOG_INFO, "%zu entries, scheduler %s", cr->n, cr->owner);
    return 0;

fail:
    free(cr->heap);
    cr->heap = NULL;
    free(cr->list_key);
    cr->list_key = NULL;
    return -1;
}

void
cron_sched_stop(cron_t *cr)
{
    if (!cr->started) {
        return;
    }
    pthread_mutex_lock(&cr->mu);
    cr->stopping = 1;
    pthread_cond_signal(&cr->cv);
    pthread_mutex_unlock(&cr->mu);
    pthread_join(cr->thread, NULL);
    cr->started = 0;
    pthread_cond_destroy(&cr->cv);
    pthread_mutex_destroy(&cr->mu);
    free(cr->heap);
    cr->heap = NULL;
    free(cr->list_key);
    cr->list_key = NULL;
}
