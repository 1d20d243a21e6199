/*
 * cron_inspect: the cron entries as asynqmon reads them, their history,
 * and a run-now request to a running cron instance, for looklook-cli and
 * the admin module (modules/cron/README.md, "asynq compatibility").
 * ENTRY is the entry id from looklook.conf or its asynq UUID.
 * @locality any thread that owns r
 */
#ifndef CRON_INSPECT_H_INCLUDED
#define CRON_INSPECT_H_INCLUDED

#include <stddef.h>
#include <cjson/cJSON.h>

#include "rq_redis.h"

/* Every published entry: a new array (the caller owns it) of
 * {"entry","id","spec","type","next","prev","options":[...],"scheduler",
 * "last_task"}; next and prev are Unix seconds (prev 0: never run),
 * last_task the ID of the task its last tick enqueued ("" when none).
 * NULL with err set when Redis fails. */
cJSON *cron_inspect_entries(rq_redis_t *r, char *err, size_t errlen);

/* The newest n enqueue events of ENTRY: a new array of
 * {"task_id","enqueued_at"}, newest first; NULL with err. */
cJSON *cron_inspect_history(rq_redis_t *r, const char *entry, long n,
    char *err, size_t errlen);

/*
 * Ask a running cron instance to fire ENTRY now and wait up to 5 s for
 * its answer (the request is taken back when none came).  0 with the
 * enqueued task's ID in task_id, or -1 with err ("no entry \"x\"", no
 * instance answered, Redis).  Blocks the calling thread meanwhile.
 */
int cron_inspect_run(rq_redis_t *r, const char *entry, char *task_id,
    size_t idlen, char *err, size_t errlen);

#endif /* CRON_INSPECT_H_INCLUDED */
