/*
 * core_target: a test mq module that takes messages through handle (as
 * redisq takes an enqueue) and aborts if handle runs while it is not
 * started: what a real one does with a connection made in start and
 * closed in stop, only at once and every time.
 */

#include <stdlib.h>

#include <looklook/looklook.h>


static int  running;


static int
target_start(ll_instance_t *in, char *err, size_t errlen)
{
    __atomic_store_n(&running, 1, __ATOMIC_SEQ_CST);
    return 0;
}


static void
target_stop(ll_instance_t *in)
{
    __atomic_store_n(&running, 0, __ATOMIC_SEQ_CST);
    ll_log(in, LL_LOG_INFO, "stopped");
}


static int
target_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    if (!__atomic_load_n(&running, __ATOMIC_SEQ_CST)) {
        ll_log(in, LL_LOG_ERR, "handle while not started");
        abort();
    }
    ll_log(in, LL_LOG_INFO, "took %s", msg->id ? msg->id : "-");
    return LL_DONE;
}


LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_MQ,
    .name = "core_target",
    .version = "1.0.0",
    .description = "test mq module that must not be handed work unstarted",
    .start = target_start,
    .stop = target_stop,
    .handle = target_handle,
};
