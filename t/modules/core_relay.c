/*
 * core_relay: a test business module that hands a message on with
 * ll_send() to the instance `to`, from its start (at = "start") or from
 * handle after sleeping `sleep` (at = "handle"), and logs what came back:
 *
 *     sent at start: OUTCOME (ERROR)
 *     handling ID / sent from handle: OUTCOME (ERROR)
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <looklook/looklook.h>


typedef struct {
    char               *to;
    char               *at;
    int64_t             sleep_ms;
} relay_conf_t;

static const ll_conf_field_t relay_conf[] = {
    LL_SET_STR(relay_conf_t, to, "to", LL_CONF_REQUIRED, NULL,
      "instance to hand messages to"),
    LL_SET_STR(relay_conf_t, at, "at", 0, "handle",
      "send from start or from handle"),
    LL_SET_DURATION(relay_conf_t, sleep_ms, "sleep", 0, "0", 0, 0,
      "time handle waits before sending"),
    LL_SET_END
};


static int
relay_send(ll_instance_t *in, const char *id, const char *where)
{
    relay_conf_t  *c = ll_get_data(in);
    ll_msg_t       m;
    ll_result_t    res;
    int            r;

    ll_msg_init(&m);
    m.type = "relayed";
    m.id = id;
    ll_result_init(&res);
    r = ll_send(in, c->to, &m, &res);
    ll_log(in, LL_LOG_INFO, "sent from %s: %s (%s)", where,
           r == LL_DONE ? "done" : r == LL_RETRY ? "retry"
           : r == LL_FAIL ? "fail" : "other", res.error);
    return r;
}


static int
relay_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    ll_set_data(in, conf);
    return 0;
}


static int
relay_start(ll_instance_t *in, char *err, size_t errlen)
{
    relay_conf_t  *c = ll_get_data(in);

    if (strcmp(c->at, "start") == 0) {
        relay_send(in, "at-start", "start");
    }
    return 0;
}


static int
relay_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    relay_conf_t     *c = ll_get_data(in);
    struct timespec   ts = { c->sleep_ms / 1000,
                             (c->sleep_ms % 1000) * 1000000 };

    ll_log(in, LL_LOG_INFO, "handling %s", msg->id ? msg->id : "-");
    nanosleep(&ts, NULL);
    return relay_send(in, msg->id, "handle") == LL_DONE
           ? LL_DONE : ll_retry(res, -1, "relay failed");
}


LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_BUSINESS,
    .name = "core_relay",
    .version = "1.0.0",
    .description = "test module that hands messages on with ll_send",
    .conf = relay_conf,
    .conf_size = sizeof(relay_conf_t),
    .init = relay_init,
    .start = relay_start,
    .handle = relay_handle,
};
