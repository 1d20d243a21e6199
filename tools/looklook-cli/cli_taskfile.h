/*
 * cli_taskfile: one line of `task enqueue --file` (a JSON object) into the
 * request rq_enqueue_many stores.  Apart from cli_task.c so that the fuzz
 * target fuzz/taskfile.c drives the same code without Redis.
 */
#ifndef CLI_TASKFILE_H_INCLUDED
#define CLI_TASKFILE_H_INCLUDED

#include <cjson/cJSON.h>

#include "rq_client.h"

typedef struct {
    cJSON          *json;       /* the parsed line: msg's strings point in */
    ll_msg_t        msg;        /* the request */
    rq_opts_t       ro;         /* its redisq options (queue, unique, ...) */
    ll_header_t    *hdrs;
    char           *paybuf;     /* a JSON payload printed as text */
} cli_task_line_t;

/*
 * Parse line (len bytes, then a NUL) into t; queue: the default queue
 * (NULL: redisq's).  0, or -1 with why (static text) and t empty: a NUL
 * byte in the line, not one JSON object, a field out of range.  Free with
 * cli_task_line_free (also after -1).  @locality any thread
 */
int cli_task_line(cli_task_line_t *t, const char *line, size_t len,
    const char *queue, const char **why);
void cli_task_line_free(cli_task_line_t *t);

#endif /* CLI_TASKFILE_H_INCLUDED */
