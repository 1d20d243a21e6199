/*
 * rq_inspect: what asynq's Inspector does, for looklook-cli: queue list and
 * statistics, pause, task lists and details, run / archive / delete of one
 * task or of all tasks in a state, cancel of a running task.  Reads and writes exactly the structures
 * of docs/asynq-compat.md (sections 2 and 5.9), so asynqmon sees the same.
 *
 * Every function returns 0, or -1 with a one-line reason in err (an
 * unknown queue is "queue \"Q\" not found"; Redis errors say so).
 * @locality any thread that owns r
 */
#ifndef RQ_INSPECT_H_INCLUDED
#define RQ_INSPECT_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "rq_redis.h"
#include "rq_task.h"

typedef struct {
    char        name[RQ_QNAME_MAX + 1];
    long long   pending, active, scheduled, retry, archived, completed;
    long long   processed_today, failed_today, processed, failed;
    int         paused;
    double      latency_s;          /* now - pending_since of the oldest */
} rq_queue_info_t;

typedef struct {
    char                id[RQ_ID_MAX + 1];
    char                state[16];
    long long           score;      /* zset states: next run / archived at /
                                     * expires at (Unix s); else 0 */
    long long           due_ms;     /* ll_at_ms when set, else 0 */
    Asynq__TaskMessage *msg;        /* NULL when the msg does not decode */
    char                error[128]; /* why msg is NULL */
    char               *result;     /* "result" field or NULL */
    size_t              result_len;
} rq_task_info_t;

typedef enum { RQ_OP_RUN = 0, RQ_OP_ARCHIVE, RQ_OP_DELETE } rq_op_e;

/* Sorted names in asynq:queues; *names malloc'ed (free with
 * rq_names_free). */
int rq_queue_names(rq_redis_t *r, char ***names, size_t *n, char *err,
    size_t errlen);
void rq_names_free(char **names, size_t n);

int rq_queue_info(rq_redis_t *r, const char *q, rq_queue_info_t *qi,
    char *err, size_t errlen);

/* One UTC day's counts, as asynq's Inspector.History. */
typedef struct {
    char        date[11];           /* "2026-12-02" */
    long long   processed, failed;
} rq_day_stats_t;

/* The last n days of q (n <= 90, what asynq keeps), today last, into
 * out[0..n-1]. */
int rq_queue_history(rq_redis_t *r, const char *q, int n,
    rq_day_stats_t *out, char *err, size_t errlen);

/* SETNX / DEL asynq:{q}:paused; q need not be known yet (as asynq: an
 * operator pauses a queue before deploying what fills it). */
int rq_queue_pause(rq_redis_t *r, const char *q, int pause, char *err,
    size_t errlen);

/* Tasks of q in state, oldest first (lists) or by score (zsets), from
 * offset, at most limit; *tasks malloc'ed (rq_tasks_free). */
int rq_task_list(rq_redis_t *r, const char *q, const char *state,
    long offset, long limit, rq_task_info_t **tasks, size_t *n, char *err,
    size_t errlen);

int rq_task_get(rq_redis_t *r, const char *q, const char *id,
    rq_task_info_t *t, char *err, size_t errlen);

void rq_task_info_clear(rq_task_info_t *t);
void rq_tasks_free(rq_task_info_t *t, size_t n);

/* Run, archive or delete one task; refuses active tasks (as asynq). */
int rq_task_op(rq_redis_t *r, const char *q, const char *id, int op,
    char *err, size_t errlen);

/* The same for every task of q in state (pipelined); *done = how many. */
int rq_task_op_all(rq_redis_t *r, const char *q, const char *state, int op,
    size_t *done, char *err, size_t errlen);

/* Ask the server running task id (in queue q, or NULL: any queue) to
 * cancel it (asynq's PUBLISH on asynq:cancel).  A task that is not found,
 * or not active, is an error: nobody would answer. */
int rq_task_cancel(rq_redis_t *r, const char *q, const char *id, char *err,
    size_t errlen);

#endif /* RQ_INSPECT_H_INCLUDED */
