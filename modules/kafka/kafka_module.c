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

#define F(name, type, flags, def, field, help) \
    { name, type, flags, def, offsetof(kq_conf_t, field), help }

static const ll_conf_field_t kq_schema[] = {
    F("brokers", LL_CONF_STR, LL_CONF_REQUIRED, NULL, brokers,
      "bootstrap brokers, \"host:port,host:port\""),
    F("group", LL_CONF_STR, 0, "", group,
      "consumer group id (needed with topics)"),
    F("topics", LL_CONF_NODE, 0, NULL, topics,
      "topics to consume: a list of names (or one name); route each as "
      "\"INSTANCE:TOPIC\""),
    F("offset", LL_CONF_STR, 0, "last", offset,
      "where a partition without a committed offset starts: first, last "
      "(kq's Offset) or error"),
    F("client_id", LL_CONF_STR, 0, "looklook", client_id,
      "client.id sent to the brokers"),
    F("order", LL_CONF_STR, 0, "partition", order,
      "partition: one message at a time per partition; key: same key in "
      "order, keys in parallel; none: no order"),
    F("parallelism", LL_CONF_INT, 0, "16", parallelism,
      "messages in work at once per partition (order = key or none)"),
    F("backlog", LL_CONF_INT, 0, "10000", backlog,
      "fetched messages held per partition before its fetching pauses"),
    F("max_retries", LL_CONF_INT, 0, "3", max_retries,
      "retries after a handler's retry answer before the dead letter"),
    F("retry_backoff", LL_CONF_DURATION, 0, "1s", retry_backoff_ms,
      "first retry delay, doubled each time (a handler may set its own)"),
    F("retry_backoff_max", LL_CONF_DURATION, 0, "30s", retry_backoff_max_ms,
      "longest retry delay"),
    F("on_error", LL_CONF_STR, 0, "dlq", on_error,
      "after the last retry or a fail answer: dlq (dead-letter topic) or "
      "drop (log and commit, as kq's ForceCommit)"),
    F("dlq", LL_CONF_STR, 0, "{topic}.dlq", dlq,
      "dead-letter topic; {topic} is the message's topic"),
    F("commit_interval", LL_CONF_DURATION, 0, "1s", commit_interval_ms,
      "how often handled offsets are committed"),
    F("drain_timeout", LL_CONF_DURATION, 0, "10s", drain_timeout_ms,
      "how long a rebalance waits for handlers of revoked partitions"),
    F("fetch_min_bytes", LL_CONF_INT, 0, "1", fetch_min_bytes,
      "fetch.min.bytes"),
    F("fetch_max_bytes", LL_CONF_INT, 0, "52428800", fetch_max_bytes,
      "fetch.max.bytes"),
    F("fetch_wait", LL_CONF_DURATION, 0, "100ms", fetch_wait_ms,
      "fetch.wait.max.ms: how long a broker may hold a fetch for "
      "fetch_min_bytes (also delays a resumed partition's first fetch)"),
    F("sasl_mechanism", LL_CONF_STR, 0, "", sasl_mechanism,
      "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: no SASL)"),
    F("sasl_username", LL_CONF_STR, 0, "", sasl_username, "SASL user"),
    F("sasl_password", LL_CONF_STR, 0, "", sasl_password, "SASL password"),
    F("tls", LL_CONF_BOOL, 0, "false", tls, "connect with TLS"),
    F("tls_ca", LL_CONF_STR, 0, "", tls_ca, "CA certificate file (PEM)"),
    F("tls_cert", LL_CONF_STR, 0, "", tls_cert,
      "client certificate file (PEM)"),
    F("tls_key", LL_CONF_STR, 0, "", tls_key, "client key file (PEM)"),
    F("tls_key_password", LL_CONF_STR, 0, "", tls_key_password,
      "client key password"),
    F("tls_verify", LL_CONF_BOOL, 0, "true", tls_verify,
      "verify the brokers' certificates"),
    F("compression", LL_CONF_STR, 0, "none", compression,
      "producer: none, gzip, snappy, lz4 or zstd"),
    F("sync", LL_CONF_BOOL, 0, "false", sync,
      "producer: wait for each delivery report (retry/fail on errors)"),
    F("send_timeout", LL_CONF_DURATION, 0, "30s", send_timeout_ms,
      "producer: message.timeout.ms"),
    F("librdkafka", LL_CONF_NODE, 0, NULL, librdkafka,
      "more librdkafka properties: ( \"key=value\", \"consumer:key=value\", "
      "\"producer:key=value\" )"),
    { NULL, 0, 0, NULL, 0, NULL }
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
    pthread_mutex_init(&kq->lock, NULL);
    pthread_cond_init(&kq->cond, NULL);
    ll_set_data(in, kq);
    if (kq_conf_check(kq, err, errlen) != 0) {
        kq_fini(in);
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
    .init = kq_init,
    .start = kq_start,
    .stop = kq_stop,
    .fini = kq_fini,
    .handle = kq_handle,
};
