/*
 * rq_servers: every server sharing the Redis, looklook's redisq or Go
 * asynq, with the tasks it runs, read as asynq's Inspector reads them
 * (asynq:servers and each server's ServerInfo and WorkerInfo), for the
 * admin module's dashboard.  @locality any thread that owns r
 */
#ifndef RQ_SERVERS_H_INCLUDED
#define RQ_SERVERS_H_INCLUDED

#include <stddef.h>
#include <cjson/cJSON.h>

#include "rq_redis.h"

/* A new array (the caller owns it) of {"host","pid","server_id",
 * "concurrency","queues":{name: priority},"strict_priority","status",
 * "started","active_workers","workers":[{"task_id","type","payload",
 * "queue","started","deadline"}]}, times in Unix seconds; servers whose
 * info expired or will not decode are left out.  NULL with err. */
cJSON *rq_servers_json(rq_redis_t *r, char *err, size_t errlen);

#endif /* RQ_SERVERS_H_INCLUDED */
