/*
 * looklook module ABI: the descriptor every module .so exports.
 *
 * A module is one .so that exports exactly one symbol, `ll_module`, a const
 * ll_module_t built with LL_MODULE_HEADER.  Build with -fvisibility=hidden
 * so nothing else leaks; the core loads it RTLD_NOW | RTLD_LOCAL.
 *
 * What the core does, and modules may rely on:
 *  - init, start, stop and fini run on the worker's main thread, one at a
 *    time: init in config order; start business/other modules then mq
 *    modules, each group in config order; stop mq modules first (reverse
 *    config order), then the handler pool, then the others; fini in
 *    reverse config order.  So a handler's start has run before any
 *    message reaches it, and its services are up until the last mq module
 *    has stopped: a handler needs no "not started yet" guard.
 *  - init and fini also run, without start or stop, in the `looklook -t`
 *    checker and in the process the master forks to check a config before
 *    a reload; ll_mode() says which.  A module with settings gets them only
 *    through init (the filled conf struct).
 *  - handle runs concurrently on the core's handler pool threads, and on
 *    any thread that calls ll_send(); a module locks what it mutates.
 *  - after stop returns, no thread of the module may still run module code:
 *    stop joins every thread the module created.
 *  - fini is skipped, and the process exits, when a handler is still
 *    running at the shutdown deadline (fini would free what it uses); the
 *    worker is ended outright LL_WATCHDOG_GRACE_MS after that deadline if
 *    stop still has not returned.
 *  - messages still queued in the handler pool when the shutdown deadline
 *    has passed, or when the pool stops, are not run: their done callback
 *    gets LL_RETRY with reason LL_R_SHUTDOWN, so the source gives them back.
 *  - what init allocated with ll_alloc() and registered with
 *    ll_cleanup_add() is released after fini (or after a failed init).
 *  - no atexit(), no working destructors, no signal handlers, no fork().
 *
 * ABI change log (a minor version only appends; a module built for 2.N
 * loads into any core 2.M with M >= N):
 *   2.3  ll_log_context (log_format = "json" names the message).
 *   2.2  ll_log_limit_t, ll_log_fail, ll_log_recovered (a failure that
 *        repeats is logged once, its end too).
 *   2.1  ll_metric, ll_health_set, ll_status_* (ll_observe.h).
 *   2.0  size-prefixed ll_msg_t and ll_result_t (ll_msg_init,
 *        ll_result_init, LL_MSG_HAS); queue-specific message fields moved
 *        into declared message options (ll_module_t.opts, ll_opt_t);
 *        reason codes (ll_reason_e, ll_error); type-checked settings
 *        (LL_SET_*) with bounds and choices; ll_alloc/ll_cleanup_add;
 *        ll_mode; structured init error locations (ll_conf_error,
 *        ll_setting_error); ll_service_offer answers a reason code;
 *        LL_WATCHDOG_GRACE_MS.
 *   1.0  first release (ll_ready_deadline was added without a bump).
 */
#ifndef LL_MODULE_H_INCLUDED
#define LL_MODULE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "ll_conf.h"
#include "ll_msg.h"

#define LL_MODULE_MAGIC  0x444d4c4cU    /* "LLMD" in memory order */
#define LL_ABI_MAJOR     2              /* bumped on any incompatible change */
#define LL_ABI_MINOR     3              /* bumped on additions */

/* How long past the shutdown deadline the worker's watchdog waits for stop
 * before it ends the process. */
#define LL_WATCHDOG_GRACE_MS  5000

#define LL_EXPORT  __attribute__((visibility("default")))

typedef enum {
    LL_KIND_MQ       = 1,   /* brings work in: kafka, redisq, cron */
    LL_KIND_BUSINESS = 2,   /* does the work: order_close, ... */
    LL_KIND_OTHER    = 3    /* offers services: orders, ... */
} ll_kind_e;

/* What a message option holds (ll_opt_t). */
typedef enum {
    LL_OPT_STR = 1,     /* ll_opt_t.str */
    LL_OPT_INT,         /* ll_opt_t.num */
    LL_OPT_MS           /* ll_opt_t.num, a duration or time in ms */
} ll_opt_type_e;

#define LL_OPT_IN   0x1     /* the module sets it on messages it delivers */
#define LL_OPT_OUT  0x2     /* the module takes it on messages sent to it */

/* One message option an mq module declares; a list ends with name NULL. */
typedef struct {
    const char         *name;
    int                 type;       /* ll_opt_type_e */
    unsigned            flags;      /* LL_OPT_IN | LL_OPT_OUT */
    const char         *help;       /* one line, for looklook -m */
} ll_opt_decl_t;

typedef struct ll_instance_s  ll_instance_t;   /* opaque, owned by the core */

typedef struct ll_module_s {
    uint32_t                magic;          /* LL_MODULE_MAGIC */
    uint16_t                abi_major;      /* must equal the core's */
    uint16_t                abi_minor;      /* must be <= the core's */
    uint32_t                size;           /* sizeof(ll_module_t) at build */
    uint32_t                kind;           /* ll_kind_e */

    const char             *name;           /* module type, e.g. "redisq" */
    const char             *version;        /* the module's own version */
    const char             *description;    /* one line, for looklook -m */

    /* Config schema (LL_SET_* entries, then LL_SET_END).  The core checks
     * the module's settings against it and fills a zeroed struct of
     * conf_size bytes that init receives. */
    const ll_conf_field_t  *conf;
    size_t                  conf_size;

    /* Message options: what an mq module sets on the messages it delivers
     * and takes on messages sent to it.  NULL: none. */
    const ll_opt_decl_t    *opts;

    /*
     * Validate the settings and allocate; open nothing: no threads, no
     * sockets, no files (the -t checker and the reload check run it too:
     * ll_mode()).  conf: the filled struct, owned by the core, valid until
     * fini returns.  On failure write a one-line reason to err (point at a
     * setting with ll_setting_error() or ll_conf_error()) and return -1;
     * fini is then not called, but ll_alloc()/ll_cleanup_add() are undone.
     * @locality worker main thread (or a checker process)
     */
    int   (*init)(ll_instance_t *in, void *conf, char *err, size_t errlen);

    /*
     * Connect, start threads, begin intake.  On failure write err, undo
     * what was started, return -1: the generation is then not used.
     * Business and other modules start first, then mq modules, each group
     * in config order, so handlers are up before any message comes in.
     * Return by ll_ready_deadline().
     * @locality worker main thread, after every module's init
     */
    int   (*start)(ll_instance_t *in, char *err, size_t errlen);

    /*
     * Stop intake, finish or give back in-flight work by
     * ll_shutdown_deadline(in), join every thread of the module.
     * mq modules are stopped first, so handlers they feed still run.
     * @locality worker main thread
     */
    void  (*stop)(ll_instance_t *in);

    /*
     * Free what init allocated by hand.  Called after stop (or after a
     * failed init/start of a later module), never while handle may run;
     * skipped when a handler overran the shutdown deadline.
     * @locality worker main thread
     */
    void  (*fini)(ll_instance_t *in);

    /*
     * Take a message.  Business modules process messages routed to them;
     * mq modules receive messages other modules hand them with ll_send()
     * (enqueue a task, publish to a topic).  msg is owned by the caller
     * and valid only during the call; res is initialised.  Return an
     * ll_outcome_e and, for retry/fail, say why with ll_retry(), ll_fail()
     * or ll_error() (text and reason code); set res->id where an id is
     * produced.
     * @locality any handler-pool thread, concurrently
     */
    int   (*handle)(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res);

    uintptr_t               spare[8];       /* zero: room for new hooks */
} ll_module_t;

#define LL_MODULE_HEADER                                                    \
    .magic = LL_MODULE_MAGIC, .abi_major = LL_ABI_MAJOR,                    \
    .abi_minor = LL_ABI_MINOR, .size = sizeof(ll_module_t)

/* The one exported symbol:  LL_MODULE_EXPORT const ll_module_t ll_module = {
 *     LL_MODULE_HEADER, .kind = LL_KIND_BUSINESS, .name = "x", ... }; */
#define LL_MODULE_EXPORT  LL_EXPORT
#define LL_MODULE_SYMBOL  "ll_module"

#endif /* LL_MODULE_H_INCLUDED */
