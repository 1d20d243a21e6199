/*
 * dq_handler: a test handler for dq whose behaviour is chosen by the
 * payload, space-separated words:
 *   done | retry | fail | revoke | unavailable   the outcome (default done)
 *   sleep=MS                   sleep first
 *   delay=MS                   res->retry_delay_ms for retry
 *   gate=PATH                  answer unavailable while PATH exists
 *   send=TEXT                  produce TEXT through ll_send(.., to, ..),
 *   after=MS | at=UNIX_MS      with option delay, or process_at
 * Every call appends a line to the file `record` ("-": none):
 *   <start ms> <id> <type> <attempt> <max_retry> <due ms> <payload>
 * and every send one line "sent <outcome> <reason> <res.id or error>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "looklook.h"

typedef struct {
    char           *record;
    char           *to;
} dqh_conf_t;

static const ll_conf_field_t  dqh_schema[] = {
    LL_SET_STR(dqh_conf_t, record, "record", LL_CONF_REQUIRED, NULL,
      "file each call is appended to"),
    LL_SET_STR(dqh_conf_t, to, "to", 0, "dq", "instance send= produces to"),
    LL_SET_END
};


static int
dqh_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    ll_set_data(in, conf);
    return 0;
}


static void
dqh_append(const char *path, const char *line)
{
    FILE  *f = strcmp(path, "-") == 0 ? NULL : fopen(path, "a");

    if (f != NULL) {
        fprintf(f, "%s\n", line);
        fclose(f);
    }
}


static int
dqh_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    dqh_conf_t  *c = ll_get_data(in);
    char         words[512], line[1024], *w, *save = NULL;
    const char  *out = "done", *send = NULL, *gate = NULL;
    int64_t      start = ll_now_ms(), sleep_ms = 0, delay = -1;
    int64_t      after = -1, at = 0;
    ll_msg_t     m;
    ll_result_t  r;
    ll_opt_t     o;
    int          rc;

    snprintf(words, sizeof(words), "%.*s", (int) msg->payload_len,
             msg->payload ? (const char *) msg->payload : "");
    snprintf(line, sizeof(line), "%lld %s %s %d %d %lld %s", (long long) start,
             msg->id, msg->type, msg->attempt, msg->max_retry,
             (long long) ll_msg_opt_num(msg, "due", -1), words);
    dqh_append(c->record, line);
    for (w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (strncmp(w, "sleep=", 6) == 0) {
            sleep_ms = atoll(w + 6);
        } else if (strncmp(w, "delay=", 6) == 0) {
            delay = atoll(w + 6);
        } else if (strncmp(w, "gate=", 5) == 0) {
            gate = w + 5;
        } else if (strncmp(w, "send=", 5) == 0) {
            send = w + 5;
        } else if (strncmp(w, "after=", 6) == 0) {
            after = atoll(w + 6);
        } else if (strncmp(w, "at=", 3) == 0) {
            at = atoll(w + 3);
        } else {
            out = w;
        }
    }
    if (sleep_ms > 0) {
        usleep((useconds_t) sleep_ms * 1000);
    }
    if (send != NULL) {
        ll_msg_init(&m);
        m.payload = send;
        m.payload_len = strlen(send);
        m.process_at_ms = at;
        if (after >= 0) {
            o = (ll_opt_t) LL_OPT_N("delay", after);
            m.opts = &o;
            m.nopts = 1;
        }
        ll_result_init(&r);
        rc = ll_send(in, c->to, &m, &r);
        snprintf(line, sizeof(line), "sent %d %s %s", rc,
                 ll_reason_name(r.reason), rc == LL_DONE ? r.id : r.error);
        dqh_append(c->record, line);
    }
    if (gate != NULL && access(gate, F_OK) == 0) {
        return ll_error(res, LL_R_UNAVAILABLE, "gate %s closed", gate);
    }
    if (strcmp(out, "retry") == 0) {
        return ll_retry(res, delay, "asked to retry (attempt %d)",
                        msg->attempt);
    }
    if (strcmp(out, "fail") == 0) {
        return ll_fail(res, "asked to fail");
    }
    if (strcmp(out, "unavailable") == 0) {
        return ll_error(res, LL_R_UNAVAILABLE, "asked to be unavailable");
    }
    if (strcmp(out, "revoke") == 0) {
        return LL_REVOKE;
    }
    return LL_DONE;
}


LL_MODULE_EXPORT const ll_module_t  ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_BUSINESS,
    .name = "dq_handler",
    .version = "1",
    .description = "dq test handler driven by the payload",
    .conf = dqh_schema,
    .conf_size = sizeof(dqh_conf_t),
    .init = dqh_init,
    .handle = dqh_handle,
};
