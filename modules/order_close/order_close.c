/*
 * order_close: cancel an order nobody paid in time.
 *
 * Takes the task order-rpc enqueues when an order is created,
 * defer:homestay_order:close (and the older homestay:order:close) with
 * payload {"Sn":"HSO..."}: a WaitPay order becomes Cancel, any other state
 * is left alone.  The state machine and the row version in the order store
 * make it safe against a payment racing it and against redelivery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "looklook.h"
#include "lo_orders.h"

typedef struct {
    const lo_orders_svc_t  *os;     /* set in start, before any message */
} order_close_t;


static int
order_close_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    order_close_t  *oc = ll_alloc(in, sizeof(*oc));

    if (oc == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ll_set_data(in, oc);
    return 0;
}


/* @locality worker main thread, after every init */
static int
order_close_start(ll_instance_t *in, char *err, size_t errlen)
{
    order_close_t  *oc = ll_get_data(in);

    oc->os = lo_orders_get(in, err, errlen);
    return oc->os != NULL ? 0 : -1;
}


/*
 * The payload's sn: {"Sn":"..."}, key matched case-insensitively as Go's
 * encoding/json does.  NULL when it is missing or not a string.
 */
static const char *
order_close_sn(const cJSON *j)
{
    const cJSON  *sn;

    sn = cJSON_IsObject(j) ? cJSON_GetObjectItem(j, "Sn") : NULL;
    return cJSON_IsString(sn) && sn->valuestring[0] != '\0'
           ? sn->valuestring : NULL;
}


/* @locality any handler-pool thread */
static int
order_close_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    order_close_t          *oc = ll_get_data(in);
    const lo_orders_svc_t  *os = oc->os;
    cJSON                  *j;
    const char             *sn;
    char                    why[LL_ERROR_MAX - 64];
    int                     rc, outcome;

    j = cJSON_ParseWithLength(msg->payload, msg->payload_len);
    sn = order_close_sn(j);
    if (sn == NULL) {
        cJSON_Delete(j);
        return ll_error(res, LL_R_INVALID,
                        "payload is not {\"Sn\":\"HSO...\"}: \"%.*s\"",
                        (int) (msg->payload_len > 120 ? 120 : msg->payload_len),
                        (const char *) msg->payload);
    }

    rc = os->change_state(os->store, sn, LO_ORDER_CANCEL, NULL,
                              why, sizeof(why));
    switch (rc) {
    case LO_ORDERS_OK:
        ll_log(in, LL_LOG_DEBUG, "order %s closed: WaitPay -> Cancel", sn);
        outcome = LL_DONE;
        break;
    case LO_ORDERS_SAME:
    case LO_ORDERS_REFUSED:
        /* paid (or already cancelled) before the close came due */
        ll_log(in, LL_LOG_DEBUG, "order %s not closed: %s", sn,
               rc == LO_ORDERS_SAME ? "already cancelled" : why);
        outcome = LL_DONE;
        break;
    case LO_ORDERS_NOT_FOUND:
        outcome = ll_error(res, LL_R_NOT_FOUND, "%s", why);
        break;
    default:
        /* the database is out of reach: not this task's fault */
        outcome = ll_error(res, LL_R_UNAVAILABLE, "order %s: %s", sn, why);
        break;
    }
    cJSON_Delete(j);
    return outcome;
}


LL_MODULE_EXPORT const ll_module_t  ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_BUSINESS,
    .name = "order_close",
    .version = "1.0.0",
    .description = "defer:homestay_order:close: cancel an order still "
                   "waiting for payment",
    .init = order_close_init,
    .start = order_close_start,
    .handle = order_close_handle,
};
