/*
 * orders_feed: a test mq module that plays redisq and kafka for the order
 * modules, so their handlers run in a real looklook worker with messages
 * a test writes.
 *
 * Intake: a thread tails the file `in`; each line "TYPE PAYLOAD" is
 * dispatched as source <instance>, type TYPE.  A LL_RETRY answer is
 * dispatched again after the handler's delay (or `retry_delay`), as a
 * queue would, up to `max_attempts`.  Every final outcome is logged as
 *
 *     outcome #LINE TYPE done|fail|revoke|gave-up [error=...]
 *
 * and each retry as "retry #LINE attempt N error=...".
 *
 * Submissions (ll_send to this instance, e.g. payment_update's notify
 * task): logged as "enqueued TYPE id=ID payload=..."; an ID seen before
 * is refused as redisq refuses it (LL_R_CONFLICT); it takes redisq's
 * message options.  A retry for a transient reason (ll_reason_transient)
 * spends no attempt, as in the real mq modules.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <looklook/looklook.h>

typedef struct {
    char               *in;
    int64_t             retry_delay_ms;
    int64_t             max_attempts;
} feed_conf_t;

typedef struct feed_item_s  feed_item_t;
typedef struct feed_s       feed_t;

struct feed_item_s {
    ll_msg_t            msg;
    long                line;
    char               *type;
    char               *payload;
    int64_t             due_ms;     /* when waiting for a retry */
    feed_t             *feed;
    feed_item_t        *next;
};

struct feed_s {
    ll_instance_t      *in;
    feed_conf_t        *conf;
    pthread_t           thread;
    int                 running;
    pthread_mutex_t     lock;
    int                 stopping;
    int64_t             inflight;
    feed_item_t        *retries;
    char              **ids;        /* submitted task IDs */
    size_t              nids;
};

static const ll_conf_field_t  feed_conf_schema[] = {
    LL_SET_STR(feed_conf_t, in, "in", LL_CONF_REQUIRED, NULL,
      "file of \"TYPE PAYLOAD\" lines to dispatch"),
    LL_SET_DURATION(feed_conf_t, retry_delay_ms, "retry_delay", 0, "200ms", 0, 0,
      "retry delay (default)"),
    LL_SET_INT(feed_conf_t, max_attempts, "max_attempts", 0, "200", 0, 0,
      "attempts before giving up"),
    LL_SET_END
};

static const char *feed_outcomes[] = { "done", "retry", "fail", "revoke" };


static void
feed_item_free(feed_item_t *it)
{
    free(it->type);
    free(it->payload);
    free(it);
}


/* @locality a handler-pool thread */
static void
feed_done(ll_msg_t *msg, int outcome, const ll_result_t *res, void *arg)
{
    feed_item_t  *it = arg;
    feed_t       *f = it->feed;
    int64_t       delay;

    (void) msg;
    if (outcome == LL_RETRY && it->msg.attempt + 1 < f->conf->max_attempts) {
        ll_log(f->in, LL_LOG_INFO, "retry #%ld attempt %d error=%s", it->line,
               it->msg.attempt + 1, res->error);
        delay = res->retry_delay_ms >= 0 ? res->retry_delay_ms
                                         : f->conf->retry_delay_ms;
        if (delay > f->conf->retry_delay_ms) {
            delay = f->conf->retry_delay_ms;    /* tests don't wait long */
        }
        if (!ll_reason_transient(res->reason)) {
            it->msg.attempt++;
        }
        it->due_ms = ll_now_ms() + delay;
        pthread_mutex_lock(&f->lock);
        it->next = f->retries;
        f->retries = it;
        pthread_mutex_unlock(&f->lock);
        return;
    }
    ll_log(f->in, LL_LOG_INFO, "outcome #%ld %s %s%s%s", it->line, it->type,
           outcome == LL_RETRY ? "gave-up"
           : outcome >= 0 && outcome <= 3 ? feed_outcomes[outcome] : "bad",
           res->error[0] ? " error=" : "", res->error);
    pthread_mutex_lock(&f->lock);
    f->inflight--;
    pthread_mutex_unlock(&f->lock);
    feed_item_free(it);
}


/* Hand it to the core again (attempt kept); on refusal (stopping) drop.
 * @locality the feed thread */
static void
feed_send(feed_t *f, feed_item_t *it)
{
    int  attempt = it->msg.attempt;

    ll_msg_init(&it->msg);
    it->msg.source = ll_instance_name(f->in);
    it->msg.type = it->type;
    it->msg.payload = it->payload;
    it->msg.payload_len = strlen(it->payload);
    it->msg.attempt = attempt;
    if (ll_dispatch(f->in, &it->msg, feed_done, it) != 0) {
        ll_log(f->in, LL_LOG_WARN, "dispatch #%ld refused", it->line);
        pthread_mutex_lock(&f->lock);
        f->inflight--;
        pthread_mutex_unlock(&f->lock);
        feed_item_free(it);
    }
}


/* Dispatch the retries that are due.  @locality the feed thread */
static void
feed_due(feed_t *f)
{
    feed_item_t  *it, **pp, *due = NULL;
    int64_t       now = ll_now_ms();

    pthread_mutex_lock(&f->lock);
    for (pp = &f->retries; *pp != NULL; /* void */) {
        it = *pp;
        if (it->due_ms <= now) {
            *pp = it->next;
            it->next = due;
            due = it;
        } else {
            pp = &it->next;
        }
    }
    pthread_mutex_unlock(&f->lock);
    while (due != NULL) {
        it = due;
        due = it->next;
        feed_send(f, it);
    }
}


/* @locality the feed thread */
static void *
feed_run(void *arg)
{
    feed_t          *f = arg;
    feed_item_t     *it;
    FILE            *fp = NULL;
    char            *line = NULL, *sp;
    size_t           cap = 0;
    ssize_t          n;
    long             lineno = 0;
    struct timespec  ts = { 0, 10 * 1000000 };

    for (;;) {
        pthread_mutex_lock(&f->lock);
        if (f->stopping) {
            pthread_mutex_unlock(&f->lock);
            break;
        }
        pthread_mutex_unlock(&f->lock);

        feed_due(f);
        if (fp == NULL) {
            fp = fopen(f->conf->in, "r");
        }
        n = fp != NULL ? getline(&line, &cap, fp) : -1;
        if (n <= 0 || line[n - 1] != '\n') {
            /* nothing new (or half a line): rewind to it and wait */
            if (n > 0) {
                fseek(fp, -(long) n, SEEK_CUR);
            }
            if (fp != NULL) {
                clearerr(fp);
            }
            nanosleep(&ts, NULL);
            continue;
        }
        line[n - 1] = '\0';
        lineno++;
        sp = strchr(line, ' ');
        it = calloc(1, sizeof(*it));
        if (it == NULL) {
            ll_log(f->in, LL_LOG_ERR, "out of memory");
            continue;
        }
        it->feed = f;
        it->line = lineno;
        it->type = sp ? strndup(line, (size_t) (sp - line)) : strdup(line);
        it->payload = strdup(sp ? sp + 1 : "");
        if (it->type == NULL || it->payload == NULL) {
            feed_item_free(it);
            continue;
        }
        pthread_mutex_lock(&f->lock);
        f->inflight++;
        pthread_mutex_unlock(&f->lock);
        feed_send(f, it);
    }
    free(line);
    if (fp != NULL) {
        fclose(fp);
    }
    return NULL;
}


static int
feed_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    feed_t  *f;

    f = calloc(1, sizeof(*f));
    if (f == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    f->in = in;
    f->conf = conf;
    pthread_mutex_init(&f->lock, NULL);
    ll_set_data(in, f);
    return 0;
}


static int
feed_start(ll_instance_t *in, char *err, size_t errlen)
{
    feed_t  *f = ll_get_data(in);
    int      rc;

    rc = pthread_create(&f->thread, NULL, feed_run, f);
    if (rc != 0) {
        snprintf(err, errlen, "pthread_create: %s", strerror(rc));
        return -1;
    }
    f->running = 1;
    return 0;
}


/* Stop reading; wait for what is in flight until the deadline (retries
 * waiting are given up: a test that stops does not need them). */
static void
feed_stop(ll_instance_t *in)
{
    feed_t           *f = ll_get_data(in);
    feed_item_t      *it;
    struct timespec   ts = { 0, 10 * 1000000 };
    int64_t           left;

    pthread_mutex_lock(&f->lock);
    f->stopping = 1;
    pthread_mutex_unlock(&f->lock);
    if (f->running) {
        pthread_join(f->thread, NULL);
        f->running = 0;
    }
    for (;;) {
        pthread_mutex_lock(&f->lock);
        while ((it = f->retries) != NULL) {
            f->retries = it->next;
            f->inflight--;
            feed_item_free(it);
        }
        left = f->inflight;
        pthread_mutex_unlock(&f->lock);
        if (left == 0 || ll_now_ms() >= ll_shutdown_deadline(in)) {
            break;
        }
        nanosleep(&ts, NULL);
    }
}


static void
feed_fini(ll_instance_t *in)
{
    feed_t  *f = ll_get_data(in);
    size_t   i;

    if (f == NULL || f->inflight > 0) {
        return;             /* outcomes still due would use it */
    }
    for (i = 0; i < f->nids; i++) {
        free(f->ids[i]);
    }
    free(f->ids);
    pthread_mutex_destroy(&f->lock);
    free(f);
    ll_set_data(in, NULL);
}


/* A submission: log it; an ID seen before is a conflict, as in redisq.
 * @locality any handler-pool thread */
static int
feed_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    feed_t   *f = ll_get_data(in);
    char    **ids;
    size_t    i;

    pthread_mutex_lock(&f->lock);
    for (i = 0; msg->id != NULL && i < f->nids; i++) {
        if (strcmp(f->ids[i], msg->id) == 0) {
            pthread_mutex_unlock(&f->lock);
            ll_log(in, LL_LOG_INFO, "conflict %s id=%s", msg->type, msg->id);
            return ll_error(res, LL_R_CONFLICT, "task ID conflicts with "
                            "another task");
        }
    }
    if (msg->id != NULL) {
        ids = realloc(f->ids, (f->nids + 1) * sizeof(char *));
        if (ids == NULL || (ids[f->nids] = strdup(msg->id)) == NULL) {
            f->ids = ids ? ids : f->ids;
            pthread_mutex_unlock(&f->lock);
            return ll_retry(res, -1, "out of memory");
        }
        f->ids = ids;
        f->nids++;
    }
    pthread_mutex_unlock(&f->lock);
    ll_log(in, LL_LOG_INFO, "enqueued %s id=%s queue=%s retention=%lld "
           "payload=%.*s", msg->type, msg->id ? msg->id : "-",
           ll_msg_opt_str(msg, "queue", "-"),
           (long long) ll_msg_opt_num(msg, "retention", 0),
           (int) msg->payload_len, (const char *) msg->payload);
    snprintf(res->id, sizeof(res->id), "%s", msg->id ? msg->id : "feed");
    return LL_DONE;
}


/* redisq's submission options, so business modules talk to it as to
 * redisq */
static const ll_opt_decl_t  feed_opts[] = {
    { "queue", LL_OPT_STR, LL_OPT_OUT, "logged" },
    { "unique_ttl", LL_OPT_MS, LL_OPT_OUT, "ignored" },
    { "retention", LL_OPT_MS, LL_OPT_OUT, "logged" },
    { NULL, 0, 0, NULL }
};


LL_MODULE_EXPORT const ll_module_t  ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_MQ,
    .name = "orders_feed",
    .version = "1.0.0",
    .description = "test mq: dispatches lines of a file, retries, logs "
                   "submissions",
    .conf = feed_conf_schema,
    .conf_size = sizeof(feed_conf_t),
    .opts = feed_opts,
    .init = feed_init,
    .start = feed_start,
    .stop = feed_stop,
    .fini = feed_fini,
    .handle = feed_handle,
};
