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

/*
 * The message the calling thread's next log lines are about (NULL: none
 * any more).  With log_format = "json" each line then carries its id as
 * task_id and its options (queue; topic, partition, offset).  The core
 * sets it around a handler call and the source's done callback; an mq
 * module sets it around what it logs about a message on its own threads.
 * What is needed is copied: msg may go at once.  A no-op with text logs.
 * @locality any thread (the setting is the thread's)
 */
LL_API void ll_log_context(const ll_msg_t *msg);

/*
 * Errors of a loop that retries (a reconnect, a poll): a failure that goes
 * on is logged once, not once per attempt, and its end is logged too.
 *
 * One ll_log_limit_t per thing that can fail (a broker, a database),
 * zeroed before first use, owned by the module; the threads that use the
 * same thing may share it (the core serialises the calls).
 *
 * ll_log_fail(): the first failure writes its line; the same text again
 * is only counted, and written as "<text> (repeated N times in the last
 * M s)" at most once per LL_LOG_REPEAT_MS; a different text is written at
 * once (after the count of the previous one, if any).
 *
 * ll_log_recovered(): after failures, writes "<text> after S s" at level
 * warn (so a log that shows the failure shows its end), with the count of
 * repeats not yet written, and forgets the failure; otherwise it costs an
 * atomic load and writes nothing, so call it after every success.  Its
 * arguments should be cheap (precomputed text).
 * @locality any thread
 */
#define LL_LOG_REPEAT_MS  60000

typedef struct {
    int64_t     since_ms;   /* Unix ms of the first failure, 0: none */
    int64_t     logged_ms;  /* when text was last written */
    uint32_t    repeats;    /* same text since then, not yet written */
    int         level;      /* of text */
    char        text[240];  /* the last failure written */
} ll_log_limit_t;

LL_API void ll_log_fail(ll_instance_t *in, ll_log_limit_t *l, int level,
    const char *fmt, ...) LL_PRINTF(4, 5);
LL_API void ll_log_recovered(ll_instance_t *in, ll_log_limit_t *l,
    const char *fmt, ...) LL_PRINTF(3, 4);

/* ---- the instance ---------------------------------------------------- */

/* The instance name from looklook.conf ("redisq"), owned by the core.
 * @locality any thread */
LL_API const char *ll_instance_name(const ll_instance_t *in);

/* Which process runs the hooks: a worker (init, start, stop, fini), the
 * `looklook -t` checker or the master's check before a reload (init and
 * fini only, then the process exits).  @locality any thread */
typedef enum {
    LL_MODE_WORKER = 1,
    LL_MODE_CHECK,          /* looklook -t */
    LL_MODE_RELOAD_CHECK    /* the config check before a reload */
} ll_mode_e;

LL_API int ll_mode(const ll_instance_t *in);

/* Memory owned by the instance: n zeroed bytes (or a copy of s), freed
 * after fini, or after a failed init.  NULL when out of memory.
 * @locality worker main thread, in init or start */
LL_API void *ll_alloc(ll_instance_t *in, size_t n);
LL_API char *ll_strdup(ll_instance_t *in, const char *s);

/* Run fn(arg) after fini (or after a failed init), the last registered
 * first.  When out of memory it runs fn(arg) at once and returns -1, so a
 * caller only reports the error.  @locality worker main thread, in init
 * or start */
LL_API int ll_cleanup_add(ll_instance_t *in, void (*fn)(void *), void *arg);

/* The module's own per-instance pointer; set it in init, the core never
 * frees it (allocate it with ll_alloc() to have it freed).
 * @locality main thread to set, any thread to get */
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
 * Hand msg (from an mq module, msg->source = its instance name; built with
 * ll_msg_init()) to the handler that looklook.conf routes "source:type" to,
 * on the handler pool.  msg and everything it points to must stay valid
 * and unchanged until done is called; the core uses msg->core[].  A
 * message with no route is answered LL_RETRY, reason LL_R_NO_ROUTE; one
 * still queued when the shutdown deadline passes is answered LL_RETRY,
 * reason LL_R_SHUTDOWN, without running its handler.  Returns 0, or -1
 * when the pool is stopping or msg has no size (done is then not called).
 * @locality any thread of an mq module
 */
LL_API int ll_dispatch(ll_instance_t *in, ll_msg_t *msg, ll_done_pt done,
    void *arg);

/* Whether some route takes "source:type".  @locality any thread */
LL_API int ll_route_exists(const ll_instance_t *in, const char *type);

/*
 * Hand msg (built with ll_msg_init()) to the instance named `to` and run
 * its handle hook now, on the calling thread (enqueue through "redisq",
 * publish through "kafka").  res: set up with ll_result_init().  Returns
 * the target's ll_outcome_e; res->reason and res->error say why on
 * failure, res->id holds what the target produced.  The core answers
 * itself: an unknown target LL_FAIL/LL_R_NO_ROUTE; a message not set up
 * with ll_msg_init() LL_FAIL/LL_R_INVALID; an option the target
 * does not declare (ll_module_t.opts), or of the wrong kind, LL_FAIL/
 * LL_R_INVALID; a target not started yet or already stopped LL_RETRY/
 * LL_R_SHUTDOWN.  @locality any thread, after start
 */
LL_API int ll_send(ll_instance_t *from, const char *to, const ll_msg_t *msg,
    ll_result_t *res);

/* Whether the instance named `to` takes message option opt (declares it
 * LL_OPT_OUT): 1 or 0, -1 when no module of that name is loaded.  So a
 * sender can leave out what a target would refuse, or say so at the line
 * of its own setting.  @locality any thread, from init on (every module
 * is loaded before the first init) */
LL_API int ll_opt_taken(const ll_instance_t *in, const char *to,
    const char *opt);

/* Format res->error, set res->reason to LL_R_ERROR (an attempt of the
 * message that failed) and return LL_RETRY (delay_ms -1: the source's
 * back-off) or LL_FAIL.  @locality any thread */
LL_API int ll_retry(ll_result_t *res, int64_t delay_ms, const char *fmt, ...)
    LL_PRINTF(3, 4);
LL_API int ll_fail(ll_result_t *res, const char *fmt, ...) LL_PRINTF(2, 3);

/* Format res->error with reason and return the outcome the reason calls
 * for: LL_RETRY (the source's back-off) for the transient reasons
 * (ll_reason_transient), LL_FAIL for the others.
 *     return ll_error(res, LL_R_UNAVAILABLE, "database: %s", why);
 * @locality any thread */
LL_API int ll_error(ll_result_t *res, int reason, const char *fmt, ...)
    LL_PRINTF(3, 4);

/* "unavailable", "conflict", ...: a reason's name for logs.
 * @locality any thread */
LL_API const char *ll_reason_name(int reason);

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
 * fini.  Returns 0, LL_R_CONFLICT if the name is taken (logged) or
 * LL_R_NO_MEMORY.  @locality main thread, in init
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
 * Check a group against a schema (LL_SET_* entries) and fill out[] as the
 * core does for a module's own settings (strings owned by the instance,
 * valid until fini).  On error writes what is wrong to err, records the
 * offending line as ll_conf_error() does, and returns -1.
 * @locality main thread, in init
 */
LL_API int ll_conf_fill(ll_instance_t *in, const ll_conf_node_t *group,
    const ll_conf_field_t *schema, void *out, char *err, size_t errlen);

/*
 * For an init that fails: write the reason to err and record where it is
 * in looklook.conf, node n's line, or the line of the module's own setting
 * called `setting` (the module entry's line if it is not written), so the
 * core reports "file:line: ...".  Return -1, for `return ll_...(...);`.
 * @locality main thread, in init
 */
LL_API int ll_conf_error(ll_instance_t *in, char *err, size_t errlen,
    const ll_conf_node_t *n, const char *fmt, ...) LL_PRINTF(5, 6);
LL_API int ll_setting_error(ll_instance_t *in, char *err, size_t errlen,
    const char *setting, const char *fmt, ...) LL_PRINTF(5, 6);

/* Parse a duration text ("250ms", "1m30s", "2h", bare number = seconds)
 * into ms; -1 if malformed.  @locality any thread */
LL_API int ll_parse_duration(const char *s, int64_t *ms);

#endif /* LL_API_H_INCLUDED */
