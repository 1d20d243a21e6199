/*
 * cron_store: the Redis side of cron.  Every decision that more than one
 * instance could take is one Lua script, judged by Redis's own clock
 * (TIME), so hosts with skewed clocks still agree on leases.  The
 * argument for "exactly once" is in README.md.
 *
 * State per entry, HASH looklook:cron:state:<id>:
 *   fired   the highest tick handled (fired, or given up): never lowered
 *   claim   the tick last claimed, owner = its claimer (a scheduler ID),
 *   lease   Unix ms until which the claim is the owner's
 *   first   the lease end of the tick's first claim: takeovers renew
 *           lease, not this, so the takeover window counts from it
 *   prev    the last tick that enqueued a task, task = that task's ID
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "cron_asynq.h"

/*
 * CLAIM  KEYS: state.  ARGV: tick, owner, lease ms, takeover window ms.
 * Returns {code, tick, wait ms, given-up tick or -1, owner whose expired
 * claim is taken over or ""}.
 *  - an unfinished claim of another owner at or before tick: BUSY while
 *    its lease runs; after it, taken over (GO with that older tick) within
 *    the window after the tick's *first* claim ended (a chain of claimers
 *    that died must not stretch it past the tasks' retention), else given
 *    up (fired = that tick);
 *  - a later tick already claimed or fired: DONE (tick is superseded);
 *  - otherwise the tick is claimed: GO.
 */
static rq_script_t claim_script = RQ_SCRIPT(
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local T = tonumber(ARGV[1])\n"
    "local st = redis.call('HMGET', KEYS[1], 'fired', 'claim', 'owner',"
    " 'lease', 'first')\n"
    "local fired = tonumber(st[1]) or -1\n"
    "local c = tonumber(st[2]) or -1\n"
    "local lease = tonumber(st[4]) or 0\n"
    "local first = tonumber(st[5]) or lease\n"
    "local gave = -1\n"
    "local from = ''\n"
    "if c > T then return {0, T, 0, -1, ''} end\n"
    "if c > fired then\n"
    "  local mine = st[3] == ARGV[2]\n"
    "  if not mine and lease > now then return {1, c, lease - now, -1, ''} end\n"
    "  if not mine and now - first > tonumber(ARGV[4]) then\n"
    "    redis.call('HSET', KEYS[1], 'fired', c)\n"
    "    fired = c\n"
    "    gave = c\n"
    "  else\n"
    "    if not mine then from = st[3] end\n"
    "    if c < T then\n"
    "      redis.call('HSET', KEYS[1], 'claim', c, 'owner', ARGV[2], 'lease',"
    " now + tonumber(ARGV[3]), 'first', first)\n"
    "      return {2, c, 0, -1, from}\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if fired >= T then return {0, fired, 0, gave, ''} end\n"
    "if c ~= T then first = now + tonumber(ARGV[3]) end\n"
    "redis.call('HSET', KEYS[1], 'claim', T, 'owner', ARGV[2], 'lease',"
    " now + tonumber(ARGV[3]), 'first', first)\n"
    "return {2, T, 0, gave, from}\n");

/*
 * FIRED  KEYS: state[, history].  ARGV: tick ("" = manual run), enqueue
 * time s, task id ("" = nothing enqueued), event bytes.
 * Raises the watermark; the first to report a tick records prev, task and
 * one history event (docs/asynq-compat.md 11: keep the newest 1,000).
 * Without the history key (a cluster: asynq names it with no hash tag, so
 * it may live on another node) it returns 2 where the event is due, and
 * the caller writes it there (fired_history).
 */
static rq_script_t fired_script = RQ_SCRIPT(
    "if ARGV[1] ~= '' then\n"
    "  local fired = tonumber(redis.call('HGET', KEYS[1], 'fired')) or -1\n"
    "  if tonumber(ARGV[1]) <= fired then return 0 end\n"
    "  redis.call('HSET', KEYS[1], 'fired', ARGV[1])\n"
    "end\n"
    "if ARGV[3] == '' then return 1 end\n"
    "redis.call('HSET', KEYS[1], 'prev', ARGV[1] ~= '' and ARGV[1] or"
    " ARGV[2], 'task', ARGV[3])\n"
    "if #KEYS == 1 then return 2 end\n"
    "redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -1000)\n"
    "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])\n"
    "return 1\n");

/* RELEASE  KEYS: state.  ARGV: tick, owner.  Ends the lease now, so
 * another instance takes the tick over without waiting. */
static rq_script_t release_script = RQ_SCRIPT(
    "local st = redis.call('HMGET', KEYS[1], 'claim', 'owner', 'fired')\n"
    "if st[1] == ARGV[1] and st[2] == ARGV[2]"
    " and (tonumber(st[3]) or -1) < tonumber(ARGV[1]) then\n"
    "  local t = redis.call('TIME')\n"
    "  redis.call('HSET', KEYS[1], 'lease', tonumber(t[1]) * 1000)\n"
    "end\n"
    "return 0\n");

/* LEAD  KEYS: leader.  ARGV: owner, ttl ms.  1 if owner leads now. */
static rq_script_t lead_script = RQ_SCRIPT(
    "local cur = redis.call('GET', KEYS[1])\n"
    "if cur == false or cur == ARGV[1] then\n"
    "  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "  return 1\n"
    "end\n"
    "return 0\n");

/* RESIGN  KEYS: leader.  ARGV: owner. */
static rq_script_t resign_script = RQ_SCRIPT(
    "if redis.call('GET', KEYS[1]) == ARGV[1] then"
    " redis.call('DEL', KEYS[1]) end\n"
    "return 0\n");

static int64_t
reply_int(const redisReply *r)
{
    if (r == NULL) {
        return -1;
    }
    if (r->type == REDIS_REPLY_INTEGER) {
        return r->integer;
    }
    if (r->type == REDIS_REPLY_STRING) {
        return strtoll(r->str, NULL, 10);
    }
    return -1;
}

static void
claim_decode(const redisReply *r, cron_claim_t *out)
{
    out->code = -1;
    out->from[0] = '\0';
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 5) {
        return;
    }
    if (r->element[4]->type == REDIS_REPLY_STRING) {
        snprintf(out->from, sizeof(out->from), "%s", r->element[4]->str);
    }
    out->code = (int) reply_int(r->element[0]);
    out->tick = reply_int(r->element[1]);
    out->wait_ms = reply_int(r->element[2]);
    out->gave_up = reply_int(r->element[3]);
}

/* One CLAIM call (blocking). */
static void
claim_one(cron_t *cr, cron_entry_t *e, int64_t tick, cron_claim_t *out)
{
    redisReply  *r;
    const char  *argv[5];
    char         t[24], lease[24], window[24];

    snprintf(t, sizeof(t), "%lld", (long long) tick);
    snprintf(lease, sizeof(lease), "%lld", (long long) cr->conf->lease_ms);
    snprintf(window, sizeof(window), "%d", CRON_TAKEOVER_MS);
    argv[0] = e->state_key;
    argv[1] = t;
    argv[2] = cr->owner;
    argv[3] = lease;
    argv[4] = window;
    r = rq_redis_eval(&cr->r, &claim_script, 1, 5, argv, NULL);
    claim_decode(r, out);
    if (r != NULL) {
        freeReplyObject(r);
    }
}

int
cron_store_claim(cron_t *cr, cron_entry_t **e, const int64_t *tick, size_t n,
    cron_claim_t *out)
{
    redisReply  *r;
    const char  *argv[5];
    char         t[24], lease[24], window[24];
    size_t       i, sent = 0;
    int          rc = 0, noscript = 0;

    for (i = 0; i < n; i++) {
        out[i].code = -1;
        out[i].gave_up = -1;
    }
    if (n == 1) {
        claim_one(cr, e[0], tick[0], &out[0]);
        return out[0].code < 0 ? -1 : 0;
    }
    if (rq_redis_get(&cr->r) == NULL) {
        return -1;
    }
    /* a new connection may talk to a Redis that lost its scripts */
    if (cr->r.connects != cr->loaded_for) {
        if (rq_redis_load(&cr->r, &claim_script) != 0) {
            return -1;
        }
        cr->loaded_for = cr->r.connects;
    }
    snprintf(lease, sizeof(lease), "%lld", (long long) cr->conf->lease_ms);
    snprintf(window, sizeof(window), "%d", CRON_TAKEOVER_MS);
    for (i = 0; i < n; i++) {
        snprintf(t, sizeof(t), "%lld", (long long) tick[i]);
        argv[0] = e[i]->state_key;
        argv[1] = t;
        argv[2] = cr->owner;
        argv[3] = lease;
        argv[4] = window;
        if (rq_redis_append_eval(&cr->r, &claim_script, 1, 5, argv, NULL)
            != 0)
        {
            rc = -1;
            break;
        }
        sent++;
    }
    for (i = 0; i < sent; i++) {
        r = rq_redis_reply(&cr->r);
        if (r == NULL) {
            return -1;
        }
        if (rq_redis_is_error(r, "NOSCRIPT")) {
            noscript = 1;       /* redone below, once the pipe is drained */
        } else {
            claim_decode(r, &out[i]);
        }
        freeReplyObject(r);
    }
    for (i = 0; noscript && i < sent; i++) {
        if (out[i].code < 0) {
            claim_one(cr, e[i], tick[i], &out[i]);
        }
    }
    return rc;
}

/* Drain n pipelined replies (what: for the log); -1 if any is missing or
 * an error. */
static int
cron_store_drain(cron_t *cr, size_t n, const char *what)
{
    redisReply  *r;
    int          rc = 0;

    while (n-- > 0) {
        r = rq_redis_reply(&cr->r);
        if (r == NULL) {
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            ll_log(cr->in, LL_LOG_ERR, "%s: %s", what, r->str);
            rc = -1;
        }
        freeReplyObject(r);
    }
    return rc;
}

/*
 * The history event of a tick FIRED recorded in a cluster: the two
 * commands of FIRED's tail, on the history key's node.  Run after the
 * state is recorded, by the one caller whose FIRED raised the watermark,
 * so the event is never written twice; a crash in between loses that one
 * event (history is a view: asynq's own scheduler writes it after its
 * enqueue, separately, too), never a tick.
 */
static void
fired_history(cron_t *cr, cron_entry_t *e, const char *et, const uint8_t *ev,
    size_t evlen)
{
    const char  *argv[4];
    size_t       argl[4];

    argv[0] = "ZREMRANGEBYRANK"; argv[1] = e->history_key;
    argv[2] = "0"; argv[3] = "-1000";
    if (rq_redis_append(&cr->r, 4, argv, NULL) != 0) {
        return;
    }
    argv[0] = "ZADD"; argv[2] = et; argv[3] = (const char *) ev;
    argl[0] = 4; argl[1] = strlen(e->history_key); argl[2] = strlen(et);
    argl[3] = evlen;
    if (rq_redis_append(&cr->r, 4, argv, argl) != 0) {
        cron_store_drain(cr, 1, e->history_key);
        return;
    }
    cron_store_drain(cr, 2, e->history_key);
}

int
cron_store_fired(cron_t *cr, cron_entry_t *e, int64_t tick,
    const char *task_id, int64_t enqueue_time)
{
    redisReply  *r;
    const char  *argv[6];
    size_t       argl[6];
    uint8_t     *ev = NULL;
    size_t       evlen = 0;
    char         t[24], et[24];
    int64_t      rc;
    int          nkeys;

    if (task_id != NULL) {
        ev = cron_encode_event(task_id, enqueue_time, &evlen);
        if (ev == NULL) {
            return -1;
        }
    }
    if (tick >= 0) {
        snprintf(t, sizeof(t), "%lld", (long long) tick);
    } else {
        t[0] = '\0';
    }
    snprintf(et, sizeof(et), "%lld", (long long) enqueue_time);
    /* one script with both keys, unless they may be on two nodes */
    nkeys = cr->rc.mode == RQ_REDIS_CLUSTER ? 1 : 2;
    argv[0] = e->state_key;
    argv[1] = e->history_key;
    argv[nkeys] = t;
    argv[nkeys + 1] = et;
    argv[nkeys + 2] = task_id != NULL ? task_id : "";
    argv[nkeys + 3] = ev != NULL ? (const char *) ev : "";
    argl[0] = strlen(argv[0]);
    argl[1] = strlen(argv[1]);
    argl[nkeys] = strlen(t);
    argl[nkeys + 1] = strlen(et);
    argl[nkeys + 2] = strlen(argv[nkeys + 2]);
    argl[nkeys + 3] = evlen;
    r = rq_redis_eval(&cr->r, &fired_script, nkeys, nkeys + 4, argv, argl);
    if (r == NULL) {
        free(ev);
        cron_redis_failed(cr);
        return -1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        ll_log(cr->in, LL_LOG_ERR, "entry %s: recording tick %lld failed: %s",
               e->id, (long long) tick, r->str);
        freeReplyObject(r);
        free(ev);
        return -1;
    }
    rc = reply_int(r);
    freeReplyObject(r);
    if (rc == 2) {
        fired_history(cr, e, et, ev, evlen);
        rc = 1;
    }
    free(ev);
    return (int) rc;
}

void
cron_store_release(cron_t *cr, cron_entry_t *e, int64_t tick)
{
    redisReply  *r;
    const char  *argv[3];
    char         t[24];

    snprintf(t, sizeof(t), "%lld", (long long) tick);
    argv[0] = e->state_key;
    argv[1] = t;
    argv[2] = cr->owner;
    r = rq_redis_eval(&cr->r, &release_script, 1, 3, argv, NULL);
    if (r != NULL) {
        freeReplyObject(r);
    }
}

int
cron_store_watermarks(cron_t *cr, int64_t *fired)
{
    redisReply  *r;
    const char  *argv[3];
    size_t       i, sent = 0;
    int          rc = 0;

    if (rq_redis_get(&cr->r) == NULL) {
        return -1;
    }
    for (i = 0; i < cr->n; i++) {
        argv[0] = "HGET";
        argv[1] = cr->entries[i].state_key;
        argv[2] = "fired";
        if (rq_redis_append(&cr->r, 3, argv, NULL) != 0) {
            return -1;
        }
        sent++;
    }
    for (i = 0; i < sent; i++) {
        r = rq_redis_reply(&cr->r);
        if (r == NULL) {
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            rc = -1;
        }
        fired[i] = r->type == REDIS_REPLY_STRING ? reply_int(r) : -1;
        freeReplyObject(r);
    }
    return rc;
}

/* Read prev of every entry (0: never) into prev[]. */
static int
cron_store_prevs(cron_t *cr, int64_t *prev)
{
    redisReply  *r;
    const char  *argv[3];
    size_t       i;

    if (rq_redis_get(&cr->r) == NULL) {
        return -1;
    }
    for (i = 0; i < cr->n; i++) {
        argv[0] = "HGET";
        argv[1] = cr->entries[i].state_key;
        argv[2] = "prev";
        if (rq_redis_append(&cr->r, 3, argv, NULL) != 0) {
            return -1;
        }
    }
    for (i = 0; i < cr->n; i++) {
        r = rq_redis_reply(&cr->r);
        if (r == NULL) {
            return -1;
        }
        prev[i] = r->type == REDIS_REPLY_STRING ? reply_int(r) : 0;
        freeReplyObject(r);
    }
    return 0;
}

/*
 * One instance (the leader) publishes the entries as an asynq scheduler,
 * so asynqmon and `asynq cron ls` show each entry once however many
 * instances run it.  The list is written whole in MULTI/EXEC (DEL + RPUSH
 * + EXPIRE), as asynq's heartbeat does with a script.
 */
void
cron_store_heartbeat(cron_t *cr)
{
    redisReply   *r;
    const char  **argv = NULL;
    size_t       *argl = NULL, i, n = 0, cmds = 0;
    uint8_t     **bufs = NULL;
    int64_t      *prev = NULL, ttl_ms, now_s;
    char          ttl[24], score[24], ttl_s[24];
    const char   *a[4];

    ttl_ms = 2 * cr->conf->heartbeat_ms;
    snprintf(ttl, sizeof(ttl), "%lld", (long long) ttl_ms);
    a[0] = CRON_KEY_LEADER;
    a[1] = cr->owner;
    a[2] = ttl;
    r = rq_redis_eval(&cr->r, &lead_script, 1, 3, a, NULL);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        if (r != NULL) {
            freeReplyObject(r);
        }
        return;
    }
    if (r->integer != 1) {
        cr->leader = 0;
        freeReplyObject(r);
        return;
    }
    freeReplyObject(r);
    if (!cr->leader) {
        ll_log(cr->in, LL_LOG_INFO, "publishing %zu entries as asynq scheduler "
               "%s", cr->n, cr->owner);
    }
    cr->leader = 1;

    prev = calloc(cr->n + 1, sizeof(int64_t));
    bufs = calloc(cr->n + 1, sizeof(uint8_t *));
    argv = calloc(cr->n + 2, sizeof(char *));
    argl = calloc(cr->n + 2, sizeof(size_t));
    if (prev == NULL || bufs == NULL || argv == NULL || argl == NULL
        || cron_store_prevs(cr, prev) != 0)
    {
        goto done;
    }
    argv[0] = "RPUSH";
    argv[1] = cr->list_key;
    argl[0] = 5;
    argl[1] = strlen(cr->list_key);
    for (i = 0; i < cr->n; i++) {
        cron_entry_t *e = &cr->entries[i];

        bufs[i] = cron_encode_entry(e->uuid, e->spec_text,
                                    e->handler ? e->id : e->task,
                                    e->payload, strlen(e->payload),
                                    e->options, e->noptions, e->next,
                                    prev[i], &argl[i + 2]);
        if (bufs[i] == NULL) {
            goto done;
        }
        argv[i + 2] = (const char *) bufs[i];
        n++;
    }
    now_s = ll_now_ms() / 1000;
    snprintf(score, sizeof(score), "%lld", (long long) (now_s + ttl_ms / 1000));
    snprintf(ttl_s, sizeof(ttl_s), "%lld", (long long) (ttl_ms / 1000));
    a[0] = "ZADD"; a[1] = CRON_KEY_SCHEDULERS; a[2] = score; a[3] = cr->list_key;
    if (rq_redis_append(&cr->r, 4, a, NULL) != 0) {
        goto done;
    }
    cmds++;
    /* MULTI goes where the list is (its own slot in a cluster) */
    rq_redis_route(&cr->r, cr->list_key);
    a[0] = "MULTI";
    if (rq_redis_append(&cr->r, 1, a, NULL) != 0) {
        goto drain;
    }
    cmds++;
    a[0] = "DEL"; a[1] = cr->list_key;
    if (rq_redis_append(&cr->r, 2, a, NULL) != 0) {
        goto drain;
    }
    cmds++;
    if (n > 0) {
        if (rq_redis_append(&cr->r, (int) n + 2, argv, argl) != 0) {
            goto drain;
        }
        cmds++;
    }
    a[0] = "EXPIRE"; a[1] = cr->list_key; a[2] = ttl_s;
    if (rq_redis_append(&cr->r, 3, a, NULL) != 0) {
        goto drain;
    }
    cmds++;
    a[0] = "EXEC";
    if (rq_redis_append(&cr->r, 1, a, NULL) != 0) {
        goto drain;
    }
    cmds++;
    /* uuid -> entry id, for looklook-cli cron ls / history */
    for (i = 0; i < cr->n; i++) {
        a[0] = "HSET"; a[1] = CRON_KEY_NAMES; a[2] = cr->entries[i].uuid;
        a[3] = cr->entries[i].id;
        if (rq_redis_append(&cr->r, 4, a, NULL) != 0) {
            goto drain;
        }
        cmds++;
    }

drain:
    cron_store_drain(cr, cmds, "scheduler entries");
done:
    for (i = 0; bufs != NULL && i < n; i++) {
        free(bufs[i]);
    }
    free(bufs);
    free(prev);
    free(argv);
    free(argl);
}

void
cron_store_resign(cron_t *cr)
{
    redisReply  *r;
    const char  *a[2];

    if (!cr->leader) {
        return;
    }
    cr->leader = 0;
    a[0] = CRON_KEY_LEADER;
    a[1] = cr->owner;
    r = rq_redis_eval(&cr->r, &resign_script, 1, 2, a, NULL);
    if (r != NULL) {
        freeReplyObject(r);
    }
    r = rq_redis_cmd(&cr->r, "ZREM %s %s", CRON_KEY_SCHEDULERS, cr->list_key);
    if (r != NULL) {
        freeReplyObject(r);
    }
    r = rq_redis_cmd(&cr->r, "DEL %s", cr->list_key);
    if (r != NULL) {
        freeReplyObject(r);
    }
}

size_t
cron_store_run_requests(cron_t *cr, char **out, size_t max)
{
    redisReply  *r;
    size_t       i, n = 0;

    r = rq_redis_cmd(&cr->r, "LPOP %s %d", CRON_KEY_RUN, (int) max);
    if (r == NULL) {
        return 0;
    }
    if (r->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < r->elements && n < max; i++) {
            if (r->element[i]->type == REDIS_REPLY_STRING
                && (out[n] = strdup(r->element[i]->str)) != NULL)
            {
                n++;
            }
        }
    }
    freeReplyObject(r);
    return n;
}

void
cron_store_reply(cron_t *cr, const char *reqid, const char *text)
{
    redisReply  *r;

    r = rq_redis_cmd(&cr->r, "RPUSH %s%s %s", CRON_KEY_REPLY, reqid, text);
    if (r != NULL) {
        freeReplyObject(r);
    }
    r = rq_redis_cmd(&cr->r, "EXPIRE %s%s 60", CRON_KEY_REPLY, reqid);
    if (r != NULL) {
        freeReplyObject(r);
    }
}
