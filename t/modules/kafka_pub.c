/*
 * kafka_pub: a test handler that republishes what it gets through another
 * instance with ll_send(), as a business module publishes to Kafka.
 *
 * The copy goes to `topic` through instance `to` with the same key, value
 * and headers plus "via: kafka_pub".  A value starting "part:N " asks for
 * partition N.  The handler answers what ll_send answered (so a failed
 * publish is retried or dead-lettered by the source) and logs
 * "published ID" when the target produced an id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <looklook/looklook.h>

typedef struct {
    char   *to;
    char   *topic;
} kp_conf_t;

static const ll_conf_field_t kp_schema[] = {
    LL_SET_STR(kp_conf_t, to, "to", 0, "kafka",
      "instance to publish through"),
    LL_SET_STR(kp_conf_t, topic, "topic", LL_CONF_REQUIRED, NULL,
      "topic to publish to"),
    LL_SET_END
};

static int
kp_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    (void) err;
    (void) errlen;
    ll_set_data(in, conf);
    return 0;
}

static int
kp_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    kp_conf_t    *c = ll_get_data(in);
    ll_header_t   h[32];
    ll_msg_t      m;
    ll_opt_t      part;
    size_t        n;
    int           rc;

    ll_msg_init(&m);
    m.type = c->topic;
    m.key = msg->key;
    m.key_len = msg->key_len;
    m.payload = msg->payload;
    m.payload_len = msg->payload_len;
    for (n = 0; n < msg->nheaders && n < 31; n++) {
        h[n] = msg->headers[n];
    }
    h[n++] = (ll_header_t) { "via", "kafka_pub", 9 };
    m.headers = h;
    m.nheaders = n;
    if (msg->payload_len > 5 && memcmp(msg->payload, "part:", 5) == 0) {
        part = (ll_opt_t) LL_OPT_N("partition",
                                   atoi((const char *) msg->payload + 5));
        m.opts = &part;
        m.nopts = 1;
    }

    rc = ll_send(in, c->to, &m, res);
    if (rc == LL_DONE && res->id[0] != '\0') {
        ll_log(in, LL_LOG_INFO, "published %s", res->id);
    }
    return rc;
}

LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_BUSINESS,
    .name = "kafka_pub",
    .version = "1",
    .description = "test handler: republishes through ll_send",
    .conf = kp_schema,
    .conf_size = sizeof(kp_conf_t),
    .init = kp_init,
    .handle = kp_handle,
};
