/*
 * orders: the order store module.  It owns the connections to the order
 * database and offers them to business modules as the "orders" service
 * (lo_orders.h).  init checks the settings and opens nothing; start opens
 * the first connection and creates or checks the table, waiting for a
 * database that is down until ll_ready_deadline(), then failing (a reload
 * onto an unreachable database keeps the old generation).
 *
 * For the admin module it counts the store's errors by operation and
 * keeps the instance's health: a call the database could not do makes
 * it unready, and a probe thread then checks the database every second
 * until it answers again (or a call succeeds first).  An outage is
 * logged once (its repeats counted) and its end once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "looklook.h"
#include "orders_store.h"

#define ORDERS_PROBE_MS  1000

enum { OP_FIND = 0, OP_CHANGE, OP_CREATE, OP_N };

typedef struct {
    ll_instance_t      *in;
    orders_conf_t       conf;       /* filled by the core */
    lo_orders_t        *store;
    lo_orders_svc_t     svc;
    ll_series_t        *errors[OP_N];

    /* health: the probe thread waits on cond while ready */
    pthread_t           probe;
    int                 probing;    /* the thread runs */
    pthread_mutex_t     lock;
    pthread_cond_t      cond;
    int                 ready;      /* atomic read; written under lock */
    int                 stopping;
    ll_log_limit_t      down;       /* database outages, for the log */
} orders_module_t;

static const ll_conf_field_t  orders_conf_schema[] = {
    LL_SET_STR(orders_conf_t, db, "db", 0, "sqlite:data/orders.db",
               "order database: sqlite:PATH or mysql://user:pass@host:port/db"),
    LL_SET_STR(orders_conf_t, cache_redis, "cache_redis", 0, NULL,
               "redis://... whose go-zero cache keys of an order are deleted "
               "after each write (looklook's order-rpc cache); unset: none"),
    LL_SET_INT(orders_conf_t, pool_size, "pool_size", 0, "64", 1, 1024,
               "most database connections per worker (opened as handler "
               "threads need them)"),
    LL_SET_STR(orders_conf_t, time_zone, "time_zone", 0, "+08:00",
               "zone of the table's datetimes (looklook: Asia/Shanghai, "
               "+08:00)"),
    LL_SET_DURATION(orders_conf_t, busy_timeout, "busy_timeout", 0, "5s", 0, 0,
                    "SQLite lock wait; MySQL and Redis connect and I/O timeout"),
    LL_SET_INT(orders_conf_t, max_conflicts, "max_conflicts", 0, "16", 1,
               1000000, "version conflicts in a row before a change is "
               "retried later"),
    LL_SET_END
};


static void
orders_free_store(void *store)
{
    orders_store_free(store);
}


/* The database answered (ok) or could not (why): the log (every failure
 * counted, written once) and the health follow, and the probe thread is
 * woken to watch for its return.  @locality any thread */
static void
orders_health(orders_module_t *m, int ok, const char *why)
{
    if (ok) {
        ll_log_recovered(m->in, &m->down, "%s reachable again",
                         orders_store_text(m->store));
    } else {
        ll_log_fail(m->in, &m->down, LL_LOG_ERR, "%s: %s",
                    orders_store_text(m->store), why);
    }
    if (__atomic_load_n(&m->ready, __ATOMIC_RELAXED) == ok) {
        return;
    }
    pthread_mutex_lock(&m->lock);
    if (m->ready != ok) {
        __atomic_store_n(&m->ready, ok, __ATOMIC_RELAXED);
        if (ok) {
            ll_health_set(m->in, LL_HEALTH_READY, NULL);
        } else {
            ll_health_set(m->in, LL_HEALTH_UNREADY, "database: %s", why);
            pthread_cond_signal(&m->cond);
        }
    }
    pthread_mutex_unlock(&m->lock);
}

/* After a call of the service: LO_ORDERS_ERROR is the database's (or the
 * cache's) failure; any other answer came from a working database. */
static int
orders_observe(lo_orders_t *s, int op, int rc, const char *err)
{
    orders_module_t  *m = orders_store_user(s);

    if (rc == LO_ORDERS_ERROR) {
        ll_metric_add(m->errors[op], 1);
        orders_health(m, 0, err);
    } else if (rc != LO_ORDERS_INVALID) {
        orders_health(m, 1, NULL);
    }
    return rc;
}

static int
svc_find(lo_orders_t *s, const char *sn, lo_order_t *out, char *err,
    size_t errlen)
{
    return orders_observe(s, OP_FIND, orders_find(s, sn, out, err, errlen),
                          err);
}

static int
svc_change_state(lo_orders_t *s, const char *sn, int to, lo_order_t *out,
    char *err, size_t errlen)
{
    return orders_observe(s, OP_CHANGE,
                          orders_change_state(s, sn, to, out, err, errlen),
                          err);
}

static int
svc_create(lo_orders_t *s, lo_order_t *o, char *err, size_t errlen)
{
    return orders_observe(s, OP_CREATE, orders_create(s, o, err, errlen),
                          err);
}

/* While unready, check the database every ORDERS_PROBE_MS.
 * @locality the probe thread */
static void *
orders_probe(void *arg)
{
    orders_module_t  *m = arg;
    struct timespec   ts;
    char              why[LL_ERROR_MAX];
    int               down, ok;

    pthread_mutex_lock(&m->lock);
    while (!m->stopping) {
        if (m->ready) {
            pthread_cond_wait(&m->cond, &m->lock);
            continue;
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ORDERS_PROBE_MS / 1000;
        pthread_cond_timedwait(&m->cond, &m->lock, &ts);
        if (m->stopping || m->ready) {
            continue;
        }
        pthread_mutex_unlock(&m->lock);
        ok = orders_store_check(m->store, &down, why, sizeof(why)) == 0;
        orders_health(m, ok, why);
        pthread_mutex_lock(&m->lock);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

static void
orders_destroy_sync(void *arg)
{
    orders_module_t  *m = arg;

    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
}

/* @locality worker main thread (or a checker process) */
static int
orders_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    orders_module_t  *m;
    int               rc;

    m = ll_alloc(in, sizeof(*m));
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m->in = in;
    m->conf = *(orders_conf_t *) conf;
    m->ready = 1;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    if (ll_cleanup_add(in, orders_destroy_sync, m) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (orders_store_new(&m->store, &m->conf, err, errlen) != 0) {
        return -1;
    }
    if (ll_cleanup_add(in, orders_free_store, m->store) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    orders_store_set_user(m->store, m);
    orders_svc_init(&m->svc, m->store);
    m->svc.find = svc_find;
    m->svc.change_state = svc_change_state;
    m->svc.create = svc_create;
    rc = ll_service_offer(in, "orders", &m->svc);
    if (rc != 0) {
        snprintf(err, errlen, "%s", rc == LL_R_CONFLICT
                 ? "another instance already offers \"orders\""
                 : "out of memory");
        return -1;
    }
    ll_set_data(in, m);
    return 0;
}


/* @locality worker main thread */
static int
orders_start(ll_instance_t *in, char *err, size_t errlen)
{
    static const char *const  ops[OP_N] = { "find", "change_state",
                                            "create" };
    orders_module_t          *m = ll_get_data(in);
    struct timespec           nap = { 0, 100 * 1000000 };
    char                      why[LL_ERROR_MAX];
    int                       down, i, rc;

    for (i = 0; i < OP_N; i++) {
        m->errors[i] = ll_metric(in, LL_METRIC_COUNTER,
                                 "looklook_orders_errors_total",
                                 "Order store calls the database (or the "
                                 "cache) could not do, by operation.",
                                 "name", ll_instance_name(in), "op", ops[i],
                                 (const char *) NULL);
    }
    /* a database that is down may come up (the store backs off between
     * connects); a refused password or an unknown database will not */
    while (orders_store_open(m->store, &down, why, sizeof(why)) != 0) {
        if (!down || ll_now_ms() + nap.tv_nsec / 1000000
                     >= ll_ready_deadline(in))
        {
            snprintf(err, errlen, "%s: %s", orders_store_text(m->store), why);
            return -1;
        }
        nanosleep(&nap, NULL);
    }
    if (orders_store_cache_check(m->store, ll_ready_deadline(in), why,
                                 sizeof(why)) != 0)
    {
        snprintf(err, errlen, "%s: %s", orders_store_text(m->store), why);
        return -1;
    }
    ll_log(in, LL_LOG_INFO, "order store %s ready",
           orders_store_text(m->store));
    rc = pthread_create(&m->probe, NULL, orders_probe, m);
    if (rc != 0) {
        snprintf(err, errlen, "probe thread: %s", strerror(rc));
        return -1;
    }
    m->probing = 1;
    return 0;
}


/* @locality worker main thread */
static void
orders_stop(ll_instance_t *in)
{
    orders_module_t  *m = ll_get_data(in);

    if (!m->probing) {
        return;
    }
    pthread_mutex_lock(&m->lock);
    m->stopping = 1;
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->probe, NULL);
    m->probing = 0;
}


LL_MODULE_EXPORT const ll_module_t  ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_OTHER,
    .name = "orders",
    .version = "1.0.0",
    .description = "looklook's homestay_order store (SQLite or MySQL), "
                   "offered as the \"orders\" service",
    .conf = orders_conf_schema,
    .conf_size = sizeof(orders_conf_t),
    .init = orders_init,
    .start = orders_start,
    .stop = orders_stop,
};
