/*
 * admin_api_cron: the cron entries as asynqmon reads them, their history,
 * and running one now (lib/asynq/cron_inspect.c, as looklook-cli cron).
 *
 *   GET  /api/cron                        every published entry
 *   GET  /api/cron/ENTRY/history?n=N      its newest N enqueues (20)
 *   POST /api/cron/ENTRY/run              fire it now: {"task_id":...}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "admin.h"
#include "cron_inspect.h"

#define HISTORY_MAX  1000           /* what cron keeps */

/* ENTRY and the verb after it from /api/cron/ENTRY/VERB; -1 if not so */
static int
cron_path(const char *path, char *entry, size_t len, const char **verb)
{
    const char  *p = path + strlen("/api/cron/"), *slash = strchr(p, '/');

    if (slash == NULL || slash == p || (size_t) (slash - p) >= len
        || strchr(slash + 1, '/') != NULL)
    {
        return -1;
    }
    snprintf(entry, len, "%.*s", (int) (slash - p), p);
    *verb = slash + 1;
    return 0;
}

void
admin_get_cron(const admin_req_t *req, admin_resp_t *resp)
{
    rq_redis_t  *r = admin_redis(req, resp);
    char         err[256];
    cJSON       *arr;

    if (r == NULL) {
        return;
    }
    arr = cron_inspect_entries(r, err, sizeof(err));
    if (arr == NULL) {
        admin_error(resp, MHD_HTTP_SERVICE_UNAVAILABLE, err);
        return;
    }
    admin_json(resp, MHD_HTTP_OK, arr);
}

/* GET /api/cron/ENTRY/history */
void
admin_get_cron_entry(const admin_req_t *req, admin_resp_t *resp)
{
    rq_redis_t  *r;
    const char  *verb, *n = admin_arg(req, "n");
    char         entry[256], err[256];
    long         count = n != NULL ? strtol(n, NULL, 10) : 20;
    cJSON       *arr;

    if (cron_path(req->path, entry, sizeof(entry), &verb) != 0
        || strcmp(verb, "history") != 0)
    {
        admin_error(resp, MHD_HTTP_NOT_FOUND, "not found");
        return;
    }
    if ((r = admin_redis(req, resp)) == NULL) {
        return;
    }
    count = count < 1 ? 1 : count > HISTORY_MAX ? HISTORY_MAX : count;
    arr = cron_inspect_history(r, entry, count, err, sizeof(err));
    if (arr == NULL) {
        admin_error(resp, MHD_HTTP_SERVICE_UNAVAILABLE, err);
        return;
    }
    admin_json(resp, MHD_HTTP_OK, arr);
}

/* POST /api/cron/ENTRY/run: waits (up to 5 s) for a cron instance */
void
admin_post_cron(const admin_req_t *req, admin_resp_t *resp)
{
    rq_redis_t  *r;
    const char  *verb;
    char         entry[256], err[256], task[256];
    cJSON       *o;

    if (cron_path(req->path, entry, sizeof(entry), &verb) != 0
        || strcmp(verb, "run") != 0)
    {
        admin_error(resp, MHD_HTTP_NOT_FOUND, "no such action");
        return;
    }
    if ((r = admin_redis(req, resp)) == NULL) {
        return;
    }
    if (cron_inspect_run(r, entry, task, sizeof(task), err, sizeof(err))
        != 0)
    {
        admin_error(resp, strncmp(err, "no entry", 8) == 0
                          ? MHD_HTTP_NOT_FOUND
                          : MHD_HTTP_SERVICE_UNAVAILABLE, err);
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "task_id", task);
    admin_json(resp, MHD_HTTP_OK, o);
}
