/*
 * Settings: checked in init (no threads, no sockets), then turned into
 * librdkafka configurations for the consumer and the producer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kafka.h"

static int
one_of(const char *v, const char *const *names)
{
    int  i;

    for (i = 0; names[i] != NULL; i++) {
        if (strcasecmp(v, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/* topics: a list of names, or one name. */
static int
parse_topics(kq_t *kq, char *err, size_t errlen)
{
    const ll_conf_node_t  *n = kq->conf->topics, *e;
    const char            *s;
    int                    i, cnt;

    if (n == NULL) {
        return 0;
    }
    s = ll_conf_str(n);
    cnt = s != NULL ? 1 : ll_conf_count(n);
    kq->topics = calloc((size_t) cnt + 1, sizeof(char *));
    if (kq->topics == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < cnt; i++) {
        e = s != NULL ? n : ll_conf_at(n, i);
        if (e == NULL || ll_conf_str(e) == NULL || ll_conf_str(e)[0] == '\0') {
            return ll_conf_error(kq->in, err, errlen, e != NULL ? e : n,
                                 "topics: each entry must be a topic name");
        }
        kq->topics[i] = strdup(ll_conf_str(e));
        if (kq->topics[i] == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        kq->ntopics++;
    }
    return 0;
}

/* Consumer properties the no-loss commits rest on (and their alias). */
static int
own_property(const char *key)
{
    static const char *const own[] = { "enable.auto.offset.store",
                                       "enable.auto.commit",
                                       "auto.commit.enable", NULL };
    int  i;

    for (i = 0; own[i] != NULL; i++) {
        if (strcmp(key, own[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * librdkafka = ( "key=value", "consumer:key=value", "producer:key=value" );
 * libconfig names can't hold dots, hence strings.  Each is tried on a
 * scratch configuration so a typo fails `looklook -t`.
 */
static int
parse_props(kq_t *kq, char *err, size_t errlen)
{
    const ll_conf_node_t  *n = kq->conf->librdkafka, *e;
    rd_kafka_conf_t       *scratch;
    const char            *s, *eq;
    char                   rderr[256];
    kq_prop_t             *p;
    int                    i, cnt;

    if (n == NULL) {
        return 0;
    }
    cnt = ll_conf_count(n);
    kq->props = calloc((size_t) cnt + 1, sizeof(kq_prop_t));
    if (kq->props == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < cnt; i++) {
        e = ll_conf_at(n, i);
        s = e != NULL ? ll_conf_str(e) : NULL;
        if (s == NULL) {
            return ll_conf_error(kq->in, err, errlen, e != NULL ? e : n,
                                 "librdkafka: entries are \"key=value\" "
                                 "strings");
        }
        p = &kq->props[kq->nprops];
        p->scope = 'b';
        if (strncmp(s, "consumer:", 9) == 0) {
            p->scope = 'c';
            s += 9;
        } else if (strncmp(s, "producer:", 9) == 0) {
            p->scope = 'p';
            s += 9;
        }
        eq = strchr(s, '=');
        if (eq == NULL || eq == s) {
            return ll_conf_error(kq->in, err, errlen, e, "librdkafka: \"%s\" is not "
                                 "\"key=value\"", ll_conf_str(e));
        }
        p->key = strndup(s, (size_t) (eq - s));
        p->value = strdup(eq + 1);
        if (p->key == NULL || p->value == NULL) {
            free(p->key);
            free(p->value);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        kq->nprops++;

        if (p->scope != 'p' && own_property(p->key)) {
            return ll_conf_error(kq->in, err, errlen, e, "librdkafka: \"%s\" is the "
                                 "module's own: it stores only offsets below "
                                 "the first unhandled message and commits "
                                 "them every commit_interval", p->key);
        }
        scratch = rd_kafka_conf_new();
        if (rd_kafka_conf_set(scratch, p->key, p->value, rderr,
                              sizeof(rderr)) != RD_KAFKA_CONF_OK)
        {
            rd_kafka_conf_destroy(scratch);
            return ll_conf_error(kq->in, err, errlen, e, "librdkafka: %s", rderr);
        }
        rd_kafka_conf_destroy(scratch);
    }
    return 0;
}

/* The value lists of the settings the schema restricts (kafka_module.c);
 * order and on_error map to their index here. */
const char *const kq_orders[] = { "partition", "key", "none", NULL };
const char *const kq_offsets[] = { "first", "last", "error", NULL };
const char *const kq_on_errors[] = { "dlq", "drop", NULL };
const char *const kq_mechs[] = { "", "PLAIN", "SCRAM-SHA-256",
                                 "SCRAM-SHA-512", NULL };
const char *const kq_codecs[] = { "none", "gzip", "snappy", "lz4", "zstd",
                                  NULL };

/* Checks across settings; each one's own range and values the core has
 * checked against the schema. */
int
kq_conf_check(kq_t *kq, char *err, size_t errlen)
{
    kq_conf_t         *c = kq->conf;
    rd_kafka_conf_t   *rc;
    int                i;

    if (parse_topics(kq, err, errlen) != 0 || parse_props(kq, err, errlen) != 0)
    {
        return -1;
    }
    if (kq->ntopics > 0 && c->group[0] == '\0') {
        return ll_setting_error(kq->in, err, errlen, "group", "topics are "
                                "set but group is empty: a consumer needs a "
                                "group");
    }
    kq->order = one_of(c->order, kq_orders);
    kq->drop = one_of(c->on_error, kq_on_errors) == 1;
    if (!kq->drop && c->dlq[0] == '\0') {
        return ll_setting_error(kq->in, err, errlen, "dlq", "on_error = dlq "
                                "needs a dlq topic");
    }
    if (c->sasl_mechanism[0] != '\0' && c->sasl_username[0] == '\0') {
        return ll_setting_error(kq->in, err, errlen, "sasl_mechanism",
                                "sasl_mechanism is set but sasl_username is "
                                "empty");
    }
    if (c->retry_backoff_max_ms < c->retry_backoff_ms) {
        return ll_setting_error(kq->in, err, errlen, "retry_backoff_max",
                                "retry_backoff must be <= retry_backoff_max");
    }

    /* build both configurations once: every value librdkafka refuses is
     * reported now rather than at start */
    for (i = 0; i < 2; i++) {
        if (i == 1 && kq->ntopics == 0) {
            break;
        }
        rc = kq_rdconf(kq, i, err, errlen);
        if (rc == NULL) {
            return -1;
        }
        rd_kafka_conf_destroy(rc);
    }
    return 0;
}

void
kq_conf_free(kq_t *kq)
{
    int  i;

    for (i = 0; kq->topics != NULL && i < kq->ntopics; i++) {
        free(kq->topics[i]);
    }
    free(kq->topics);
    for (i = 0; i < kq->nprops; i++) {
        free(kq->props[i].key);
        free(kq->props[i].value);
    }
    free(kq->props);
}

/* librdkafka's log lines, as the instance's; a broker connection's
 * failure ("FAIL") only at debug: error_cb reports it too, rate-limited.
 * Warnings and errors repeat while a broker is away (a commit failing
 * every commit_interval): each text once, its repeats counted.
 * @locality librdkafka threads */
static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    kq_t  *kq = rd_kafka_opaque(rk);
    int    l = strcmp(fac, "FAIL") == 0 ? LL_LOG_DEBUG
               : level <= 3 ? LL_LOG_ERR : level == 4 ? LL_LOG_WARN
               : level <= 6 ? LL_LOG_INFO : LL_LOG_DEBUG;

    if (l <= LL_LOG_WARN) {
        ll_log_fail(kq->in, &kq->rdlog, l, "librdkafka %s: %s", fac, buf);
    } else {
        ll_log(kq->in, l, "librdkafka %s: %s", fac, buf);
    }
}

/* Client-level errors (all brokers down, authentication...): librdkafka
 * recovers from most by itself.  A broker connection that fails is
 * retried with librdkafka's back-off (reconnect.backoff.ms doubling to
 * reconnect.backoff.max.ms) and every failed try of every broker is
 * reported, each with its own text: the outage is logged with its first
 * error, the others only counted (kq->down), until the statistics see
 * every broker back (kq_stats_cb).  @locality a polling thread */
static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    kq_t        *kq = opaque;
    const char  *cut;
    char         first[sizeof(kq->down_why)];

    switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__SSL:
        /* librdkafka's suffix " (after N ms in state X, ...)" is noise */
        cut = strstr(reason, " (after ");
        pthread_mutex_lock(&kq->lock);
        if (kq->down_why[0] == '\0') {
            snprintf(kq->down_why, sizeof(kq->down_why), "%.*s",
                     cut != NULL ? (int) (cut - reason)
                                 : (int) strlen(reason), reason);
        }
        memcpy(first, kq->down_why, sizeof(first));
        pthread_mutex_unlock(&kq->lock);
        ll_log_fail(kq->in, &kq->down, LL_LOG_WARN, "brokers unreachable: "
                    "%s", first);
        return;
    }
    ll_log(kq->in, err == RD_KAFKA_RESP_ERR__FATAL ? LL_LOG_ERR : LL_LOG_WARN,
           "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t) err), reason);
}

static int
set(rd_kafka_conf_t *rc, const char *k, const char *v, char *err,
    size_t errlen)
{
    char  rderr[256];

    if (rd_kafka_conf_set(rc, k, v, rderr, sizeof(rderr)) != RD_KAFKA_CONF_OK)
    {
        snprintf(err, errlen, "librdkafka %s: %s", k, rderr);
        return -1;
    }
    return 0;
}

static int
set_int(rd_kafka_conf_t *rc, const char *k, int64_t v, char *err,
    size_t errlen)
{
    char  buf[32];

    snprintf(buf, sizeof(buf), "%lld", (long long) v);
    return set(rc, k, buf, err, errlen);
}

/*
 * A configuration for the consumer (consumer = 1) or the producer: our
 * settings first, then the pass-through properties, which win.  The caller
 * owns the result.  @locality main thread
 */
rd_kafka_conf_t *
kq_rdconf(kq_t *kq, int consumer, char *err, size_t errlen)
{
    kq_conf_t        *c = kq->conf;
    rd_kafka_conf_t  *rc = rd_kafka_conf_new();
    const char       *proto;
    int               i, rv = 0;

    rd_kafka_conf_set_opaque(rc, kq);
    rd_kafka_conf_set_log_cb(rc, log_cb);
    rd_kafka_conf_set_error_cb(rc, error_cb);
    if (consumer || kq->ntopics == 0) {
        rd_kafka_conf_set_stats_cb(rc, kq_stats_cb);
        rv |= set_int(rc, "statistics.interval.ms", KQ_STATS_MS, err, errlen);
    }

    rv |= set(rc, "bootstrap.servers", c->brokers, err, errlen);
    rv |= set(rc, "client.id", c->client_id, err, errlen);

    proto = c->sasl_mechanism[0] != '\0' ? (c->tls ? "sasl_ssl"
                                                   : "sasl_plaintext")
            : c->tls ? "ssl" : "plaintext";
    rv |= set(rc, "security.protocol", proto, err, errlen);
    if (c->sasl_mechanism[0] != '\0') {
        rv |= set(rc, "sasl.mechanisms", c->sasl_mechanism, err, errlen);
        rv |= set(rc, "sasl.username", c->sasl_username, err, errlen);
        rv |= set(rc, "sasl.password", c->sasl_password, err, errlen);
    }
    if (c->tls) {
        if (c->tls_ca[0] != '\0') {
            rv |= set(rc, "ssl.ca.location", c->tls_ca, err, errlen);
        }
        if (c->tls_cert[0] != '\0') {
            rv |= set(rc, "ssl.certificate.location", c->tls_cert, err,
                      errlen);
        }
        if (c->tls_key[0] != '\0') {
            rv |= set(rc, "ssl.key.location", c->tls_key, err, errlen);
        }
        if (c->tls_key_password[0] != '\0') {
            rv |= set(rc, "ssl.key.password", c->tls_key_password, err,
                      errlen);
        }
        rv |= set(rc, "enable.ssl.certificate.verification",
                  c->tls_verify ? "true" : "false", err, errlen);
    }

    if (consumer) {
        rv |= set(rc, "group.id", c->group, err, errlen);
        /* no loss: librdkafka commits only what we store, and we store
         * only offsets below which everything was handled */
        rv |= set(rc, "enable.auto.commit", "true", err, errlen);
        rv |= set(rc, "enable.auto.offset.store", "false", err, errlen);
        rv |= set_int(rc, "auto.commit.interval.ms", c->commit_interval_ms,
                      err, errlen);
        rv |= set(rc, "auto.offset.reset",
                  strcasecmp(c->offset, "first") == 0 ? "earliest"
                  : strcasecmp(c->offset, "last") == 0 ? "latest" : "error",
                  err, errlen);
        rv |= set_int(rc, "fetch.min.bytes", c->fetch_min_bytes, err, errlen);
        rv |= set_int(rc, "fetch.max.bytes", c->fetch_max_bytes, err, errlen);
        rv |= set_int(rc, "fetch.wait.max.ms", c->fetch_wait_ms, err, errlen);
        rv |= set(rc, "enable.partition.eof", "false", err, errlen);
    } else {
        rv |= set(rc, "compression.codec", c->compression, err, errlen);
        rv |= set_int(rc, "message.timeout.ms", c->send_timeout_ms, err,
                      errlen);
    }

    for (i = 0; rv == 0 && i < kq->nprops; i++) {
        if (kq->props[i].scope == 'b'
            || kq->props[i].scope == (consumer ? 'c' : 'p'))
        {
            rv |= set(rc, kq->props[i].key, kq->props[i].value, err, errlen);
        }
    }
    if (rv != 0) {
        rd_kafka_conf_destroy(rc);
        return NULL;
    }
    return rc;
}
