/*
 * rq_errors: error replies from redisq's scripts (a Lua error, WRONGTYPE,
 * OOM, ...).  Each one is counted in looklook_redisq_script_errors_total
 * and logged through ll_log_fail: a script that fails on every call (a
 * janitor run, a dequeue poll) neither stays silent nor floods the log.
 * Connection failures (no reply at all) are rq_redis.c's business.
 */
#include "redisq.h"


void
rq_errors_init(rq_server_t *s)
{
    s->err_series = ll_metric(s->in, LL_METRIC_COUNTER,
                              "looklook_redisq_script_errors_total",
                              "Error replies from redisq's Lua scripts.",
                              "instance", ll_instance_name(s->in),
                              (const char *) NULL);
}


void
rq_script_error(rq_server_t *s, ll_log_limit_t *l, const char *what,
    const redisReply *rep)
{
    ll_metric_add(s->err_series, 1);
    ll_log_fail(s->in, l != NULL ? l : &s->err_log, LL_LOG_ERR, "%s: %.*s",
                what, (int) rep->len, rep->str);
}
