/*
 * rq_servers: asynq's server and worker info as JSON (see the header).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asynq.pb-c.h"
#include "rq_servers.h"
#include "rq_task.h"

static double
rq_secs(const Asynq__Timestamp *ts)
{
    return ts != NULL ? (double) ts->seconds + ts->nanos / 1e9 : 0;
}

/* The payload as text when it is printable UTF-8, else its size. */
static void
rq_add_text(cJSON *o, const char *name, const ProtobufCBinaryData *d)
{
    char  *s, buf[48];

    if (rq_utf8_valid((const char *) d->data, d->len)
        && memchr(d->data, '\0', d->len) == NULL)
    {
        s = strndup((const char *) d->data, d->len);
        cJSON_AddStringToObject(o, name, s != NULL ? s : "");
        free(s);
    } else {
        snprintf(buf, sizeof(buf), "(%zu bytes)", d->len);
        cJSON_AddStringToObject(o, name, buf);
    }
}

static cJSON *
rq_workers_json(rq_redis_t *r, const Asynq__ServerInfo *si)
{
    Asynq__WorkerInfo  *wi;
    redisReply         *rep;
    cJSON              *arr = cJSON_CreateArray(), *o;
    size_t              i;

    rep = rq_redis_cmd(r, "HVALS asynq:workers:{%s:%d:%s}", si->host,
                       (int) si->pid, si->server_id);
    for (i = 0; rep != NULL && rep->type == REDIS_REPLY_ARRAY
                && i < rep->elements; i++)
    {
        wi = asynq__worker_info__unpack(NULL, rep->element[i]->len,
                 (const uint8_t *) rep->element[i]->str);
        if (wi == NULL) {
            continue;
        }
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "task_id", wi->task_id);
        cJSON_AddStringToObject(o, "type", wi->task_type);
        rq_add_text(o, "payload", &wi->task_payload);
        cJSON_AddStringToObject(o, "queue", wi->queue);
        cJSON_AddNumberToObject(o, "started", rq_secs(wi->start_time));
        cJSON_AddNumberToObject(o, "deadline", rq_secs(wi->deadline));
        cJSON_AddItemToArray(arr, o);
        asynq__worker_info__free_unpacked(wi, NULL);
    }
    freeReplyObject(rep);
    return arr;
}

cJSON *
rq_servers_json(rq_redis_t *r, char *err, size_t errlen)
{
    Asynq__ServerInfo  *si;
    redisReply         *keys, *rep;
    cJSON              *arr, *o, *q;
    size_t              i, j;

    keys = rq_redis_cmd(r, "ZRANGEBYSCORE asynq:servers %lld +inf",
                        (long long) time(NULL));
    if (keys == NULL || keys->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "redis: %s", keys == NULL ? r->err
                 : "unexpected reply to ZRANGEBYSCORE asynq:servers");
        freeReplyObject(keys);
        return NULL;
    }
    arr = cJSON_CreateArray();
    for (i = 0; i < keys->elements; i++) {
        rep = rq_redis_cmd(r, "GET %s", keys->element[i]->str);
        si = rep != NULL && rep->type == REDIS_REPLY_STRING
             ? asynq__server_info__unpack(NULL, rep->len,
                                          (const uint8_t *) rep->str)
             : NULL;
        freeReplyObject(rep);
        if (si == NULL) {
            continue;       /* expired between the two reads, or foreign */
        }
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "host", si->host);
        cJSON_AddNumberToObject(o, "pid", si->pid);
        cJSON_AddStringToObject(o, "server_id", si->server_id);
        cJSON_AddNumberToObject(o, "concurrency", si->concurrency);
        q = cJSON_AddObjectToObject(o, "queues");
        for (j = 0; j < si->n_queues; j++) {
            cJSON_AddNumberToObject(q, si->queues[j]->key,
                                    si->queues[j]->value);
        }
        cJSON_AddBoolToObject(o, "strict_priority", si->strict_priority);
        cJSON_AddStringToObject(o, "status", si->status);
        cJSON_AddNumberToObject(o, "started", rq_secs(si->start_time));
        cJSON_AddNumberToObject(o, "active_workers", si->active_worker_count);
        cJSON_AddItemToObject(o, "workers", rq_workers_json(r, si));
        cJSON_AddItemToArray(arr, o);
        asynq__server_info__free_unpacked(si, NULL);
    }
    freeReplyObject(keys);
    return arr;
}
