/*
 * looklook module ABI: the descriptor every module .so exports.
 *
 * A module is one .so that exports exactly one symbol, `ll_module`, a const
 * ll_module_t built with LL_MODULE_HEADER.  Build with -fvisibility=hidden
 * so nothing else leaks; the core loads it RTLD_NOW | RTLD_LOCAL.
 *
 * Threading contract (the core keeps it, modules rely on it):
 *  - init, start, stop and fini run on the worker's main thread, one at a
 *    time: init in config order; start business/other modules then mq
 *    modules; stop mq modules first; fini in reverse config order.
 *  - handle runs concurrently on the core's handler pool threads, and on
 *    any thread that calls ll_send(); a module locks what it mutates.
 *  - after stop returns, no thread of the module may still run module code:
 *    stop joins every thread the module created.
 *  - no atexit(), no working destructors, no signal handlers, no fork().
 */
#ifndef LL_MODULE_H_INCLUDED
#define LL_MODULE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "ll_conf.h"
#include "ll_msg.h"

#define LL_MODULE_MAGIC  0x444d4c4cU    /* "LLMD" in memory order */
#define LL_ABI_MAJOR     1              /* bumped on any incompatible change */
#define LL_ABI_MINOR     0              /* bumped on additions */

#define LL_EXPORT  __attribute__((visibility("default")))

typedef enum {
    LL_KIND_MQ       = 1,   /* brings work in: kafka, redisq, cron */
    LL_KIND_BUSINESS = 2,   /* does the work: order_close, ... */
    LL_KIND_OTHER    = 3    /* offers services: orders, ... */
} ll_kind_e;

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

    /* Config schema, terminated by an entry with name NULL.  The core
     * checks the module's settings against it and fills a zeroed struct of
     * conf_size bytes that init receives. */
    const ll_conf_field_t  *conf;
    size_t                  conf_size;

    /*
     * Validate the settings and allocate; open nothing: no threads, no
     * sockets, no files (looklook -t and the reload check run it).
     * conf: the filled struct, owned by the core, valid until fini returns.
     * On failure write a one-line reason to err and return -1.
     * @locality worker main thread (or the -t checker process)
     */
    int   (*init)(ll_instance_t *in, void *conf, char *err, size_t errlen);

    /*
     * Connect, start threads, begin intake.  On failure write err, undo
     * what was started, return -1: the generation is then not used.
     * Business and other modules start first, then mq modules, each group
     * in config order, so handlers are up before any message comes in.
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
     * Free everything init allocated.  Called after stop (or after a failed
     * init/start of a later module), never while handle may run.
     * @locality worker main thread
     */
    void  (*fini)(ll_instance_t *in);

    /*
     * Take a message.  Business modules process messages routed to them;
     * mq modules receive messages other modules hand them with ll_send()
     * (enqueue a task, publish to a topic).  msg is owned by the caller
     * and valid only during the call.  Return an ll_outcome_e; set res->error
     * for retry/fail (ll_retry()/ll_fail() do both), res->id where an id is
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
