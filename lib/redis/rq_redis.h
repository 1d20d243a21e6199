/*
 * rq_redis: the one Redis connection helper of looklook (hiredis 0.14).
 *
 * Used by redisq, cron and orders (compile ../redisq/rq_redis.c in; it needs
 * the pkg-config packages hiredis and libcrypto).  How to use it:
 *
 *     rq_redis_conf_t  rc;
 *     rq_redis_t       r;
 *     rq_script_t      incr = RQ_SCRIPT("return redis.call('INCR', KEYS[1])");
 *
 *     if (rq_redis_conf_parse(&rc, "redis://:secret@127.0.0.1:6379/2",
 *                             err, sizeof(err)) != 0) { ... err says why ... }
 *     rc.connect_timeout_ms = 2000;          (optional overrides: username,
 *     rq_redis_conf_set(&rc, NULL, pw, -1);   password, db; -1 = keep)
 *
 *     rq_redis_init(&r, &rc);                (one rq_redis_t per thread)
 *     reply = rq_redis_cmd(&r, "GET %b", key, keylen);
 *     reply = rq_redis_eval(&r, &incr, 1, argv, argvlen);   (argv = keys+args)
 *     if (reply == NULL) { ... r.err says why; the connection is dropped and
 *                          the next call reconnects (with back-off) ... }
 *     freeReplyObject(reply);
 *     rq_redis_close(&r);
 *     rq_redis_conf_free(&rc);
 *
 * A NULL reply always means "no answer from Redis" (unreachable, I/O error,
 * timeout); an error *reply* (REDIS_REPLY_ERROR) is returned as a reply.
 * rq_redis_t is not thread-safe: give each thread its own.  The conf is
 * read-only after set-up and may be shared by any number of rq_redis_t.
 */
#ifndef RQ_REDIS_H_INCLUDED
#define RQ_REDIS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

/* How the Redis to talk to is found. */
typedef enum {
    RQ_REDIS_DIRECT = 0,                /* redis:// or unix:// */
    RQ_REDIS_SENTINEL,                  /* redis-sentinel://: the master the
                                         * sentinels name */
    RQ_REDIS_CLUSTER                    /* redis-cluster://: each key to the
                                         * node serving its slot */
} rq_redis_mode_e;

typedef struct rq_cluster_s  rq_cluster_t;     /* rq_cluster.c */

typedef struct {
    char           *host;
    int             port;
} rq_redis_node_t;

typedef struct {
    rq_redis_mode_e mode;
    char           *host;               /* TCP host, or NULL with path */
    int             port;               /* default 6379 */
    char           *path;               /* unix socket path, or NULL */
    char           *username;           /* ACL user (Redis >= 6), or NULL */
    char           *password;           /* or NULL: no AUTH */
    int             db;                 /* SELECT db when > 0 */
    int64_t         connect_timeout_ms; /* default 2000 */
    int64_t         cmd_timeout_ms;     /* read/write timeout, default 5000;
                                         * 0 = block forever */
    char           *master;             /* sentinel: the master's name */
    rq_redis_node_t *nodes;             /* sentinel: the sentinels; cluster:
                                         * the nodes to load the map from */
    int             nnodes;
} rq_redis_conf_t;

typedef struct {
    const rq_redis_conf_t  *conf;
    redisContext           *c;          /* NULL while disconnected; in a
                                         * cluster the connection to the
                                         * node last routed to (owned by
                                         * cl) */
    rq_cluster_t           *cl;         /* cluster: slot map, connections */
    int64_t                 retry_at_ms;/* no reconnect before this */
    int64_t                 backoff_ms; /* next back-off, 0 after success */
    unsigned                connects;   /* successful connects so far */
    int                     held;       /* the last rq_redis_get made no
                                         * attempt: too soon after a
                                         * failure (r->err is that one's) */
    int                     sentinel;   /* sentinel: the one to ask first
                                         * (the last that answered) */
    char                    err[160];   /* why the last call failed */
} rq_redis_t;

/* A Lua script: its text and SHA1 (computed on first use, thread-safe). */
typedef struct {
    const char     *src;
    char            sha[41];
    int             ready;
} rq_script_t;

#define RQ_SCRIPT(text)  { (text), "", 0 }

/*
 * Parse "redis://[user[:password]@]host[:port][/db]" ("[::1]" for IPv6,
 * %XX escapes in user and password), "unix:///path/redis.sock[?db=N]" or
 * "redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/master
 * [/db]" (sentinel port 26379 by default; the password is the master's,
 * the sentinels get no AUTH) or "redis-cluster://[[user]:password@]host
 * [:port][,host[:port]...]" (nodes to load the slot map from) into rc (zeroed first; strings malloc'ed,
 * freed by rq_redis_conf_free).  NULL or "" means redis://127.0.0.1:6379/0.
 * "rediss://" is refused (hiredis 0.14 has no TLS).  Returns 0, or -1 with
 * a one-line reason in err.  @locality any thread
 */
int rq_redis_conf_parse(rq_redis_conf_t *rc, const char *url, char *err,
    size_t errlen);

/* Override username / password (non-NULL, "" clears) and db (>= 0).
 * Returns 0, -1 when out of memory.  @locality any thread, before use */
int rq_redis_conf_set(rq_redis_conf_t *rc, const char *username,
    const char *password, int db);

/* Free what rq_redis_conf_parse allocated; NULL-safe.  @locality any */
void rq_redis_conf_free(rq_redis_conf_t *rc);

/* "host:port/db", "unix:path/db", "sentinel:master@host:port,.../db" or
 * "cluster:host:port,..." for log lines (no password), into buf.  @locality any thread */
const char *rq_redis_conf_text(const rq_redis_conf_t *rc, char *buf,
    size_t len);

/* Bind r to conf (kept by pointer); connects lazily.  @locality any */
void rq_redis_init(rq_redis_t *r, const rq_redis_conf_t *conf);

/*
 * The connected context (connect, AUTH or else PING, SELECT when
 * needed), or NULL with r->err set when Redis is unreachable or refuses
 * us (NOAUTH, WRONGPASS); after a failure, reconnecting waits
 * 50 ms, doubling to 2 s, so a dead Redis is not hammered.  The context
 * stays owned by r.  With sentinels, every connect asks them for the
 * master's address and checks that it answers ROLE as master; a READONLY,
 * LOADING or MASTERDOWN error reply then counts as no answer (NULL from the
 * calls below, connection dropped), so the next call finds the master
 * again.  In a cluster, the slot map is loaded (CLUSTER SLOTS) when
 * unknown, and the context is that of the node the last command or
 * rq_redis_route went to; the calls below send each command to the node
 * of its key's slot (the first key of EVAL/EVALSHA, else the first
 * argument; a command without key, as MULTI and EXEC, goes where the one
 * before went) and follow MOVED and ASK.  @locality r's thread
 */
redisContext *rq_redis_get(rq_redis_t *r);

/* In a cluster, make the node of key's slot the one key-less commands
 * (MULTI, EXEC) go to; nothing otherwise.  @locality r's thread */
void rq_redis_route(rq_redis_t *r, const char *key);

/* The cluster slot of key: CRC16 of its hash tag ("{...}", when not
 * empty) or of the whole key, mod 16384.  @locality any thread */
unsigned rq_redis_key_slot(const char *key, size_t len);

/* The back-off after one of ms: 50 ms, doubling up to 2 s.  For loops
 * that retry after an error reply, as rq_redis_get does for connects.
 * @locality any thread */
int64_t rq_redis_backoff_next(int64_t ms);

/*
 * Whether Redis answers: connect and PING with back-off until one works
 * or until_ms (Unix ms) has passed; no attempt outlasts it.  Returns 0, or
 * -1 with why the last attempt failed in err.  For a start that must not
 * go on without Redis.  @locality any thread (blocks)
 */
int rq_redis_ping_until(const rq_redis_conf_t *conf, int64_t until_ms,
    char *err, size_t errlen);

/* Drop the connection after an I/O error or a protocol mix-up (the next
 * rq_redis_get reconnects at once, then backs off).  @locality r's thread */
void rq_redis_drop(rq_redis_t *r, const char *why);

/* Disconnect and forget; r may be reused after rq_redis_init.  NULL-safe.
 * @locality r's thread */
void rq_redis_close(rq_redis_t *r);

/* Set the read/write timeout of the current connection (ms, 0 = none);
 * later connections get conf->cmd_timeout_ms again.  @locality r's thread */
int rq_redis_set_timeout(rq_redis_t *r, int64_t ms);

/*
 * Run one command (hiredis format or argv form).  Returns the reply, owned
 * by the caller (freeReplyObject), or NULL with r->err set when there was
 * no answer (the connection is then dropped).  @locality r's thread
 */
redisReply *rq_redis_cmd(rq_redis_t *r, const char *fmt, ...);
redisReply *rq_redis_cmdargv(rq_redis_t *r, int argc, const char **argv,
    const size_t *argvlen);

/*
 * Run script s with nkeys keys followed by the arguments: argv[0..argc-1]
 * (lengths in argvlen; NULL argvlen = strlen).  EVALSHA first, EVAL when
 * Redis answers NOSCRIPT (which also caches it there).  Reply as
 * rq_redis_cmd.  @locality r's thread
 */
redisReply *rq_redis_eval(rq_redis_t *r, rq_script_t *s, int nkeys, int argc,
    const char **argv, const size_t *argvlen);

/*
 * Pipelining: queue EVALSHA of s, or a command (argv or hiredis format),
 * without waiting (returns 0, or -1 with r->err when not connected or out
 * of memory), then read each reply in order with rq_redis_reply (in a
 * cluster, from the node each went to; a redirection there is no answer,
 * NULL, and the slot map is loaded again).  A NOSCRIPT error reply can come back; then
 * run that call again with rq_redis_eval after reading all replies (or call
 * rq_redis_load first, once per connection, to make that practically
 * impossible).  @locality r's thread
 */
int rq_redis_append_eval(rq_redis_t *r, rq_script_t *s, int nkeys, int argc,
    const char **argv, const size_t *argvlen);
int rq_redis_append(rq_redis_t *r, int argc, const char **argv,
    const size_t *argvlen);
int rq_redis_appendf(rq_redis_t *r, const char *fmt, ...);
redisReply *rq_redis_reply(rq_redis_t *r);

/* SCRIPT LOAD s on the current connection.  0 or -1.  @locality r's */
int rq_redis_load(rq_redis_t *r, rq_script_t *s);

/* Whether reply is an error reply starting with prefix ("NOSCRIPT"). */
int rq_redis_is_error(const redisReply *reply, const char *prefix);

#endif /* RQ_REDIS_H_INCLUDED */
