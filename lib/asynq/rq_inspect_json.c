/*
 * rq_inspect_json: rq_inspect's answers as JSON (see the header).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rq_inspect_json.h"


cJSON *
rq_queue_json(const rq_queue_info_t *qi)
{
    cJSON  *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "queue", qi->name);
    cJSON_AddBoolToObject(o, "paused", qi->paused);
    cJSON_AddNumberToObject(o, "size", (double) (qi->pending + qi->active
                            + qi->scheduled + qi->retry + qi->archived
                            + qi->completed));
    cJSON_AddNumberToObject(o, "pending", (double) qi->pending);
    cJSON_AddNumberToObject(o, "active", (double) qi->active);
    cJSON_AddNumberToObject(o, "scheduled", (double) qi->scheduled);
    cJSON_AddNumberToObject(o, "retry", (double) qi->retry);
    cJSON_AddNumberToObject(o, "archived", (double) qi->archived);
    cJSON_AddNumberToObject(o, "completed", (double) qi->completed);
    cJSON_AddNumberToObject(o, "processed_today", (double) qi->processed_today);
    cJSON_AddNumberToObject(o, "failed_today", (double) qi->failed_today);
    cJSON_AddNumberToObject(o, "processed_total", (double) qi->processed);
    cJSON_AddNumberToObject(o, "failed_total", (double) qi->failed);
    cJSON_AddNumberToObject(o, "latency_seconds", qi->latency_s);
    return o;
}


/* Add the payload as JSON when it is JSON, else as text or hex. */
static void
rq_add_payload(cJSON *o, const char *name, const void *p, size_t len)
{
    cJSON   *j;
    char    *hex;
    size_t   i;

    if (len == 0) {
        cJSON_AddStringToObject(o, name, "");
        return;
    }
    j = cJSON_ParseWithLength(p, len);
    if (j != NULL) {
        cJSON_AddItemToObject(o, name, j);
    } else if (rq_utf8_valid(p, len) && memchr(p, '\0', len) == NULL) {
        hex = strndup(p, len);
        cJSON_AddStringToObject(o, name, hex ? hex : "");
        free(hex);
    } else {
        hex = malloc(2 * len + 1);
        if (hex != NULL) {
            for (i = 0; i < len; i++) {
                snprintf(hex + 2 * i, 3, "%02x", ((const uint8_t *) p)[i]);
            }
            hex[2 * len] = '\0';
            cJSON_AddStringToObject(o, "payload_hex", hex);
            free(hex);
        }
    }
}


cJSON *
rq_task_json(const rq_task_info_t *t, const char *queue)
{
    const Asynq__TaskMessage  *m = t->msg;
    cJSON                     *o, *h;
    size_t                     i;

    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", t->id);
    cJSON_AddStringToObject(o, "queue", queue);
    cJSON_AddStringToObject(o, "state", t->state);
    if (m == NULL) {
        cJSON_AddStringToObject(o, "decode_error", t->error);
        return o;
    }
    cJSON_AddStringToObject(o, "type", m->type);
    rq_add_payload(o, "payload", m->payload.data, m->payload.len);
    h = cJSON_AddObjectToObject(o, "headers");
    for (i = 0; i < m->n_headers; i++) {
        cJSON_AddStringToObject(h, m->headers[i]->key, m->headers[i]->value);
    }
    cJSON_AddNumberToObject(o, "max_retry", m->retry);
    cJSON_AddNumberToObject(o, "retried", m->retried);
    cJSON_AddStringToObject(o, "last_error", m->error_msg);
    cJSON_AddNumberToObject(o, "last_failed_at", (double) m->last_failed_at);
    cJSON_AddNumberToObject(o, "timeout_seconds", (double) m->timeout);
    cJSON_AddNumberToObject(o, "deadline", (double) m->deadline);
    cJSON_AddStringToObject(o, "unique_key", m->unique_key);
    cJSON_AddStringToObject(o, "group", m->group_key);
    cJSON_AddNumberToObject(o, "retention_seconds", (double) m->retention);
    cJSON_AddNumberToObject(o, "completed_at", (double) m->completed_at);
    if (t->score) {
        cJSON_AddNumberToObject(o, strcmp(t->state, "archived") == 0
                                ? "last_failed_at_score"
                                : strcmp(t->state, "completed") == 0
                                ? "expires_at" : "next_process_at",
                                (double) t->score);
    }
    if (t->due_ms) {
        cJSON_AddNumberToObject(o, "next_process_at_ms", (double) t->due_ms);
    }
    if (t->result != NULL) {
        rq_add_payload(o, "result", t->result, t->result_len);
    }
    return o;
}
