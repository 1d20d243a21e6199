/*
 * hello: the smallest useful looklook module, built out of tree.
 *
 * It takes the messages routed to it and logs a greeting for each:
 *
 *   modules = ( ..., { name = "hello"; path = "hello.so"; greeting = "hi"; } );
 *   routes  = ( { from = "redisq:hello:*"; to = "hello"; } );
 *
 * Build and install with `make && make install`; then `looklook -s reload`.
 */

#include <stdio.h>
#include <stdlib.h>

#include <looklook/looklook.h>


typedef struct {
    char               *greeting;   /* owned by the core until fini */
    int64_t             max_bytes;
} hello_conf_t;

/* LL_SET_* check each member's type at compile time; the core checks the
 * bounds and reports a bad value at its line in looklook.conf */
static const ll_conf_field_t hello_conf[] = {
    LL_SET_STR(hello_conf_t, greeting, "greeting", 0, "hello",
               "the word each message is greeted with"),
    LL_SET_INT(hello_conf_t, max_bytes, "max_bytes", 0, "64", 0, 65536,
               "how much of the payload is logged"),
    LL_SET_END
};


/*
 * Keep the settings: conf stays valid until fini.
 * @locality worker main thread (or a checker process)
 */
static int
hello_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    (void) err;         /* nothing can fail: the core checked the bounds */
    (void) errlen;
    ll_set_data(in, conf);
    return 0;
}


/*
 * Greet one message.  Reads only its own settings, so it needs no lock.
 * @locality any handler-pool thread, concurrently
 */
static int
hello_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    hello_conf_t  *c = ll_get_data(in);
    int            n;

    (void) res;     /* LL_DONE needs no reason */

    n = 0;
    if (msg->payload != NULL) {
        n = msg->payload_len < (size_t) c->max_bytes ? (int) msg->payload_len
                                                     : (int) c->max_bytes;
    }
    /* "queue" is a message option of redisq; other sources have none */
    ll_log(in, LL_LOG_INFO, "%s, %s %s (queue %s): %.*s", c->greeting,
           msg->type, msg->id ? msg->id : "-",
           ll_msg_opt_str(msg, "queue", "-"), n,
           n ? (const char *) msg->payload : "");
    return LL_DONE;
}


LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_BUSINESS,
    .name = "hello",
    .version = "1.0.0",
    .description = "logs a greeting for every message routed to it",
    .conf = hello_conf,
    .conf_size = sizeof(hello_conf_t),
    .init = hello_init,
    .handle = hello_handle,
};
