/*
 * lo_orders.h: the "orders" service, looklook's order store.  Installed
 * with the core's headers (#include <looklook/lo_orders.h>), so business
 * modules built out of tree can use it; its names carry the lo_ / LO_
 * prefix of the orders module, not the core's ll_.
 *
 * The orders module offers it with ll_service_offer(in, "orders", &svc);
 * business modules take it in start:
 *
 *     const lo_orders_svc_t *os = lo_orders_get(in, err, errlen);
 *     if (os == NULL) { return -1; }     (err says what is missing)
 *
 * and call through it from any handler thread:
 *
 *     lo_order_t  o;
 *     rc = os->change_state(os->store, sn, LO_ORDER_WAIT_USE, &o, err, n);
 *     ...
 *     os->order_free(&o);
 *
 * The store is looklook's `homestay_order` table (MySQL/MariaDB, or the same
 * columns in SQLite), changed only under the order state machine and the
 * `version` optimistic lock, with go-zero's cache keys deleted after each
 * write.  Every function is thread-safe.
 */
#ifndef LO_ORDERS_H_INCLUDED
#define LO_ORDERS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <looklook/looklook.h>

#define LO_ORDERS_ABI  1        /* bumped when this header changes */

/* homestay_order.trade_state (looklook app/order/model/vars.go) */
enum {
    LO_ORDER_CANCEL   = -1,
    LO_ORDER_WAIT_PAY = 0,
    LO_ORDER_WAIT_USE = 1,
    LO_ORDER_USED     = 2,
    LO_ORDER_REFUND   = 3,
    LO_ORDER_EXPIRE   = 4
};

/* What a store call came to. */
typedef enum {
    LO_ORDERS_OK        = 0,    /* done: found, changed, created */
    LO_ORDERS_SAME      = 1,    /* change_state: already in that state */
    LO_ORDERS_REFUSED   = 2,    /* change_state: transition not allowed */
    LO_ORDERS_NOT_FOUND = 3,    /* no live order with that sn */
    LO_ORDERS_INVALID   = 4,    /* bad argument (create: a field) */
    LO_ORDERS_ERROR     = 5     /* the database or the cache could not do
                                 * it now (unreachable, timed out, a lost
                                 * connection, a run of version conflicts):
                                 * the caller retries; a handler answers
                                 * ll_error(res, LL_R_UNAVAILABLE, ...) so
                                 * the retry spends no attempt */
} lo_orders_rc_e;

/*
 * One row of homestay_order, all 31 columns in table order.  Text columns
 * are NUL-terminated, malloc'ed and owned by the struct (free them with
 * order_free); datetimes read "YYYY-MM-DD hh:mm:ss" and dates "YYYY-MM-DD",
 * in the store's time_zone.  Money is in fen.
 */
typedef struct {
    int64_t     id;
    char       *create_time;
    char       *update_time;
    char       *delete_time;
    int64_t     del_state;
    int64_t     version;
    char       *sn;
    int64_t     user_id;
    int64_t     homestay_id;
    char       *title;
    char       *sub_title;
    char       *cover;
    char       *info;
    int64_t     people_num;
    int64_t     row_type;
    int64_t     need_food;
    char       *food_info;
    int64_t     food_price;
    int64_t     homestay_price;
    int64_t     market_homestay_price;
    int64_t     homestay_business_id;
    int64_t     homestay_user_id;
    char       *live_start_date;
    char       *live_end_date;
    int64_t     live_people_num;
    int64_t     trade_state;
    char       *trade_code;
    char       *remark;
    int64_t     order_total_price;
    int64_t     food_total_price;
    int64_t     homestay_total_price;
} lo_order_t;

typedef struct lo_orders_s  lo_orders_t;       /* the store, opaque */

typedef struct lo_orders_svc_s {
    uint32_t        abi;        /* LO_ORDERS_ABI */
    lo_orders_t    *store;      /* first argument of every call */

    /*
     * The live order (del_state 0) with this sn into *out (zeroed first;
     * free with order_free whatever the result).  OK, NOT_FOUND or ERROR
     * (err says why).  @locality any thread
     */
    int   (*find)(lo_orders_t *s, const char *sn, lo_order_t *out,
                  char *err, size_t errlen);

    /*
     * Move the order to trade state `to` under looklook's rules: Cancel and
     * WaitUse only from WaitPay; Used, Refund and Expire only from WaitUse.
     * The write is `WHERE id=? AND version=?`; on a lost race the row is
     * read again and the rule checked again.  Returns OK (changed; *out, if
     * not NULL, holds the row as written), SAME (already in state `to`:
     * nothing written, but the cache keys are deleted again in case an
     * earlier attempt could not), REFUSED (err says why), NOT_FOUND or
     * ERROR (database or Redis trouble: the caller retries; the change may
     * or may not have been made, which the retry sees as SAME).
     * @locality any thread
     */
    int   (*change_state)(lo_orders_t *s, const char *sn, int to,
                          lo_order_t *out, char *err, size_t errlen);

    /*
     * Insert o as order-rpc CreateHomestayOrder does.  Fills in what is
     * empty: sn (HSO + time + 8 digits), trade_code (8 of [0-9a-zA-Z]),
     * create/update/delete times; o->id and o->version are set on OK.
     * The caller computes prices (ll_order_price helps).  OK, INVALID
     * (err names the field) or ERROR.  @locality any thread
     */
    int   (*create)(lo_orders_t *s, lo_order_t *o, char *err, size_t errlen);

    /*
     * `{"Order":{"Id":..,"CreateTime":"2006-01-02T15:04:05+08:00",..}}`:
     * the payload order-rpc enqueues as msg:pay_success:notify_user (Go
     * field names of model.HomestayOrder, times RFC 3339).  malloc'ed,
     * the caller frees; NULL when out of memory.  @locality any thread
     */
    char *(*notify_json)(lo_orders_t *s, const lo_order_t *o);

    /* Free o's strings and zero it; NULL-safe.  @locality any thread */
    void  (*order_free)(lo_order_t *o);

    /* "WaitPay", "Cancel", ... or "unknown".  @locality any thread */
    const char *(*state_name)(int state);
} lo_orders_svc_t;

/* The order store for a business module, or NULL with the reason in err
 * when no compatible "orders" module is loaded.
 * @locality worker main thread, in start */
static inline const lo_orders_svc_t *
lo_orders_get(const ll_instance_t *in, char *err, size_t errlen)
{
    const lo_orders_svc_t  *os = ll_service_get(in, "orders");

    if (os == NULL || os->abi != LO_ORDERS_ABI) {
        snprintf(err, errlen, "needs the order store: add { name = \"orders\";"
                 " path = \"orders.so\"; } to modules");
        return NULL;
    }
    return os;
}

#endif /* LO_ORDERS_H_INCLUDED */
