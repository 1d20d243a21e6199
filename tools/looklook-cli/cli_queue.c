/*
 * looklook-cli stats | queue ls | inspect Q | pause Q | unpause Q
 *
 * The logic is modules/redisq/rq_inspect.c (one copy with the module);
 * this file parses arguments and prints a table or, with --json, JSON.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rq_inspect_json.h"

/* shared with cli_task.c */
int cli_redisq_open(cli_ctx_t *ctx, rq_redis_conf_t *rc, rq_redis_t *r);
int cli_print_json(cJSON *j);


/*
 * Parse ctx's Redis URL and the config's redisq username / password / db
 * overrides into rc, and bind r to it.  Returns 0, or 1 after printing why.
 * @locality main thread
 */
int
cli_redisq_open(cli_ctx_t *ctx, rq_redis_conf_t *rc, rq_redis_t *r)
{
    const char  *user, *pass, *db;
    char         err[256];

    if (rq_redis_conf_parse(rc, ctx->redis_url, err, sizeof(err)) != 0) {
        return cli_error("%s", err);
    }
    user = cli_conf_get(ctx, "redisq", "username");
    pass = cli_conf_get(ctx, "redisq", "password");
    db = cli_conf_get(ctx, "redisq", "db");
    if (rq_redis_conf_set(rc, user, pass, db ? atoi(db) : -1) != 0) {
        rq_redis_conf_free(rc);
        return cli_error("out of memory");
    }
    rq_redis_init(r, rc);
    if (rq_redis_get(r) == NULL) {
        cli_error("cannot reach redis: %s", r->err);
        rq_redis_conf_free(rc);
        return 1;
    }
    return 0;
}


/* Print j on stdout and free it; returns 0. */
int
cli_print_json(cJSON *j)
{
    char  *s = cJSON_PrintUnformatted(j);

    if (s != NULL) {
        puts(s);
        free(s);
    }
    cJSON_Delete(j);
    return 0;
}


int
cli_stats(cli_ctx_t *ctx, int argc, char **argv)
{
    rq_redis_conf_t   rc;
    rq_redis_t        r;
    rq_queue_info_t   qi;
    char            **names = NULL;
    char              err[256];
    size_t            n = 0, i;
    cJSON            *arr = NULL;
    int               status = 0;

    if (argc != 1) {
        cli_error("usage: stats");
        return 2;
    }
    if (cli_redisq_open(ctx, &rc, &r) != 0) {
        return 1;
    }
    if (rq_queue_names(&r, &names, &n, err, sizeof(err)) != 0) {
        status = cli_error("%s", err);
        goto done;
    }
    if (ctx->json) {
        arr = cJSON_CreateArray();
    } else {
        printf("%-20s %-6s %9s %7s %9s %7s %8s %9s %10s %8s\n", "QUEUE",
               "PAUSED", "PENDING", "ACTIVE", "SCHEDULED", "RETRY",
               "ARCHIVED", "COMPLETED", "PROCESSED", "FAILED");
    }
    for (i = 0; i < n; i++) {
        if (rq_queue_info(&r, names[i], &qi, err, sizeof(err)) != 0) {
            status = cli_error("%s", err);
            continue;
        }
        if (arr != NULL) {
            cJSON_AddItemToArray(arr, rq_queue_json(&qi));
        } else {
            printf("%-20s %-6s %9lld %7lld %9lld %7lld %8lld %9lld %10lld "
                   "%8lld\n", qi.name, qi.paused ? "yes" : "no", qi.pending,
                   qi.active, qi.scheduled, qi.retry, qi.archived,
                   qi.completed, qi.processed_today, qi.failed_today);
        }
    }
    if (arr != NULL) {
        cli_print_json(arr);
    } else if (n == 0) {
        printf("(no queues)\n");
    } else {
        printf("\nPROCESSED and FAILED count today (UTC).\n");
    }

done:
    rq_names_free(names, n);
    rq_redis_close(&r);
    rq_redis_conf_free(&rc);
    return status;
}


int
cli_queue(cli_ctx_t *ctx, int argc, char **argv)
{
    rq_redis_conf_t   rc;
    rq_redis_t        r;
    rq_queue_info_t   qi;
    char            **names = NULL;
    char              err[256];
    size_t            n = 0, i;
    cJSON            *arr;
    const char       *sub = argc > 1 ? argv[1] : "";
    int               status = 0, pause;

    if (strcmp(sub, "check") == 0) {
        return cli_queue_check(ctx, argc, argv);
    }
    if (strcmp(sub, "ls") == 0 ? argc != 2
        : (strcmp(sub, "inspect") != 0 && strcmp(sub, "pause") != 0
           && strcmp(sub, "unpause") != 0) || argc != 3)
    {
        cli_error("usage: queue ls | inspect Q | pause Q | unpause Q | "
                  "check [--fix] [Q...]");
        return 2;
    }
    if (cli_redisq_open(ctx, &rc, &r) != 0) {
        return 1;
    }

    if (strcmp(sub, "ls") == 0) {
        if (rq_queue_names(&r, &names, &n, err, sizeof(err)) != 0) {
            status = cli_error("%s", err);
        } else if (ctx->json) {
            arr = cJSON_CreateArray();
            for (i = 0; i < n; i++) {
                cJSON_AddItemToArray(arr, cJSON_CreateString(names[i]));
            }
            cli_print_json(arr);
        } else {
            for (i = 0; i < n; i++) {
                printf("%s\n", names[i]);
            }
        }
        rq_names_free(names, n);

    } else if (strcmp(sub, "inspect") == 0) {
        if (rq_queue_info(&r, argv[2], &qi, err, sizeof(err)) != 0) {
            status = cli_error("%s", err);
        } else if (ctx->json) {
            cli_print_json(rq_queue_json(&qi));
        } else {
            printf("Queue:     %s\nPaused:    %s\nPending:   %lld\n"
                   "Active:    %lld\nScheduled: %lld\nRetry:     %lld\n"
                   "Archived:  %lld\nCompleted: %lld\n"
                   "Processed: %lld today, %lld total\n"
                   "Failed:    %lld today, %lld total\n"
                   "Latency:   %.3fs\n", qi.name, qi.paused ? "yes" : "no",
                   qi.pending, qi.active, qi.scheduled, qi.retry,
                   qi.archived, qi.completed, qi.processed_today,
                   qi.processed, qi.failed_today, qi.failed, qi.latency_s);
        }

    } else {
        pause = strcmp(sub, "pause") == 0;
        if (rq_queue_pause(&r, argv[2], pause, err, sizeof(err)) != 0) {
            status = cli_error("%s", err);
        } else if (ctx->json) {
            arr = cJSON_CreateObject();
            cJSON_AddStringToObject(arr, "queue", argv[2]);
            cJSON_AddBoolToObject(arr, "paused", pause);
            cli_print_json(arr);
        } else {
            printf("queue \"%s\" %s\n", argv[2], pause ? "paused" : "unpaused");
        }
    }

    rq_redis_close(&r);
    rq_redis_conf_free(&rc);
    return status;
}
