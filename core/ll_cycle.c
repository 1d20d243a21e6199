/*
 * A cycle is one generation of modules inside one process: loaded, their
 * settings checked and filled, initialised, routed, started, stopped.  The
 * -t check and the reload check build one and destroy it without starting;
 * a worker builds one and runs it until it exits.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ll_core.h"

ll_cycle_t  *ll_cycle;

static ll_instance_t *
instance_load(ll_cycle_t *c, const ll_conf_module_t *cm, char *err, size_t n)
{
    ll_instance_t  *in;
    char            e[LL_ERRLEN];
    const char     *path = cm->path;
    char           *def = NULL;

    in = calloc(1, sizeof(ll_instance_t));
    if (in == NULL) {
        ll__conf_errorf(err, n, cm->group, "out of memory");
        return NULL;
    }
    in->cycle = c;
    in->line = cm->line;
    in->group = cm->group;
    in->name = ll__own_strdup(&in->owned, cm->name);
    if (path == NULL) {
        if (asprintf(&def, "%s.so", cm->name) < 0) {
            def = NULL;
        }
        path = def;
    }
    in->path = path ? ll__own(&in->owned,
                                    ll__module_path(c->conf->settings.module_dir,
                                                    path))
                    : NULL;
    free(def);
    if (in->name == NULL || in->path == NULL) {
        ll__conf_errorf(err, n, cm->group, "out of memory");
        goto failed;
    }
    in->mod = ll__module_open(in->path, e, sizeof(e));
    if (in->mod == NULL) {
        ll__conf_errorf(err, n, cm->group, "module \"%s\": %s", cm->name, e);
        goto failed;
    }
    in->conf = ll__own(&in->owned, calloc(1, in->mod->conf_size + 1));
    if (in->conf == NULL) {
        ll__conf_errorf(err, n, cm->group, "out of memory");
        goto failed;
    }
    if (ll__conf_fill_module(in, cm->group, err, n) != 0) {
        goto failed;
    }
    return in;

failed:
    ll__cleanup_run(&in->owned);
    free(in);
    return NULL;
}

ll_cycle_t *
ll__cycle_create(ll_conf_t *conf, int mode, char *err, size_t n)
{
    ll_cycle_t     *c;
    ll_instance_t  *in;
    char            e[LL_ERRLEN];
    int             i;

    c = calloc(1, sizeof(ll_cycle_t));
    if (c == NULL
        || (c->inst = calloc((size_t) conf->nmodules + 1,
                             sizeof(ll_instance_t *))) == NULL)
    {
        free(c);
        snprintf(err, n, "%s: out of memory", conf->path);
        return NULL;
    }
    c->conf = conf;
    c->mode = mode;
    c->worker_count = 1;
    c->generation = 1;
    ll_cycle = c;

    /* load and check everything before any init runs */
    for (i = 0; i < conf->nmodules; i++) {
        in = instance_load(c, &conf->modules[i], err, n);
        if (in == NULL) {
            goto failed;
        }
        c->inst[c->ninst++] = in;
    }
    if (ll__routes_build(c, err, n) != 0) {
        goto failed;
    }
    for (i = 0; i < c->ninst; i++) {
        in = c->inst[i];
        if (in->mod->init == NULL) {
            in->inited = 1;
            continue;
        }
        e[0] = '\0';
        in->err_at = NULL;
        if (in->mod->init(in, in->conf, e, sizeof(e)) != 0) {
            /* init pointed at a line (ll_conf_error, ll_setting_error)
             * and wrote the text; else the module entry's line */
            if (in->err_at != NULL) {
                ll__conf_errorf(err, n, in->err_at, "%s",
                                e[0] ? e : "init failed");
            } else {
                ll__conf_errorf(err, n, conf->modules[i].group,
                                "module \"%s\": %s", in->name,
                                e[0] ? e : "init failed");
            }
            goto failed;
        }
        in->inited = 1;
    }
    return c;

failed:
    ll__cycle_destroy(c);
    return NULL;
}

/*
 * Handlers and services first, then the mq modules in config order: by the
 * time any message comes in, whatever handles it is up.  (Stop runs the
 * other way round.)
 */
int
ll__cycle_start(ll_cycle_t *c, char *err, size_t n)
{
    ll_instance_t  *in;
    char            e[LL_ERRLEN];
    int             i, pass;

    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < c->ninst; i++) {
            in = c->inst[i];
            if ((in->mod->kind == LL_KIND_MQ) != pass) {
                continue;
            }
            ll__status_health(in, LL_HEALTH_STARTING, NULL);
            if (in->mod->start != NULL) {
                e[0] = '\0';
                if (in->mod->start(in, e, sizeof(e)) != 0) {
                    snprintf(err, n, "module \"%s\": start failed: %s",
                             in->name, e[0] ? e : "no reason given");
                    return -1;
                }
            }
            in->started = 1;
            ll__status_started(in);
            __atomic_store_n(&in->running, 1, __ATOMIC_SEQ_CST);
        }
    }
    return 0;
}

/*
 * After in's stop: close it to ll_send() and wait out the calls still
 * inside its handle, so none is left when later modules stop or fini
 * frees.  During stop itself sends still go through: a draining mq module
 * may be handed work by the very handlers it waits for, and handle is
 * concurrent with everything anyway.  (The worker's watchdog ends a wait
 * that overruns the shutdown deadline.)
 */
static void
close_sends(ll_instance_t *in)
{
    struct timespec  ms = { 0, 1000000 };

    __atomic_store_n(&in->running, 0, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&in->sending, __ATOMIC_SEQ_CST) > 0) {
        nanosleep(&ms, NULL);
    }
}

static void
stop_kind(ll_cycle_t *c, int mq)
{
    ll_instance_t  *in;
    int             i;

    for (i = c->ninst - 1; i >= 0; i--) {
        in = c->inst[i];
        if (!in->started || (in->mod->kind == LL_KIND_MQ) != mq) {
            continue;
        }
        ll__status_health(in, LL_HEALTH_STOPPING, NULL);
        if (in->mod->stop != NULL) {
            in->mod->stop(in);
        }
        close_sends(in);
        in->started = 0;
    }
}

/*
 * mq modules first: they stop intake and finish or give back what the
 * handlers hold, while the handlers and the services they use still run.
 */
void
ll__cycle_stop(ll_cycle_t *c)
{
    int  joined = 1;

    stop_kind(c, 1);
    if (c->pool != NULL) {
        joined = ll__pool_stop(c->pool, c->shutdown_deadline) == 0;
        c->pool = NULL;
    }
    if (!joined) {
        /* a handler is still running module code: fini would pull the
         * ground from under it; the process exits instead */
        ll__log_core(LL_LOG_WARN, "handlers still running at the shutdown "
                     "deadline; exiting without fini");
        c->ninst = 0;
        return;
    }
    stop_kind(c, 0);
}

void
ll__cycle_destroy(ll_cycle_t *c)
{
    ll_instance_t  *in;
    int             i;

    if (c == NULL) {
        return;
    }
    for (i = c->ninst - 1; i >= 0; i--) {
        in = c->inst[i];
        if (in->inited && in->mod->fini != NULL) {
            in->mod->fini(in);
        }
        ll__cleanup_run(&in->owned);
        free(in);
    }
    for (i = 0; i < c->nroutes; i++) {
        free(c->routes[i].from);
    }
    free(c->routes);
    free(c->services);
    free(c->inst);
    if (ll_cycle == c) {
        ll_cycle = NULL;
    }
    free(c);
}

/* ---- the instance API -------------------------------------------------- */

LL_API int
ll_mode(const ll_instance_t *in)
{
    return in->cycle->mode;
}

LL_API void *
ll_alloc(ll_instance_t *in, size_t n)
{
    return ll__own(&in->owned, calloc(1, n ? n : 1));
}

LL_API char *
ll_strdup(ll_instance_t *in, const char *s)
{
    return ll__own_strdup(&in->owned, s);
}

LL_API int
ll_cleanup_add(ll_instance_t *in, void (*fn)(void *), void *arg)
{
    return ll__cleanup_add(&in->owned, fn, arg);
}

LL_API const char *
ll_instance_name(const ll_instance_t *in)
{
    return in->name;
}

LL_API void
ll_set_data(ll_instance_t *in, void *data)
{
    in->data = data;
}

LL_API void *
ll_get_data(const ll_instance_t *in)
{
    return in->data;
}

LL_API int
ll_worker_id(const ll_instance_t *in)
{
    return in->cycle->worker_id;
}

LL_API int
ll_worker_count(const ll_instance_t *in)
{
    return in->cycle->worker_count;
}

LL_API unsigned
ll_generation(const ll_instance_t *in)
{
    return in->cycle->generation;
}

LL_API int64_t
ll_now_ms(void)
{
    return lt_now_ms();
}

LL_API int64_t
ll_shutdown_deadline(const ll_instance_t *in)
{
    return __atomic_load_n(&in->cycle->shutdown_deadline, __ATOMIC_RELAXED);
}

LL_API int64_t
ll_ready_deadline(const ll_instance_t *in)
{
    return in->cycle->ready_deadline;
}

/* ---- services ---------------------------------------------------------- */

LL_API int
ll_service_offer(ll_instance_t *in, const char *name, const void *svc)
{
    ll_cycle_t    *c = in->cycle;
    ll_service_t  *s;
    int            i;

    for (i = 0; i < c->nservices; i++) {
        if (strcmp(c->services[i].name, name) == 0) {
            ll_log(in, LL_LOG_ERR, "service \"%s\" is already offered by "
                   "module \"%s\"", name, c->services[i].owner->name);
            return LL_R_CONFLICT;
        }
    }
    s = realloc(c->services, ((size_t) c->nservices + 1) * sizeof(*s));
    if (s == NULL) {
        return LL_R_NO_MEMORY;
    }
    c->services = s;
    s[c->nservices].name = ll__own_strdup(&in->owned, name);
    if (s[c->nservices].name == NULL) {
        return LL_R_NO_MEMORY;
    }
    s[c->nservices].svc = svc;
    s[c->nservices].owner = in;
    c->nservices++;
    return 0;
}

LL_API const void *
ll_service_get(const ll_instance_t *in, const char *name)
{
    const ll_cycle_t  *c = in->cycle;
    int                i;

    for (i = 0; i < c->nservices; i++) {
        if (strcmp(c->services[i].name, name) == 0) {
            return c->services[i].svc;
        }
    }
    return NULL;
}

/* ---- outcomes ---------------------------------------------------------- */

static int
result_vset(ll_result_t *res, int outcome, int reason, const char *fmt,
    va_list ap)
{
    res->reason = reason;
    vsnprintf(res->error, sizeof(res->error), fmt, ap);
    return outcome;
}

LL_API int
ll_retry(ll_result_t *res, int64_t delay_ms, const char *fmt, ...)
{
    va_list  ap;
    int      r;

    res->retry_delay_ms = delay_ms;
    va_start(ap, fmt);
    r = result_vset(res, LL_RETRY, LL_R_ERROR, fmt, ap);
    va_end(ap);
    return r;
}

LL_API int
ll_fail(ll_result_t *res, const char *fmt, ...)
{
    va_list  ap;
    int      r;

    va_start(ap, fmt);
    r = result_vset(res, LL_FAIL, LL_R_ERROR, fmt, ap);
    va_end(ap);
    return r;
}

LL_API int
ll_error(ll_result_t *res, int reason, const char *fmt, ...)
{
    va_list  ap;
    int      r, outcome;

    outcome = ll_reason_transient(reason) ? LL_RETRY : LL_FAIL;
    if (outcome == LL_RETRY) {
        res->retry_delay_ms = -1;
    }
    va_start(ap, fmt);
    r = result_vset(res, outcome, reason, fmt, ap);
    va_end(ap);
    return r;
}

LL_API const char *
ll_reason_name(int reason)
{
    static const char *const  names[] = {
        [LL_R_NONE] = "none", [LL_R_ERROR] = "error",
        [LL_R_INVALID] = "invalid", [LL_R_CONFLICT] = "conflict",
        [LL_R_DUPLICATE] = "duplicate", [LL_R_NOT_FOUND] = "not found",
        [LL_R_NO_ROUTE] = "no route", [LL_R_UNAVAILABLE] = "unavailable",
        [LL_R_NO_MEMORY] = "no memory", [LL_R_SHUTDOWN] = "shutting down"
    };

    return reason >= 0 && (size_t) reason < sizeof(names) / sizeof(names[0])
           && names[reason] != NULL ? names[reason] : "unknown";
}

/* ---- handing messages to another module -------------------------------- */

static const ll_opt_decl_t *
opt_decl(const ll_instance_t *in, const char *name)
{
    const ll_opt_decl_t  *d;

    for (d = in->mod->opts; d != NULL && d->name != NULL; d++) {
        if ((d->flags & LL_OPT_OUT) && strcmp(d->name, name) == 0) {
            return d;
        }
    }
    return NULL;
}

LL_API int
ll_opt_taken(const ll_instance_t *in, const char *to, const char *opt)
{
    const ll_cycle_t  *c = in->cycle;
    int                i;

    for (i = 0; i < c->ninst; i++) {
        if (strcmp(c->inst[i]->name, to) == 0) {
            return opt_decl(c->inst[i], opt) != NULL;
        }
    }
    return -1;
}

/* Every option of msg declared by the target (LL_OPT_OUT) with its kind:
 * LL_DONE, else LL_FAIL with res set. */
static int
opts_check(const ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    const ll_opt_decl_t  *d;
    const ll_opt_t       *o;
    size_t                i;

    for (i = 0; i < msg->nopts; i++) {
        o = &msg->opts[i];
        if (o->name == NULL) {
            return ll_error(res, LL_R_INVALID, "message option %zu has no "
                            "name", i);
        }
        d = opt_decl(in, o->name);
        if (d == NULL) {
            return ll_error(res, LL_R_INVALID, "module \"%s\" takes no "
                            "message option \"%s\"", in->name, o->name);
        }
        if ((d->type == LL_OPT_STR) != (o->str != NULL)) {
            return ll_error(res, LL_R_INVALID, "message option \"%s\" of "
                            "module \"%s\" must be a %s", o->name, in->name,
                            d->type == LL_OPT_STR ? "string" : "number");
        }
    }
    return LL_DONE;
}

LL_API int
ll_send(ll_instance_t *from, const char *to, const ll_msg_t *msg,
    ll_result_t *res)
{
    ll_cycle_t     *c = from->cycle;
    ll_instance_t  *in;
    int             i, r;

    /* every 2.x result has the 2.0 fields; later ones only if size says */
    if (res->size < LL__RESULT_SIZE_20) {
        res->size = LL__RESULT_SIZE_20;
    }
    res->reason = LL_R_NONE;
    res->error[0] = '\0';
    res->id[0] = '\0';
    res->retry_delay_ms = -1;
    if (msg->size < LL__MSG_SIZE_20) {
        return ll_error(res, LL_R_INVALID, "message to \"%s\" not set up "
                        "with ll_msg_init()", to);
    }
    for (i = 0; i < c->ninst; i++) {
        in = c->inst[i];
        if (strcmp(in->name, to) != 0) {
            continue;
        }
        if (in->mod->handle == NULL) {
            return ll_error(res, LL_R_NO_ROUTE, "module \"%s\" takes no "
                            "messages", to);
        }
        if (opts_check(in, msg, res) != LL_DONE) {
            return LL_FAIL;
        }
        /* announce the call before looking, so close_sends() either sees
         * it or it sees running == 0 */
        __atomic_add_fetch(&in->sending, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&in->running, __ATOMIC_SEQ_CST)) {
            r = in->mod->handle(in, msg, res);
        } else {
            r = ll_error(res, LL_R_SHUTDOWN, "module \"%s\" is not running",
                         to);
        }
        __atomic_sub_fetch(&in->sending, 1, __ATOMIC_SEQ_CST);
        return r;
    }
    return ll_error(res, LL_R_NO_ROUTE, "no module \"%s\" is loaded", to);
}
