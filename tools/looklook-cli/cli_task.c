/*
 * looklook-cli task ls | inspect | run | archive | delete | cancel | enqueue
 *
 * Grammar as the asynq CLI where the two overlap (--queue, --state, --id);
 * the logic is modules/redisq/rq_inspect.c and rq_client.c.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_taskfile.h"
#include "rq_client.h"
#include "rq_inspect_json.h"

#define CLI_BULK  10000     /* tasks per pipelined batch of --file */

/* in cli_queue.c */
int cli_redisq_open(cli_ctx_t *ctx, rq_redis_conf_t *rc, rq_redis_t *r);
int cli_print_json(cJSON *j);

typedef struct {
    const char     *queue;
    const char     *state;
    const char     *id;
    const char     *file;
    const char     *pos[3];     /* TYPE PAYLOAD */
    int             npos;
    int             all;
    long            page;
    long            size;
    ll_msg_t        msg;        /* enqueue options */
    int64_t         unique_ms;  /* redisq's message options */
    int64_t         retention_ms;
    rq_opts_t       ro;
} cli_task_opts_t;

static const char  cli_task_usage[] =
    "usage: task ls --queue Q --state pending|active|scheduled|retry|"
    "archived|completed [--page N] [--size N]\n"
    "       task inspect --queue Q --id ID\n"
    "       task run|archive|delete --queue Q (--id ID | --all --state S)\n"
    "       task cancel --id ID [--queue Q]\n"
    "       task enqueue TYPE [PAYLOAD] [--queue Q] [--in D | --at TIME]"
    " [--retry N]\n"
    "            [--timeout D] [--deadline TIME] [--unique D] [--retention D]"
    " [--id ID]\n"
    "       task enqueue --file F|-   (one JSON task a line: {\"type\":...,"
    " \"payload\":...,\n"
    "            \"queue\", \"id\", \"in\", \"at\", \"retry\", \"timeout\","
    " \"deadline\", \"unique\",\n"
    "            \"retention\", \"headers\":{...}})\n"
    "D is a duration (90s, 30m, 1h30m, 500ms); TIME is Unix seconds or "
    "RFC 3339.\n";


/* Parse argv[2..] into o; returns 0 or 2 (usage, after printing why). */
static int
cli_task_args(int argc, char **argv, cli_task_opts_t *o)
{
    const char  *name, *val;
    char        *end;
    int64_t      ms;
    int          i;
    long         n;

    memset(o, 0, sizeof(*o));
    ll_msg_init(&o->msg);
    o->size = 30;
    for (i = 2; i < argc; i++) {
        name = argv[i];
        if (strncmp(name, "--", 2) != 0 || strcmp(name, "-") == 0) {
            if (o->npos == 3) {
                goto usage;
            }
            o->pos[o->npos++] = name;
            continue;
        }
        if (strcmp(name, "--all") == 0) {
            o->all = 1;
            continue;
        }
        val = strchr(name, '=');
        if (val != NULL) {
            static char  buf[64];

            snprintf(buf, sizeof(buf), "%.*s", (int) (val - name), name);
            name = buf;
            val++;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            cli_error("%s needs a value", name);
            return 2;
        }

        if (strcmp(name, "--queue") == 0 || strcmp(name, "-q") == 0) {
            o->queue = val;
        } else if (strcmp(name, "--state") == 0) {
            o->state = val;
        } else if (strcmp(name, "--id") == 0) {
            o->id = val;
        } else if (strcmp(name, "--file") == 0) {
            o->file = val;
        } else if (strcmp(name, "--page") == 0 || strcmp(name, "--size") == 0
                   || strcmp(name, "--retry") == 0)
        {
            errno = 0;
            n = strtol(val, &end, 10);
            if (errno != 0 || *end != '\0' || n < 0 || n > 1000000000) {
                cli_error("%s: not a number: \"%s\"", name, val);
                return 2;
            }
            if (strcmp(name, "--page") == 0) {
                o->page = n;
            } else if (strcmp(name, "--size") == 0) {
                o->size = n;
            } else {
                o->msg.max_retry = (int) n;
            }
        } else if (strcmp(name, "--at") == 0 || strcmp(name, "--deadline") == 0)
        {
            if (cli_time(val, &ms) != 0) {
                cli_error("%s: bad time \"%s\" (Unix seconds or RFC 3339)",
                          name, val);
                return 2;
            }
            *(strcmp(name, "--at") == 0 ? &o->msg.process_at_ms
                                        : &o->msg.deadline_ms) = ms;
        } else if (strcmp(name, "--in") == 0 || strcmp(name, "--timeout") == 0
                   || strcmp(name, "--unique") == 0
                   || strcmp(name, "--retention") == 0)
        {
            if (cli_duration(val, &ms) != 0) {
                cli_error("%s: bad duration \"%s\" (e.g. 90s, 30m, 1h30m)",
                          name, val);
                return 2;
            }
            if (strcmp(name, "--in") == 0) {
                o->msg.process_at_ms = lt_now_ms() + ms;
            } else if (strcmp(name, "--timeout") == 0) {
                o->msg.timeout_ms = ms;
            } else if (strcmp(name, "--unique") == 0) {
                o->unique_ms = ms;
            } else {
                o->retention_ms = ms;
            }
        } else {
            cli_error("unknown option %s", name);
            goto usage;
        }
    }
    return 0;

usage:
    fputs(cli_task_usage, stderr);
    return 2;
}


/* Payload for a table cell: printable text, cut to width. */
static void
cli_cell(char *buf, size_t len, const void *p, size_t plen)
{
    size_t  i, n = plen < len - 1 ? plen : len - 1;

    for (i = 0; i < n; i++) {
        unsigned char c = ((const unsigned char *) p)[i];

        buf[i] = isprint(c) ? (char) c : '.';
    }
    buf[n] = '\0';
    if (plen > n && n > 3) {
        memcpy(buf + n - 3, "...", 3);
    }
}


static int
cli_task_ls(rq_redis_t *r, cli_ctx_t *ctx, cli_task_opts_t *o)
{
    rq_task_info_t  *t;
    size_t           n, i;
    char             err[256], pay[41];
    cJSON           *arr;

    if (o->queue == NULL || o->state == NULL) {
        cli_error("task ls needs --queue Q and --state S");
        return 2;
    }
    if (rq_task_list(r, o->queue, o->state, o->page * o->size, o->size, &t,
                     &n, err, sizeof(err)) != 0)
    {
        return cli_error("%s", err);
    }
    if (ctx->json) {
        arr = cJSON_CreateArray();
        for (i = 0; i < n; i++) {
            cJSON_AddItemToArray(arr, rq_task_json(&t[i], o->queue));
        }
        cli_print_json(arr);
    } else {
        printf("%-36s  %-24s  %-40s  %-7s  %s\n", "ID", "TYPE", "PAYLOAD",
               "RETRIED", "LAST ERROR");
        for (i = 0; i < n; i++) {
            const Asynq__TaskMessage *m = t[i].msg;

            if (m == NULL) {
                printf("%-36s  (%s)\n", t[i].id, t[i].error);
                continue;
            }
            cli_cell(pay, sizeof(pay), m->payload.data, m->payload.len);
            printf("%-36s  %-24s  %-40s  %3d/%-3d  %s\n", t[i].id, m->type,
                   pay, m->retried, m->retry, m->error_msg);
        }
    }
    rq_tasks_free(t, n);
    return 0;
}


static int
cli_task_inspect(rq_redis_t *r, cli_ctx_t *ctx, cli_task_opts_t *o)
{
    rq_task_info_t   t;
    char             err[256], *s;
    cJSON           *j;
    time_t           when;
    cJSON           *it;

    if (o->queue == NULL || o->id == NULL) {
        cli_error("task inspect needs --queue Q and --id ID");
        return 2;
    }
    if (rq_task_get(r, o->queue, o->id, &t, err, sizeof(err)) != 0) {
        return cli_error("%s", err);
    }
    j = rq_task_json(&t, o->queue);
    if (ctx->json) {
        cli_print_json(j);
    } else {
        /* people get one "Key: value" line per field, payload pretty */
        for (it = j->child; it != NULL; it = it->next) {
            if (cJSON_IsString(it)) {
                printf("%-20s %s\n", it->string, it->valuestring);
            } else if (cJSON_IsNumber(it)) {
                when = (time_t) it->valuedouble;
                if (strstr(it->string, "_at") != NULL || strcmp(it->string,
                    "deadline") == 0 || strstr(it->string, "expires") != NULL)
                {
                    char tb[64] = "-";

                    if (when > 0) {
                        if (strstr(it->string, "_ms") != NULL) {
                            when /= 1000;
                        }
                        strftime(tb, sizeof(tb), "%Y-%m-%dT%H:%M:%SZ",
                                 gmtime(&when));
                    }
                    printf("%-20s %s\n", it->string, tb);
                } else {
                    printf("%-20s %.0f\n", it->string, it->valuedouble);
                }
            } else {
                s = cJSON_Print(it);
                printf("%-20s %s\n", it->string, s ? s : "");
                free(s);
            }
        }
        cJSON_Delete(j);
    }
    rq_task_info_clear(&t);
    return 0;
}


static int
cli_task_op(rq_redis_t *r, cli_ctx_t *ctx, cli_task_opts_t *o, int op)
{
    static const char  *done_word[] = { "run", "archived", "deleted" };
    char                err[256];
    size_t              n;
    cJSON              *j;

    if (o->queue == NULL || (o->id == NULL) == (o->all == 0)
        || (o->all && o->state == NULL))
    {
        cli_error("needs --queue Q and either --id ID or --all --state S");
        return 2;
    }
    if (o->id != NULL) {
        if (rq_task_op(r, o->queue, o->id, op, err, sizeof(err)) != 0) {
            return cli_error("%s", err);
        }
        n = 1;
    } else if (rq_task_op_all(r, o->queue, o->state, op, &n, err,
                              sizeof(err)) != 0)
    {
        return cli_error("%s", err);
    }
    if (ctx->json) {
        j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "queue", o->queue);
        if (o->id != NULL) {
            cJSON_AddStringToObject(j, "id", o->id);
        }
        cJSON_AddNumberToObject(j, "count", (double) n);
        cli_print_json(j);
    } else if (o->id != NULL) {
        printf("task %s %s\n", o->id, done_word[op]);
    } else {
        printf("%zu %s tasks %s\n", n, o->state, done_word[op]);
    }
    return 0;
}


static int
cli_task_cancel(rq_redis_t *r, cli_ctx_t *ctx, cli_task_opts_t *o)
{
    char  err[256];

    if (o->id == NULL) {
        cli_error("task cancel needs --id ID");
        return 2;
    }
    if (rq_task_cancel(r, o->queue, o->id, err, sizeof(err)) != 0) {
        return cli_error("%s", err);
    }
    if (!ctx->json) {
        printf("cancel of %s sent\n", o->id);
    }
    return 0;
}


/* One batch of --file lines: parse, enqueue pipelined, report. */
static int
cli_enqueue_batch(rq_redis_t *r, cli_ctx_t *ctx, const char *queue,
    char **lines, const size_t *lens, const size_t *nums, size_t n,
    size_t *ok, cJSON *errs)
{
    cli_task_line_t  *t;
    ll_msg_t         *m;
    rq_enq_out_t     *out;
    size_t           *lineno, i, k = 0;
    const char       *why;
    int               failed = 0;

    t = calloc(n, sizeof(*t));
    m = calloc(n, sizeof(*m));
    out = calloc(n, sizeof(*out));
    lineno = calloc(n, sizeof(*lineno));
    if (!t || !m || !out || !lineno) {
        failed = cli_error("out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        if (cli_task_line(&t[k], lines[i], lens[i], queue, &why) != 0) {
            failed = 1;
            if (ctx->json) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddNumberToObject(e, "line", (double) nums[i]);
                cJSON_AddStringToObject(e, "error", why);
                cJSON_AddItemToArray(errs, e);
            } else {
                cli_error("line %zu: %s", nums[i], why);
            }
            continue;
        }
        m[k] = t[k].msg;        /* its options and strings stay in t[k] */
        lineno[k++] = nums[i];
    }
    *ok += rq_enqueue_many(r, m, k, out);
    for (i = 0; i < k; i++) {
        if (out[i].rc == RQ_OK) {
            continue;
        }
        failed = 1;
        if (ctx->json) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "line", (double) lineno[i]);
            cJSON_AddStringToObject(e, "id", out[i].id);
            cJSON_AddStringToObject(e, "error", out[i].error);
            cJSON_AddItemToArray(errs, e);
        } else {
            cli_error("line %zu: %s", lineno[i], out[i].error);
        }
    }

done:
    for (i = 0; t != NULL && i < k; i++) {
        cli_task_line_free(&t[i]);
    }
    free(t);
    free(m);
    free(out);
    free(lineno);
    return failed;
}


static int
cli_enqueue_file(rq_redis_t *r, cli_ctx_t *ctx, const char *path,
    const char *queue)
{
    FILE     *f;
    char    **lines, *line = NULL;
    size_t    cap = 0, n = 0, lineno = 0, ok = 0, i, *nums, *lens;
    ssize_t   len;
    cJSON    *errs, *j;
    int       failed = 0;

    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL) {
        return cli_error("%s: %s", path, strerror(errno));
    }
    lines = calloc(CLI_BULK, sizeof(char *));
    nums = calloc(CLI_BULK, sizeof(size_t));
    lens = calloc(CLI_BULK, sizeof(size_t));
    errs = cJSON_CreateArray();
    if (lines == NULL || nums == NULL || lens == NULL || errs == NULL) {
        failed = cli_error("out of memory");
        goto done;
    }
    for ( ;; ) {
        len = getline(&line, &cap, f);
        if (len >= 0) {
            lineno++;
            while (len > 0 && isspace((unsigned char) line[len - 1])) {
                line[--len] = '\0';
            }
            if (len == 0) {
                continue;
            }
            nums[n] = lineno;
            lens[n] = (size_t) len;
            lines[n++] = line;
            line = NULL;
            cap = 0;
        }
        if (n == CLI_BULK || (len < 0 && n > 0)) {
            failed |= cli_enqueue_batch(r, ctx, queue, lines, lens, nums, n,
                                        &ok, errs);
            for (i = 0; i < n; i++) {
                free(lines[i]);
            }
            n = 0;
        }
        if (len < 0) {
            break;
        }
    }
    if (ctx->json) {
        j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "enqueued", (double) ok);
        cJSON_AddItemToObject(j, "errors", errs);
        errs = NULL;
        cli_print_json(j);
    } else {
        printf("enqueued %zu tasks\n", ok);
    }

done:
    cJSON_Delete(errs);
    free(line);
    free(lines);
    free(nums);
    free(lens);
    if (f != stdin) {
        fclose(f);
    }
    return failed;
}


static int
cli_task_enqueue(rq_redis_t *r, cli_ctx_t *ctx, cli_task_opts_t *o)
{
    rq_enq_out_t  out;
    cJSON        *j;

    if (o->file != NULL) {
        if (o->npos != 0) {
            cli_error("--file takes no TYPE or PAYLOAD");
            return 2;
        }
        return cli_enqueue_file(r, ctx, o->file, o->queue);
    }
    if (o->npos < 1 || o->npos > 2) {
        fputs(cli_task_usage, stderr);
        return 2;
    }
    o->msg.type = o->pos[0];
    if (o->npos == 2) {
        o->msg.payload = o->pos[1];
        o->msg.payload_len = strlen(o->pos[1]);
    }
    rq_msg_opts(&o->msg, &o->ro, o->queue, o->unique_ms, o->retention_ms);
    o->msg.id = o->id;
    if (rq_enqueue(r, &o->msg, &out) != RQ_OK) {
        return cli_error("%s", out.error);
    }
    if (ctx->json) {
        j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "id", out.id);
        cJSON_AddStringToObject(j, "queue", o->queue ? o->queue : "default");
        cJSON_AddStringToObject(j, "state", o->msg.process_at_ms > lt_now_ms()
                                ? "scheduled" : "pending");
        cli_print_json(j);
    } else {
        printf("enqueued task %s in queue \"%s\"\n", out.id,
               o->queue ? o->queue : "default");
    }
    return 0;
}


int
cli_task(cli_ctx_t *ctx, int argc, char **argv)
{
    static const char  *ops[] = { "run", "archive", "delete" };
    cli_task_opts_t     o;
    rq_redis_conf_t     rc;
    rq_redis_t          r;
    const char         *sub = argc > 1 ? argv[1] : "";
    int                 status, op;

    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        fputs(cli_task_usage, stdout);
        return 0;
    }
    status = cli_task_args(argc, argv, &o);
    if (status != 0) {
        return status;
    }
    if (strcmp(sub, "enqueue") != 0 && o.npos != 0) {
        cli_error("unexpected argument \"%s\"", o.pos[0]);
        return 2;
    }
    for (op = 0; op < 3 && strcmp(sub, ops[op]) != 0; op++) {
        /* void */
    }
    if (op == 3 && strcmp(sub, "ls") != 0 && strcmp(sub, "inspect") != 0
        && strcmp(sub, "enqueue") != 0 && strcmp(sub, "cancel") != 0)
    {
        fputs(cli_task_usage, stderr);
        return 2;
    }
    if (cli_redisq_open(ctx, &rc, &r) != 0) {
        return 1;
    }
    if (op < 3) {
        status = cli_task_op(&r, ctx, &o, op);
    } else if (strcmp(sub, "ls") == 0) {
        status = cli_task_ls(&r, ctx, &o);
    } else if (strcmp(sub, "inspect") == 0) {
        status = cli_task_inspect(&r, ctx, &o);
    } else if (strcmp(sub, "cancel") == 0) {
        status = cli_task_cancel(&r, ctx, &o);
    } else {
        status = cli_task_enqueue(&r, ctx, &o);
    }
    rq_redis_close(&r);
    rq_redis_conf_free(&rc);
    return status;
}
