/*
 * kafka: the module descriptor, its settings and hooks.
 *
 * With `topics` set, each worker process joins `group` and hands every
 * message to the handler routed from "INSTANCE:TOPIC"; the instance also
 * publishes what other modules ll_send() it (msg->type = topic).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"

#define S(key, flags, def, m, help) \
    LL_SET_STR(kq_conf_t, m, key, flags, def, help)
#define C(key, def, m, choices, help) \
    LL_SET_CHOICE(kq_conf_t, m, key, 0, def, choices, help)
#define I(key, def, m, lo, hi, help) \
    LL_SET_INT(kq_conf_t, m, key, 0, def, lo, hi, help)
#define D(key, def, m, lo, hi, help) \
    LL_SET_DURATION(kq_conf_t, m, key, 0, def, lo, hi, help)
#define B(key, def, m, help) \
    LL_SET_BOOL(kq_conf_t, m, key, 0, def, help)

static const ll_conf_field_t kq_schema[] = {
    S("brokers", LL_CONF_REQUIRED, NULL, brokers,
      "bootstrap brokers, \"host:port,host:port\""),
    S("group", 0, "", group, "consumer group id (needed with topics)"),
    LL_SET_NODE(kq_conf_t, topics, "topics", 0,
      "topics to consume: a list of names (or one name); route each as "
      "\"INSTANCE:TOPIC\""),
    C("offset", "last", offset, kq_offsets,
      "where a partition without a committed offset starts: first, last "
      "(kq's Offset) or error"),
    S("client_id", 0, "looklook", client_id, "client.id sent to the brokers"),
    C("order", "partition", order, kq_orders,
      "partition: one message at a time per partition; key: same key in "
      "order, keys in parallel; none: no order"),
    I("parallelism", "16", parallelism, 1, 100000,
      "messages in work at once per partition (order = key or none)"),
    I("backlog", "10000", backlog, 1, 10000000,
      "fetched messages held per partition before its fetching pauses"),
    I("max_retries", "3", max_retries, 0, 1000000,
      "retries after a handler's retry answer before the dead letter (a "
      "transient reason, such as unavailable, spends none)"),
    D("retry_backoff", "1s", retry_backoff_ms, 0, 0,
      "first retry delay, doubled each time (a handler may set its own)"),
    D("retry_backoff_max", "30s", retry_backoff_max_ms, 0, 0,
      "longest retry delay"),
    C("on_error", "dlq", on_error, kq_on_errors,
      "after the last retry or a fail answer: dlq (dead-letter topic) or "
      "drop (log and commit, as kq's ForceCommit)"),
    S("dlq", 0, "{topic}.dlq", dlq,
      "dead-letter topic; {topic} is the message's topic"),
    D("commit_interval", "1s", commit_interval_ms, 1, 86400000,
      "how often handled offsets are committed"),
    D("drain_timeout", "10s", drain_timeout_ms, 0, 0,
      "how long a rebalance waits for handlers of revoked partitions"),
    I("fetch_min_bytes", "1", fetch_min_bytes, 0, 0, "fetch.min.bytes"),
    I("fetch_max_bytes", "52428800", fetch_max_bytes, 0, 0, "fetch.max.bytes"),
    D("fetch_wait", "100ms", fetch_wait_ms, 0, 0,
      "fetch.wait.max.ms: how long a broker may hold a fetch for "
      "fetch_min_bytes (also delays a resumed partition's first fetch)"),
    C("sasl_mechanism", "", sasl_mechanism, kq_mechs,
      "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: no SASL)"),
    S("sasl_username", 0, "", sasl_username, "SASL user"),
    S("sasl_password", 0, "", sasl_password, "SASL password"),
    B("tls", "false", tls, "connect with TLS"),
    S("tls_ca", 0, "", tls_ca, "CA certificate file (PEM)"),
    S("tls_cert", 0, "", tls_cert, "client certificate file (PEM)"),
    S("tls_key", 0, "", tls_key, "client key file (PEM)"),
    S("tls_key_password", 0, "", tls_key_password, "client key password"),
    B("tls_verify", "true", tls_verify, "verify the brokers' certificates"),
    C("compression", "none", compression, kq_codecs,
      "producer: none, gzip, snappy, lz4 or zstd"),
    B("sync", "false", sync,
      "producer: wait for each delivery report (retry/fail on errors)"),
    D("send_timeout", "30s", send_timeout_ms, 1, 86400000,
      "producer: message.timeout.ms"),
    LL_SET_NODE(kq_conf_t, librdkafka, "librdkafka", 0,
      "more librdkafka properties: ( \"key=value\", \"consumer:key=value\", "
      "\"producer:key=value\" )"),
    LL_SET_END
};

/* What a delivered message carries beyond the generic fields, and what a
 * message to publish may say. */
static const ll_opt_decl_t kq_opts[] = {
    { "topic", LL_OPT_STR, LL_OPT_IN,
      "the record's topic (also the message type), for logs" },
    { "partition", LL_OPT_INT, LL_OPT_IN | LL_OPT_OUT,
      "delivered: the record's partition; to publish: the partition to "
      "write to (default: by key)" },
    { "offset", LL_OPT_INT, LL_OPT_IN, "the record's offset" },
    { NULL, 0, 0, NULL }
};

static void kq_fini(ll_instance_t *in);

static int
kq_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    kq_t  *kq = calloc(1, sizeof(kq_t));

    if (kq == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    kq->in = in;
    kq->conf = conf;
    kq->healthy = -1;
    pthread_mutex_init(&kq->lock, NULL);
    pthread_cond_init(&kq->cond, NULL);
    ll_set_data(in, kq);
    if (kq_conf_check(kq, err, errlen) != 0) {
        kq_fini(in);    /* fini is not called after a failed init */
        return -1;
    }
    return 0;
}

static int
kq_start(ll_instance_t *in, char *err, size_t errlen)
{
    kq_t  *kq = ll_get_data(in);

    /* the producer first: the consumer's dead letters go through it */
    if (kq_producer_start(kq, err, errlen) != 0) {
        return -1;
    }
    if (kq_brokers_check(kq, err, errlen) != 0) {
        kq_producer_stop(kq);
        return -1;
    }
    if (kq->ntopics > 0 && kq_consumer_start(kq, err, errlen) != 0) {
        kq_producer_stop(kq);
        return -1;
    }
    return 0;
}

static void
kq_stop(ll_instance_t *in)
{
    kq_t  *kq = ll_get_data(in);

    if (kq->ntopics > 0) {
        kq_consumer_stop(kq);
    }
    kq_producer_stop(kq);
}

static void
kq_fini(ll_instance_t *in)
{
    kq_t  *kq = ll_get_data(in);

    if (kq == NULL) {
        return;
    }
    /* the producer first: its last reports may settle orphaned items */
    kq_producer_fini(kq);
    kq_consumer_fini(kq);
    kq_conf_free(kq);
    pthread_cond_destroy(&kq->cond);
    pthread_mutex_destroy(&kq->lock);
    free(kq);
    ll_set_data(in, NULL);
}

static int
kq_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    return kq_produce(ll_get_data(in), msg, res);
}

LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_MQ,
    .name = "kafka",
    .version = "1.0.0",
    .description = "Kafka consumer groups (at least once, ordered, retries "
                   "and dead letters) and producer",
    .conf = kq_schema,
    .conf_size = sizeof(kq_conf_t),
    .opts = kq_opts,
    .init = kq_init,
    .start = kq_start,
    .stop = kq_stop,
    .fini = kq_fini,
    .handle = kq_handle,
};
