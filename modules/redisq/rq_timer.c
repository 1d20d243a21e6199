/*
 * rq_timer: the forwarder (docs/asynq-compat.md 5.8) with millisecond precision.
 *
 * Instead of polling every 5 s it sleeps until the earliest due time it
 * knows: the whole second of the first member of each scheduled/retry
 * zset (ZRANGE 0 0 WITHSCORES), refined by the forward script, which
 * reports the earliest ll_at_ms of members of the current second that are
 * not due yet.  It re-reads at least every forward_poll (default 250 ms)
 * to see tasks other processes scheduled, and this process wakes it
 * (rq_timer_poke) when it schedules something sooner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redisq.h"
#include "rq_scripts.h"


void
rq_timer_poke(rq_server_t *s, int64_t due_ms)
{
    pthread_mutex_lock(&s->lock);
    if (due_ms < s->timer_next_ms) {
        s->timer_next_ms = due_ms;
        pthread_cond_signal(&s->timer_cond);
    }
    pthread_mutex_unlock(&s->lock);
}


/* Forward what is due in src of q; lower *next to a later due time it
 * learns.  Returns the number moved, -1 on a Redis failure. */
static int
rq_forward(rq_server_t *s, rq_redis_t *r, rq_queue_t *q, const char *src,
    int64_t *next, ll_log_limit_t *bad)
{
    redisReply  *rep;
    const char  *argv[8];
    char         now_s[24], now_ns[24], now_ms[24], what[RQ_KEY_MAX + 16];
    int64_t      now, due;
    int          moved = 0, full;

    do {
        now = lt_now_ms();
        snprintf(now_s, sizeof(now_s), "%lld", (long long) (now / 1000));
        snprintf(now_ns, sizeof(now_ns), "%lld", (long long) now * 1000000);
        snprintf(now_ms, sizeof(now_ms), "%lld", (long long) now);
        argv[0] = src;
        argv[1] = q->k.pending;
        argv[2] = now_s;
        argv[3] = q->k.task_prefix;
        argv[4] = now_ns;
        argv[5] = q->k.group_prefix;
        argv[6] = now_ms;
        argv[7] = "1000";
        rep = rq_redis_eval(r, &rq_s_forward, 2, 8, argv, NULL);
        if (rep == NULL) {
            rq_redis_failed(s, r);
            return -1;
        }
        rq_redis_fine(s);
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3) {
            snprintf(what, sizeof(what), "forward %s", src);
            rq_script_error(s, bad, what, rep);
            freeReplyObject(rep);
            return -1;
        }
        ll_log_recovered(s->in, bad, "forward %s works again", src);
        moved += (int) rep->element[0]->integer;
        due = rep->element[1]->integer;
        full = rep->element[2]->integer == 1;
        if (due > 0 && due < *next) {
            *next = due;
        }
        freeReplyObject(rep);
    } while (full);
    return moved;
}


/* The first member's whole second of src, as a due time in ms, or -1. */
static int64_t
rq_first_due(redisReply *rep)
{
    double  sec;

    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        return -1;
    }
    /* a score set by anyone: far future (or inf) waits for the poll */
    sec = strtod(rep->element[1]->str, NULL);
    if (!(sec < 9e15)) {
        return INT64_MAX;
    }
    return sec > 0 ? (int64_t) sec * 1000 : -1;
}


/* @locality the timer thread */
void *
rq_timer_main(void *arg)
{
    rq_server_t      *s = arg;
    rq_redis_t        r;
    redisReply       *rep;
    struct timespec   ts;
    ll_log_limit_t    bad = { 0 };      /* error replies */
    int64_t           now, next, due, pause = 0;
    int               i, n, moved, failed;

    rq_redis_init(&r, &s->rc);
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        pthread_mutex_unlock(&s->lock);

        now = lt_now_ms();
        next = now + s->conf->forward_poll;
        moved = 0;
        failed = 0;
        for (i = 0; i < s->nqueues && !failed; i++) {
            n = rq_forward(s, &r, &s->queues[i], s->queues[i].k.scheduled,
                           &next, &bad);
            failed = n < 0;
            moved += n > 0 ? n : 0;
            n = failed ? -1 : rq_forward(s, &r, &s->queues[i],
                                         s->queues[i].k.retry, &next, &bad);
            failed = n < 0;
            moved += n > 0 ? n : 0;
        }
        if (moved > 0) {
            pthread_mutex_lock(&s->lock);
            s->wake = 1;
            pthread_cond_signal(&s->fetch_cond);
            pthread_mutex_unlock(&s->lock);
        }

        /* the earliest second still waiting in each zset */
        for (i = 0; i < s->nqueues && !failed; i++) {
            rq_redis_appendf(&r, "ZRANGE %s 0 0 WITHSCORES",
                             s->queues[i].k.scheduled);
            rq_redis_appendf(&r, "ZRANGE %s 0 0 WITHSCORES",
                             s->queues[i].k.retry);
        }
        for (i = 0; i < 2 * s->nqueues && !failed; i++) {
            rep = rq_redis_reply(&r);
            failed = rep == NULL;
            due = rq_first_due(rep);
            if (due > now && due < next) {
                next = due;
            }
            freeReplyObject(rep);
        }
        pause = failed ? rq_redis_backoff_next(pause) : 0;
        if (failed) {
            next = lt_now_ms() + pause;
        }

        pthread_mutex_lock(&s->lock);
        if (next < s->timer_next_ms) {
            s->timer_next_ms = next;    /* unless poked earlier meanwhile */
        }
        while (!s->stopping) {
            now = lt_now_ms();
            if (now >= s->timer_next_ms) {
                break;
            }
            lt_mono_deadline(&ts, s->timer_next_ms - now);
            pthread_cond_timedwait(&s->timer_cond, &s->lock, &ts);
        }
        s->timer_next_ms = INT64_MAX;
    }
    pthread_mutex_unlock(&s->lock);
    rq_redis_close(&r);
    return NULL;
}
