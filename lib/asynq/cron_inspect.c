/*
 * cron_inspect: reading asynq:schedulers and asynq:scheduler_history as
 * asynq's Inspector does, and looklook's run-request list (see the
 * header).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#include "asynq.pb-c.h"
#include "cron_asynq.h"
#include "cron_inspect.h"

#define CRON_RUN_WAIT_S  5

static void
cron_rerr(char *err, size_t errlen, const rq_redis_t *r,
    const redisReply *rep)
{
    snprintf(err, errlen, "redis: %s", rep == NULL ? r->err
             : rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
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

static double
cron_secs(const Asynq__Timestamp *ts)
{
    return ts != NULL && ts->seconds != CRON_GO_ZERO_TIME
           ? (double) ts->seconds : 0;
}

/* One entry as JSON; its name (from looklook:cron:names) and its last
 * task (from the entry's state) are read here. */
static cJSON *
cron_entry_json(rq_redis_t *r, const Asynq__SchedulerEntry *e,
    const char *scheduler)
{
    redisReply  *name, *task = NULL;
    cJSON       *o, *opts;
    size_t       k;

    name = rq_redis_cmd(r, "HGET %s %s", CRON_KEY_NAMES, e->id);
    if (name != NULL && name->type == REDIS_REPLY_STRING) {
        task = rq_redis_cmd(r, "HGET %s%s task", CRON_KEY_STATE, name->str);
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "entry", name != NULL
                            && name->type == REDIS_REPLY_STRING
                            ? name->str : "");
    cJSON_AddStringToObject(o, "id", e->id);
    cJSON_AddStringToObject(o, "spec", e->spec);
    cJSON_AddStringToObject(o, "type", e->task_type);
    cJSON_AddNumberToObject(o, "next", cron_secs(e->next_enqueue_time));
    cJSON_AddNumberToObject(o, "prev", cron_secs(e->prev_enqueue_time));
    opts = cJSON_AddArrayToObject(o, "options");
    for (k = 0; k < e->n_enqueue_options; k++) {
        cJSON_AddItemToArray(opts, cJSON_CreateString(e->enqueue_options[k]));
    }
    cJSON_AddStringToObject(o, "scheduler", scheduler);
    cJSON_AddStringToObject(o, "last_task", task != NULL
                            && task->type == REDIS_REPLY_STRING
                            ? task->str : "");
    freeReplyObject(name);
    freeReplyObject(task);
    return o;
}

cJSON *
cron_inspect_entries(rq_redis_t *r, char *err, size_t errlen)
{
    Asynq__SchedulerEntry  *e;
    redisReply             *keys, *list;
    cJSON                  *arr;
    size_t                  i, j;

    keys = rq_redis_cmd(r, "ZRANGEBYSCORE %s %lld +inf", CRON_KEY_SCHEDULERS,
                        (long long) time(NULL));
    if (keys == NULL || keys->type != REDIS_REPLY_ARRAY) {
        cron_rerr(err, errlen, r, keys);
        freeReplyObject(keys);
        return NULL;
    }
    arr = cJSON_CreateArray();
    for (i = 0; i < keys->elements && arr != NULL; i++) {
        list = rq_redis_cmd(r, "LRANGE %s 0 -1", keys->element[i]->str);
        if (list == NULL || list->type != REDIS_REPLY_ARRAY) {
            cron_rerr(err, errlen, r, list);
            freeReplyObject(list);
            cJSON_Delete(arr);
            arr = NULL;
            break;
        }
        for (j = 0; j < list->elements; j++) {
            e = asynq__scheduler_entry__unpack(NULL, list->element[j]->len,
                    (const uint8_t *) list->element[j]->str);
            if (e == NULL) {
                continue;       /* as the Inspector: skip what won't decode */
            }
            cJSON_AddItemToArray(arr, cron_entry_json(r, e,
                                                      keys->element[i]->str));
            asynq__scheduler_entry__free_unpacked(e, NULL);
        }
        freeReplyObject(list);
    }
    freeReplyObject(keys);
    return arr;
}

cJSON *
cron_inspect_history(rq_redis_t *r, const char *entry, long n, char *err,
    size_t errlen)
{
    Asynq__SchedulerEnqueueEvent  *ev;
    redisReply                    *h;
    cJSON                         *arr, *o;
    char                           uuid[37];
    size_t                         i;

    cron_uuid_of(entry, uuid);
    h = rq_redis_cmd(r, "ZREVRANGE %s%s 0 %ld WITHSCORES", CRON_KEY_HISTORY,
                     uuid, n - 1);
    if (h == NULL || h->type != REDIS_REPLY_ARRAY) {
        cron_rerr(err, errlen, r, h);
        freeReplyObject(h);
        return NULL;
    }
    arr = cJSON_CreateArray();
    for (i = 0; i + 1 < h->elements; i += 2) {
        ev = asynq__scheduler_enqueue_event__unpack(NULL, h->element[i]->len,
                 (const uint8_t *) h->element[i]->str);
        if (ev == NULL) {
            continue;
        }
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "task_id", ev->task_id);
        cJSON_AddNumberToObject(o, "enqueued_at", ev->enqueue_time
            ? (double) ev->enqueue_time->seconds
            : strtod(h->element[i + 1]->str, NULL));
        cJSON_AddItemToArray(arr, o);
        asynq__scheduler_enqueue_event__free_unpacked(ev, NULL);
    }
    freeReplyObject(h);
    return arr;
}

int
cron_inspect_run(rq_redis_t *r, const char *entry, char *task_id,
    size_t idlen, char *err, size_t errlen)
{
    redisReply  *x;
    char         reqid[37], req[256];
    uuid_t       u;
    int          rc;

    uuid_generate_random(u);
    uuid_unparse_lower(u, reqid);
    snprintf(req, sizeof(req), "%s %s", entry, reqid);
    x = rq_redis_cmd(r, "RPUSH %s %s", CRON_KEY_RUN, req);
    if (x == NULL || x->type == REDIS_REPLY_ERROR) {
        cron_rerr(err, errlen, r, x);
        freeReplyObject(x);
        return -1;
    }
    freeReplyObject(x);
    /* the wait outlasts the usual command timeout */
    rq_redis_set_timeout(r, (CRON_RUN_WAIT_S + 2) * 1000);
    x = rq_redis_cmd(r, "BLPOP %s%s %d", CRON_KEY_REPLY, reqid,
                     CRON_RUN_WAIT_S);
    rq_redis_set_timeout(r, r->conf->cmd_timeout_ms);
    if (x == NULL || x->type != REDIS_REPLY_ARRAY || x->elements != 2) {
        freeReplyObject(x);
        /* nobody took it: take it back so it does not fire later */
        freeReplyObject(rq_redis_cmd(r, "LREM %s 1 %s", CRON_KEY_RUN, req));
        snprintf(err, errlen, "no running cron instance answered within "
                 "%d s", CRON_RUN_WAIT_S);
        return -1;
    }
    rc = strncmp(x->element[1]->str, "ok ", 3) == 0 ? 0 : -1;
    if (rc == 0) {
        snprintf(task_id, idlen, "%s", x->element[1]->str + 3);
    } else {
        snprintf(err, errlen, "%s", strncmp(x->element[1]->str, "error ", 6)
                 == 0 ? x->element[1]->str + 6 : x->element[1]->str);
    }
    freeReplyObject(x);
    return rc;
}
