/*
 * looklook-cli queue check [--fix] [Q...]: the asynq invariants
 * (docs/asynq-compat.md 2.4) read from Redis, and with --fix repaired.
 *
 * Per queue: every container has its type (pending/active lists, the
 * others zsets; a wrong one is reported and the queue left alone: only a
 * person knows what that key holds); every task ID found in a container,
 * in lease or as a task key sits in exactly one container, once, with its
 * hash, whose state names that container and whose msg decodes; every
 * active task is leased; every lease entry is active; no hash is in no
 * container.
 *
 * The verdict for one ID and its repair are one Lua script (CHECK below),
 * run dry for a check, so both always agree, and atomic, so a task that
 * moves while the check runs is judged on what Redis holds at that
 * moment.  A task that some server holds (active with a lease that has not
 * expired) is never touched; tasks of groups (aggregating) are left to
 * asynq's aggregator.  Repairs, in order of preference: a key that is not
 * a hash is no task (its ID leaves the containers, the key stays); a msg
 * that does not decode is archived under a stand-in msg (type
 * looklook:undecodable, the original bytes as payload); an ID in several
 * containers keeps the one its state names; a state that names no
 * container it is in takes the container's; a hash in no container goes
 * where its state says (active: with an expired lease, so a recoverer
 * retries it; no valid state: archived).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rq_inspect.h"
#include "rq_scripts.h"

#define CLI_CHECK_BATCH  500

/* in cli_queue.c */
int cli_redisq_open(cli_ctx_t *ctx, rq_redis_conf_t *rc, rq_redis_t *r);

/* ARGV: queue key prefix "asynq:{q}:", id, now s, dry "1"/"0", the stand-in
 * msg ("" = the msg is good), the bad msg it replaces.  Returns {} when
 * all is well, else {problem, repair}. */
static rq_script_t  cli_s_check = RQ_SCRIPT(
    "local p, id, now, dry = ARGV[1], ARGV[2], tonumber(ARGV[3]),"
    " ARGV[4] == '1'\n"
    "local key = p .. 't:' .. id\n"
    "local lists = {pending = true, active = true}\n"
    "local order = {'active', 'pending', 'retry', 'scheduled', 'archived',"
    " 'completed'}\n"
    "local in_, where, n = {}, {}, 0\n"
    "for _, c in ipairs(order) do\n"
    "  local hit\n"
    "  if lists[c] then\n"
    "    hit = #redis.call('LPOS', p .. c, id, 'COUNT', 0)\n"
    "    if hit == 0 then hit = nil end\n"
    "  else\n"
    "    hit = redis.call('ZSCORE', p .. c, id) and 1\n"
    "  end\n"
    "  if hit then in_[c] = hit; where[#where + 1] = c; n = n + 1 end\n"
    "end\n"
    "local lease = tonumber(redis.call('ZSCORE', p .. 'lease', id))\n"
    "local problems = {}\n"
    "local function bad(s) problems[#problems + 1] = s end\n"
    "local function leave(c)\n"
    "  if lists[c] then redis.call('LREM', p .. c, 0, id)\n"
    "  else redis.call('ZREM', p .. c, id) end\n"
    "end\n"
    "local t = redis.call('TYPE', key).ok\n"
    "if t ~= 'hash' then\n"
    "  if n == 0 and not lease then return {} end\n"
    "  bad(t == 'none' and 'no task hash' or ('its key is a ' .. t))\n"
    "  if not dry then\n"
    "    for _, c in ipairs(where) do leave(c) end\n"
    "    if lease then redis.call('ZREM', p .. 'lease', id) end\n"
    "  end\n"
    "  return {table.concat(problems, '; '), 'dropped from ' ..\n"
    "    (n > 0 and table.concat(where, ', ') or 'lease')}\n"
    "end\n"
    "local state, msg = unpack(redis.call('HMGET', key, 'state', 'msg'))\n"
    "if state == 'aggregating' or redis.call('HEXISTS', key, 'group') == 1"
    " then return {} end\n"
    "if in_.active and lease and lease > now - 30 and state == 'active' then\n"
    "  return {}\n"    /* held by a server: its business */
    "end\n"
    "local target\n"
    "if ARGV[5] ~= '' and (msg or '') == ARGV[6] then\n"
    "  bad('msg does not decode')\n"
    "  target = 'archived'\n"
    "elseif state and in_[state] then\n"
    "  target = state\n"
    "elseif n > 0 then\n"
    "  target = where[1]\n"
    "  bad('state ' .. (state or '(none)') .. ' but in ' .. where[1])\n"
    "elseif state == 'pending' or state == 'active' or state == 'scheduled'"
    " or state == 'retry' or state == 'archived' or state == 'completed'"
    " then\n"
    "  target = state\n"
    "  bad('in no container')\n"
    "else\n"
    "  target = 'archived'\n"
    "  bad('in no container, state ' .. (state or '(none)'))\n"
    "end\n"
    "if n > 1 then bad('in ' .. table.concat(where, ' and ')) end\n"
    "if lists[target] and (in_[target] or 0) > 1 then\n"
    "  bad('in ' .. target .. ' ' .. in_[target] .. ' times')\n"
    "end\n"
    "if target == 'active' and not lease then bad('active without a lease') end\n"
    "if target ~= 'active' and lease then bad('leased but not active') end\n"
    "if #problems == 0 then return {} end\n"
    "if not dry then\n"
    "  for _, c in ipairs(where) do\n"
    "    if c ~= target then leave(c) end\n"
    "  end\n"
    "  if lists[target] then\n"
    "    if (in_[target] or 0) > 1 then\n"
    "      redis.call('LREM', p .. target, in_[target] - 1, id)\n"
    "    elseif not in_[target] then\n"
    "      redis.call('LPUSH', p .. target, id)\n"
    "    end\n"
    "  elseif not in_[target] then\n"
    "    redis.call('ZADD', p .. target, now, id)\n"
    "  end\n"
    "  if target == 'active' and not lease then\n"
    "    redis.call('ZADD', p .. 'lease', now - 60, id)\n"   /* expired */
    "  elseif target ~= 'active' and lease then\n"
    "    redis.call('ZREM', p .. 'lease', id)\n"
    "  end\n"
    "  redis.call('HSET', key, 'state', target)\n"
    "  if ARGV[5] ~= '' and (msg or '') == ARGV[6] then\n"
    "    redis.call('HSET', key, 'msg', ARGV[5])\n"
    "  end\n"
    "end\n"
    "return {table.concat(problems, '; '), 'now ' .. target ..\n"
    "  (target == 'active' and ' (lease expired: a recoverer retries it)'"
    " or '')}\n");


typedef struct {
    char       *id;
    size_t      len;
} cli_id_t;


static int
cli_id_cmp(const void *a, const void *b)
{
    const cli_id_t  *x = a, *y = b;
    size_t           n = x->len < y->len ? x->len : y->len;
    int              c = memcmp(x->id, y->id, n);

    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}


/* Append the elements of an array reply to ids (copies). */
static int
cli_ids_add(cli_id_t **ids, size_t *n, size_t *cap, redisReply *rep,
    size_t skip)
{
    cli_id_t  *grown;
    size_t     i;

    for (i = 0; rep != NULL && rep->type == REDIS_REPLY_ARRAY
                && i < rep->elements; i++)
    {
        if (rep->element[i]->type != REDIS_REPLY_STRING
            || rep->element[i]->len < skip)
        {
            continue;
        }
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 1024;
            grown = realloc(*ids, *cap * sizeof(cli_id_t));
            if (grown == NULL) {
                return -1;
            }
            *ids = grown;
        }
        (*ids)[*n].len = rep->element[i]->len - skip;
        (*ids)[*n].id = malloc((*ids)[*n].len + 1);
        if ((*ids)[*n].id == NULL) {
            return -1;
        }
        memcpy((*ids)[*n].id, rep->element[i]->str + skip, (*ids)[*n].len);
        (*ids)[*n].id[(*ids)[*n].len] = '\0';
        (*n)++;
    }
    return 0;
}


/* The glob pattern matching asynq:{q}:t:* exactly (q's *?[]\ escaped). */
static char *
cli_task_glob(const char *prefix)
{
    char  *g = malloc(2 * strlen(prefix) + 2), *o = g;

    if (g == NULL) {
        return NULL;
    }
    for ( ; *prefix; prefix++) {
        if (strchr("*?[]\\", *prefix) != NULL) {
            *o++ = '\\';
        }
        *o++ = *prefix;
    }
    strcpy(o, "*");
    return g;
}


/* Every ID of queue k: in its containers, in lease, as a task key;
 * sorted, unique.  -1 on a Redis error (printed). */
static int
cli_queue_ids(rq_redis_t *r, const rq_keys_t *k, cli_id_t **ids, size_t *n)
{
    const char         *zkey[] = { k->lease, k->scheduled, k->retry,
                                   k->archived, k->completed };
    redisReply         *rep;
    char               *glob, cursor[32] = "0";
    size_t              cap = 0, i, u;
    int                 rc = 0;

    rep = rq_redis_cmd(r, "LRANGE %s 0 -1", k->pending);
    rc |= cli_ids_add(ids, n, &cap, rep, 0);
    freeReplyObject(rep);
    rep = rq_redis_cmd(r, "LRANGE %s 0 -1", k->active);
    rc |= cli_ids_add(ids, n, &cap, rep, 0);
    freeReplyObject(rep);
    for (i = 0; i < 5; i++) {
        rep = rq_redis_cmd(r, "ZRANGE %s 0 -1", zkey[i]);
        rc |= cli_ids_add(ids, n, &cap, rep, 0);
        freeReplyObject(rep);
    }
    glob = cli_task_glob(k->task_prefix);
    if (glob == NULL) {
        cli_error("out of memory");
        return -1;
    }
    rq_redis_route(r, k->task_prefix);     /* a cluster: the queue's node */
    do {
        rep = rq_redis_cmd(r, "SCAN %s MATCH %s COUNT 1000", cursor, glob);
        if (rep == NULL || rep->type != REDIS_REPLY_ARRAY
            || rep->elements != 2)
        {
            freeReplyObject(rep);
            free(glob);
            cli_error("redis: %s", r->err);
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
        rc |= cli_ids_add(ids, n, &cap, rep->element[1],
                          strlen(k->task_prefix));
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
    free(glob);
    if (rc != 0) {
        cli_error("out of memory");
        return -1;
    }
    if (*n > 0) {
        qsort(*ids, *n, sizeof(cli_id_t), cli_id_cmp);
        for (i = 1, u = 1; i < *n; i++) {
            if (cli_id_cmp(&(*ids)[i], &(*ids)[u - 1]) == 0) {
                free((*ids)[i].id);
            } else {
                (*ids)[u++] = (*ids)[i];
            }
        }
        *n = u;
    }
    return 0;
}


/* The container keys of k that exist with a wrong type; each printed.
 * Returns how many. */
static int
cli_check_types(rq_redis_t *r, const rq_keys_t *k)
{
    const char  *key[] = { k->pending, k->active, k->lease, k->scheduled,
                           k->retry, k->archived, k->completed };
    redisReply  *rep;
    int          i, bad = 0;

    for (i = 0; i < 7; i++) {
        rep = rq_redis_cmd(r, "TYPE %s", key[i]);
        if (rep != NULL && rep->type == REDIS_REPLY_STATUS
            && strcmp(rep->str, "none") != 0
            && strcmp(rep->str, i < 2 ? "list" : "zset") != 0)
        {
            printf("queue \"%s\": %s is a %s, not a %s (left alone: "
                   "repair it by hand)\n", k->name, key[i], rep->str,
                   i < 2 ? "list" : "zset");
            bad++;
        }
        freeReplyObject(rep);
    }
    return bad;
}


/* Check (and fix) ids[0..n) of queue k, pipelined.  Returns the number of
 * tasks with problems, or -1 on a Redis failure. */
static int
cli_check_batch(rq_redis_t *r, const rq_keys_t *k, cli_id_t *ids, size_t n,
    int fix, int64_t now_s)
{
    redisReply          *rep;
    Asynq__TaskMessage  *m;
    uint8_t             *standin[CLI_CHECK_BATCH];
    redisReply          *msgs[CLI_CHECK_BATCH];
    const char          *argv[6];
    size_t               argl[6], i, slen[CLI_CHECK_BATCH];
    char                 prefix[RQ_KEY_MAX], now[24], why[200], err[240];
    int                  found = 0;

    /* the msgs first: decoding is C's job (protobuf) */
    for (i = 0; i < n; i++) {
        rq_redis_appendf(r, "HGET %s%b msg", k->task_prefix, ids[i].id,
                         ids[i].len);
    }
    for (i = 0; i < n; i++) {
        msgs[i] = rq_redis_reply(r);
        standin[i] = NULL;
        slen[i] = 0;
        if (msgs[i] == NULL) {
            while (i-- > 0) {
                freeReplyObject(msgs[i]);
                free(standin[i]);
            }
            cli_error("redis: %s", r->err);
            return -1;
        }
        if (msgs[i]->type != REDIS_REPLY_STRING
            && msgs[i]->type != REDIS_REPLY_NIL)
        {
            continue;   /* no hash: the script says so */
        }
        m = rq_msg_decode(msgs[i]->str ? msgs[i]->str : "", msgs[i]->len,
                          why, sizeof(why));
        if (m != NULL && (strlen(m->id) != ids[i].len
                          || memcmp(m->id, ids[i].id, ids[i].len) != 0))
        {
            snprintf(why, sizeof(why), "task message id \"%.64s\" does not "
                     "match its key", m->id);
            asynq__task_message__free_unpacked(m, NULL);
            m = NULL;
        }
        if (m != NULL) {
            asynq__task_message__free_unpacked(m, NULL);
            continue;
        }
        snprintf(err, sizeof(err), "redisq: %s", why);
        standin[i] = rq_msg_replacement(ids[i].id, k->name,
                                        msgs[i]->str ? msgs[i]->str : "",
                                        msgs[i]->len, err, now_s, &slen[i]);
    }

    snprintf(prefix, sizeof(prefix), "%.*s",
             (int) strlen(k->task_prefix) - 2, k->task_prefix);
    snprintf(now, sizeof(now), "%lld", (long long) now_s);
    for (i = 0; i < n; i++) {
        argv[0] = prefix;   argl[0] = strlen(prefix);
        argv[1] = ids[i].id; argl[1] = ids[i].len;
        argv[2] = now;      argl[2] = strlen(now);
        argv[3] = fix ? "0" : "1"; argl[3] = 1;
        argv[4] = standin[i] ? (char *) standin[i] : "";
        argl[4] = standin[i] ? slen[i] : 0;
        argv[5] = msgs[i]->type == REDIS_REPLY_STRING ? msgs[i]->str : "";
        argl[5] = msgs[i]->type == REDIS_REPLY_STRING ? msgs[i]->len : 0;
        rq_redis_route(r, prefix);  /* keys from ARGV: the queue's node */
        rep = rq_redis_eval(r, &cli_s_check, 0, 6, argv, argl);
        if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
            cli_error("queue \"%s\": task %s: %s", k->name, ids[i].id,
                      rep ? rep->str : r->err);
            found = rep == NULL ? -1 : found + 1;
        } else if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
            printf("queue \"%s\": task %s: %s%s%s\n", k->name, ids[i].id,
                   rep->element[0]->str, fix ? ": fixed, " : "",
                   fix ? rep->element[1]->str : "");
            found++;
        }
        freeReplyObject(rep);
        if (found < 0) {
            break;
        }
    }
    for (i = 0; i < n; i++) {
        freeReplyObject(msgs[i]);
        free(standin[i]);
    }
    return found;
}


/* The queues to check: those named, else asynq:queues and every queue
 * with a key in Redis. */
static int
cli_check_queues(rq_redis_t *r, char ***names, size_t *n)
{
    redisReply  *rep;
    cli_id_t    *ids = NULL;
    char         cursor[32] = "0", err[256], *close, **all;
    size_t       cap = 0, nids = 0, i, k = 0;
    int          rc = 0;

    if (rq_queue_names(r, names, n, err, sizeof(err)) != 0) {
        cli_error("%s", err);
        return -1;
    }
    do {
        rep = rq_redis_cmd(r, "SCAN %s MATCH asynq:{* COUNT 1000", cursor);
        if (rep == NULL || rep->type != REDIS_REPLY_ARRAY
            || rep->elements != 2)
        {
            freeReplyObject(rep);
            cli_error("redis: %s", r->err);
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
        rc |= cli_ids_add(&ids, &nids, &cap, rep->element[1],
                          strlen("asynq:{"));
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
    all = realloc(*names, (*n + nids + 1) * sizeof(char *));
    if (rc != 0 || all == NULL) {
        cli_error("out of memory");
        return -1;
    }
    *names = all;
    for (i = 0; i < nids; i++) {
        close = strchr(ids[i].id, '}');
        if (close != NULL) {
            *close = '\0';
            for (k = 0; k < *n && strcmp(all[k], ids[i].id) != 0; k++) {
                /* void */
            }
            if (k == *n) {
                all[(*n)++] = ids[i].id;
                continue;
            }
        }
        free(ids[i].id);
    }
    free(ids);
    return 0;
}


int
cli_queue_check(cli_ctx_t *ctx, int argc, char **argv)
{
    rq_redis_conf_t   rc;
    rq_redis_t        r;
    rq_keys_t         k;
    cli_id_t         *ids;
    char            **names = NULL;
    size_t            n = 0, nids, i, j;
    int64_t           now_s = lt_now_ms() / 1000;
    int               fix = 0, status = 0, bad, named = 0, got;

    for (i = 2; i < (size_t) argc; i++) {
        if (strcmp(argv[i], "--fix") == 0) {
            fix = 1;
        } else if (strncmp(argv[i], "--", 2) == 0) {
            cli_error("usage: queue check [--fix] [Q...]");
            return 2;
        } else {
            named++;
        }
    }
    if (cli_redisq_open(ctx, &rc, &r) != 0) {
        return 1;
    }
    if (named == 0 && cli_check_queues(&r, &names, &n) != 0) {
        status = 1;
        goto done;
    }
    for (i = named ? 2 : 0; i < (named ? (size_t) argc : n); i++) {
        const char  *q = named ? argv[i] : names[i];

        if (named && strcmp(q, "--fix") == 0) {
            continue;
        }
        if (rq_keys_init(&k, q) != 0) {
            status = cli_error("invalid queue name \"%s\"", q);
            continue;
        }
        if (cli_check_types(&r, &k) > 0) {
            status = 1;
            continue;
        }
        ids = NULL;
        nids = 0;
        if (cli_queue_ids(&r, &k, &ids, &nids) != 0) {
            status = 1;
            break;
        }
        bad = 0;
        for (j = 0; j < nids && bad >= 0; j += CLI_CHECK_BATCH) {
            got = cli_check_batch(&r, &k, ids + j, nids - j < CLI_CHECK_BATCH
                                  ? nids - j : CLI_CHECK_BATCH, fix, now_s);
            bad = got < 0 ? -1 : bad + got;
        }
        for (j = 0; j < nids; j++) {
            free(ids[j].id);
        }
        free(ids);
        if (bad < 0) {
            status = 1;
            break;
        }
        printf("queue \"%s\": %zu tasks, %d with problems%s\n", k.name, nids,
               bad, bad && fix ? " (fixed)" : "");
        if (bad > 0 && !fix) {
            status = 1;
        }
    }

done:
    rq_names_free(names, n);
    rq_redis_close(&r);
    rq_redis_conf_free(&rc);
    return status;
}
