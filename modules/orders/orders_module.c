/*
 * orders: the order store module.  It owns the connections to the order
 * database and offers them to business modules as the "orders" service
 * (ll_orders.h).  init checks the settings and opens nothing; start opens
 * the first connection and creates or checks the table.
 */
#include <stdio.h>
#include <stdlib.h>

#include "looklook.h"
#include "orders_store.h"

typedef struct {
    orders_conf_t       conf;       /* filled by the core */
    ll_orders_t        *store;
    ll_orders_svc_t     svc;
} orders_module_t;

static const ll_conf_field_t  orders_conf_schema[] = {
    { "db", LL_CONF_STR, 0, "sqlite:data/orders.db",
      offsetof(orders_conf_t, db),
      "order database: sqlite:PATH or mysql://user:pass@host:port/db" },
    { "cache_redis", LL_CONF_STR, 0, NULL,
      offsetof(orders_conf_t, cache_redis),
      "redis://... whose go-zero cache keys of an order are deleted "
      "after each write (looklook's order-rpc cache); unset: none" },
    { "pool_size", LL_CONF_INT, 0, "64",
      offsetof(orders_conf_t, pool_size),
      "most database connections per worker (opened as handler threads "
      "need them)" },
    { "time_zone", LL_CONF_STR, 0, "+08:00",
      offsetof(orders_conf_t, time_zone),
      "zone of the table's datetimes (looklook: Asia/Shanghai, +08:00)" },
    { "busy_timeout", LL_CONF_DURATION, 0, "5s",
      offsetof(orders_conf_t, busy_timeout),
      "SQLite lock wait; MySQL and Redis connect and I/O timeout" },
    { "max_conflicts", LL_CONF_INT, 0, "16",
      offsetof(orders_conf_t, max_conflicts),
      "version conflicts in a row before a change is retried later" },
    { NULL, 0, 0, NULL, 0, NULL }
};


/* @locality worker main thread (or the -t checker) */
static int
orders_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    orders_module_t  *m;

    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m->conf = *(orders_conf_t *) conf;
    if (m->conf.max_conflicts < 1) {
        snprintf(err, errlen, "max_conflicts must be at least 1");
        free(m);
        return -1;
    }
    if (orders_store_new(&m->store, &m->conf, err, errlen) != 0) {
        free(m);
        return -1;
    }
    orders_svc_init(&m->svc, m->store);
    if (ll_service_offer(in, "orders", &m->svc) != 0) {
        snprintf(err, errlen, "another instance already offers \"orders\"");
        orders_store_free(m->store);
        free(m);
        return -1;
    }
    ll_set_data(in, m);
    return 0;
}


/* @locality worker main thread */
static int
orders_start(ll_instance_t *in, char *err, size_t errlen)
{
    orders_module_t  *m = ll_get_data(in);
    char              why[LL_ERROR_MAX];
    int               down;

    if (orders_store_open(m->store, &down, why, sizeof(why)) != 0) {
        if (!down) {
            snprintf(err, errlen, "%s: %s", orders_store_text(m->store), why);
            return -1;
        }
        /* a database that is down is not a config error: handlers retry
         * until it is back */
        ll_log(in, LL_LOG_WARN, "%s is down (%s); orders will be retried "
               "until it answers", orders_store_text(m->store), why);
        return 0;
    }
    ll_log(in, LL_LOG_INFO, "order store %s ready", orders_store_text(m->store));
    return 0;
}


/* @locality worker main thread, after every handler stopped */
static void
orders_fini(ll_instance_t *in)
{
    orders_module_t  *m = ll_get_data(in);

    if (m == NULL) {
        return;
    }
    orders_store_free(m->store);
    free(m);
    ll_set_data(in, NULL);
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
    .fini = orders_fini,
};
