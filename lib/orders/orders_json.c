/*
 * orders_json: an order as order-rpc's msg:pay_success:notify_user payload,
 * {"Order":{...}} with the Go field names of model.HomestayOrder (the
 * model has only db tags, so encoding/json uses the field names) and
 * time.Time as RFC 3339 in the store's zone.
 */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "orders_store.h"


/* "YYYY-MM-DD[ hh:mm:ss]" as "YYYY-MM-DDThh:mm:ss+08:00". */
static void
orders_rfc3339(char *buf, size_t len, const char *v, const char *tz)
{
    if (v == NULL || strlen(v) < 10) {
        v = "0001-01-01 00:00:00";      /* Go's zero time */
        tz = "Z";
    }
    snprintf(buf, len, "%.10sT%.8s%s", v,
             strlen(v) >= 19 ? v + 11 : "00:00:00", tz);
}


char *
orders_notify_json(lo_orders_t *s, const lo_order_t *o)
{
    cJSON       *root, *ord, *item;
    char         num[32], ts[40], *text = NULL;
    const char  *tz;
    int          i;

    tz = orders_store_tz(s);
    if (strcmp(tz, "+00:00") == 0) {
        tz = "Z";                       /* as Go prints UTC */
    }
    root = cJSON_CreateObject();
    ord = cJSON_AddObjectToObject(root, "Order");
    if (ord == NULL) {
        goto done;
    }
    for (i = 0; i < ORDERS_NCOLS; i++) {
        switch (orders_cols[i].type) {
        case ORDERS_COL_INT:
            /* raw digits: cJSON's doubles would round large int64s */
            snprintf(num, sizeof(num), "%lld",
                     (long long) *orders_col_int(o, i));
            item = cJSON_AddRawToObject(ord, orders_cols[i].go, num);
            break;
        case ORDERS_COL_TEXT:
            item = cJSON_AddStringToObject(ord, orders_cols[i].go,
                *orders_col_str(o, i) ? *orders_col_str(o, i) : "");
            break;
        default:
            orders_rfc3339(ts, sizeof(ts), *orders_col_str(o, i), tz);
            item = cJSON_AddStringToObject(ord, orders_cols[i].go, ts);
            break;
        }
        if (item == NULL) {
            goto done;
        }
    }
    text = cJSON_PrintUnformatted(root);

done:
    cJSON_Delete(root);
    return text;
}
