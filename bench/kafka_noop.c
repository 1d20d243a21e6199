/*
 * kafka_noop: a handler that does nothing, for bench/kafka-consume.sh
 * (built by the script into the build folder).
 */
#include <looklook/looklook.h>

static int
noop_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    (void) in;
    (void) msg;
    (void) res;
    return LL_DONE;
}

LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_BUSINESS,
    .name = "kafka_noop",
    .version = "1",
    .description = "bench handler: answers done at once",
    .handle = noop_handle,
};
