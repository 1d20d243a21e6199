/*
 * orders_cols: the 31 columns of homestay_order, once.  Reading a row,
 * writing one, the select list and the notify JSON all walk this table,
 * so a column is named in one place only.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "orders_store.h"

#define COL(c, g, t)      { #c, #g, ORDERS_COL_##t, offsetof(lo_order_t, c), 0 }
#define TEXT(c, g, max)   { #c, #g, ORDERS_COL_TEXT, offsetof(lo_order_t, c), max }

/* table order, as in looklook's deploy/sql/looklook_order.sql */
const orders_col_t  orders_cols[ORDERS_NCOLS] = {
    COL(id, Id, INT),
    COL(create_time, CreateTime, TIME),
    COL(update_time, UpdateTime, TIME),
    COL(delete_time, DeleteTime, TIME),
    COL(del_state, DelState, INT),
    COL(version, Version, INT),
    TEXT(sn, Sn, 25),
    COL(user_id, UserId, INT),
    COL(homestay_id, HomestayId, INT),
    TEXT(title, Title, 32),
    TEXT(sub_title, SubTitle, 128),
    TEXT(cover, Cover, 1024),
    TEXT(info, Info, 4069),
    COL(people_num, PeopleNum, INT),
    COL(row_type, RowType, INT),
    COL(need_food, NeedFood, INT),
    TEXT(food_info, FoodInfo, 1024),
    COL(food_price, FoodPrice, INT),
    COL(homestay_price, HomestayPrice, INT),
    COL(market_homestay_price, MarketHomestayPrice, INT),
    COL(homestay_business_id, HomestayBusinessId, INT),
    COL(homestay_user_id, HomestayUserId, INT),
    COL(live_start_date, LiveStartDate, DATE),
    COL(live_end_date, LiveEndDate, DATE),
    COL(live_people_num, LivePeopleNum, INT),
    COL(trade_state, TradeState, INT),
    TEXT(trade_code, TradeCode, 8),
    TEXT(remark, Remark, 64),
    COL(order_total_price, OrderTotalPrice, INT),
    COL(food_total_price, FoodTotalPrice, INT),
    COL(homestay_total_price, HomestayTotalPrice, INT),
};

static pthread_once_t  orders_list_once = PTHREAD_ONCE_INIT;
static char            orders_list[1024];


static void
orders_list_build(void)
{
    size_t  n = 0, len;
    int     i;

    for (i = 0; i < ORDERS_NCOLS; i++) {
        len = strlen(orders_cols[i].name);
        if (i > 0) {
            orders_list[n++] = ',';
        }
        memcpy(orders_list + n, orders_cols[i].name, len);  /* fits: ~450 */
        n += len;
    }
    orders_list[n] = '\0';
}


const char *
orders_col_list(void)
{
    pthread_once(&orders_list_once, orders_list_build);
    return orders_list;
}


int
orders_col_set(lo_order_t *o, int i, const char *val, size_t len)
{
    char   **sp, *copy, buf[32];

    if (orders_cols[i].type == ORDERS_COL_INT) {
        if (val == NULL || len >= sizeof(buf)) {
            *orders_col_int(o, i) = 0;
            return 0;
        }
        memcpy(buf, val, len);
        buf[len] = '\0';
        *orders_col_int(o, i) = strtoll(buf, NULL, 10);
        return 0;
    }

    /* a DATETIME read as text may carry fractions (".000000"): cut them */
    if (val != NULL && orders_cols[i].type == ORDERS_COL_TIME && len > 19) {
        len = 19;
    }
    if (val != NULL && orders_cols[i].type == ORDERS_COL_DATE && len > 10) {
        len = 10;
    }
    copy = malloc(len + 1);
    if (copy == NULL) {
        return -1;
    }
    if (val != NULL) {
        memcpy(copy, val, len);
    } else {
        len = 0;
    }
    copy[len] = '\0';
    sp = orders_col_str(o, i);
    free(*sp);
    *sp = copy;
    return 0;
}


void
orders_order_free(lo_order_t *o)
{
    int  i;

    if (o == NULL) {
        return;
    }
    for (i = 0; i < ORDERS_NCOLS; i++) {
        if (orders_cols[i].type != ORDERS_COL_INT) {
            free(*orders_col_str(o, i));
        }
    }
    memset(o, 0, sizeof(*o));
}
