/*
 * What the kafka module publishes for the admin module, and its health.
 *
 * librdkafka's statistics (statistics.interval.ms, KQ_STATS_MS) bring,
 * once a second, every broker's connection state and every partition's
 * high watermark and committed offset: the consumer's lag per partition
 * it owns comes from there (no extra broker request per scrape), and so
 * does the instance's health: unready while no broker is up.  Paused
 * partitions and dead letters are counted where they happen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "kafka.h"

static ll_series_t *
part_series(kq_t *kq, const char *name, const char *help, const char *topic,
    int32_t partition)
{
    char  num[16];

    snprintf(num, sizeof(num), "%d", (int) partition);
    return ll_metric(kq->in, LL_METRIC_GAUGE, name, help,
                     "name", ll_instance_name(kq->in), "topic", topic,
                     "partition", num, (const char *) NULL);
}

/* @locality consumer thread (it alone pauses and resumes) */
void
kq_metric_paused(kq_t *kq, const rd_kafka_topic_partition_list_t *l,
    int paused)
{
    int  i;

    for (i = 0; i < l->cnt; i++) {
        ll_metric_set(part_series(kq, "looklook_kafka_partition_paused",
                                  "1 while the partition's fetching is "
                                  "paused (its backlog is full).",
                                  l->elems[i].topic, l->elems[i].partition),
                      paused);
    }
}

/* A message of topic dead-lettered (dlq = 1) or dropped.
 * @locality any thread */
void
kq_metric_gone(kq_t *kq, const char *topic, int dlq)
{
    ll_metric_add(ll_metric(kq->in, LL_METRIC_COUNTER,
                            dlq ? "looklook_kafka_dead_lettered_total"
                                : "looklook_kafka_dropped_total",
                            dlq ? "Messages written to the dead-letter "
                                  "topic, by source topic."
                                : "Messages given up without a dead letter "
                                  "(on_error = drop, or the dead letter "
                                  "could not be written).",
                            "name", ll_instance_name(kq->in), "topic", topic,
                            (const char *) NULL), 1);
}

static int64_t
num(const cJSON *o, const char *key)
{
    const cJSON  *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsNumber(v) ? (int64_t) v->valuedouble : -1;
}

/* How many brokers the client is connected to (its internal and logical
 * pseudo brokers left out); why says what the others are doing, *failing
 * whether one is down or (re)connecting (INIT: never needed yet). */
static int
brokers_up(const cJSON *stats, int *failing, char *why, size_t len)
{
    const cJSON  *b, *src, *st;
    int           up = 0;

    *failing = 0;
    snprintf(why, len, "no broker known");
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(stats, "brokers")) {
        src = cJSON_GetObjectItemCaseSensitive(b, "source");
        st = cJSON_GetObjectItemCaseSensitive(b, "state");
        if (!cJSON_IsString(src) || !cJSON_IsString(st)
            || strcmp(src->valuestring, "internal") == 0
            || strcmp(src->valuestring, "logical") == 0)
        {
            continue;
        }
        if (strcmp(st->valuestring, "UP") == 0) {
            up++;
        } else {
            *failing |= strcmp(st->valuestring, "INIT") != 0;
            snprintf(why, len, "no broker up (%s is %s)", b->string,
                     st->valuestring);
        }
    }
    return up;
}

/* The lag of every partition this member owns: high watermark minus the
 * committed offset (before the group's first commit, minus the offset
 * stored for commit, as librdkafka's own consumer_lag). */
static void
lags(kq_t *kq, const cJSON *stats)
{
    const cJSON  *t, *pa;
    kq_part_t    *p;
    int64_t       hi, committed, lag;
    int32_t       partition;
    int           mine;

    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(stats, "topics")) {
        cJSON_ArrayForEach(pa, cJSON_GetObjectItemCaseSensitive(t,
                                                               "partitions"))
        {
            partition = (int32_t) num(pa, "partition");
            if (partition < 0) {
                continue;       /* librdkafka's unassigned pseudo partition */
            }
            pthread_mutex_lock(&kq->lock);
            p = kq_part_find(kq, t->string, partition);
            mine = p != NULL && !p->revoking;
            pthread_mutex_unlock(&kq->lock);
            if (!mine) {
                continue;
            }
            hi = num(pa, "hi_offset");
            committed = num(pa, "committed_offset");
            if (hi >= 0) {
                ll_metric_set(part_series(kq, "looklook_kafka_high_watermark",
                                          "The partition's high watermark "
                                          "(offset of its next record).",
                                          t->string, partition),
                              (double) hi);
            }
            if (committed >= 0) {
                ll_metric_set(part_series(kq, "looklook_kafka_committed_offset",
                                          "The group's committed offset in "
                                          "the partition.",
                                          t->string, partition),
                              (double) committed);
            }
            lag = hi >= 0 && committed >= 0 ? hi - committed
                                            : num(pa, "consumer_lag");
            if (lag < 0) {
                continue;       /* nothing known yet */
            }
            ll_metric_set(part_series(kq, "looklook_kafka_consumer_lag",
                                      "Messages not yet committed: the "
                                      "partition's high watermark minus the "
                                      "group's committed offset.",
                                      t->string, partition),
                          (double) lag);
        }
    }
}

/*
 * librdkafka's statistics: lag from the consumer's, health from the
 * consumer's (or, for a producer-only instance, the producer's).
 * Returns 0: librdkafka frees json.  @locality the consumer or producer
 * thread (whichever polls the handle)
 */
int
kq_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    kq_t    *kq = opaque;
    cJSON   *stats = cJSON_ParseWithLength(json, len);
    char     why[256];
    int      consumer = rd_kafka_type(rk) == RD_KAFKA_CONSUMER, up, failing;

    if (stats == NULL) {
        return 0;
    }
    if (consumer) {
        lags(kq, stats);
    }
    if (consumer || kq->ntopics == 0) {
        up = brokers_up(stats, &failing, why, sizeof(why)) > 0;
        if (up && !failing) {
            /* every broker back: the end of an outage error_cb logged */
            pthread_mutex_lock(&kq->lock);
            kq->down_why[0] = '\0';
            pthread_mutex_unlock(&kq->lock);
            ll_log_recovered(kq->in, &kq->down, "brokers reachable again");
        }
        /* the state changes rarely: write it on changes only */
        if (up != kq->healthy) {
            kq->healthy = up;
            if (up) {
                ll_health_set(kq->in, LL_HEALTH_READY, NULL);
            } else {
                /* the cause is logged by error_cb */
                ll_health_set(kq->in, LL_HEALTH_UNREADY, "kafka: %s", why);
            }
        }
    }
    cJSON_Delete(stats);
    return 0;
}
