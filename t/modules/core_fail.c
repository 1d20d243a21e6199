/*
 * core_fail: a test module that fails on purpose.
 *
 *   at = "init"   init returns -1 with `message`
 *   at = "start"  start returns -1 with `message`
 *   at = "crash"  start writes to an unmapped address: SIGSEGV, a worker
 *                 that never comes up
 *   at = "hang"   start never returns (a connect that hangs): only SIGKILL
 *                 ends the worker, its signals being blocked
 *
 * With `when_file` set it fails only while that file exists, so a test can
 * start a healthy server and make only later (respawned) workers fail.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <looklook/looklook.h>


typedef struct {
    char               *at;
    char               *message;
    char               *when_file;
} fail_conf_t;

static const ll_conf_field_t fail_conf[] = {
    LL_SET_STR(fail_conf_t, at, "at", LL_CONF_REQUIRED, NULL,
      "where to fail: init, start, crash or hang"),
    LL_SET_STR(fail_conf_t, message, "message", 0, "failing on purpose",
      "the error returned"),
    LL_SET_STR(fail_conf_t, when_file, "when_file", 0, NULL,
      "fail only while this file exists"),
    LL_SET_END
};


static int
fail_now(const fail_conf_t *c, const char *at)
{
    return strcmp(c->at, at) == 0
           && (c->when_file == NULL || access(c->when_file, F_OK) == 0);
}


/* A real fault, not raise(): the core may block signals in workers, and
 * the kernel delivers a fault's SIGSEGV even then. */
static void
crash(void)
{
    volatile uintptr_t  bad = 16;

    *(volatile int *) bad = 1;
}


static int
fail_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    fail_conf_t  *c = conf;

    if (strcmp(c->at, "init") != 0 && strcmp(c->at, "start") != 0
        && strcmp(c->at, "crash") != 0 && strcmp(c->at, "hang") != 0)
    {
        snprintf(err, errlen, "at must be init, start, crash or hang, not "
                 "\"%s\"", c->at);
        return -1;
    }
    if (fail_now(c, "init")) {
        snprintf(err, errlen, "%s", c->message);
        return -1;
    }
    ll_set_data(in, c);
    return 0;
}


static int
fail_start(ll_instance_t *in, char *err, size_t errlen)
{
    fail_conf_t  *c = ll_get_data(in);

    if (fail_now(c, "start")) {
        snprintf(err, errlen, "%s", c->message);
        return -1;
    }
    if (fail_now(c, "crash")) {
        ll_log(in, LL_LOG_INFO, "crashing in start");
        crash();
    }
    if (fail_now(c, "hang")) {
        ll_log(in, LL_LOG_INFO, "hanging in start");
        for ( ;; ) {
            pause();
        }
    }
    ll_log(in, LL_LOG_INFO, "started, not failing");
    return 0;
}


LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_OTHER,
    .name = "core_fail",
    .version = "1.0.0",
    .description = "test module that fails in init or start, crashes or hangs",
    .conf = fail_conf,
    .conf_size = sizeof(fail_conf_t),
    .init = fail_init,
    .start = fail_start,
};
