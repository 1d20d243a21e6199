/*
 * rq_fetch: the fetcher (dequeue + dispatch), the per-queue BLMOVE
 * waiters, and the handler-pool done callback.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redisq.h"
#include "rq_scripts.h"


void
rq_job_free(rq_job_t *j)
{
    if (j == NULL) {
        return;
    }
    if (j->tm != NULL) {
        asynq__task_message__free_unpacked(j->tm, NULL);
    } else {
        free(j->id);
    }
    free(j->raw);
    free(j->headers);
    free(j);
}


void
rq_job_unlink(rq_server_t *s, rq_job_t *j)
{
    if (j->prev != NULL) {
        j->prev->next = j->next;
    } else {
        s->jobs = j->next;
    }
    if (j->next != NULL) {
        j->next->prev = j->prev;
    }
    j->prev = j->next = NULL;
    s->njobs--;
    pthread_cond_broadcast(&s->drain_cond);
}


int
rq_job_decode(rq_job_t *j, const redisReply *id, const redisReply *msg)
{
    char  why[200];

    j->tm = rq_msg_decode(msg->str, msg->len, why, sizeof(why));
    if (j->tm != NULL && (strlen(j->tm->id) != id->len
                          || memcmp(j->tm->id, id->str, id->len) != 0))
    {
        snprintf(why, sizeof(why), "task message id \"%.64s\" does not "
                 "match its key", j->tm->id);
        asynq__task_message__free_unpacked(j->tm, NULL);
        j->tm = NULL;
    }
    if (j->tm != NULL) {
        j->id = j->tm->id;
        j->idlen = strlen(j->id);
        return 0;
    }
    snprintf(j->error, sizeof(j->error), RQ_WHY_PREFIX "%s", why);
    j->id = malloc(id->len + 1);
    j->raw = malloc(msg->len + 1);
    if (j->id == NULL || j->raw == NULL) {
        return -1;
    }
    memcpy(j->id, id->str, id->len);
    j->id[id->len] = '\0';
    j->idlen = id->len;
    memcpy(j->raw, msg->str, msg->len);
    j->rawlen = msg->len;
    return 1;
}


static void
rq_job_link(rq_server_t *s, rq_job_t *j)
{
    j->prev = NULL;
    j->next = s->jobs;
    if (s->jobs != NULL) {
        s->jobs->prev = j;
    }
    s->jobs = j;
    s->njobs++;
}


void
rq_ack_push(rq_server_t *s, rq_job_t *j, int locked)
{
    rq_job_t  *head = __atomic_load_n(&s->acks, __ATOMIC_RELAXED);

    do {
        j->ack_next = head;
    } while (!__atomic_compare_exchange_n(&s->acks, &head, j, 1,
                                          __ATOMIC_RELEASE, __ATOMIC_RELAXED));
    if (head == NULL) {
        if (!locked) {
            pthread_mutex_lock(&s->lock);
        }
        pthread_cond_signal(&s->ack_cond);
        if (!locked) {
            pthread_mutex_unlock(&s->lock);
        }
    }
}


static void rq_done(ll_msg_t *msg, int outcome, const ll_result_t *res,
    void *arg);


/* Room for more leased tasks: concurrency running plus twice as many
 * waiting (prefetched, so a freed slot is refilled without a Redis round
 * trip, and a call of rq_threshold tasks leaves as many waiting while it
 * is out), less the slots the waiters' dequeues in flight may fill. */
static int
rq_room(rq_server_t *s)
{
    return (int) (3 * s->conf->concurrency)
           - __atomic_load_n(&s->busy, __ATOMIC_ACQUIRE)
           - __atomic_load_n(&s->nready, __ATOMIC_ACQUIRE)
           - __atomic_load_n(&s->reserved, __ATOMIC_ACQUIRE);
}


/* How much room the fetcher waits for under a backlog: calls of about
 * concurrency tasks (each round trip costs Redis more than a task). */
static int
rq_threshold(const rq_server_t *s)
{
    int64_t  t = s->conf->concurrency;

    if (t > s->conf->dequeue_batch) {
        t = s->conf->dequeue_batch;
    }
    return t < 1 ? 1 : (int) t;
}


/* Take up to max waiting jobs for which slots are free, counting them
 * busy; returns them through ack_next; none once stop began (stop gives
 * them back).  Under s->lock. */
static rq_job_t *
rq_pump(rq_server_t *s, int max)
{
    rq_job_t  *j, *list = NULL, **tail = &list;

    while (max-- > 0 && s->ready != NULL && !s->stopping
           && __atomic_load_n(&s->busy, __ATOMIC_ACQUIRE) < s->conf->concurrency)
    {
        j = s->ready;
        s->ready = j->ack_next;
        if (s->ready == NULL) {
            s->ready_tail = &s->ready;
        }
        __atomic_sub_fetch(&s->nready, 1, __ATOMIC_ACQ_REL);
        __atomic_add_fetch(&s->busy, 1, __ATOMIC_ACQ_REL);
        j->start_ms = lt_now_ms();
        j->dispatched = 1;
        j->ack_next = NULL;
        *tail = j;
        tail = &j->ack_next;
    }
    return list;
}


/* Hand jobs taken by rq_pump to the handler pool, outside s->lock. */
static void
rq_dispatch(rq_server_t *s, rq_job_t *list)
{
    rq_job_t  *j, *next;
    int        expect;

    for (j = list; j != NULL; j = next) {
        next = j->ack_next;     /* j may be done and freed once handed */
        if (ll_dispatch(s->in, &j->msg, rq_done, s) == 0) {
            continue;
        }
        /* the pool is stopping: requeue, unless stop gave it back already */
        __atomic_sub_fetch(&s->busy, 1, __ATOMIC_ACQ_REL);
        expect = RQ_JOB_RUNNING;
        if (__atomic_compare_exchange_n(&j->state, &expect, RQ_JOB_DONE, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        {
            pthread_mutex_lock(&s->lock);
            j->why = RQ_WHY_NOSTART;
            pthread_mutex_unlock(&s->lock);
            rq_ack_push(s, j, 0);
        }
    }
}


/*
 * The handler answered.  Orphaned jobs (given back by stop) are left
 * alone: the task was requeued and fini frees them.
 * @locality a handler-pool thread
 */
static void
rq_done(ll_msg_t *msg, int outcome, const ll_result_t *res, void *arg)
{
    rq_job_t     *j = (rq_job_t *) msg;
    rq_server_t  *s = arg;
    rq_job_t     *next;
    int           expect = RQ_JOB_RUNNING, room, busy;

    if (!__atomic_compare_exchange_n(&j->state, &expect, RQ_JOB_DONE, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    {
        __atomic_store_n(&j->state, RQ_JOB_LATE, __ATOMIC_RELEASE);
        return;
    }
    j->outcome = outcome;
    j->reason = res->reason;
    j->retry_delay_ms = res->retry_delay_ms;
    snprintf(j->error, sizeof(j->error), "%s", res->error);

    /* no lock on this per-task path: the counter and the ack stack are
     * atomic; the lock is taken only to signal the fetcher when the free
     * slots reach what it waits for */
    rq_ack_push(s, j, 0);
    busy = __atomic_sub_fetch(&s->busy, 1, __ATOMIC_ACQ_REL);
    if (__atomic_load_n(&s->nready, __ATOMIC_ACQUIRE) > 0) {
        pthread_mutex_lock(&s->lock);
        next = rq_pump(s, 1);
        pthread_mutex_unlock(&s->lock);
        rq_dispatch(s, next);
    }
    room = rq_room(s);
    if (room == 1 || room == rq_threshold(s) || busy == 0) {
        pthread_mutex_lock(&s->lock);
        pthread_cond_signal(&s->fetch_cond);
        pthread_mutex_unlock(&s->lock);
    }
}


/* The order to try the queues in (docs/asynq-compat.md 5.2). */
static int
rq_queue_order(rq_server_t *s, rq_queue_t **order, unsigned *seed)
{
    rq_queue_t  *tmp;
    int          i, k, n = s->nqueues, w, pick;

    for (i = 0; i < n; i++) {
        order[i] = &s->queues[i];
    }
    if (s->conf->strict_priority || n == 1) {
        return n;   /* queues[] is sorted by priority at init */
    }
    /* weighted: draw without replacement, each by its priority share;
     * equal to asynq's shuffle-and-keep-first */
    w = s->total_priority;
    for (i = 0; i < n - 1; i++) {
        pick = (int) (rand_r(seed) % (unsigned) w);
        for (k = i; k < n - 1 && pick >= order[k]->priority; k++) {
            pick -= order[k]->priority;
        }
        tmp = order[i];
        order[i] = order[k];
        order[k] = tmp;
        w -= order[i]->priority;
    }
    return n;
}


/* Compute the attempt's deadline (docs/asynq-compat.md 7.3), Unix ms. */
static int64_t
rq_deadline(const Asynq__TaskMessage *tm, int64_t now)
{
    int64_t  dl;

    if (tm->timeout <= 0 && tm->deadline <= 0) {
        return now + RQ_DEFAULT_TIMEOUT_S * 1000;
    }
    dl = tm->timeout > 0 ? rq_sat_add(now, rq_sat_mul(tm->timeout, 1000))
                         : INT64_MAX;
    if (tm->deadline > 0 && rq_sat_mul(tm->deadline, 1000) < dl) {
        dl = rq_sat_mul(tm->deadline, 1000);
    }
    return dl;
}


/* Turn one dequeued (id, msg) into a job and dispatch it. */
static void
rq_start_job(rq_server_t *s, rq_queue_t *q, const redisReply *id,
    const redisReply *msg, int64_t now, int64_t lease_ms)
{
    rq_job_t  *j;
    size_t     i;
    int        rc;

    if (msg->type == REDIS_REPLY_NIL) {
        ll_log(s->in, LL_LOG_WARN, "queue %s: task ID \"%.*s\" in pending "
               "has no task hash (or its key is no hash); dropped",
               q->k.name, (int) id->len, id->str);
        return;
    }
    j = calloc(1, sizeof(*j));
    if (j == NULL) {
        /* its lease runs out; the recoverer retries it */
        ll_log(s->in, LL_LOG_ERR, "out of memory for task %.*s",
               (int) id->len, id->str);
        return;
    }
    ll_msg_init(&j->msg);
    j->q = q;
    j->held = q->held;
    j->start_ms = now;
    j->lease_ms = lease_ms;
    rc = rq_job_decode(j, id, msg);
    if (rc < 0) {
        rq_job_free(j);     /* its lease runs out; recovered then */
        return;
    }
    if (rc > 0) {
        j->why = RQ_WHY_UNDECODABLE;
        ll_log(s->in, LL_LOG_ERR, "queue %s: task %.*s: %s; archived",
               q->k.name, (int) id->len, id->str,
               j->error + sizeof(RQ_WHY_PREFIX) - 1);
        pthread_mutex_lock(&s->lock);
        rq_job_link(s, j);
        rq_ack_push(s, j, 1);
        pthread_mutex_unlock(&s->lock);
        return;
    }

    j->msg.source = ll_instance_name(s->in);
    j->msg.type = j->tm->type;
    j->msg.id = j->tm->id;
    j->opt = (ll_opt_t) LL_OPT_S("queue", q->k.name);
    j->msg.opts = &j->opt;
    j->msg.nopts = 1;
    j->msg.payload = j->tm->payload.data;
    j->msg.payload_len = j->tm->payload.len;
    j->msg.attempt = j->tm->retried;
    j->msg.max_retry = j->tm->retry;
    j->deadline_ms = rq_deadline(j->tm, now);
    j->msg.deadline_ms = j->deadline_ms;
    if (j->tm->n_headers > 0) {
        j->headers = calloc(j->tm->n_headers, sizeof(ll_header_t));
        if (j->headers != NULL) {
            for (i = 0; i < j->tm->n_headers; i++) {
                j->headers[i].name = j->tm->headers[i]->key;
                j->headers[i].value = j->tm->headers[i]->value;
                j->headers[i].value_len = strlen(j->tm->headers[i]->value);
            }
            j->msg.headers = j->headers;
            j->msg.nheaders = j->tm->n_headers;
        }
    }

    pthread_mutex_lock(&s->lock);
    rq_job_link(s, j);
    if (j->deadline_ms <= now) {
        j->why = RQ_WHY_DEADLINE;   /* fails at once, as asynq */
        j->state = RQ_JOB_DONE;
        rq_ack_push(s, j, 1);
        pthread_mutex_unlock(&s->lock);
        return;
    }
    j->ack_next = NULL;
    *s->ready_tail = j;
    s->ready_tail = &j->ack_next;
    __atomic_add_fetch(&s->nready, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&s->lock);
}


/* One call of the dequeue script: its arguments, and the lease it gives. */
typedef struct {
    const char  *argv[8];
    char         lease[24];
    char         cnt[16];
    int64_t      lease_ms;
} rq_deq_call_t;


static void
rq_deq_prepare(rq_deq_call_t *d, rq_queue_t *q, int n)
{
    int64_t  lease_s = lt_now_ms() / 1000 + RQ_LEASE_S;

    d->lease_ms = lease_s * 1000;
    snprintf(d->lease, sizeof(d->lease), "%lld", (long long) lease_s);
    snprintf(d->cnt, sizeof(d->cnt), "%d", n);
    d->argv[0] = q->k.pending;
    d->argv[1] = q->k.paused;
    d->argv[2] = q->k.active;
    d->argv[3] = q->k.lease;
    d->argv[4] = q->held;
    d->argv[5] = d->lease;
    d->argv[6] = q->k.task_prefix;
    d->argv[7] = d->cnt;
}


/*
 * Start the tasks of a dequeue reply (or queue them for a slot); takes rep.
 * Returns how many were leased, 0 if none (or paused), -1 on a Redis
 * failure (rep NULL) or an error reply.  The fetcher and a waiter may both
 * have a reply of one queue in hand: deq_lock makes them take turns.
 */
static int
rq_deq_reply(rq_server_t *s, rq_redis_t *r, rq_queue_t *q,
    const rq_deq_call_t *d, redisReply *rep)
{
    rq_job_t  *list;
    char       why[RQ_QNAME_MAX + 32];
    int64_t    now = lt_now_ms();
    size_t     i;
    int        got = -1;

    if (rep == NULL) {
        rq_redis_failed(s, r);
        return -1;
    }
    rq_redis_fine(s);
    pthread_mutex_lock(&s->deq_lock);
    if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(why, sizeof(why), "dequeue from %s", q->k.name);
        rq_script_error(s, &q->fail, why, rep);
    } else {
        ll_log_recovered(s->in, &q->fail, "dequeue from %s works again",
                         q->k.name);
        q->paused = rep->type == REDIS_REPLY_INTEGER;   /* -1: paused */
        got = (int) (rep->elements / 2);
        for (i = 0; i + 1 < rep->elements; i += 2) {
            rq_start_job(s, q, rep->element[i], rep->element[i + 1], now,
                         d->lease_ms);
        }
    }
    pthread_mutex_unlock(&s->deq_lock);
    freeReplyObject(rep);
    if (got >= 0) {
        pthread_mutex_lock(&s->lock);
        list = rq_pump(s, INT_MAX);
        pthread_mutex_unlock(&s->lock);
        rq_dispatch(s, list);
    }
    return got;
}


/* Lease up to n tasks from q and start them: rq_deq_reply's answer. */
static int
rq_dequeue(rq_server_t *s, rq_redis_t *r, rq_queue_t *q, int n)
{
    rq_deq_call_t  d;

    rq_deq_prepare(&d, q, n);
    return rq_deq_reply(s, r, q, &d,
                        rq_redis_eval(r, &rq_s_dequeue, 5, 8, d.argv, NULL));
}


/* @locality the fetcher thread */
void *
rq_fetcher_main(void *arg)
{
    rq_server_t      *s = arg;
    rq_queue_t       *order[RQ_MAX_QUEUES];
    rq_redis_t        r;
    struct timespec   ts;
    unsigned          seed = (unsigned) lt_now_ns();
    int               free_slots, i, n, got, failed, backlog = 0;
    int64_t           pause = 0;

    rq_redis_init(&r, &s->rc);
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        free_slots = rq_room(s);
        if (free_slots <= 0) {
            pthread_cond_wait(&s->fetch_cond, &s->lock);
            continue;
        }
        if (free_slots > s->conf->dequeue_batch) {
            free_slots = (int) s->conf->dequeue_batch;
        }
        /* under a backlog, let a few more slots free up (at most 1 ms):
         * fewer, larger dequeue calls and fewer wake-ups */
        if (backlog && free_slots < rq_threshold(s)) {
            lt_mono_deadline(&ts, 1);
            pthread_cond_timedwait(&s->fetch_cond, &s->lock, &ts);
            backlog = 0;
            continue;
        }
        s->wake = 0;
        pthread_mutex_unlock(&s->lock);

        got = 0;
        failed = 0;
        n = rq_queue_order(s, order, &seed);
        for (i = 0; i < n && got == 0; i++) {
            got = rq_dequeue(s, &r, order[i], free_slots);
            if (got < 0) {
                failed = 1;
                got = 0;
            }
        }
        backlog = got == free_slots;

        pthread_mutex_lock(&s->lock);
        if (got > 0 || s->wake || s->stopping) {
            continue;
        }
        /* nothing anywhere: let the waiters block in BLMOVE, and poll
         * once a second anyway (pause, a lost wake-up); after a Redis
         * failure retry with back-off */
        s->idle = !failed;
        pthread_cond_broadcast(&s->idle_cond);
        pause = failed ? rq_redis_backoff_next(pause) : 0;
        lt_mono_deadline(&ts, failed ? pause : 1000);
        while (!s->wake && !s->stopping
               && pthread_cond_timedwait(&s->fetch_cond, &s->lock, &ts) == 0)
        {
            /* woken by a freed slot only: keep sleeping */
        }
        s->idle = 0;
    }
    pthread_mutex_unlock(&s->lock);
    rq_redis_close(&r);
    return NULL;
}


/*
 * Block in BLMOVE q:pending q:pending RIGHT RIGHT while the fetcher is
 * idle: it returns as soon as the list is non-empty and leaves the list
 * as it was (the right end is popped and pushed back).  The dequeue
 * script for one task is pipelined behind it: Redis runs it as soon as
 * BLMOVE returns, so the first task after a quiet spell is leased with the
 * wake-up itself, not a round trip of the fetcher's later.  The slot is
 * reserved while the call is out (rq_room); more work (a task taken, a
 * failure, no slot) wakes the fetcher.
 * @locality a waiter thread (one per served queue)
 */
void *
rq_waiter_main(void *arg)
{
    rq_queue_t       *q = arg;
    rq_server_t      *s = q->srv;
    rq_redis_t        r;
    rq_deq_call_t     d;
    redisReply       *rep;
    struct timespec   ts;
    ll_log_limit_t    bad = { 0 };      /* error replies */
    int64_t           pause = 0;
    int               paused, held, piped, got, sent, more;

    rq_redis_init(&r, &s->rc);
    for ( ;; ) {
        pthread_mutex_lock(&s->lock);
        while (!s->stopping && (!s->idle || s->wake)) {
            pthread_cond_wait(&s->idle_cond, &s->lock);
        }
        paused = q->paused;
        if (paused && !s->stopping) {
            lt_mono_deadline(&ts, 1000);
            pthread_cond_timedwait(&s->idle_cond, &s->lock, &ts);
        }
        if (s->stopping) {
            pthread_mutex_unlock(&s->lock);
            break;
        }
        held = !paused && rq_room(s) > 0;
        if (held) {
            __atomic_add_fetch(&s->reserved, 1, __ATOMIC_ACQ_REL);
        }
        pthread_mutex_unlock(&s->lock);
        if (paused) {
            continue;
        }

        sent = rq_redis_appendf(&r, "BLMOVE %s %s RIGHT RIGHT 0.5",
                                q->k.pending, q->k.pending) == 0;
        piped = 0;
        if (sent && held) {
            rq_deq_prepare(&d, q, 1);
            piped = rq_redis_append_eval(&r, &rq_s_dequeue, 5, 8, d.argv,
                                         NULL) == 0;
        }
        rep = sent ? rq_redis_reply(&r) : NULL;
        got = -1;
        if (piped && rep != NULL) {
            /* its reply comes whatever BLMOVE's was; none once the
             * connection is lost (a task it leased then comes back when
             * the lease expires, as after any lost dequeue reply) */
            redisReply  *deq = rq_redis_reply(&r);

            if (deq != NULL && rq_redis_is_error(deq, "NOSCRIPT")) {
                freeReplyObject(deq);
                rq_redis_load(&r, &rq_s_dequeue);  /* the fetcher retries */
            } else {
                got = rq_deq_reply(s, &r, q, &d, deq);
            }
        }
        if (held) {
            /* the fetcher may be waiting for this slot */
            pthread_mutex_lock(&s->lock);
            __atomic_sub_fetch(&s->reserved, 1, __ATOMIC_ACQ_REL);
            pthread_cond_signal(&s->fetch_cond);
            pthread_mutex_unlock(&s->lock);
        }
        if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
            if (rep != NULL) {
                ll_log_fail(s->in, &bad, LL_LOG_ERR, "BLMOVE on %s: %s "
                            "(Redis >= 6.2 needed)", q->k.name, rep->str);
            } else {
                rq_redis_failed(s, &r);
            }
            freeReplyObject(rep);
            pause = rq_redis_backoff_next(pause);
            pthread_mutex_lock(&s->lock);
            lt_mono_deadline(&ts, pause);
            if (!s->stopping) {
                pthread_cond_timedwait(&s->idle_cond, &s->lock, &ts);
            }
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        pause = 0;
        rq_redis_fine(s);
        ll_log_recovered(s->in, &bad, "BLMOVE on %s works again", q->k.name);
        /* a task was there and the pipelined dequeue did not take it, or
         * took one and more may follow: the fetcher goes on */
        more = rep->type == REDIS_REPLY_STRING && got != 0;
        freeReplyObject(rep);
        if (more) {
            pthread_mutex_lock(&s->lock);
            s->wake = 1;
            pthread_cond_signal(&s->fetch_cond);
            pthread_mutex_unlock(&s->lock);
        }
    }
    rq_redis_close(&r);
    return NULL;
}
