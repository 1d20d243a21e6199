/*
 * redisq_handler: a test handler whose behaviour is chosen by the payload,
 * space-separated words:
 *   done | retry | fail | revoke   the outcome (default done)
 *   sleep=MS                       sleep first (in 10 ms steps; stops early
 *                                  when the task is cancelled, unless
 *                                  "stubborn" is given)
 *   delay=MS                       res->retry_delay_ms for retry
 *   until=N                        retry while attempt < N, then done
 *   send=QUEUE                     enqueue a follow-up task "followup" into
 *                                  QUEUE through ll_send(.., "redisq", ..)
 * Every call appends one line to the file `record` ("-": none):
 *   <start ms> <end ms> <id> <type> <queue> <attempt> <max_retry>
 *   <deadline ms> <cancelled> <nheaders> [<header=value>...]
 * With `microseconds = true` start and end are Unix microseconds (the
 * benchmarks' latencies, below a millisecond).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "looklook.h"

typedef struct {
    char           *record;
    int             microseconds;
} rqh_conf_t;

static const ll_conf_field_t  rqh_schema[] = {
    LL_SET_STR(rqh_conf_t, record, "record", LL_CONF_REQUIRED, NULL,
      "file each call is appended to"),
    LL_SET_BOOL(rqh_conf_t, microseconds, "microseconds", 0, 0,
      "record start and end in microseconds"),
    LL_SET_END
};


static int
rqh_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    ll_set_data(in, conf);
    return 0;
}


/* now in the record's unit */
static int64_t
rqh_now(const rqh_conf_t *c)
{
    struct timespec  ts;

    if (!c->microseconds) {
        return ll_now_ms();
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


static int
rqh_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    rqh_conf_t  *c = ll_get_data(in);
    char         words[512], line[2048], *w, *save = NULL;
    const char  *out = "done", *send = NULL;
    int64_t      start = rqh_now(c), sleep_ms = 0, delay = -1, until = -1;
    int          stubborn = 0, n;
    size_t       i;
    FILE        *f;
    ll_msg_t     m;
    ll_result_t  r;
    ll_opt_t     q;

    snprintf(words, sizeof(words), "%.*s", (int) msg->payload_len,
             msg->payload ? (const char *) msg->payload : "");
    for (w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (strncmp(w, "sleep=", 6) == 0) {
            sleep_ms = atoll(w + 6);
        } else if (strncmp(w, "delay=", 6) == 0) {
            delay = atoll(w + 6);
        } else if (strncmp(w, "until=", 6) == 0) {
            until = atoll(w + 6);
        } else if (strncmp(w, "send=", 5) == 0) {
            send = w + 5;
        } else if (strcmp(w, "stubborn") == 0) {
            stubborn = 1;
        } else {
            out = w;
        }
    }
    while (sleep_ms > 0 && (stubborn || !ll_msg_cancelled(msg))) {
        usleep(10000);
        sleep_ms -= 10;
    }
    if (send != NULL) {
        ll_msg_init(&m);
        m.type = "followup";
        q = (ll_opt_t) LL_OPT_S("queue", send);
        m.opts = &q;
        m.nopts = 1;
        m.payload = "done";
        m.payload_len = 4;
        ll_result_init(&r);
        if (ll_send(in, "redisq", &m, &r) != LL_DONE) {
            ll_log(in, LL_LOG_ERR, "send failed: %s", r.error);
        }
    }

    n = snprintf(line, sizeof(line), "%lld %lld %s %s %s %d %d %lld %d %zu",
                 (long long) start, (long long) rqh_now(c), msg->id,
                 msg->type, ll_msg_opt_str(msg, "queue", "-"), msg->attempt,
                 msg->max_retry,
                 (long long) msg->deadline_ms, ll_msg_cancelled(msg),
                 msg->nheaders);
    for (i = 0; i < msg->nheaders && n < (int) sizeof(line) - 64; i++) {
        n += snprintf(line + n, sizeof(line) - (size_t) n, " %s=%.*s",
                      msg->headers[i].name, (int) msg->headers[i].value_len,
                      (const char *) msg->headers[i].value);
    }
    f = strcmp(c->record, "-") == 0 ? NULL : fopen(c->record, "a");
    if (f != NULL) {
        fprintf(f, "%s\n", line);
        fclose(f);
    }

    if (until >= 0) {
        out = msg->attempt < until ? "retry" : "done";
    }
    if (strcmp(out, "retry") == 0) {
        return ll_retry(res, delay, "asked to retry (attempt %d)",
                        msg->attempt);
    }
    if (strcmp(out, "fail") == 0) {
        return ll_fail(res, "asked to fail");
    }
    if (strcmp(out, "revoke") == 0) {
        return LL_REVOKE;
    }
    return LL_DONE;
}


LL_MODULE_EXPORT const ll_module_t  ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_BUSINESS,
    .name = "redisq_handler",
    .version = "1",
    .description = "redisq test handler driven by the payload",
    .conf = rqh_schema,
    .conf_size = sizeof(rqh_conf_t),
    .init = rqh_init,
    .handle = rqh_handle,
};
