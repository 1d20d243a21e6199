/*
 * orders_store: the order store behind the "orders" service: a pool of
 * database connections (each with its own Redis connection for go-zero's
 * cache keys), the state machine and the optimistic-lock loop.
 *
 * The pool holds pool_size slots and opens a slot's connection the first
 * time it is used, so it grows to the number of handler threads that use
 * the store at once and no further.  A slot whose connection failed is
 * closed and reconnects on its next use: a database that is down only
 * makes calls answer LO_ORDERS_ERROR (the handlers retry) until it is back.
 * A connection that breaks also retires the other open ones (the server
 * may have restarted: each would otherwise be found dead by a message),
 * and after a failed connect the next waits (50 ms doubling to 2 s; calls
 * meanwhile answer the same error at once), so handler threads retrying
 * many messages do not hammer a server that is down.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "lt_clock.h"
#include "orders_store.h"
#include "rq_redis.h"

#define ORDERS_CACHE_ID  "cache:looklookOrder:homestayOrder:id:"
#define ORDERS_CACHE_SN  "cache:looklookOrder:homestayOrder:sn:"

typedef struct orders_slot_s  orders_slot_t;

struct orders_slot_s {
    void               *db;         /* backend connection, NULL: closed */
    unsigned            epoch;      /* the store's epoch when opened */
    rq_redis_t          redis;      /* cache connection (lazy) */
    orders_slot_t      *next;       /* in the free list */
};

struct lo_orders_s {
    const orders_conf_t    *conf;
    const orders_backend_t *be;
    orders_dsn_t            dsn;
    int                     tz_min;     /* minutes east of UTC */
    char                    tz[16];     /* "+08:00" */
    int                     cache;      /* cache_redis configured */
    rq_redis_conf_t         redis;
    char                    text[256];  /* db URL without the password */

    pthread_mutex_t         lock;
    pthread_cond_t          cond;
    orders_slot_t          *slots;
    orders_slot_t          *free;
    void                   *user;       /* orders_store_set_user */
    unsigned                epoch;      /* + 1 when a connection breaks */
    int64_t                 retry_at;   /* CLOCK_MONOTONIC ms: no connect
                                         * before (after a failed one) */
    int64_t                 backoff;    /* ms, 0 after a connect worked */
    char                    last_err[256];
};


/* "+08:00", "-0530", "Z", "UTC" into minutes east of UTC; -1 if bad. */
static int
orders_tz_parse(const char *s, int *min)
{
    int  h, m, sign;

    if (s == NULL || strcmp(s, "Z") == 0 || strcmp(s, "UTC") == 0) {
        *min = 0;
        return 0;
    }
    if ((s[0] != '+' && s[0] != '-')
        || (sscanf(s + 1, "%2d:%2d", &h, &m) != 2
            && sscanf(s + 1, "%2d%2d", &h, &m) != 2)
        || h > 14 || m > 59)
    {
        return -1;
    }
    sign = s[0] == '-' ? -1 : 1;
    *min = sign * (h * 60 + m);
    return 0;
}


void
orders_time_text(char *buf, int64_t t, int tz_min)
{
    struct tm  tm;
    time_t     lt;

    lt = (time_t) (t + (int64_t) tz_min * 60);
    gmtime_r(&lt, &tm);
    strftime(buf, 20, "%Y-%m-%d %H:%M:%S", &tm);
}


int
orders_store_new(lo_orders_t **sp, const orders_conf_t *conf, char *err,
    size_t errlen)
{
    lo_orders_t  *s;
    int           i, tz;
    char          rtext[128];

    *sp = NULL;
    if (orders_tz_parse(conf->time_zone, &tz) != 0) {
        snprintf(err, errlen, "time_zone \"%s\": expected +HH:MM or -HH:MM",
                 conf->time_zone);
        return -1;
    }
    if (conf->pool_size < 1 || conf->pool_size > 1024) {
        snprintf(err, errlen, "pool_size %lld: expected 1 .. 1024",
                 (long long) conf->pool_size);
        return -1;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->conf = conf;
    s->tz_min = tz;
    snprintf(s->tz, sizeof(s->tz), "%c%02d:%02d", tz < 0 ? '-' : '+',
             abs(tz) / 60, abs(tz) % 60);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);

    if (orders_dsn_parse(&s->dsn, conf->db, err, errlen) != 0) {
        goto fail;
    }
    if (s->dsn.kind == ORDERS_SQLITE) {
        s->be = &orders_sqlite_backend;
        snprintf(s->text, sizeof(s->text), "sqlite:%s", s->dsn.path);
    } else {
        s->be = &orders_mysql_backend;
        snprintf(s->text, sizeof(s->text), "mysql://%s@%s:%d/%s", s->dsn.user,
                 s->dsn.socket ? s->dsn.socket : s->dsn.host, s->dsn.port,
                 s->dsn.dbname);
    }

    if (conf->cache_redis != NULL && conf->cache_redis[0] != '\0') {
        if (rq_redis_conf_parse(&s->redis, conf->cache_redis, err, errlen)
            != 0)
        {
            goto fail;
        }
        s->cache = 1;
        s->redis.cmd_timeout_ms = conf->busy_timeout;
        snprintf(s->text + strlen(s->text), sizeof(s->text) - strlen(s->text),
                 ", cache redis %s",
                 rq_redis_conf_text(&s->redis, rtext, sizeof(rtext)));
    }

    s->slots = calloc((size_t) conf->pool_size, sizeof(orders_slot_t));
    if (s->slots == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (i = (int) conf->pool_size - 1; i >= 0; i--) {
        rq_redis_init(&s->slots[i].redis, &s->redis);
        s->slots[i].next = s->free;
        s->free = &s->slots[i];
    }
    *sp = s;
    return 0;

fail:
    orders_store_free(s);
    return -1;
}


void
orders_store_free(lo_orders_t *s)
{
    int64_t  i;

    if (s == NULL) {
        return;
    }
    for (i = 0; s->slots != NULL && i < s->conf->pool_size; i++) {
        if (s->slots[i].db != NULL) {
            s->be->close(s->slots[i].db);
        }
        rq_redis_close(&s->slots[i].redis);
    }
    free(s->slots);
    if (s->cache) {
        rq_redis_conf_free(&s->redis);
    }
    orders_dsn_free(&s->dsn);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}


const char *
orders_store_text(const lo_orders_t *s)
{
    return s->text;
}


const char *
orders_store_tz(const lo_orders_t *s)
{
    return s->tz;
}


int
orders_store_cache_check(lo_orders_t *s, int64_t until_ms, char *err,
    size_t errlen)
{
    char  why[160];

    if (!s->cache || rq_redis_ping_until(&s->redis, until_ms, why,
                                         sizeof(why)) == 0)
    {
        return 0;
    }
    snprintf(err, errlen, "cache redis unreachable: %s", why);
    return -1;
}


/* A slot with an open connection, or NULL with err set (*down = 1 when
 * the server is unreachable or the back-off holds the connect).  Blocks
 * while all pool_size slots are in use. */
static orders_slot_t *
orders_take(lo_orders_t *s, int *down, char *err, size_t errlen)
{
    orders_slot_t  *sl;
    int             dn = 0, held;

    pthread_mutex_lock(&s->lock);
    while (s->free == NULL) {
        pthread_cond_wait(&s->cond, &s->lock);
    }
    sl = s->free;
    s->free = sl->next;
    if (sl->db != NULL && sl->epoch != s->epoch) {
        s->be->close(sl->db);   /* opened before a connection broke */
        sl->db = NULL;
    }
    held = sl->db == NULL && lt_mono_ms() < s->retry_at;
    if (held) {
        snprintf(err, errlen, "%s", s->last_err);
        dn = 1;
    }
    sl->epoch = s->epoch;
    pthread_mutex_unlock(&s->lock);

    if (sl->db == NULL && !held) {
        sl->db = s->be->connect(&s->dsn, s->tz, s->conf->busy_timeout, &dn,
                                err, errlen);
        pthread_mutex_lock(&s->lock);
        if (sl->db == NULL) {
            s->backoff = rq_redis_backoff_next(s->backoff);
            s->retry_at = lt_mono_ms() + s->backoff;
            snprintf(s->last_err, sizeof(s->last_err), "%s", err);
        } else {
            s->backoff = 0;
            s->retry_at = 0;
        }
        pthread_mutex_unlock(&s->lock);
    }
    if (down != NULL) {
        *down = dn;
    }
    if (sl->db == NULL) {
        pthread_mutex_lock(&s->lock);
        sl->next = s->free;
        s->free = sl;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
        return NULL;
    }
    return sl;
}


/* Give a slot back; rc ORDERS_DB_BROKEN closes its connection and
 * retires the others. */
static void
orders_give(lo_orders_t *s, orders_slot_t *sl, int rc)
{
    if (rc == ORDERS_DB_BROKEN) {
        s->be->close(sl->db);
        sl->db = NULL;
    }
    pthread_mutex_lock(&s->lock);
    if (rc == ORDERS_DB_BROKEN) {
        s->epoch++;
    }
    sl->next = s->free;         /* LIFO: the warm connections get reused */
    s->free = sl;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}


int
orders_store_open(lo_orders_t *s, int *down, char *err, size_t errlen)
{
    if (s->be->global_init != NULL) {
        s->be->global_init();
    }
    return orders_store_check(s, down, err, errlen);
}


int
orders_store_check(lo_orders_t *s, int *down, char *err, size_t errlen)
{
    orders_slot_t  *sl;
    int             rc;

    *down = 0;
    sl = orders_take(s, down, err, errlen);
    if (sl == NULL) {
        return -1;
    }
    rc = s->be->schema(sl->db, err, errlen);
    orders_give(s, sl, rc);
    return rc == 0 ? 0 : -1;
}


/*
 * Delete go-zero's two cache keys of the order, as its CachedConn does
 * after every write, so order-api does not serve the old row for 7 days.
 */
static int
orders_uncache(lo_orders_t *s, orders_slot_t *sl, const lo_order_t *o,
    char *err, size_t errlen)
{
    redisReply  *r;
    char         kid[64], ksn[128];
    int          rc = 0, i, each;

    if (!s->cache) {
        return 0;
    }
    snprintf(kid, sizeof(kid), ORDERS_CACHE_ID "%lld", (long long) o->id);
    snprintf(ksn, sizeof(ksn), ORDERS_CACHE_SN "%s", o->sn);
    /* in a cluster the two keys are in two slots: one DEL each */
    each = sl->redis.conf->mode == RQ_REDIS_CLUSTER;
    for (i = 0; i < (each ? 2 : 1) && rc == 0; i++) {
        r = each ? rq_redis_cmd(&sl->redis, "DEL %s", i ? ksn : kid)
                 : rq_redis_cmd(&sl->redis, "DEL %s %s", kid, ksn);
        if (r == NULL) {
            snprintf(err, errlen, "cache redis: %s", sl->redis.err);
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "cache redis: DEL: %s", r->str);
            rc = -1;
        }
        freeReplyObject(r);
    }
    return rc;
}


void
orders_store_set_user(lo_orders_t *s, void *user)
{
    s->user = user;
}


void *
orders_store_user(const lo_orders_t *s)
{
    return s->user;
}


int
orders_find(lo_orders_t *s, const char *sn, lo_order_t *out, char *err,
    size_t errlen)
{
    orders_slot_t  *sl;
    int             rc;

    memset(out, 0, sizeof(*out));
    sl = orders_take(s, NULL, err, errlen);
    if (sl == NULL) {
        return LO_ORDERS_ERROR;
    }
    rc = s->be->find(sl->db, sn, out, err, errlen);
    orders_give(s, sl, rc);
    if (rc < 0) {
        return LO_ORDERS_ERROR;
    }
    if (rc == 0) {
        snprintf(err, errlen, "order %s does not exist", sn);
        return LO_ORDERS_NOT_FOUND;
    }
    return LO_ORDERS_OK;
}


int
orders_change_state(lo_orders_t *s, const char *sn, int to, lo_order_t *out,
    char *err, size_t errlen)
{
    orders_slot_t  *sl;
    lo_order_t      o;
    const char     *why;
    char            now[20];
    int64_t         conflicts;
    int             rc, res;

    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    if (to < LO_ORDER_CANCEL || to > LO_ORDER_EXPIRE) {
        snprintf(err, errlen, "trade state %d does not exist", to);
        return LO_ORDERS_REFUSED;
    }
    memset(&o, 0, sizeof(o));
    sl = orders_take(s, NULL, err, errlen);
    if (sl == NULL) {
        return LO_ORDERS_ERROR;
    }

    for (conflicts = 0; /* void */; conflicts++) {
        orders_order_free(&o);
        rc = s->be->find(sl->db, sn, &o, err, errlen);
        if (rc < 0) {
            res = LO_ORDERS_ERROR;
            break;
        }
        if (rc == 0) {
            snprintf(err, errlen, "order %s does not exist", sn);
            res = LO_ORDERS_NOT_FOUND;
            break;
        }
        if (o.trade_state == to) {
            /* a redelivery: done, but make sure the cache is clean */
            res = orders_uncache(s, sl, &o, err, errlen) == 0
                  ? LO_ORDERS_SAME : LO_ORDERS_ERROR;
            break;
        }
        why = orders_transition_refused((int) o.trade_state, to);
        if (why != NULL) {
            snprintf(err, errlen, "order %s is %s: %s", sn,
                     orders_state_name((int) o.trade_state), why);
            res = LO_ORDERS_REFUSED;
            break;
        }
        orders_time_text(now, time(NULL), s->tz_min);
        rc = s->be->update_state(sl->db, &o, to, now, err, errlen);
        if (rc < 0) {
            res = LO_ORDERS_ERROR;
            break;
        }
        if (rc == 1) {
            o.trade_state = to;
            o.version++;
            free(o.update_time);
            o.update_time = strdup(now);
            res = orders_uncache(s, sl, &o, err, errlen) == 0
                  ? LO_ORDERS_OK : LO_ORDERS_ERROR;
            break;
        }
        /* someone else wrote the row since we read it: read it again */
        if (conflicts + 1 >= s->conf->max_conflicts) {
            snprintf(err, errlen, "order %s: version changed under %lld "
                     "attempts in a row", sn, (long long) (conflicts + 1));
            res = LO_ORDERS_ERROR;
            break;
        }
    }
    orders_give(s, sl, rc);

    if (out != NULL) {
        *out = o;
    } else {
        orders_order_free(&o);
    }
    return res;
}


/* n random characters of set into buf (NUL-terminated). */
static int
orders_random(char *buf, size_t n, const char *set)
{
    unsigned char  r[32];
    size_t         i, m = strlen(set);

    if (n > sizeof(r) || getrandom(r, n, 0) != (ssize_t) n) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        buf[i] = set[r[i] % m];
    }
    buf[n] = '\0';
    return 0;
}


/* Set *sp to a copy of v when it is NULL or "". */
static int
orders_default(char **sp, const char *v)
{
    if (*sp != NULL && (*sp)[0] != '\0') {
        return 0;
    }
    free(*sp);
    *sp = strdup(v);
    return *sp == NULL ? -1 : 0;
}


/* Characters (UTF-8 code points) in s. */
static size_t
orders_utf8_len(const char *s)
{
    size_t  n = 0;

    for (/* void */; *s; s++) {
        n += ((unsigned char) *s & 0xc0) != 0x80;
    }
    return n;
}


int
orders_create(lo_orders_t *s, lo_order_t *o, char *err, size_t errlen)
{
    orders_slot_t  *sl;
    char            now[20], epoch[20], sn[32], code[9], digits[9];
    int             i, rc;

    orders_time_text(now, time(NULL), s->tz_min);
    orders_time_text(epoch, 0, s->tz_min);   /* order-rpc's zero DeleteTime */

    /* sn = HSO + local time + 8 random digits (pkg/uniqueid/sn.go) */
    memcpy(sn, "HSO", 3);
    for (i = 0, rc = 3; now[i]; i++) {
        if (now[i] >= '0' && now[i] <= '9') {
            sn[rc++] = now[i];
        }
    }
    sn[rc] = '\0';
    if (orders_random(digits, 8, "0123456789") != 0
        || orders_random(code, 8, "0123456789abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 0)
    {
        snprintf(err, errlen, "getrandom failed");
        return LO_ORDERS_ERROR;
    }
    strcat(sn, digits);

    if (orders_default(&o->sn, sn) != 0
        || orders_default(&o->trade_code, code) != 0
        || orders_default(&o->create_time, now) != 0
        || orders_default(&o->update_time, now) != 0
        || orders_default(&o->delete_time, epoch) != 0)
    {
        snprintf(err, errlen, "out of memory");
        return LO_ORDERS_ERROR;
    }

    for (i = 1; i < ORDERS_NCOLS; i++) {
        const char  *v;

        if (orders_cols[i].type == ORDERS_COL_INT) {
            continue;
        }
        v = *orders_col_str(o, i);
        if (orders_cols[i].type == ORDERS_COL_DATE
            && (v == NULL || strlen(v) != 10))
        {
            snprintf(err, errlen, "%s: expected YYYY-MM-DD",
                     orders_cols[i].name);
            return LO_ORDERS_INVALID;
        }
        if (orders_cols[i].max > 0 && v != NULL
            && orders_utf8_len(v) > orders_cols[i].max)
        {
            snprintf(err, errlen, "%s: longer than %zu characters",
                     orders_cols[i].name, orders_cols[i].max);
            return LO_ORDERS_INVALID;
        }
    }

    sl = orders_take(s, NULL, err, errlen);
    if (sl == NULL) {
        return LO_ORDERS_ERROR;
    }
    o->version = 0;
    o->del_state = 0;
    rc = s->be->insert(sl->db, o, err, errlen);
    if (rc == 0) {
        /* go-zero deletes the keys on insert too: a cached "not found" */
        rc = orders_uncache(s, sl, o, err, errlen);
        orders_give(s, sl, 0);
        return rc == 0 ? LO_ORDERS_OK : LO_ORDERS_ERROR;
    }
    orders_give(s, sl, rc);
    return LO_ORDERS_ERROR;
}


void
orders_svc_init(lo_orders_svc_t *svc, lo_orders_t *s)
{
    memset(svc, 0, sizeof(*svc));
    svc->abi = LO_ORDERS_ABI;
    svc->store = s;
    svc->find = orders_find;
    svc->change_state = orders_change_state;
    svc->create = orders_create;
    svc->notify_json = orders_notify_json;
    svc->order_free = orders_order_free;
    svc->state_name = orders_state_name;
}
