/*
 * admin: settings, lifecycle and the module descriptor.  init checks the
 * settings only (looklook -t runs it); start binds the port; stop closes
 * it, waiting for the requests in progress.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"

static const ll_conf_field_t  admin_schema[] = {
    LL_SET_STR(admin_conf_t, listen, "listen", 0, "127.0.0.1:8980",
               "address:port to serve on (every worker shares it)"),
    LL_SET_STR(admin_conf_t, token, "token", 0, NULL,
               "bearer token (or basic auth password) for all but /healthz"),
    LL_SET_BOOL(admin_conf_t, read_only, "read_only", 0, "true",
                "refuse every endpoint that changes something"),
    LL_SET_STR(admin_conf_t, redis, "redis", 0, NULL,
               "redisq's Redis URL, for the queues and servers pages"),
    LL_SET_STR(admin_conf_t, kafka, "kafka", 0, NULL,
               "Kafka brokers (host:port,...), for the dead letters on the "
               "Kafka page"),
    LL_SET_STR(admin_conf_t, dlq, "dlq", 0, "{topic}.dlq",
               "the kafka module's dead-letter topic ({topic}: the source)"),
    LL_SET_END
};

static void
admin_free(void *arg)
{
    rq_redis_conf_free(arg);
}

static int
admin_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    admin_conf_t  *c = conf;
    admin_t       *a;
    char           host[256], port[16], why[256];

    if (admin_listen_parse(c->listen, host, sizeof(host), port, sizeof(port))
        != 0)
    {
        return ll_setting_error(in, err, errlen, "listen", "\"listen\" must "
                                "be ADDRESS:PORT (\"%s\")", c->listen);
    }
    if (c->token != NULL && c->token[0] == '\0') {
        return ll_setting_error(in, err, errlen, "token", "\"token\" is "
                                "empty (leave it out for none)");
    }
    a = ll_alloc(in, sizeof(*a));
    if (a == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    a->in = in;
    a->conf = c;
    if (c->redis != NULL) {
        if (rq_redis_conf_parse(&a->redis_conf, c->redis, why, sizeof(why))
            != 0)
        {
            return ll_setting_error(in, err, errlen, "redis", "\"redis\": "
                                    "%s", why);
        }
        if (ll_cleanup_add(in, admin_free, &a->redis_conf) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    rq_redis_init(&a->redis, &a->redis_conf);
    ll_set_data(in, a);
    return 0;
}

static int
admin_start(ll_instance_t *in, char *err, size_t errlen)
{
    admin_t  *a = ll_get_data(in);
    char      cls[4];
    int       i;

    for (i = 0; i < 4; i++) {
        snprintf(cls, sizeof(cls), "%dxx", i + 2);
        a->requests[i] = ll_metric(in, LL_METRIC_COUNTER,
                                   "looklook_admin_requests_total",
                                   "Requests the admin module answered, by "
                                   "status class.", "code", cls,
                                   (const char *) NULL);
    }
    if (admin_history_start(a) != 0) {
        snprintf(err, errlen, "cannot start the history thread");
        return -1;
    }
    if (admin_http_start(a, err, errlen) != 0) {
        admin_history_stop(a);
        return -1;
    }
    return 0;
}

static void
admin_stop(ll_instance_t *in)
{
    admin_t  *a = ll_get_data(in);

    admin_http_stop(a);             /* the HTTP thread used the connection */
    rq_redis_close(&a->redis);
    admin_kafka_close(a);
    admin_history_stop(a);
}

LL_MODULE_EXPORT const ll_module_t  ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_OTHER,
    .name = "admin",
    .version = "1.1.0",
    .description = "HTTP dashboard, metrics (Prometheus), health, readiness "
                   "and status",
    .conf = admin_schema,
    .conf_size = sizeof(admin_conf_t),
    .init = admin_init,
    .start = admin_start,
    .stop = admin_stop,
};
