/*
 * What the files of lib/redis share and nobody else uses: finding the
 * master through Redis Sentinel (rq_sentinel.c) and routing keys to the
 * nodes of a Redis Cluster (rq_cluster.c), for rq_redis.c.
 */
#ifndef RQ_REDIS_INT_H_INCLUDED
#define RQ_REDIS_INT_H_INCLUDED

#include <sys/time.h>
#include "rq_redis.h"

/* ms as a struct timeval (rq_redis.c).  @locality any thread */
struct timeval rq_redis_tv(int64_t ms);

/* A new connection to host:port with r's timeouts, keep-alive and AUTH,
 * or NULL with why in r->err (rq_redis.c).  @locality r's thread */
redisContext *rq_redis_open(rq_redis_t *r, const char *host, int port);

/*
 * Ask r's sentinels, the last one that answered first, for the address of
 * r->conf->master: 0 with host (into host[hostlen]) and *port, or -1 with
 * why in r->err.  @locality r's thread (blocks up to the connect timeout
 * per sentinel)
 */
int rq_sentinel_master(rq_redis_t *r, char *host, size_t hostlen, int *port);

/* Whether the freshly connected r->c says it is a master (ROLE): 0, or -1
 * with why in r->err.  @locality r's thread */
int rq_sentinel_check_role(rq_redis_t *r, const char *host, int port);

/*
 * Cluster (r->cl, allocated on first use).  rq_cluster_get makes r->c the
 * connection to the current node (loading the slot map first when it is
 * unknown or stale): 0, or -1 with r->err.  rq_cluster_route makes the node
 * of key's slot the current one (r->c its connection, NULL until
 * rq_cluster_get connects it).  rq_cluster_redirect follows a MOVED or ASK
 * error reply (the map is reloaded before the next routing after a MOVED):
 * 1 when it was one (*ask set for ASK), 0 otherwise.  rq_cluster_push and
 * rq_cluster_pop keep the node of each pipelined command in order.
 * rq_cluster_drop closes every node's connection; rq_cluster_free also
 * frees r->cl.  @locality r's thread
 */
int rq_cluster_get(rq_redis_t *r);
void rq_cluster_route(rq_redis_t *r, const char *key, size_t len);
int rq_cluster_redirect(rq_redis_t *r, const redisReply *rep, int *ask);
int rq_cluster_push(rq_redis_t *r);
redisContext *rq_cluster_pop(rq_redis_t *r);
void rq_cluster_stale(rq_redis_t *r);
void rq_cluster_drop(rq_redis_t *r);
void rq_cluster_free(rq_redis_t *r);

#endif /* RQ_REDIS_INT_H_INCLUDED */
