/*
 * payment_update: move an order on when the payment service reports.
 *
 * Consumes payment-rpc's Kafka messages {"payStatus":N,"orderSn":"HSO..."}
 * (routed as kafka:payment-update-paystatus-topic): 1 (paid) -> WaitUse,
 * 2 (refunded) -> Refund, anything else is ignored, as order-mq does.
 * After an order becomes WaitUse it enqueues msg:pay_success:notify_user
 * {"Order":{...}} through the redisq instance, as order-rpc does.
 *
 * The notify task gets the ID "pay_success:<sn>" and is kept `retention`
 * after it ran, so it is enqueued once per order however often the Kafka
 * message comes: a redelivery finds the order already WaitUse, enqueues
 * again and is answered LL_R_CONFLICT (the ID is taken), which means it is
 * already there.  That lets a failed enqueue be retried without a second
 * notification.
 *
 * A database out of reach is answered LL_R_UNAVAILABLE: the source retries
 * the payment without spending its retry budget, so an outage dead-letters
 * nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "looklook.h"
#include "lo_orders.h"
#include "pu_json.h"

/* payment pay_status (looklook app/payment/model/vars.go) */
#define PU_PAY_SUCCESS  1
#define PU_PAY_REFUND   2

typedef struct {
    int                 notify;         /* enqueue the notify task */
    char               *notify_to;      /* mq instance that takes it */
    char               *notify_type;
    char               *notify_queue;
    int64_t             notify_retention;
} pu_conf_t;

typedef struct {
    pu_conf_t                  *conf;
    const lo_orders_svc_t      *os;     /* set in start, before any message */
} pu_t;

static const ll_conf_field_t  pu_conf_schema[] = {
    LL_SET_BOOL(pu_conf_t, notify, "notify", 0, "true",
                "enqueue msg:pay_success:notify_user when an order is paid"),
    LL_SET_STR(pu_conf_t, notify_to, "notify_to", 0, "redisq",
               "the mq instance that takes the notify task"),
    LL_SET_STR(pu_conf_t, notify_type, "notify_type", 0,
               "msg:pay_success:notify_user", "task type of the notify task"),
    LL_SET_STR(pu_conf_t, notify_queue, "notify_queue", 0, "default",
               "queue of the notify task"),
    LL_SET_DURATION(pu_conf_t, notify_retention, "notify_retention", 0, "24h",
                    0, 0, "keep the notify task this long after it ran, so a "
                    "redelivered payment does not notify twice"),
    LL_SET_END
};


static int
pu_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    pu_t  *pu = ll_alloc(in, sizeof(*pu));

    if (pu == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pu->conf = conf;
    ll_set_data(in, pu);
    return 0;
}


/* @locality worker main thread, after every init */
static int
pu_start(ll_instance_t *in, char *err, size_t errlen)
{
    pu_t  *pu = ll_get_data(in);

    pu->os = lo_orders_get(in, err, errlen);
    return pu->os != NULL ? 0 : -1;
}


/*
 * Enqueue msg:pay_success:notify_user for o.  Returns LL_DONE (stored now
 * or earlier) or the mq instance's retry/fail with res->error set.
 * @locality any handler-pool thread
 */
static int
pu_notify(ll_instance_t *in, pu_t *pu, const lo_order_t *o, ll_result_t *res)
{
    ll_msg_t     m;
    ll_result_t  r;
    char        *payload, id[64];
    int          outcome;
    ll_opt_t     opts[] = {
        LL_OPT_S("queue", pu->conf->notify_queue),
        LL_OPT_N("retention", pu->conf->notify_retention)
    };

    payload = pu->os->notify_json(pu->os->store, o);
    if (payload == NULL) {
        return ll_error(res, LL_R_NO_MEMORY, "order %s: out of memory",
                        o->sn);
    }
    snprintf(id, sizeof(id), "pay_success:%s", o->sn);
    ll_msg_init(&m);
    m.source = ll_instance_name(in);
    m.type = pu->conf->notify_type;
    m.id = id;
    m.payload = payload;
    m.payload_len = strlen(payload);
    m.opts = opts;
    m.nopts = sizeof(opts) / sizeof(opts[0]);

    ll_result_init(&r);
    outcome = ll_send(in, pu->conf->notify_to, &m, &r);
    free(payload);
    if (outcome == LL_DONE || r.reason == LL_R_CONFLICT) {
        return LL_DONE;
    }
    /* retried as a whole (the order is WaitUse by then, which is SAME),
     * keeping the queue's reason: a queue out of reach spends no attempt */
    outcome = ll_retry(res, -1, "order %s paid, but %s %s not enqueued: %s",
                       o->sn, pu->conf->notify_to, pu->conf->notify_type,
                       r.error);
    if (ll_reason_transient(r.reason)) {
        res->reason = r.reason;
    }
    return outcome;
}


/* @locality any handler-pool thread */
static int
pu_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    pu_t          *pu = ll_get_data(in);
    pu_message_t   pm;
    lo_order_t     o;
    const char    *osn;
    char           why[LL_ERROR_MAX - 200];
    int            rc, to, outcome, shown;
    int64_t        pay;

    /* as order-mq's json.Unmarshal: what it refuses fails here for good */
    shown = (int) (msg->payload_len > 120 ? 120 : msg->payload_len);
    rc = pu_json_decode(msg->payload, msg->payload_len, &pm, why, sizeof(why));
    if (rc == PU_JSON_SYNTAX) {
        return ll_error(res, LL_R_INVALID,
                        "value is not {\"payStatus\":N,\"orderSn\":\"..\"}"
                        " (%s): \"%.*s\"", why, shown,
                        (const char *) msg->payload);
    }
    if (rc == PU_JSON_TYPE) {
        return ll_error(res, LL_R_INVALID, "payStatus must be an integer "
                        "and orderSn a string (%s): \"%.*s\"", why, shown,
                        (const char *) msg->payload);
    }
    osn = pm.order_sn != NULL ? pm.order_sn : "";
    pay = pm.pay_status;

    if (pay == PU_PAY_SUCCESS) {
        to = LO_ORDER_WAIT_USE;
    } else if (pay == PU_PAY_REFUND) {
        to = LO_ORDER_REFUND;
    } else {
        ll_log(in, LL_LOG_DEBUG, "order %s: payStatus %" PRId64 " needs "
               "nothing", osn, pay);
        free(pm.order_sn);
        return LL_DONE;
    }

    rc = pu->os->change_state(pu->os->store, osn, to, &o, why, sizeof(why));
    switch (rc) {
    case LO_ORDERS_OK:
    case LO_ORDERS_SAME:
        ll_log(in, LL_LOG_DEBUG, "order %s: %s%s", osn,
               rc == LO_ORDERS_OK ? "now " : "already ",
               pu->os->state_name(to));
        outcome = to == LO_ORDER_WAIT_USE && pu->conf->notify
                  ? pu_notify(in, pu, &o, res) : LL_DONE;
        break;
    case LO_ORDERS_REFUSED:
        if (to == LO_ORDER_WAIT_USE && o.trade_state > LO_ORDER_WAIT_USE) {
            /* Used, Refund and Expire come only after WaitUse: this
             * payment was applied before (a redelivery after a rebalance
             * that replays "paid" after "refunded") */
            ll_log(in, LL_LOG_DEBUG, "order %s: paid before, now %s", osn,
                   pu->os->state_name((int) o.trade_state));
            outcome = LL_DONE;
            break;
        }
        /* e.g. paid after the close: somebody has to refund it */
        outcome = ll_fail(res, "payStatus %" PRId64 ": %s", pay, why);
        break;
    case LO_ORDERS_NOT_FOUND:
        outcome = ll_error(res, LL_R_NOT_FOUND, "payStatus %" PRId64 ": %s",
                           pay, why);
        break;
    default:
        /* the database is out of reach: not this payment's fault */
        outcome = ll_error(res, LL_R_UNAVAILABLE, "order %s: %s", osn, why);
        break;
    }
    pu->os->order_free(&o);
    free(pm.order_sn);
    return outcome;
}


LL_MODULE_EXPORT const ll_module_t  ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_BUSINESS,
    .name = "payment_update",
    .version = "1.0.0",
    .description = "payment-update-paystatus-topic: paid orders become "
                   "WaitUse (and notify), refunded ones Refund",
    .conf = pu_conf_schema,
    .conf_size = sizeof(pu_conf_t),
    .init = pu_init,
    .start = pu_start,
    .handle = pu_handle,
};
