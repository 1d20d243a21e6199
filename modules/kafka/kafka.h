/*
 * kafka module internals, shared by its files.
 *
 * Threads: the worker's main thread (init/start/stop/fini), one consumer
 * thread (polls librdkafka, runs the rebalance callback, fires retries,
 * stores offsets, pauses and resumes partitions), one producer thread
 * (serves delivery reports), and the core's handler-pool threads (run the
 * done callback, which records outcomes and dispatches the next message).
 * kq_t.lock guards every partition and item; nothing calls into librdkafka
 * or the core while holding it.
 */
#ifndef KAFKA_H_INCLUDED
#define KAFKA_H_INCLUDED

#include <pthread.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>
#include <looklook/looklook.h>

#define KQ_ERRLEN  512
#define KQ_KEYS_MAX         64      /* order = key: keys in work per partition */
#define KQ_KEY_LOOKAHEAD    256     /* order = key: blocked messages passed over
                                     * in one look for a free key */

typedef enum {
    KQ_ORDER_PARTITION = 0,     /* one message in flight per partition */
    KQ_ORDER_KEY,               /* same key in order, keys in parallel */
    KQ_ORDER_NONE               /* no order within a partition */
} kq_order_e;

/* The settings, filled by the core from looklook.conf. */
typedef struct {
    char               *brokers;
    char               *group;
    const ll_conf_node_t *topics;
    char               *offset;
    char               *client_id;
    char               *order;
    int64_t             parallelism;
    int64_t             backlog;
    int64_t             max_retries;
    int64_t             retry_backoff_ms;
    int64_t             retry_backoff_max_ms;
    char               *on_error;
    char               *dlq;
    int64_t             commit_interval_ms;
    int64_t             drain_timeout_ms;
    int64_t             fetch_min_bytes;
    int64_t             fetch_max_bytes;
    int64_t             fetch_wait_ms;
    char               *sasl_mechanism;
    char               *sasl_username;
    char               *sasl_password;
    int                 tls;
    char               *tls_ca;
    char               *tls_cert;
    char               *tls_key;
    char               *tls_key_password;
    int                 tls_verify;
    char               *compression;
    int                 sync;
    int64_t             send_timeout_ms;
    const ll_conf_node_t *librdkafka;
} kq_conf_t;

/* A "key=value" pass-through property; scope 'c' consumer, 'p' producer,
 * 'b' both. */
typedef struct {
    char                scope;
    char               *key;
    char               *value;
} kq_prop_t;

typedef enum {
    KQ_WAITING = 0,     /* fetched, not yet handed to a handler */
    KQ_INFLIGHT,        /* with a handler */
    KQ_RETRY_WAIT,      /* back-off before the next attempt */
    KQ_DLQ,             /* being written to the dead-letter topic */
    KQ_DLQ_WAIT,        /* back-off before writing the dead letter again */
    KQ_ABANDONED,       /* given up uncommitted (revoke, stop) */
    KQ_HANDLED          /* done: may be committed past */
} kq_state_e;

/* What a producer delivery report belongs to (the message opaque). */
typedef enum {
    KQ_DR_ITEM = 1,     /* a dead letter of a consumed item */
    KQ_DR_WAITER        /* a synchronous ll_send */
} kq_dr_kind_e;

typedef struct kq_s       kq_t;
typedef struct kq_part_s  kq_part_t;
typedef struct kq_item_s  kq_item_t;

/* One consumed message, alive from fetch until it is released at the
 * head of its partition's window. */
struct kq_item_s {
    int                 dr_kind;    /* KQ_DR_ITEM: first, for the opaque */
    ll_msg_t            msg;        /* what the handler sees */
    ll_opt_t            opts[3];    /* msg.opts: topic, partition, offset */
    int32_t             partition;
    int64_t             offset;
    int                 stalls;     /* transient retries (not attempts) */
    rd_kafka_message_t *rkm;        /* owns key, value and headers */
    ll_header_t        *headers;
    kq_part_t          *part;
    kq_item_t          *next;       /* window, in offset order */
    kq_item_t          *tnext;      /* timer list, by due time */
    kq_item_t          *dnext;      /* a batch to dispatch or send */
    int64_t             due_ms;     /* timer: next attempt or DLQ write */
    uint32_t            key_hash;
    int                 state;      /* kq_state_e */
    char               *error;      /* last handler error, for the DLQ */
    size_t              dlq_cap;    /* dead letter's value cut to this
                                     * (SIZE_MAX: whole) */
};

/* One assigned partition: its window of items not yet released. */
struct kq_part_s {
    kq_t               *kq;
    char               *topic;
    int32_t             partition;
    kq_item_t          *head;
    kq_item_t          *tail;
    kq_item_t          *scan;       /* no WAITING item before this one */
    int                 count;      /* items in the window */
    int                 busy;       /* in flight, waiting a retry or DLQ */
    int                 nkeys;      /* order = key: keys[] in use */
    uint32_t            keys[KQ_KEYS_MAX];  /* hashes of the busy keyed items */
    int64_t             next_offset;/* after the last fetched; -1 none */
    int64_t             stored;     /* last offset stored for commit */
    unsigned            paused:1;
    unsigned            want_resume:1;
    unsigned            dirty:1;    /* safe offset moved: store it */
    unsigned            revoking:1; /* no new dispatches */
    unsigned            orphan:1;   /* revoked with handlers still running */
    unsigned            touched:1;  /* got messages in this intake round */
    kq_part_t          *next;       /* kq's list of assigned partitions */
};

typedef struct {
    uint64_t            consumed;
    uint64_t            handled;
    uint64_t            retried;
    uint64_t            dead_lettered;
    uint64_t            dropped;
    uint64_t            abandoned;
    uint64_t            produced;
    uint64_t            produce_failed;
} kq_stats_t;

struct kq_s {
    ll_instance_t      *in;
    kq_conf_t          *conf;
    char              **topics;     /* to consume, NULL-terminated */
    int                 ntopics;
    kq_prop_t          *props;
    int                 nprops;
    int                 order;      /* kq_order_e */
    int                 drop;       /* on_error = drop */

    pthread_mutex_t     lock;
    pthread_cond_t      cond;       /* a busy count fell, a DR arrived */

    /* consumer */
    rd_kafka_t         *rk;
    rd_kafka_queue_t   *cq;
    pthread_t           cthread;
    int                 cthread_on;
    int                 stopping;   /* stop() asked the consumer to end */
    kq_part_t          *parts;
    kq_part_t          *orphans;    /* revoked, waiting for their handlers */
    kq_item_t          *timers;     /* RETRY_WAIT and DLQ_WAIT, by due */

    /* producer */
    rd_kafka_t         *prod;
    pthread_t           pthread;
    int                 pthread_on;
    int                 prod_stop;

    kq_stats_t          stats;
    int                 healthy;    /* brokers reachable; -1 unknown;
                                     * the thread serving the stats */
    ll_log_limit_t      down;       /* broker outages, for the log */
    ll_log_limit_t      rdlog;      /* librdkafka's warnings and errors */
    char                down_why[200];  /* the outage's first error, under
                                         * lock; "" while none */
};

/* kafka_conf.c */
extern const char *const kq_orders[], *const kq_offsets[], *const kq_on_errors[],
    *const kq_mechs[], *const kq_codecs[];
int  kq_conf_check(kq_t *kq, char *err, size_t errlen);
rd_kafka_conf_t *kq_rdconf(kq_t *kq, int consumer, char *err, size_t errlen);
void kq_conf_free(kq_t *kq);

/* kafka_part.c: windows and the choice of what to dispatch.
 * @locality any thread, with kq->lock held */
kq_part_t *kq_part_find(kq_t *kq, const char *topic, int32_t partition);
kq_part_t *kq_part_add(kq_t *kq, const char *topic, int32_t partition);
void kq_part_detach(kq_part_t *p);
void kq_part_free(kq_part_t *p);
kq_item_t *kq_item_new(kq_t *kq, rd_kafka_message_t *rkm);
void kq_item_free(kq_item_t *it);
void kq_part_append(kq_part_t *p, kq_item_t *it);
void kq_part_pick(kq_part_t *p, kq_item_t **batch);
void kq_part_unbusy(kq_part_t *p, const kq_item_t *it);
kq_item_t *kq_part_release(kq_part_t *p);
int64_t kq_part_safe_offset(const kq_part_t *p);
void kq_timer_add(kq_t *kq, kq_item_t *it, int64_t due_ms);
void kq_timer_remove(kq_t *kq, kq_item_t *it);

/* kafka_consumer.c */
int  kq_consumer_start(kq_t *kq, char *err, size_t errlen);
void kq_consumer_stop(kq_t *kq);
void kq_consumer_fini(kq_t *kq);
void kq_wake(kq_t *kq);
void kq_dlq_result(kq_item_t *it, rd_kafka_resp_err_t err);

/* kafka_metrics.c */
#define KQ_STATS_MS  1000   /* librdkafka statistics: lag and health */
int  kq_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque);
void kq_metric_paused(kq_t *kq, const rd_kafka_topic_partition_list_t *l,
    int paused);
void kq_metric_gone(kq_t *kq, const char *topic, int dlq);

/* kafka_producer.c */
int  kq_producer_start(kq_t *kq, char *err, size_t errlen);
int  kq_brokers_check(kq_t *kq, char *err, size_t errlen);
void kq_producer_stop(kq_t *kq);
void kq_producer_fini(kq_t *kq);
int  kq_produce(kq_t *kq, const ll_msg_t *msg, ll_result_t *res);
int  kq_permanent(rd_kafka_resp_err_t err);
void kq_dlq_send(kq_t *kq, kq_item_t *it);
int  kq_dlq_shrink(kq_t *kq, kq_item_t *it, rd_kafka_resp_err_t err);

#endif /* KAFKA_H_INCLUDED */
