/*
 * orders: the order store module.  It owns the connections to the order
 * database and offers them to business modules as the "orders" service
 * (lo_orders.h).  init checks the settings and opens nothing; start opens
 * the first connection and creates or checks the table.
 */
#include <stdio.h>
#include <stdlib.h>

#include "looklook.h"
#include "orders_store.h"

typedef struct {
    orders_conf_t       conf;       /* filled by the core */
    lo_orders_t        *store;
    lo_orders_svc_t     svc;
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
    m->conf = *(orders_conf_t *) conf;
    if (orders_store_new(&m->store, &m->conf, err, errlen) != 0) {
        return -1;
    }
    if (ll_cleanup_add(in, orders_free_store, m->store) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    orders_svc_init(&m->svc, m->store);
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
};
