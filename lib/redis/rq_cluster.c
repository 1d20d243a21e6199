/*
 * rq_cluster: a small Redis Cluster router for hiredis 0.14, which has
 * none.  A key's slot is the CRC16 (XMODEM) of its hash tag (the text
 * between the first '{' and the next '}', when not empty) or of the whole
 * key, mod 16384; the slot map comes from CLUSTER SLOTS, asked of any node
 * known (the URL's first); each node gets its own connection, opened when
 * a key of its slots is first used.  A MOVED reply makes the map stale (a
 * reshard moves many slots: it is loaded again before the next routing),
 * an ASK reply sends the command once to the node named, after ASKING.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rq_redis_int.h"

#define RQ_SLOTS  16384

typedef struct {
    char             host[128];
    int              port;
    redisContext    *c;
} rq_cnode_t;

struct rq_cluster_s {
    rq_cnode_t      *nodes;
    int              nnodes;
    int              cur;               /* node of r->c; -1: none yet */
    int              loaded;            /* the slot map is current */
    uint16_t         slot[RQ_SLOTS];    /* node index + 1; 0 = not known */
    int             *fifo;              /* node of each pipelined command */
    size_t           head, tail, cap;
};


unsigned
rq_redis_key_slot(const char *key, size_t len)
{
    const char  *open, *close;
    uint16_t     crc = 0;
    size_t       i;
    int          b;

    open = memchr(key, '{', len);
    if (open != NULL) {
        close = memchr(open + 1, '}', len - (size_t) (open + 1 - key));
        if (close != NULL && close > open + 1) {
            key = open + 1;
            len = (size_t) (close - key);
        }
    }
    for (i = 0; i < len; i++) {
        crc ^= (uint16_t) ((unsigned char) key[i] << 8);
        for (b = 0; b < 8; b++) {
            crc = crc & 0x8000 ? (uint16_t) ((crc << 1) ^ 0x1021)
                               : (uint16_t) (crc << 1);
        }
    }
    return crc % RQ_SLOTS;
}


static rq_cluster_t *
rq_cl(rq_redis_t *r)
{
    const rq_redis_conf_t  *rc = r->conf;
    rq_cluster_t           *cl;
    int                     i;

    if (r->cl != NULL) {
        return r->cl;
    }
    cl = calloc(1, sizeof(*cl));
    if (cl == NULL || (cl->nodes = calloc((size_t) rc->nnodes,
                                          sizeof(*cl->nodes))) == NULL)
    {
        free(cl);
        snprintf(r->err, sizeof(r->err), "out of memory");
        return NULL;
    }
    for (i = 0; i < rc->nnodes; i++) {
        snprintf(cl->nodes[i].host, sizeof(cl->nodes[i].host), "%s",
                 rc->nodes[i].host);
        cl->nodes[i].port = rc->nodes[i].port;
    }
    cl->nnodes = rc->nnodes;
    cl->cur = -1;
    r->cl = cl;
    return cl;
}


/* The index of node host:port, added when new; -1 when out of memory. */
static int
rq_node(rq_cluster_t *cl, const char *host, size_t hostlen, int port)
{
    rq_cnode_t  *n;
    int          i;

    for (i = 0; i < cl->nnodes; i++) {
        if (cl->nodes[i].port == port && strlen(cl->nodes[i].host) == hostlen
            && memcmp(cl->nodes[i].host, host, hostlen) == 0)
        {
            return i;
        }
    }
    if (hostlen >= sizeof(n->host)) {
        return -1;
    }
    n = realloc(cl->nodes, sizeof(*n) * (size_t) (cl->nnodes + 1));
    if (n == NULL) {
        return -1;
    }
    cl->nodes = n;
    n = &cl->nodes[cl->nnodes];
    memset(n, 0, sizeof(*n));
    memcpy(n->host, host, hostlen);
    n->port = port;
    return cl->nnodes++;
}


/* The slot ranges of one CLUSTER SLOTS reply into cl->slot; 0 or -1. */
static int
rq_map(rq_cluster_t *cl, const redisReply *rep, const rq_cnode_t *asked)
{
    const redisReply  *e, *m;
    long long          a, b, s;
    int                i;
    size_t             k;

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements == 0) {
        return -1;
    }
    memset(cl->slot, 0, sizeof(cl->slot));
    for (k = 0; k < rep->elements; k++) {
        e = rep->element[k];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3
            || e->element[0]->type != REDIS_REPLY_INTEGER
            || e->element[1]->type != REDIS_REPLY_INTEGER
            || e->element[2]->type != REDIS_REPLY_ARRAY
            || e->element[2]->elements < 2
            || e->element[2]->element[0]->type != REDIS_REPLY_STRING
            || e->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
        {
            return -1;
        }
        a = e->element[0]->integer;
        b = e->element[1]->integer;
        m = e->element[2];
        /* an empty host means "the address you asked me on" */
        i = m->element[0]->len == 0
            ? rq_node(cl, asked->host, strlen(asked->host),
                      (int) m->element[1]->integer)
            : rq_node(cl, m->element[0]->str, m->element[0]->len,
                      (int) m->element[1]->integer);
        if (i < 0 || a < 0 || b >= RQ_SLOTS || a > b) {
            return -1;
        }
        for (s = a; s <= b; s++) {
            cl->slot[s] = (uint16_t) (i + 1);
        }
    }
    return 0;
}


/* Load the slot map from the first node that gives one; 0 or -1. */
static int
rq_load(rq_redis_t *r, rq_cluster_t *cl)
{
    redisContext  *c;
    redisReply    *rep;
    rq_cnode_t     asked;
    int            i, n = cl->nnodes, ok = 0;

    for (i = 0; i < n && !ok; i++) {
        asked = cl->nodes[i];
        c = rq_redis_open(r, asked.host, asked.port);
        if (c == NULL) {
            continue;
        }
        rep = redisCommand(c, "CLUSTER SLOTS");
        if (rep == NULL) {
            snprintf(r->err, sizeof(r->err), "CLUSTER SLOTS on %.60s:%d: "
                     "%.40s", asked.host, asked.port, c->errstr);
        } else if (rq_map(cl, rep, &asked) == 0) {
            ok = 1;
        } else {
            snprintf(r->err, sizeof(r->err), "CLUSTER SLOTS on %.60s:%d: "
                     "%.40s", asked.host, asked.port,
                     rep->type == REDIS_REPLY_ERROR ? rep->str
                     : "no slot map");
        }
        freeReplyObject(rep);
        redisFree(c);
    }
    cl->loaded = ok;
    return ok ? 0 : -1;
}


int
rq_cluster_get(rq_redis_t *r)
{
    rq_cluster_t  *cl = rq_cl(r);
    rq_cnode_t    *n;

    if (cl == NULL || (!cl->loaded && rq_load(r, cl) != 0)) {
        return -1;
    }
    if (cl->cur < 0) {
        cl->cur = cl->slot[0] ? cl->slot[0] - 1 : 0;
    }
    n = &cl->nodes[cl->cur];
    if (n->c == NULL) {
        n->c = rq_redis_open(r, n->host, n->port);
        if (n->c == NULL) {
            return -1;
        }
    }
    r->c = n->c;
    return 0;
}


void
rq_cluster_route(rq_redis_t *r, const char *key, size_t len)
{
    rq_cluster_t  *cl = rq_cl(r);
    unsigned       s;

    if (cl == NULL || (!cl->loaded && rq_load(r, cl) != 0)) {
        r->c = NULL;
        return;
    }
    s = rq_redis_key_slot(key, len);
    if (cl->slot[s] == 0) {     /* not served: ask anyone, MOVED follows */
        return;
    }
    cl->cur = cl->slot[s] - 1;
    r->c = cl->nodes[cl->cur].c;
}


int
rq_cluster_redirect(rq_redis_t *r, const redisReply *rep, int *ask)
{
    rq_cluster_t  *cl = r->cl;
    const char    *addr, *colon;
    int            i;

    *ask = rq_redis_is_error(rep, "ASK ");
    if (cl == NULL || (!*ask && !rq_redis_is_error(rep, "MOVED "))) {
        return 0;
    }
    /* "MOVED 3999 127.0.0.1:6381" */
    addr = strchr(rep->str + 6, ' ');
    colon = addr ? strrchr(addr, ':') : NULL;
    if (colon == NULL) {
        return 0;
    }
    i = rq_node(cl, addr + 1, (size_t) (colon - addr - 1), atoi(colon + 1));
    if (i < 0) {
        return 0;
    }
    if (!*ask) {
        cl->loaded = 0;
    }
    cl->cur = i;
    r->c = cl->nodes[i].c;
    return 1;
}


int
rq_cluster_push(rq_redis_t *r)
{
    rq_cluster_t  *cl = r->cl;
    int           *f;
    size_t         n, i;

    if (cl->tail - cl->head == cl->cap) {
        n = cl->cap ? cl->cap * 2 : 64;
        f = malloc(sizeof(*f) * n);
        if (f == NULL) {
            return -1;
        }
        for (i = 0; i < cl->cap; i++) {
            f[i] = cl->fifo[(cl->head + i) % cl->cap];
        }
        free(cl->fifo);
        cl->fifo = f;
        cl->tail = cl->cap;
        cl->head = 0;
        cl->cap = n;
    }
    cl->fifo[cl->tail++ % cl->cap] = cl->cur;
    return 0;
}


redisContext *
rq_cluster_pop(rq_redis_t *r)
{
    rq_cluster_t  *cl = r->cl;

    if (cl == NULL || cl->head == cl->tail) {
        return NULL;
    }
    return cl->nodes[cl->fifo[cl->head++ % cl->cap]].c;
}


void
rq_cluster_stale(rq_redis_t *r)
{
    if (r->cl != NULL) {
        r->cl->loaded = 0;
    }
}


void
rq_cluster_drop(rq_redis_t *r)
{
    rq_cluster_t  *cl = r->cl;
    int            i;

    r->c = NULL;
    if (cl == NULL) {
        return;
    }
    for (i = 0; i < cl->nnodes; i++) {
        if (cl->nodes[i].c != NULL) {
            redisFree(cl->nodes[i].c);
            cl->nodes[i].c = NULL;
        }
    }
    cl->head = cl->tail = 0;
}


void
rq_cluster_free(rq_redis_t *r)
{
    rq_cluster_drop(r);
    if (r->cl != NULL) {
        free(r->cl->nodes);
        free(r->cl->fifo);
        free(r->cl);
        r->cl = NULL;
    }
}
