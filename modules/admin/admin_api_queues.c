/*
 * admin_api_queues: redisq's queues and tasks as JSON, and the actions on
 * them, for the dashboard and for scripts.  The work is redisq's
 * rq_inspect.c (the code looklook-cli runs), so what is read and written
 * is exactly asynq's layout: asynqmon and asynq servers see the changes.
 *
 *   GET  /api/queues                         every queue with its sizes
 *   GET  /api/queues/Q                       one queue
 *   GET  /api/queues/Q/history?days=N        processed / failed per day
 *   GET  /api/queues/Q/tasks?state=S&page=N&size=M
 *   GET  /api/queues/Q/tasks/ID              one task
 *   POST /api/queues/Q/pause | unpause
 *   POST /api/queues/Q/tasks/ID/run | archive | delete | cancel
 *   POST /api/queues/Q/states/S/run | archive | delete    (all in S)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "admin.h"
#include "rq_inspect_json.h"

#define PAGE_SIZE_MAX     500
#define HISTORY_DAYS_MAX  90        /* asynq keeps the daily counts 90 days */

/* The path after /api/queues/, cut at '/' into at most 4 parts. */
typedef struct {
    char        buf[1024];
    char       *part[4];
    int         n;
} api_path_t;

static int
api_split(const char *path, api_path_t *p)
{
    char  *s, *save = NULL;

    if (strlen(path) >= sizeof(p->buf)) {
        return -1;
    }
    snprintf(p->buf, sizeof(p->buf), "%s", path + strlen("/api/queues/"));
    p->n = 0;
    for (s = strtok_r(p->buf, "/", &save); s != NULL;
         s = strtok_r(NULL, "/", &save))
    {
        if (p->n == 4) {
            return -1;
        }
        p->part[p->n++] = s;
    }
    return p->n > 0 ? 0 : -1;
}

rq_redis_t *
admin_redis(const admin_req_t *req, admin_resp_t *resp)
{
    admin_t  *a = req->admin;
    char      why[200];

    if (a->conf->redis == NULL) {
        admin_error(resp, MHD_HTTP_SERVICE_UNAVAILABLE, "the admin module "
                    "has no \"redis\" setting");
        return NULL;
    }
    if (rq_redis_get(&a->redis) == NULL) {
        snprintf(why, sizeof(why), "redis: %s", a->redis.err);
        admin_error(resp, MHD_HTTP_SERVICE_UNAVAILABLE, why);
        return NULL;
    }
    return &a->redis;
}

/* An rq_inspect failure as an HTTP error: Redis trouble 503, an unknown
 * queue or task 404, anything else (an active task, a bad state) 409. */
static void
api_fail(admin_resp_t *resp, const char *err)
{
    int  status = MHD_HTTP_CONFLICT;

    if (strncmp(err, "redis:", 6) == 0) {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
    } else if (strstr(err, "not found") != NULL) {
        status = MHD_HTTP_NOT_FOUND;
    } else if (strncmp(err, "unknown state", 13) == 0
               || strncmp(err, "state must", 10) == 0
               || strncmp(err, "invalid queue", 13) == 0)
    {
        status = MHD_HTTP_BAD_REQUEST;
    }
    admin_error(resp, status, err);
}

static long
api_long(const admin_req_t *req, const char *key, long def, long max)
{
    const char  *v = admin_arg(req, key);
    char        *end;
    long         n;

    if (v == NULL || *v == '\0') {
        return def;
    }
    n = strtol(v, &end, 10);
    return *end != '\0' || n < 0 ? -1 : n > max ? max : n;
}

/* GET /api/queues */
void
admin_get_queues(const admin_req_t *req, admin_resp_t *resp)
{
    rq_redis_t       *r = admin_redis(req, resp);
    rq_queue_info_t   qi;
    char            **names = NULL, err[256], where[128];
    size_t            n = 0, i;
    cJSON            *o, *arr;

    if (r == NULL) {
        return;
    }
    if (rq_queue_names(r, &names, &n, err, sizeof(err)) != 0) {
        api_fail(resp, err);
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "redis", rq_redis_conf_text(r->conf, where,
                                                           sizeof(where)));
    arr = cJSON_AddArrayToObject(o, "queues");
    for (i = 0; i < n; i++) {
        if (rq_queue_info(r, names[i], &qi, err, sizeof(err)) != 0) {
            rq_names_free(names, n);
            cJSON_Delete(o);
            api_fail(resp, err);
            return;
        }
        cJSON_AddItemToArray(arr, rq_queue_json(&qi));
    }
    rq_names_free(names, n);
    admin_json(resp, MHD_HTTP_OK, o);
}

static long long
api_state_size(const rq_queue_info_t *qi, const char *state)
{
    static const char  *names[] = { "pending", "active", "scheduled",
                                    "retry", "archived", "completed" };
    const long long     sizes[] = { qi->pending, qi->active, qi->scheduled,
                                    qi->retry, qi->archived, qi->completed };
    size_t              i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(state, names[i]) == 0) {
            return sizes[i];
        }
    }
    return 0;
}

/* GET /api/queues/Q/tasks?state=S&page=N&size=M: one page of a state,
 * with the state's size for the pager */
static void
api_task_list(const admin_req_t *req, admin_resp_t *resp, rq_redis_t *r,
    const char *q)
{
    const char       *state = admin_arg(req, "state");
    long              page = api_long(req, "page", 0, 1000000000);
    long              size = api_long(req, "size", 20, PAGE_SIZE_MAX);
    rq_queue_info_t   qi;
    rq_task_info_t   *t;
    size_t            n, i;
    char              err[256];
    cJSON            *o, *arr;

    if (state == NULL) {
        state = "pending";
    }
    if (page < 0 || size <= 0) {
        admin_error(resp, MHD_HTTP_BAD_REQUEST, "page and size must be "
                    "numbers (size 1 to 500)");
        return;
    }
    if (rq_queue_info(r, q, &qi, err, sizeof(err)) != 0
        || rq_task_list(r, q, state, page * size, size, &t, &n, err,
                        sizeof(err)) != 0)
    {
        api_fail(resp, err);
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "queue", q);
    cJSON_AddStringToObject(o, "state", state);
    cJSON_AddNumberToObject(o, "page", (double) page);
    cJSON_AddNumberToObject(o, "size", (double) size);
    cJSON_AddNumberToObject(o, "total", (double) api_state_size(&qi, state));
    arr = cJSON_AddArrayToObject(o, "tasks");
    for (i = 0; i < n; i++) {
        cJSON_AddItemToArray(arr, rq_task_json(&t[i], q));
    }
    rq_tasks_free(t, n);
    admin_json(resp, MHD_HTTP_OK, o);
}

/* GET /api/queues/Q/history?days=N: processed and failed per UTC day,
 * oldest first (default 7, at most 90) */
static void
api_history(const admin_req_t *req, admin_resp_t *resp, rq_redis_t *r,
    const char *q)
{
    rq_day_stats_t  days[HISTORY_DAYS_MAX];
    long            n = api_long(req, "days", 7, HISTORY_DAYS_MAX);
    char            err[256];
    cJSON          *arr, *o;
    long            i;

    if (n <= 0) {
        admin_error(resp, MHD_HTTP_BAD_REQUEST, "days must be 1 to 90");
        return;
    }
    if (rq_queue_history(r, q, (int) n, days, err, sizeof(err)) != 0) {
        api_fail(resp, err);
        return;
    }
    arr = cJSON_CreateArray();
    for (i = 0; i < n; i++) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "date", days[i].date);
        cJSON_AddNumberToObject(o, "processed", (double) days[i].processed);
        cJSON_AddNumberToObject(o, "failed", (double) days[i].failed);
        cJSON_AddItemToArray(arr, o);
    }
    admin_json(resp, MHD_HTTP_OK, arr);
}

/* GET /api/queues/Q[/history | /tasks[/ID]] */
void
admin_get_queue(const admin_req_t *req, admin_resp_t *resp)
{
    rq_redis_t       *r;
    rq_queue_info_t   qi;
    rq_task_info_t    t;
    api_path_t        p;
    char              err[256];

    if (api_split(req->path, &p) != 0 || p.n > 3
        || (p.n > 1 && strcmp(p.part[1], "tasks") != 0
            && (p.n > 2 || strcmp(p.part[1], "history") != 0)))
    {
        admin_error(resp, MHD_HTTP_NOT_FOUND, "not found");
        return;
    }
    if ((r = admin_redis(req, resp)) == NULL) {
        return;
    }
    if (p.n == 1) {
        if (rq_queue_info(r, p.part[0], &qi, err, sizeof(err)) != 0) {
            api_fail(resp, err);
        } else {
            admin_json(resp, MHD_HTTP_OK, rq_queue_json(&qi));
        }
    } else if (p.n == 2 && strcmp(p.part[1], "history") == 0) {
        api_history(req, resp, r, p.part[0]);
    } else if (p.n == 2) {
        api_task_list(req, resp, r, p.part[0]);
    } else if (rq_task_get(r, p.part[0], p.part[2], &t, err, sizeof(err))
               != 0)
    {
        api_fail(resp, err);
    } else {
        admin_json(resp, MHD_HTTP_OK, rq_task_json(&t, p.part[0]));
        rq_task_info_clear(&t);
    }
}

static int
api_op(const char *verb)
{
    return strcmp(verb, "run") == 0 ? RQ_OP_RUN
           : strcmp(verb, "archive") == 0 ? RQ_OP_ARCHIVE
           : strcmp(verb, "delete") == 0 ? RQ_OP_DELETE : -1;
}

/* POST /api/queues/Q/... : pause, unpause, one task's or a state's run,
 * archive, delete; a task's cancel.  Answers {"ok":true[,"count":N]}. */
void
admin_post_queue(const admin_req_t *req, admin_resp_t *resp)
{
    rq_redis_t  *r;
    api_path_t   p;
    char         err[256];
    size_t       done = 0;
    int          rc = -1, op = -1, all = 0;
    cJSON       *o;

    if (api_split(req->path, &p) != 0) {
        p.n = 0;
    }
    if (p.n == 2 && (strcmp(p.part[1], "pause") == 0
                     || strcmp(p.part[1], "unpause") == 0))
    {
        op = 0;
    } else if (p.n == 4 && strcmp(p.part[1], "tasks") == 0) {
        op = strcmp(p.part[3], "cancel") == 0 ? 0 : api_op(p.part[3]);
    } else if (p.n == 4 && strcmp(p.part[1], "states") == 0) {
        op = api_op(p.part[3]);
        all = 1;
    }
    if (op < 0) {
        admin_error(resp, MHD_HTTP_NOT_FOUND, "no such action");
        return;
    }
    if ((r = admin_redis(req, resp)) == NULL) {
        return;
    }
    if (p.n == 2) {
        rc = rq_queue_pause(r, p.part[0], p.part[1][0] == 'p', err,
                            sizeof(err));
    } else if (all) {
        rc = rq_task_op_all(r, p.part[0], p.part[2], op, &done, err,
                            sizeof(err));
    } else if (strcmp(p.part[3], "cancel") == 0) {
        rc = rq_task_cancel(r, p.part[0], p.part[2], err, sizeof(err));
    } else {
        rc = rq_task_op(r, p.part[0], p.part[2], op, err, sizeof(err));
    }
    if (rc != 0) {
        api_fail(resp, err);
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    if (all) {
        cJSON_AddNumberToObject(o, "count", (double) done);
    }
    admin_json(resp, MHD_HTTP_OK, o);
}
