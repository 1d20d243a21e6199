/*
 * rq_scripts: every Lua script redisq runs, one per asynq state transition
 * (docs/asynq-compat.md 4 and 5).  Keys and arguments are listed above
 * each script in rq_scripts.c.  Shared by the module and looklook-cli.
 */
#ifndef RQ_SCRIPTS_H_INCLUDED
#define RQ_SCRIPTS_H_INCLUDED

#include "rq_redis.h"

/* client (section 3) */
extern rq_script_t  rq_s_enqueue;
extern rq_script_t  rq_s_enqueue_unique;
extern rq_script_t  rq_s_schedule;
extern rq_script_t  rq_s_schedule_unique;
extern rq_script_t  rq_s_enqueue_batch;

/* server (section 4) */
extern rq_script_t  rq_s_dequeue;
extern rq_script_t  rq_s_done;
extern rq_script_t  rq_s_complete;
extern rq_script_t  rq_s_retry;
extern rq_script_t  rq_s_archive;
extern rq_script_t  rq_s_requeue;
extern rq_script_t  rq_s_forward;
extern rq_script_t  rq_s_lease_expired;
extern rq_script_t  rq_s_janitor;
extern rq_script_t  rq_s_held;

/* inspector (5.9) */
extern rq_script_t  rq_s_run_task;
extern rq_script_t  rq_s_archive_task;
extern rq_script_t  rq_s_delete_task;

#endif /* RQ_SCRIPTS_H_INCLUDED */
