/*
 * The producer: publishes what other modules hand the instance with
 * ll_send() and writes dead letters.  Asynchronous by default (done once
 * librdkafka queued the message; delivery failures are logged and
 * counted), or synchronous (`sync = true`: the caller waits for the
 * delivery report).  One thread serves the delivery reports.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka.h"

#define KQ_DLQ_TOPIC_MAX  512
#define KQ_DLQ_FIT        (SIZE_MAX - 1)  /* dlq_cap: cut to what fits */
#define KQ_DLQ_SLACK      1024    /* record and batch framing, margin */

/* A synchronous send waiting for its report; freed by the last of the
 * sender and the report (the sender may give up waiting first). */
typedef struct {
    int                 dr_kind;    /* KQ_DR_WAITER: first, for the opaque */
    int                 refs;
    int                 done;
    rd_kafka_resp_err_t err;
    int32_t             partition;
    int64_t             offset;
} kq_waiter_t;

static void
waiter_unref(kq_t *kq, kq_waiter_t *w)
{
    int  last;

    pthread_mutex_lock(&kq->lock);
    last = --w->refs == 0;
    pthread_mutex_unlock(&kq->lock);
    if (last) {
        free(w);
    }
}

/* @locality producer thread (or whoever calls rd_kafka_poll/flush on it) */
static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    kq_t         *kq = opaque;
    kq_waiter_t  *w;
    int          *kind = m->_private;

    (void) rk;
    if (kind != NULL && *kind == KQ_DR_ITEM) {
        if (m->err) {
            ll_log(kq->in, LL_LOG_WARN, "dead letter to %s: %s",
                   rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        }
        kq_dlq_result((kq_item_t *) kind, m->err);
        return;
    }

    pthread_mutex_lock(&kq->lock);
    if (m->err) {
        kq->stats.produce_failed++;
    } else {
        kq->stats.produced++;
    }
    pthread_mutex_unlock(&kq->lock);

    if (kind == NULL) {
        if (m->err) {
            ll_log(kq->in, LL_LOG_ERR, "message to %s not delivered: %s",
                   rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        }
        return;
    }
    w = (kq_waiter_t *) kind;
    pthread_mutex_lock(&kq->lock);
    w->err = m->err;
    w->partition = m->partition;
    w->offset = m->offset;
    w->done = 1;
    pthread_cond_broadcast(&kq->cond);
    pthread_mutex_unlock(&kq->lock);
    waiter_unref(kq, w);
}

static void *
producer_thread(void *arg)
{
    kq_t  *kq = arg;

    while (!__atomic_load_n(&kq->prod_stop, __ATOMIC_RELAXED)) {
        rd_kafka_poll(kq->prod, 100);
    }
    return NULL;
}

/* @locality main thread, in start */
int
kq_producer_start(kq_t *kq, char *err, size_t errlen)
{
    rd_kafka_conf_t  *rc;
    char              rderr[512];
    int               rv;

    rc = kq_rdconf(kq, 0, err, errlen);
    if (rc == NULL) {
        return -1;
    }
    rd_kafka_conf_set_dr_msg_cb(rc, dr_cb);
    kq->prod = rd_kafka_new(RD_KAFKA_PRODUCER, rc, rderr, sizeof(rderr));
    if (kq->prod == NULL) {
        rd_kafka_conf_destroy(rc);
        snprintf(err, errlen, "producer: %s", rderr);
        return -1;
    }
    rv = pthread_create(&kq->pthread, NULL, producer_thread, kq);
    if (rv != 0) {
        snprintf(err, errlen, "producer thread: %s", strerror(rv));
        rd_kafka_destroy(kq->prod);
        kq->prod = NULL;
        return -1;
    }
    kq->pthread_on = 1;
    return 0;
}

/*
 * Deliver what is queued by the shutdown deadline and end the report
 * thread.  The handle stays: modules stopped after this one may still
 * publish (their reports are served by fini's flush).  @locality main thread
 */
void
kq_producer_stop(kq_t *kq)
{
    int64_t  left;

    if (kq->prod == NULL) {
        return;
    }
    left = ll_shutdown_deadline(kq->in) - ll_now_ms();
    rd_kafka_flush(kq->prod, left > 0 ? (int) left : 0);
    if (kq->pthread_on) {
        __atomic_store_n(&kq->prod_stop, 1, __ATOMIC_RELAXED);
        pthread_join(kq->pthread, NULL);
        kq->pthread_on = 0;
    }
}

/* @locality main thread, in fini (no handler runs any more) */
void
kq_producer_fini(kq_t *kq)
{
    int  left;

    if (kq->prod == NULL) {
        return;
    }
    /* the watchdog allows 5 s past the deadline; leave room for the rest */
    rd_kafka_flush(kq->prod, 2000);
    left = rd_kafka_outq_len(kq->prod);
    if (left > 0) {
        ll_log(kq->in, LL_LOG_ERR, "%d message(s) still undelivered at exit",
               left);
    }
    ll_log(kq->in, LL_LOG_INFO, "producer: delivered %" PRIu64 ", failed %"
           PRIu64, kq->stats.produced, kq->stats.produce_failed);
    rd_kafka_destroy(kq->prod);
    kq->prod = NULL;
}

/* Errors that no retry can mend. */
int
kq_permanent(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return 1;
    default:
        return 0;
    }
}

/*
 * Queue one record.  extra: headers to add after msg's own (dead letters).
 * opaque goes to the delivery report.  Returns librdkafka's error.
 */
static rd_kafka_resp_err_t
produce(kq_t *kq, const char *topic, int32_t partition, const ll_msg_t *msg,
    const ll_header_t *extra, size_t nextra, void *opaque)
{
    rd_kafka_headers_t   *hdrs = NULL;
    rd_kafka_resp_err_t   err;
    size_t                i, n = msg->nheaders + nextra;
    size_t                klen = msg->key != NULL ? msg->key_len : 0;
    size_t                vlen = msg->payload != NULL ? msg->payload_len : 0;

    if (n > 0) {
        hdrs = rd_kafka_headers_new(n);
        for (i = 0; i < n; i++) {
            const ll_header_t  *h = i < msg->nheaders ? &msg->headers[i]
                                    : &extra[i - msg->nheaders];

            if (h->name == NULL) {
                continue;
            }
            rd_kafka_header_add(hdrs, h->name, -1, h->value,
                                h->value != NULL ? (ssize_t) h->value_len : 0);
        }
    }
    err = rd_kafka_producev(kq->prod,
              RD_KAFKA_V_TOPIC(topic),
              RD_KAFKA_V_PARTITION(partition >= 0 ? partition
                                   : RD_KAFKA_PARTITION_UA),
              RD_KAFKA_V_KEY(msg->key, klen),
              RD_KAFKA_V_VALUE((void *) msg->payload, vlen),
              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
              RD_KAFKA_V_HEADERS(hdrs),
              RD_KAFKA_V_OPAQUE(opaque),
              RD_KAFKA_V_END);
    if (err && hdrs != NULL) {
        rd_kafka_headers_destroy(hdrs);     /* only taken on success */
    }
    return err;
}

/*
 * The module's handle: publish msg (type = topic, key, payload = value,
 * headers; option "partition", default by the partitioner).
 * @locality any thread
 */
int
kq_produce(kq_t *kq, const ll_msg_t *msg, ll_result_t *res)
{
    rd_kafka_resp_err_t  err;
    kq_waiter_t         *w = NULL;
    struct timespec      ts;
    int64_t              deadline, partition;
    int                  rc;

    if (msg->type == NULL || msg->type[0] == '\0') {
        return ll_error(res, LL_R_INVALID, "kafka: no topic (msg->type) to "
                        "publish to");
    }
    partition = ll_msg_opt_num(msg, "partition", -1);
    if (partition < -1 || partition > INT32_MAX) {
        return ll_error(res, LL_R_INVALID, "kafka: partition %lld",
                        (long long) partition);
    }
    if (kq->prod == NULL) {
        return ll_error(res, LL_R_SHUTDOWN, "kafka: producer not running");
    }
    if (kq->conf->sync) {
        if (!kq->pthread_on) {
            return ll_error(res, LL_R_SHUTDOWN, "kafka: stopping, no "
                            "synchronous sends");
        }
        w = calloc(1, sizeof(kq_waiter_t));
        if (w == NULL) {
            return ll_error(res, LL_R_NO_MEMORY, "kafka: out of memory");
        }
        w->dr_kind = KQ_DR_WAITER;
        w->refs = 2;
    }

    err = produce(kq, msg->type, (int32_t) partition, msg, NULL, 0, w);
    if (err) {
        free(w);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL || !kq_permanent(err)) {
            return ll_error(res, LL_R_UNAVAILABLE, "kafka: %s: %s", msg->type,
                            rd_kafka_err2str(err));
        }
        return ll_fail(res, "kafka: %s: %s", msg->type, rd_kafka_err2str(err));
    }
    if (w == NULL) {
        return LL_DONE;
    }

    /* librdkafka reports within message.timeout.ms; the margin covers a
     * report thread held up at shutdown */
    deadline = ll_now_ms() + kq->conf->send_timeout_ms + 5000;
    ts.tv_sec = deadline / 1000;
    ts.tv_nsec = (deadline % 1000) * 1000000;
    pthread_mutex_lock(&kq->lock);
    while (!w->done) {
        if (pthread_cond_timedwait(&kq->cond, &kq->lock, &ts) == ETIMEDOUT) {
            break;
        }
    }
    if (!w->done) {
        rc = ll_error(res, LL_R_UNAVAILABLE, "kafka: %s: no delivery report",
                      msg->type);
    } else if (w->err) {
        rc = kq_permanent(w->err)
             ? ll_fail(res, "kafka: %s: %s", msg->type, rd_kafka_err2str(w->err))
             : ll_error(res, LL_R_UNAVAILABLE, "kafka: %s: %s", msg->type,
                        rd_kafka_err2str(w->err));
    } else {
        snprintf(res->id, sizeof(res->id), "%s/%d/%lld", msg->type,
                 (int) w->partition, (long long) w->offset);
        rc = LL_DONE;
    }
    pthread_mutex_unlock(&kq->lock);
    waiter_unref(kq, w);
    return rc;
}

/* "{topic}" in the pattern becomes the original topic. */
static int
dlq_topic(const char *pattern, const char *topic, char *out, size_t len)
{
    const char  *at = strstr(pattern, "{topic}");
    int          n;

    n = at == NULL ? snprintf(out, len, "%s", pattern)
        : snprintf(out, len, "%.*s%s%s", (int) (at - pattern), pattern, topic,
                   at + 7);
    return n > 0 && (size_t) n < len ? 0 : -1;
}

/*
 * After a dead letter was refused for good: whether a smaller one is worth
 * a try.  Only a size error is; the value is first cut to what fits the
 * producer's message.max.bytes, then halved (a broker or topic limit may be
 * lower) down to nothing.  @locality whoever settles the dead letter
 */
int
kq_dlq_shrink(kq_t *kq, kq_item_t *it, rd_kafka_resp_err_t err)
{
    (void) kq;
    if (it->msg.payload == NULL || it->msg.payload_len == 0
        || (err != RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
        && err != RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE
        && err != RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE))
    {
        return 0;
    }
    if (it->dlq_cap == SIZE_MAX) {
        it->dlq_cap = KQ_DLQ_FIT;
    } else if (it->dlq_cap == 0) {
        return 0;
    } else {
        it->dlq_cap = it->dlq_cap >= 2 * KQ_DLQ_SLACK ? it->dlq_cap / 2 : 0;
    }
    return 1;
}

/* What is left of the producer's message.max.bytes for a value once the
 * key and the headers are in. */
static size_t
dlq_fit(kq_t *kq, const ll_msg_t *m, const ll_header_t *extra, size_t nextra)
{
    char    v[32];
    size_t  vsz = sizeof(v), used, i;
    long    max = 0;

    if (rd_kafka_conf_get(rd_kafka_conf(kq->prod), "message.max.bytes", v,
                          &vsz) == RD_KAFKA_CONF_OK)
    {
        max = strtol(v, NULL, 10);
    }
    used = KQ_DLQ_SLACK + (m->key != NULL ? m->key_len : 0);
    for (i = 0; i < m->nheaders + nextra; i++) {
        const ll_header_t  *h = i < m->nheaders ? &m->headers[i]
                                : &extra[i - m->nheaders];

        used += (h->name != NULL ? strlen(h->name) : 0) + h->value_len + 10;
    }
    return max > 0 && (size_t) max > used ? (size_t) max - used : 0;
}

/*
 * Write it to its dead-letter topic: same key, value and headers, plus
 * x-looklook-* headers saying why; the report settles it.  A value that
 * was too large goes cut to it->dlq_cap bytes, with x-looklook-truncated
 * giving its full length.
 * @locality any thread, without kq->lock
 */
void
kq_dlq_send(kq_t *kq, kq_item_t *it)
{
    rd_kafka_resp_err_t  err;
    ll_header_t          h[8];
    ll_msg_t             m = it->msg;
    char                 topic[KQ_DLQ_TOPIC_MAX], part[16], off[24], att[16];
    char                 at[24], full[24];
    const char          *error = it->error != NULL ? it->error : "";
    size_t               nh = 7;

    if (dlq_topic(kq->conf->dlq, it->msg.type, topic, sizeof(topic)) != 0) {
        ll_log(kq->in, LL_LOG_ERR, "dead-letter topic name too long for %s",
               it->msg.type);
        kq_dlq_result(it, RD_KAFKA_RESP_ERR__INVALID_ARG);
        return;
    }
    snprintf(part, sizeof(part), "%d", (int) it->partition);
    snprintf(off, sizeof(off), "%lld", (long long) it->offset);
    snprintf(att, sizeof(att), "%d", it->msg.attempt);
    snprintf(at, sizeof(at), "%lld", (long long) ll_now_ms());

    h[0] = (ll_header_t) { "x-looklook-error", error, strlen(error) };
    h[1] = (ll_header_t) { "x-looklook-topic", it->msg.type,
                           strlen(it->msg.type) };
    h[2] = (ll_header_t) { "x-looklook-partition", part, strlen(part) };
    h[3] = (ll_header_t) { "x-looklook-offset", off, strlen(off) };
    h[4] = (ll_header_t) { "x-looklook-attempts", att, strlen(att) };
    h[5] = (ll_header_t) { "x-looklook-group", kq->conf->group,
                           strlen(kq->conf->group) };
    h[6] = (ll_header_t) { "x-looklook-failed-at", at, strlen(at) };

    if (it->dlq_cap != SIZE_MAX && m.payload != NULL) {
        snprintf(full, sizeof(full), "%zu", m.payload_len);
        h[nh++] = (ll_header_t) { "x-looklook-truncated", full, strlen(full) };
        if (it->dlq_cap == KQ_DLQ_FIT) {
            it->dlq_cap = dlq_fit(kq, &m, h, nh);
        }
        if (it->dlq_cap > m.payload_len) {
            it->dlq_cap = m.payload_len;
        }
        m.payload_len = it->dlq_cap;
        ll_log(kq->in, LL_LOG_WARN, "%s [%d] offset %lld: dead letter too "
               "large for the producer or broker: value cut to %zu of %s "
               "bytes (header x-looklook-truncated)", it->msg.type,
               (int) it->partition, (long long) it->offset,
               m.payload_len, full);
    }

    /* the original record goes to the partitioner, not its partition */
    err = produce(kq, topic, -1, &m, h, nh, &it->dr_kind);
    if (err) {
        ll_log(kq->in, LL_LOG_WARN, "dead letter to %s: %s", topic,
               rd_kafka_err2str(err));
        kq_dlq_result(it, err);
    }
}

/*
 * Whether a broker answers: a metadata request through the producer,
 * waited for until ll_ready_deadline() (librdkafka tries the bootstrap
 * brokers with its back-off meanwhile).  So a reload onto brokers that
 * cannot be reached fails and the old generation goes on.
 * @locality main thread, in start, after kq_producer_start
 */
int
kq_brokers_check(kq_t *kq, char *err, size_t errlen)
{
    const struct rd_kafka_metadata  *md;
    rd_kafka_resp_err_t              rerr;
    int64_t                          left;

    left = ll_ready_deadline(kq->in) - ll_now_ms();
    left = left < 100 ? 100 : left > INT_MAX ? INT_MAX : left;
    rerr = rd_kafka_metadata(kq->prod, 0, NULL, &md, (int) left);
    if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "brokers %s unreachable: %s",
                 kq->conf->brokers, rd_kafka_err2str(rerr));
        return -1;
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}
