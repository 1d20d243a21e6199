/*
 * Fuzz target: a stored asynq task message (the "msg" field of a task
 * hash) as redisq's fetcher and the inspector read it (rq_msg_decode),
 * then what the outcome paths and the inspector make of it without Redis:
 * the rewritten message of a success with retention, a retry and an
 * archive (as rq_ack writes them), the stand-in written for a message that
 * does not decode (rq_msg_replacement), and the task as JSON
 * (rq_task_json, looklook-cli --json and the admin API).
 *
 * Invariants: an accepted message has a type, id and queue that a Go
 * reader takes; decode -> pack -> decode keeps every field and packing is
 * stable; each rewritten message decodes again with the rewrite in it; a
 * refused message gets a stand-in that decodes and carries its bytes; the
 * task JSON prints and parses back with the same id and type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rq_inspect_json.h"
#include "rq_task.h"

#define FAIL(what)  (fprintf(stderr, "%s\n", what), abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Every field of a and b the same (headers in order). */
static void
same(const Asynq__TaskMessage *a, const Asynq__TaskMessage *b)
{
    size_t  i;

    if (!str_eq(a->type, b->type) || !str_eq(a->id, b->id)
        || !str_eq(a->queue, b->queue) || !str_eq(a->error_msg, b->error_msg)
        || !str_eq(a->unique_key, b->unique_key)
        || !str_eq(a->group_key, b->group_key)
        || a->payload.len != b->payload.len
        || (a->payload.len > 0
            && memcmp(a->payload.data, b->payload.data, a->payload.len) != 0)
        || a->retry != b->retry || a->retried != b->retried
        || a->last_failed_at != b->last_failed_at || a->timeout != b->timeout
        || a->deadline != b->deadline || a->retention != b->retention
        || a->completed_at != b->completed_at
        || a->n_headers != b->n_headers)
    {
        FAIL("a field changed through pack and decode");
    }
    for (i = 0; i < a->n_headers; i++) {
        if (!str_eq(a->headers[i]->key, b->headers[i]->key)
            || !str_eq(a->headers[i]->value, b->headers[i]->value))
        {
            FAIL("a header changed through pack and decode");
        }
    }
}

/* Pack m, decode it again (must be accepted) and compare; returns the
 * decoded copy. */
static Asynq__TaskMessage *
round_trip(const Asynq__TaskMessage *m)
{
    Asynq__TaskMessage  *d;
    uint8_t             *buf, *buf2;
    size_t               len, len2;
    char                 err[200];

    buf = rq_msg_pack(m, &len);
    if (buf == NULL) {
        return NULL;
    }
    d = rq_msg_decode(buf, len, err, sizeof(err));
    if (d == NULL) {
        fprintf(stderr, "%s\n", err);
        FAIL("a packed accepted message is refused");
    }
    same(m, d);
    buf2 = rq_msg_pack(d, &len2);
    if (buf2 != NULL && (len2 != len || memcmp(buf, buf2, len) != 0)) {
        FAIL("packing is not stable");
    }
    free(buf);
    free(buf2);
    return d;
}

/* The rewrites of rq_ack's outcome paths: each decodes with its change. */
static void
outcomes(const Asynq__TaskMessage *m)
{
    Asynq__TaskMessage   c, *d;
    const int64_t        now = 1767225600;

    c = *m;                             /* done, with retention */
    c.completed_at = now;
    if ((d = round_trip(&c)) != NULL) {
        asynq__task_message__free_unpacked(d, NULL);
    }
    c = *m;                             /* retry (archive: no retried++) */
    if (c.retried < c.retry) {
        c.retried++;
    }
    c.error_msg = (char *) "context deadline exceeded";
    c.last_failed_at = now;
    if ((d = round_trip(&c)) != NULL) {
        asynq__task_message__free_unpacked(d, NULL);
    }
}

static void
task_json(Asynq__TaskMessage *m, const char *error)
{
    rq_task_info_t   t;
    cJSON           *j, *back;
    char            *text;
    const char      *id;

    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "%s", m ? m->id : "fuzz-id");
    snprintf(t.state, sizeof(t.state), "active");
    snprintf(t.error, sizeof(t.error), "%s", error);
    t.msg = m;
    j = rq_task_json(&t, "default");
    text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (text == NULL) {
        return;
    }
    back = cJSON_Parse(text);
    if (back == NULL) {
        FAIL("the task JSON does not parse");
    }
    id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(back, "id"));
    if (id == NULL || strcmp(id, t.id) != 0
        || (m != NULL
            && !str_eq(cJSON_GetStringValue(
                           cJSON_GetObjectItemCaseSensitive(back, "type")),
                       m->type)))
    {
        FAIL("the task JSON lost the id or type");
    }
    cJSON_Delete(back);
    free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Asynq__TaskMessage  *m, *d;
    uint8_t             *rep;
    size_t               len;
    char                 err[200];

    m = rq_msg_decode(data, size, err, sizeof(err));
    if (m == NULL) {
        if (err[0] == '\0') {
            FAIL("refused without a reason");
        }
        /* the stand-in rq_ack archives: a message any reader takes */
        rep = rq_msg_replacement("fuzz-id", "default", data, size, err,
                                 1767225600, &len);
        if (rep == NULL) {
            return 0;
        }
        d = rq_msg_decode(rep, len, err, sizeof(err));
        if (d == NULL || strcmp(d->id, "fuzz-id") != 0
            || strcmp(d->type, "looklook:undecodable") != 0
            || d->payload.len != size
            || (size > 0 && memcmp(d->payload.data, data, size) != 0))
        {
            FAIL("the stand-in of a refused message is not readable");
        }
        asynq__task_message__free_unpacked(d, NULL);
        free(rep);
        task_json(NULL, err);
        return 0;
    }
    if (!rq_name_ok(m->type, SIZE_MAX) || !rq_name_ok(m->id, SIZE_MAX)
        || !rq_name_ok(m->queue, RQ_QNAME_MAX))
    {
        FAIL("accepted without a valid type, id or queue");
    }
    if ((d = round_trip(m)) != NULL) {
        asynq__task_message__free_unpacked(d, NULL);
    }
    outcomes(m);
    task_json(m, "");
    asynq__task_message__free_unpacked(m, NULL);
    return 0;
}
