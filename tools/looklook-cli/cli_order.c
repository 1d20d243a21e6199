/*
 * looklook-cli order create | show | state, and pay: act out the rest of a
 * looklook deployment around looklook.
 *
 *   order create   inserts WaitPay orders as order-rpc CreateHomestayOrder
 *                  does and enqueues each one's defer:homestay_order:close
 *   pay SN...      publishes {"payStatus":N,"orderSn":"SN"} to
 *                  payment-update-paystatus-topic as payment-rpc does
 *   order show     prints orders; order state SN STATE changes one as
 *                  order-rpc UpdateHomestayOrderTradeState does
 *
 * The order store is modules/orders (compiled in), the enqueue is
 * modules/redisq/rq_client.c, the producer librdkafka.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>

#include "cli.h"
#include "lt_clock.h"
#include "lt_duration.h"
#include "orders_store.h"
#include "rq_client.h"

#define CLI_CLOSE_TYPE   "defer:homestay_order:close"
#define CLI_PAY_TOPIC    "payment-update-paystatus-topic"
#define CLI_ENQ_BATCH    512

/* in cli_queue.c */
int cli_redisq_open(cli_ctx_t *ctx, rq_redis_conf_t *rc, rq_redis_t *r);
int cli_print_json(cJSON *j);

static const char  cli_order_usage[] =
    "usage: order create [--count N] [--user N] [--homestay N] [--title T]\n"
    "            [--price FEN] [--food] [--food-price FEN] [--people N]\n"
    "            [--start YYYY-MM-DD] [--days N] [--remark T]\n"
    "            [--close-in D | --no-close] [--queue Q] [--db URL]\n"
    "       order show SN... | -         (- : SNs from stdin)\n"
    "       order state SN STATE        (Cancel|WaitPay|WaitUse|Used|Refund|"
    "Expire or -1..4)\n"
    "       order pay SN... | -  [--status N] [-b BROKERS] [--topic T]\n"
    "D is a duration (30m, 90s, 1h); --close-in defaults to 30m as "
    "order-rpc.\nThe database is --db, else the orders module's db in -c "
    "looklook.conf,\nelse sqlite:data/orders.db.\n";

/* the store's settings, from the -c config where it has them */
typedef struct {
    orders_conf_t   conf;
    char           *db;
    lo_orders_t    *store;
} cli_store_t;


static int
cli_usage(void)
{
    fputs(cli_order_usage, stderr);
    return 2;
}



/* A decimal option value; exits with usage on garbage. */
static int
cli_int(const char *opt, const char *s, int64_t *v)
{
    char  *end;

    errno = 0;
    *v = strtoll(s ? s : "", &end, 10);
    if (s == NULL || *s == '\0' || *end != '\0' || errno != 0) {
        cli_error("%s: expected a number, got \"%s\"", opt, s ? s : "");
        return -1;
    }
    return 0;
}


/*
 * Open the order store named by --db or the config, as looklook would:
 * a relative sqlite path is relative to the config's folder (looklook's
 * working folder).  Returns 0 or 1 after printing why.
 */
static int
cli_store_open(cli_ctx_t *ctx, cli_store_t *cs, const char *db)
{
    const char  *v;
    char        *copy, err[512];
    int          down;
    int64_t      n;

    memset(cs, 0, sizeof(*cs));
    cs->conf.pool_size = 4;
    cs->conf.busy_timeout = 5000;
    cs->conf.max_conflicts = 16;
    cs->conf.time_zone = "+08:00";

    if (db == NULL) {
        db = cli_conf_get(ctx, "orders", "db");
    }
    if (db == NULL) {
        db = "sqlite:data/orders.db";
    }
    if (strncmp(db, "sqlite:", 7) == 0 && db[7] != '/' && ctx->conf_path
        && strncmp(db + 7, "//", 2) != 0)
    {
        copy = strdup(ctx->conf_path);
        if (copy == NULL
            || asprintf(&cs->db, "sqlite:%s/%s", dirname(copy), db + 7) < 0)
        {
            free(copy);
            return cli_error("out of memory");
        }
        free(copy);
    } else if ((cs->db = strdup(db)) == NULL) {
        return cli_error("out of memory");
    }
    cs->conf.db = cs->db;
    cs->conf.cache_redis = (char *) cli_conf_get(ctx, "orders", "cache_redis");
    if ((v = cli_conf_get(ctx, "orders", "time_zone")) != NULL) {
        cs->conf.time_zone = (char *) v;
    }
    if ((v = cli_conf_get(ctx, "orders", "max_conflicts")) != NULL
        && cli_int("max_conflicts", v, &n) == 0)
    {
        cs->conf.max_conflicts = n;
    }

    if (orders_store_new(&cs->store, &cs->conf, err, sizeof(err)) != 0
        || orders_store_open(cs->store, &down, err, sizeof(err)) != 0)
    {
        cli_error("%s: %s", cs->db, err);
        orders_store_free(cs->store);
        free(cs->db);
        return 1;
    }
    return 0;
}


static void
cli_store_close(cli_store_t *cs)
{
    orders_store_free(cs->store);
    free(cs->db);
}


typedef struct {
    int64_t         count;
    lo_order_t      proto;          /* the fields every order gets */
    int64_t         days;
    int64_t         close_in_ms;
    int             no_close;
    const char     *queue;
    const char     *db;
    char            start[16];      /* default check-in day: tomorrow */
} cli_create_opts_t;


static int
cli_create_args(int argc, char **argv, cli_create_opts_t *o)
{
    const char  *v;
    time_t       t;
    struct tm    tm;
    int          i;

    memset(o, 0, sizeof(*o));
    o->count = 1;
    o->days = 1;
    o->close_in_ms = 30 * 60000;
    o->proto.user_id = 1;
    o->proto.homestay_id = 1;
    o->proto.homestay_price = 29900;
    o->proto.market_homestay_price = 39900;
    o->proto.food_price = 2500;
    o->proto.live_people_num = 1;
    o->proto.people_num = 2;

    for (i = 2; i < argc; i++) {
        v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--food") == 0) {
            o->proto.need_food = 1;
            continue;
        }
        if (strcmp(argv[i], "--no-close") == 0) {
            o->no_close = 1;
            continue;
        }
        if (v == NULL) {
            cli_error("order create: %s needs a value", argv[i]);
            return -1;
        }
        i++;
        if (strcmp(argv[i - 1], "--count") == 0) {
            if (cli_int("--count", v, &o->count) != 0 || o->count < 1) {
                return -1;
            }
        } else if (strcmp(argv[i - 1], "--user") == 0) {
            if (cli_int("--user", v, &o->proto.user_id) != 0) return -1;
        } else if (strcmp(argv[i - 1], "--homestay") == 0) {
            if (cli_int("--homestay", v, &o->proto.homestay_id) != 0) return -1;
        } else if (strcmp(argv[i - 1], "--price") == 0) {
            if (cli_int("--price", v, &o->proto.homestay_price) != 0) return -1;
        } else if (strcmp(argv[i - 1], "--food-price") == 0) {
            if (cli_int("--food-price", v, &o->proto.food_price) != 0) return -1;
        } else if (strcmp(argv[i - 1], "--people") == 0) {
            if (cli_int("--people", v, &o->proto.live_people_num) != 0) {
                return -1;
            }
        } else if (strcmp(argv[i - 1], "--days") == 0) {
            if (cli_int("--days", v, &o->days) != 0 || o->days < 1) {
                return -1;
            }
        } else if (strcmp(argv[i - 1], "--title") == 0) {
            o->proto.title = (char *) v;
        } else if (strcmp(argv[i - 1], "--remark") == 0) {
            o->proto.remark = (char *) v;
        } else if (strcmp(argv[i - 1], "--start") == 0) {
            o->proto.live_start_date = (char *) v;
        } else if (strcmp(argv[i - 1], "--close-in") == 0) {
            if (lt_duration_parse(v, LT_DUR_LOOKLOOK, &o->close_in_ms) != 0) {
                cli_error("--close-in: bad duration \"%s\"", v);
                return -1;
            }
        } else if (strcmp(argv[i - 1], "--queue") == 0) {
            o->queue = v;
        } else if (strcmp(argv[i - 1], "--db") == 0) {
            o->db = v;
        } else {
            cli_error("order create: unknown option %s", argv[i - 1]);
            return -1;
        }
    }
    if (o->proto.title == NULL) {
        o->proto.title = "Homestay by the lake";
    }
    if (o->proto.live_start_date == NULL) {
        t = time(NULL) + 86400;
        gmtime_r(&t, &tm);
        strftime(o->start, sizeof(o->start), "%Y-%m-%d", &tm);
        o->proto.live_start_date = o->start;
    }
    return 0;
}


/* A fresh copy of the prototype's strings in o (order_free frees them). */
static int
cli_order_from(lo_order_t *o, const cli_create_opts_t *c)
{
    struct tm  tm;
    time_t     t;
    char       day[16];

    *o = c->proto;
    o->title = strdup(c->proto.title);
    o->remark = c->proto.remark ? strdup(c->proto.remark) : NULL;
    o->live_start_date = strdup(c->proto.live_start_date);
    memset(&tm, 0, sizeof(tm));
    if (strptime(c->proto.live_start_date, "%Y-%m-%d", &tm) == NULL) {
        return cli_error("--start: expected YYYY-MM-DD");
    }
    t = timegm(&tm) + c->days * 86400;
    gmtime_r(&t, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    o->live_end_date = strdup(day);
    if (o->title == NULL || o->live_start_date == NULL
        || o->live_end_date == NULL)
    {
        return cli_error("out of memory");
    }
    if (orders_price(o) != 0) {
        return cli_error("bad live dates");
    }
    return 0;
}


/* Enqueue the close tasks of msgs[0..n) in one pipeline; returns failures. */
static int64_t
cli_enqueue_closes(rq_redis_t *r, ll_msg_t *msgs, char (*payloads)[48],
    size_t n)
{
    rq_enq_out_t  *out;
    size_t         i, stored;
    int64_t        bad = 0;

    out = calloc(n, sizeof(*out));
    if (out == NULL) {
        cli_error("out of memory");
        return (int64_t) n;
    }
    stored = rq_enqueue_many(r, msgs, n, out);
    if (stored != n) {
        for (i = 0; i < n; i++) {
            if (out[i].rc != RQ_OK) {
                cli_error("close task of %.25s: %s", payloads[i] + 7,
                          out[i].error);
                bad++;
            }
        }
    }
    free(out);
    return bad;
}


static int
cli_order_create(cli_ctx_t *ctx, int argc, char **argv)
{
    cli_create_opts_t   c;
    cli_store_t         cs;
    rq_redis_conf_t     rc;
    rq_redis_t          r;
    lo_order_t          o;
    ll_msg_t           *msgs = NULL;
    rq_opts_t           ro;
    char              (*payloads)[48] = NULL, err[512];
    cJSON              *arr = NULL, *j;
    int64_t             i, bad = 0, due;
    size_t              n = 0;
    int                 status = 0;

    if (cli_create_args(argc, argv, &c) != 0) {
        return cli_usage();
    }
    if (cli_store_open(ctx, &cs, c.db) != 0) {
        return 1;
    }
    if (!c.no_close) {
        if (cli_redisq_open(ctx, &rc, &r) != 0) {
            cli_store_close(&cs);
            return 1;
        }
        msgs = calloc(CLI_ENQ_BATCH, sizeof(*msgs));
        payloads = calloc(CLI_ENQ_BATCH, sizeof(*payloads));
        if (msgs == NULL || payloads == NULL) {
            status = cli_error("out of memory");
            goto done;
        }
    }
    arr = ctx->json ? cJSON_CreateArray() : NULL;

    for (i = 0; i < c.count; i++) {
        if (cli_order_from(&o, &c) != 0) {
            orders_order_free(&o);
            status = 1;
            break;
        }
        if (orders_create(cs.store, &o, err, sizeof(err)) != LO_ORDERS_OK) {
            status = cli_error("create order: %s", err);
            orders_order_free(&o);
            break;
        }
        if (arr != NULL) {
            j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "sn", o.sn);
            cJSON_AddNumberToObject(j, "id", (double) o.id);
            cJSON_AddNumberToObject(j, "order_total_price",
                                    (double) o.order_total_price);
            cJSON_AddStringToObject(j, "trade_code", o.trade_code);
            cJSON_AddItemToArray(arr, j);
        } else {
            puts(o.sn);
        }

        if (!c.no_close) {
            /* as order-rpc: asynq.ProcessIn(30m), everything else default */
            due = lt_now_ms() + c.close_in_ms;
            snprintf(payloads[n], sizeof(payloads[n]), "{\"Sn\":\"%s\"}", o.sn);
            ll_msg_init(&msgs[n]);
            msgs[n].type = CLI_CLOSE_TYPE;
            rq_msg_opts(&msgs[n], &ro, c.queue, 0, 0);
            msgs[n].payload = payloads[n];
            msgs[n].payload_len = strlen(payloads[n]);
            msgs[n].process_at_ms = due;
            if (++n == CLI_ENQ_BATCH) {
                bad += cli_enqueue_closes(&r, msgs, payloads, n);
                n = 0;
            }
        }
        orders_order_free(&o);
    }
    if (n > 0) {
        bad += cli_enqueue_closes(&r, msgs, payloads, n);
    }
    if (bad > 0) {
        status = cli_error("%lld close task(s) not enqueued", (long long) bad);
    }
    if (arr != NULL) {
        cli_print_json(arr);
    }

done:
    if (!c.no_close) {
        rq_redis_close(&r);
        rq_redis_conf_free(&rc);
    }
    free(msgs);
    free(payloads);
    cli_store_close(&cs);
    return status;
}


/* Free what cli_sns returned.  NULL-safe. */
static void
cli_sns_free(char **sns)
{
    size_t  i;

    for (i = 0; sns != NULL && sns[i] != NULL; i++) {
        free(sns[i]);
    }
    free(sns);
}


/*
 * The SNs of argv[from..] that are not options (an option and its value
 * are skipped when it is listed in with_value), and stdin's lines for "-".
 * Returns a NULL-terminated array of copies (cli_sns_free), NULL when out
 * of memory.
 */
static char **
cli_sns(int argc, char **argv, int from, const char *const *with_value,
    size_t *n)
{
    char       **sns, **grown, *line = NULL;
    size_t       cap = 64, len = 0, lcap = 0;
    ssize_t      got;
    int          i, k, skip;

    sns = malloc(cap * sizeof(char *));
    if (sns == NULL) {
        return NULL;
    }
    sns[0] = NULL;
    for (i = from; i < argc; i++) {
        skip = 0;
        for (k = 0; with_value[k] != NULL; k++) {
            if (strcmp(argv[i], with_value[k]) == 0) {
                skip = 1;
            }
        }
        if (skip) {
            i++;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            continue;           /* a flag the caller reads itself */
        }
        for (;;) {
            if (strcmp(argv[i], "-") == 0) {
                got = getline(&line, &lcap, stdin);
                if (got < 0) {
                    break;
                }
                while (got > 0 && (line[got - 1] == '\n'
                                   || line[got - 1] == '\r'))
                {
                    line[--got] = '\0';
                }
                if (got == 0) {
                    continue;
                }
            }
            if (len + 2 > cap) {
                cap *= 2;
                grown = realloc(sns, cap * sizeof(char *));
                if (grown == NULL) {
                    goto nomem;
                }
                sns = grown;
            }
            sns[len] = strdup(strcmp(argv[i], "-") != 0 ? argv[i] : line);
            if (sns[len] == NULL) {
                goto nomem;
            }
            sns[++len] = NULL;
            if (strcmp(argv[i], "-") != 0) {
                break;
            }
        }
    }
    free(line);
    sns[len] = NULL;
    *n = len;
    return sns;

nomem:
    free(line);
    cli_sns_free(sns);
    return NULL;
}


/* The value after option `name` in argv, or NULL. */
static const char *
cli_opt(int argc, char **argv, const char *name)
{
    int  i;

    for (i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return argv[i + 1];
        }
    }
    return NULL;
}


static int
cli_order_show(cli_ctx_t *ctx, int argc, char **argv)
{
    static const char *const  with_value[] = { "--db", NULL };
    cli_store_t   cs;
    lo_order_t    o;
    char        **sns, err[512];
    cJSON        *arr = NULL, *j;
    size_t        n, i;
    int           rc, status = 0;

    sns = cli_sns(argc, argv, 2, with_value, &n);
    if (sns == NULL) {
        return cli_error("out of memory");
    }
    if (n == 0) {
        cli_sns_free(sns);
        return cli_usage();
    }
    if (cli_store_open(ctx, &cs, cli_opt(argc, argv, "--db")) != 0) {
        cli_sns_free(sns);
        return 1;
    }
    if (ctx->json) {
        arr = cJSON_CreateArray();
    } else {
        printf("%-25s  %-8s  %7s  %10s  %-10s  %-19s\n", "SN", "STATE",
               "VERSION", "TOTAL", "CHECK-IN", "UPDATED");
    }
    for (i = 0; i < n; i++) {
        rc = orders_find(cs.store, sns[i], &o, err, sizeof(err));
        if (rc != LO_ORDERS_OK) {
            status = cli_error("%s", err);
        } else if (arr != NULL) {
            j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "sn", o.sn);
            cJSON_AddNumberToObject(j, "id", (double) o.id);
            cJSON_AddNumberToObject(j, "trade_state", (double) o.trade_state);
            cJSON_AddStringToObject(j, "state",
                                    orders_state_name((int) o.trade_state));
            cJSON_AddNumberToObject(j, "version", (double) o.version);
            cJSON_AddNumberToObject(j, "order_total_price",
                                    (double) o.order_total_price);
            cJSON_AddStringToObject(j, "update_time", o.update_time);
            cJSON_AddItemToArray(arr, j);
        } else {
            printf("%-25s  %-8s  %7lld  %7lld.%02lld  %-10s  %-19s\n", o.sn,
                   orders_state_name((int) o.trade_state),
                   (long long) o.version,
                   (long long) (o.order_total_price / 100),
                   (long long) (o.order_total_price % 100),
                   o.live_start_date, o.update_time);
        }
        orders_order_free(&o);
    }
    if (arr != NULL) {
        cli_print_json(arr);
    }
    cli_sns_free(sns);
    cli_store_close(&cs);
    return status;
}


static int
cli_order_state(cli_ctx_t *ctx, int argc, char **argv)
{
    static const char *const  names[] = { "Cancel", "WaitPay", "WaitUse",
                                          "Used", "Refund", "Expire" };
    cli_store_t   cs;
    int64_t       to = -99;
    char          err[512];
    size_t        k;
    int           rc;

    if (argc < 4) {
        return cli_usage();
    }
    for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        if (strcasecmp(argv[3], names[k]) == 0) {
            to = (int64_t) k - 1;
        }
    }
    if (to == -99 && (cli_int("STATE", argv[3], &to) != 0 || to < -1
                      || to > 4))
    {
        return cli_usage();
    }
    if (cli_store_open(ctx, &cs, cli_opt(argc, argv, "--db")) != 0) {
        return 1;
    }
    rc = orders_change_state(cs.store, argv[2], (int) to, NULL, err,
                             sizeof(err));
    cli_store_close(&cs);
    switch (rc) {
    case LO_ORDERS_OK:
        printf("%s: %s\n", argv[2], orders_state_name((int) to));
        return 0;
    case LO_ORDERS_SAME:
        printf("%s: already %s\n", argv[2], orders_state_name((int) to));
        return 0;
    default:
        return cli_error("%s", err);
    }
}


/* ---- pay: payment-rpc's Kafka message -------------------------------- */

typedef struct {
    int64_t     delivered;
    int64_t     failed;
} cli_pay_stats_t;


/* @locality the thread calling rd_kafka_poll / rd_kafka_flush */
static void
cli_pay_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    cli_pay_stats_t  *st = opaque;

    (void) rk;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (st->failed++ < 5) {
            cli_error("publish %.*s: %s", (int) m->len, (const char *) m->payload,
                      rd_kafka_err2str(m->err));
        }
    } else {
        st->delivered++;
    }
}


int
cli_pay(cli_ctx_t *ctx, int argc, char **argv)
{
    static const char *const  with_value[] = { "--status", "-b", "--brokers",
                                               "--topic", NULL };
    cli_pay_stats_t      st = { 0, 0 };
    rd_kafka_conf_t     *kc;
    rd_kafka_t          *rk;
    rd_kafka_resp_err_t  e;
    const char          *brokers, *topic, *v;
    char               **sns, val[160], key[32], err[512];
    int64_t              status = 1;
    size_t               n, i;

    if ((v = cli_opt(argc, argv, "--status")) != NULL
        && cli_int("--status", v, &status) != 0)
    {
        return cli_usage();
    }
    brokers = cli_opt(argc, argv, "-b");
    if (brokers == NULL) {
        brokers = cli_opt(argc, argv, "--brokers");
    }
    if (brokers == NULL) {
        brokers = cli_conf_get(ctx, "kafka", "brokers");
    }
    if (brokers == NULL) {
        brokers = "127.0.0.1:9092";
    }
    topic = cli_opt(argc, argv, "--topic");
    if (topic == NULL) {
        topic = CLI_PAY_TOPIC;
    }
    sns = cli_sns(argc, argv, 1, with_value, &n);
    if (sns == NULL) {
        return cli_error("out of memory");
    }
    if (n == 0) {
        cli_sns_free(sns);
        return cli_usage();
    }

    kc = rd_kafka_conf_new();
    if (rd_kafka_conf_set(kc, "bootstrap.servers", brokers, err, sizeof(err))
            != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(kc, "linger.ms", "5", err, sizeof(err))
            != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(kc, "message.timeout.ms", "15000", err,
                             sizeof(err)) != RD_KAFKA_CONF_OK)
    {
        rd_kafka_conf_destroy(kc);
        cli_sns_free(sns);
        return cli_error("kafka: %s", err);
    }
    rd_kafka_conf_set_dr_msg_cb(kc, cli_pay_dr);
    rd_kafka_conf_set_opaque(kc, &st);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err));
    if (rk == NULL) {
        cli_sns_free(sns);
        return cli_error("kafka: %s", err);
    }

    for (i = 0; i < n; i++) {
        /* payment-rpc's bytes: struct order, Go's encoding/json, and
         * go-queue's key, the decimal time.Now().UnixNano() */
        snprintf(val, sizeof(val), "{\"payStatus\":%lld,\"orderSn\":\"%s\"}",
                 (long long) status, sns[i]);
        snprintf(key, sizeof(key), "%lld", (long long) lt_now_ns());
        for (;;) {
            e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                    RD_KAFKA_V_VALUE(val, strlen(val)),
                    RD_KAFKA_V_KEY(key, strlen(key)),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                break;
            }
            rd_kafka_poll(rk, 50);
        }
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            cli_error("publish %s: %s", val, rd_kafka_err2str(e));
            st.failed++;
        }
        rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 20000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        cli_error("kafka: %d message(s) not delivered in time",
                  rd_kafka_outq_len(rk));
        st.failed += rd_kafka_outq_len(rk);
    }
    rd_kafka_destroy(rk);
    cli_sns_free(sns);

    if (ctx->json) {
        printf("{\"topic\":\"%s\",\"published\":%lld,\"failed\":%lld}\n",
               topic, (long long) st.delivered, (long long) st.failed);
    } else {
        printf("published %lld payment message(s) to %s (payStatus %lld)\n",
               (long long) st.delivered, topic, (long long) status);
    }
    return st.failed > 0;
}


int
cli_order(cli_ctx_t *ctx, int argc, char **argv)
{
    if (argc < 2) {
        return cli_usage();
    }
    if (strcmp(argv[1], "create") == 0) {
        return cli_order_create(ctx, argc, argv);
    }
    if (strcmp(argv[1], "show") == 0) {
        return cli_order_show(ctx, argc, argv);
    }
    if (strcmp(argv[1], "state") == 0) {
        return cli_order_state(ctx, argc, argv);
    }
    if (strcmp(argv[1], "pay") == 0) {
        return cli_pay(ctx, argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(cli_order_usage, stdout);
        return 0;
    }
    cli_error("order: unknown subcommand \"%s\"", argv[1]);
    return cli_usage();
}
