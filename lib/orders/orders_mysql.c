/*
 * orders_mysql: looklook's own homestay_order table in MySQL or MariaDB
 * (libmariadb), so looklook runs against a looklook deployment's order
 * database as order-rpc does.
 *
 * Queries use the text protocol with mysql_real_escape_string on a utf8mb4
 * connection: one round trip each, and the rows come back as text, which
 * is how the store reads every backend.  Any error drops the connection
 * (the pool opens a fresh one next time), so a restarted server costs one
 * retried message, never a stuck handler; there is no auto-reconnect that
 * could replay a statement behind our back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "orders_store.h"

/* the table as deploy/sql/looklook_order.sql defines it (column comments
 * translated); created only when missing */
static const char  orders_mysql_ddl[] =
    "CREATE TABLE IF NOT EXISTS `homestay_order` ("
    "`id` bigint NOT NULL AUTO_INCREMENT,"
    "`create_time` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    "`update_time` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP"
    " ON UPDATE CURRENT_TIMESTAMP,"
    "`delete_time` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    "`del_state` tinyint NOT NULL DEFAULT '0',"
    "`version` bigint NOT NULL DEFAULT '0' COMMENT 'version number',"
    "`sn` char(25) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
    " NOT NULL DEFAULT '' COMMENT 'order number',"
    "`user_id` bigint NOT NULL DEFAULT '0' COMMENT 'user who ordered',"
    "`homestay_id` bigint NOT NULL DEFAULT '0' COMMENT 'homestay id',"
    "`title` varchar(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
    " NOT NULL DEFAULT '' COMMENT 'title',"
    "`sub_title` varchar(128) CHARACTER SET utf8mb4 COLLATE"
    " utf8mb4_general_ci NOT NULL DEFAULT '' COMMENT 'subtitle',"
    "`cover` varchar(1024) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
    " NOT NULL DEFAULT '' COMMENT 'cover',"
    "`info` varchar(4069) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
    " NOT NULL DEFAULT '' COMMENT 'description',"
    "`people_num` tinyint(1) NOT NULL DEFAULT '0' COMMENT 'capacity',"
    "`row_type` tinyint(1) NOT NULL DEFAULT '0'"
    " COMMENT '0: sold by room, 1: by person',"
    "`need_food` tinyint(1) NOT NULL DEFAULT '0' COMMENT '0: no, 1: yes',"
    "`food_info` varchar(1024) CHARACTER SET utf8mb4 COLLATE"
    " utf8mb4_general_ci NOT NULL DEFAULT '' COMMENT 'meal standard',"
    "`food_price` bigint NOT NULL COMMENT 'meal price (fen)',"
    "`homestay_price` bigint NOT NULL COMMENT 'homestay price (fen)',"
    "`market_homestay_price` bigint NOT NULL DEFAULT '0'"
    " COMMENT 'market price (fen)',"
    "`homestay_business_id` bigint NOT NULL DEFAULT '0' COMMENT 'shop id',"
    "`homestay_user_id` bigint NOT NULL DEFAULT '0' COMMENT 'landlord id',"
    "`live_start_date` date NOT NULL COMMENT 'check-in date',"
    "`live_end_date` date NOT NULL COMMENT 'check-out date',"
    "`live_people_num` tinyint NOT NULL DEFAULT '0' COMMENT 'guests',"
    "`trade_state` tinyint(1) NOT NULL DEFAULT '0' COMMENT '-1: cancelled"
    " 0: waiting for payment 1: unused 2: used 3: refunded 4: expired',"
    "`trade_code` char(8) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
    " NOT NULL DEFAULT '' COMMENT 'confirmation code',"
    "`remark` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
    " NOT NULL DEFAULT '' COMMENT 'remark',"
    "`order_total_price` bigint NOT NULL DEFAULT '0'"
    " COMMENT 'food total + homestay total (fen)',"
    "`food_total_price` bigint NOT NULL DEFAULT '0' COMMENT 'fen',"
    "`homestay_total_price` bigint NOT NULL DEFAULT '0' COMMENT 'fen',"
    "PRIMARY KEY (`id`),"
    "UNIQUE KEY `idx_sn` (`sn`)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";


static void
orders_mysql_global_init(void)
{
    /* not thread-safe: run before any handler thread calls mysql_init */
    mysql_library_init(0, NULL, NULL);
}


static int
orders_mysql_error(MYSQL *m, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "mysql %s: %s (%u)", what, mysql_error(m),
             mysql_errno(m));
    return ORDERS_DB_BROKEN;
}


static void
orders_mysql_close(void *conn)
{
    mysql_close(conn);
}


static void *
orders_mysql_connect(const orders_dsn_t *d, const char *tz,
    int64_t timeout_ms, int *down, char *err, size_t errlen)
{
    MYSQL         *m;
    unsigned int   secs, e;
    my_bool        no = 0;
    char           sql[64];

    *down = 0;
    m = mysql_init(NULL);
    if (m == NULL) {
        snprintf(err, errlen, "mysql: out of memory");
        return NULL;
    }
    secs = timeout_ms >= 1000 ? (unsigned int) (timeout_ms / 1000) : 1;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &secs);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &secs);
    mysql_options(m, MYSQL_OPT_RECONNECT, &no);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");

    if (mysql_real_connect(m, d->socket ? NULL : d->host, d->user,
                           d->password, d->dbname, (unsigned int) d->port,
                           d->socket, 0) == NULL)
    {
        e = mysql_errno(m);
        /* unreachable or busy: the server may come back; a refused
         * password or an unknown database will not */
        *down = (e >= CR_MIN_ERROR && e <= CR_MAX_ERROR)
                || e == ER_CON_COUNT_ERROR || e == ER_SERVER_SHUTDOWN;
        orders_mysql_error(m, "connect", err, errlen);
        mysql_close(m);
        return NULL;
    }

    /* the datetimes looklook writes and reads are in the store's zone */
    snprintf(sql, sizeof(sql), "SET time_zone = '%.6s'", tz);
    if (mysql_query(m, sql) != 0) {
        orders_mysql_error(m, "set time_zone", err, errlen);
        mysql_close(m);
        return NULL;
    }
    return m;
}


static int
orders_mysql_schema(void *conn, char *err, size_t errlen)
{
    MYSQL      *m = conn;
    MYSQL_RES  *res;
    char        sql[1024];

    /* a deployment's user may lack CREATE: then the check below decides */
    if (mysql_query(m, orders_mysql_ddl) != 0
        && mysql_errno(m) >= CR_MIN_ERROR)
    {
        return orders_mysql_error(m, "create homestay_order", err, errlen);
    }
    snprintf(sql, sizeof(sql), "SELECT %s FROM homestay_order LIMIT 0",
             orders_col_list());
    if (mysql_query(m, sql) != 0) {
        return orders_mysql_error(m, "homestay_order", err, errlen);
    }
    res = mysql_store_result(m);
    mysql_free_result(res);
    return 0;
}


static int
orders_mysql_find(void *conn, const char *sn, lo_order_t *o, char *err,
    size_t errlen)
{
    MYSQL          *m = conn;
    MYSQL_RES      *res;
    MYSQL_ROW       row;
    unsigned long  *lens;
    char            sql[1024], esc[2 * 64 + 1];
    size_t          snlen;
    int             i, found = 0;

    snlen = strlen(sn);
    if (snlen > 64) {
        return 0;                       /* no sn is that long: char(25) */
    }
    mysql_real_escape_string(m, esc, sn, (unsigned long) snlen);
    snprintf(sql, sizeof(sql), "SELECT %s FROM homestay_order WHERE sn = '%s'"
             " AND del_state = 0 LIMIT 1", orders_col_list(), esc);
    if (mysql_query(m, sql) != 0) {
        return orders_mysql_error(m, "select", err, errlen);
    }
    res = mysql_store_result(m);
    if (res == NULL) {
        return orders_mysql_error(m, "select", err, errlen);
    }
    row = mysql_fetch_row(res);
    if (row != NULL) {
        found = 1;
        lens = mysql_fetch_lengths(res);
        for (i = 0; i < ORDERS_NCOLS; i++) {
            if (orders_col_set(o, i, row[i], lens[i]) != 0) {
                snprintf(err, errlen, "out of memory");
                found = ORDERS_DB_ERR;
                break;
            }
        }
    }
    mysql_free_result(res);
    return found;
}


static int
orders_mysql_update_state(void *conn, const lo_order_t *o, int to,
    const char *now, char *err, size_t errlen)
{
    MYSQL  *m = conn;
    char    sql[256];

    snprintf(sql, sizeof(sql), "UPDATE homestay_order SET trade_state = %d,"
             " version = version + 1, update_time = '%.19s'"
             " WHERE id = %lld AND version = %lld", to, now,
             (long long) o->id, (long long) o->version);
    if (mysql_query(m, sql) != 0) {
        return orders_mysql_error(m, "update", err, errlen);
    }
    return mysql_affected_rows(m) == 1 ? 1 : 0;
}


static int
orders_mysql_insert(void *conn, lo_order_t *o, char *err, size_t errlen)
{
    MYSQL       *m = conn;
    const char  *s;
    char        *sql, *p;
    size_t       cap, len;
    int          i, rc = 0;

    /* room for every value escaped (2n + 1) and quoted, or a number */
    cap = 1024;
    for (i = 1; i < ORDERS_NCOLS; i++) {
        s = orders_cols[i].type == ORDERS_COL_INT ? NULL
                                                  : *orders_col_str(o, i);
        cap += s ? 2 * strlen(s) + 4 : 24;
    }
    sql = malloc(cap);
    if (sql == NULL) {
        snprintf(err, errlen, "out of memory");
        return ORDERS_DB_ERR;
    }
    p = sql + sprintf(sql, "INSERT INTO homestay_order (%s) VALUES (",
                      orders_col_list() + strlen("id,"));
    for (i = 1; i < ORDERS_NCOLS; i++) {
        if (i > 1) {
            *p++ = ',';
        }
        if (orders_cols[i].type == ORDERS_COL_INT) {
            p += sprintf(p, "%lld", (long long) *orders_col_int(o, i));
            continue;
        }
        s = *orders_col_str(o, i);
        s = s ? s : "";
        len = strlen(s);
        *p++ = '\'';
        p += mysql_real_escape_string(m, p, s, (unsigned long) len);
        *p++ = '\'';
    }
    *p++ = ')';
    if (mysql_real_query(m, sql, (unsigned long) (p - sql)) != 0) {
        rc = orders_mysql_error(m, "insert", err, errlen);
    } else {
        o->id = (int64_t) mysql_insert_id(m);
    }
    free(sql);
    return rc;
}


const orders_backend_t  orders_mysql_backend = {
    "mysql",
    orders_mysql_global_init,
    orders_mysql_connect,
    orders_mysql_close,
    orders_mysql_schema,
    orders_mysql_find,
    orders_mysql_update_state,
    orders_mysql_insert,
};
