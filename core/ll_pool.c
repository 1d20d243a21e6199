/*
 * The handler pool: a fixed set of threads per worker that run business
 * handlers for the mq modules.  A queued message is linked through its own
 * msg->core[] slots, so dispatching allocates nothing.
 *
 * At most one sleeping thread is being woken at a time: a woken thread
 * that leaves more messages queued wakes the next one.  Short handlers
 * are then run by the threads already awake, which take the next message
 * without sleeping, instead of costing one wake-up (futex call, context
 * switch, contention for the lock) each; a backlog of long ones still
 * wakes every thread, one after the other.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ll_core.h"

struct ll_pool_s {
    pthread_mutex_t     lock;
    pthread_cond_t      work;
    pthread_cond_t      exited;
    ll_msg_t           *head;
    ll_msg_t           *tail;
    int                 idle;       /* threads waiting for work */
    int                 waking;     /* of them signalled, not yet up */
    pthread_t          *threads;
    int                 nthreads;
    int                 running;
    int                 stopping;
    ll_cycle_t         *cycle;
};

/* msg->core[] slots */
#define Q_NEXT(m)   ((m)->core[0])
#define Q_ARG(m)    ((m)->core[2])

typedef union {
    ll_done_pt  fn;
    void       *p;
} done_slot_t;

static void
run_one(ll_cycle_t *c, ll_msg_t *m)
{
    ll_route_t      *r;
    ll_result_t      res;
    ll_metric_t     *metric;
    ll_done_pt       done;
    int              outcome;
    int64_t          t0, us;

    memcpy(&done, &m->core[1], sizeof(done));
    ll_result_init(&res);
    /* log lines of the handler and of the source's done callback name
     * the message */
    ll_log_context(m);

    t0 = lt_mono_ns();
    r = ll__route_find(c, m->source, m->type);
    if (r == NULL) {
        metric = c->unrouted;
        outcome = ll_retry(&res, -1, "no handler for task type %s",
                           m->type ? m->type : "(none)");
        res.reason = LL_R_NO_ROUTE;
    } else {
        metric = r->metric;
        outcome = r->to->mod->handle(r->to, m, &res);
        if (outcome < LL_DONE || outcome > LL_REVOKE) {
            outcome = ll_fail(&res, "handler \"%s\" returned an invalid "
                              "outcome %d", r->to->name, outcome);
        } else if (outcome != LL_DONE && res.reason == LL_R_NONE) {
            res.reason = LL_R_ERROR;    /* returned without ll_retry() */
        }
    }
    us = (lt_mono_ns() - t0) / 1000;
    ll__metric_add(metric, outcome, us, 1);

    done(m, outcome, &res, Q_ARG(m));
    ll_log_context(NULL);
}

/* A message not run because the worker stops: back to its source as a
 * retry that does not count against it. */
static void
give_back(ll_msg_t *m)
{
    ll_result_t  res;
    ll_done_pt   done;

    memcpy(&done, &m->core[1], sizeof(done));
    ll_result_init(&res);
    done(m, ll_error(&res, LL_R_SHUTDOWN, "shutting down before it ran"),
         &res, Q_ARG(m));
}

/* Whether the shutdown deadline has passed (0: no stop yet). */
static int
past_deadline(ll_cycle_t *c)
{
    int64_t  dl = __atomic_load_n(&c->shutdown_deadline, __ATOMIC_RELAXED);

    return dl != 0 && ll_now_ms() >= dl;
}

/* Wake a sleeping thread for queued work, unless one is on its way
 * already (it wakes the next if it leaves work queued).  With p->lock. */
static void
pool_wake(ll_pool_t *p)
{
    if (p->waking == 0 && p->idle > 0) {
        p->waking++;
        pthread_cond_signal(&p->work);
    }
}


static void *
pool_thread(void *arg)
{
    ll_pool_t  *p = arg;
    ll_msg_t   *m;
    int         stopping;

    pthread_mutex_lock(&p->lock);
    for ( ;; ) {
        while (p->head == NULL && !p->stopping) {
            p->idle++;
            pthread_cond_wait(&p->work, &p->lock);
            p->idle--;
            if (p->waking > 0) {
                p->waking--;
            }
        }
        if (p->head == NULL) {
            break;      /* stopping, and nothing left to give back */
        }
        m = p->head;
        p->head = Q_NEXT(m);
        if (p->head == NULL) {
            p->tail = NULL;
        } else {
            pool_wake(p);
        }
        stopping = p->stopping;
        pthread_mutex_unlock(&p->lock);
        if (stopping || past_deadline(p->cycle)) {
            give_back(m);
        } else {
            run_one(p->cycle, m);
        }
        pthread_mutex_lock(&p->lock);
    }
    p->running--;
    pthread_cond_broadcast(&p->exited);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

ll_pool_t *
ll__pool_create(ll_cycle_t *c, int threads, char *err, size_t n)
{
    ll_pool_t       *p;
    pthread_attr_t   attr;
    pthread_condattr_t  ca;
    int              i, rc;

    p = calloc(1, sizeof(ll_pool_t));
    if (p == NULL
        || (p->threads = calloc((size_t) threads, sizeof(pthread_t))) == NULL)
    {
        free(p);
        snprintf(err, n, "handler pool: out of memory");
        return NULL;
    }
    p->cycle = c;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_REALTIME);
    pthread_cond_init(&p->exited, &ca);
    pthread_condattr_destroy(&ca);

    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1024 * 1024);
    for (i = 0; i < threads; i++) {
        rc = pthread_create(&p->threads[i], &attr, pool_thread, p);
        if (rc != 0) {
            snprintf(err, n, "handler pool: pthread_create(): %s",
                     strerror(rc));
            break;
        }
        pthread_mutex_lock(&p->lock);
        p->running++;
        p->nthreads++;
        pthread_mutex_unlock(&p->lock);
    }
    pthread_attr_destroy(&attr);
    if (p->nthreads != threads) {
        ll__pool_stop(p, ll_now_ms() + 1000);
        return NULL;
    }
    c->pool = p;
    return p;
}

LL_API int
ll_dispatch(ll_instance_t *in, ll_msg_t *msg, ll_done_pt done, void *arg)
{
    ll_pool_t    *p = in->cycle->pool;
    done_slot_t   d = { .fn = done };

    if (p == NULL || msg->size < LL__MSG_SIZE_20) {
        return -1;
    }
    if (msg->source == NULL) {
        msg->source = in->name;
    }
    Q_NEXT(msg) = NULL;
    msg->core[1] = d.p;
    Q_ARG(msg) = arg;

    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        return -1;
    }
    if (p->tail != NULL) {
        Q_NEXT(p->tail) = msg;
    } else {
        p->head = msg;
    }
    p->tail = msg;
    pool_wake(p);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

int
ll__pool_stop(ll_pool_t *p, int64_t deadline_ms)
{
    struct timespec  ts;
    int              i;

    /* idle threads need a moment to wake and leave, even on a fast stop */
    if (deadline_ms < ll_now_ms() + 200) {
        deadline_ms = ll_now_ms() + 200;
    }
    ts.tv_sec = deadline_ms / 1000;
    ts.tv_nsec = (deadline_ms % 1000) * 1000000;

    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    while (p->running > 0) {
        if (pthread_cond_timedwait(&p->exited, &p->lock, &ts) == ETIMEDOUT) {
            break;
        }
    }
    if (p->running > 0) {
        pthread_mutex_unlock(&p->lock);
        return -1;      /* threads still in handlers: leave everything be */
    }
    pthread_mutex_unlock(&p->lock);
    for (i = 0; i < p->nthreads; i++) {
        pthread_join(p->threads[i], NULL);
    }
    free(p->threads);
    free(p);
    return 0;
}
