/*
 * rq_sentinel: the master's address from the sentinels (SENTINEL
 * get-master-addr-by-name), and the check that the server found is the
 * master indeed (a sentinel may name the old master for a moment after a
 * failover, or a demoted one may still be reachable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rq_redis_int.h"

/* One sentinel's answer: 1 with the address, 0 with why in r->err. */
static int
rq_sentinel_ask(rq_redis_t *r, const rq_redis_node_t *n, char *host,
    size_t hostlen, int *port)
{
    const rq_redis_conf_t  *rc = r->conf;
    redisContext           *c;
    redisReply             *rep;
    struct timeval          tv;
    int                     ok = 0;

    tv = rq_redis_tv(rc->connect_timeout_ms > 0 ? rc->connect_timeout_ms
                                                : 2000);
    c = redisConnectWithTimeout(n->host, n->port, tv);
    if (c == NULL || c->err) {
        snprintf(r->err, sizeof(r->err), "sentinel %.60s:%d: %.80s", n->host,
                 n->port, c ? c->errstr : "out of memory");
        if (c != NULL) {
            redisFree(c);
        }
        return 0;
    }
    redisSetTimeout(c, tv);
    rep = redisCommand(c, "SENTINEL get-master-addr-by-name %s", rc->master);
    if (rep == NULL) {
        snprintf(r->err, sizeof(r->err), "sentinel %.60s:%d: %.80s", n->host,
                 n->port, c->errstr[0] ? c->errstr : "no reply");
    } else if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2
               && rep->element[0]->type == REDIS_REPLY_STRING
               && rep->element[1]->type == REDIS_REPLY_STRING
               && rep->element[0]->len < hostlen)
    {
        memcpy(host, rep->element[0]->str, rep->element[0]->len);
        host[rep->element[0]->len] = '\0';
        *port = atoi(rep->element[1]->str);
        ok = *port > 0 && *port < 65536;
        if (!ok) {
            snprintf(r->err, sizeof(r->err), "sentinel %s:%d: bad port "
                     "\"%s\"", n->host, n->port, rep->element[1]->str);
        }
    } else if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(r->err, sizeof(r->err), "sentinel %.60s:%d: %.80s", n->host,
                 n->port, rep->str);
    } else {
        snprintf(r->err, sizeof(r->err), "sentinel %s:%d knows no master "
                 "\"%s\"", n->host, n->port, rc->master);
    }
    freeReplyObject(rep);
    redisFree(c);
    return ok;
}


int
rq_sentinel_master(rq_redis_t *r, char *host, size_t hostlen, int *port)
{
    const rq_redis_conf_t  *rc = r->conf;
    int                     k, i;

    for (k = 0; k < rc->nnodes; k++) {
        i = (r->sentinel + k) % rc->nnodes;
        if (rq_sentinel_ask(r, &rc->nodes[i], host, hostlen, port)) {
            r->sentinel = i;
            return 0;
        }
    }
    return -1;
}


int
rq_sentinel_check_role(rq_redis_t *r, const char *host, int port)
{
    redisReply  *rep;
    int          rc = -1;

    rep = redisCommand(r->c, "ROLE");
    if (rep == NULL) {
        snprintf(r->err, sizeof(r->err), "ROLE on %s:%d: %s", host, port,
                 r->c->errstr[0] ? r->c->errstr : "no reply");
        return -1;
    }
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0
        && rep->element[0]->type == REDIS_REPLY_STRING
        && strcmp(rep->element[0]->str, "master") == 0)
    {
        rc = 0;
    } else {
        snprintf(r->err, sizeof(r->err), "%s:%d, named by the sentinels, is "
                 "no master (%s)", host, port,
                 rep->type == REDIS_REPLY_ARRAY && rep->elements > 0
                 && rep->element[0]->str ? rep->element[0]->str
                 : rep->str ? rep->str : "no answer to ROLE");
    }
    freeReplyObject(rep);
    return rc;
}
