/*
 * rq_inspect: the Inspector side of asynq (docs/asynq-compat.md 5.9, 10).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rq_inspect.h"
#include "rq_scripts.h"


static int
rq_ierr(char *err, size_t errlen, rq_redis_t *r, const redisReply *rep)
{
    if (rep == NULL) {
        snprintf(err, errlen, "redis: %s", r->err);
    } else if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "redis: %.*s", (int) rep->len, rep->str);
    } else {
        snprintf(err, errlen, "redis: unexpected reply");
    }
    return -1;
}


static int
rq_names_cmp(const void *a, const void *b)
{
    return strcmp(*(char * const *) a, *(char * const *) b);
}


int
rq_queue_names(rq_redis_t *r, char ***names, size_t *n, char *err,
    size_t errlen)
{
    redisReply  *rep;
    size_t       i;
    char       **v;

    rep = rq_redis_cmd(r, "SMEMBERS asynq:queues");
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
        rq_ierr(err, errlen, r, rep);
        freeReplyObject(rep);
        return -1;
    }
    v = calloc(rep->elements + 1, sizeof(char *));
    if (v == NULL) {
        freeReplyObject(rep);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < rep->elements; i++) {
        v[i] = strndup(rep->element[i]->str, rep->element[i]->len);
        if (v[i] == NULL) {
            rq_names_free(v, i);
            freeReplyObject(rep);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    *n = rep->elements;
    freeReplyObject(rep);
    qsort(v, *n, sizeof(char *), rq_names_cmp);
    *names = v;
    return 0;
}


void
rq_names_free(char **names, size_t n)
{
    size_t  i;

    if (names == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}


/* Check q is a known queue (in asynq:queues) and build its keys. */
static int
rq_known_queue(rq_redis_t *r, const char *q, rq_keys_t *k, char *err,
    size_t errlen)
{
    redisReply  *rep;
    int          known;

    if (rq_keys_init(k, q) != 0) {
        snprintf(err, errlen, "invalid queue name \"%s\"", q);
        return -1;
    }
    rep = rq_redis_cmd(r, "SISMEMBER asynq:queues %s", q);
    if (rep == NULL || rep->type != REDIS_REPLY_INTEGER) {
        rq_ierr(err, errlen, r, rep);
        freeReplyObject(rep);
        return -1;
    }
    known = rep->integer == 1;
    freeReplyObject(rep);
    if (!known) {
        snprintf(err, errlen, "queue \"%s\" not found", q);
        return -1;
    }
    return 0;
}


static long long
rq_int(const redisReply *rep)
{
    if (rep == NULL) {
        return 0;
    }
    if (rep->type == REDIS_REPLY_INTEGER) {
        return rep->integer;
    }
    if (rep->type == REDIS_REPLY_STRING) {
        return strtoll(rep->str, NULL, 10);
    }
    return 0;
}


int
rq_queue_info(rq_redis_t *r, const char *q, rq_queue_info_t *qi, char *err,
    size_t errlen)
{
    redisReply  *rep[13];
    rq_keys_t    k;
    char         pday[RQ_KEY_MAX + 16], fday[RQ_KEY_MAX + 16];
    char         oldest[RQ_KEY_MAX + RQ_ID_MAX];
    int64_t      now_ms = lt_now_ms();
    int          i, n = 0, rc = 0;

    if (rq_known_queue(r, q, &k, err, errlen) != 0) {
        return -1;
    }
    memset(qi, 0, sizeof(*qi));
    snprintf(qi->name, sizeof(qi->name), "%s", q);
    rq_day_key(pday, sizeof(pday), k.processed, now_ms / 1000);
    rq_day_key(fday, sizeof(fday), k.failed, now_ms / 1000);

    rq_redis_get(r);
#define RQ_Q(...)  (rq_redis_appendf(r, __VA_ARGS__), n++)
    if (r->c == NULL) {
        return rq_ierr(err, errlen, r, NULL);
    }
    RQ_Q("LLEN %s", k.pending);
    RQ_Q("LLEN %s", k.active);
    RQ_Q("ZCARD %s", k.scheduled);
    RQ_Q("ZCARD %s", k.retry);
    RQ_Q("ZCARD %s", k.archived);
    RQ_Q("ZCARD %s", k.completed);
    RQ_Q("GET %s", pday);
    RQ_Q("GET %s", fday);
    RQ_Q("GET %s", k.processed);
    RQ_Q("GET %s", k.failed);
    RQ_Q("EXISTS %s", k.paused);
    RQ_Q("LINDEX %s -1", k.pending);
#undef RQ_Q
    for (i = 0; i < n; i++) {
        rep[i] = rq_redis_reply(r);
        if (rep[i] == NULL || rep[i]->type == REDIS_REPLY_ERROR) {
            rc = rq_ierr(err, errlen, r, rep[i]);
        }
    }
    if (rc == 0) {
        qi->pending = rq_int(rep[0]);
        qi->active = rq_int(rep[1]);
        qi->scheduled = rq_int(rep[2]);
        qi->retry = rq_int(rep[3]);
        qi->archived = rq_int(rep[4]);
        qi->completed = rq_int(rep[5]);
        qi->processed_today = rq_int(rep[6]);
        qi->failed_today = rq_int(rep[7]);
        qi->processed = rq_int(rep[8]);
        qi->failed = rq_int(rep[9]);
        qi->paused = rq_int(rep[10]) == 1;
        if (rep[11]->type == REDIS_REPLY_STRING) {
            snprintf(oldest, sizeof(oldest), "%s%.*s", k.task_prefix,
                     (int) rep[11]->len, rep[11]->str);
            rep[12] = rq_redis_cmd(r, "HGET %s pending_since", oldest);
            if (rep[12] != NULL && rep[12]->type == REDIS_REPLY_STRING) {
                qi->latency_s = (double) (now_ms * 1000000
                                          - strtoll(rep[12]->str, NULL, 10))
                                / 1e9;
            }
            freeReplyObject(rep[12]);
        }
    }
    for (i = 0; i < n; i++) {
        freeReplyObject(rep[i]);
    }
    return rc;
}


int
rq_queue_history(rq_redis_t *r, const char *q, int n, rq_day_stats_t *out,
    char *err, size_t errlen)
{
    redisReply  *rep;
    rq_keys_t    k;
    char         key[RQ_KEY_MAX + 16];
    int64_t      today = lt_now_ms() / 1000, t;
    int          i, j, rc = 0;

    if (rq_known_queue(r, q, &k, err, errlen) != 0) {
        return -1;
    }
    if (rq_redis_get(r) == NULL) {
        return rq_ierr(err, errlen, r, NULL);
    }
    for (i = 0; i < n; i++) {
        t = today - (int64_t) (n - 1 - i) * 86400;
        rq_day_key(key, sizeof(key), k.processed, t);
        /* the date is the key's tail */
        snprintf(out[i].date, sizeof(out[i].date), "%s",
                 key + strlen(key) - 10);
        rq_redis_appendf(r, "GET %s", key);
        rq_day_key(key, sizeof(key), k.failed, t);
        rq_redis_appendf(r, "GET %s", key);
    }
    for (i = 0; i < n; i++) {
        for (j = 0; j < 2; j++) {
            rep = rq_redis_reply(r);
            if (rep == NULL) {
                return rq_ierr(err, errlen, r, NULL);   /* no more replies */
            }
            if (rep->type == REDIS_REPLY_ERROR) {
                rc = rq_ierr(err, errlen, r, rep);
            }
            *(j == 0 ? &out[i].processed : &out[i].failed) = rq_int(rep);
            freeReplyObject(rep);
        }
    }
    return rc;
}


int
rq_queue_pause(rq_redis_t *r, const char *q, int pause, char *err,
    size_t errlen)
{
    redisReply  *rep;
    rq_keys_t    k;
    int          rc = 0;

    /* as asynq: a queue may be paused before anything was enqueued */
    if (rq_keys_init(&k, q) != 0) {
        snprintf(err, errlen, "invalid queue name \"%s\"", q);
        return -1;
    }
    rep = pause ? rq_redis_cmd(r, "SETNX %s %lld", k.paused,
                               (long long) (lt_now_ms() / 1000))
                : rq_redis_cmd(r, "DEL %s", k.paused);
    if (rep == NULL || rep->type != REDIS_REPLY_INTEGER) {
        rc = rq_ierr(err, errlen, r, rep);
    } else if (rep->integer == 0) {
        snprintf(err, errlen, "queue \"%s\" is %s paused", q,
                 pause ? "already" : "not");
        rc = -1;
    }
    freeReplyObject(rep);
    return rc;
}


/* Queue HMGET of one task's fields (msg state result ll_at_ms). */
static void
rq_append_hmget(rq_redis_t *r, const rq_keys_t *k, const char *id,
    size_t idlen)
{
    rq_redis_appendf(r, "HMGET %s%b msg state result " RQ_AT_FIELD,
                     k->task_prefix, id, idlen);
}


/* Fill t from an HMGET reply; -1 when the task hash is gone. */
static int
rq_fill_task(rq_task_info_t *t, const char *id, size_t idlen,
    const redisReply *rep)
{
    const redisReply  *f;

    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "%.*s", (int) idlen, id);
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 4
        || rep->element[0]->type != REDIS_REPLY_STRING)
    {
        return -1;
    }
    f = rep->element[0];
    t->msg = rq_msg_decode(f->str, f->len, t->error, sizeof(t->error));
    f = rep->element[1];
    if (f->type == REDIS_REPLY_STRING) {
        snprintf(t->state, sizeof(t->state), "%.*s", (int) f->len, f->str);
    }
    f = rep->element[2];
    if (f->type == REDIS_REPLY_STRING) {
        t->result = malloc(f->len + 1);
        if (t->result != NULL) {
            memcpy(t->result, f->str, f->len);
            t->result[f->len] = '\0';
            t->result_len = f->len;
        }
    }
    f = rep->element[3];
    if (f->type == REDIS_REPLY_STRING) {
        t->due_ms = strtoll(f->str, NULL, 10);
    }
    return 0;
}


int
rq_task_list(rq_redis_t *r, const char *q, const char *state, long offset,
    long limit, rq_task_info_t **tasks, size_t *n, char *err, size_t errlen)
{
    redisReply      *ids, *rep;
    rq_task_info_t  *out;
    rq_keys_t        k;
    const char      *key;
    size_t           i, step, cnt, got = 0;
    int              list;

    if (rq_known_queue(r, q, &k, err, errlen) != 0) {
        return -1;
    }
    key = rq_state_key(&k, state);
    if (key == NULL) {
        snprintf(err, errlen, "unknown state \"%s\" (pending, active, "
                 "scheduled, retry, archived or completed)", state);
        return -1;
    }
    list = strcmp(state, "pending") == 0 || strcmp(state, "active") == 0;
    /* lists: the oldest is at the right end, so count from there */
    ids = list ? rq_redis_cmd(r, "LRANGE %s %ld %ld", key, -offset - limit,
                              -offset - 1)
               : rq_redis_cmd(r, "ZRANGE %s %ld %ld WITHSCORES", key, offset,
                              offset + limit - 1);
    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY) {
        rq_ierr(err, errlen, r, ids);
        freeReplyObject(ids);
        return -1;
    }
    step = list ? 1 : 2;
    cnt = ids->elements / step;
    out = calloc(cnt ? cnt : 1, sizeof(*out));
    if (out == NULL || rq_redis_get(r) == NULL) {
        free(out);
        freeReplyObject(ids);
        snprintf(err, errlen, "out of memory or redis gone");
        return -1;
    }
    for (i = 0; i < cnt; i++) {
        /* lists come newest first: read them backwards */
        const redisReply *id = ids->element[list ? cnt - 1 - i : i * step];

        rq_append_hmget(r, &k, id->str, id->len);
    }
    for (i = 0; i < cnt; i++) {
        const redisReply *id = ids->element[list ? cnt - 1 - i : i * step];

        rep = rq_redis_reply(r);
        if (rq_fill_task(&out[got], id->str, id->len, rep) == 0) {
            if (!list) {
                out[got].score = strtoll(ids->element[i * 2 + 1]->str, NULL,
                                         10);
            }
            got++;
        }
        freeReplyObject(rep);
    }
    freeReplyObject(ids);
    *tasks = out;
    *n = got;
    return 0;
}


int
rq_task_get(rq_redis_t *r, const char *q, const char *id, rq_task_info_t *t,
    char *err, size_t errlen)
{
    redisReply  *rep;
    rq_keys_t    k;
    const char  *zkey;

    if (rq_known_queue(r, q, &k, err, errlen) != 0) {
        return -1;
    }
    rq_append_hmget(r, &k, id, strlen(id));
    rep = rq_redis_reply(r);
    if (rep == NULL) {
        return rq_ierr(err, errlen, r, NULL);
    }
    if (rq_fill_task(t, id, strlen(id), rep) != 0) {
        freeReplyObject(rep);
        snprintf(err, errlen, "task \"%s\" not found in queue \"%s\"", id, q);
        return -1;
    }
    freeReplyObject(rep);
    zkey = rq_state_key(&k, t->state);
    if (zkey != NULL && strcmp(t->state, "pending") != 0
        && strcmp(t->state, "active") != 0)
    {
        rep = rq_redis_cmd(r, "ZSCORE %s %s", zkey, id);
        if (rep != NULL && rep->type == REDIS_REPLY_STRING) {
            t->score = strtoll(rep->str, NULL, 10);
        }
        freeReplyObject(rep);
    }
    return 0;
}


void
rq_task_info_clear(rq_task_info_t *t)
{
    if (t->msg != NULL) {
        asynq__task_message__free_unpacked(t->msg, NULL);
    }
    free(t->result);
    t->msg = NULL;
    t->result = NULL;
}


void
rq_tasks_free(rq_task_info_t *t, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        rq_task_info_clear(&t[i]);
    }
    free(t);
}


/* argv for one op: KEYS then ARGV, as in rq_scripts.c. */
typedef struct {
    rq_script_t    *script;
    int             nkeys;
    int             argc;
    const char     *argv[8];
    char            hash[RQ_KEY_MAX + RQ_ID_MAX];
    char            qprefix[RQ_KEY_MAX];
    char            now[24];
    char            cutoff[24];
    char            max[24];
} rq_op_t;


static void
rq_op_prepare(rq_op_t *o, const rq_keys_t *k, const char *id, int op)
{
    int64_t  now = lt_now_ms() / 1000;

    snprintf(o->hash, sizeof(o->hash), "%s%s", k->task_prefix, id);
    snprintf(o->qprefix, sizeof(o->qprefix), "asynq:{%s}:", k->name);
    snprintf(o->now, sizeof(o->now), "%lld", (long long) now);
    snprintf(o->cutoff, sizeof(o->cutoff), "%lld",
             (long long) (now - RQ_ARCHIVE_AGE_S));
    snprintf(o->max, sizeof(o->max), "%d", RQ_ARCHIVE_MAX);
    o->argv[0] = o->hash;
    switch (op) {
    case RQ_OP_RUN:
        o->script = &rq_s_run_task;
        o->nkeys = 2;
        o->argv[1] = k->pending;
        o->argv[2] = id;
        o->argv[3] = o->qprefix;
        o->argc = 4;
        break;
    case RQ_OP_ARCHIVE:
        o->script = &rq_s_archive_task;
        o->nkeys = 2;
        o->argv[1] = k->archived;
        o->argv[2] = id;
        o->argv[3] = o->qprefix;
        o->argv[4] = o->now;
        o->argv[5] = o->cutoff;
        o->argv[6] = o->max;
        o->argv[7] = k->task_prefix;
        o->argc = 8;
        break;
    default:
        o->script = &rq_s_delete_task;
        o->nkeys = 1;
        o->argv[1] = id;
        o->argv[2] = o->qprefix;
        o->argc = 3;
        break;
    }
}


/* Turn an op script's code into err; 0 for success. */
static int
rq_op_result(const redisReply *rep, rq_redis_t *r, const char *id, int op,
    char *err, size_t errlen)
{
    static const char  *verb[] = { "run", "archive", "delete" };

    if (rep == NULL || rep->type != REDIS_REPLY_INTEGER) {
        return rq_ierr(err, errlen, r, rep);
    }
    switch (rep->integer) {
    case 1:
        return 0;
    case 0:
        snprintf(err, errlen, "task \"%s\" not found", id);
        break;
    case -1:
        snprintf(err, errlen, "cannot %s task \"%s\": it is active",
                 verb[op], id);
        break;
    case -2:
        snprintf(err, errlen, "task \"%s\" is already %s", id,
                 op == RQ_OP_RUN ? "pending" : "archived");
        break;
    default:
        snprintf(err, errlen, "cannot %s task \"%s\": it is aggregating in "
                 "a group", verb[op], id);
        break;
    }
    return -1;
}


int
rq_task_op(rq_redis_t *r, const char *q, const char *id, int op, char *err,
    size_t errlen)
{
    redisReply  *rep;
    rq_keys_t    k;
    rq_op_t      o;
    int          rc;

    if (rq_known_queue(r, q, &k, err, errlen) != 0) {
        return -1;
    }
    rq_op_prepare(&o, &k, id, op);
    rep = rq_redis_eval(r, o.script, o.nkeys, o.argc, o.argv, NULL);
    rc = rq_op_result(rep, r, id, op, err, errlen);
    freeReplyObject(rep);
    return rc;
}


int
rq_task_op_all(rq_redis_t *r, const char *q, const char *state, int op,
    size_t *done, char *err, size_t errlen)
{
    redisReply  *ids, *rep;
    rq_keys_t    k;
    rq_op_t      o;
    const char  *key;
    char         e1[256];
    size_t       i, sent;
    int          list, rc = 0;

    *done = 0;
    if (rq_known_queue(r, q, &k, err, errlen) != 0) {
        return -1;
    }
    key = rq_state_key(&k, state);
    if (key == NULL || strcmp(state, "active") == 0) {
        snprintf(err, errlen, "state must be pending, scheduled, retry, "
                 "archived or completed");
        return -1;
    }
    list = strcmp(state, "pending") == 0;
    ids = list ? rq_redis_cmd(r, "LRANGE %s 0 -1", key)
               : rq_redis_cmd(r, "ZRANGE %s 0 -1", key);
    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY) {
        rq_ierr(err, errlen, r, ids);
        freeReplyObject(ids);
        return -1;
    }
    rq_op_prepare(&o, &k, "", op);  /* only to learn the script */
    if (rq_redis_load(r, o.script) != 0) {
        freeReplyObject(ids);
        return rq_ierr(err, errlen, r, NULL);
    }
    for (sent = 0; sent < ids->elements; sent++) {
        char  id[RQ_ID_MAX + 1];

        snprintf(id, sizeof(id), "%.*s", (int) ids->element[sent]->len,
                 ids->element[sent]->str);
        rq_op_prepare(&o, &k, id, op);
        if (rq_redis_append_eval(r, o.script, o.nkeys, o.argc, o.argv, NULL)
            != 0)
        {
            break;
        }
    }
    for (i = 0; i < sent; i++) {
        rep = rq_redis_reply(r);
        if (rq_op_result(rep, r, "", op, e1, sizeof(e1)) == 0) {
            (*done)++;
        } else if (rep == NULL) {
            snprintf(err, errlen, "%s", e1);
            rc = -1;
        }
        freeReplyObject(rep);
    }
    freeReplyObject(ids);
    return rc;
}


int
rq_task_cancel(rq_redis_t *r, const char *q, const char *id, char *err,
    size_t errlen)
{
    redisReply  *rep;
    rq_keys_t    k;
    char       **names = NULL, *one = (char *) q, state[16] = "";
    char         where[RQ_QNAME_MAX + 1] = "";
    size_t       n = 1, i;
    int          rc = 0;

    /* the PUBLISH is answered by nobody: find the task first */
    if (q == NULL && rq_queue_names(r, &names, &n, err, errlen) != 0) {
        return -1;
    }
    for (i = 0; i < n && state[0] == '\0'; i++) {
        if (rq_keys_init(&k, q != NULL ? one : names[i]) != 0) {
            continue;
        }
        rep = rq_redis_cmd(r, "HGET %s%s state", k.task_prefix, id);
        if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
            rc = rq_ierr(err, errlen, r, rep);
            freeReplyObject(rep);
            rq_names_free(names, q == NULL ? n : 0);
            return rc;
        }
        if (rep->type == REDIS_REPLY_STRING) {
            snprintf(state, sizeof(state), "%s", rep->str);
            snprintf(where, sizeof(where), "%s", k.name);
        }
        freeReplyObject(rep);
    }
    rq_names_free(names, q == NULL ? n : 0);
    if (state[0] == '\0') {
        if (q != NULL) {
            snprintf(err, errlen, "task \"%s\" not found in queue \"%s\"", id,
                     q);
        } else {
            snprintf(err, errlen, "task \"%s\" not found", id);
        }
        return -1;
    }
    if (strcmp(state, "active") != 0) {
        snprintf(err, errlen, "task \"%s\" in queue \"%s\" is %s, not running: "
                 "nothing to cancel", id, where, state);
        return -1;
    }
    rep = rq_redis_cmd(r, "PUBLISH asynq:cancel %s", id);
    if (rep == NULL || rep->type != REDIS_REPLY_INTEGER) {
        rc = rq_ierr(err, errlen, r, rep);
    }
    freeReplyObject(rep);
    return rc;
}
