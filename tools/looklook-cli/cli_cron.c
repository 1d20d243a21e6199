/*
 * looklook-cli cron ls | history ID [-n N] | run ID
 *
 * ls and history read what asynqmon reads (asynq:schedulers lists and
 * asynq:scheduler_history zsets); run asks a running cron instance to
 * fire an entry now, through a request list it polls
 * (modules/cron/README.md).  The logic is lib/asynq/cron_inspect.c, which
 * the admin module's dashboard runs too.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cron_inspect.h"

/* cli_queue.c */
int cli_redisq_open(cli_ctx_t *ctx, rq_redis_conf_t *rc, rq_redis_t *r);
int cli_print_json(cJSON *j);

static const char *
cron_time(double t, char *buf, size_t len)
{
    struct tm  tm;
    time_t     tt = (time_t) t;

    if (t == 0) {
        snprintf(buf, len, "-");
        return buf;
    }
    localtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S %z", &tm);
    return buf;
}

static int
cron_ls(cli_ctx_t *ctx, rq_redis_t *r)
{
    cJSON        *arr, *e, *o;
    const cJSON  *name;
    char          err[256], next[40], prev[40], optbuf[512];
    size_t        ol;

    arr = cron_inspect_entries(r, err, sizeof(err));
    if (arr == NULL) {
        return cli_error("%s", err);
    }
    if (ctx->json) {
        return cli_print_json(arr);
    }
    printf("%-16s %-36s %-16s %-30s %-25s %-25s %s\n", "ENTRY", "ID",
           "SPEC", "TYPE", "NEXT", "PREV", "OPTIONS");
    cJSON_ArrayForEach(e, arr) {
        optbuf[0] = '\0';
        ol = 0;
        cJSON_ArrayForEach(o, cJSON_GetObjectItem(e, "options")) {
            ol += (size_t) snprintf(optbuf + ol, ol < sizeof(optbuf)
                                    ? sizeof(optbuf) - ol : 0, "%s%s",
                                    ol ? ", " : "", o->valuestring);
        }
        name = cJSON_GetObjectItem(e, "entry");
        printf("%-16s %-36s %-16s %-30s %-25s %-25s %s\n",
               name->valuestring[0] ? name->valuestring : "?",
               cJSON_GetObjectItem(e, "id")->valuestring,
               cJSON_GetObjectItem(e, "spec")->valuestring,
               cJSON_GetObjectItem(e, "type")->valuestring,
               cron_time(cJSON_GetObjectItem(e, "next")->valuedouble, next,
                         sizeof(next)),
               cron_time(cJSON_GetObjectItem(e, "prev")->valuedouble, prev,
                         sizeof(prev)), optbuf);
    }
    cJSON_Delete(arr);
    return 0;
}

static int
cron_history(cli_ctx_t *ctx, rq_redis_t *r, const char *entry, long n)
{
    cJSON  *arr, *ev;
    char    err[256], when[40];

    arr = cron_inspect_history(r, entry, n, err, sizeof(err));
    if (arr == NULL) {
        return cli_error("%s", err);
    }
    if (ctx->json) {
        return cli_print_json(arr);
    }
    printf("%-40s %s\n", "TASK ID", "ENQUEUED AT");
    cJSON_ArrayForEach(ev, arr) {
        printf("%-40s %s\n", cJSON_GetObjectItem(ev, "task_id")->valuestring,
               cron_time(cJSON_GetObjectItem(ev, "enqueued_at")->valuedouble,
                         when, sizeof(when)));
    }
    cJSON_Delete(arr);
    return 0;
}

static int
cron_run(cli_ctx_t *ctx, rq_redis_t *r, const char *entry)
{
    cJSON  *o;
    char    err[256], task[256];
    int     rc;

    rc = cron_inspect_run(r, entry, task, sizeof(task), err, sizeof(err));
    if (ctx->json) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, rc == 0 ? "task_id" : "error",
                                rc == 0 ? task : err);
        cli_print_json(o);
        return rc == 0 ? 0 : 1;
    }
    if (rc != 0) {
        return cli_error("%s", err);
    }
    printf("%s\n", task);
    return 0;
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
