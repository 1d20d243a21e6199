/*
 * orders_rules: looklook's order state machine and price rules
 * (order-rpc updateHomestayOrderTradeStateLogic.go verifyOrderTradeState,
 * createHomestayOrderLogic.go).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "orders_store.h"


const char *
orders_state_name(int state)
{
    switch (state) {
    case LO_ORDER_CANCEL:   return "Cancel";
    case LO_ORDER_WAIT_PAY: return "WaitPay";
    case LO_ORDER_WAIT_USE: return "WaitUse";
    case LO_ORDER_USED:     return "Used";
    case LO_ORDER_REFUND:   return "Refund";
    case LO_ORDER_EXPIRE:   return "Expire";
    default:                return "unknown";
    }
}


const char *
orders_transition_refused(int from, int to)
{
    switch (to) {
    case LO_ORDER_CANCEL:
        return from == LO_ORDER_WAIT_PAY
               ? NULL : "only orders waiting for payment can be cancelled";
    case LO_ORDER_WAIT_USE:
        return from == LO_ORDER_WAIT_PAY
               ? NULL : "only orders waiting for payment can become WaitUse";
    case LO_ORDER_USED:
    case LO_ORDER_REFUND:
    case LO_ORDER_EXPIRE:
        return from == LO_ORDER_WAIT_USE
               ? NULL : "only unused (WaitUse) orders can change to this state";
    case LO_ORDER_WAIT_PAY:
        return "changing an order back to WaitPay is not supported";
    default:
        /* order-rpc would write any other value as it is; looklook won't */
        return "no such trade state";
    }
}


/* "YYYY-MM-DD" into days since 1970-01-01; -1 if malformed. */
static int64_t
orders_day(const char *s)
{
    struct tm  tm;
    char      *end;

    if (s == NULL) {
        return -1;
    }
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%d", &tm);
    if (end == NULL || *end != '\0') {
        return -1;
    }
    return (int64_t) timegm(&tm) / 86400;
}


int
orders_price(lo_order_t *o)
{
    int64_t  start, end, days;

    start = orders_day(o->live_start_date);
    end = orders_day(o->live_end_date);
    if (start < 0 || end <= start) {
        return -1;
    }
    days = end - start;
    o->homestay_total_price = o->homestay_price * days;
    o->food_total_price = o->need_food
                          ? o->food_price * o->live_people_num * days : 0;
    o->order_total_price = o->homestay_total_price + o->food_total_price;
    return 0;
}
