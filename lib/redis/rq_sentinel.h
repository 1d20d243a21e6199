/*
 * rq_sentinel: finding the master through Redis Sentinel, for rq_redis_get
 * (private to lib/redis).
 */
#ifndef RQ_SENTINEL_H_INCLUDED
#define RQ_SENTINEL_H_INCLUDED

#include <sys/time.h>
#include "rq_redis.h"

/* ms as a struct timeval (rq_redis.c).  @locality any thread */
struct timeval rq_redis_tv(int64_t ms);

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

#endif /* RQ_SENTINEL_H_INCLUDED */
