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
#include <time.h>
#include <openssl/sha.h>

#include "lt_clock.h"
#include "rq_redis.h"

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


int
rq_redis_conf_parse(rq_redis_conf_t *rc, const char *url, char *err,
    size_t errlen)
{
    const char  *p, *at, *hostend, *slash, *colon, *q;
    char        *end;
    long         port;

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
                 "supported by hiredis 0.14", url);
        return -1;
    }
    if (strncmp(url, "redis://", 8) != 0) {
        snprintf(err, errlen, "redis url \"%s\": expected redis://[user"
                 "[:password]@]host[:port][/db] or unix:///path[?db=N]", url);
        return -1;
    }

    p = url + 8;
    slash = strchr(p, '/');
    if (slash == NULL) {
        slash = p + strlen(p);
    }
    at = memrchr(p, '@', (size_t) (slash - p));

    if (at != NULL) {
        colon = memchr(p, ':', (size_t) (at - p));
        if (colon != NULL) {
            if (colon > p) {
                rc->username = rq_unescape(p, (size_t) (colon - p));
                if (rc->username == NULL) {
                    goto nomem;
                }
            }
            rc->password = rq_unescape(colon + 1, (size_t) (at - colon - 1));
        } else {
            /* a lone "secret@host" is a password, as in go-redis */
            rc->password = rq_unescape(p, (size_t) (at - p));
        }
        if (rc->password == NULL) {
            goto nomem;
        }
        p = at + 1;
    }

    if (*p == '[') {
        hostend = memchr(p, ']', (size_t) (slash - p));
        if (hostend == NULL) {
            snprintf(err, errlen, "redis url \"%s\": unclosed \"[\"", url);
            goto fail;
        }
        rc->host = strndup(p + 1, (size_t) (hostend - p - 1));
        colon = hostend + 1 < slash && hostend[1] == ':' ? hostend + 1 : NULL;
    } else {
        colon = memchr(p, ':', (size_t) (slash - p));
        hostend = colon ? colon : slash;
        rc->host = strndup(p, (size_t) (hostend - p));
    }
    if (rc->host == NULL) {
        goto nomem;
    }
    if (rc->host[0] == '\0') {
        free(rc->host);
        rc->host = strdup("127.0.0.1");
        if (rc->host == NULL) {
            goto nomem;
        }
    }

    if (colon != NULL) {
        errno = 0;
        port = strtol(colon + 1, &end, 10);
        if (errno != 0 || end != slash || port < 1 || port > 65535) {
            snprintf(err, errlen, "redis url \"%s\": bad port", url);
            goto fail;
        }
        rc->port = (int) port;
    }

    if (*slash == '/' && rq_parse_db(slash + 1, strlen(slash + 1), &rc->db)
        != 0)
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
    if (rc == NULL) {
        return;
    }
    free(rc->host);
    free(rc->path);
    free(rc->username);
    free(rc->password);
    rc->host = rc->path = rc->username = rc->password = NULL;
}


const char *
rq_redis_conf_text(const rq_redis_conf_t *rc, char *buf, size_t len)
{
    if (rc->path != NULL) {
        snprintf(buf, len, "unix:%s/%d", rc->path, rc->db);
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


static struct timeval
rq_tv(int64_t ms)
{
    struct timeval  tv;

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}


/* Run a set-up command (AUTH, SELECT) on a fresh context; 0 or -1. */
static int
rq_setup_cmd(rq_redis_t *r, int argc, const char **argv)
{
    redisReply  *rep;
    int          rc = 0;

    rep = redisCommandArgv(r->c, argc, argv, NULL);
    if (rep == NULL) {
        snprintf(r->err, sizeof(r->err), "%s: %s", argv[0],
                 r->c->errstr[0] ? r->c->errstr : "no reply");
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
rq_redis_get(rq_redis_t *r)
{
    const rq_redis_conf_t  *rc = r->conf;
    struct timeval          tv;
    const char             *argv[3];
    char                    db[16];
    int64_t                 now;

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

    tv = rq_tv(rc->connect_timeout_ms > 0 ? rc->connect_timeout_ms : 2000);
    r->c = rc->path ? redisConnectUnixWithTimeout(rc->path, tv)
                    : redisConnectWithTimeout(rc->host, rc->port, tv);
    if (r->c == NULL) {
        snprintf(r->err, sizeof(r->err), "connect: out of memory");
        goto fail;
    }
    if (r->c->err) {
        snprintf(r->err, sizeof(r->err), "connect to %s:%d: %s",
                 rc->path ? rc->path : rc->host, rc->path ? 0 : rc->port,
                 r->c->errstr);
        goto fail;
    }
    if (rc->cmd_timeout_ms > 0
        && redisSetTimeout(r->c, rq_tv(rc->cmd_timeout_ms)) != REDIS_OK)
    {
        snprintf(r->err, sizeof(r->err), "set timeout: %s", r->c->errstr);
        goto fail;
    }
    if (rc->path == NULL) {
        redisEnableKeepAlive(r->c);
    }
    if (rc->password != NULL) {
        argv[0] = "AUTH";
        argv[1] = rc->username ? rc->username : rc->password;
        argv[2] = rc->password;
        if (rq_setup_cmd(r, rc->username ? 3 : 2, argv) != 0) {
            goto fail;
        }
    }
    if (rc->db > 0) {
        snprintf(db, sizeof(db), "%d", rc->db);
        argv[0] = "SELECT";
        argv[1] = db;
        if (rq_setup_cmd(r, 2, argv) != 0) {
            goto fail;
        }
    }
    r->backoff_ms = 0;
    r->connects++;
    r->err[0] = '\0';
    return r->c;

fail:
    if (r->c != NULL) {
        redisFree(r->c);
        r->c = NULL;
    }
    r->backoff_ms = rq_redis_backoff_next(r->backoff_ms);
    r->retry_at_ms = now + r->backoff_ms;
    return NULL;
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
    if (r->c != NULL) {
        if (why == NULL) {
            why = r->c->errstr[0] ? r->c->errstr : "connection lost";
        }
        snprintf(r->err, sizeof(r->err), "redis: %s", why);
        redisFree(r->c);
        r->c = NULL;
    }
    /* the first reconnect is immediate; rq_redis_get backs off after that */
    r->retry_at_ms = 0;
}


void
rq_redis_close(rq_redis_t *r)
{
    if (r == NULL) {
        return;
    }
    if (r->c != NULL) {
        redisFree(r->c);
        r->c = NULL;
    }
}


int
rq_redis_set_timeout(rq_redis_t *r, int64_t ms)
{
    if (r->c == NULL) {
        return -1;
    }
    return redisSetTimeout(r->c, rq_tv(ms)) == REDIS_OK ? 0 : -1;
}


/* A NULL reply from hiredis: the context is unusable from now on. */
static redisReply *
rq_no_reply(rq_redis_t *r)
{
    rq_redis_drop(r, NULL);
    return NULL;
}


redisReply *
rq_redis_cmd(rq_redis_t *r, const char *fmt, ...)
{
    redisReply  *rep;
    va_list      ap;

    if (rq_redis_get(r) == NULL) {
        return NULL;
    }
    va_start(ap, fmt);
    rep = redisvCommand(r->c, fmt, ap);
    va_end(ap);
    return rep ? rep : rq_no_reply(r);
}


redisReply *
rq_redis_cmdargv(rq_redis_t *r, int argc, const char **argv,
    const size_t *argvlen)
{
    redisReply  *rep;

    if (rq_redis_get(r) == NULL) {
        return NULL;
    }
    rep = redisCommandArgv(r->c, argc, argv, argvlen);
    return rep ? rep : rq_no_reply(r);
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


int
rq_redis_append(rq_redis_t *r, int argc, const char **argv,
    const size_t *argvlen)
{
    if (rq_redis_get(r) == NULL) {
        return -1;
    }
    if (redisAppendCommandArgv(r->c, argc, argv, argvlen) != REDIS_OK) {
        snprintf(r->err, sizeof(r->err), "out of memory");
        return -1;
    }
    return 0;
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
    void  *rep = NULL;

    if (r->c == NULL) {
        return NULL;
    }
    if (redisGetReply(r->c, &rep) != REDIS_OK || rep == NULL) {
        return rq_no_reply(r);
    }
    return rep;
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
