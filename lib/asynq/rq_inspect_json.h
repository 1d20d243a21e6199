/*
 * rq_inspect_json: rq_inspect's answers as JSON (cJSON), one shape for
 * looklook-cli --json and the admin module's /api/queues endpoints.
 * Each returns a new object the caller owns (cJSON_Delete), or NULL when
 * out of memory.  @locality any thread
 */
#ifndef RQ_INSPECT_JSON_H_INCLUDED
#define RQ_INSPECT_JSON_H_INCLUDED

#include <cjson/cJSON.h>

#include "rq_inspect.h"

/* {"queue","paused","size","pending",...,"latency_seconds"} */
cJSON *rq_queue_json(const rq_queue_info_t *qi);

/* {"id","queue","state","type","payload" (JSON when it parses, else text,
 * else "payload_hex"),"headers",...,"result"} */
cJSON *rq_task_json(const rq_task_info_t *t, const char *queue);

#endif /* RQ_INSPECT_JSON_H_INCLUDED */
