/*
 * rq_scripts: the Lua scripts of every asynq state transition.  Each one
 * writes exactly what asynq's script of the same name writes (see
 * docs/asynq-compat.md, whose section numbers the comments give), plus
 * two looklook additions that asynq readers ignore:
 * the hash field ll_at_ms (precise due time of scheduled/retry tasks), and
 * care for the "every ID has its hash" invariant (an ID found without its
 * hash is dropped from its container instead of getting a hash without
 * msg).  LREM on active counts from the tail (-1): an ID is there once, and
 * the oldest leases sit at the tail, so this finds it at once.
 *
 * Whatever a script meets in Redis, it leaves the asynq invariants intact
 * (docs/asynq-compat.md 2.4): Redis does not undo the writes of a script that
 * fails half-way, so every script checks the types of the keys it will
 * write before its first write (RQ_LUA_TYPES) and returns a WRONGTYPE
 * error having written nothing; a task key that is not a hash is no task
 * (its ID is dropped from the container, the key left alone); counters are
 * written with pcall, so a broken counter key never fails a transition.
 */
#include "rq_scripts.h"
#include "rq_task.h"

/* Stats(p) or Stats(p,f) for n tasks (docs/asynq-compat.md 9): daily keys get
 * EXPIREAT when created, totals are INCRBY (same effect as asynq's INCRs).
 * pcall: a counter key of another type is skipped, the transition kept. */
#define RQ_LUA_STATS                                                        \
    "local function stats(day, total, n, exp)\n"                            \
    "  if n == 0 then return end\n"                                         \
    "  if redis.pcall('INCRBY', day, n) == n then\n"                        \
    "    redis.pcall('EXPIREAT', day, exp)\n"                               \
    "  end\n"                                                               \
    "  redis.pcall('INCRBY', total, n)\n"                                   \
    "end\n"

/* types(key, 'list', key, 'zset', ...): an error reply naming the first
 * key that exists with another type, else nil; ishash(key): the key is a
 * hash (a task); owned(lock, id): the string lock holds id. */
#define RQ_LUA_TYPES                                                        \
    "local function types(...)\n"                                           \
    "  local a = {...}\n"                                                   \
    "  for i = 1, #a, 2 do\n"                                               \
    "    local t = redis.call('TYPE', a[i]).ok\n"                           \
    "    if t ~= 'none' and t ~= a[i + 1] then\n"                           \
    "      return redis.error_reply('WRONGTYPE ' .. a[i] .. ' is a ' .. t\n" \
    "        .. ', not a ' .. a[i + 1])\n"                                  \
    "    end\n"                                                             \
    "  end\n"                                                               \
    "end\n"                                                                 \
    "local function ishash(key)\n"                                          \
    "  return redis.call('TYPE', key).ok == 'hash'\n"                       \
    "end\n"                                                                 \
    "local function owned(lock, id)\n"                                      \
    "  return lock ~= '' and redis.call('TYPE', lock).ok == 'string'\n"     \
    "    and redis.call('GET', lock) == id\n"                               \
    "end\n"

/* Archive trimming (5.6): age, then size, deleting the trimmed hashes. */
#define RQ_LUA_TRIM                                                         \
    "local function trim(zkey, cutoff, max, prefix)\n"                      \
    "  local old = redis.call('ZRANGE', zkey, '-inf', cutoff, 'BYSCORE')\n" \
    "  for _, id in ipairs(old) do\n"                                       \
    "    redis.call('DEL', prefix .. id)\n"                                 \
    "    redis.call('ZREM', zkey, id)\n"                                    \
    "  end\n"                                                               \
    "  local over = redis.call('ZRANGE', zkey, 0, -tonumber(max))\n"        \
    "  for _, id in ipairs(over) do\n"                                      \
    "    redis.call('DEL', prefix .. id)\n"                                 \
    "    redis.call('ZREM', zkey, id)\n"                                    \
    "  end\n"                                                               \
    "end\n"

/* Leave active and lease (5.3-5.7, first step); false = NOT FOUND (not in
 * active: someone else moved the task).  asynq also answers NOT FOUND
 * when the ID is in active without a lease entry, after its LREM: the
 * hash is then left in no container at all (2.4).  Such a task is ours
 * to finish, so a missing lease entry is not an error here.
 * held: the holder's ll_held zset ("" none), left too; expect ("" none):
 * the lease score the caller saw, else NOT FOUND (the task was leased
 * again since: someone else holds it now). */
#define RQ_LUA_UNLEASE                                                      \
    "local function unlease(akey, lkey, id, held, expect)\n"                \
    "  if expect ~= '' and redis.call('ZSCORE', lkey, id) ~= expect then\n" \
    "    return false\n"                                                    \
    "  end\n"                                                               \
    "  if redis.call('LREM', akey, -1, id) == 0 then return false end\n"    \
    "  redis.call('ZREM', lkey, id)\n"                                      \
    "  if held ~= '' then redis.call('ZREM', held, id) end\n"               \
    "  return true\n"                                                       \
    "end\n"

/* After unlease: a task key that became something else than a hash while
 * the task ran is no task; its ID is now in no container (dropped). */
#define RQ_LUA_NOTASK(k)                                                    \
    "if redis.call('TYPE', KEYS[" #k "]).ok ~= 'hash'"                      \
    " and redis.call('EXISTS', KEYS[" #k "]) == 1 then\n"                   \
    "  return redis.error_reply('NOT FOUND: the task key is no hash;"      \
    " ID dropped')\n"                                                       \
    "end\n"


/* 4.2  KEYS: hash, pending.  ARGV: msg, id, now-ns.  1 ok, 0 ID taken. */
rq_script_t  rq_s_enqueue = RQ_SCRIPT(
    RQ_LUA_TYPES
    "local e = types(KEYS[2], 'list') if e then return e end\n"
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'msg', ARGV[1], 'state', 'pending',"
    " 'pending_since', ARGV[3])\n"
    "redis.call('LPUSH', KEYS[2], ARGV[2])\n"
    "return 1\n");

/* 4.3  KEYS: lock, hash, pending.  ARGV: id, ttl s, msg, now-ns.
 * 1 ok, 0 ID taken, -1 duplicate. */
rq_script_t  rq_s_enqueue_unique = RQ_SCRIPT(
    RQ_LUA_TYPES
    "local e = types(KEYS[3], 'list') if e then return e end\n"
    "if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then\n"
    "  return -1\n"
    "end\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end\n"
    "redis.call('HSET', KEYS[2], 'msg', ARGV[3], 'state', 'pending',"
    " 'pending_since', ARGV[4], 'unique_key', KEYS[1])\n"
    "redis.call('LPUSH', KEYS[3], ARGV[1])\n"
    "return 1\n");

/* 4.4  KEYS: hash, scheduled.  ARGV: msg, score s, id, due ms. */
rq_script_t  rq_s_schedule = RQ_SCRIPT(
    RQ_LUA_TYPES
    "local e = types(KEYS[2], 'zset') if e then return e end\n"
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'msg', ARGV[1], 'state', 'scheduled',"
    " '" RQ_AT_FIELD "', ARGV[4])\n"
    "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])\n"
    "return 1\n");

/* 4.4  KEYS: lock, hash, scheduled.  ARGV: id, ttl s, score s, msg, due ms */
rq_script_t  rq_s_schedule_unique = RQ_SCRIPT(
    RQ_LUA_TYPES
    "local e = types(KEYS[3], 'zset') if e then return e end\n"
    "if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then\n"
    "  return -1\n"
    "end\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end\n"
    "redis.call('HSET', KEYS[2], 'msg', ARGV[4], 'state', 'scheduled',"
    " 'unique_key', KEYS[1], '" RQ_AT_FIELD "', ARGV[5])\n"
    "redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])\n"
    "return 1\n");

/* 4.2-4.4 for many tasks of one queue, each written exactly as its own
 * script above would.  KEYS: pending, scheduled.  ARGV: task key prefix,
 * now-ns, then per task a kind and its fields:
 *   e id msg                 enqueue
 *   u id msg lock ttl        enqueue-unique
 *   s id msg score at        schedule
 *   S id msg lock ttl score at   schedule-unique
 * Returns one result per task: 1 ok, 0 ID taken, -1 duplicate, or the
 * WRONGTYPE error its container gives.  The pushes go in one LPUSH and
 * one ZADD at the end (the same list and zset as one push per task). */
rq_script_t  rq_s_enqueue_batch = RQ_SCRIPT(
    RQ_LUA_TYPES
    "local bad = { e = types(KEYS[1], 'list'), s = types(KEYS[2], 'zset') }\n"
    "bad.u, bad.S = bad.e, bad.s\n"
    "local res, push, sched = {}, {}, {}\n"
    "local i = 3\n"
    "while i <= #ARGV do\n"
    "  local kind, id, msg = ARGV[i], ARGV[i + 1], ARGV[i + 2]\n"
    "  local key = ARGV[1] .. id\n"
    "  local lock, ttl, score, at = '', '', '', ''\n"
    "  i = i + 3\n"
    "  if kind == 'u' or kind == 'S' then\n"
    "    lock, ttl = ARGV[i], ARGV[i + 1]\n"
    "    i = i + 2\n"
    "  end\n"
    "  if kind == 's' or kind == 'S' then\n"
    "    score, at = ARGV[i], ARGV[i + 1]\n"
    "    i = i + 2\n"
    "  end\n"
    "  local r\n"
    "  if bad[kind] then\n"
    "    r = bad[kind]\n"
    "  elseif lock ~= '' and not redis.call('SET', lock, id, 'NX', 'EX', ttl)"
    " then\n"
    "    r = -1\n"
    "  elseif redis.call('EXISTS', key) == 1 then\n"
    "    r = 0\n"
    "  elseif kind == 'e' then\n"
    "    redis.call('HSET', key, 'msg', msg, 'state', 'pending',"
    " 'pending_since', ARGV[2])\n"
    "    push[#push + 1] = id\n"
    "  elseif kind == 'u' then\n"
    "    redis.call('HSET', key, 'msg', msg, 'state', 'pending',"
    " 'pending_since', ARGV[2], 'unique_key', lock)\n"
    "    push[#push + 1] = id\n"
    "  elseif kind == 's' then\n"
    "    redis.call('HSET', key, 'msg', msg, 'state', 'scheduled',"
    " '" RQ_AT_FIELD "', at)\n"
    "    sched[#sched + 1] = score\n"
    "    sched[#sched + 1] = id\n"
    "  else\n"
    "    redis.call('HSET', key, 'msg', msg, 'state', 'scheduled',"
    " 'unique_key', lock, '" RQ_AT_FIELD "', at)\n"
    "    sched[#sched + 1] = score\n"
    "    sched[#sched + 1] = id\n"
    "  end\n"
    "  res[#res + 1] = r or 1\n"
    "end\n"
    "if #push > 0 then redis.call('LPUSH', KEYS[1], unpack(push)) end\n"
    "if #sched > 0 then redis.call('ZADD', KEYS[2], unpack(sched)) end\n"
    "return res\n");

/* 5.1, up to n tasks per call.  KEYS: pending, paused, active, lease,
 * this server's ll_held zset (the same leases, so that its tasks can be
 * told apart if it dies).  ARGV: lease expiry s, task key prefix, n.  Returns -1 when paused, else
 * {id1, msg1, id2, msg2, ...}; an ID popped without a hash (or whose key
 * is no hash) is dropped, never leased: its msg is nil.  A hash without a
 * msg is leased like any task, with msg "": the caller archives it.
 * The batch leaves Redis as n RPOPLPUSHes would (the oldest IDs, in the
 * same order in active) but with one LRANGE, LTRIM and LPUSH for all, and
 * the hash's type told by HGET's own answer (pcall: an error is a key of
 * another type) rather than a TYPE per task; the leases go with one ZADD. */
rq_script_t  rq_s_dequeue = RQ_SCRIPT(
    RQ_LUA_TYPES
    "local e = types(KEYS[1], 'list', KEYS[3], 'list', KEYS[4], 'zset',"
    " KEYS[5], 'zset')\n"
    "if e then return e end\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end\n"
    "local ids = redis.call('LRANGE', KEYS[1], -tonumber(ARGV[3]), -1)\n"
    "if #ids == 0 then return {} end\n"
    "redis.call('LTRIM', KEYS[1], 0, -#ids - 1)\n"
    "local out, lease, moved = {}, {}, {}\n"
    "for i = #ids, 1, -1 do\n"
    "  local id = ids[i]\n"
    "  local key = ARGV[2] .. id\n"
    "  local msg = redis.pcall('HGET', key, 'msg')\n"
    "  if type(msg) == 'table' then\n"
    "    msg = false\n"
    "  elseif not msg and redis.call('EXISTS', key) == 1 then\n"
    "    msg = ''\n"
    "  end\n"
    "  if msg then\n"
    "    redis.call('HSET', key, 'state', 'active')\n"
    "    redis.call('HDEL', key, 'pending_since')\n"
    "    moved[#moved + 1] = id\n"
    "    lease[#lease + 1] = ARGV[1]\n"
    "    lease[#lease + 1] = id\n"
    "  end\n"
    "  out[#out + 1] = id\n"
    "  out[#out + 1] = msg\n"
    "end\n"
    "if #moved > 0 then\n"
    "  redis.call('LPUSH', KEYS[3], unpack(moved))\n"
    "  redis.call('ZADD', KEYS[4], unpack(lease))\n"
    "  redis.call('ZADD', KEYS[5], unpack(lease))\n"
    "end\n"
    "return out\n");

/* 5.3 for many tasks.  KEYS: active, lease, processed:<day>, processed.
 * ARGV: stats expiry, task key prefix, the holder's ll_held zset, then
 * pairs (id, lock key or "").
 * Returns one 1 (done) or 0 (NOT FOUND: not in active) per task.  The
 * lease entries and hashes of the found tasks go with one ZREM and one
 * DEL. */
rq_script_t  rq_s_done = RQ_SCRIPT(
    RQ_LUA_STATS RQ_LUA_TYPES
    "local e = types(KEYS[1], 'list', KEYS[2], 'zset', ARGV[3], 'zset')\n"
    "if e then return e end\n"
    "local res, ids, keys = {}, {}, {}\n"
    "for i = 4, #ARGV, 2 do\n"
    "  local id, lock = ARGV[i], ARGV[i + 1]\n"
    "  if redis.call('LREM', KEYS[1], -1, id) ~= 0 then\n"
    "    ids[#ids + 1] = id\n"
    "    keys[#keys + 1] = ARGV[2] .. id\n"
    "    res[#res + 1] = 1\n"
    "    if owned(lock, id) then redis.call('DEL', lock) end\n"
    "  else\n"
    "    res[#res + 1] = 0\n"
    "  end\n"
    "end\n"
    "if #ids > 0 then\n"
    "  redis.call('ZREM', KEYS[2], unpack(ids))\n"
    "  redis.call('ZREM', ARGV[3], unpack(ids))\n"
    "  redis.call('DEL', unpack(keys))\n"
    "end\n"
    "stats(KEYS[3], KEYS[4], #ids, ARGV[1])\n"
    "return res\n");

/* 5.4  KEYS: active, lease, completed, hash, processed:<day>, processed.
 * ARGV: id, stats expiry, expiry s, msg, lock key or "", held, expect
 * (see unlease). */
rq_script_t  rq_s_complete = RQ_SCRIPT(
    RQ_LUA_STATS RQ_LUA_UNLEASE RQ_LUA_TYPES
    "local e = types(KEYS[1], 'list', KEYS[2], 'zset', KEYS[3], 'zset',"
    " ARGV[6], 'zset')\n"
    "if e then return e end\n"
    "if not unlease(KEYS[1], KEYS[2], ARGV[1], ARGV[6], ARGV[7]) then\n"
    "  return redis.error_reply('NOT FOUND')\n"
    "end\n"
    RQ_LUA_NOTASK(4)
    "if redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1]) ~= 1 then\n"
    "  return redis.error_reply('INTERNAL')\n"
    "end\n"
    "redis.call('HSET', KEYS[4], 'msg', ARGV[4], 'state', 'completed')\n"
    "stats(KEYS[5], KEYS[6], 1, ARGV[2])\n"
    "if owned(ARGV[5], ARGV[1]) then redis.call('DEL', ARGV[5]) end\n"
    "return 1\n");

/* 5.5  KEYS: hash, active, lease, retry, processed:<day>, failed:<day>,
 * processed, failed.  ARGV: id, msg, retry-at s, stats expiry,
 * is-failure 1/0, due ms, held, expect (see unlease). */
rq_script_t  rq_s_retry = RQ_SCRIPT(
    RQ_LUA_STATS RQ_LUA_UNLEASE RQ_LUA_TYPES
    "local e = types(KEYS[2], 'list', KEYS[3], 'zset', KEYS[4], 'zset',"
    " ARGV[7], 'zset')\n"
    "if e then return e end\n"
    "if not unlease(KEYS[2], KEYS[3], ARGV[1], ARGV[7], ARGV[8]) then\n"
    "  return redis.error_reply('NOT FOUND')\n"
    "end\n"
    RQ_LUA_NOTASK(1)
    "redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])\n"
    "redis.call('HSET', KEYS[1], 'msg', ARGV[2], 'state', 'retry',"
    " '" RQ_AT_FIELD "', ARGV[6])\n"
    "if ARGV[5] == '1' then\n"
    "  stats(KEYS[5], KEYS[7], 1, ARGV[4])\n"
    "  stats(KEYS[6], KEYS[8], 1, ARGV[4])\n"
    "end\n"
    "return 1\n");

/* 5.6  KEYS: hash, active, lease, archived, processed:<day>, failed:<day>,
 * processed, failed.  ARGV: id, msg, now s, cutoff s, max size, stats
 * expiry, task key prefix, held, expect (see unlease). */
rq_script_t  rq_s_archive = RQ_SCRIPT(
    RQ_LUA_STATS RQ_LUA_UNLEASE RQ_LUA_TRIM RQ_LUA_TYPES
    "local e = types(KEYS[2], 'list', KEYS[3], 'zset', KEYS[4], 'zset',"
    " ARGV[8], 'zset')\n"
    "if e then return e end\n"
    "if not unlease(KEYS[2], KEYS[3], ARGV[1], ARGV[8], ARGV[9]) then\n"
    "  return redis.error_reply('NOT FOUND')\n"
    "end\n"
    RQ_LUA_NOTASK(1)
    "redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])\n"
    "trim(KEYS[4], ARGV[4], ARGV[5], ARGV[7])\n"
    "redis.call('HSET', KEYS[1], 'msg', ARGV[2], 'state', 'archived')\n"
    "stats(KEYS[5], KEYS[7], 1, ARGV[6])\n"
    "stats(KEYS[6], KEYS[8], 1, ARGV[6])\n"
    "return 1\n");

/* 5.7  KEYS: active, lease, pending, hash.  ARGV: id, now-ns, held,
 * expect (see unlease). */
rq_script_t  rq_s_requeue = RQ_SCRIPT(
    RQ_LUA_UNLEASE RQ_LUA_TYPES
    "local e = types(KEYS[1], 'list', KEYS[2], 'zset', KEYS[3], 'list',"
    " ARGV[3], 'zset')\n"
    "if e then return e end\n"
    "if not unlease(KEYS[1], KEYS[2], ARGV[1], ARGV[3], ARGV[4]) then\n"
    "  return redis.error_reply('NOT FOUND')\n"
    "end\n"
    RQ_LUA_NOTASK(4)
    "redis.call('RPUSH', KEYS[3], ARGV[1])\n"
    "redis.call('HSET', KEYS[4], 'state', 'pending', 'pending_since',"
    " ARGV[2])\n"
    "return 1\n");

/* 5.8 with millisecond precision.  KEYS: scheduled or retry, pending.
 * ARGV: now s, task key prefix, now-ns, group key prefix, now ms, limit.
 * Members of earlier seconds are due; members of the current second are
 * due when their ll_at_ms (if any) has come.  Returns {moved, next due ms
 * among those of this second not yet due or -1, 1 if the limit was hit}. */
rq_script_t  rq_s_forward = RQ_SCRIPT(
    RQ_LUA_TYPES
    "local e = types(KEYS[1], 'zset', KEYS[2], 'list') if e then return e end\n"
    "local limit, nowms = tonumber(ARGV[6]), tonumber(ARGV[5])\n"
    "local moved, nextdue, full = 0, -1, 0\n"
    "local function move(id)\n"
    "  local key = ARGV[2] .. id\n"
    "  redis.call('ZREM', KEYS[1], id)\n"
    "  if not ishash(key) then return end\n"
    "  local group = redis.call('HGET', key, 'group')\n"
    "  if group and group ~= '' and types(ARGV[4] .. group, 'zset') == nil"
    " then\n"
    "    redis.call('ZADD', ARGV[4] .. group, ARGV[1], id)\n"
    "    redis.call('HSET', key, 'state', 'aggregating')\n"
    "  else\n"
    "    redis.call('LPUSH', KEYS[2], id)\n"
    "    redis.call('HSET', key, 'state', 'pending', 'pending_since',"
    " ARGV[3])\n"
    "  end\n"
    "  redis.call('HDEL', key, '" RQ_AT_FIELD "')\n"
    "  moved = moved + 1\n"
    "end\n"
    "local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf',"
    " '(' .. ARGV[1], 'LIMIT', 0, limit)\n"
    "for _, id in ipairs(ids) do move(id) end\n"
    "if #ids == limit then return {moved, -1, 1} end\n"
    "ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1],"
    " 'LIMIT', 0, limit)\n"
    "if #ids == limit then full = 1 end\n"
    "for _, id in ipairs(ids) do\n"
    "  local at = ishash(ARGV[2] .. id) and"
    " tonumber(redis.call('HGET', ARGV[2] .. id, '" RQ_AT_FIELD "'))\n"
    "  if at and at > nowms then\n"
    "    if nextdue < 0 or at < nextdue then nextdue = at end\n"
    "  else\n"
    "    move(id)\n"
    "  end\n"
    "end\n"
    "return {moved, nextdue, full}\n");

/* 6, the listing: at most ARGV[4] leases from rank ARGV[3] per call (asynq
 * reads them all in one reply, which can be too big after a crash with a
 * large backlog).  KEYS: lease, active.  ARGV: cutoff s, task key prefix,
 * offset, limit.  Returns
 * {scanned, id1, msg1, ...} of leases expired by cutoff (msg "" for a hash
 * without one: archived by the caller); an ID without a hash (or whose key
 * is no hash) is taken out of lease and active instead (keeps 2.4). */
rq_script_t  rq_s_lease_expired = RQ_SCRIPT(
    RQ_LUA_TYPES
    "local e = types(KEYS[1], 'zset', KEYS[2], 'list') if e then return e end\n"
    "local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1],"
    " 'LIMIT', tonumber(ARGV[3]), tonumber(ARGV[4]))\n"
    "local out = {#ids}\n"
    "for _, id in ipairs(ids) do\n"
    "  if ishash(ARGV[2] .. id) then\n"
    "    out[#out + 1] = id\n"
    "    out[#out + 1] = redis.call('HGET', ARGV[2] .. id, 'msg') or ''\n"
    "  else\n"
    "    redis.call('ZREM', KEYS[1], id)\n"
    "    redis.call('LREM', KEYS[2], 0, id)\n"
    "  end\n"
    "end\n"
    "return out\n");

/* The tasks a dead server still holds (looklook only).  KEYS: its ll_held
 * zset, lease, ll_owners.  ARGV: task key prefix, its server ID, limit.
 * Returns {id1, msg1, score1, ...}: the members whose lease score is still
 * the one that server gave (so nobody leased them again since), with
 * their msg ("" when the hash has none); the other members (finished,
 * recovered elsewhere, key no hash) are dropped from the zset.  Once the
 * zset is empty the server's ll_owners entry goes too. */
rq_script_t  rq_s_held = RQ_SCRIPT(
    RQ_LUA_TYPES
    "local e = types(KEYS[1], 'zset', KEYS[2], 'zset', KEYS[3], 'hash')\n"
    "if e then return e end\n"
    "local out = {}\n"
    "local m = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1,"
    " 'WITHSCORES')\n"
    "for i = 1, #m, 2 do\n"
    "  local id, sc = m[i], m[i + 1]\n"
    "  if redis.call('ZSCORE', KEYS[2], id) == sc"
    " and ishash(ARGV[1] .. id) then\n"
    "    out[#out + 1] = id\n"
    "    out[#out + 1] = redis.call('HGET', ARGV[1] .. id, 'msg') or ''\n"
    "    out[#out + 1] = sc\n"
    "  else\n"
    "    redis.call('ZREM', KEYS[1], id)\n"
    "  end\n"
    "end\n"
    "if #m == 0 then redis.call('HDEL', KEYS[3], ARGV[2]) end\n"
    "return out\n");

/* 9  KEYS: completed.  ARGV: now s, task key prefix, batch.  Returns
 * the number of expired completed tasks deleted. */
rq_script_t  rq_s_janitor = RQ_SCRIPT(
    RQ_LUA_TYPES
    "local e = types(KEYS[1], 'zset') if e then return e end\n"
    "local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1],"
    " 'LIMIT', 0, tonumber(ARGV[3]))\n"
    "for _, id in ipairs(ids) do\n"
    "  redis.call('DEL', ARGV[2] .. id)\n"
    "  redis.call('ZREM', KEYS[1], id)\n"
    "end\n"
    "return #ids\n");

/* Inspector helpers: the task's state decides its container.  Codes:
 * 1 ok, 0 no such task, -1 active, -2 already in the target state,
 * -3 aggregating (groups are left alone). */
#define RQ_LUA_STATE                                                        \
    RQ_LUA_TYPES                                                            \
    "if not ishash(KEYS[1]) then return 0 end\n"                            \
    "local state = redis.call('HGET', KEYS[1], 'state')\n"                  \
    "if not state then return 0 end\n"                                      \
    "local e = types(ARGV[2] .. 'pending', 'list', ARGV[2] .. 'scheduled',"  \
    " 'zset', ARGV[2] .. 'retry', 'zset', ARGV[2] .. 'archived', 'zset',"    \
    " ARGV[2] .. 'completed', 'zset')\n"                                    \
    "if e then return e end\n"                                      \
    "if state == 'active' then return -1 end\n"                             \
    "if state == 'aggregating' then return -3 end\n"                        \
    "local function leave()\n"                                              \
    "  if state == 'pending' then\n"                                        \
    "    redis.call('LREM', ARGV[2] .. 'pending', 0, ARGV[1])\n"            \
    "  else\n"                                                              \
    "    redis.call('ZREM', ARGV[2] .. state, ARGV[1])\n"                   \
    "  end\n"                                                               \
    "end\n"

/* Run now (5.9).  KEYS: hash, pending.  ARGV: id, "asynq:{q}:". */
rq_script_t  rq_s_run_task = RQ_SCRIPT(
    RQ_LUA_STATE
    "if state == 'pending' then return -2 end\n"
    "leave()\n"
    "redis.call('LPUSH', KEYS[2], ARGV[1])\n"
    "redis.call('HSET', KEYS[1], 'state', 'pending')\n"
    "redis.call('HDEL', KEYS[1], '" RQ_AT_FIELD "')\n"
    "return 1\n");

/* Archive (5.9, trimming as 5.6).  KEYS: hash, archived.  ARGV: id,
 * "asynq:{q}:", now s, cutoff s, max size, task key prefix. */
rq_script_t  rq_s_archive_task = RQ_SCRIPT(
    RQ_LUA_TRIM RQ_LUA_STATE
    "if state == 'archived' then return -2 end\n"
    "leave()\n"
    "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])\n"
    "trim(KEYS[2], ARGV[4], ARGV[5], ARGV[6])\n"
    "redis.call('HSET', KEYS[1], 'state', 'archived')\n"
    "return 1\n");

/* Delete (5.9), releasing an owned unique lock.  KEYS: hash.  ARGV: id,
 * "asynq:{q}:". */
rq_script_t  rq_s_delete_task = RQ_SCRIPT(
    RQ_LUA_STATE
    "leave()\n"
    "local lock = redis.call('HGET', KEYS[1], 'unique_key')\n"
    "if lock and owned(lock, ARGV[1]) then redis.call('DEL', lock) end\n"
    "redis.call('DEL', KEYS[1])\n"
    "return 1\n");
