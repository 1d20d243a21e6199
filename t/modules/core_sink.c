/*
 * core_sink: a test business module.
 *
 * handle logs "handling ID", sleeps `sleep` (giving up if the message is
 * cancelled), appends one line to `file`:
 *
 *     CODE TAG pid=PID gen=GEN worker=W type=TYPE id=ID
 *
 * logs "finished ID" and answers `outcome`.  CODE is compiled in
 * (-DCORE_SINK_CODE='"v2"'), so a test can rebuild the .so and see which
 * code runs after a reload; TAG comes from the config.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <looklook/looklook.h>

#ifndef CORE_SINK_CODE
#define CORE_SINK_CODE  "v1"
#endif


typedef struct {
    char               *file;
    int64_t             sleep_ms;
    char               *tag;
    char               *outcome;
    int64_t             start_delay_ms;
} sink_conf_t;

typedef struct {
    sink_conf_t        *conf;
    int                 outcome;
    int                 fd;
} sink_t;

static const ll_conf_field_t sink_conf[] = {
    LL_SET_STR(sink_conf_t, file, "file", LL_CONF_REQUIRED, NULL,
      "file each handled message is appended to"),
    LL_SET_DURATION(sink_conf_t, sleep_ms, "sleep", 0, "0", 0, 0,
      "time each message takes"),
    LL_SET_STR(sink_conf_t, tag, "tag", 0, "-",
      "written on every line"),
    LL_SET_STR(sink_conf_t, outcome, "outcome", 0, "done",
      "answer: done, retry, fail or revoke"),
    LL_SET_DURATION(sink_conf_t, start_delay_ms, "start_delay", 0, "0", 0, 0,
      "time start takes before the module can handle"),
    LL_SET_END
};


static int
sink_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    static const char  *names[] = { "done", "retry", "fail", "revoke" };
    sink_conf_t        *c = conf;
    sink_t             *sk;
    int                 i;

    for (i = 0; i < 4; i++) {
        if (strcmp(c->outcome, names[i]) == 0) {
            break;
        }
    }
    if (i == 4) {
        snprintf(err, errlen, "outcome \"%s\" is not done, retry, fail or revoke",
                 c->outcome);
        return -1;
    }
    sk = calloc(1, sizeof(*sk));
    if (sk == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sk->conf = c;
    sk->outcome = i;
    sk->fd = -1;
    ll_set_data(in, sk);
    return 0;
}


static int
sink_start(ll_instance_t *in, char *err, size_t errlen)
{
    sink_t          *sk = ll_get_data(in);
    struct timespec  ts;
    int              fd;

    ts.tv_sec = sk->conf->start_delay_ms / 1000;
    ts.tv_nsec = (sk->conf->start_delay_ms % 1000) * 1000000;
    nanosleep(&ts, NULL);

    fd = open(sk->conf->file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -1) {
        snprintf(err, errlen, "%s: %s", sk->conf->file, strerror(errno));
        return -1;
    }
    __atomic_store_n(&sk->fd, fd, __ATOMIC_RELEASE);
    ll_log(in, LL_LOG_DEBUG, "opened %s", sk->conf->file);
    ll_log(in, LL_LOG_INFO, "started, code %s", CORE_SINK_CODE);
    return 0;
}


static void
sink_stop(ll_instance_t *in)
{
    ll_log(in, LL_LOG_INFO, "stopped, code %s", CORE_SINK_CODE);
}


static void
sink_fini(ll_instance_t *in)
{
    sink_t  *sk = ll_get_data(in);

    if (sk == NULL) {
        return;
    }
    if (sk->fd != -1) {
        close(sk->fd);
    }
    free(sk);
    ll_set_data(in, NULL);
}


/* @locality any handler-pool thread: one write(O_APPEND) per line keeps
 * concurrent lines whole */
static int
sink_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    sink_t          *sk = ll_get_data(in);
    struct timespec  slice = { 0, 10 * 1000000 };
    int64_t          end;
    char             line[512];
    int              n;

    /* the core must not hand a module work before its start has run */
    if (__atomic_load_n(&sk->fd, __ATOMIC_ACQUIRE) == -1) {
        ll_log(in, LL_LOG_ERR, "handle before start: %s",
               msg->id ? msg->id : "-");
        return ll_fail(res, "handle called before start");
    }

    ll_log(in, LL_LOG_INFO, "handling %s", msg->id ? msg->id : "-");

    end = ll_now_ms() + sk->conf->sleep_ms;
    while (ll_now_ms() < end) {
        if (ll_msg_cancelled(msg)) {
            ll_log(in, LL_LOG_INFO, "cancelled %s", msg->id ? msg->id : "-");
            return ll_retry(res, -1, "cancelled");
        }
        nanosleep(&slice, NULL);
    }

    n = snprintf(line, sizeof(line), "%s %s pid=%d gen=%u worker=%d type=%s"
                 " id=%s\n", CORE_SINK_CODE, sk->conf->tag, (int) getpid(),
                 ll_generation(in), ll_worker_id(in), msg->type,
                 msg->id ? msg->id : "-");
    if (n > 0 && write(sk->fd, line, (size_t) n) != n) {
        return ll_retry(res, -1, "write %s: %s", sk->conf->file,
                        strerror(errno));
    }

    ll_log(in, LL_LOG_INFO, "finished %s", msg->id ? msg->id : "-");

    switch (sk->outcome) {
    case LL_RETRY:
        return ll_retry(res, -1, "sink told to retry");
    case LL_FAIL:
        return ll_fail(res, "sink told to fail");
    default:
        return sk->outcome;
    }
}


LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_BUSINESS,
    .name = "core_sink",
    .version = CORE_SINK_CODE,
    .description = "test handler: appends what it handles to a file",
    .conf = sink_conf,
    .conf_size = sizeof(sink_conf_t),
    .init = sink_init,
    .start = sink_start,
    .stop = sink_stop,
    .fini = sink_fini,
    .handle = sink_handle,
};
