/*
 * looklook-cli cron ls | history ID [-n N] | run ID
 *
 * ls and history read what asynqmon reads (asynq:schedulers lists and
 * asynq:scheduler_history zsets, asynq-wire.md 1.6); run asks a running
 * cron instance to fire an entry now, through a request list it polls
 * (modules/cron/README.md).  Key names and entry IDs come from
 * modules/cron/cron_asynq.c, the module's own copy.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "asynq.pb-c.h"
#include "cli.h"
#include "cron_asynq.h"
#include "rq_redis.h"

/* cli_queue.c */
int cli_redisq_open(cli_ctx_t *ctx, rq_redis_conf_t *rc, rq_redis_t *r);
int cli_print_json(cJSON *j);

static const char *
cron_time(int64_t t, char *buf, size_t len)
{
    struct tm  tm;
    time_t     tt = (time_t) t;

    if (t == CRON_GO_ZERO_TIME || t == 0) {
        snprintf(buf, len, "-");
        return buf;
    }
    localtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S %z", &tm);
    return buf;
}

/* An entry given by name or by its UUID: the UUID. */
static void
cron_uuid_of(const char *arg, char out[37])
{
    uuid_t  u;

    if (strlen(arg) == 36 && uuid_parse(arg, u) == 0) {
        snprintf(out, 37, "%s", arg);
    } else {
        cron_entry_uuid(arg, out);
    }
}

static int
cron_ls(cli_ctx_t *ctx, rq_redis_t *r)
{
    Asynq__SchedulerEntry  *e;
    redisReply             *keys, *list, *name;
    cJSON                  *arr = NULL, *o, *opts;
    char                    now[24], next[40], prev[40], optbuf[512];
    size_t                  i, j, k, ol;
    int                     rc = 0;

    snprintf(now, sizeof(now), "%lld", (long long) time(NULL));
    keys = rq_redis_cmd(r, "ZRANGEBYSCORE %s %s +inf", CRON_KEY_SCHEDULERS,
                        now);
    if (keys == NULL || keys->type != REDIS_REPLY_ARRAY) {
        rc = cli_error("%s", keys == NULL ? r->err : "bad reply");
        goto done;
    }
    if (ctx->json) {
        arr = cJSON_CreateArray();
    } else {
        printf("%-16s %-36s %-16s %-30s %-25s %-25s %s\n", "ENTRY", "ID",
               "SPEC", "TYPE", "NEXT", "PREV", "OPTIONS");
    }
    for (i = 0; i < keys->elements; i++) {
        list = rq_redis_cmd(r, "LRANGE %s 0 -1", keys->element[i]->str);
        if (list == NULL || list->type != REDIS_REPLY_ARRAY) {
            rc = cli_error("%s", list == NULL ? r->err : "bad reply");
            if (list != NULL) {
                freeReplyObject(list);
            }
            goto done;
        }
        for (j = 0; j < list->elements; j++) {
            e = asynq__scheduler_entry__unpack(NULL, list->element[j]->len,
                    (const uint8_t *) list->element[j]->str);
            if (e == NULL) {
                continue;       /* as the Inspector: skip what won't decode */
            }
            name = rq_redis_cmd(r, "HGET %s %s", CRON_KEY_NAMES, e->id);
            cron_time(e->next_enqueue_time ? e->next_enqueue_time->seconds : 0,
                      next, sizeof(next));
            cron_time(e->prev_enqueue_time ? e->prev_enqueue_time->seconds : 0,
                      prev, sizeof(prev));
            optbuf[0] = '\0';
            for (k = 0, ol = 0; k < e->n_enqueue_options; k++) {
                ol += (size_t) snprintf(optbuf + ol, ol < sizeof(optbuf)
                                        ? sizeof(optbuf) - ol : 0, "%s%s",
                                        k ? ", " : "", e->enqueue_options[k]);
            }
            if (ctx->json) {
                o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "entry",
                    name != NULL && name->type == REDIS_REPLY_STRING
                    ? name->str : "");
                cJSON_AddStringToObject(o, "id", e->id);
                cJSON_AddStringToObject(o, "spec", e->spec);
                cJSON_AddStringToObject(o, "type", e->task_type);
                cJSON_AddNumberToObject(o, "next", e->next_enqueue_time
                    ? (double) e->next_enqueue_time->seconds : 0);
                cJSON_AddNumberToObject(o, "prev", e->prev_enqueue_time
                    && e->prev_enqueue_time->seconds != CRON_GO_ZERO_TIME
                    ? (double) e->prev_enqueue_time->seconds : 0);
                opts = cJSON_AddArrayToObject(o, "options");
                for (k = 0; k < e->n_enqueue_options; k++) {
                    cJSON_AddItemToArray(opts,
                        cJSON_CreateString(e->enqueue_options[k]));
                }
                cJSON_AddStringToObject(o, "scheduler", keys->element[i]->str);
                cJSON_AddItemToArray(arr, o);
            } else {
                printf("%-16s %-36s %-16s %-30s %-25s %-25s %s\n",
                       name != NULL && name->type == REDIS_REPLY_STRING
                       ? name->str : "?", e->id, e->spec, e->task_type, next,
                       prev, optbuf);
            }
            if (name != NULL) {
                freeReplyObject(name);
            }
            asynq__scheduler_entry__free_unpacked(e, NULL);
        }
        freeReplyObject(list);
    }
    if (ctx->json) {
        rc = cli_print_json(arr);
        arr = NULL;
    }

done:
    if (keys != NULL) {
        freeReplyObject(keys);
    }
    cJSON_Delete(arr);
    return rc;
}

static int
cron_history(cli_ctx_t *ctx, rq_redis_t *r, const char *entry, long n)
{
    Asynq__SchedulerEnqueueEvent  *ev;
    redisReply                    *h;
    cJSON                         *arr = NULL, *o;
    char                           uuid[37], when[40];
    size_t                         i;
    int64_t                        t;

    cron_uuid_of(entry, uuid);
    h = rq_redis_cmd(r, "ZREVRANGE %s%s 0 %ld WITHSCORES", CRON_KEY_HISTORY,
                     uuid, n - 1);
    if (h == NULL || h->type != REDIS_REPLY_ARRAY) {
        cli_error("%s", h == NULL ? r->err : "bad reply");
        if (h != NULL) {
            freeReplyObject(h);
        }
        return 1;
    }
    if (ctx->json) {
        arr = cJSON_CreateArray();
    } else {
        printf("%-40s %s\n", "TASK ID", "ENQUEUED AT");
    }
    for (i = 0; i + 1 < h->elements; i += 2) {
        ev = asynq__scheduler_enqueue_event__unpack(NULL, h->element[i]->len,
                 (const uint8_t *) h->element[i]->str);
        if (ev == NULL) {
            continue;
        }
        t = ev->enqueue_time ? ev->enqueue_time->seconds
                             : strtoll(h->element[i + 1]->str, NULL, 10);
        if (ctx->json) {
            o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "task_id", ev->task_id);
            cJSON_AddNumberToObject(o, "enqueued_at", (double) t);
            cJSON_AddItemToArray(arr, o);
        } else {
            printf("%-40s %s\n", ev->task_id, cron_time(t, when, sizeof(when)));
        }
        asynq__scheduler_enqueue_event__free_unpacked(ev, NULL);
    }
    freeReplyObject(h);
    return ctx->json ? cli_print_json(arr) : 0;
}

/* Push a run request and wait up to 5 s for a running instance's answer
 * ("ok <task id>" or "error <why>"). */
static int
cron_run(cli_ctx_t *ctx, rq_redis_t *r, const char *entry)
{
    redisReply  *x;
    cJSON       *o;
    char         reqid[37], req[256];
    uuid_t       u;
    int          rc;

    uuid_generate_random(u);
    uuid_unparse_lower(u, reqid);
    snprintf(req, sizeof(req), "%s %s", entry, reqid);
    x = rq_redis_cmd(r, "RPUSH %s %s", CRON_KEY_RUN, req);
    if (x == NULL || x->type == REDIS_REPLY_ERROR) {
        cli_error("%s", x == NULL ? r->err : x->str);
        if (x != NULL) {
            freeReplyObject(x);
        }
        return 1;
    }
    freeReplyObject(x);
    rq_redis_set_timeout(r, 0);
    x = rq_redis_cmd(r, "BLPOP %s%s 5", CRON_KEY_REPLY, reqid);
    if (x == NULL || x->type != REDIS_REPLY_ARRAY || x->elements != 2) {
        if (x != NULL) {
            freeReplyObject(x);
        }
        /* nobody took it: take it back so it does not fire later */
        x = rq_redis_cmd(r, "LREM %s 1 %s", CRON_KEY_RUN, req);
        if (x != NULL) {
            freeReplyObject(x);
        }
        return cli_error("no running cron instance answered within 5 s");
    }
    rc = strncmp(x->element[1]->str, "ok ", 3) == 0 ? 0 : 1;
    if (ctx->json) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, rc == 0 ? "task_id" : "error",
                                x->element[1]->str + 3 + (rc != 0) * 3);
        cli_print_json(o);
    } else if (rc == 0) {
        printf("%s\n", x->element[1]->str + 3);
    } else {
        cli_error("%s", x->element[1]->str + 6);
    }
    freeReplyObject(x);
    return rc;
}

int
cli_cron(cli_ctx_t *ctx, int argc, char **argv)
{
    rq_redis_conf_t  rc;
    rq_redis_t       r;
    long             n = 20;
    int              i, st;
    const char      *entry = NULL;

    if (argc < 2 || strcmp(argv[1], "-h") == 0) {
        fprintf(argc < 2 ? stderr : stdout, "usage: looklook-cli cron ls\n"
                "       looklook-cli cron history ENTRY [-n N]\n"
                "       looklook-cli cron run ENTRY\n"
                "ENTRY: the entry id from looklook.conf, or its asynq UUID\n");
        return argc < 2 ? 2 : 0;
    }
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            n = strtol(argv[++i], NULL, 10);
        } else if (entry == NULL) {
            entry = argv[i];
        } else {
            return cli_error("cron %s: unexpected \"%s\"", argv[1], argv[i]);
        }
    }
    if (strcmp(argv[1], "ls") != 0 && entry == NULL) {
        return cli_error("cron %s: which entry?", argv[1]), 2;
    }
    if (n < 1) {
        n = 1;
    }
    if (strcmp(argv[1], "ls") != 0 && strcmp(argv[1], "history") != 0
        && strcmp(argv[1], "run") != 0)
    {
        return cli_error("cron: unknown subcommand \"%s\"", argv[1]), 2;
    }
    if (cli_redisq_open(ctx, &rc, &r) != 0) {
        return 1;
    }
    if (strcmp(argv[1], "ls") == 0) {
        st = cron_ls(ctx, &r);
    } else if (strcmp(argv[1], "history") == 0) {
        st = cron_history(ctx, &r, entry, n);
    } else {
        st = cron_run(ctx, &r, entry);
    }
    rq_redis_close(&r);
    rq_redis_conf_free(&rc);
    return st;
}
