/*
 * orders_store.h: the order store's insides, shared by the orders module
 * and looklook-cli (which compiles these sources in; nothing here calls
 * the core's ll_* API, so the CLI links without the core).
 */
#ifndef ORDERS_STORE_H_INCLUDED
#define ORDERS_STORE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "lo_orders.h"

/* The store's settings (the module's conf struct, filled by the core). */
typedef struct {
    char           *db;             /* sqlite:PATH | mysql://u:p@h:port/db */
    char           *cache_redis;    /* redis://..., or NULL/"" for no cache */
    int64_t         pool_size;      /* most connections open at once */
    char           *time_zone;      /* "+08:00": zone of the datetimes */
    int64_t         busy_timeout;   /* ms: SQLite lock wait, MySQL I/O */
    int64_t         max_conflicts;  /* version conflicts before giving up */
} orders_conf_t;

/* ---- the database URL ------------------------------------------------ */

typedef enum { ORDERS_SQLITE = 1, ORDERS_MYSQL } orders_kind_e;

typedef struct {
    int             kind;           /* orders_kind_e */
    char           *path;           /* sqlite file */
    char           *host;           /* mysql */
    int             port;
    char           *user;
    char           *password;
    char           *dbname;
    char           *socket;         /* ?socket=/path (mysql) */
} orders_dsn_t;

/* Parse a db URL into d (strings malloc'ed; orders_dsn_free).  0, or -1
 * with a reason in err.  @locality any thread */
int orders_dsn_parse(orders_dsn_t *d, const char *url, char *err,
    size_t errlen);
void orders_dsn_free(orders_dsn_t *d);

/* ---- the 31 columns -------------------------------------------------- */

typedef enum {
    ORDERS_COL_INT = 1,     /* int64_t */
    ORDERS_COL_TEXT,        /* char * */
    ORDERS_COL_TIME,        /* char *, "YYYY-MM-DD hh:mm:ss" */
    ORDERS_COL_DATE         /* char *, "YYYY-MM-DD" */
} orders_col_type_e;

typedef struct {
    const char     *name;           /* SQL column */
    const char     *go;             /* Go field of model.HomestayOrder */
    int             type;           /* orders_col_type_e */
    size_t          offset;         /* in lo_order_t */
    size_t          max;            /* TEXT: most characters it holds */
} orders_col_t;

#define ORDERS_NCOLS  31

extern const orders_col_t  orders_cols[ORDERS_NCOLS];

/* "id,create_time,...,homestay_total_price", built once.  @locality any */
const char *orders_col_list(void);

/* Set column i of o from text (NULL = SQL NULL: 0 or "").  0, or -1 when
 * out of memory.  @locality any thread */
int orders_col_set(lo_order_t *o, int i, const char *val, size_t len);

/* The address of column i's int64_t or char * in o. */
#define orders_col_int(o, i)  ((int64_t *) ((char *) (o) + orders_cols[i].offset))
#define orders_col_str(o, i)  ((char **) ((char *) (o) + orders_cols[i].offset))

/* ---- backends -------------------------------------------------------- */

#define ORDERS_DB_ERR     -1    /* failed; the connection is still fine */
#define ORDERS_DB_BROKEN  -2    /* failed; drop the connection */

typedef struct {
    const char     *name;

    /* Once per process, on the main thread, before any connect. */
    void  (*global_init)(void);

    /* Open a connection; NULL with err set, and *down = 1 when the server
     * could not be reached at all.  tz: "+08:00". */
    void *(*connect)(const orders_dsn_t *d, const char *tz,
                     int64_t timeout_ms, int *down, char *err, size_t errlen);
    void  (*close)(void *c);

    /* Create homestay_order when missing, check its columns. 0 or < 0. */
    int   (*schema)(void *c, char *err, size_t errlen);

    /* The live row with sn: 1 found, 0 not found, < 0 error. */
    int   (*find)(void *c, const char *sn, lo_order_t *o, char *err,
                  size_t errlen);

    /* trade_state = to, version + 1, update_time = now WHERE id AND
     * version match o's: 1 updated, 0 lost the race, < 0 error. */
    int   (*update_state)(void *c, const lo_order_t *o, int to,
                          const char *now, char *err, size_t errlen);

    /* Insert every column but id; sets o->id.  0 or < 0. */
    int   (*insert)(void *c, lo_order_t *o, char *err, size_t errlen);
} orders_backend_t;

extern const orders_backend_t  orders_sqlite_backend;
extern const orders_backend_t  orders_mysql_backend;

/* ---- the store ------------------------------------------------------- */

/*
 * Check conf and build a store; opens nothing (safe for looklook -t).
 * conf must outlive the store.  0, or -1 with a reason in err.
 * @locality main thread
 */
int orders_store_new(lo_orders_t **sp, const orders_conf_t *conf, char *err,
    size_t errlen);

/* Open the first connection and create/check the table.  0 or -1 with err;
 * *down is set to 1 when the failure is "server unreachable" (the store
 * still works and connects when the server is back).  @locality main */
int orders_store_open(lo_orders_t *s, int *down, char *err, size_t errlen);

/* A connection works and the table is there (a probe while the database
 * is thought down): orders_store_open without the one-time set-up.
 * 0, or -1 with err.  @locality any thread, after orders_store_open */
int orders_store_check(lo_orders_t *s, int *down, char *err, size_t errlen);

/* A pointer of the store's user (the orders module's instance), so the
 * functions it wraps around the store's find their own state.
 * @locality set on the main thread before start, read by any */
void  orders_store_set_user(lo_orders_t *s, void *user);
void *orders_store_user(const lo_orders_t *s);

/* Whether the cache Redis (cache_redis) answers, trying with back-off
 * until until_ms (Unix ms); 0 also without one, or -1 with err.
 * @locality any thread (blocks) */
int orders_store_cache_check(lo_orders_t *s, int64_t until_ms, char *err,
    size_t errlen);

/* Close every connection and free the store; NULL-safe.  No call may be
 * running.  @locality main thread */
void orders_store_free(lo_orders_t *s);

/* "sqlite:data/orders.db" or "mysql://user@host:port/db" (no password),
 * for log lines.  @locality any thread */
const char *orders_store_text(const lo_orders_t *s);

/* The zone as "+08:00".  @locality any thread */
const char *orders_store_tz(const lo_orders_t *s);

/* Fill svc with the store's functions (lo_orders.h).  @locality any */
void orders_svc_init(lo_orders_svc_t *svc, lo_orders_t *s);

/* The service calls, also callable directly (looklook-cli). */
int orders_find(lo_orders_t *s, const char *sn, lo_order_t *out, char *err,
    size_t errlen);
int orders_change_state(lo_orders_t *s, const char *sn, int to,
    lo_order_t *out, char *err, size_t errlen);
int orders_create(lo_orders_t *s, lo_order_t *o, char *err, size_t errlen);
char *orders_notify_json(lo_orders_t *s, const lo_order_t *o);
void orders_order_free(lo_order_t *o);
const char *orders_state_name(int state);

/* Whether trade state `to` may follow `from`; NULL if so, else the reason.
 * @locality any thread */
const char *orders_transition_refused(int from, int to);

/*
 * Prices as order-rpc computes them from homestay_price, food_price,
 * live_people_num, need_food and the live dates: homestay_total_price =
 * price * days, food_total_price = food_price * people * days when food is
 * needed, order_total_price = the sum.  -1 if the dates are malformed or
 * the end is not after the start.  @locality any thread
 */
int orders_price(lo_order_t *o);

/* Local time (offset tz_min minutes east of UTC) of Unix time t, as
 * "YYYY-MM-DD hh:mm:ss" into buf[20].  @locality any thread */
void orders_time_text(char *buf, int64_t t, int tz_min);

#endif /* ORDERS_STORE_H_INCLUDED */
