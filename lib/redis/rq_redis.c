/*
 * rq_redis: URL parsing, connecting (AUTH, SELECT), reconnect back-off and
 * EVALSHA/EVAL for hiredis 0.14.  See rq_redis.h for the contract.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/sha.h>

#include "lt_clock.h"
#include "rq_redis.h"
#include "rq_redis_int.h"

#define RQ_BACKOFF_MIN_MS  50
#define RQ_BACKOFF_MAX_MS  2000

static pthread_mutex_t  rq_sha_lock = PTHREAD_MUTEX_INITIALIZER;


/* Copy s[0..n) with %XX escapes decoded; NULL when out of memory. */
static char *
rq_unescape(const char *s, size_t n)
{
    char    *out, *p;
    size_t   i;
    int      hi, lo;

    out = malloc(n + 1);
    if (out == NULL) {
        return NULL;
    }
    for (i = 0, p = out; i < n; i++) {
        if (s[i] == '%' && i + 2 < n
            && isxdigit((unsigned char) s[i + 1])
            && isxdigit((unsigned char) s[i + 2]))
        {
            hi = isdigit((unsigned char) s[i + 1])
                 ? s[i + 1] - '0' : (tolower((unsigned char) s[i + 1]) - 'a' + 10);
            lo = isdigit((unsigned char) s[i + 2])
                 ? s[i + 2] - '0' : (tolower((unsigned char) s[i + 2]) - 'a' + 10);
            *p++ = (char) (hi * 16 + lo);
            i += 2;
        } else {
            *p++ = s[i];
        }
    }
    *p = '\0';
    return out;
}


static int
rq_parse_db(const char *s, size_t n, int *db)
{
    char   buf[16];
    char  *end;
    long   v;

    if (n == 0) {
        return 0;
    }
    if (n >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    v = strtol(buf, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > 100000) {
        return -1;
    }
    *db = (int) v;
    return 0;
}


/* User and password of "user:password@" or "password@" in p..at. */
static int
rq_parse_userinfo(rq_redis_conf_t *rc, const char *p, const char *at)
{
    const char  *colon;

    colon = memchr(p, ':', (size_t) (at - p));
    if (colon != NULL) {
        if (colon > p) {
            rc->username = rq_unescape(p, (size_t) (colon - p));
            if (rc->username == NULL) {
                return -1;
            }
        }
        rc->password = rq_unescape(colon + 1, (size_t) (at - colon - 1));
    } else {
        /* a lone "secret@host" is a password, as in go-redis */
        rc->password = rq_unescape(p, (size_t) (at - p));
    }
    return rc->password != NULL ? 0 : -1;
}


/*
 * "host[:port]" or "[v6][:port]" in p..end into *host (malloc'ed; empty
 * means 127.0.0.1) and *port (untouched without ":port").  0, -1 with err
 * set, -2 when out of memory.
 */
static int
rq_parse_hostport(const char *url, const char *p, const char *end,
    char **host, int *port, char *err, size_t errlen)
{
    const char  *hostend, *colon;
    char        *num;
    long         v;

    if (*p == '[') {
        hostend = memchr(p, ']', (size_t) (end - p));
        if (hostend == NULL) {
            snprintf(err, errlen, "redis url \"%s\": unclosed \"[\"", url);
            return -1;
        }
        *host = strndup(p + 1, (size_t) (hostend - p - 1));
        colon = hostend + 1 < end && hostend[1] == ':' ? hostend + 1 : NULL;
    } else {
        colon = memchr(p, ':', (size_t) (end - p));
        hostend = colon ? colon : end;
        *host = strndup(p, (size_t) (hostend - p));
    }
    if (*host != NULL && **host == '\0') {
        free(*host);
        *host = strdup("127.0.0.1");
    }
    if (*host == NULL) {
        return -2;
    }
    if (colon != NULL) {
        errno = 0;
        v = strtol(colon + 1, &num, 10);
        if (errno != 0 || num != end || v < 1 || v > 65535) {
            snprintf(err, errlen, "redis url \"%s\": bad port", url);
            return -1;
        }
        *port = (int) v;
    }
    return 0;
}


/* The nodes "h:p,h:p" in p..end (port dport when none) into rc->nodes. */
static int
rq_parse_nodes(rq_redis_conf_t *rc, const char *url, const char *p,
    const char *end, int dport, char *err, size_t errlen)
{
    const char  *comma;
    int          n, rv;

    for (n = 1, comma = p; (comma = memchr(comma, ',', (size_t) (end
         - comma))) != NULL; comma++)
    {
        n++;
    }
    rc->nodes = calloc((size_t) n, sizeof(*rc->nodes));
    if (rc->nodes == NULL) {
        return -2;
    }
    while (rc->nnodes < n) {
        comma = memchr(p, ',', (size_t) (end - p));
        comma = comma ? comma : end;
        if (comma == p) {
            snprintf(err, errlen, "redis url \"%s\": empty node address",
                     url);
            return -1;
        }
        rc->nodes[rc->nnodes].port = dport;
        rv = rq_parse_hostport(url, p, comma, &rc->nodes[rc->nnodes].host,
                               &rc->nodes[rc->nnodes].port, err, errlen);
        rc->nnodes++;
        if (rv != 0) {
            return rv;
        }
        p = comma + 1;
    }
    return 0;
}


/* The sentinels "h:p,h:p" in p..end and "/master[/db]" at slash. */
static int
rq_parse_sentinel(rq_redis_conf_t *rc, const char *url, const char *p,
    const char *slash, char *err, size_t errlen)
{
    const char  *name, *dbs;
    int          rv;

    rv = rq_parse_nodes(rc, url, p, slash, 26379, err, errlen);
    if (rv != 0) {
        return rv;
    }
    name = *slash == '/' ? slash + 1 : slash;
    dbs = strchr(name, '/');
    dbs = dbs ? dbs : name + strlen(name);
    if (dbs == name) {
        snprintf(err, errlen, "redis url \"%s\": expected redis-sentinel://"
                 "host:port[,host:port...]/master_name[/db]", url);
        return -1;
    }
    rc->master = rq_unescape(name, (size_t) (dbs - name));
    if (rc->master == NULL) {
        return -2;
    }
    if (*dbs == '/' && rq_parse_db(dbs + 1, strlen(dbs + 1), &rc->db) != 0) {
        snprintf(err, errlen, "redis url \"%s\": bad database number", url);
        return -1;
    }
    return 0;
}


int
rq_redis_conf_parse(rq_redis_conf_t *rc, const char *url, char *err,
    size_t errlen)
{
    const char  *p, *at, *slash, *q;
    int          rv;

    memset(rc, 0, sizeof(*rc));
    rc->port = 6379;
    rc->connect_timeout_ms = 2000;
    rc->cmd_timeout_ms = 5000;

    if (url == NULL || *url == '\0') {
        url = "redis://127.0.0.1:6379/0";
    }

    if (strncmp(url, "unix://", 7) == 0) {
        p = url + 7;
        q = strchr(p, '?');
        if (*p != '/') {
            snprintf(err, errlen, "redis url \"%s\": unix:// needs an "
                     "absolute path (unix:///path/redis.sock)", url);
            return -1;
        }
        rc->path = strndup(p, q ? (size_t) (q - p) : strlen(p));
        if (rc->path == NULL) {
            goto nomem;
        }
        if (q != NULL) {
            if (strncmp(q, "?db=", 4) != 0
                || rq_parse_db(q + 4, strlen(q + 4), &rc->db) != 0)
            {
                snprintf(err, errlen, "redis url \"%s\": only \"?db=N\" may "
                         "follow the socket path", url);
                goto fail;
            }
        }
        return 0;
    }

    if (strncmp(url, "rediss://", 9) == 0) {
        snprintf(err, errlen, "redis url \"%s\": TLS (rediss://) is not "
                 "supported: Debian 12's hiredis has no TLS (put stunnel or "
                 "spiped on loopback in front of Redis)", url);
        return -1;
    }
    if (strncmp(url, "redis-sentinel://", 17) == 0) {
        rc->mode = RQ_REDIS_SENTINEL;
        p = url + 17;
    } else if (strncmp(url, "redis-cluster://", 16) == 0) {
        rc->mode = RQ_REDIS_CLUSTER;
        p = url + 16;
    } else if (strncmp(url, "redis://", 8) == 0) {
        p = url + 8;
    } else {
        /* no "://...@" in the hint: the password masking would cut it */
        snprintf(err, errlen, "redis url \"%s\": expected redis://host"
                 "[:port][/db], unix:///path[?db=N], redis-sentinel://"
                 "host:port[,host:port...]/master_name[/db] or "
                 "redis-cluster://host:port[,host:port...] (user:password@ "
                 "before the host(s) if needed)", url);
        return -1;
    }

    slash = strchr(p, '/');
    if (slash == NULL) {
        slash = p + strlen(p);
    }
    at = memrchr(p, '@', (size_t) (slash - p));
    if (at != NULL) {
        if (rq_parse_userinfo(rc, p, at) != 0) {
            goto nomem;
        }
        p = at + 1;
    }

    if (rc->mode == RQ_REDIS_CLUSTER && *slash != '\0') {
        snprintf(err, errlen, "redis url \"%s\": a cluster has no database "
                 "number (expected redis-cluster://host:port"
                 "[,host:port...])", url);
        goto fail;
    }
    rv = rc->mode == RQ_REDIS_SENTINEL
         ? rq_parse_sentinel(rc, url, p, slash, err, errlen)
         : rc->mode == RQ_REDIS_CLUSTER
         ? rq_parse_nodes(rc, url, p, slash, 6379, err, errlen)
         : rq_parse_hostport(url, p, slash, &rc->host, &rc->port, err,
                             errlen);
    if (rv == -2) {
        goto nomem;
    }
    if (rv != 0) {
        goto fail;
    }

    if (rc->mode == RQ_REDIS_DIRECT && *slash == '/'
        && rq_parse_db(slash + 1, strlen(slash + 1), &rc->db) != 0)
    {
        snprintf(err, errlen, "redis url \"%s\": bad database number", url);
        goto fail;
    }
    return 0;

nomem:
    snprintf(err, errlen, "out of memory");
fail:
    rq_redis_conf_free(rc);
    return -1;
}


int
rq_redis_conf_set(rq_redis_conf_t *rc, const char *username,
    const char *password, int db)
{
    char  *s;

    if (username != NULL) {
        s = *username ? strdup(username) : NULL;
        if (*username && s == NULL) {
            return -1;
        }
        free(rc->username);
        rc->username = s;
    }
    if (password != NULL) {
        s = *password ? strdup(password) : NULL;
        if (*password && s == NULL) {
            return -1;
        }
        free(rc->password);
        rc->password = s;
    }
    if (db >= 0) {
        rc->db = db;
    }
    return 0;
}


void
rq_redis_conf_free(rq_redis_conf_t *rc)
{
    int  i;

    if (rc == NULL) {
        return;
    }
    for (i = 0; i < rc->nnodes; i++) {
        free(rc->nodes[i].host);
    }
    free(rc->nodes);
    free(rc->master);
    free(rc->host);
    free(rc->path);
    free(rc->username);
    free(rc->password);
    rc->host = rc->path = rc->username = rc->password = rc->master = NULL;
    rc->nodes = NULL;
    rc->nnodes = 0;
}


const char *
rq_redis_conf_text(const rq_redis_conf_t *rc, char *buf, size_t len)
{
    size_t  n;
    int     i;

    if (rc->path != NULL) {
        snprintf(buf, len, "unix:%s/%d", rc->path, rc->db);
    } else if (rc->mode != RQ_REDIS_DIRECT) {
        n = rc->mode == RQ_REDIS_SENTINEL
            ? (size_t) snprintf(buf, len, "sentinel:%s@", rc->master)
            : (size_t) snprintf(buf, len, "cluster:");
        for (i = 0; i < rc->nnodes && n < len; i++) {
            n += (size_t) snprintf(buf + n, len - n, "%s%s:%d", i ? "," : "",
                                   rc->nodes[i].host, rc->nodes[i].port);
        }
        if (n < len && rc->mode == RQ_REDIS_SENTINEL) {
            snprintf(buf + n, len - n, "/%d", rc->db);
        }
    } else {
        snprintf(buf, len, "%s:%d/%d", rc->host, rc->port, rc->db);
    }
    return buf;
}


void
rq_redis_init(rq_redis_t *r, const rq_redis_conf_t *conf)
{
    memset(r, 0, sizeof(*r));
    r->conf = conf;
}


struct timeval
rq_redis_tv(int64_t ms)
{
    struct timeval  tv;

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}


/* Run a set-up command (AUTH, SELECT) on a fresh context; 0 or -1. */
static int
rq_setup_cmd(rq_redis_t *r, redisContext *c, int argc, const char **argv)
{
    redisReply  *rep;
    int          rc = 0;

    rep = redisCommandArgv(c, argc, argv, NULL);
    if (rep == NULL) {
        snprintf(r->err, sizeof(r->err), "%s: %s", argv[0],
                 c->errstr[0] ? c->errstr : "no reply");
        return -1;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(r->err, sizeof(r->err), "%s: %.*s", argv[0],
                 (int) rep->len, rep->str);
        rc = -1;
    }
    freeReplyObject(rep);
    return rc;
}


redisContext *
rq_redis_open(rq_redis_t *r, const char *host, int port)
{
    const rq_redis_conf_t  *rc = r->conf;
    redisContext           *c;
    const char             *argv[3];
    struct timeval          tv;

    tv = rq_redis_tv(rc->connect_timeout_ms > 0 ? rc->connect_timeout_ms
                                                : 2000);
    c = rc->path ? redisConnectUnixWithTimeout(rc->path, tv)
                 : redisConnectWithTimeout(host, port, tv);
    if (c == NULL) {
        snprintf(r->err, sizeof(r->err), "connect: out of memory");
        return NULL;
    }
    if (c->err) {
        snprintf(r->err, sizeof(r->err), "connect to %.80s:%d: %.60s",
                 rc->path ? rc->path : host, rc->path ? 0 : port, c->errstr);
        goto fail;
    }
    if (rc->cmd_timeout_ms > 0
        && redisSetTimeout(c, rq_redis_tv(rc->cmd_timeout_ms)) != REDIS_OK)
    {
        snprintf(r->err, sizeof(r->err), "set timeout: %s", c->errstr);
        goto fail;
    }
    if (rc->path == NULL) {
        redisEnableKeepAlive(c);
    }
    if (rc->password != NULL) {
        argv[0] = "AUTH";
        argv[1] = rc->username ? rc->username : rc->password;
        argv[2] = rc->password;
        if (rq_setup_cmd(r, c, rc->username ? 3 : 2, argv) != 0) {
            goto fail;
        }
    } else {
        /* no password: check that the server asks none, or every command
         * of this connection would answer NOAUTH, even after the server
         * stops asking (the connection stays unauthenticated) */
        argv[0] = "PING";
        if (rq_setup_cmd(r, c, 1, argv) != 0) {
            goto fail;
        }
    }
    return c;

fail:
    redisFree(c);
    return NULL;
}


/* Connect r->c to the one Redis (or the sentinels' master); 0 or -1. */
static int
rq_connect(rq_redis_t *r)
{
    const rq_redis_conf_t  *rc = r->conf;
    const char             *argv[2], *host = rc->host;
    char                    db[16], found[256];
    int                     port = rc->port;

    if (rc->mode == RQ_REDIS_CLUSTER) {
        return rq_cluster_get(r);
    }
    if (rc->mode == RQ_REDIS_SENTINEL) {
        if (rq_sentinel_master(r, found, sizeof(found), &port) != 0) {
            return -1;
        }
        host = found;
    }
    r->c = rq_redis_open(r, host, port);
    if (r->c == NULL) {
        return -1;
    }
    if (rc->mode == RQ_REDIS_SENTINEL
        && rq_sentinel_check_role(r, host, port) != 0)
    {
        goto fail;
    }
    if (rc->db > 0) {
        snprintf(db, sizeof(db), "%d", rc->db);
        argv[0] = "SELECT";
        argv[1] = db;
        if (rq_setup_cmd(r, r->c, 2, argv) != 0) {
            goto fail;
        }
    }
    return 0;

fail:
    redisFree(r->c);
    r->c = NULL;
    return -1;
}


redisContext *
rq_redis_get(rq_redis_t *r)
{
    int64_t  now;

    if (r->c != NULL) {
        return r->c;
    }
    now = lt_mono_ms();
    r->held = now < r->retry_at_ms;
    if (r->held) {
        if (r->err[0] == '\0') {
            snprintf(r->err, sizeof(r->err), "redis unreachable");
        }
        return NULL;
    }
    if (rq_connect(r) != 0) {
        r->backoff_ms = rq_redis_backoff_next(r->backoff_ms);
        r->retry_at_ms = now + r->backoff_ms;
        return NULL;
    }
    r->backoff_ms = 0;
    r->connects++;
    r->err[0] = '\0';
    return r->c;
}


int64_t
rq_redis_backoff_next(int64_t ms)
{
    ms = ms > 0 ? ms * 2 : RQ_BACKOFF_MIN_MS;
    return ms < RQ_BACKOFF_MAX_MS ? ms : RQ_BACKOFF_MAX_MS;
}


int
rq_redis_ping_until(const rq_redis_conf_t *conf, int64_t until_ms,
    char *err, size_t errlen)
{
    rq_redis_conf_t   rc = *conf;   /* shares the strings: not freed here */
    rq_redis_t        r;
    redisReply       *rep;
    struct timespec   ts;
    int64_t           left, wait, pause = 0;
    char              why[128];
    int               ok = 0;

    rq_redis_init(&r, &rc);
    do {
        /* no attempt may outlast the deadline */
        left = until_ms - lt_now_ms();
        left = left > 100 ? left : 100;
        rc.connect_timeout_ms = conf->connect_timeout_ms > 0
                                && conf->connect_timeout_ms < left
                                ? conf->connect_timeout_ms : left;
        rc.cmd_timeout_ms = rc.connect_timeout_ms;
        rep = rq_redis_cmd(&r, "PING");
        ok = rep != NULL && rep->type != REDIS_REPLY_ERROR;
        if (rep != NULL && !ok) {   /* LOADING, NOAUTH...: try again */
            snprintf(why, sizeof(why), "PING: %.*s", (int) rep->len,
                     rep->str);
            rq_redis_drop(&r, why);
            pause = rq_redis_backoff_next(pause);
            r.retry_at_ms = lt_mono_ms() + pause;
        }
        freeReplyObject(rep);
        if (!ok) {
            /* sleep until the next attempt the back-off allows */
            left = until_ms - lt_now_ms();
            wait = r.retry_at_ms - lt_mono_ms();
            wait = wait < left ? wait : left;
            if (wait > 0) {
                ts.tv_sec = wait / 1000;
                ts.tv_nsec = (wait % 1000) * 1000000;
                nanosleep(&ts, NULL);
            }
        }
    } while (!ok && left > 0);
    if (!ok) {
        snprintf(err, errlen, "%s", r.err);
    }
    rq_redis_close(&r);
    return ok ? 0 : -1;
}


void
rq_redis_drop(rq_redis_t *r, const char *why)
{
    if (r->c != NULL || (why != NULL && r->cl != NULL)) {
        if (why == NULL) {
            why = r->c->errstr[0] ? r->c->errstr : "connection lost";
        }
        snprintf(r->err, sizeof(r->err), "redis: %s", why);
    }
    if (r->cl != NULL) {
        rq_cluster_drop(r);     /* every node's connection */
    } else if (r->c != NULL) {
        redisFree(r->c);
    }
    r->c = NULL;
    /* the first reconnect is immediate; rq_redis_get backs off after that */
    r->retry_at_ms = 0;
}


void
rq_redis_close(rq_redis_t *r)
{
    if (r == NULL) {
        return;
    }
    if (r->cl != NULL) {
        rq_cluster_free(r);
    } else if (r->c != NULL) {
        redisFree(r->c);
    }
    r->c = NULL;
}


int
rq_redis_set_timeout(rq_redis_t *r, int64_t ms)
{
    if (r->c == NULL) {
        return -1;
    }
    return redisSetTimeout(r->c, rq_redis_tv(ms)) == REDIS_OK ? 0 : -1;
}


/*
 * A reply read on c, checked.  NULL (no reply) makes every connection of
 * r unusable.  With sentinels, a server that is no longer a writable
 * master (demoted: READONLY; a replica cut off: MASTERDOWN; one still
 * loading its data: LOADING) is no answer: it is dropped so the next call
 * asks the sentinels again; a replica never ran a write of the command, so
 * it can be sent again.  In a cluster, a redirection met in a pipeline,
 * and a cluster not serving (CLUSTERDOWN, TRYAGAIN during a slot's
 * migration), are no answer either, and the slot map is loaded again.
 */
static redisReply *
rq_checked(rq_redis_t *r, redisContext *c, redisReply *rep)
{
    char  why[96];
    int   moved;

    if (rep == NULL) {
        rq_redis_drop(r, c != NULL && c->errstr[0] ? c->errstr
                                                   : "connection lost");
        return NULL;
    }
    moved = r->conf->mode == RQ_REDIS_SENTINEL
            ? rq_redis_is_error(rep, "READONLY")
              || rq_redis_is_error(rep, "LOADING")
              || rq_redis_is_error(rep, "MASTERDOWN")
            : r->conf->mode == RQ_REDIS_CLUSTER
            ? rq_redis_is_error(rep, "MOVED ") || rq_redis_is_error(rep, "ASK ")
              || rq_redis_is_error(rep, "CLUSTERDOWN")
              || rq_redis_is_error(rep, "TRYAGAIN")
              || rq_redis_is_error(rep, "LOADING")
            : 0;
    if (moved) {
        snprintf(why, sizeof(why), "%s: %.*s",
                 r->conf->mode == RQ_REDIS_SENTINEL ? "not the master"
                                                    : "cluster",
                 (int) (rep->len < 64 ? rep->len : 64), rep->str);
        freeReplyObject(rep);
        rq_cluster_stale(r);
        rq_redis_drop(r, why);
        return NULL;
    }
    return rep;
}


/* Argument i (0-based) of the formatted command cmd[0..len), or NULL. */
static const char *
rq_cmd_arg(const char *cmd, size_t len, int i, size_t *alen)
{
    const char  *p = cmd, *end = cmd + len;
    char        *num;
    long         n;

    p = memchr(p, '\n', len);              /* past "*N\r\n" */
    while (p != NULL && ++p < end && *p == '$') {
        n = strtol(p + 1, &num, 10);
        if (n < 0 || num + 2 + n > end) {
            return NULL;
        }
        if (i-- == 0) {
            *alen = (size_t) n;
            return num + 2;
        }
        p = num + 2 + n + 1;                /* at the "\n" after the data */
    }
    return NULL;
}


/*
 * The key a cluster routes the formatted command by: the first key of
 * EVAL/EVALSHA, else the first argument, unless the command takes no key
 * (then it goes to the node of the previous one: MULTI ... EXEC stay
 * together).  1 with the key, 0 for none.
 */
static int
rq_cmd_key(const char *cmd, size_t len, const char **key, size_t *klen)
{
    static const char  *keyless[] = { "MULTI", "EXEC", "DISCARD", "PING",
        "INFO", "SCRIPT", "SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE",
        "PUBLISH", "CLUSTER", "TIME", "ECHO", "CLIENT", "CONFIG", "ROLE",
        "DBSIZE", "KEYS", "SCAN", "FLUSHDB", "FLUSHALL", "WAIT", NULL };
    const char         *name, *nk;
    size_t              nlen, nklen;
    int                 i;

    name = rq_cmd_arg(cmd, len, 0, &nlen);
    if (name == NULL) {
        return 0;
    }
    for (i = 0; keyless[i] != NULL; i++) {
        if (strlen(keyless[i]) == nlen && strncasecmp(name, keyless[i], nlen)
            == 0)
        {
            return 0;
        }
    }
    if ((nlen == 4 && strncasecmp(name, "EVAL", 4) == 0)
        || (nlen == 7 && strncasecmp(name, "EVALSHA", 7) == 0))
    {
        nk = rq_cmd_arg(cmd, len, 2, &nklen);
        if (nk == NULL || nklen == 0 || *nk == '0') {
            return 0;
        }
        *key = rq_cmd_arg(cmd, len, 3, klen);
    } else {
        *key = rq_cmd_arg(cmd, len, 1, klen);
    }
    return *key != NULL;
}


/* Send one formatted command and wait for its reply, following a
 * cluster's redirections (at most 5). */
static redisReply *
rq_roundtrip(rq_redis_t *r, char *cmd, int len)
{
    const char  *key = NULL;
    redisReply  *rep;
    void        *v;
    size_t       klen = 0;
    int          hops, ask = 0, routed;

    if (len < 0) {
        snprintf(r->err, sizeof(r->err), "out of memory");
        return NULL;
    }
    routed = r->conf->mode == RQ_REDIS_CLUSTER
             && rq_cmd_key(cmd, (size_t) len, &key, &klen);
    for (hops = 0; ; hops++) {
        if (routed && !ask) {
            rq_cluster_route(r, key, klen);
        }
        if (rq_redis_get(r) == NULL) {
            rep = NULL;
            break;
        }
        if (ask) {
            rep = redisCommand(r->c, "ASKING");
            if (rep == NULL) {
                rep = rq_checked(r, r->c, NULL);
                break;
            }
            freeReplyObject(rep);
        }
        v = NULL;
        if (redisAppendFormattedCommand(r->c, cmd, (size_t) len) != REDIS_OK
            || redisGetReply(r->c, &v) != REDIS_OK)
        {
            v = NULL;
        }
        rep = v;
        if (rep == NULL || hops >= 5 || !rq_cluster_redirect(r, rep, &ask)) {
            rep = rq_checked(r, r->c, rep);
            break;
        }
        freeReplyObject(rep);
    }
    redisFreeCommand(cmd);
    return rep;
}


redisReply *
rq_redis_cmd(rq_redis_t *r, const char *fmt, ...)
{
    va_list   ap;
    char     *cmd = NULL;
    int       n;

    va_start(ap, fmt);
    n = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    return rq_roundtrip(r, cmd, n);
}


redisReply *
rq_redis_cmdargv(rq_redis_t *r, int argc, const char **argv,
    const size_t *argvlen)
{
    char  *cmd = NULL;

    return rq_roundtrip(r, cmd,
                        redisFormatCommandArgv(&cmd, argc, argv, argvlen));
}


static void
rq_script_sha(rq_script_t *s)
{
    unsigned char  md[SHA_DIGEST_LENGTH];
    int            i;

    if (__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE)) {
        return;
    }
    pthread_mutex_lock(&rq_sha_lock);
    if (!s->ready) {
        SHA1((const unsigned char *) s->src, strlen(s->src), md);
        for (i = 0; i < SHA_DIGEST_LENGTH; i++) {
            snprintf(s->sha + 2 * i, 3, "%02x", md[i]);
        }
        __atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&rq_sha_lock);
}


/* Build "EVALSHA|EVAL body nkeys argv..." into a fresh array; -1 on OOM. */
static int
rq_eval_argv(rq_script_t *s, int use_sha, int nkeys, int argc,
    const char **argv, const size_t *argvlen, const char ***pv, size_t **pl,
    char *nk)
{
    const char  **v;
    size_t       *l;
    int           i;

    v = malloc(sizeof(char *) * (size_t) (argc + 3));
    l = malloc(sizeof(size_t) * (size_t) (argc + 3));
    if (v == NULL || l == NULL) {
        free(v);
        free(l);
        return -1;
    }
    snprintf(nk, 16, "%d", nkeys);
    v[0] = use_sha ? "EVALSHA" : "EVAL";
    v[1] = use_sha ? s->sha : s->src;
    v[2] = nk;
    for (i = 0; i < argc; i++) {
        v[i + 3] = argv[i];
        l[i + 3] = argvlen ? argvlen[i] : strlen(argv[i]);
    }
    for (i = 0; i < 3; i++) {
        l[i] = strlen(v[i]);
    }
    *pv = v;
    *pl = l;
    return 0;
}


redisReply *
rq_redis_eval(rq_redis_t *r, rq_script_t *s, int nkeys, int argc,
    const char **argv, const size_t *argvlen)
{
    redisReply   *rep;
    const char  **v;
    size_t       *l;
    char          nk[16];
    int           use_sha;

    rq_script_sha(s);
    for (use_sha = 1; use_sha >= 0; use_sha--) {
        if (rq_eval_argv(s, use_sha, nkeys, argc, argv, argvlen, &v, &l, nk)
            != 0)
        {
            snprintf(r->err, sizeof(r->err), "out of memory");
            return NULL;
        }
        rep = rq_redis_cmdargv(r, argc + 3, v, l);
        free(v);
        free(l);
        if (rep == NULL || !rq_redis_is_error(rep, "NOSCRIPT")) {
            return rep;
        }
        freeReplyObject(rep);
    }
    return NULL;    /* not reached: EVAL never answers NOSCRIPT */
}


/* Queue one formatted command on the connection its key routes it to. */
static int
rq_queue(rq_redis_t *r, char *cmd, int len)
{
    const char  *key;
    size_t       klen;
    int          rc = -1;

    if (len < 0) {
        snprintf(r->err, sizeof(r->err), "out of memory");
        return -1;
    }
    if (r->conf->mode == RQ_REDIS_CLUSTER
        && rq_cmd_key(cmd, (size_t) len, &key, &klen))
    {
        rq_cluster_route(r, key, klen);
    }
    if (rq_redis_get(r) != NULL) {
        rc = redisAppendFormattedCommand(r->c, cmd, (size_t) len) == REDIS_OK
             && (r->cl == NULL || rq_cluster_push(r) == 0) ? 0 : -1;
        if (rc != 0) {
            snprintf(r->err, sizeof(r->err), "out of memory");
        }
    }
    redisFreeCommand(cmd);
    return rc;
}


int
rq_redis_append(rq_redis_t *r, int argc, const char **argv,
    const size_t *argvlen)
{
    char  *cmd = NULL;

    return rq_queue(r, cmd, redisFormatCommandArgv(&cmd, argc, argv,
                                                   argvlen));
}


int
rq_redis_appendf(rq_redis_t *r, const char *fmt, ...)
{
    va_list   ap;
    char     *cmd = NULL;
    int       n;

    va_start(ap, fmt);
    n = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    return rq_queue(r, cmd, n);
}


void
rq_redis_route(rq_redis_t *r, const char *key)
{
    if (r->conf->mode == RQ_REDIS_CLUSTER) {
        rq_cluster_route(r, key, strlen(key));
    }
}


int
rq_redis_append_eval(rq_redis_t *r, rq_script_t *s, int nkeys, int argc,
    const char **argv, const size_t *argvlen)
{
    const char  **v;
    size_t       *l;
    char          nk[16];
    int           rc;

    rq_script_sha(s);
    if (rq_eval_argv(s, 1, nkeys, argc, argv, argvlen, &v, &l, nk) != 0) {
        snprintf(r->err, sizeof(r->err), "out of memory");
        return -1;
    }
    rc = rq_redis_append(r, argc + 3, v, l);
    free(v);
    free(l);
    return rc;
}


redisReply *
rq_redis_reply(rq_redis_t *r)
{
    redisContext  *c = r->cl != NULL ? rq_cluster_pop(r) : r->c;
    void          *rep = NULL;

    if (c == NULL) {
        return NULL;
    }
    if (redisGetReply(c, &rep) != REDIS_OK) {
        rep = NULL;
    }
    return rq_checked(r, c, rep);
}


int
rq_redis_load(rq_redis_t *r, rq_script_t *s)
{
    redisReply  *rep;
    int          rc;

    rep = rq_redis_cmd(r, "SCRIPT LOAD %s", s->src);
    if (rep == NULL) {
        return -1;
    }
    rc = rep->type == REDIS_REPLY_STRING ? 0 : -1;
    if (rc != 0) {
        snprintf(r->err, sizeof(r->err), "SCRIPT LOAD: %.*s",
                 (int) rep->len, rep->str ? rep->str : "");
    }
    freeReplyObject(rep);
    rq_script_sha(s);
    return rc;
}


int
rq_redis_is_error(const redisReply *reply, const char *prefix)
{
    size_t  n = strlen(prefix);

    return reply != NULL && reply->type == REDIS_REPLY_ERROR
           && reply->len >= n && memcmp(reply->str, prefix, n) == 0;
}
