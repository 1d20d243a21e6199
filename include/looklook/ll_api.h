/*
 * looklook host API: the functions of the core a module may call.
 *
 * Every function names its calling thread with @locality.  Strings and
 * buffers passed in stay owned by the caller unless a comment says
 * otherwise; pointers returned stay owned by the core.
 */
#ifndef LL_API_H_INCLUDED
#define LL_API_H_INCLUDED

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ll_module.h"

#define LL_API  __attribute__((visibility("default")))

#if defined(__GNUC__)
#define LL_PRINTF(f, a)  __attribute__((format(printf, f, a)))
#else
#define LL_PRINTF(f, a)
#endif

/* ---- logging --------------------------------------------------------- */

enum { LL_LOG_ERR = 0, LL_LOG_WARN, LL_LOG_INFO, LL_LOG_DEBUG };

/* One line to the error log, with time, level, pid and the instance name
 * (in may be NULL).  Lines above the configured log_level are dropped.
 * @locality any thread */
LL_API void ll_log(ll_instance_t *in, int level, const char *fmt, ...)
    LL_PRINTF(3, 4);

/* ---- the instance ---------------------------------------------------- */

/* The instance name from looklook.conf ("redisq"), owned by the core.
 * @locality any thread */
LL_API const char *ll_instance_name(const ll_instance_t *in);

/* The module's own per-instance pointer; set it in init, the core never
 * frees it.  @locality main thread to set, any thread to get */
LL_API void  ll_set_data(ll_instance_t *in, void *data);
LL_API void *ll_get_data(const ll_instance_t *in);

/* This worker's slot (0 .. count-1) and the number of workers; the
 * generation counts reloads from 1.  @locality any thread */
LL_API int      ll_worker_id(const ll_instance_t *in);
LL_API int      ll_worker_count(const ll_instance_t *in);
LL_API unsigned ll_generation(const ll_instance_t *in);

/* Unix time in ms, and the Unix ms by which stop must have given back all
 * in-flight work (meaningful during stop; fast stop gives "now").
 * @locality any thread */
LL_API int64_t ll_now_ms(void);
LL_API int64_t ll_shutdown_deadline(const ll_instance_t *in);

/* The Unix ms by which start must have returned: a module that cannot
 * reach what it needs (broker, database) by then fails start, so a reload
 * onto an unreachable server keeps the old generation.  It falls a little
 * before the master's ready_timeout, leaving time to report; meaningful
 * during start (the -t checker runs no start).  @locality any thread */
LL_API int64_t ll_ready_deadline(const ll_instance_t *in);

/* ---- routing and dispatch -------------------------------------------- */

/*
 * Called when a dispatched message has been handled.  msg is the pointer
 * given to ll_dispatch; res is the core's and valid during the call only.
 * @locality a handler-pool thread
 */
typedef void (*ll_done_pt)(ll_msg_t *msg, int outcome, const ll_result_t *res,
    void *arg);

/*
 * Hand msg (from an mq module, msg->source = its instance name) to the
 * handler that looklook.conf routes "source:type" to, on the handler pool.
 * msg and everything it points to must stay valid and unchanged until done
 * is called; the core uses msg->core[].  A message with no route is
 * answered LL_RETRY with "no handler for task type X".  Returns 0, or -1
 * when the pool is stopping (done is then not called).
 * @locality any thread of an mq module
 */
LL_API int ll_dispatch(ll_instance_t *in, ll_msg_t *msg, ll_done_pt done,
    void *arg);

/* Whether some route takes "source:type".  @locality any thread */
LL_API int ll_route_exists(const ll_instance_t *in, const char *type);

/*
 * Hand msg to the instance named `to` and run its handle hook now, on the
 * calling thread (enqueue through "redisq", publish through "kafka").
 * Returns its ll_outcome_e; res->error says why on failure, res->id holds
 * what the target produced.  An unknown target is LL_FAIL; a target not
 * started yet or already stopped is LL_RETRY "module X is not running".
 * @locality any thread, after start
 */
LL_API int ll_send(ll_instance_t *from, const char *to, const ll_msg_t *msg,
    ll_result_t *res);

/* Format res->error and return LL_RETRY (delay_ms -1: the source's
 * back-off) or LL_FAIL.  @locality any thread */
LL_API int ll_retry(ll_result_t *res, int64_t delay_ms, const char *fmt, ...)
    LL_PRINTF(3, 4);
LL_API int ll_fail(ll_result_t *res, const char *fmt, ...) LL_PRINTF(2, 3);

/* Whether the source asked the handler to give up (deadline passed, task
 * cancelled, fast stop).  @locality any thread */
static inline int
ll_msg_cancelled(const ll_msg_t *m)
{
    return __atomic_load_n(&m->cancelled, __ATOMIC_RELAXED);
}

/* ---- services -------------------------------------------------------- */

/*
 * Offer svc under a name (a struct of function pointers whose header the
 * provider ships).  svc stays owned by the provider and must live until its
 * fini.  Returns -1 if the name is taken.  @locality main thread, in init
 */
LL_API int ll_service_offer(ll_instance_t *in, const char *name,
    const void *svc);

/* The service offered under name, or NULL.  @locality any thread, from
 * start on (every init has run by then) */
LL_API const void *ll_service_get(const ll_instance_t *in, const char *name);

/* ---- config nodes (LL_CONF_NODE settings, valid during init) --------- */

/* Elements of a list or group; a child by index or by key. */
LL_API int  ll_conf_count(const ll_conf_node_t *n);
LL_API const ll_conf_node_t *ll_conf_at(const ll_conf_node_t *n, int i);
LL_API const ll_conf_node_t *ll_conf_get(const ll_conf_node_t *n,
    const char *key);
/* The node's key (NULL for list elements), file and line. */
LL_API const char *ll_conf_key(const ll_conf_node_t *n);
LL_API const char *ll_conf_file(const ll_conf_node_t *n);
LL_API int  ll_conf_line(const ll_conf_node_t *n);
/* Scalars: 0 on success, -1 on a type mismatch.  ll_conf_str's result is
 * valid during init only: copy it or use ll_conf_fill. */
LL_API const char *ll_conf_str(const ll_conf_node_t *n);
LL_API int  ll_conf_int(const ll_conf_node_t *n, int64_t *v);
LL_API int  ll_conf_double(const ll_conf_node_t *n, double *v);
LL_API int  ll_conf_duration(const ll_conf_node_t *n, int64_t *ms);

/*
 * Check a group against a schema and fill out[] as the core does for a
 * module's own settings (strings owned by the instance, valid until fini).
 * On error writes "file:line: what" to err and returns -1.
 * @locality main thread, in init
 */
LL_API int ll_conf_fill(ll_instance_t *in, const ll_conf_node_t *group,
    const ll_conf_field_t *schema, void *out, char *err, size_t errlen);

/* Write "file:line: <fmt>" for node n to err; returns -1. */
LL_API int ll_conf_error(char *err, size_t errlen, const ll_conf_node_t *n,
    const char *fmt, ...) LL_PRINTF(4, 5);

/* Parse a duration text ("250ms", "1m30s", "2h", bare number = seconds)
 * into ms; -1 if malformed.  @locality any thread */
LL_API int ll_parse_duration(const char *s, int64_t *ms);

#endif /* LL_API_H_INCLUDED */
