/*
 * admin_api_kafka: the dead-letter topics the kafka module writes, read
 * straight from the brokers (the `kafka` setting), and re-publishing one
 * dead letter to the topic it came from.  The partitions' lag comes from
 * the kafka module's series in /api/status, not from here.
 *
 *   GET  /api/kafka/dead/SOURCE?n=N     the newest N letters of SOURCE's
 *                                       dead-letter topic (20), and how
 *                                       many it holds
 *   POST /api/kafka/dead/SOURCE/P/OFFSET/republish
 *
 * A plain librdkafka consumer without a group (the legacy per-partition
 * consume API: no group joins or commits) and a producer, made at the
 * first request and used by the HTTP thread alone; every broker call is
 * bounded by KAFKA_WAIT_MS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <microhttpd.h>

#include "admin.h"

#define KAFKA_WAIT_MS    5000
#define LETTERS_DEFAULT  20
#define LETTERS_MAX      200
#define LL_HEADER        "x-looklook-"  /* the kafka module's own headers */

typedef struct {
    rd_kafka_t     *consumer;
    rd_kafka_t     *producer;
    rd_kafka_resp_err_t  delivered;     /* the last delivery report */
    int             reports;
} admin_kafka_t;

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    admin_kafka_t  *k = opaque;

    k->delivered = m->err;
    k->reports++;
}

static rd_kafka_t *
kafka_handle(admin_t *a, rd_kafka_type_t type, char *err, size_t errlen)
{
    admin_kafka_t     *k = a->kafka;
    rd_kafka_conf_t   *conf;
    rd_kafka_t       **rk;

    if (k == NULL) {
        k = a->kafka = calloc(1, sizeof(*k));
        if (k == NULL) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
    }
    rk = type == RD_KAFKA_CONSUMER ? &k->consumer : &k->producer;
    if (*rk != NULL) {
        return *rk;
    }
    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", a->conf->kafka, err,
                          errlen) != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "client.id", "looklook-admin", err,
                             errlen) != RD_KAFKA_CONF_OK
        || (type == RD_KAFKA_CONSUMER
            && (rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
                                  errlen) != RD_KAFKA_CONF_OK
                || rd_kafka_conf_set(conf, "enable.auto.offset.store",
                                     "false", err, errlen)
                   != RD_KAFKA_CONF_OK
                /* a range ending early (trimmed) ends the read */
                || rd_kafka_conf_set(conf, "enable.partition.eof", "true",
                                     err, errlen) != RD_KAFKA_CONF_OK)))
    {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (type == RD_KAFKA_PRODUCER) {
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_opaque(conf, k);
    }
    *rk = rd_kafka_new(type, conf, err, errlen);   /* takes conf on success */
    if (*rk == NULL) {
        rd_kafka_conf_destroy(conf);
    }
    return *rk;
}

void
admin_kafka_close(admin_t *a)
{
    admin_kafka_t  *k = a->kafka;

    if (k == NULL) {
        return;
    }
    if (k->producer != NULL) {
        rd_kafka_flush(k->producer, KAFKA_WAIT_MS);
        rd_kafka_destroy(k->producer);
    }
    if (k->consumer != NULL) {
        rd_kafka_destroy(k->consumer);
    }
    free(k);
    a->kafka = NULL;
}

/* SOURCE's dead-letter topic: the `dlq` setting with {topic} replaced */
static void
dlq_topic(const admin_t *a, const char *source, char *buf, size_t len)
{
    const char  *p = strstr(a->conf->dlq, "{topic}");

    if (p == NULL) {
        snprintf(buf, len, "%s", a->conf->dlq);
    } else {
        snprintf(buf, len, "%.*s%s%s", (int) (p - a->conf->dlq),
                 a->conf->dlq, source, p + strlen("{topic}"));
    }
}

/* Bytes as a JSON string when printable UTF-8 text, else their size. */
static void
add_bytes(cJSON *o, const char *name, const void *p, size_t len)
{
    char  *s, buf[48];

    if (p == NULL) {
        cJSON_AddNullToObject(o, name);
    } else if (memchr(p, '\0', len) == NULL
               && (s = strndup(p, len)) != NULL)
    {
        cJSON_AddStringToObject(o, name, s);
        free(s);
    } else {
        snprintf(buf, sizeof(buf), "(%zu bytes)", len);
        cJSON_AddStringToObject(o, name, buf);
    }
}

static cJSON *
letter_json(const rd_kafka_message_t *m)
{
    rd_kafka_headers_t  *hs = NULL;
    rd_kafka_timestamp_type_t  tt;
    const char          *hn;
    const void          *hv;
    size_t               hl, i;
    cJSON               *o = cJSON_CreateObject(), *h;

    cJSON_AddNumberToObject(o, "partition", m->partition);
    cJSON_AddNumberToObject(o, "offset", (double) m->offset);
    cJSON_AddNumberToObject(o, "timestamp",
                            (double) rd_kafka_message_timestamp(m, &tt) / 1e3);
    add_bytes(o, "key", m->key, m->key_len);
    add_bytes(o, "value", m->payload, m->len);
    h = cJSON_AddObjectToObject(o, "headers");
    if (rd_kafka_message_headers(m, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (i = 0; rd_kafka_header_get_all(hs, i, &hn, &hv, &hl)
                    == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
        {
            add_bytes(h, hn, hv, hl);
        }
    }
    return o;
}

/* Messages [from, to) of one partition, each handed to fn; 0, or -1 with
 * err when the brokers do not deliver them in time. */
static int
read_range(rd_kafka_topic_t *rkt, int32_t part, int64_t from, int64_t to,
    void (*fn)(const rd_kafka_message_t *m, void *arg), void *arg,
    char *err, size_t errlen)
{
    rd_kafka_message_t  *m;
    int64_t              next = from;
    int                  rc = 0;

    if (from >= to) {
        return 0;
    }
    if (rd_kafka_consume_start(rkt, part, from) != 0) {
        snprintf(err, errlen, "kafka: %s",
                 rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    while (next < to) {
        m = rd_kafka_consume(rkt, part, KAFKA_WAIT_MS);
        if (m == NULL) {
            snprintf(err, errlen, "kafka: no answer from the brokers");
            rc = -1;
            break;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            next = m->offset + 1;
            fn(m, arg);
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            snprintf(err, errlen, "kafka: %s", rd_kafka_message_errstr(m));
            rc = -1;
        } else {
            next = to;          /* compacted or trimmed: nothing more */
        }
        rd_kafka_message_destroy(m);
        if (rc != 0) {
            break;
        }
    }
    rd_kafka_consume_stop(rkt, part);
    return rc;
}

static void
add_letter(const rd_kafka_message_t *m, void *arg)
{
    cJSON_AddItemToArray(arg, letter_json(m));
}

static int
by_time_desc(const void *a, const void *b)
{
    double  x = cJSON_GetObjectItem(*(cJSON * const *) a, "timestamp")
                    ->valuedouble,
            y = cJSON_GetObjectItem(*(cJSON * const *) b, "timestamp")
                    ->valuedouble;

    return x < y ? 1 : x > y ? -1 : 0;
}

/* The path's parts after /api/kafka/dead/: SOURCE [P OFFSET VERB] */
static int
kafka_split(const char *path, char *buf, size_t len, char **part, int max)
{
    char  *s, *save = NULL;
    int    n = 0;

    snprintf(buf, len, "%s", path + strlen("/api/kafka/dead/"));
    for (s = strtok_r(buf, "/", &save); s != NULL;
         s = strtok_r(NULL, "/", &save))
    {
        if (n == max) {
            return -1;
        }
        part[n++] = s;
    }
    return n;
}

static rd_kafka_t *
kafka_ready(const admin_req_t *req, admin_resp_t *resp, rd_kafka_type_t type)
{
    rd_kafka_t  *rk;
    char         err[256];

    if (req->admin->conf->kafka == NULL) {
        admin_error(resp, MHD_HTTP_SERVICE_UNAVAILABLE, "the admin module "
                    "has no \"kafka\" setting");
        return NULL;
    }
    rk = kafka_handle(req->admin, type, err, sizeof(err));
    if (rk == NULL) {
        admin_error(resp, MHD_HTTP_SERVICE_UNAVAILABLE, err);
    }
    return rk;
}

/* GET /api/kafka/dead/SOURCE?n=N */
void
admin_get_kafka_dead(const admin_req_t *req, admin_resp_t *resp)
{
    const rd_kafka_metadata_t  *md = NULL;
    rd_kafka_topic_t           *rkt;
    rd_kafka_t                 *rk;
    rd_kafka_resp_err_t         e;
    const char                 *ns = admin_arg(req, "n");
    char                        buf[512], topic[512], err[256] = "";
    char                       *part[1];
    long                        n = ns ? strtol(ns, NULL, 10)
                                       : LETTERS_DEFAULT;
    int64_t                     lo, hi, total = 0;
    int                         i, rc = 0, size;
    cJSON                      *o, *arr, **v, *sorted;

    if (kafka_split(req->path, buf, sizeof(buf), part, 1) != 1) {
        admin_error(resp, MHD_HTTP_NOT_FOUND, "not found");
        return;
    }
    if ((rk = kafka_ready(req, resp, RD_KAFKA_CONSUMER)) == NULL) {
        return;
    }
    n = n < 1 ? 1 : n > LETTERS_MAX ? LETTERS_MAX : n;
    dlq_topic(req->admin, part[0], topic, sizeof(topic));
    rkt = rd_kafka_topic_new(rk, topic, NULL);
    e = rkt ? rd_kafka_metadata(rk, 0, rkt, &md, KAFKA_WAIT_MS)
            : rd_kafka_last_error();
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1
        && md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
    {
        e = md->topics[0].err;
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1) {
        snprintf(err, sizeof(err), "kafka: topic %.150s: %s", topic,
                 rd_kafka_err2str(e));
        if (md != NULL) {
            rd_kafka_metadata_destroy(md);
        }
        if (rkt != NULL) {
            rd_kafka_topic_destroy(rkt);
        }
        admin_error(resp, e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                          ? MHD_HTTP_NOT_FOUND
                          : MHD_HTTP_SERVICE_UNAVAILABLE, err);
        return;
    }
    arr = cJSON_CreateArray();
    for (i = 0; i < md->topics[0].partition_cnt && rc == 0; i++) {
        int32_t  p = md->topics[0].partitions[i].id;

        e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi,
                                             KAFKA_WAIT_MS);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(err, sizeof(err), "kafka: %s", rd_kafka_err2str(e));
            rc = -1;
            break;
        }
        total += hi - lo;
        /* the newest n of each partition hold the newest n overall */
        rc = read_range(rkt, p, hi - n > lo ? hi - n : lo, hi, add_letter,
                        arr, err, sizeof(err));
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    if (rc != 0) {
        cJSON_Delete(arr);
        admin_error(resp, MHD_HTTP_SERVICE_UNAVAILABLE, err);
        return;
    }
    size = cJSON_GetArraySize(arr);
    v = malloc(sizeof(*v) * (size_t) (size ? size : 1));
    sorted = cJSON_CreateArray();
    if (v != NULL) {
        for (i = 0; i < size; i++) {
            v[i] = cJSON_DetachItemFromArray(arr, 0);
        }
        qsort(v, (size_t) size, sizeof(*v), by_time_desc);
        for (i = 0; i < size; i++) {
            if (i < n) {
                cJSON_AddItemToArray(sorted, v[i]);
            } else {
                cJSON_Delete(v[i]);
            }
        }
        free(v);
    }
    cJSON_Delete(arr);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "source", part[0]);
    cJSON_AddStringToObject(o, "topic", topic);
    cJSON_AddNumberToObject(o, "count", (double) total);
    cJSON_AddItemToObject(o, "letters", sorted);
    admin_json(resp, MHD_HTTP_OK, o);
}

typedef struct {
    admin_t             *admin;
    const char          *source;
    rd_kafka_resp_err_t  err;
    char                 target[256];
    int                  found;
} republish_t;

/* Produce one dead letter again: key, value and its headers but the
 * module's own, to the topic its x-looklook-topic header names. */
static void
republish_one(const rd_kafka_message_t *m, void *arg)
{
    republish_t         *rp = arg;
    admin_kafka_t       *k = rp->admin->kafka;
    rd_kafka_headers_t  *hs = NULL, *out;
    const char          *hn;
    const void          *hv;
    size_t               hl, i;

    rp->found = 1;
    snprintf(rp->target, sizeof(rp->target), "%s", rp->source);
    out = rd_kafka_headers_new(8);
    if (rd_kafka_message_headers(m, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (i = 0; rd_kafka_header_get_all(hs, i, &hn, &hv, &hl)
                    == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
        {
            if (strcmp(hn, LL_HEADER "topic") == 0 && hv != NULL) {
                snprintf(rp->target, sizeof(rp->target), "%.*s", (int) hl,
                         (const char *) hv);
            } else if (strncmp(hn, LL_HEADER, strlen(LL_HEADER)) != 0) {
                rd_kafka_header_add(out, hn, -1, hv, (ssize_t) hl);
            }
        }
    }
    k->reports = 0;
    rp->err = rd_kafka_producev(k->producer,
                                RD_KAFKA_V_TOPIC(rp->target),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(m->key, m->key_len),
                                RD_KAFKA_V_VALUE(m->payload, m->len),
                                RD_KAFKA_V_HEADERS(out),
                                RD_KAFKA_V_END);
    if (rp->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(out);      /* only taken on success */
        return;
    }
    rd_kafka_flush(k->producer, KAFKA_WAIT_MS);
    rp->err = k->reports ? k->delivered : RD_KAFKA_RESP_ERR__TIMED_OUT;
}

/* POST /api/kafka/dead/SOURCE/P/OFFSET/republish */
void
admin_post_kafka_dead(const admin_req_t *req, admin_resp_t *resp)
{
    rd_kafka_topic_t  *rkt;
    rd_kafka_t        *rk;
    republish_t        rp;
    char               buf[512], topic[512], err[256];
    char              *part[4], *end;
    long long          off;
    long               p;
    int                rc;
    cJSON             *o;

    if (kafka_split(req->path, buf, sizeof(buf), part, 4) != 4
        || strcmp(part[3], "republish") != 0
        || (p = strtol(part[1], &end, 10), *end != '\0') || p < 0
        || (off = strtoll(part[2], &end, 10), *end != '\0') || off < 0)
    {
        admin_error(resp, MHD_HTTP_NOT_FOUND, "no such action");
        return;
    }
    if ((rk = kafka_ready(req, resp, RD_KAFKA_CONSUMER)) == NULL
        || kafka_ready(req, resp, RD_KAFKA_PRODUCER) == NULL)
    {
        return;
    }
    dlq_topic(req->admin, part[0], topic, sizeof(topic));
    memset(&rp, 0, sizeof(rp));
    rp.admin = req->admin;
    rp.source = part[0];
    rkt = rd_kafka_topic_new(rk, topic, NULL);
    rc = rkt == NULL ? -1
         : read_range(rkt, (int32_t) p, off, off + 1, republish_one, &rp, err,
                      sizeof(err));
    if (rkt != NULL) {
        rd_kafka_topic_destroy(rkt);
    }
    if (rc != 0 || !rp.found) {
        admin_error(resp, rc != 0 ? MHD_HTTP_SERVICE_UNAVAILABLE
                                  : MHD_HTTP_NOT_FOUND,
                    rc != 0 ? err : "no such dead letter");
        return;
    }
    if (rp.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, sizeof(err), "kafka: producing to %.150s: %s", rp.target,
                 rd_kafka_err2str(rp.err));
        admin_error(resp, MHD_HTTP_SERVICE_UNAVAILABLE, err);
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "topic", rp.target);
    admin_json(resp, MHD_HTTP_OK, o);
}
