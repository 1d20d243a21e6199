/*
 * The consumer: one group member per worker process.  Its thread polls
 * librdkafka, appends messages to their partition's window and hands them
 * to the core; handler outcomes come back on pool threads (on_done), which
 * record them and start the next message.  Offsets are stored (and then
 * auto-committed by librdkafka) only up to the first message not yet
 * handled, so a crash at any moment redelivers and never skips.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kafka.h"
#include "lt_clock.h"

#define KQ_BATCH    256     /* messages taken per intake round */
#define KQ_TICK_MS  100     /* longest poll: offsets stored at least this often */

typedef enum {
    KQ_EV_HANDLED = 0,  /* handler answered done or revoke */
    KQ_EV_RETRY,        /* handler answered retry */
    KQ_EV_STALL,        /* retry for a transient reason (unavailable, no
                         * memory, shutdown): no attempt spent */
    KQ_EV_FAIL,         /* handler answered fail */
    KQ_EV_ABANDON,      /* could not be dispatched (pool stopping) */
    KQ_EV_DLQ_OK,       /* dead letter delivered */
    KQ_EV_DLQ_ERR,      /* dead letter not delivered (yet) */
    KQ_EV_DLQ_DROP      /* dead letter can never be written */
} kq_event_e;

/*
 * Make the consumer thread's poll return now.  The one librdkafka call made
 * under kq->lock: a yield only signals the queue, and holding the lock keeps
 * stop from destroying the queue under it.  @locality any thread, with
 * kq->lock held
 */
void
kq_wake(kq_t *kq)
{
    if (kq->cq != NULL) {
        rd_kafka_queue_yield(kq->cq);
    }
}

static int64_t
backoff_ms(const kq_conf_t *c, int attempt)
{
    int64_t  d = c->retry_backoff_ms;

    while (--attempt > 0 && d < c->retry_backoff_max_ms) {
        d *= 2;
    }
    return d < c->retry_backoff_max_ms ? d : c->retry_backoff_max_ms;
}

static void on_done(ll_msg_t *msg, int outcome, const ll_result_t *res,
    void *arg);

/* Hand a batch (pushed in reverse by kq_part_pick) to the pool, oldest
 * first.  @locality any thread, without kq->lock */
static void item_event(kq_item_t *it, int ev, const char *error,
    int64_t delay_ms);

static void
dispatch(kq_t *kq, kq_item_t *batch)
{
    kq_item_t  *rev = NULL, *it, *next;

    for (it = batch; it != NULL; it = next) {
        next = it->dnext;
        it->dnext = rev;
        rev = it;
    }
    for (it = rev; it != NULL; it = next) {
        next = it->dnext;
        if (ll_dispatch(kq->in, &it->msg, on_done, it) != 0) {
            item_event(it, KQ_EV_ABANDON, NULL, -1);
        }
    }
}

static void
free_items(kq_item_t *it)
{
    kq_item_t  *next;

    for ( ; it != NULL; it = next) {
        next = it->dnext;
        kq_item_free(it);
    }
}

static void
set_error(kq_item_t *it, const char *error)
{
    char  *e = strdup(error != NULL && error[0] != '\0' ? error
                      : "(no error text)");

    if (e != NULL) {
        free(it->error);
        it->error = e;
    }
}

static void
orphan_remove(kq_t *kq, kq_part_t *p)
{
    kq_part_t  **pp;

    for (pp = &kq->orphans; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            return;
        }
    }
}

/*
 * Record what happened to an item that was busy, and act on it: release
 * handled messages, start the next ones, schedule a retry, write a dead
 * letter, free a revoked partition whose last handler returned.
 * @locality a pool thread (handler outcome), the producer thread (dead
 * letter report) or the consumer thread (dispatch refused)
 */
static void
item_event(kq_item_t *it, int ev, const char *error, int64_t delay_ms)
{
    kq_part_t  *p = it->part;
    kq_t       *kq = p->kq;
    kq_conf_t  *c = kq->conf;
    kq_item_t  *batch = NULL, *freed = NULL;
    char        topic[256];
    int32_t     partition = p->partition;
    int64_t     offset = it->offset;
    int         giving_up, state, dlq = 0, drop = 0, wake = 0, free_part = 0;
    int         unwritable = ev == KQ_EV_DLQ_DROP;
    int         attempt;

    snprintf(topic, sizeof(topic), "%s", p->topic);

    pthread_mutex_lock(&kq->lock);
    giving_up = p->revoking || kq->stopping;

    switch (ev) {
    case KQ_EV_HANDLED:
    case KQ_EV_DLQ_OK:
        state = KQ_HANDLED;
        break;
    case KQ_EV_STALL:
        /* the infrastructure, not the message: retried in place for as
         * long as it takes, backing off, without counting an attempt */
        set_error(it, error);
        it->stalls++;
        if (giving_up) {
            state = KQ_ABANDONED;
        } else {
            state = KQ_RETRY_WAIT;
            kq_timer_add(kq, it, lt_mono_ms()
                         + (delay_ms >= 0 ? delay_ms
                                          : backoff_ms(c, it->stalls)));
            kq->stats.retried++;
            wake = 1;
        }
        break;
    case KQ_EV_RETRY:
    case KQ_EV_FAIL:
        it->msg.attempt++;
        set_error(it, error);
        if (giving_up) {
            state = KQ_ABANDONED;
        } else if (ev == KQ_EV_RETRY && it->msg.attempt <= c->max_retries) {
            state = KQ_RETRY_WAIT;
            kq_timer_add(kq, it, lt_mono_ms()
                         + (delay_ms >= 0 ? delay_ms
                                          : backoff_ms(c, it->msg.attempt)));
            kq->stats.retried++;
            wake = 1;
        } else if (kq->drop) {
            state = KQ_HANDLED;
            kq->stats.dropped++;
            drop = 1;
        } else {
            state = KQ_DLQ;
            dlq = 1;
        }
        break;
    case KQ_EV_DLQ_DROP:
        /* a permanent error must not hold the partition for good */
        state = KQ_HANDLED;
        kq->stats.dropped++;
        drop = 1;
        break;
    case KQ_EV_DLQ_ERR:
        set_error(it, error);
        if (giving_up) {
            state = KQ_ABANDONED;
        } else {
            state = KQ_DLQ_WAIT;
            kq_timer_add(kq, it, lt_mono_ms() + backoff_ms(c, 1));
            wake = 1;
        }
        break;
    default:    /* KQ_EV_ABANDON */
        state = KQ_ABANDONED;
        break;
    }
    it->state = state;
    attempt = it->msg.attempt;

    if (state == KQ_HANDLED || state == KQ_ABANDONED) {
        kq_part_unbusy(p, it);
        if (state == KQ_HANDLED) {
            kq->stats.handled++;
            if (ev == KQ_EV_DLQ_OK) {
                kq->stats.dead_lettered++;
            }
            freed = kq_part_release(p);
        } else {
            kq->stats.abandoned++;
        }
        if (giving_up) {
            pthread_cond_broadcast(&kq->cond);
        }
    }
    if (p->orphan) {
        if (p->busy == 0) {
            orphan_remove(kq, p);
            free_part = 1;
        }
    } else {
        kq_part_pick(p, &batch);
        if (p->paused && !p->want_resume && p->count <= c->backlog / 2) {
            p->want_resume = 1;
            wake = 1;
        }
    }
    if (wake) {
        kq_wake(kq);
    }
    pthread_mutex_unlock(&kq->lock);

    /* it may be freed from here on unless it waits for its dead letter */
    if (ev == KQ_EV_DLQ_OK || drop) {
        kq_metric_gone(kq, topic, !drop);
    }
    if (unwritable) {
        ll_log(kq->in, LL_LOG_ERR, "%s [%d] offset %lld: dead letter cannot "
               "be written (%s): dropped, committing past it", topic,
               (int) partition, (long long) offset, error);
    } else if (drop) {
        ll_log(kq->in, LL_LOG_WARN, "%s [%d] offset %lld failed after %d "
               "attempt(s), dropped (on_error = drop): %s", topic,
               (int) partition, (long long) offset, attempt,
               error != NULL ? error : "");
    }
    free_items(freed);
    if (free_part) {
        kq_part_free(p);
    }
    if (dlq) {
        ll_log(kq->in, LL_LOG_WARN, "%s [%d] offset %lld failed after %d "
               "attempt(s), to the dead-letter topic: %s", topic,
               (int) partition, (long long) offset, attempt,
               error != NULL ? error : "");
        kq_dlq_send(kq, it);
    }
    dispatch(kq, batch);
}

/* The core's answer for a dispatched message.  @locality a pool thread */
static void
on_done(ll_msg_t *msg, int outcome, const ll_result_t *res, void *arg)
{
    kq_item_t  *it = arg;

    (void) msg;
    switch (outcome) {
    case LL_RETRY:
        item_event(it, ll_reason_transient(res->reason) ? KQ_EV_STALL
                                                        : KQ_EV_RETRY,
                   res->error, res->retry_delay_ms);
        break;
    case LL_FAIL:
        item_event(it, KQ_EV_FAIL, res->error, -1);
        break;
    default:    /* LL_DONE, LL_REVOKE */
        item_event(it, KQ_EV_HANDLED, NULL, -1);
        break;
    }
}

/*
 * The dead-letter write's outcome.  A transient error is retried after the
 * back-off; a permanent one is tried again smaller if that can help, else
 * the message is dropped.  @locality producer thread, or kq_dlq_send's
 */
void
kq_dlq_result(kq_item_t *it, rd_kafka_resp_err_t err)
{
    kq_t  *kq = it->part->kq;

    ll_log_context(&it->msg);   /* the lines below are about it */
    if (!err) {
        item_event(it, KQ_EV_DLQ_OK, NULL, -1);
    } else if (!kq_permanent(err)) {
        item_event(it, KQ_EV_DLQ_ERR, rd_kafka_err2str(err), -1);
    } else if (kq_dlq_shrink(kq, it, err)) {
        kq_dlq_send(kq, it);
    } else {
        item_event(it, KQ_EV_DLQ_DROP, rd_kafka_err2str(err), -1);
    }
    ll_log_context(NULL);
}

/* "topic[0,1] other[3]" for the log. */
static void
describe(const rd_kafka_topic_partition_list_t *l, char *buf, size_t len)
{
    const char  *prev = NULL;
    size_t       n = 0;
    int          i;

    buf[0] = '\0';
    for (i = 0; i < l->cnt && n + 16 < len; i++) {
        if (prev == NULL || strcmp(prev, l->elems[i].topic) != 0) {
            n += (size_t) snprintf(buf + n, len - n, "%s%s[%d", prev ? "] " : "",
                                   l->elems[i].topic,
                                   (int) l->elems[i].partition);
            prev = l->elems[i].topic;
        } else {
            n += (size_t) snprintf(buf + n, len - n, ",%d",
                                   (int) l->elems[i].partition);
        }
    }
    if (prev != NULL && n + 2 < len) {
        strcat(buf, "]");
    }
}

/*
 * Give partitions back (list NULL: all of them): start nothing new on
 * them, give up waiting retries, wait for their handlers until the drain
 * deadline, then commit what was handled (unless the assignment was lost)
 * and forget them.  Handlers still running keep their partition alive as
 * an orphan until they return; their results are not committed.
 * @locality consumer thread (rebalance callback or stop)
 */
static void
kq_revoke(kq_t *kq, const rd_kafka_topic_partition_list_t *list, int lost)
{
    rd_kafka_topic_partition_list_t  *commit;
    rd_kafka_resp_err_t               err;
    struct timespec                   ts;
    kq_part_t                       **ps, *p, *tofree = NULL;
    kq_item_t                        *it, **tp;
    int64_t                           deadline, off;
    int                               n = 0, i, busy, stuck = 0;

    deadline = kq->stopping ? ll_shutdown_deadline(kq->in)
                            : ll_now_ms() + kq->conf->drain_timeout_ms;
    ts.tv_sec = deadline / 1000;
    ts.tv_nsec = (deadline % 1000) * 1000000;

    pthread_mutex_lock(&kq->lock);
    for (p = kq->parts; p != NULL; p = p->next) {
        n++;
    }
    ps = calloc((size_t) n + 1, sizeof(kq_part_t *));
    commit = rd_kafka_topic_partition_list_new(n + 1);
    if (ps == NULL || commit == NULL) {
        /* without memory nothing can be committed: forget the partitions
         * after their handlers, uncommitted (redelivered, not lost) */
        free(ps);
        ps = NULL;
        if (commit != NULL) {
            rd_kafka_topic_partition_list_destroy(commit);
            commit = NULL;
        }
        ll_log(kq->in, LL_LOG_ERR, "revoke: out of memory; nothing "
               "committed");
    }
    n = 0;
    for (p = kq->parts; p != NULL; p = p->next) {
        if (list == NULL
            || rd_kafka_topic_partition_list_find(list, p->topic,
                                                  p->partition) != NULL)
        {
            p->revoking = 1;
            if (ps != NULL) {
                ps[n++] = p;
            }
        }
    }

    /* waiting retries and dead letters are given up, uncommitted */
    for (tp = &kq->timers; (it = *tp) != NULL; ) {
        if (it->part->revoking) {
            *tp = it->tnext;
            it->tnext = NULL;
            it->state = KQ_ABANDONED;
            kq_part_unbusy(it->part, it);
            kq->stats.abandoned++;
        } else {
            tp = &it->tnext;
        }
    }

    for ( ;; ) {
        busy = 0;
        for (p = kq->parts; p != NULL; p = p->next) {
            if (p->revoking) {
                busy += p->busy;
            }
        }
        if (busy == 0 || ll_now_ms() >= deadline
            || pthread_cond_timedwait(&kq->cond, &kq->lock, &ts) == ETIMEDOUT)
        {
            break;
        }
    }

    for (i = 0; ps != NULL && i < n; i++) {
        p = ps[i];
        off = kq_part_safe_offset(p);
        if (off >= 0 && commit != NULL) {
            rd_kafka_topic_partition_list_add(commit, p->topic,
                                              p->partition)->offset = off;
        }
    }
    /* detach every revoking partition; busy ones become orphans */
    {
        kq_part_t  **pp = &kq->parts;

        while ((p = *pp) != NULL) {
            if (!p->revoking) {
                pp = &p->next;
                continue;
            }
            *pp = p->next;
            if (p->busy > 0) {
                for (it = p->head; it != NULL; it = it->next) {
                    if (it->state == KQ_INFLIGHT) {
                        __atomic_store_n(&it->msg.cancelled, 1,
                                         __ATOMIC_RELAXED);
                    }
                }
                stuck += p->busy;
                p->orphan = 1;
                p->next = kq->orphans;
                kq->orphans = p;
            } else {
                p->next = tofree;
                tofree = p;
            }
        }
    }
    pthread_mutex_unlock(&kq->lock);
    free(ps);

    if (stuck > 0) {
        ll_log(kq->in, LL_LOG_WARN, "%d message(s) still with handlers at "
               "the drain deadline: asked to cancel, left uncommitted", stuck);
    }
    if (commit != NULL && commit->cnt > 0 && !lost) {
        char  what[512];

        describe(commit, what, sizeof(what));
        rd_kafka_offsets_store(kq->rk, commit);
        err = rd_kafka_commit(kq->rk, commit, 0);
        if (err) {
            ll_log(kq->in, LL_LOG_WARN, "commit of %s on revoke: %s (they "
                   "will be redelivered)", what, rd_kafka_err2str(err));
        } else {
            ll_log(kq->in, LL_LOG_INFO, "committed %s on revoke", what);
        }
    }
    if (commit != NULL) {
        rd_kafka_topic_partition_list_destroy(commit);
    }
    while ((p = tofree) != NULL) {
        tofree = p->next;
        kq_part_free(p);
    }
}

static void
pause_or_resume(kq_t *kq, rd_kafka_topic_partition_list_t *l, int pause)
{
    rd_kafka_resp_err_t  err;

    if (l == NULL) {
        return;
    }
    err = pause ? rd_kafka_pause_partitions(kq->rk, l)
                : rd_kafka_resume_partitions(kq->rk, l);
    if (err) {
        ll_log(kq->in, LL_LOG_WARN, "%s: %s", pause ? "pause" : "resume",
               rd_kafka_err2str(err));
    } else {
        char  what[256];

        kq_metric_paused(kq, l, pause);
        describe(l, what, sizeof(what));
        ll_log(kq->in, LL_LOG_DEBUG, "%s %s", pause ? "paused" : "resumed",
               what);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

static void
list_add(rd_kafka_topic_partition_list_t **l, const kq_part_t *p, int64_t off)
{
    if (*l == NULL) {
        *l = rd_kafka_topic_partition_list_new(8);
    }
    rd_kafka_topic_partition_list_add(*l, p->topic, p->partition)->offset = off;
}

/* @locality consumer thread, inside rd_kafka_consumer_poll or close */
static void
rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *list, void *opaque)
{
    rd_kafka_topic_partition_list_t  *fresh = NULL;
    kq_t                             *kq = opaque;
    rd_kafka_error_t                 *error = NULL;
    char                              what[512];
    int                               coop, i, lost;

    coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    describe(list, what, sizeof(what));

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        pthread_mutex_lock(&kq->lock);
        for (i = 0; i < list->cnt; i++) {
            if (kq_part_find(kq, list->elems[i].topic,
                             list->elems[i].partition) != NULL)
            {
                continue;
            }
            if (kq_part_add(kq, list->elems[i].topic,
                            list->elems[i].partition) == NULL)
            {
                /* its messages are dropped unhandled and uncommitted */
                ll_log(kq->in, LL_LOG_ERR, "out of memory for %s [%d]",
                       list->elems[i].topic, (int) list->elems[i].partition);
                continue;
            }
            list_add(&fresh, kq->parts, RD_KAFKA_OFFSET_INVALID);
        }
        pthread_mutex_unlock(&kq->lock);
        ll_log(kq->in, LL_LOG_INFO, "assigned %s%s", what,
               coop ? " (incremental)" : "");
        if (coop) {
            error = rd_kafka_incremental_assign(rk, list);
        } else {
            err = rd_kafka_assign(rk, list);
        }
        /* librdkafka keeps a partition's pause flag across unassign and
         * assign: one paused by back-pressure before it was revoked would
         * stay paused for good, while its new window starts unpaused */
        pause_or_resume(kq, fresh, 0);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        lost = rd_kafka_assignment_lost(rk);
        ll_log(kq->in, LL_LOG_INFO, "revoked %s%s", what,
               lost ? " (lost: not committing)" : "");
        kq_revoke(kq, list, lost);
        if (coop) {
            error = rd_kafka_incremental_unassign(rk, list);
        } else {
            err = rd_kafka_assign(rk, NULL);
        }
    } else {
        ll_log(kq->in, LL_LOG_ERR, "rebalance: %s", rd_kafka_err2str(err));
        kq_revoke(kq, NULL, 1);
        err = rd_kafka_assign(rk, NULL);
    }
    if (error != NULL) {
        ll_log(kq->in, LL_LOG_ERR, "rebalance: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else if (err && err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS
               && err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
    {
        ll_log(kq->in, LL_LOG_ERR, "rebalance: %s", rd_kafka_err2str(err));
    }
}

static void
consume_error(kq_t *kq, const rd_kafka_message_t *m)
{
    if (m->rkt != NULL) {
        ll_log(kq->in, LL_LOG_WARN, "%s [%d]: %s", rd_kafka_topic_name(m->rkt),
               (int) m->partition, rd_kafka_message_errstr(m));
    } else {
        ll_log(kq->in, LL_LOG_WARN, "consumer: %s",
               rd_kafka_message_errstr(m));
    }
}

/*
 * Take a round of fetched messages into their windows, start what may
 * start, and pause partitions whose window is full (back-pressure: memory
 * stays bounded by backlog per partition).  @locality consumer thread
 */
static void
intake(kq_t *kq, rd_kafka_message_t **msgs, size_t n)
{
    rd_kafka_topic_partition_list_t  *pause = NULL;
    kq_item_t                        *items[KQ_BATCH], *it, *drop = NULL;
    kq_item_t                        *batch = NULL;
    kq_part_t                        *touched[KQ_BATCH], *p = NULL;
    size_t                            i;
    int                               nt = 0, j;

    for (i = 0; i < n; i++) {
        items[i] = NULL;
        if (msgs[i]->err) {
            consume_error(kq, msgs[i]);
            rd_kafka_message_destroy(msgs[i]);
            continue;
        }
        /* a message can't be dropped (later ones would commit past it):
         * wait for memory rather */
        while ((items[i] = kq_item_new(kq, msgs[i])) == NULL) {
            ll_log(kq->in, LL_LOG_ERR, "out of memory; retrying");
            if (__atomic_load_n(&kq->stopping, __ATOMIC_RELAXED)) {
                break;
            }
            usleep(100000);
        }
        if (items[i] == NULL) {
            for ( ; i < n; i++) {
                rd_kafka_message_destroy(msgs[i]);
            }
            break;
        }
    }

    pthread_mutex_lock(&kq->lock);
    for (i = 0; i < n; i++) {
        if ((it = items[i]) == NULL) {
            continue;
        }
        if (p == NULL || p->partition != it->partition
            || strcmp(p->topic, it->msg.type) != 0)
        {
            p = kq_part_find(kq, it->msg.type, it->partition);
        }
        if (p != NULL && p->next_offset >= 0
            && it->offset < p->next_offset && p->count == 0)
        {
            /* the position went back (a reset or seek): start over there */
            ll_log(kq->in, LL_LOG_WARN, "%s [%d]: offset went back from %lld "
                   "to %lld", p->topic, (int) p->partition,
                   (long long) p->next_offset, (long long) it->offset);
            p->next_offset = -1;
        }
        if (p == NULL || p->revoking
            || (p->next_offset >= 0 && it->offset < p->next_offset))
        {
            /* not ours any more, or already in the window */
            it->dnext = drop;
            drop = it;
            continue;
        }
        kq_part_append(p, it);
        kq->stats.consumed++;
        if (!p->touched) {
            p->touched = 1;
            touched[nt++] = p;
        }
    }
    for (j = 0; j < nt; j++) {
        p = touched[j];
        p->touched = 0;
        kq_part_pick(p, &batch);
        if (!p->paused && p->count >= kq->conf->backlog) {
            p->paused = 1;
            p->want_resume = 0;
            list_add(&pause, p, RD_KAFKA_OFFSET_INVALID);
        }
    }
    pthread_mutex_unlock(&kq->lock);

    pause_or_resume(kq, pause, 1);
    free_items(drop);
    dispatch(kq, batch);
}

/*
 * Fire due retries and dead-letter rewrites, resume drained partitions,
 * store safe offsets that moved.  Returns how long the next poll may wait.
 * @locality consumer thread
 */
static int
tick(kq_t *kq)
{
    rd_kafka_topic_partition_list_t  *resume = NULL, *store = NULL;
    kq_item_t                        *batch = NULL, *dlq = NULL, *it;
    kq_part_t                        *p;
    rd_kafka_resp_err_t               err;
    int64_t                           now = lt_mono_ms(), off;
    int                               wait = KQ_TICK_MS;

    pthread_mutex_lock(&kq->lock);
    while ((it = kq->timers) != NULL && it->due_ms <= now) {
        kq->timers = it->tnext;
        it->tnext = NULL;
        if (it->state == KQ_RETRY_WAIT) {
            it->state = KQ_INFLIGHT;
            it->dnext = batch;
            batch = it;
        } else {
            it->state = KQ_DLQ;
            it->dnext = dlq;
            dlq = it;
        }
    }
    if (kq->timers != NULL && kq->timers->due_ms - now < wait) {
        wait = (int) (kq->timers->due_ms - now);
    }
    for (p = kq->parts; p != NULL; p = p->next) {
        if (p->want_resume) {
            p->want_resume = 0;
            if (p->paused && p->count <= kq->conf->backlog / 2) {
                p->paused = 0;
                list_add(&resume, p, RD_KAFKA_OFFSET_INVALID);
            }
        }
        if (p->dirty) {
            p->dirty = 0;
            off = kq_part_safe_offset(p);
            if (off > p->stored) {
                p->stored = off;
                list_add(&store, p, off);
            }
        }
    }
    pthread_mutex_unlock(&kq->lock);

    pause_or_resume(kq, resume, 0);
    if (store != NULL) {
        err = rd_kafka_offsets_store(kq->rk, store);
        if (err && err != RD_KAFKA_RESP_ERR__STATE) {
            ll_log(kq->in, LL_LOG_WARN, "offsets store: %s",
                   rd_kafka_err2str(err));
        }
        rd_kafka_topic_partition_list_destroy(store);
    }
    dispatch(kq, batch);
    while ((it = dlq) != NULL) {
        dlq = it->dnext;
        kq_dlq_send(kq, it);
    }
    return wait;
}

static void *
consumer_thread(void *arg)
{
    rd_kafka_message_t  *msgs[KQ_BATCH];
    rd_kafka_resp_err_t  err;
    kq_t                *kq = arg;
    ssize_t              more;
    size_t               n;
    int                  wait = 0;

    while (!__atomic_load_n(&kq->stopping, __ATOMIC_RELAXED)) {
        msgs[0] = rd_kafka_consumer_poll(kq->rk, wait);
        n = 0;
        if (msgs[0] != NULL) {
            n = 1;
            more = rd_kafka_consume_batch_queue(kq->cq, 0, msgs + 1,
                                                KQ_BATCH - 1);
            if (more > 0) {
                n += (size_t) more;
            }
            intake(kq, msgs, n);
        }
        wait = tick(kq);
    }

    /* commit what was handled, then leave the group */
    kq_revoke(kq, NULL, 0);
    err = rd_kafka_consumer_close(kq->rk);
    if (err) {
        ll_log(kq->in, LL_LOG_WARN, "consumer close: %s",
               rd_kafka_err2str(err));
    }
    return NULL;
}

/* @locality main thread, in start */
int
kq_consumer_start(kq_t *kq, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t  *sub;
    rd_kafka_resp_err_t               rerr;
    rd_kafka_conf_t                  *rc;
    char                              rderr[512];
    int                               i, rv;

    rc = kq_rdconf(kq, 1, err, errlen);
    if (rc == NULL) {
        return -1;
    }
    rd_kafka_conf_set_rebalance_cb(rc, rebalance_cb);
    kq->rk = rd_kafka_new(RD_KAFKA_CONSUMER, rc, rderr, sizeof(rderr));
    if (kq->rk == NULL) {
        rd_kafka_conf_destroy(rc);
        snprintf(err, errlen, "consumer: %s", rderr);
        return -1;
    }
    rd_kafka_poll_set_consumer(kq->rk);
    kq->cq = rd_kafka_queue_get_consumer(kq->rk);

    sub = rd_kafka_topic_partition_list_new(kq->ntopics);
    for (i = 0; i < kq->ntopics; i++) {
        rd_kafka_topic_partition_list_add(sub, kq->topics[i],
                                          RD_KAFKA_PARTITION_UA);
        if (!ll_route_exists(kq->in, kq->topics[i])) {
            ll_log(kq->in, LL_LOG_WARN, "no route for \"%s:%s\": its "
                   "messages will be retried and dead-lettered",
                   ll_instance_name(kq->in), kq->topics[i]);
        }
    }
    rerr = rd_kafka_subscribe(kq->rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (rerr) {
        snprintf(err, errlen, "subscribe: %s", rd_kafka_err2str(rerr));
        kq_consumer_stop(kq);
        return -1;
    }

    rv = pthread_create(&kq->cthread, NULL, consumer_thread, kq);
    if (rv != 0) {
        snprintf(err, errlen, "consumer thread: %s", strerror(rv));
        kq_consumer_stop(kq);
        return -1;
    }
    kq->cthread_on = 1;
    ll_log(kq->in, LL_LOG_INFO, "consumer of group \"%s\" started",
           kq->conf->group);
    return 0;
}

/* Stop intake, drain by the shutdown deadline, commit, leave the group.
 * @locality main thread, in stop (or a failed start) */
void
kq_consumer_stop(kq_t *kq)
{
    rd_kafka_queue_t  *cq;
    kq_stats_t         s;
    int                orphans;

    pthread_mutex_lock(&kq->lock);
    __atomic_store_n(&kq->stopping, 1, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&kq->cond);
    pthread_mutex_unlock(&kq->lock);

    if (kq->cthread_on) {
        pthread_mutex_lock(&kq->lock);
        kq_wake(kq);
        pthread_mutex_unlock(&kq->lock);
        pthread_join(kq->cthread, NULL);
        kq->cthread_on = 0;
    }

    pthread_mutex_lock(&kq->lock);
    cq = kq->cq;
    kq->cq = NULL;
    orphans = kq->orphans != NULL;
    s = kq->stats;
    pthread_mutex_unlock(&kq->lock);
    if (cq != NULL) {
        rd_kafka_queue_destroy(cq);
    }
    /* messages still with handlers hold librdkafka memory: the handle
     * then goes in fini, after the core has joined the handlers */
    if (kq->rk != NULL && !orphans) {
        rd_kafka_destroy(kq->rk);
        kq->rk = NULL;
    }

    ll_log(kq->in, LL_LOG_INFO, "consumer stopped: consumed %llu, handled "
           "%llu, retried %llu, dead-lettered %llu, dropped %llu, given up "
           "uncommitted %llu", (unsigned long long) s.consumed,
           (unsigned long long) s.handled, (unsigned long long) s.retried,
           (unsigned long long) s.dead_lettered,
           (unsigned long long) s.dropped, (unsigned long long) s.abandoned);
}

/* Free what stuck handlers kept (they have all returned or been abandoned
 * by the core now), then the consumer handle.  @locality main thread, fini */
void
kq_consumer_fini(kq_t *kq)
{
    kq_part_t  *p;

    while ((p = kq->orphans) != NULL) {
        kq->orphans = p->next;
        kq_part_free(p);
    }
    while ((p = kq->parts) != NULL) {
        kq->parts = p->next;
        kq_part_free(p);
    }
    if (kq->rk != NULL) {
        rd_kafka_destroy(kq->rk);
        kq->rk = NULL;
    }
}
