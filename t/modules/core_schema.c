/*
 * core_schema: a test module with one setting of every type, to test how
 * the core checks, fills and prints a schema.  init logs the values it got
 * and the process it runs in (ll_mode)
 * and checks that `items` is a list of strings (ll_conf_error names the
 * element's file and line); fini logs too.
 */

#include <stdio.h>

#include <looklook/looklook.h>


typedef struct {
    char                   *label;
    int64_t                 limit;
    int                     enabled;
    int64_t                 timeout_ms;
    double                  ratio;
    const ll_conf_node_t   *items;
} schema_conf_t;

static const ll_conf_field_t schema_conf[] = {
    LL_SET_STR(schema_conf_t, label, "label", LL_CONF_REQUIRED, NULL,
      "a required string"),
    LL_SET_INT(schema_conf_t, limit, "limit", 0, "10", 0, 0,
      "an integer"),
    LL_SET_BOOL(schema_conf_t, enabled, "enabled", 0, "true",
      "a boolean"),
    LL_SET_DURATION(schema_conf_t, timeout_ms, "timeout", 0, "1m30s", 0, 0,
      "a duration"),
    LL_SET_DOUBLE(schema_conf_t, ratio, "ratio", 0, "0.5", 0, 0,
      "a double"),
    LL_SET_NODE(schema_conf_t, items, "items", 0,
      "a list of strings"),
    LL_SET_END
};


static int
schema_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    schema_conf_t         *c = conf;
    const ll_conf_node_t  *n;
    int                    i, count = 0;

    if (c->items != NULL) {
        count = ll_conf_count(c->items);
        for (i = 0; i < count; i++) {
            n = ll_conf_at(c->items, i);
            if (ll_conf_str(n) == NULL) {
                return ll_conf_error(in, err, errlen, n,
                                     "items: element %d is not a string", i);
            }
        }
    }

    ll_log(in, LL_LOG_INFO, "label=%s limit=%lld enabled=%d timeout_ms=%lld"
           " ratio=%g items=%d mode=%s", c->label, (long long) c->limit,
           c->enabled, (long long) c->timeout_ms, c->ratio, count,
           ll_mode(in) == LL_MODE_CHECK ? "check"
           : ll_mode(in) == LL_MODE_RELOAD_CHECK ? "reload-check"
           : ll_mode(in) == LL_MODE_WORKER ? "worker" : "?");
    ll_set_data(in, c);
    return 0;
}


/* Logs, so tests see that fini runs (and in which order). */
static void
schema_fini(ll_instance_t *in)
{
    schema_conf_t  *c = ll_get_data(in);

    ll_log(in, LL_LOG_INFO, "fini label=%s", c != NULL ? c->label : "?");
}


LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_OTHER,
    .name = "core_schema",
    .version = "2.3.4",
    .description = "test module with a setting of every type",
    .conf = schema_conf,
    .conf_size = sizeof(schema_conf_t),
    .init = schema_init,
    .fini = schema_fini,
};
