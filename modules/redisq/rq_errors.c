/*
 * rq_errors: error replies from redisq's scripts (a Lua error, WRONGTYPE,
 * OOM, ...).  Each one is counted in looklook_redisq_script_errors_total
 * and logged, at most once every RQ_ERRLOG_MS per server, with how many
 * were not logged meanwhile: a script that fails on every call (a janitor
 * run, a dequeue poll) must neither stay silent nor flood the log.
 * Connection failures (no reply at all) are rq_redis.c's business.
 */
#include <stdio.h>

#include "redisq.h"

#define RQ_ERRLOG_MS  10000


void
rq_errors_init(rq_server_t *s)
{
    pthread_mutex_init(&s->err_lock, NULL);
    s->err_series = ll_metric(s->in, LL_METRIC_COUNTER,
                              "looklook_redisq_script_errors_total",
                              "Error replies from redisq's Lua scripts.",
                              "instance", ll_instance_name(s->in),
                              (const char *) NULL);
}


void
rq_errors_fini(rq_server_t *s)
{
    pthread_mutex_destroy(&s->err_lock);
}


void
rq_script_error(rq_server_t *s, const char *what, const redisReply *rep)
{
    int64_t    now = rq_mono();
    unsigned   quiet = 0;
    int        log = 0;

    ll_metric_add(s->err_series, 1);
    pthread_mutex_lock(&s->err_lock);
    if (now >= s->err_next_ms) {
        s->err_next_ms = now + RQ_ERRLOG_MS;
        quiet = s->err_quiet;
        s->err_quiet = 0;
        log = 1;
    } else {
        s->err_quiet++;
    }
    pthread_mutex_unlock(&s->err_lock);
    if (!log) {
        return;
    }
    if (quiet > 0) {
        ll_log(s->in, LL_LOG_ERR, "%s: %.*s (and %u other script errors in "
               "the last %d s)", what, (int) rep->len, rep->str, quiet,
               RQ_ERRLOG_MS / 1000);
    } else {
        ll_log(s->in, LL_LOG_ERR, "%s: %.*s", what, (int) rep->len, rep->str);
    }
}
