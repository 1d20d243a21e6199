/*
 * orders_sqlite: homestay_order in an SQLite file, the embedded default.
 *
 * The same 31 columns as the MySQL table (integers as INTEGER, text, dates
 * and datetimes as TEXT), created on first open.  WAL lets readers run
 * beside the one writer; every connection waits busy_timeout for the
 * write lock, so handler threads of every worker can share the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "orders_store.h"

typedef struct {
    sqlite3        *db;
    int64_t         timeout_ms;
    sqlite3_stmt   *find;
    sqlite3_stmt   *update;
    sqlite3_stmt   *insert;
} orders_sqlite_t;

static const char  orders_sqlite_ddl[] =
    "CREATE TABLE IF NOT EXISTS homestay_order ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " create_time TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " update_time TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " delete_time TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " del_state INTEGER NOT NULL DEFAULT 0,"
    " version INTEGER NOT NULL DEFAULT 0,"
    " sn TEXT NOT NULL DEFAULT '',"
    " user_id INTEGER NOT NULL DEFAULT 0,"
    " homestay_id INTEGER NOT NULL DEFAULT 0,"
    " title TEXT NOT NULL DEFAULT '',"
    " sub_title TEXT NOT NULL DEFAULT '',"
    " cover TEXT NOT NULL DEFAULT '',"
    " info TEXT NOT NULL DEFAULT '',"
    " people_num INTEGER NOT NULL DEFAULT 0,"
    " row_type INTEGER NOT NULL DEFAULT 0,"
    " need_food INTEGER NOT NULL DEFAULT 0,"
    " food_info TEXT NOT NULL DEFAULT '',"
    " food_price INTEGER NOT NULL,"
    " homestay_price INTEGER NOT NULL,"
    " market_homestay_price INTEGER NOT NULL DEFAULT 0,"
    " homestay_business_id INTEGER NOT NULL DEFAULT 0,"
    " homestay_user_id INTEGER NOT NULL DEFAULT 0,"
    " live_start_date TEXT NOT NULL,"
    " live_end_date TEXT NOT NULL,"
    " live_people_num INTEGER NOT NULL DEFAULT 0,"
    " trade_state INTEGER NOT NULL DEFAULT 0,"
    " trade_code TEXT NOT NULL DEFAULT '',"
    " remark TEXT NOT NULL DEFAULT '',"
    " order_total_price INTEGER NOT NULL DEFAULT 0,"
    " food_total_price INTEGER NOT NULL DEFAULT 0,"
    " homestay_total_price INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_sn ON homestay_order (sn);";


/* ORDERS_DB_BROKEN for errors a fresh connection may cure. */
static int
orders_sqlite_error(orders_sqlite_t *c, int rc, const char *what, char *err,
    size_t errlen)
{
    snprintf(err, errlen, "sqlite %s: %s", what,
             c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    switch (rc & 0xff) {
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
    case SQLITE_READONLY:
        return ORDERS_DB_BROKEN;
    default:
        return ORDERS_DB_ERR;
    }
}


/*
 * sqlite3_exec, trying again while the file is locked.  Switching to WAL
 * and creating the table take locks for which SQLite answers SQLITE_BUSY
 * at once, without its busy handler, when another worker is doing the
 * same on a new file; so wait here, up to the busy timeout.
 */
static int
orders_sqlite_exec(orders_sqlite_t *c, const char *sql)
{
    struct timespec  ts = { 0, 10 * 1000000 };
    int64_t          waited;
    int              rc;

    for (waited = 0; /* void */; waited += 10) {
        rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            || waited >= c->timeout_ms)
        {
            return rc;
        }
        nanosleep(&ts, NULL);
    }
}


/* mkdir -p of path's folder, so "data/orders.db" works on a first run. */
static void
orders_sqlite_mkdirs(const char *path)
{
    char   *dir, *p;

    dir = strdup(path);
    if (dir == NULL) {
        return;
    }
    for (p = strchr(dir + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            break;          /* sqlite3_open_v2 then says what is wrong */
        }
        *p = '/';
    }
    free(dir);
}


static void
orders_sqlite_close(void *conn)
{
    orders_sqlite_t  *c = conn;

    if (c == NULL) {
        return;
    }
    sqlite3_finalize(c->find);
    sqlite3_finalize(c->update);
    sqlite3_finalize(c->insert);
    sqlite3_close(c->db);
    free(c);
}


static void *
orders_sqlite_connect(const orders_dsn_t *d, const char *tz,
    int64_t timeout_ms, int *down, char *err, size_t errlen)
{
    orders_sqlite_t  *c;
    int               rc;

    (void) tz;                  /* the store writes every time itself */
    *down = 0;
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "sqlite: out of memory");
        return NULL;
    }
    orders_sqlite_mkdirs(d->path);
    /* SQLite would create it with its built-in mode and the umask: create
     * it here, never group- or world-writable (journal and WAL files take
     * the database file's mode) */
    if (strcmp(d->path, ":memory:") != 0) {
        int  fd = open(d->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                       0640);

        if (fd >= 0) {
            close(fd);
        }
    }
    /* NOMUTEX: a pooled connection is used by one thread at a time */
    rc = sqlite3_open_v2(d->path, &c->db, SQLITE_OPEN_READWRITE
                         | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        orders_sqlite_error(c, rc, d->path, err, errlen);
        orders_sqlite_close(c);
        return NULL;
    }
    c->timeout_ms = timeout_ms;
    sqlite3_busy_timeout(c->db, (int) timeout_ms);
    rc = orders_sqlite_exec(c, "PRAGMA journal_mode=WAL;"
                            "PRAGMA synchronous=FULL;");
    if (rc != SQLITE_OK) {
        orders_sqlite_error(c, rc, d->path, err, errlen);
        orders_sqlite_close(c);
        return NULL;
    }
    return c;
}


/* Prepare the three statements (the table must exist by now). */
static int
orders_sqlite_prepare(orders_sqlite_t *c, char *err, size_t errlen)
{
    char    sql[2048], *p;
    size_t  n;
    int     i, rc;

    if (c->find != NULL) {
        return 0;
    }
    snprintf(sql, sizeof(sql), "SELECT %s FROM homestay_order WHERE sn = ?1"
             " AND del_state = 0 LIMIT 1", orders_col_list());
    rc = sqlite3_prepare_v2(c->db, sql, -1, &c->find, NULL);
    if (rc != SQLITE_OK) {
        return orders_sqlite_error(c, rc, "homestay_order", err, errlen);
    }

    rc = sqlite3_prepare_v2(c->db, "UPDATE homestay_order SET trade_state = ?1,"
                            " version = version + 1, update_time = ?2"
                            " WHERE id = ?3 AND version = ?4", -1, &c->update,
                            NULL);
    if (rc != SQLITE_OK) {
        return orders_sqlite_error(c, rc, "prepare update", err, errlen);
    }

    /* every column but id, bound as ?2 .. ?31 (the column index + 1) */
    n = (size_t) snprintf(sql, sizeof(sql), "INSERT INTO homestay_order (%s)"
                          " VALUES (", orders_col_list() + strlen("id,"));
    p = sql + n;
    for (i = 1; i < ORDERS_NCOLS; i++) {
        p += sprintf(p, "%s?%d", i > 1 ? "," : "", i + 1);
    }
    strcpy(p, ")");
    rc = sqlite3_prepare_v2(c->db, sql, -1, &c->insert, NULL);
    if (rc != SQLITE_OK) {
        return orders_sqlite_error(c, rc, "prepare insert", err, errlen);
    }
    return 0;
}


static int
orders_sqlite_schema(void *conn, char *err, size_t errlen)
{
    orders_sqlite_t  *c = conn;
    int               rc;

    rc = orders_sqlite_exec(c, orders_sqlite_ddl);
    if (rc != SQLITE_OK) {
        return orders_sqlite_error(c, rc, "create homestay_order", err, errlen);
    }
    /* preparing the SELECT of all 31 columns checks they exist */
    return orders_sqlite_prepare(c, err, errlen);
}


static int
orders_sqlite_find(void *conn, const char *sn, lo_order_t *o, char *err,
    size_t errlen)
{
    orders_sqlite_t  *c = conn;
    int               rc, i, found = 0;

    rc = orders_sqlite_prepare(c, err, errlen);
    if (rc != 0) {
        return rc;
    }
    sqlite3_bind_text(c->find, 1, sn, -1, SQLITE_STATIC);
    rc = sqlite3_step(c->find);
    if (rc == SQLITE_ROW) {
        found = 1;
        for (i = 0; i < ORDERS_NCOLS; i++) {
            if (orders_col_set(o, i,
                               (const char *) sqlite3_column_text(c->find, i),
                               (size_t) sqlite3_column_bytes(c->find, i)) != 0)
            {
                snprintf(err, errlen, "out of memory");
                found = ORDERS_DB_ERR;
                break;
            }
        }
    } else if (rc != SQLITE_DONE) {
        found = orders_sqlite_error(c, rc, "select", err, errlen);
    }
    sqlite3_reset(c->find);
    sqlite3_clear_bindings(c->find);
    return found;
}


static int
orders_sqlite_update_state(void *conn, const lo_order_t *o, int to,
    const char *now, char *err, size_t errlen)
{
    orders_sqlite_t  *c = conn;
    int               rc;

    rc = orders_sqlite_prepare(c, err, errlen);
    if (rc != 0) {
        return rc;
    }
    sqlite3_bind_int(c->update, 1, to);
    sqlite3_bind_text(c->update, 2, now, -1, SQLITE_STATIC);
    sqlite3_bind_int64(c->update, 3, o->id);
    sqlite3_bind_int64(c->update, 4, o->version);
    rc = sqlite3_step(c->update);
    if (rc == SQLITE_DONE) {
        rc = sqlite3_changes(c->db) == 1 ? 1 : 0;
    } else {
        rc = orders_sqlite_error(c, rc, "update", err, errlen);
    }
    sqlite3_reset(c->update);
    sqlite3_clear_bindings(c->update);
    return rc;
}


static int
orders_sqlite_insert(void *conn, lo_order_t *o, char *err, size_t errlen)
{
    orders_sqlite_t  *c = conn;
    const char       *s;
    int               rc, i;

    rc = orders_sqlite_prepare(c, err, errlen);
    if (rc != 0) {
        return rc;
    }
    for (i = 1; i < ORDERS_NCOLS; i++) {
        if (orders_cols[i].type == ORDERS_COL_INT) {
            sqlite3_bind_int64(c->insert, i + 1, *orders_col_int(o, i));
        } else {
            s = *orders_col_str(o, i);
            sqlite3_bind_text(c->insert, i + 1, s ? s : "", -1, SQLITE_STATIC);
        }
    }
    rc = sqlite3_step(c->insert);
    if (rc == SQLITE_DONE) {
        o->id = sqlite3_last_insert_rowid(c->db);
        rc = 0;
    } else {
        rc = orders_sqlite_error(c, rc, "insert", err, errlen);
    }
    sqlite3_reset(c->insert);
    sqlite3_clear_bindings(c->insert);
    return rc;
}


const orders_backend_t  orders_sqlite_backend = {
    "sqlite",
    NULL,
    orders_sqlite_connect,
    orders_sqlite_close,
    orders_sqlite_schema,
    orders_sqlite_find,
    orders_sqlite_update_state,
    orders_sqlite_insert,
};
