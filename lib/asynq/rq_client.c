/*
 * rq_client: build a TaskMessage as the Go client does (docs/asynq-compat.md 4.1)
 * and store it with the script of 3.2-3.4.  Scheduled tasks also get the
 * precise due time in ll_at_ms (the zset score stays whole seconds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rq_client.h"
#include "rq_scripts.h"

/* tasks per rq_s_enqueue_batch call, so that one call keeps Redis busy
 * for about a millisecond at most */
#define RQ_CHUNK  512

/* One prepared enqueue: the script, its keys and arguments. */
typedef struct {
    rq_script_t    *script;
    const char     *kind;           /* its rq_s_enqueue_batch kind */
    int             argc;
    int             nkeys;
    const char     *argv[8];
    size_t          len[8];
    const char     *queue;
    char            hash[RQ_KEY_MAX];
    char            cont[RQ_KEY_MAX];
    char            lock[RQ_KEY_MAX];
    char            ttl[24];
    char            score[24];
    char            now[24];
    char            at[24];
    uint8_t        *msg;
    size_t          msglen;
} rq_enq_t;


static int
rq_enq_invalid(rq_enq_out_t *out, const char *why)
{
    snprintf(out->error, sizeof(out->error), "redisq: invalid task: %s", why);
    out->rc = RQ_EINVAL;
    return RQ_EINVAL;
}


static int
rq_enq_nomem(rq_enq_out_t *out)
{
    snprintf(out->error, sizeof(out->error), "redisq: out of memory");
    out->rc = RQ_ENOMEM;
    return RQ_ENOMEM;
}


/* Seconds from ms, rounding a positive sub-second value up to 1 s (Go
 * would truncate it to 0, which means "none"). */
static int64_t
rq_secs(int64_t ms)
{
    return ms > 0 && ms < 1000 ? 1 : ms / 1000;
}


/* Fill e from m (times relative to now_ms).  k holds the keys of the
 * queue named in k->name ("" none), and gets those of m's queue: a run of
 * tasks for one queue builds them once.  RQ_OK, RQ_EINVAL or RQ_ENOMEM. */
static int
rq_enq_prepare(rq_enq_t *e, const ll_msg_t *m, int64_t now_ms,
    rq_keys_t *k, rq_enq_out_t *out)
{
    Asynq__TaskMessage                 tm = ASYNQ__TASK_MESSAGE__INIT;
    Asynq__TaskMessage__HeadersEntry  *hv = NULL, **hp = NULL;
    char                              *hbuf = NULL, *p;
    size_t                             i, hlen = 0;
    int64_t                            ttl_s = 0, unique_ttl, retention;
    int                                scheduled, unique, rc = RQ_OK;

    memset(e, 0, sizeof(*e));
    out->rc = RQ_OK;
    out->error[0] = '\0';
    e->queue = ll_msg_opt_str(m, "queue", "default");
    unique_ttl = ll_msg_opt_num(m, "unique_ttl", 0);
    retention = ll_msg_opt_num(m, "retention", 0);

    if (m->id != NULL) {
        if (!rq_name_ok(m->id, RQ_ID_MAX)) {
            return rq_enq_invalid(out, "blank, too long or non-UTF-8 ID");
        }
        snprintf(out->id, sizeof(out->id), "%s", m->id);
    } else {
        rq_uuid(out->id);
    }
    if (!rq_name_ok(m->type, 4096)) {
        return rq_enq_invalid(out, "blank or non-UTF-8 task type");
    }
    /* k holds the keys of the last queue, or a blank name: a blank queue
     * is checked every time, never taken for the cached one */
    if ((e->queue[0] == '\0' || strcmp(k->name, e->queue) != 0)
        && rq_keys_init(k, e->queue) != 0)
    {
        k->name[0] = '\0';
        return rq_enq_invalid(out, "blank, too long or non-UTF-8 queue name");
    }
    if (m->payload_len > 0 && m->payload == NULL) {
        return rq_enq_invalid(out, "payload length without payload");
    }

    scheduled = m->process_at_ms > now_ms;
    unique = unique_ttl > 0;
    if (unique && unique_ttl < 1000) {
        return rq_enq_invalid(out, "unique TTL must be at least 1s");
    }
    if (m->timeout_ms < 0 || m->deadline_ms < 0 || retention < 0) {
        return rq_enq_invalid(out, "negative timeout, deadline or retention");
    }

    tm.type = (char *) m->type;
    tm.payload.data = (uint8_t *) m->payload;
    tm.payload.len = m->payload_len;
    tm.id = out->id;
    tm.queue = (char *) e->queue;
    tm.retry = m->max_retry < 0 ? RQ_DEFAULT_RETRY : m->max_retry;
    tm.timeout = rq_secs(m->timeout_ms);
    tm.deadline = m->deadline_ms / 1000;
    if (tm.timeout == 0 && tm.deadline == 0) {
        tm.timeout = RQ_DEFAULT_TIMEOUT_S;
    }
    tm.retention = rq_secs(retention);

    if (unique) {
        if (rq_unique_key(e->lock, sizeof(e->lock), e->queue, m->type,
                          m->payload, m->payload_len) != 0)
        {
            return rq_enq_invalid(out, "task type too long");
        }
        tm.unique_key = e->lock;
        ttl_s = scheduled
                ? (m->process_at_ms + unique_ttl - now_ms) / 1000
                : unique_ttl / 1000;
    }

    /* headers: map<string,string>, so NUL-terminated UTF-8 copies */
    if (m->nheaders > 0) {
        for (i = 0; i < m->nheaders; i++) {
            hlen += m->headers[i].value_len + 1;
        }
        hv = calloc(m->nheaders, sizeof(*hv));
        hp = calloc(m->nheaders, sizeof(*hp));
        hbuf = malloc(hlen);
        if (hv == NULL || hp == NULL || hbuf == NULL) {
            rc = rq_enq_nomem(out);
            goto done;
        }
        for (i = 0, p = hbuf; i < m->nheaders; i++) {
            const ll_header_t  *h = &m->headers[i];

            if (h->name == NULL || !rq_utf8_valid(h->name, strlen(h->name))
                || (h->value_len > 0 && h->value == NULL)
                || memchr(h->value ? h->value : "", '\0', h->value_len)
                || !rq_utf8_valid(h->value ? h->value : "", h->value_len))
            {
                rc = rq_enq_invalid(out, "header names and values must be "
                                    "UTF-8 text without NUL");
                goto done;
            }
            asynq__task_message__headers_entry__init(&hv[i]);
            hv[i].key = (char *) h->name;
            if (h->value_len > 0) {
                memcpy(p, h->value, h->value_len);
            }
            p[h->value_len] = '\0';
            hv[i].value = p;
            p += h->value_len + 1;
            hp[i] = &hv[i];
        }
        tm.n_headers = m->nheaders;
        tm.headers = hp;
    }

    e->msg = rq_msg_pack(&tm, &e->msglen);
    if (e->msg == NULL) {
        rc = rq_enq_nomem(out);
        goto done;
    }

    rq_task_key(e->hash, sizeof(e->hash), k, out->id);
    snprintf(e->cont, sizeof(e->cont), "%s",
             scheduled ? k->scheduled : k->pending);
    snprintf(e->ttl, sizeof(e->ttl), "%lld", (long long) ttl_s);
    snprintf(e->now, sizeof(e->now), "%lld", (long long) now_ms * 1000000);
    snprintf(e->score, sizeof(e->score), "%lld",
             (long long) (m->process_at_ms / 1000));
    snprintf(e->at, sizeof(e->at), "%lld", (long long) m->process_at_ms);

#define RQ_A(s, l)  (e->argv[e->argc] = (s), e->len[e->argc++] = (l))
#define RQ_S(s)     RQ_A(s, strlen(s))
    if (!scheduled && !unique) {
        e->script = &rq_s_enqueue;
        e->kind = "e";
        e->nkeys = 2;
        RQ_S(e->hash); RQ_S(e->cont);
        RQ_A((char *) e->msg, e->msglen); RQ_S(out->id); RQ_S(e->now);
    } else if (!scheduled) {
        e->script = &rq_s_enqueue_unique;
        e->kind = "u";
        e->nkeys = 3;
        RQ_S(e->lock); RQ_S(e->hash); RQ_S(e->cont);
        RQ_S(out->id); RQ_S(e->ttl); RQ_A((char *) e->msg, e->msglen);
        RQ_S(e->now);
    } else if (!unique) {
        e->script = &rq_s_schedule;
        e->kind = "s";
        e->nkeys = 2;
        RQ_S(e->hash); RQ_S(e->cont);
        RQ_A((char *) e->msg, e->msglen); RQ_S(e->score); RQ_S(out->id);
        RQ_S(e->at);
    } else {
        e->script = &rq_s_schedule_unique;
        e->kind = "S";
        e->nkeys = 3;
        RQ_S(e->lock); RQ_S(e->hash); RQ_S(e->cont);
        RQ_S(out->id); RQ_S(e->ttl); RQ_S(e->score);
        RQ_A((char *) e->msg, e->msglen); RQ_S(e->at);
    }
#undef RQ_A
#undef RQ_S

done:
    free(hv);
    free(hp);
    free(hbuf);
    return rc;
}


uint8_t *
rq_enq_msg(const ll_msg_t *m, int64_t now_ms, size_t *len, rq_enq_out_t *out)
{
    rq_enq_t   e;
    rq_keys_t  k;

    k.name[0] = '\0';
    if (rq_enq_prepare(&e, m, now_ms, &k, out) != RQ_OK) {
        free(e.msg);
        return NULL;
    }
    *len = e.msglen;
    return e.msg;
}


/* Map a script reply to out (1 ok, 0 conflict, -1 duplicate). */
static int
rq_enq_result(const redisReply *rep, rq_redis_t *r, rq_enq_out_t *out)
{
    if (rep == NULL) {
        snprintf(out->error, sizeof(out->error),
                 "redisq: redis unreachable: %s", r->err);
        out->rc = RQ_EREDIS;
    } else if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 1) {
        out->rc = RQ_OK;
    } else if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 0) {
        snprintf(out->error, sizeof(out->error), "%s", RQ_ERR_CONFLICT);
        out->rc = RQ_ECONFLICT;
    } else if (rep->type == REDIS_REPLY_INTEGER && rep->integer == -1) {
        snprintf(out->error, sizeof(out->error), "%s", RQ_ERR_DUP);
        out->rc = RQ_EDUP;
    } else {
        /* an error reply (OOM, READONLY...): Redis may accept it later */
        snprintf(out->error, sizeof(out->error),
                 "redisq: redis unreachable: %.*s",
                 rep->type == REDIS_REPLY_ERROR ? (int) rep->len : 16,
                 rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        out->rc = RQ_EREDIS;
    }
    return out->rc;
}


static int
rq_sadd_queue(rq_redis_t *r, const char *q)
{
    const char  *argv[3] = { "SADD", "asynq:queues", q };

    return rq_redis_append(r, 3, argv, NULL);
}


void
rq_msg_opts(ll_msg_t *m, rq_opts_t *o, const char *queue,
    int64_t unique_ttl_ms, int64_t retention_ms)
{
    size_t  n = 0;

    if (queue != NULL) {
        o->opt[n++] = (ll_opt_t) LL_OPT_S("queue", queue);
    }
    if (unique_ttl_ms != 0) {
        o->opt[n++] = (ll_opt_t) LL_OPT_N("unique_ttl", unique_ttl_ms);
    }
    if (retention_ms != 0) {
        o->opt[n++] = (ll_opt_t) LL_OPT_N("retention", retention_ms);
    }
    m->opts = o->opt;
    m->nopts = n;
}


int
rq_enqueue(rq_redis_t *r, const ll_msg_t *m, rq_enq_out_t *out)
{
    redisReply  *rep;
    rq_enq_t     e;
    rq_keys_t    k;
    int          rc;

    k.name[0] = '\0';
    if (rq_enq_prepare(&e, m, lt_now_ms(), &k, out) != RQ_OK) {
        free(e.msg);
        return out->rc;
    }
    /* SADD and the script in one round trip */
    if (rq_sadd_queue(r, e.queue) != 0
        || rq_redis_append_eval(r, e.script, e.nkeys, e.argc, e.argv, e.len)
           != 0)
    {
        rep = NULL;
    } else {
        freeReplyObject(rq_redis_reply(r));
        rep = rq_redis_reply(r);
        if (rq_redis_is_error(rep, "NOSCRIPT")) {
            freeReplyObject(rep);
            rep = rq_redis_eval(r, e.script, e.nkeys, e.argc, e.argv, e.len);
        }
    }
    rc = rq_enq_result(rep, r, out);
    freeReplyObject(rep);
    free(e.msg);
    return rc;
}


/* The rq_s_enqueue_batch keys and arguments for the prepared tasks of
 * e[0..n) (those with ready[i], all of one queue, whose keys k gets) into
 * argv/len; returns their count. */
static int
rq_batch_argv(const rq_enq_t *e, const int *ready, size_t n,
    const rq_enq_out_t *out, rq_keys_t *k, const char **argv, size_t *len)
{
    size_t  i;
    int     c = 0;

#define RQ_A(s, l)  (argv[c] = (s), len[c++] = (l))
#define RQ_S(s)     RQ_A(s, strlen(s))
    for (i = 0; i < n; i++) {
        if (!ready[i]) {
            continue;
        }
        if (c == 0 && strcmp(k->name, e[i].queue) != 0) {
            rq_keys_init(k, e[i].queue);
        }
        if (c == 0) {
            RQ_S(k->pending); RQ_S(k->scheduled);
            RQ_S(k->task_prefix); RQ_S(e[i].now);
        }
        RQ_A(e[i].kind, 1); RQ_S(out[i].id);
        RQ_A((char *) e[i].msg, e[i].msglen);
        if (e[i].kind[0] == 'u' || e[i].kind[0] == 'S') {
            RQ_S(e[i].lock); RQ_S(e[i].ttl);
        }
        if (e[i].kind[0] == 's' || e[i].kind[0] == 'S') {
            RQ_S(e[i].score); RQ_S(e[i].at);
        }
    }
#undef RQ_A
#undef RQ_S
    return c;
}


/* Map the reply of one rq_s_enqueue_batch call to the ready tasks of
 * out[0..n); returns how many were stored. */
static size_t
rq_batch_result(const redisReply *rep, rq_redis_t *r, const int *ready,
    size_t n, rq_enq_out_t *out)
{
    size_t  i, k = 0, ok = 0;
    int     arr = rep != NULL && rep->type == REDIS_REPLY_ARRAY;

    for (i = 0; i < n; i++) {
        if (!ready[i]) {
            continue;
        }
        if (arr && k < rep->elements) {
            ok += rq_enq_result(rep->element[k++], r, &out[i]) == RQ_OK;
        } else {
            rq_enq_result(arr ? NULL : rep, r, &out[i]);
        }
    }
    return ok;
}


/* One chunk of a bulk enqueue on its way: its tasks prepared, one script
 * call sent per run of tasks for the same queue (run[j] its first task),
 * sent[j] 2 once that call met NOSCRIPT. */
typedef struct {
    rq_enq_t        e[RQ_CHUNK];
    int             ready[RQ_CHUNK];
    size_t          run[RQ_CHUNK];
    int             sent[RQ_CHUNK];
    size_t          nrun, cnt;
    rq_enq_out_t   *out;
    int             retry;
} rq_chunk_t;


/* The end of ch's run j. */
static size_t
rq_run_end(const rq_chunk_t *ch, size_t j)
{
    return j + 1 < ch->nrun ? ch->run[j + 1] : ch->cnt;
}


/* Prepare m[0..cnt) into ch and append its SADDs and script calls. */
static void
rq_chunk_send(rq_redis_t *r, rq_chunk_t *ch, const ll_msg_t *m, size_t cnt,
    rq_enq_out_t *out, rq_keys_t *pk, rq_keys_t *k, const char **argv,
    size_t *len)
{
    size_t   i, j;
    int64_t  now = lt_now_ms();
    int      argc;

    ch->cnt = cnt;
    ch->out = out;
    ch->nrun = 0;
    ch->retry = 0;
    for (i = 0; i < cnt; i++) {
        ch->ready[i] = rq_enq_prepare(&ch->e[i], &m[i], now, pk, &out[i])
                       == RQ_OK;
        /* the refused tasks in between belong to no queue */
        if (ch->ready[i] && (ch->nrun == 0
            || strcmp(ch->e[i].queue, ch->e[ch->run[ch->nrun - 1]].queue)))
        {
            ch->run[ch->nrun++] = i;
        }
    }
    for (j = 0; j < ch->nrun; j++) {
        i = ch->run[j];
        argc = rq_batch_argv(&ch->e[i], &ch->ready[i], rq_run_end(ch, j) - i,
                             &out[i], k, argv, len);
        ch->sent[j] = rq_sadd_queue(r, ch->e[i].queue) == 0
                      && rq_redis_append_eval(r, &rq_s_enqueue_batch, 2, argc,
                                              argv, len) == 0;
    }
}


/* Read the replies of ch's calls; returns how many tasks were stored.
 * Calls that met NOSCRIPT are left for rq_chunk_retry (ch->retry). */
static size_t
rq_chunk_read(rq_redis_t *r, rq_chunk_t *ch)
{
    redisReply  *rep;
    size_t       i, j, ok = 0;

    for (j = 0; j < ch->nrun; j++) {
        i = ch->run[j];
        rep = NULL;
        if (ch->sent[j]) {
            freeReplyObject(rq_redis_reply(r));
            rep = rq_redis_reply(r);
            if (rq_redis_is_error(rep, "NOSCRIPT")) {
                ch->sent[j] = 2;
                ch->retry = 1;
                freeReplyObject(rep);
                continue;
            }
        }
        ok += rq_batch_result(rep, r, &ch->ready[i], rq_run_end(ch, j) - i,
                              &ch->out[i]);
        freeReplyObject(rep);
    }
    return ok;
}


/* Once nothing is in the pipeline: run again the calls that met NOSCRIPT
 * (EVAL loads the script), then free ch's messages.  Returns how many
 * tasks were stored. */
static size_t
rq_chunk_retry(rq_redis_t *r, rq_chunk_t *ch, rq_keys_t *k,
    const char **argv, size_t *len)
{
    redisReply  *rep;
    size_t       i, j, ok = 0;
    int          argc;

    for (j = 0; ch->retry && j < ch->nrun; j++) {
        i = ch->run[j];
        if (ch->sent[j] != 2) {
            continue;
        }
        argc = rq_batch_argv(&ch->e[i], &ch->ready[i], rq_run_end(ch, j) - i,
                             &ch->out[i], k, argv, len);
        rep = rq_redis_eval(r, &rq_s_enqueue_batch, 2, argc, argv, len);
        ok += rq_batch_result(rep, r, &ch->ready[i], rq_run_end(ch, j) - i,
                              &ch->out[i]);
        freeReplyObject(rep);
    }
    for (i = 0; i < ch->cnt; i++) {
        free(ch->e[i].msg);
    }
    return ok;
}


size_t
rq_enqueue_many(rq_redis_t *r, const ll_msg_t *m, size_t n,
    rq_enq_out_t *out)
{
    rq_chunk_t   *ch, *cur, *prev = NULL;
    const char  **argv;
    size_t       *len, base = 0, cnt, i, ok = 0;
    rq_keys_t     k, pk;     /* the keys of a run, those of prepare */
    int           flip = 0;

    k.name[0] = pk.name[0] = '\0';
    ch = malloc(sizeof(*ch) * 2);
    argv = malloc(sizeof(*argv) * (4 + 7 * RQ_CHUNK));
    len = malloc(sizeof(*len) * (4 + 7 * RQ_CHUNK));
    if (ch == NULL || argv == NULL || len == NULL) {
        for (i = 0; i < n; i++) {
            rq_enq_nomem(&out[i]);
        }
        free(ch);
        free(argv);
        free(len);
        return 0;
    }
    /* make NOSCRIPT inside the pipeline practically impossible */
    rq_redis_load(r, &rq_s_enqueue_batch);

    /* two chunks in flight: the next one is prepared and sent while Redis
     * runs the one before, whose replies are read after */
    while (base < n || prev != NULL) {
        cur = NULL;
        if (base < n) {
            cnt = n - base < RQ_CHUNK ? n - base : RQ_CHUNK;
            cur = &ch[flip];
            flip ^= 1;
            rq_chunk_send(r, cur, &m[base], cnt, &out[base], &pk, &k, argv,
                          len);
            base += cnt;
        }
        if (prev != NULL) {
            ok += rq_chunk_read(r, prev);
            if (prev->retry && cur != NULL) {
                ok += rq_chunk_read(r, cur);    /* empty the pipeline */
                ok += rq_chunk_retry(r, prev, &k, argv, len);
                prev = cur;
                cur = NULL;
            }
            ok += rq_chunk_retry(r, prev, &k, argv, len);
        }
        prev = cur;
    }
    free(ch);
    free(argv);
    free(len);
    return ok;
}
