/*
 * core_source: a test mq module.
 *
 * start runs one thread that hands `count` messages (0: until stop) of type
 * `type` to the core with ll_dispatch(), one every `interval`, and logs the
 * outcome of each.  Ids are "g<generation>.w<worker>.<n>" so a test can tell
 * generations and workers apart.  It has no handle hook, so routing work to
 * it is a config error.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <looklook/looklook.h>


typedef struct {
    char               *type;
    int64_t             count;
    int64_t             interval_ms;
    char               *payload;
} src_conf_t;

typedef struct src_s  src_t;

/* One message in flight: owned by the source from ll_dispatch until the
 * done callback frees it. */
typedef struct {
    ll_msg_t            msg;
    char                id[64];
    src_t              *src;
} src_item_t;

struct src_s {
    ll_instance_t      *in;
    src_conf_t         *conf;
    pthread_t           thread;
    int                 thread_running;
    pthread_mutex_t     lock;
    pthread_cond_t      cond;
    int                 stopping;
    int64_t             inflight;
    int64_t             sent;
    int64_t             outcomes[4];
};

static const char *outcome_names[] = { "done", "retry", "fail", "revoke" };

static const ll_conf_field_t src_conf[] = {
    LL_SET_STR(src_conf_t, type, "type", 0, "job",
      "message type dispatched"),
    LL_SET_INT(src_conf_t, count, "count", 0, "10", 0, 0,
      "messages to dispatch; 0 = until stop"),
    LL_SET_DURATION(src_conf_t, interval_ms, "interval", 0, "50ms", 0, 0,
      "pause between two messages"),
    LL_SET_STR(src_conf_t, payload, "payload", 0, "hello",
      "payload of every message"),
    LL_SET_END
};


/* @locality a handler-pool thread; frees the item */
static void
src_done(ll_msg_t *msg, int outcome, const ll_result_t *res, void *arg)
{
    src_item_t  *it = arg;
    src_t       *src = it->src;

    ll_log(src->in, LL_LOG_INFO, "outcome %s %s%s%s", it->id,
           outcome >= 0 && outcome <= 3 ? outcome_names[outcome] : "bad",
           res != NULL && res->error[0] ? " error=" : "",
           res != NULL ? res->error : "");

    free(it);

    pthread_mutex_lock(&src->lock);
    if (outcome >= 0 && outcome <= 3) {
        src->outcomes[outcome]++;
    }
    src->inflight--;
    pthread_cond_broadcast(&src->cond);
    pthread_mutex_unlock(&src->lock);
}


/* Wait interval_ms or until stop; returns 1 when stopping.
 * @locality the source thread, with src->lock held */
static int
src_pause(src_t *src, int64_t ms)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    while (!src->stopping) {
        if (pthread_cond_timedwait(&src->cond, &src->lock, &ts) == ETIMEDOUT) {
            break;
        }
    }
    return src->stopping;
}


/* @locality the source thread */
static void *
src_run(void *arg)
{
    src_t       *src = arg;
    src_item_t  *it;
    int64_t      n;

    for (n = 1; src->conf->count == 0 || n <= src->conf->count; n++) {
        it = calloc(1, sizeof(*it));
        if (it == NULL) {
            ll_log(src->in, LL_LOG_ERR, "out of memory");
            break;
        }
        it->src = src;
        snprintf(it->id, sizeof(it->id), "g%u.w%d.%lld",
                 ll_generation(src->in), ll_worker_id(src->in), (long long) n);
        ll_msg_init(&it->msg);
        it->msg.source = ll_instance_name(src->in);
        it->msg.type = src->conf->type;
        it->msg.id = it->id;
        it->msg.payload = src->conf->payload;
        it->msg.payload_len = strlen(src->conf->payload);

        pthread_mutex_lock(&src->lock);
        src->inflight++;
        src->sent++;
        pthread_mutex_unlock(&src->lock);

        if (ll_dispatch(src->in, &it->msg, src_done, it) != 0) {
            ll_log(src->in, LL_LOG_WARN, "dispatch %s refused", it->id);
            free(it);
            pthread_mutex_lock(&src->lock);
            src->inflight--;
            src->sent--;
            pthread_mutex_unlock(&src->lock);
            break;
        }

        pthread_mutex_lock(&src->lock);
        if (src_pause(src, src->conf->interval_ms)) {
            pthread_mutex_unlock(&src->lock);
            break;
        }
        pthread_mutex_unlock(&src->lock);
    }

    ll_log(src->in, LL_LOG_INFO, "dispatched %lld", (long long) src->sent);
    return NULL;
}


static int
src_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    src_t  *src;

    src = calloc(1, sizeof(*src));
    if (src == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    src->in = in;
    src->conf = conf;
    if (src->conf->count < 0) {
        free(src);
        snprintf(err, errlen, "count must be >= 0");
        return -1;
    }
    pthread_mutex_init(&src->lock, NULL);
    pthread_cond_init(&src->cond, NULL);
    ll_set_data(in, src);
    return 0;
}


static int
src_start(ll_instance_t *in, char *err, size_t errlen)
{
    src_t  *src = ll_get_data(in);
    int     rc;

    rc = pthread_create(&src->thread, NULL, src_run, src);
    if (rc != 0) {
        snprintf(err, errlen, "pthread_create: %s", strerror(rc));
        return -1;
    }
    src->thread_running = 1;
    ll_log(in, LL_LOG_INFO, "started, type %s", src->conf->type);
    return 0;
}


/* Stop dispatching, then wait for the outcomes of what is in flight until
 * the shutdown deadline (its messages must stay valid until then). */
static void
src_stop(ll_instance_t *in)
{
    src_t            *src = ll_get_data(in);
    struct timespec   ts;
    int64_t           deadline;

    pthread_mutex_lock(&src->lock);
    src->stopping = 1;
    pthread_cond_broadcast(&src->cond);
    pthread_mutex_unlock(&src->lock);

    if (src->thread_running) {
        pthread_join(src->thread, NULL);
        src->thread_running = 0;
    }

    deadline = ll_shutdown_deadline(in);
    ts.tv_sec = deadline / 1000;
    ts.tv_nsec = (deadline % 1000) * 1000000;

    pthread_mutex_lock(&src->lock);
    while (src->inflight > 0) {
        if (pthread_cond_timedwait(&src->cond, &src->lock, &ts) == ETIMEDOUT) {
            break;
        }
    }
    ll_log(in, LL_LOG_INFO,
           "stopped: sent %lld done %lld retry %lld fail %lld revoke %lld"
           " in flight %lld", (long long) src->sent,
           (long long) src->outcomes[0], (long long) src->outcomes[1],
           (long long) src->outcomes[2], (long long) src->outcomes[3],
           (long long) src->inflight);
    pthread_mutex_unlock(&src->lock);
}


/* Leaks src when outcomes are still due: their callbacks use it. */
static void
src_fini(ll_instance_t *in)
{
    src_t  *src = ll_get_data(in);
    int64_t inflight;

    if (src == NULL) {
        return;
    }
    pthread_mutex_lock(&src->lock);
    inflight = src->inflight;
    pthread_mutex_unlock(&src->lock);
    if (inflight > 0) {
        return;
    }
    pthread_mutex_destroy(&src->lock);
    pthread_cond_destroy(&src->cond);
    free(src);
    ll_set_data(in, NULL);
}


LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_MQ,
    .name = "core_source",
    .version = "1.0.0",
    .description = "test source: dispatches numbered messages",
    .conf = src_conf,
    .conf_size = sizeof(src_conf_t),
    .init = src_init,
    .start = src_start,
    .stop = src_stop,
    .fini = src_fini,
};
