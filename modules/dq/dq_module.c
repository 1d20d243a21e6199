/*
 * dq: go-queue's dq, the delayed queue on beanstalkd, as a looklook mq
 * module: serves the configured nodes (route "INSTANCE:TUBE") and, through
 * its handle hook, produces jobs (ll_send(in, "dq", ...)).  See README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dq.h"

#define I(key, def, m, lo, hi, help) \
    LL_SET_INT(dq_conf_t, m, key, 0, def, lo, hi, help)
#define D(key, def, m, lo, hi, help) \
    LL_SET_DURATION(dq_conf_t, m, key, 0, def, lo, hi, help)

static const ll_conf_field_t  dq_schema[] = {
    LL_SET_NODE(dq_conf_t, beanstalks, "beanstalks", LL_CONF_REQUIRED,
                "the nodes, go-queue's Beanstalks: ( { endpoint = "
                "\"host:port\"; tube = \"name\"; }, ... )"),
    LL_SET_STR(dq_conf_t, redis, "redis", 0, "redis://127.0.0.1:6379/0",
               "the Redis of the de-duplication locks (go-queue's Redis): "
               "redis://host[:port][/db], user:password@ before the host if "
               "needed"),
    LL_SET_BOOL(dq_conf_t, consume, "consume", 0, "true",
                "serve the nodes' tubes (false: only produce)"),
    I("concurrency", "8", concurrency, 1, 1000,
      "jobs in work at once per node in each worker (a connection each)"),
    I("max_retries", "3", max_retries, 0, 1000000,
      "releases after a handler's retry answer before the job is buried "
      "(a transient reason, such as unavailable, spends none)"),
    D("retry_backoff", "1s", retry_backoff_ms, 0, 86400000,
      "first retry delay, doubled each time (a handler may set its own); "
      "beanstalkd delays in whole seconds, rounded up"),
    D("retry_backoff_max", "5m", retry_backoff_max_ms, 0, 86400000,
      "longest retry delay"),
    D("ttr", "5s", ttr_ms, 1000, 86400000,
      "time to run of produced jobs (go-queue: 5s)"),
    I("priority", "2", priority, 0, 4294967295.0,
      "priority of produced, released and buried jobs (go-queue: 2)"),
    D("connect_timeout", "2s", connect_timeout_ms, 1, 600000,
      "connect and command timeout for beanstalkd and Redis"),
    LL_SET_END
};

typedef struct {
    char  *endpoint;
    char  *tube;
} dq_node_conf_t;

static const ll_conf_field_t  dq_node_schema[] = {
    LL_SET_STR(dq_node_conf_t, endpoint, "endpoint", LL_CONF_REQUIRED, NULL,
               "host:port of a beanstalkd"),
    LL_SET_STR(dq_node_conf_t, tube, "tube", LL_CONF_REQUIRED, NULL,
               "the tube on it"),
    LL_SET_END
};

static const ll_opt_decl_t  dq_opts[] = {
    { "due", LL_OPT_MS, LL_OPT_IN,
      "delivered: when the job was due (Unix ms, from its wrapper)" },
    { "delay", LL_OPT_MS, LL_OPT_OUT,
      "to produce: run after this long (go-queue's Delay); or set "
      "process_at (go-queue's At)" },
    { "ttr", LL_OPT_MS, LL_OPT_OUT,
      "to produce: time to run, whole seconds (default the ttr setting)" },
    { "priority", LL_OPT_INT, LL_OPT_OUT,
      "to produce: beanstalkd priority (default the priority setting)" },
    { NULL, 0, 0, NULL }
};


static void
dq_free(void *arg)
{
    dq_t  *dq = arg;
    int    i;

    for (i = 0; i < dq->nnodes; i++) {
        dq_producer_close(&dq->nodes[i]);
        pthread_mutex_destroy(&dq->nodes[i].put_lock);
    }
    for (i = 0; i < dq->nslots; i++) {
        pthread_cond_destroy(&dq->slots[i].cond);
    }
    pthread_cond_destroy(&dq->cond);
    pthread_condattr_destroy(&dq->cond_attr);
    pthread_mutex_destroy(&dq->lock);
    rq_redis_conf_free(&dq->redis_conf);
}


static int
dq_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    dq_conf_t            *c = conf;
    dq_t                 *dq;
    const ll_conf_node_t *e;
    dq_node_conf_t        nc;
    char                  why[200];
    int                   i, j, n;

    dq = ll_alloc(in, sizeof(*dq));
    if (dq == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    dq->in = in;
    dq->conf = c;
    dq->health = -1;
    pthread_mutex_init(&dq->lock, NULL);
    pthread_condattr_init(&dq->cond_attr);
    pthread_condattr_setclock(&dq->cond_attr, CLOCK_MONOTONIC);
    pthread_cond_init(&dq->cond, &dq->cond_attr);
    /* the slots before the cleanup that reads them: cleanups run last
     * added first */
    n = ll_conf_count(c->beanstalks);
    if (c->consume && n > 0 && n <= DQ_MAX_NODES) {
        dq->slots = ll_alloc(in, sizeof(dq_slot_t) * (size_t) n
                                 * (size_t) c->concurrency);
        if (dq->slots == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    if (ll_cleanup_add(in, dq_free, dq) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    if (n <= 0 || n > DQ_MAX_NODES) {
        return ll_setting_error(in, err, errlen, "beanstalks", "beanstalks: "
                                "1 to %d nodes, ( { endpoint = \"host:port\"; "
                                "tube = \"name\"; }, ... )", DQ_MAX_NODES);
    }
    for (i = 0; i < n; i++) {
        dq_node_t  *node = &dq->nodes[i];

        e = ll_conf_at(c->beanstalks, i);
        memset(&nc, 0, sizeof(nc));
        if (ll_conf_fill(in, e, dq_node_schema, &nc, err, errlen) != 0) {
            return -1;
        }
        if (!bs_tube_valid(nc.tube)) {
            return ll_conf_error(in, err, errlen, e, "tube \"%s\": 1 to 200 "
                                 "letters, digits or - + / ; . $ _ ( ), not "
                                 "starting with -", nc.tube);
        }
        if (strlen(nc.endpoint) >= sizeof(node->put.endpoint)) {
            return ll_conf_error(in, err, errlen, e, "endpoint too long");
        }
        for (j = 0; j < i; j++) {
            if (strcmp(dq->nodes[j].endpoint, nc.endpoint) == 0) {
                /* as go-queue: the copies must land on different servers */
                return ll_conf_error(in, err, errlen, e, "endpoint %s given "
                                     "twice: all node endpoints must be "
                                     "different", nc.endpoint);
            }
        }
        node->endpoint = nc.endpoint;
        node->tube = nc.tube;
        node->dq = dq;
        pthread_mutex_init(&node->put_lock, NULL);
        bs_init(&node->put, c->connect_timeout_ms);
        dq->nnodes++;
    }
    if (c->retry_backoff_max_ms < c->retry_backoff_ms) {
        return ll_setting_error(in, err, errlen, "retry_backoff_max",
                                "retry_backoff must be <= retry_backoff_max");
    }
    if (rq_redis_conf_parse(&dq->redis_conf, c->redis, why, sizeof(why)) != 0)
    {
        return ll_setting_error(in, err, errlen, "redis", "redis: %s", why);
    }
    dq->redis_conf.connect_timeout_ms = c->connect_timeout_ms;
    dq->redis_conf.cmd_timeout_ms = c->connect_timeout_ms;
    ll_set_data(in, dq);
    return 0;
}


/* Whether the nodes and Redis answer, by ll_ready_deadline: a generation
 * that can reach no node (or, to consume, no Redis) is not started. */
static int
dq_check(dq_t *dq, char *err, size_t errlen)
{
    int64_t     left;
    bs_conn_t   bs;
    rq_redis_t  r;
    int         i, up = 0;
    char        why[400] = "";

    for (i = 0; i < dq->nnodes; i++) {
        left = ll_ready_deadline(dq->in) - ll_now_ms();
        bs_init(&bs, left < dq->conf->connect_timeout_ms
                     ? (left > 100 ? left : 100) : dq->conf->connect_timeout_ms);
        if (bs_connect(&bs, dq->nodes[i].endpoint) == BS_OK
            && bs_stats_tube(&bs, dq->nodes[i].tube) != BS_EIO)
        {
            up++;
        } else {
            ll_log(dq->in, LL_LOG_WARN, "beanstalkd %s: %s",
                   dq->nodes[i].endpoint, bs.err);
            snprintf(why, sizeof(why), "%s", bs.err);
            dq->nodes[i].down = 1;
        }
        bs_close(&bs);
    }
    if (up == 0) {
        snprintf(err, errlen, "no beanstalkd node reachable: %s", why);
        return -1;
    }
    if (!dq->conf->consume) {
        return 0;
    }
    rq_redis_init(&r, &dq->redis_conf);
    if (rq_redis_get(&r) == NULL) {
        snprintf(err, errlen, "redis: %s", r.err);
        rq_redis_close(&r);
        return -1;
    }
    rq_redis_close(&r);
    return 0;
}


static int
dq_start(ll_instance_t *in, char *err, size_t errlen)
{
    dq_t  *dq = ll_get_data(in);

    if (dq_check(dq, err, errlen) != 0) {
        return -1;
    }
    return dq_consumers_start(dq, err, errlen);
}


static void
dq_stop(ll_instance_t *in)
{
    dq_consumers_stop(ll_get_data(in));
}


static int
dq_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    return dq_produce(ll_get_data(in), msg, res);
}


LL_MODULE_EXPORT const ll_module_t  ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_MQ,
    .name = "dq",
    .version = "1.0.0",
    .description = "go-queue's dq: delayed jobs on beanstalkd, replicated to "
                   "several nodes, run once (Redis lock)",
    .conf = dq_schema,
    .conf_size = sizeof(dq_conf_t),
    .opts = dq_opts,
    .init = dq_init,
    .start = dq_start,
    .stop = dq_stop,
    .handle = dq_handle,
};
