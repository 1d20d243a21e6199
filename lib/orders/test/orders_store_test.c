/*
 * orders_store_test: the order store against a real database, TAP output.
 *
 *   orders_store_test DB_URL [REDIS_URL]
 *
 * Run by t/orders-store.t against SQLite and MariaDB.  Covers creation
 * (order-rpc's fields and prices), the state machine, redelivery,
 * close-vs-pay races on the version lock, the notify JSON and, with a
 * Redis URL, the deletion of go-zero's cache keys.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orders_store.h"
#include "rq_redis.h"
#include "unit.h"


static lo_orders_t   *store;
static char           err[512];

#define RACE_ORDERS  40
#define SAME_THREADS 8


/* A WaitPay order as `looklook-cli order create` makes it. */
static int
make_order(lo_order_t *o, const char *title)
{
    memset(o, 0, sizeof(*o));
    o->user_id = 7;
    o->homestay_id = 3;
    o->title = strdup(title);
    o->homestay_price = 30000;
    o->food_price = 2000;
    o->need_food = 1;
    o->live_people_num = 2;
    o->live_start_date = strdup("2026-12-01");
    o->live_end_date = strdup("2026-12-04");
    if (orders_price(o) != 0) {
        return LO_ORDERS_INVALID;
    }
    return orders_create(store, o, err, sizeof(err));
}


typedef struct {
    pthread_barrier_t  *bar;
    const char         *sn;
    int                 to;
    int                 rc;
} racer_t;


static void *
race(void *arg)
{
    racer_t  *r = arg;
    char      e[256];

    pthread_barrier_wait(r->bar);
    r->rc = orders_change_state(store, r->sn, r->to, NULL, e, sizeof(e));
    return NULL;
}


static void
test_create_and_states(void)
{
    lo_order_t  o, f;
    char       *json, want[128];
    int         rc;

    rc = make_order(&o, "Sea view room");
    CHECK(rc == LO_ORDERS_OK, "create: %s", rc == LO_ORDERS_OK ? "ok" : err);
    CHECK(o.id > 0 && o.version == 0, "create: id %lld, version 0",
       (long long) o.id);
    CHECK(o.sn != NULL && strlen(o.sn) == 25 && strncmp(o.sn, "HSO", 3) == 0,
       "sn is HSO + 14 time digits + 8 digits: %s", o.sn);
    CHECK(o.trade_code != NULL && strlen(o.trade_code) == 8,
       "trade_code has 8 characters: %s", o.trade_code);
    CHECK(o.homestay_total_price == 90000 && o.food_total_price == 12000
       && o.order_total_price == 102000, "prices: 3 days, food for 2");

    rc = orders_find(store, o.sn, &f, err, sizeof(err));
    CHECK(rc == LO_ORDERS_OK && f.trade_state == LO_ORDER_WAIT_PAY
       && f.id == o.id && strcmp(f.title, "Sea view room") == 0
       && strcmp(f.live_start_date, "2026-12-01") == 0
       && f.order_total_price == 102000 && strlen(f.create_time) == 19
       && strcmp(f.delete_time, "1970-01-01 08:00:00") == 0,
       "find returns the row as written (%s)", rc ? err : "ok");
    orders_order_free(&f);

    rc = orders_change_state(store, o.sn, LO_ORDER_WAIT_USE, &f, err,
                             sizeof(err));
    CHECK(rc == LO_ORDERS_OK && f.version == 1 && f.trade_state == 1,
       "WaitPay -> WaitUse, version 1");

    json = orders_notify_json(store, &f);
    snprintf(want, sizeof(want), "{\"Order\":{\"Id\":%lld,\"CreateTime\":\"",
             (long long) f.id);
    CHECK(json != NULL && strncmp(json, want, strlen(want)) == 0
       && strstr(json, "+08:00\",\"UpdateTime\"") != NULL
       && strstr(json, "\"TradeState\":1,") != NULL
       && strstr(json, "\"LiveStartDate\":\"2026-12-01T00:00:00+08:00\"")
       && strstr(json, "\"HomestayTotalPrice\":90000}}") != NULL,
       "notify JSON has Go field names and RFC 3339 times");
    free(json);
    orders_order_free(&f);

    rc = orders_change_state(store, o.sn, LO_ORDER_WAIT_USE, NULL, err,
                             sizeof(err));
    CHECK(rc == LO_ORDERS_SAME, "WaitUse again: same (redelivery harmless)");
    rc = orders_change_state(store, o.sn, LO_ORDER_CANCEL, NULL, err,
                             sizeof(err));
    CHECK(rc == LO_ORDERS_REFUSED && strstr(err, "is WaitUse") != NULL,
       "WaitUse -> Cancel refused: %s", err);
    rc = orders_change_state(store, o.sn, LO_ORDER_REFUND, &f, err,
                             sizeof(err));
    CHECK(rc == LO_ORDERS_OK && f.version == 2, "WaitUse -> Refund, version 2");
    orders_order_free(&f);
    rc = orders_change_state(store, o.sn, LO_ORDER_USED, NULL, err,
                             sizeof(err));
    CHECK(rc == LO_ORDERS_REFUSED, "Refund -> Used refused");
    rc = orders_change_state(store, o.sn, LO_ORDER_WAIT_PAY, NULL, err,
                             sizeof(err));
    CHECK(rc == LO_ORDERS_REFUSED, "back to WaitPay refused");

    rc = orders_change_state(store, "HSO20990101000000nothere", 1, NULL, err,
                             sizeof(err));
    CHECK(rc == LO_ORDERS_NOT_FOUND, "unknown sn: %s", err);
    rc = orders_change_state(store, "x' OR '1'='1", 1, NULL, err, sizeof(err));
    CHECK(rc == LO_ORDERS_NOT_FOUND, "quotes in the sn are data, not SQL");
    orders_order_free(&o);

    rc = make_order(&o, "123456789012345678901234567890123");
    CHECK(rc == LO_ORDERS_INVALID, "33-character title refused: %s", err);
    orders_order_free(&o);
    /* 32 characters of 3 bytes each fit varchar(32) of utf8mb4 */
    rc = make_order(&o, "海海海海海海海海海海海海海海海海海海海海海海海海海海海海海海海海");
    CHECK(rc == LO_ORDERS_OK, "32 CJK characters fit: %s",
       rc == LO_ORDERS_OK ? "ok" : err);
    if (rc == LO_ORDERS_OK) {
        rc = orders_find(store, o.sn, &f, err, sizeof(err));
        CHECK(rc == LO_ORDERS_OK && strcmp(f.title, o.title) == 0,
           "UTF-8 title read back unchanged");
        orders_order_free(&f);
    }
    orders_order_free(&o);
}


/* Close and pay racing on the same order: exactly one wins. */
static void
test_races(void)
{
    pthread_barrier_t  bar;
    pthread_t          th[SAME_THREADS];
    racer_t            r[SAME_THREADS];
    lo_order_t         o[RACE_ORDERS], f, d;
    int                i, k, one_winner = 0, consistent = 0, oks, sames;

    for (i = 0; i < RACE_ORDERS; i++) {
        if (make_order(&o[i], "race") != LO_ORDERS_OK) {
            CHECK(0, "create race order: %s", err);
            return;
        }
    }
    pthread_barrier_init(&bar, NULL, 2);
    for (i = 0; i < RACE_ORDERS; i++) {
        r[0] = (racer_t) { &bar, o[i].sn, LO_ORDER_CANCEL, -1 };
        r[1] = (racer_t) { &bar, o[i].sn, LO_ORDER_WAIT_USE, -1 };
        pthread_create(&th[0], NULL, race, &r[0]);
        pthread_create(&th[1], NULL, race, &r[1]);
        pthread_join(th[0], NULL);
        pthread_join(th[1], NULL);
        if ((r[0].rc == LO_ORDERS_OK) + (r[1].rc == LO_ORDERS_OK) == 1
            && (r[0].rc == LO_ORDERS_REFUSED || r[1].rc == LO_ORDERS_REFUSED))
        {
            one_winner++;
        }
        if (orders_find(store, o[i].sn, &f, err, sizeof(err)) == LO_ORDERS_OK
            && f.version == 1
            && f.trade_state == (r[0].rc == LO_ORDERS_OK ? LO_ORDER_CANCEL
                                                         : LO_ORDER_WAIT_USE))
        {
            consistent++;
        }
        orders_order_free(&f);
    }
    pthread_barrier_destroy(&bar);
    CHECK(one_winner == RACE_ORDERS, "close vs pay: one winner, one refused "
       "(%d of %d)", one_winner, RACE_ORDERS);
    CHECK(consistent == RACE_ORDERS, "close vs pay: state is the winner's, "
       "version 1 (%d of %d)", consistent, RACE_ORDERS);

    /* the same payment delivered to many threads at once */
    pthread_barrier_init(&bar, NULL, SAME_THREADS);
    for (i = 0; i < 10; i++) {
        if (make_order(&d, "dup") != LO_ORDERS_OK) {
            CHECK(0, "create dup order: %s", err);
            break;
        }
        for (k = 0; k < SAME_THREADS; k++) {
            r[k] = (racer_t) { &bar, d.sn, LO_ORDER_WAIT_USE, -1 };
            pthread_create(&th[k], NULL, race, &r[k]);
        }
        oks = sames = 0;
        for (k = 0; k < SAME_THREADS; k++) {
            pthread_join(th[k], NULL);
            oks += r[k].rc == LO_ORDERS_OK;
            sames += r[k].rc == LO_ORDERS_SAME;
        }
        orders_find(store, d.sn, &f, err, sizeof(err));
        CHECK(oks == 1 && sames == SAME_THREADS - 1 && f.version == 1
           && f.trade_state == LO_ORDER_WAIT_USE,
           "%d duplicate payments at once: 1 change, %d same, version %lld",
           SAME_THREADS, sames, (long long) f.version);
        orders_order_free(&f);
        orders_order_free(&d);
    }
    pthread_barrier_destroy(&bar);
    for (i = 0; i < RACE_ORDERS; i++) {
        orders_order_free(&o[i]);
    }
}


/* go-zero's keys are deleted after a change, and again on redelivery. */
static void
test_cache(const char *url)
{
    rq_redis_conf_t  rc;
    rq_redis_t       r;
    redisReply      *rep, *rep2;
    lo_order_t       o;
    char             kid[64], ksn[96];
    int              i;

    if (rq_redis_conf_parse(&rc, url, err, sizeof(err)) != 0) {
        CHECK(0, "redis url: %s", err);
        return;
    }
    rq_redis_init(&r, &rc);
    make_order(&o, "cached");
    snprintf(kid, sizeof(kid), "cache:looklookOrder:homestayOrder:id:%lld",
             (long long) o.id);
    snprintf(ksn, sizeof(ksn), "cache:looklookOrder:homestayOrder:sn:%s", o.sn);

    for (i = 0; i < 2; i++) {
        /* one key a command: a cluster URL has them on two nodes */
        rep = rq_redis_cmd(&r, "SET %s {\"Id\":1}", kid);
        freeReplyObject(rep);
        rep = rq_redis_cmd(&r, "SET %s %lld", ksn, (long long) o.id);
        freeReplyObject(rep);
        orders_change_state(store, o.sn, LO_ORDER_WAIT_USE, NULL, err,
                            sizeof(err));
        rep = rq_redis_cmd(&r, "EXISTS %s", kid);
        rep2 = rq_redis_cmd(&r, "EXISTS %s", ksn);
        CHECK(rep != NULL && rep->type == REDIS_REPLY_INTEGER && rep->integer == 0
           && rep2 != NULL && rep2->type == REDIS_REPLY_INTEGER
           && rep2->integer == 0, "%s: both cache keys deleted",
           i == 0 ? "after the change" : "after a redelivery");
        freeReplyObject(rep);
        freeReplyObject(rep2);
    }
    orders_order_free(&o);
    rq_redis_close(&r);
    rq_redis_conf_free(&rc);
}


int
main(int argc, char **argv)
{
    orders_conf_t  conf = {
        .db = argc > 1 ? argv[1] : "sqlite:orders-test.db",
        .cache_redis = argc > 2 ? argv[2] : NULL,
        .pool_size = 16, .time_zone = "+08:00", .busy_timeout = 5000,
        .max_conflicts = 16,
    };
    int            down;

    if (orders_store_new(&store, &conf, err, sizeof(err)) != 0
        || orders_store_open(store, &down, err, sizeof(err)) != 0)
    {
        printf("Bail out! %s\n", err);
        return 1;
    }
    printf("# %s\n", orders_store_text(store));
    test_create_and_states();
    test_races();
    if (conf.cache_redis != NULL) {
        test_cache(conf.cache_redis);
    }
    orders_store_free(store);
    return UNIT_DONE();
}
