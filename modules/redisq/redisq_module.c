/*
 * redisq: an asynq-compatible Redis task queue for looklook.
 *
 * As an mq module it serves the configured queues (dequeue, dispatch to the
 * routed handler, write the outcome as asynq does) and, through its handle
 * hook, enqueues tasks for other modules (ll_send(in, "redisq", ...)).
 * See README.md for settings, error texts and the design.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redisq.h"

#define R_STR(key, def, m, help) \
    LL_SET_STR(rq_conf_t, m, key, 0, def, help)
#define R_INT(key, def, m, lo, hi, help) \
    LL_SET_INT(rq_conf_t, m, key, 0, def, lo, hi, help)
#define R_DUR(key, def, m, lo, hi, help) \
    LL_SET_DURATION(rq_conf_t, m, key, 0, def, lo, hi, help)

static const ll_conf_field_t  rq_schema[] = {
    /* the hint holds no "://...@": masking (looklook -m, errors) would cut it */
    R_STR("redis", "redis://127.0.0.1:6379/0", redis,
          "redis://host[:port][/db] (user:password@ before the host if "
          "needed) or unix:///path[?db=N]"),
    R_STR("username", NULL, username, "ACL user name (overrides the URL's)"),
    R_STR("password", NULL, password, "password (overrides the URL's)"),
    R_INT("db", "-1", db, -1, 1000000,
          "database number (overrides the URL's; -1 = the URL's)"),
    R_DUR("connect_timeout", "2s", connect_timeout, 0, 0,
          "Redis connect timeout"),
    R_INT("concurrency", "20", concurrency, 1, 100000,
          "tasks run at the same time by each worker process"),
    LL_SET_NODE(rq_conf_t, queues, "queues", 0,
                "queues served and their priorities: { critical = 6; "
                "default = 3; }, or for any asynq queue name ( { name = "
                "\"email:send\"; weight = 3; }, ... ) (default "
                "{ default = 1; })"),
    LL_SET_BOOL(rq_conf_t, strict_priority, "strict_priority", 0, "false",
                "serve lower-priority queues only when higher ones are empty"),
    R_INT("dequeue_batch", "100", dequeue_batch, 1, 1000,
          "most tasks leased by one dequeue call"),
    R_DUR("janitor_interval", "8s", janitor_interval, 100, 86400000,
          "how often expired completed tasks are deleted"),
    R_INT("janitor_batch", "100", janitor_batch, 1, 1000000,
          "completed tasks deleted per janitor script call"),
    R_DUR("recover_interval", "60s", recover_interval, 100, 86400000,
          "how often tasks with an expired lease are recovered"),
    R_DUR("forward_poll", "250ms", forward_poll, 1, 86400000,
          "longest sleep of the scheduled/retry forwarder between re-reads"),
    LL_SET_END
};

/* The options of a task, beside the generic message fields. */
static const ll_opt_decl_t  rq_opts[] = {
    { "queue", LL_OPT_STR, LL_OPT_IN | LL_OPT_OUT,
      "delivered: the task's queue; to enqueue: the queue (default "
      "\"default\")" },
    { "unique_ttl", LL_OPT_MS, LL_OPT_OUT,
      "uniqueness lock lifetime, at least 1s (asynq Unique)" },
    { "retention", LL_OPT_MS, LL_OPT_OUT,
      "keep the task as completed this long after it ran (asynq "
      "Retention): its ID stays taken" },
    { NULL, 0, 0, NULL }
};


static void rq_stop(ll_instance_t *in);


static int
rq_prio_cmp(const void *a, const void *b)
{
    return ((const rq_queue_t *) b)->priority
           - ((const rq_queue_t *) a)->priority;
}


/* The served queue named q, or NULL. */
static rq_queue_t *
rq_served(rq_server_t *s, const char *q)
{
    int  i;

    for (i = 0; i < s->nqueues; i++) {
        if (strcmp(s->queues[i].k.name, q) == 0) {
            return &s->queues[i];
        }
    }
    return NULL;
}


/*
 * Read the queues into s->queues (sorted, highest priority first), from
 * either form:
 *   queues = { critical = 6; low = 1; };            (names libconfig allows)
 *   queues = ( { name = "email:send"; weight = 3; }, ... );  (any name)
 */
static int
rq_init_queues(rq_server_t *s, const ll_conf_node_t *node, char *err,
    size_t errlen)
{
    const ll_conf_node_t  *e, *nm, *w;
    const char            *name;
    int64_t                prio;
    int                    i, n;

    n = node ? ll_conf_count(node) : 0;
    for (i = 0; i < n; i++) {
        e = ll_conf_at(node, i);
        name = ll_conf_key(e);
        if (name != NULL) {
            if (ll_conf_int(e, &prio) != 0) {
                return ll_conf_error(s->in, err, errlen, e, "queues: expected "
                                     "{ name = priority; ... } with integer "
                                     "priorities");
            }
        } else {
            nm = ll_conf_get(e, "name");
            w = ll_conf_get(e, "weight");
            name = nm ? ll_conf_str(nm) : NULL;
            if (name == NULL || w == NULL || ll_conf_int(w, &prio) != 0
                || ll_conf_count(e) != 2)
            {
                return ll_conf_error(s->in, err, errlen, e, "queues: expected "
                                     "( { name = \"queue\"; weight = N; }, "
                                     "... ) with integer weights");
            }
        }
        if (prio <= 0) {
            continue;   /* as asynq: non-positive priorities are dropped */
        }
        if (s->nqueues == RQ_MAX_QUEUES) {
            return ll_conf_error(s->in, err, errlen, e, "queues: at most %d",
                                 RQ_MAX_QUEUES);
        }
        if (rq_keys_init(&s->queues[s->nqueues].k, name) != 0) {
            return ll_conf_error(s->in, err, errlen, e, "queues: invalid queue "
                                 "name \"%s\"", name);
        }
        if (rq_served(s, name) != NULL) {
            return ll_conf_error(s->in, err, errlen, e, "queues: \"%s\" "
                                 "given twice", name);
        }
        s->queues[s->nqueues].priority = prio > 1000000 ? 1000000 : (int) prio;
        s->total_priority += s->queues[s->nqueues].priority;
        s->nqueues++;
    }
    if (s->nqueues == 0) {
        rq_keys_init(&s->queues[0].k, "default");
        s->queues[0].priority = 1;
        s->total_priority = 1;
        s->nqueues = 1;
    }
    qsort(s->queues, (size_t) s->nqueues, sizeof(rq_queue_t), rq_prio_cmp);
    for (i = 0; i < s->nqueues; i++) {
        s->queues[i].srv = s;
    }
    return 0;
}


static void
rq_server_free(rq_server_t *s)
{
    rq_job_t  *j;
    int        i;

    while (s->orphans != NULL) {
        j = s->orphans;
        s->orphans = j->ack_next;
        rq_job_free(j);
    }
    for (i = 0; i < RQ_CLIENT_CONNS; i++) {
        rq_redis_close(&s->client[i]);
        pthread_mutex_destroy(&s->client_lock[i]);
    }
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->deq_lock);
    pthread_cond_destroy(&s->fetch_cond);
    pthread_cond_destroy(&s->idle_cond);
    pthread_cond_destroy(&s->ack_cond);
    pthread_cond_destroy(&s->timer_cond);
    pthread_cond_destroy(&s->drain_cond);
    pthread_cond_destroy(&s->house_cond);
    rq_redis_conf_free(&s->rc);
    free(s);
}


void
rq_redis_failed(rq_server_t *s, rq_redis_t *r)
{
    /* a call held back by the back-off repeats a failure already told
     * (maybe before another thread saw Redis back); a connection that
     * died while idle (a Redis restart seen late) is no outage if a fresh
     * one works */
    if (r->held
        || (r->c == NULL && r->retry_at_ms == 0 && rq_redis_get(r) != NULL))
    {
        return;
    }
    ll_log_fail(s->in, &s->down, LL_LOG_ERR, "redis %s: %s", s->where,
                r->err);
}


void
rq_redis_fine(rq_server_t *s)
{
    ll_log_recovered(s->in, &s->down, "redis %s reconnected", s->where);
}


/*
 * Check the settings and allocate; opens nothing.
 * @locality worker main thread (or the -t checker)
 */
static int
rq_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    rq_conf_t           *c = conf;
    rq_server_t         *s;
    pthread_condattr_t   ca;
    pthread_cond_t      *conds[6];
    int                  i;

    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->in = in;
    s->conf = c;
    if (rq_redis_conf_parse(&s->rc, c->redis, err, errlen) != 0) {
        free(s);
        return -1;
    }
    if (rq_redis_conf_set(&s->rc, c->username, c->password, (int) c->db)
        != 0)
    {
        rq_redis_conf_free(&s->rc);
        free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->rc.connect_timeout_ms = c->connect_timeout;
    rq_redis_conf_text(&s->rc, s->where, sizeof(s->where));

    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->deq_lock, NULL);
    rq_errors_init(s);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    conds[0] = &s->fetch_cond;
    conds[1] = &s->idle_cond;
    conds[2] = &s->ack_cond;
    conds[3] = &s->timer_cond;
    conds[4] = &s->drain_cond;
    conds[5] = &s->house_cond;
    for (i = 0; i < 6; i++) {
        pthread_cond_init(conds[i], &ca);
    }
    pthread_condattr_destroy(&ca);
    for (i = 0; i < RQ_CLIENT_CONNS; i++) {
        pthread_mutex_init(&s->client_lock[i], NULL);
        rq_redis_init(&s->client[i], &s->rc);
    }
    s->timer_next_ms = INT64_MAX;
    s->ready_tail = &s->ready;

    if (rq_init_queues(s, c->queues, err, errlen) != 0) {
        rq_server_free(s);
        return -1;
    }
    ll_set_data(in, s);
    return 0;
}


/*
 * Check that Redis answers (until ll_ready_deadline: a reload onto an
 * unreachable or refusing Redis fails and the old generation goes on),
 * then start the threads.  Later outages are ridden out: every thread
 * reconnects with back-off.
 * @locality worker main thread
 */
static int
rq_start(ll_instance_t *in, char *err, size_t errlen)
{
    rq_server_t  *s = ll_get_data(in);
    char          why[160];
    int           i, rc = 0;

    if (gethostname(s->host, sizeof(s->host) - 1) != 0 || s->host[0] == 0) {
        snprintf(s->host, sizeof(s->host), "unknown-host");
    }
    rq_uuid(s->server_id);
    snprintf(s->servers_key, sizeof(s->servers_key),
             "asynq:servers:{%s:%d:%s}", s->host, (int) getpid(),
             s->server_id);
    snprintf(s->workers_key, sizeof(s->workers_key),
             "asynq:workers:{%s:%d:%s}", s->host, (int) getpid(),
             s->server_id);
    rq_owner_init(s);
    s->started_ms = lt_now_ms();

    if (rq_redis_ping_until(&s->rc, ll_ready_deadline(in), why, sizeof(why))
        != 0)
    {
        snprintf(err, errlen, "redis %s unreachable: %s", s->where, why);
        return -1;
    }

    /* the threads start in this order; stop joins those that did */
    s->started = 1;
    rc = pthread_create(&s->acker, NULL, rq_acker_main, s);
    s->nthreads = rc ? 0 : 1;
    if (rc == 0 && (rc = pthread_create(&s->house, NULL, rq_house_main, s))
        == 0)
    {
        s->nthreads++;
    }
    if (rc == 0 && (rc = pthread_create(&s->timer, NULL, rq_timer_main, s))
        == 0)
    {
        s->nthreads++;
    }
    if (rc == 0
        && (rc = pthread_create(&s->canceller, NULL, rq_cancel_main, s)) == 0)
    {
        s->nthreads++;
    }
    if (rc == 0
        && (rc = pthread_create(&s->fetcher, NULL, rq_fetcher_main, s)) == 0)
    {
        s->nthreads++;
    }
    for (i = 0; rc == 0 && i < s->nqueues; i++) {
        rc = pthread_create(&s->queues[i].waiter, NULL, rq_waiter_main,
                            &s->queues[i]);
        s->queues[i].waiter_started = rc == 0;
    }
    if (rc != 0) {
        snprintf(err, errlen, "pthread_create() failed");
        rq_stop(in);            /* joins what was started */
        return -1;
    }
    ll_log(in, LL_LOG_INFO, "serving %d queue(s) from %s, concurrency %lld, "
           "server %s", s->nqueues, s->where,
           (long long) s->conf->concurrency, s->server_id);
    return 0;
}


/*
 * Stop intake, let running handlers finish until the shutdown deadline,
 * write their outcomes, requeue what is still running (its late done
 * callback writes nothing), clear the heartbeat, join every thread.
 * @locality worker main thread
 */
static void
rq_stop(ll_instance_t *in)
{
    rq_server_t      *s = ll_get_data(in);
    rq_job_t         *j, *next, *give = NULL;
    rq_redis_t        r;
    struct timespec   ts;
    int64_t           deadline = ll_shutdown_deadline(in), left;
    int               i, expect;

    if (!s->started) {
        return;
    }
    s->started = 0;
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_broadcast(&s->fetch_cond);
    pthread_cond_broadcast(&s->idle_cond);
    pthread_cond_broadcast(&s->timer_cond);
    pthread_mutex_unlock(&s->lock);
    if (s->nthreads > 4) {
        pthread_join(s->fetcher, NULL);
    }
    if (s->nthreads > 3) {
        pthread_join(s->canceller, NULL);
    }
    if (s->nthreads > 2) {
        pthread_join(s->timer, NULL);
    }
    for (i = 0; i < s->nqueues; i++) {
        if (s->queues[i].waiter_started) {
            pthread_join(s->queues[i].waiter, NULL);
        }
    }

    /* prefetched tasks are given back now, not started in the shutdown
     * window (rq_pump starts none once stopping is set) */
    pthread_mutex_lock(&s->lock);
    for (j = s->ready; j != NULL; j = next) {
        next = j->ack_next;
        __atomic_store_n(&j->state, RQ_JOB_ORPHANED, __ATOMIC_RELEASE);
        rq_job_unlink(s, j);
        j->ack_next = give;
        give = j;
    }
    s->ready = NULL;
    s->ready_tail = &s->ready;
    s->nready = 0;

    /* in-flight work may finish until the deadline */
    while (s->njobs > 0 && (left = deadline - lt_now_ms()) > 0) {
        lt_mono_deadline(&ts, left < 100 ? left : 100);
        pthread_cond_timedwait(&s->drain_cond, &s->lock, &ts);
    }
    /* give back what is still running */
    for (j = s->jobs; j != NULL; j = next) {
        next = j->next;
        expect = RQ_JOB_RUNNING;
        if (__atomic_compare_exchange_n(&j->state, &expect, RQ_JOB_ORPHANED,
                                        0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
        {
            __atomic_store_n(&j->msg.cancelled, 1, __ATOMIC_RELAXED);
            rq_job_unlink(s, j);
            j->ack_next = give;
            give = j;
        }
    }
    s->ack_stop = 1;
    pthread_cond_broadcast(&s->ack_cond);
    pthread_cond_broadcast(&s->house_cond);
    pthread_mutex_unlock(&s->lock);

    if (give != NULL) {
        rq_redis_init(&r, &s->rc);
        rq_requeue(s, &r, give);
        rq_redis_close(&r);
    }
    s->orphans = give;      /* freed in fini: a late done may touch them */
    if (s->nthreads > 0) {
        pthread_join(s->acker, NULL);
    }
    if (s->nthreads > 1) {
        pthread_join(s->house, NULL);
    }
}


/* @locality worker main thread */
static void
rq_fini(ll_instance_t *in)
{
    rq_server_t  *s = ll_get_data(in);

    if (s != NULL) {
        rq_server_free(s);
        ll_set_data(in, NULL);
    }
}


/*
 * Enqueue a task for another module (see rq_client.h for the fields, the
 * options and the error texts): LL_DONE with res->id = the task ID;
 * LL_FAIL for an invalid task (LL_R_INVALID), a duplicate (unique lock
 * held: LL_R_DUPLICATE) or an ID conflict (LL_R_CONFLICT); LL_RETRY when
 * Redis is unreachable (LL_R_UNAVAILABLE) or memory short (LL_R_NO_MEMORY).
 * @locality any thread (ll_send), concurrently
 */
static int
rq_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    rq_server_t   *s = ll_get_data(in);
    rq_enq_out_t   out;
    unsigned       start, k, i;
    int64_t        now;

    start = __atomic_fetch_add(&s->client_next, 1, __ATOMIC_RELAXED);
    for (k = 0; k < RQ_CLIENT_CONNS; k++) {
        i = (start + k) % RQ_CLIENT_CONNS;
        if (pthread_mutex_trylock(&s->client_lock[i]) == 0) {
            break;
        }
    }
    if (k == RQ_CLIENT_CONNS) {
        i = start % RQ_CLIENT_CONNS;
        pthread_mutex_lock(&s->client_lock[i]);
    }
    rq_enqueue(&s->client[i], msg, &out);
    pthread_mutex_unlock(&s->client_lock[i]);

    snprintf(res->id, sizeof(res->id), "%s", out.id);
    switch (out.rc) {
    case RQ_OK:
        break;
    case RQ_EREDIS:
        return ll_error(res, LL_R_UNAVAILABLE, "%s", out.error);
    case RQ_ENOMEM:
        return ll_error(res, LL_R_NO_MEMORY, "%s", out.error);
    case RQ_EDUP:
        return ll_error(res, LL_R_DUPLICATE, "%s", out.error);
    case RQ_ECONFLICT:
        return ll_error(res, LL_R_CONFLICT, "%s", out.error);
    default:
        return ll_error(res, LL_R_INVALID, "%s", out.error);
    }

    /* wake our own timer or fetcher instead of waiting for a poll */
    if (rq_served(s, ll_msg_opt_str(msg, "queue", "default")) != NULL) {
        now = lt_now_ms();
        if (msg->process_at_ms > now) {
            rq_timer_poke(s, msg->process_at_ms);
        } else {
            pthread_mutex_lock(&s->lock);
            s->wake = 1;
            pthread_cond_signal(&s->fetch_cond);
            pthread_mutex_unlock(&s->lock);
        }
    }
    return LL_DONE;
}


LL_MODULE_EXPORT const ll_module_t  ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_MQ,
    .name = "redisq",
    .version = "0.1.0",
    .description = "asynq-compatible Redis task queue (server and client)",
    .conf = rq_schema,
    .conf_size = sizeof(rq_conf_t),
    .opts = rq_opts,
    .init = rq_init,
    .start = rq_start,
    .stop = rq_stop,
    .fini = rq_fini,
    .handle = rq_handle,
};
