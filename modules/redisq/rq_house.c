/*
 * rq_house: housekeeping of one server (docs/asynq-compat.md 6, 9, 10, 7.4):
 * deadlines (every 100 ms), heartbeat with server/worker info and lease
 * extension (every 5 s), recoverer (at start, then every 60 s), janitor
 * (every 8 s), and the asynq:cancel subscriber.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redisq.h"
#include "rq_metrics.h"
#include "rq_scripts.h"

#define RQ_TICK_MS        100
#define RQ_HEARTBEAT_MS   5000
#define RQ_INFO_TTL_S     10
#define RQ_REAP_MS        1000      /* dead workers of this host */


/* Mark jobs past their deadline: the handler sees ll_msg_cancelled, and
 * the attempt ends as "context deadline exceeded".  Under s->lock. */
static void
rq_check_deadlines(rq_server_t *s, int64_t now)
{
    rq_job_t  *j;

    for (j = s->jobs; j != NULL; j = j->next) {
        if (j->why == RQ_WHY_NONE && j->deadline_ms > 0
            && j->deadline_ms <= now
            && __atomic_load_n(&j->state, __ATOMIC_ACQUIRE) == RQ_JOB_RUNNING)
        {
            j->why = RQ_WHY_DEADLINE;
            __atomic_store_n(&j->msg.cancelled, 1, __ATOMIC_RELAXED);
        }
    }
}


static Asynq__Timestamp *
rq_ts(Asynq__Timestamp *t, int64_t ms)
{
    asynq__timestamp__init(t);
    t->seconds = ms / 1000;
    t->nanos = (int32_t) (ms % 1000) * 1000000;
    return t;
}


/* Pack this server's ServerInfo (malloc'ed).  Under s->lock. */
static uint8_t *
rq_server_info(rq_server_t *s, const char *status, size_t *len)
{
    Asynq__ServerInfo                si = ASYNQ__SERVER_INFO__INIT;
    Asynq__ServerInfo__QueuesEntry   qe[RQ_MAX_QUEUES], *qp[RQ_MAX_QUEUES];
    Asynq__Timestamp                 st;
    uint8_t                         *buf;
    int                              i;

    for (i = 0; i < s->nqueues; i++) {
        asynq__server_info__queues_entry__init(&qe[i]);
        qe[i].key = s->queues[i].k.name;
        qe[i].value = s->queues[i].priority;
        qp[i] = &qe[i];
    }
    si.host = s->host;
    si.pid = (int32_t) getpid();
    si.server_id = s->server_id;
    si.concurrency = (int32_t) s->conf->concurrency;
    si.n_queues = (size_t) s->nqueues;
    si.queues = qp;
    si.strict_priority = s->conf->strict_priority;
    si.status = (char *) status;
    si.start_time = rq_ts(&st, s->started_ms);
    si.active_worker_count = __atomic_load_n(&s->busy, __ATOMIC_RELAXED);
    *len = asynq__server_info__get_packed_size(&si);
    buf = malloc(*len ? *len : 1);
    if (buf != NULL) {
        asynq__server_info__pack(&si, buf);
    }
    return buf;
}


/*
 * One heartbeat (10 + 6): server info, workers hash, lease extension
 * of every job still holding a valid lease (a running job past its
 * deadline is not extended: if its handler never returns, the lease runs
 * out and a recoverer retries the task).
 */
static void
rq_heartbeat(rq_server_t *s, rq_redis_t *r, unsigned gen)
{
    Asynq__WorkerInfo   wi;
    Asynq__Timestamp    t1, t2;
    rq_job_t           *j;
    redisReply         *rep;
    const char        **argv = NULL;
    size_t             *argl = NULL, n = 0, cap, infolen, i, cmds = 0;
    uint8_t            *info, **bufs = NULL;
    char                exp_s[24], lease_s[24];
    int64_t             now = lt_now_ms();
    int                 q, ok = 1, any;

    snprintf(exp_s, sizeof(exp_s), "%lld",
             (long long) (now / 1000 + RQ_INFO_TTL_S));
    snprintf(lease_s, sizeof(lease_s), "%lld",
             (long long) (now / 1000 + RQ_LEASE_S));
    if (rq_redis_get(r) == NULL) {
        rq_redis_failed(s, r);
        return;
    }

    pthread_mutex_lock(&s->lock);
    info = rq_server_info(s, "active", &infolen);
    cap = 4 + 2 * (size_t) s->njobs + 2;
    argv = malloc(cap * sizeof(char *));
    argl = malloc(cap * sizeof(size_t));
    bufs = calloc((size_t) s->njobs + 1, sizeof(uint8_t *));
    if (info == NULL || argv == NULL || argl == NULL || bufs == NULL) {
        pthread_mutex_unlock(&s->lock);
        goto done;
    }
    /* workers hash: one WorkerInfo per running task */
    argv[n] = "HSET"; argl[n++] = 4;
    argv[n] = s->workers_key; argl[n++] = strlen(s->workers_key);
    i = 0;
    for (j = s->jobs; j != NULL; j = j->next) {
        j->hb_gen = 0;
        if (j->lease_ms >= now
            && (__atomic_load_n(&j->state, __ATOMIC_ACQUIRE) != RQ_JOB_RUNNING
                || now <= j->deadline_ms))
        {
            j->hb_gen = gen;    /* its lease is extended below */
        }
        if (j->tm == NULL || !j->dispatched
            || __atomic_load_n(&j->state, __ATOMIC_ACQUIRE) != RQ_JOB_RUNNING)
        {
            continue;
        }
        asynq__worker_info__init(&wi);
        wi.host = s->host;
        wi.pid = (int32_t) getpid();
        wi.server_id = s->server_id;
        wi.task_id = j->tm->id;
        wi.task_type = j->tm->type;
        wi.task_payload = j->tm->payload;
        wi.queue = j->q->k.name;
        wi.start_time = rq_ts(&t1, j->start_ms);
        wi.deadline = rq_ts(&t2, j->deadline_ms);
        argl[n + 1] = asynq__worker_info__get_packed_size(&wi);
        bufs[i] = malloc(argl[n + 1] ? argl[n + 1] : 1);
        if (bufs[i] == NULL) {
            continue;
        }
        asynq__worker_info__pack(&wi, bufs[i]);
        argv[n] = j->tm->id; argl[n] = strlen(j->tm->id);
        argv[n + 1] = (char *) bufs[i++];
        n += 2;
    }
    pthread_mutex_unlock(&s->lock);

    rq_redis_appendf(r, "ZADD asynq:servers %s %s", exp_s,
                     s->servers_key);
    rq_redis_appendf(r, "ZADD asynq:workers %s %s", exp_s,
                     s->workers_key);
    /* MULTI goes where the keys after it are (one slot in a cluster) */
    rq_redis_route(r, s->servers_key);
    rq_redis_appendf(r, "MULTI");
    rq_redis_appendf(r, "SETEX %s %d %b", s->servers_key, RQ_INFO_TTL_S,
                     info, infolen);
    rq_redis_appendf(r, "DEL %s", s->workers_key);
    cmds = 5;
    if (n > 2) {
        rq_redis_append(r, (int) n, argv, argl);
        rq_redis_appendf(r, "EXPIRE %s %d", s->workers_key,
                         RQ_INFO_TTL_S);
        cmds += 2;
    }
    rq_redis_appendf(r, "EXEC");
    cmds++;

    /* lease extension, one ZADD XX per queue, and the same scores in this
     * server's ll_held (rq_reap.c) */
    pthread_mutex_lock(&s->lock);
    for (q = 0; q < s->nqueues; q++) {
        n = 0;
        argv[n] = "ZADD"; argl[n++] = 4;
        argv[n] = s->queues[q].k.lease; argl[n++] = strlen(argv[1]);
        argv[n] = "XX"; argl[n++] = 2;
        any = 0;
        for (j = s->jobs; j != NULL; j = j->next) {
            if (j->hb_gen == gen && j->q == &s->queues[q] && n + 2 <= cap) {
                argv[n] = lease_s; argl[n++] = strlen(lease_s);
                argv[n] = j->id; argl[n++] = j->idlen;
                any = 1;
            }
        }
        if (any) {
            rq_redis_append(r, (int) n, argv, argl);
            argv[1] = s->queues[q].held;
            argl[1] = strlen(argv[1]);
            rq_redis_append(r, (int) n, argv, argl);
            cmds += 2;
        }
    }
    pthread_mutex_unlock(&s->lock);
    cmds += (size_t) rq_owner_append(s, r, now);

    for (i = 0; i < cmds; i++) {
        rep = rq_redis_reply(r);
        if (rep == NULL && ok) {
            rq_redis_failed(s, r);
        }
        if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
            ok = 0;
            if (rep != NULL) {
                ll_log_fail(s->in, &s->hb_log, LL_LOG_WARN, "heartbeat: %s",
                            rep->str);
            }
        }
        freeReplyObject(rep);
    }
    if (r->c != NULL) {
        rq_redis_fine(s);
    }
    if (ok) {
        ll_log_recovered(s->in, &s->hb_log, "heartbeat works again");
        pthread_mutex_lock(&s->lock);
        for (j = s->jobs; j != NULL; j = j->next) {
            if (j->hb_gen == gen) {
                j->lease_ms = (now / 1000 + RQ_LEASE_S) * 1000;
            }
        }
        pthread_mutex_unlock(&s->lock);
    }

done:
    for (i = 0; bufs != NULL && bufs[i] != NULL; i++) {
        free(bufs[i]);
    }
    free(bufs);
    free(argv);
    free(argl);
    free(info);
}


void
rq_house_clear(rq_server_t *s, rq_redis_t *r)
{
    redisReply  *rep;
    int          i, n;

    if (rq_redis_get(r) == NULL) {
        return;
    }
    rq_redis_appendf(r, "ZREM asynq:servers %s", s->servers_key);
    rq_redis_appendf(r, "ZREM asynq:workers %s", s->workers_key);
    rq_redis_appendf(r, "DEL %s %s", s->servers_key, s->workers_key);
    n = 3 + rq_owner_clear_append(s, r);
    for (i = 0; i < n; i++) {
        rep = rq_redis_reply(r);
        freeReplyObject(rep);
    }
}


#define RQ_RECOVER_BATCH  512

/* 6: retry or archive the tasks whose lease expired 30 s ago or more,
 * whichever server held them, all of them, RQ_RECOVER_BATCH per script
 * call.  A message whose id is not its key's is
 * archived under the key's ID as undecodable (written for its own id, the
 * task would stay in active). */
static void
rq_recover(rq_server_t *s, rq_redis_t *r)
{
    redisReply  *rep, *id, *msg;
    rq_job_t    *jobs[RQ_RECOVER_BATCH], *j;
    const char  *argv[6];
    char         cutoff[24], offset[16], limit[16];
    char         why[RQ_QNAME_MAX + 160];
    size_t       i;
    int          q, n, done, total, all, scanned, pairs, skip;

    snprintf(cutoff, sizeof(cutoff), "%lld",
             (long long) (lt_now_ms() / 1000 - RQ_LEASE_S));
    snprintf(limit, sizeof(limit), "%d", RQ_RECOVER_BATCH);
    for (q = 0; q < s->nqueues; q++) {
        argv[0] = s->queues[q].k.lease;
        argv[1] = s->queues[q].k.active;
        argv[2] = cutoff;
        argv[3] = s->queues[q].k.task_prefix;
        argv[4] = offset;
        argv[5] = limit;
        total = all = skip = 0;
        do {
            snprintf(offset, sizeof(offset), "%d", skip);
            rep = rq_redis_eval(r, &rq_s_lease_expired, 2, 6, argv, NULL);
            if (rep == NULL || rep->type != REDIS_REPLY_ARRAY
                || rep->elements < 1
                || rep->element[0]->type != REDIS_REPLY_INTEGER)
            {
                if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
                    snprintf(why, sizeof(why), "recoverer on %s",
                             s->queues[q].k.name);
                    rq_script_error(s, NULL, why, rep);
                }
                freeReplyObject(rep);
                return;
            }
            scanned = (int) rep->element[0]->integer;
            pairs = (int) (rep->elements / 2);
            for (n = 0, i = 1; i + 1 < rep->elements; i += 2) {
                id = rep->element[i];
                msg = rep->element[i + 1];
                j = calloc(1, sizeof(*j));
                if (j == NULL) {
                    continue;
                }
                j->q = &s->queues[q];
                j->lease_ms = INT64_MAX;
                if (rq_job_decode(j, id, msg) < 0) {
                    rq_job_free(j);
                    continue;
                }
                jobs[n++] = j;
            }
            freeReplyObject(rep);
            done = n > 0 ? rq_recover_write(s, r, jobs, n,
                                            "asynq: task lease expired", -1)
                         : 0;
            total += done;
            all += n;
            while (n > 0) {
                rq_job_free(jobs[--n]);
            }
            /* written ones (and IDs without a hash) left the lease zset;
             * the others (NOT FOUND: not in active) are skipped next time,
             * so such entries never hide the ones after them */
            skip += pairs - done;
        } while (scanned == RQ_RECOVER_BATCH);
        if (all > 0) {
            ll_log(s->in, LL_LOG_WARN, "queue %s: %d of %d tasks with an "
                   "expired lease recovered", s->queues[q].k.name, total,
                   all);
        }
    }
}


/* 9: delete completed tasks whose retention is over. */
static void
rq_janitor(rq_server_t *s, rq_redis_t *r)
{
    redisReply  *rep;
    const char  *argv[4];
    char         now[24], batch[24], what[RQ_QNAME_MAX + 32];
    int          q, n;

    snprintf(now, sizeof(now), "%lld", (long long) (lt_now_ms() / 1000));
    snprintf(batch, sizeof(batch), "%lld", (long long) s->conf->janitor_batch);
    for (q = 0; q < s->nqueues; q++) {
        do {
            argv[0] = s->queues[q].k.completed;
            argv[1] = now;
            argv[2] = s->queues[q].k.task_prefix;
            argv[3] = batch;
            rep = rq_redis_eval(r, &rq_s_janitor, 1, 4, argv, NULL);
            n = rep != NULL && rep->type == REDIS_REPLY_INTEGER
                ? (int) rep->integer : 0;
            if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
                snprintf(what, sizeof(what), "janitor on %s",
                         s->queues[q].k.name);
                rq_script_error(s, NULL, what, rep);
            }
            freeReplyObject(rep);
        } while (n >= s->conf->janitor_batch);
    }
}


/* @locality the house thread */
void *
rq_house_main(void *arg)
{
    rq_server_t      *s = arg;
    rq_redis_t        r;
    rq_metrics_t     *m = rq_metrics_new(s);
    struct timespec   ts;
    int64_t           now, next_hb = 0, next_jan, next_rec = 0;
    int64_t           next_reap = 0;
    unsigned          gen = 0;

    rq_redis_init(&r, &s->rc);
    next_jan = lt_mono_ms() + s->conf->janitor_interval;
    pthread_mutex_lock(&s->lock);
    while (!s->ack_stop) {
        rq_check_deadlines(s, lt_now_ms());
        pthread_mutex_unlock(&s->lock);

        now = lt_mono_ms();
        if (now >= next_hb) {
            gen = gen + 1 == 0 ? 1 : gen + 1;
            rq_heartbeat(s, &r, gen);
            next_hb = now + RQ_HEARTBEAT_MS;
        }
        if (now >= next_reap) {
            rq_reap(s, &r);
            next_reap = now + RQ_REAP_MS;
        }
        if (now >= next_rec) {
            rq_recover(s, &r);
            next_rec = now + s->conf->recover_interval;
        }
        if (now >= next_jan) {
            rq_janitor(s, &r);
            next_jan = now + s->conf->janitor_interval;
        }
        rq_metrics_tick(m, &r, now);

        pthread_mutex_lock(&s->lock);
        if (!s->ack_stop) {
            lt_mono_deadline(&ts, RQ_TICK_MS);
            pthread_cond_timedwait(&s->house_cond, &s->lock, &ts);
        }
    }
    pthread_mutex_unlock(&s->lock);
    rq_metrics_free(m);
    rq_house_clear(s, &r);
    rq_redis_close(&r);
    return NULL;
}


/* A task ID arrived on asynq:cancel: cancel it if it runs here. */
static void
rq_cancel_id(rq_server_t *s, const char *id, size_t len)
{
    rq_job_t  *j;

    pthread_mutex_lock(&s->lock);
    for (j = s->jobs; j != NULL; j = j->next) {
        if (j->idlen == len && memcmp(j->id, id, len) == 0
            && j->why == RQ_WHY_NONE
            && __atomic_load_n(&j->state, __ATOMIC_ACQUIRE) == RQ_JOB_RUNNING)
        {
            j->why = RQ_WHY_CANCELED;
            __atomic_store_n(&j->msg.cancelled, 1, __ATOMIC_RELAXED);
            ll_log(s->in, LL_LOG_INFO, "task %s cancelled", j->id);
        }
    }
    pthread_mutex_unlock(&s->lock);
}


static int
rq_stopping(rq_server_t *s)
{
    int  v;

    pthread_mutex_lock(&s->lock);
    v = s->stopping;
    pthread_mutex_unlock(&s->lock);
    return v;
}


/* @locality the cancel thread */
void *
rq_cancel_main(void *arg)
{
    rq_server_t    *s = arg;
    rq_redis_t      r;
    redisReply     *rep;
    struct pollfd   pfd;
    void           *v;

    rq_redis_init(&r, &s->rc);
    while (!rq_stopping(s)) {
        rep = rq_redis_cmd(&r, "SUBSCRIBE asynq:cancel");
        if (rep == NULL) {
            rq_redis_failed(s, &r);
            usleep(500 * 1000);     /* asynq retries every 5 s; we poll */
            continue;
        }
        rq_redis_fine(s);
        freeReplyObject(rep);
        while (!rq_stopping(s)) {
            v = NULL;
            if (redisReaderGetReply(r.c->reader, &v) != REDIS_OK) {
                break;
            }
            rep = v;
            if (rep != NULL) {
                if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3
                    && rep->element[2]->type == REDIS_REPLY_STRING)
                {
                    rq_cancel_id(s, rep->element[2]->str,
                                 rep->element[2]->len);
                }
                freeReplyObject(rep);
                continue;
            }
            pfd.fd = r.c->fd;
            pfd.events = POLLIN;
            if (poll(&pfd, 1, 250) > 0 && redisBufferRead(r.c) != REDIS_OK) {
                break;
            }
        }
        rq_redis_drop(&r, NULL);
    }
    rq_redis_close(&r);
    return NULL;
}
