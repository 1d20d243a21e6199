/*
 * admin: settings, lifecycle and the module descriptor.  init checks the
 * settings only (looklook -t runs it); start binds the port; stop closes
 * it, waiting for the requests in progress.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

static const ll_conf_field_t  admin_schema[] = {
    { "listen", LL_CONF_STR, 0, "127.0.0.1:8980",
      offsetof(admin_conf_t, listen),
      "address:port to serve on (every worker shares it)" },
    { "token", LL_CONF_STR, 0, NULL, offsetof(admin_conf_t, token),
      "bearer token (or basic auth password) for all but /healthz" },
    { "read_only", LL_CONF_BOOL, 0, "true", offsetof(admin_conf_t, read_only),
      "refuse every endpoint that changes something" },
    { NULL, 0, 0, NULL, 0, NULL }
};

static int
admin_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    admin_conf_t  *c = conf;
    admin_t       *a;
    char           host[256], port[16];

    if (admin_listen_parse(c->listen, host, sizeof(host), port, sizeof(port))
        != 0)
    {
        snprintf(err, errlen, "\"listen\" must be ADDRESS:PORT (\"%s\")",
                 c->listen);
        return -1;
    }
    if (c->token != NULL && c->token[0] == '\0') {
        snprintf(err, errlen, "\"token\" is empty (leave it out for none)");
        return -1;
    }
    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    a->in = in;
    a->conf = c;
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
    return admin_http_start(a, err, errlen);
}

static void
admin_stop(ll_instance_t *in)
{
    admin_http_stop(ll_get_data(in));
}

static void
admin_fini(ll_instance_t *in)
{
    free(ll_get_data(in));
    ll_set_data(in, NULL);
}

LL_MODULE_EXPORT const ll_module_t  ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_OTHER,
    .name = "admin",
    .version = "1.0.0",
    .description = "HTTP metrics (Prometheus), health, readiness and status",
    .conf = admin_schema,
    .conf_size = sizeof(admin_conf_t),
    .init = admin_init,
    .start = admin_start,
    .stop = admin_stop,
    .fini = admin_fini,
};
