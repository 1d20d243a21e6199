/*
 * looklook observability API: metrics a module publishes, its health, and
 * the server's status as text.
 *
 * Metrics and health live in the core's shared status mapping (the
 * status_file), which every worker of every generation writes and which
 * any process reads: the admin module of any worker answers for the whole
 * server, and `looklook -s status` reads the same data from outside.
 */
#ifndef LL_OBSERVE_H_INCLUDED
#define LL_OBSERVE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "ll_api.h"

/* ---- metrics ---------------------------------------------------------- */

typedef enum {
    LL_METRIC_COUNTER = 1,  /* only goes up; name ends in _total */
    LL_METRIC_GAUGE,        /* goes up and down */
    LL_METRIC_UNTYPED       /* a gauge whose name must end in _total to
                             * match an existing exporter (asynq's) */
} ll_metric_type_e;

typedef struct ll_series_s  ll_series_t;      /* one series, shared */

/*
 * The series `name{label="value",...}` (Prometheus naming: base units,
 * _total for counters, _seconds), created at its first use with help as
 * its HELP text.  The labels are given as NULL-terminated pairs of
 * const char * (key, value, ..., NULL); values are escaped by the core.
 * A series is one value shared by all workers and generations: counters
 * are added to by every worker (and keep counting across reloads), a
 * gauge holds the last value any worker set.  Put a label such as
 * worker="N" in where a per-worker value is wanted.
 * The lookup costs a hash probe in the shared mapping: call it once and
 * keep the handle (it stays valid for the life of the process).  Returns
 * NULL when the mapping is full or absent (the -t checker); the functions
 * below accept NULL and do nothing.
 * @locality any thread
 */
LL_API ll_series_t *ll_metric(ll_instance_t *in, int type, const char *name,
    const char *help, ...) __attribute__((sentinel));

/* Add v to a counter or gauge; set a gauge (or a counter read from
 * elsewhere, e.g. a total kept in Redis) to v.  @locality any thread */
LL_API void ll_metric_add(ll_series_t *s, double v);
LL_API void ll_metric_set(ll_series_t *s, double v);

/* ---- health ----------------------------------------------------------- */

typedef enum {
    LL_HEALTH_STARTING = 0, /* set by the core before start */
    LL_HEALTH_READY,        /* set by the core when start returned 0 */
    LL_HEALTH_UNREADY,      /* set by a module: cannot do its work now */
    LL_HEALTH_STOPPING      /* set by the core when stop begins */
} ll_health_e;

/*
 * This worker's health for instance in: LL_HEALTH_READY, or
 * LL_HEALTH_UNREADY with the reason ("redis: connection refused").  The
 * admin module's /readyz answers 503 while any instance of the serving
 * generation, in any worker, is not ready.  Cheap: call it on every
 * connection change; repeated calls with the same state only update the
 * reason.  @locality any thread, from start until stop returns
 */
LL_API void ll_health_set(ll_instance_t *in, int state, const char *fmt, ...)
    LL_PRINTF(3, 4);

/* ---- the server's status as text -------------------------------------- */

/*
 * What the shared mapping holds, rendered; malloc'ed, the caller frees.
 * ll_status_json: one JSON object (generation, uptime, workers with pids
 * and states, reloads, modules with their health, routes with counters,
 * metrics), the text `looklook -s status --json` prints.
 * ll_status_prometheus: the Prometheus text exposition (format 0.0.4) of
 * the core's metrics and every module's series.
 * ll_status_ready: 1 when every instance of the serving generation in
 * every live worker is ready, else 0; *why (malloc'ed JSON object, may be
 * NULL) says which are not.  NULL / -1 when out of memory or when the
 * mapping is absent.
 * @locality any thread
 */
LL_API char *ll_status_json(void);
LL_API char *ll_status_prometheus(size_t *len);
LL_API int   ll_status_ready(char **why);

#endif /* LL_OBSERVE_H_INCLUDED */
