/*
 * rq_ack: the acker thread, which writes each finished attempt with
 * asynq's scripts (docs/asynq-compat.md 5.3-5.6, decision table 7.1): successes
 * as one Done script per queue for the whole batch, everything else
 * pipelined, one script per task.  A task whose local lease ran out is not
 * written (6): the recoverer of some server takes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redisq.h"
#include "rq_scripts.h"

#define RQ_ACK_MAX  1024    /* jobs per write round */

/* RQ_A_STALL: a retry for a transient reason (ll_reason_transient): back
 * to the retry set without counting a failure, as asynq's Retry with
 * isFailure false, so an outage never archives a task */
enum { RQ_A_DONE = 0, RQ_A_COMPLETE, RQ_A_RETRY, RQ_A_ARCHIVE, RQ_A_REQUEUE,
       RQ_A_SKIP, RQ_A_STALL };

static const char  *rq_why_text[] = {
    "", "context deadline exceeded", "context canceled", "", ""
};


int64_t
rq_backoff_s(int n)
{
    int64_t  x = n < 0 ? 0 : (n > 1000 ? 1000 : n);

    return x * x * x * x + 15 + (int64_t) (rand() % 30) * (x + 1);
}


/* Shared per-round values. */
typedef struct {
    int64_t     now_ms;
    int64_t     now_s;
    char        now_s_txt[24];
    char        now_ns_txt[24];
    char        stats_exp[24];
    char        cutoff[24];
    char        max[16];
} rq_round_t;


/* What to write for j (under s->lock: why and lease are read). */
static int
rq_action(rq_server_t *s, rq_job_t *j, const rq_round_t *rd)
{
    const Asynq__TaskMessage  *tm = j->tm;

    if (j->lease_ms < rd->now_ms) {
        ll_log(s->in, LL_LOG_WARN, "task %s: lease expired before its "
               "outcome was written; left to the recoverer", j->id);
        return RQ_A_SKIP;
    }
    switch (j->why) {
    case RQ_WHY_NOSTART:
        return RQ_A_REQUEUE;
    case RQ_WHY_UNDECODABLE:
        return RQ_A_ARCHIVE;
    case RQ_WHY_DEADLINE:
    case RQ_WHY_CANCELED:
        snprintf(j->error, sizeof(j->error), "%s", rq_why_text[j->why]);
        j->outcome = LL_RETRY;
        j->reason = LL_R_ERROR;
        j->retry_delay_ms = -1;
        break;
    default:
        break;
    }
    switch (j->outcome) {
    case LL_DONE:
        return tm->retention > 0 ? RQ_A_COMPLETE : RQ_A_DONE;
    case LL_REVOKE:
        return RQ_A_DONE;
    case LL_RETRY:
        if (ll_reason_transient(j->reason)) {
            return RQ_A_STALL;
        }
        return tm->retried >= tm->retry ? RQ_A_ARCHIVE : RQ_A_RETRY;
    default:
        return RQ_A_ARCHIVE;
    }
}


/* Append the script for one job (not Done).  0, or -1 if not sent. */
static int
rq_append_one(rq_server_t *s, rq_redis_t *r, rq_job_t *j, int action,
    const rq_round_t *rd)
{
    Asynq__TaskMessage   c;
    rq_keys_t           *k = &j->q->k;
    rq_script_t         *script;
    const char          *argv[20];
    size_t               len[20];
    char                *hash, pday[RQ_KEY_MAX + 16];
    const char          *held = j->held != NULL ? j->held : "";
    size_t               hashlen;
    char                 fday[RQ_KEY_MAX + 16], t1[24], t2[24];
    uint8_t             *msg = NULL;
    size_t               msglen = 0;
    int64_t              due_ms = 0;
    int                  n = 0, nkeys, rc;

#define RQ_ARG(v, l)  (argv[n] = (v), len[n++] = (l))
#define RQ_STR(v)     RQ_ARG(v, strlen(v))

    /* sized for the ID: stored IDs (a Go client's TaskID) have no limit */
    hashlen = strlen(k->task_prefix) + j->idlen;
    hash = malloc(hashlen + 1);
    if (hash == NULL) {
        return -1;
    }
    memcpy(stpcpy(hash, k->task_prefix), j->id, j->idlen);
    hash[hashlen] = '\0';
    rq_day_key(pday, sizeof(pday), k->processed, rd->now_s);
    rq_day_key(fday, sizeof(fday), k->failed, rd->now_s);

    if (action != RQ_A_REQUEUE) {
        if (j->tm == NULL) {
            msg = rq_msg_replacement(j->id, k->name, j->raw, j->rawlen,
                                     j->error, rd->now_s, &msglen);
        } else {
            c = *j->tm;     /* shallow: the unpacked strings stay owned */
            if (action == RQ_A_COMPLETE) {
                c.completed_at = rd->now_s;
            } else {
                if (action == RQ_A_RETRY) {
                    c.retried++;
                }
                c.error_msg = j->error;
                c.last_failed_at = rd->now_s;
            }
            msg = rq_msg_pack(&c, &msglen);
        }
        if (msg == NULL) {
            free(hash);
            return -1;
        }
    }

    switch (action) {
    case RQ_A_COMPLETE:
        script = &rq_s_complete;
        nkeys = 6;
        snprintf(t1, sizeof(t1), "%lld",
                 (long long) rq_sat_add(rd->now_s, j->tm->retention));
        RQ_STR(k->active); RQ_STR(k->lease); RQ_STR(k->completed);
        RQ_ARG(hash, hashlen); RQ_STR(pday); RQ_STR(k->processed);
        RQ_ARG(j->id, j->idlen); RQ_STR(rd->stats_exp); RQ_STR(t1);
        RQ_ARG((char *) msg, msglen); RQ_STR(j->tm->unique_key);
        RQ_STR(held); RQ_STR(j->expect);
        break;
    case RQ_A_RETRY:
    case RQ_A_STALL:
        script = &rq_s_retry;
        nkeys = 8;
        due_ms = j->retry_delay_ms >= 0
                 ? rq_sat_add(rd->now_ms, j->retry_delay_ms)
                 : (rd->now_s + rq_backoff_s(j->tm->retried)) * 1000;
        snprintf(t1, sizeof(t1), "%lld", (long long) (due_ms / 1000));
        snprintf(t2, sizeof(t2), "%lld", (long long) due_ms);
        RQ_ARG(hash, hashlen); RQ_STR(k->active); RQ_STR(k->lease); RQ_STR(k->retry);
        RQ_STR(pday); RQ_STR(fday); RQ_STR(k->processed); RQ_STR(k->failed);
        RQ_ARG(j->id, j->idlen); RQ_ARG((char *) msg, msglen); RQ_STR(t1);
        RQ_STR(rd->stats_exp); RQ_STR(action == RQ_A_RETRY ? "1" : "0");
        RQ_STR(t2); RQ_STR(held); RQ_STR(j->expect);
        break;
    case RQ_A_ARCHIVE:
        script = &rq_s_archive;
        nkeys = 8;
        RQ_ARG(hash, hashlen); RQ_STR(k->active); RQ_STR(k->lease);
        RQ_STR(k->archived); RQ_STR(pday); RQ_STR(fday);
        RQ_STR(k->processed); RQ_STR(k->failed);
        RQ_ARG(j->id, j->idlen); RQ_ARG((char *) msg, msglen); RQ_STR(rd->now_s_txt);
        RQ_STR(rd->cutoff); RQ_STR(rd->max); RQ_STR(rd->stats_exp);
        RQ_STR(k->task_prefix); RQ_STR(held); RQ_STR(j->expect);
        ll_log(s->in, LL_LOG_INFO, "task %s (%s) archived: %s", j->id,
               j->tm ? j->tm->type : "undecodable", j->error);
        break;
    default:    /* RQ_A_REQUEUE */
        script = &rq_s_requeue;
        nkeys = 4;
        RQ_STR(k->active); RQ_STR(k->lease); RQ_STR(k->pending);
        RQ_ARG(hash, hashlen); RQ_ARG(j->id, j->idlen); RQ_STR(rd->now_ns_txt);
        RQ_STR(held); RQ_STR(j->expect);
        break;
    }
#undef RQ_ARG
#undef RQ_STR

    rc = rq_redis_append_eval(r, script, nkeys, n, argv, len);
    free(msg);
    free(hash);
    if (rc == 0 && due_ms > 0) {
        rq_timer_poke(s, due_ms);
    }
    return rc;
}


/* Append one Done script for jobs[0..n) (all of one queue). */
static int
rq_append_done(rq_redis_t *r, rq_job_t **jobs, int n, const rq_round_t *rd)
{
    rq_keys_t    *k = &jobs[0]->q->k;
    const char  **argv;
    char          pday[RQ_KEY_MAX + 16];
    int           i, a = 0, rc;

    argv = malloc(sizeof(char *) * (size_t) (7 + 2 * n));
    if (argv == NULL) {
        return -1;
    }
    rq_day_key(pday, sizeof(pday), k->processed, rd->now_s);
    argv[a++] = k->active;
    argv[a++] = k->lease;
    argv[a++] = pday;
    argv[a++] = k->processed;
    argv[a++] = rd->stats_exp;
    argv[a++] = k->task_prefix;
    argv[a++] = jobs[0]->q->held;   /* Done: only this server's tasks */
    for (i = 0; i < n; i++) {
        argv[a++] = jobs[i]->id;
        argv[a++] = jobs[i]->tm->unique_key;
    }
    rc = rq_redis_append_eval(r, &rq_s_done, 4, a, argv, NULL);
    free(argv);
    return rc;
}


void
rq_load_scripts(rq_redis_t *r, unsigned *loaded)
{
    static rq_script_t  *all[] = { &rq_s_done, &rq_s_complete, &rq_s_retry,
                                   &rq_s_archive, &rq_s_requeue };
    size_t               i;

    if (rq_redis_get(r) == NULL || *loaded == r->connects) {
        return;
    }
    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (rq_redis_load(r, all[i]) != 0) {
            return;
        }
    }
    *loaded = r->connects;
}


static void
rq_round_init(rq_round_t *rd)
{
    rd->now_ms = lt_now_ms();
    rd->now_s = rd->now_ms / 1000;
    snprintf(rd->now_s_txt, sizeof(rd->now_s_txt), "%lld",
             (long long) rd->now_s);
    snprintf(rd->now_ns_txt, sizeof(rd->now_ns_txt), "%lld",
             (long long) rd->now_ms * 1000000);
    snprintf(rd->stats_exp, sizeof(rd->stats_exp), "%lld",
             (long long) (rd->now_s + RQ_STATS_TTL_S));
    snprintf(rd->cutoff, sizeof(rd->cutoff), "%lld",
             (long long) (rd->now_s - RQ_ARCHIVE_AGE_S));
    snprintf(rd->max, sizeof(rd->max), "%d", RQ_ARCHIVE_MAX);
}


rq_job_t *
rq_ack_write(rq_server_t *s, rq_redis_t *r, rq_job_t *list)
{
    rq_job_t    *jobs[RQ_ACK_MAX], *group[RQ_ACK_MAX], *unwritten = NULL;
    int          action[RQ_ACK_MAX], ok[RQ_ACK_MAX], idx[RQ_ACK_MAX];
    int          cmd_first[RQ_ACK_MAX + RQ_MAX_QUEUES];
    int          cmd_n[RQ_ACK_MAX + RQ_MAX_QUEUES];
    int          n, i, q, c, m, ncmd, bad;
    char         what[240];
    rq_round_t   rd;
    redisReply  *rep;

    while (list != NULL) {
        rq_round_init(&rd);
        rq_load_scripts(r, &s->ack_loaded);
        pthread_mutex_lock(&s->lock);
        for (n = 0; list != NULL && n < RQ_ACK_MAX; n++) {
            jobs[n] = list;
            list = list->ack_next;
            action[n] = rq_action(s, jobs[n], &rd);
            ok[n] = action[n] == RQ_A_SKIP;
        }
        pthread_mutex_unlock(&s->lock);

        /* commands: one Done per queue over its jobs, then one script per
         * other job; idx[] holds the job indexes in command order */
        ncmd = 0;
        c = 0;
        for (q = 0; q < s->nqueues; q++) {
            for (i = 0, m = 0; i < n; i++) {
                if (action[i] == RQ_A_DONE && jobs[i]->q == &s->queues[q]) {
                    group[m] = jobs[i];
                    idx[c + m++] = i;
                }
            }
            if (m > 0 && rq_append_done(r, group, m, &rd) == 0) {
                cmd_first[ncmd] = c;
                cmd_n[ncmd++] = m;
                c += m;
            }
        }
        for (i = 0; i < n; i++) {
            if (action[i] != RQ_A_DONE && action[i] != RQ_A_SKIP
                && rq_append_one(s, r, jobs[i], action[i], &rd) == 0)
            {
                cmd_first[ncmd] = c;
                cmd_n[ncmd++] = 1;
                idx[c++] = i;
            }
        }

        /* a job is finished when its script ran, or answered NOT FOUND
         * (someone else moved the task: nothing left to write) */
        for (i = 0; i < ncmd; i++) {
            rep = rq_redis_reply(r);
            bad = rep == NULL || (rep->type == REDIS_REPLY_ERROR
                                  && !rq_redis_is_error(rep, "NOT FOUND"));
            if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
                /* the text names the queue, not the task: a failure
                 * that repeats for every task is then logged once */
                if (bad) {
                    snprintf(what, sizeof(what), "outcome of a task of %s",
                             jobs[idx[cmd_first[i]]]->q->k.name);
                    rq_script_error(s, NULL, what, rep);
                } else {
                    ll_log(s->in, LL_LOG_INFO, "outcome of task %.200s: %.*s",
                           jobs[idx[cmd_first[i]]]->id, (int) rep->len,
                           rep->str);
                }
            }
            if (rq_redis_is_error(rep, "NOSCRIPT")) {
                s->ack_loaded = 0;      /* SCRIPT FLUSH: load them again */
            }
            for (c = 0; !bad && c < cmd_n[i]; c++) {
                ok[idx[cmd_first[i] + c]] = 1;
            }
            freeReplyObject(rep);
        }

        pthread_mutex_lock(&s->lock);
        for (i = 0; i < n; i++) {
            if (ok[i]) {
                rq_job_unlink(s, jobs[i]);
                rq_job_free(jobs[i]);
            } else {
                jobs[i]->ack_next = unwritten;
                unwritten = jobs[i];
            }
        }
        pthread_mutex_unlock(&s->lock);
    }
    return unwritten;
}


int
rq_recover_write(rq_server_t *s, rq_redis_t *r, rq_job_t **jobs, int n,
    const char *why, int64_t delay_ms)
{
    rq_round_t   rd;
    redisReply  *rep;
    int          i, sent = 0, done = 0, action;

    rq_round_init(&rd);
    rq_load_scripts(r, &s->house_loaded);
    for (i = 0; i < n; i++) {
        action = jobs[i]->tm == NULL || jobs[i]->tm->retried >= jobs[i]->tm->retry
                 ? RQ_A_ARCHIVE : RQ_A_RETRY;
        if (jobs[i]->tm != NULL) {    /* else the caller gave the reason */
            snprintf(jobs[i]->error, sizeof(jobs[i]->error), "%s", why);
        }
        jobs[i]->retry_delay_ms = delay_ms;
        sent += rq_append_one(s, r, jobs[i], action, &rd) == 0;
    }
    for (i = 0; i < sent; i++) {
        rep = rq_redis_reply(r);
        done += rep != NULL && rep->type == REDIS_REPLY_INTEGER;
        if (rq_redis_is_error(rep, "NOSCRIPT")) {
            s->house_loaded = 0;
        }
        freeReplyObject(rep);
    }
    return done;
}


void
rq_requeue(rq_server_t *s, rq_redis_t *r, rq_job_t *list)
{
    rq_round_t   rd;
    rq_job_t    *j;
    redisReply  *rep;
    int          n = 0, i;

    rq_round_init(&rd);
    rq_load_scripts(r, &s->ack_loaded);
    for (j = list; j != NULL; j = j->ack_next) {
        if (rq_append_one(s, r, j, RQ_A_REQUEUE, &rd) == 0) {
            n++;
        }
    }
    for (i = 0; i < n; i++) {
        rep = rq_redis_reply(r);
        if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
            ll_log(s->in, LL_LOG_WARN, "requeue at stop: %s",
                   rep ? rep->str : r->err);
        }
        freeReplyObject(rep);
    }
    if (n > 0) {
        ll_log(s->in, LL_LOG_INFO, "%d unfinished tasks requeued", n);
    }
}


static int
rq_acks_empty(rq_server_t *s)
{
    return __atomic_load_n(&s->acks, __ATOMIC_ACQUIRE) == NULL;
}


/* Take every queued job, oldest first. */
static rq_job_t *
rq_acks_take(rq_server_t *s)
{
    rq_job_t  *j, *next, *list = NULL;

    j = __atomic_exchange_n(&s->acks, NULL, __ATOMIC_ACQUIRE);
    for ( ; j != NULL; j = next) {
        next = j->ack_next;
        j->ack_next = list;
        list = j;
    }
    return list;
}


/* @locality the acker thread */
void *
rq_acker_main(void *arg)
{
    rq_server_t      *s = arg;
    rq_redis_t        r;
    rq_job_t         *list, *retry = NULL, *j;
    struct timespec   ts;
    int               stop_waits = 0;

    rq_redis_init(&r, &s->rc);
    pthread_mutex_lock(&s->lock);
    for ( ;; ) {
        /* At stop every job left in srv->jobs has its answer and is
         * pushed, or is about to be (rq_done sets DONE, then pushes): wait
         * for those too, or they would be neither written nor freed.
         * Bounded, in case that rule is ever broken. */
        while (rq_acks_empty(s)
               && (!s->ack_stop || (retry == NULL && s->njobs > 0)))
        {
            if (retry == NULL && !s->ack_stop) {
                pthread_cond_wait(&s->ack_cond, &s->lock);
                continue;
            }
            lt_mono_deadline(&ts, s->ack_stop ? 100 : 200);
            if (pthread_cond_timedwait(&s->ack_cond, &s->lock, &ts) != 0
                && (retry != NULL || ++stop_waits == 50))
            {
                break;
            }
        }
        if (s->ack_stop && rq_acks_empty(s) && retry == NULL) {
            if (s->njobs > 0) {
                ll_log(s->in, LL_LOG_WARN, "%d outcomes never came at stop; "
                       "the tasks come back by lease expiry", s->njobs);
            }
            break;
        }
        if (!s->ack_stop && __atomic_load_n(&s->busy, __ATOMIC_RELAXED) > 1) {
            /* more answers are coming: gather them for 1 ms (their slots
             * are free already, so this costs no throughput; pushes to a
             * non-empty stack do not signal) */
            lt_mono_deadline(&ts, 1);
            while (!s->ack_stop
                   && pthread_cond_timedwait(&s->ack_cond, &s->lock, &ts) == 0)
            {
                /* void */
            }
        }
        pthread_mutex_unlock(&s->lock);
        list = rq_acks_take(s);

        /* earlier unwritten jobs go first */
        if (retry != NULL) {
            for (j = retry; j->ack_next != NULL; j = j->ack_next) {
                /* void */
            }
            j->ack_next = list;
            list = retry;
        }
        retry = rq_ack_write(s, &r, list);
        if (retry != NULL && r.c == NULL) {
            rq_redis_failed(s, &r);
        } else if (list != NULL && retry == NULL) {
            rq_redis_fine(s);
        }

        pthread_mutex_lock(&s->lock);
        if (s->ack_stop && retry != NULL && rq_acks_empty(s)) {
            /* Redis is gone at stop: the leases expire, and the recoverer
             * of some server retries these tasks */
            ll_log(s->in, LL_LOG_WARN, "outcomes not written at stop; the "
                   "tasks come back by lease expiry");
            while (retry != NULL) {
                j = retry;
                retry = j->ack_next;
                rq_job_unlink(s, j);
                rq_job_free(j);
            }
            if (s->njobs == 0) {
                break;
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
    rq_redis_close(&r);
    return NULL;
}
