/*
 * Fuzz target: one line of `looklook-cli task enqueue --file` (a JSON task)
 * as the CLI parses it (cli_task_line), then the message an enqueue of it
 * would store (rq_enq_msg: the request checks and the TaskMessage, without
 * Redis).
 *
 * Invariants: a refused line says why; a line with text after its object
 * (or a NUL byte) is refused; an accepted line is either refused by the enqueue checks
 * ("redisq: invalid task: ...") or stored as a message a Go reader takes
 * (rq_msg_decode) with the line's type, queue, ID, payload, retry and
 * headers, uncut.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_taskfile.h"

#define FAIL(what)  (fprintf(stderr, "%s\n", what), abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The message stored for t's request matches the request. */
static void
check_stored(const cli_task_line_t *t)
{
    const ll_msg_t      *m = &t->msg;
    Asynq__TaskMessage  *tm;
    rq_enq_out_t         out;
    uint8_t             *buf;
    size_t               len, i;
    char                 err[200];
    const char          *q = ll_msg_opt_str(m, "queue", "default");

    buf = rq_enq_msg(m, 1767225600000, &len, &out);
    if (buf == NULL) {
        if (out.rc == RQ_ENOMEM) {
            return;
        }
        if (out.rc != RQ_EINVAL
            || strncmp(out.error, "redisq: invalid task: ", 22) != 0)
        {
            FAIL("an enqueue refused without a reason");
        }
        return;
    }
    tm = rq_msg_decode(buf, len, err, sizeof(err));
    if (tm == NULL) {
        fprintf(stderr, "%s\n", err);
        FAIL("an enqueued message does not decode");
    }
    if (strcmp(tm->type, m->type) != 0 || strcmp(tm->queue, q) != 0
        || (m->id != NULL && strcmp(tm->id, m->id) != 0)
        || strcmp(tm->id, out.id) != 0
        || tm->payload.len != m->payload_len
        || (m->payload_len > 0
            && memcmp(tm->payload.data, m->payload, m->payload_len) != 0)
        || tm->retry != (m->max_retry < 0 ? RQ_DEFAULT_RETRY : m->max_retry)
        || tm->timeout < 0 || tm->deadline < 0 || tm->retention < 0
        || tm->n_headers != m->nheaders)
    {
        FAIL("the stored message differs from the line");
    }
    for (i = 0; i < m->nheaders; i++) {
        if (strcmp(tm->headers[i]->key, m->headers[i].name) != 0
            || strlen(tm->headers[i]->value) != m->headers[i].value_len
            || memcmp(tm->headers[i]->value, m->headers[i].value,
                      m->headers[i].value_len) != 0)
        {
            FAIL("a stored header differs from the line");
        }
    }
    asynq__task_message__free_unpacked(tm, NULL);
    free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_task_line_t   t;
    const char       *why = NULL;
    char             *line;

    /* a line as cli_enqueue_file hands it on (NUL-terminated, its length
     * given), with room for " x" */
    line = malloc(size + 3);
    if (line == NULL) {
        return 0;
    }
    memcpy(line, data, size);
    line[size] = '\0';
    if (cli_task_line(&t, line, size, NULL, &why) != 0) {
        if (why == NULL || why[0] == '\0') {
            FAIL("a line refused without a reason");
        }
        cli_task_line_free(&t);
        free(line);
        return 0;
    }
    if (t.msg.type == NULL) {
        FAIL("a line accepted without a type");
    }
    check_stored(&t);
    cli_task_line_free(&t);

    memcpy(line + size, " x", 3);
    if (cli_task_line(&t, line, size + 2, NULL, &why) == 0) {
        FAIL("a line with text after its object is accepted");
    }
    cli_task_line_free(&t);
    free(line);
    return 0;
}
