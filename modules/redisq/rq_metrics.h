/*
 * rq_metrics: queue metrics (asynq exporter names) and redisq's health.
 * @locality the house thread
 */
#ifndef RQ_METRICS_H_INCLUDED
#define RQ_METRICS_H_INCLUDED

#include <stdint.h>

#include "rq_redis.h"

typedef struct rq_metrics_s  rq_metrics_t;
struct rq_server_s;

rq_metrics_t *rq_metrics_new(struct rq_server_s *s);   /* NULL: no memory */
void rq_metrics_free(rq_metrics_t *m);                 /* NULL-safe */

/* Ping Redis every second (health), and on worker 0 read the queues every
 * few seconds; now is lt_mono_ms().  NULL-safe. */
void rq_metrics_tick(rq_metrics_t *m, rq_redis_t *r, int64_t now);

#endif /* RQ_METRICS_H_INCLUDED */
