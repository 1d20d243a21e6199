/*
 * looklook-cli dq put | stats | peek | kick: go-queue dq jobs on the
 * beanstalkd nodes of a dq instance (-c looklook.conf, -i NAME) or given
 * with -b HOST:PORT (repeatable) and -t TUBE.  Bodies are written and read
 * in go-queue's wrapper (lib/dqwire).
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bs_client.h"
#include "cli.h"
#include "dq_wire.h"
#include "lt_clock.h"

#define DQ_CLI_NODES  16

/* cli_queue.c */
int cli_print_json(cJSON *j);

typedef struct {
    const char  *endpoint;
    const char  *tube;
    bs_conn_t    c;
    int          up;
} dq_cli_node_t;

static const char  dq_usage[] =
    "usage: looklook-cli [-c looklook.conf] dq [-i INSTANCE] "
    "[-b HOST:PORT]... [-t TUBE] COMMAND\n"
    "  put [--delay D | --at TIME] [--ttr D] [--pri N] BODY\n"
    "                 write BODY as go-queue does (\"<unix ns>/BODY\"), a "
    "copy on each node\n"
    "  stats          jobs by state in each node's tube\n"
    "  peek [ready|delayed|buried|ID]\n"
    "                 the next job in that state (default ready), or job ID, "
    "on each node\n"
    "  kick [N]       make up to N (default 1000) buried jobs ready again "
    "(delayed ones when none is buried), on each node\n"
    "Nodes: -b and -t, else the beanstalks of the dq instance (-i, default "
    "\"dq\") in -c's config.\n"
    "D is a duration (90s, 30m, 500ms); TIME is Unix seconds or RFC 3339.\n";


/* The nodes from -b/-t, else from the config.  Count, or -1. */
static int
dq_cli_nodes(cli_ctx_t *ctx, const char *instance, const char **eps, int neps,
    const char *tube, dq_cli_node_t *nodes)
{
    config_setting_t  *list, *e;
    int                i, n;

    if (neps > 0) {
        for (i = 0; i < neps; i++) {
            nodes[i].endpoint = eps[i];
            nodes[i].tube = tube != NULL ? tube : "default";
        }
        return neps;
    }
    list = cli_conf_setting(ctx, instance, "beanstalks");
    if (list == NULL) {
        cli_error("dq: no nodes: give -b HOST:PORT [-t TUBE], or -c "
                  "looklook.conf with a \"%s\" instance", instance);
        return -1;
    }
    n = config_setting_length(list);
    for (i = 0; i < n && i < DQ_CLI_NODES; i++) {
        e = config_setting_get_elem(list, i);
        if (config_setting_lookup_string(e, "endpoint", &nodes[i].endpoint)
                != CONFIG_TRUE
            || config_setting_lookup_string(e, "tube", &nodes[i].tube)
                != CONFIG_TRUE)
        {
            cli_error("dq: %s: beanstalks entry %d needs endpoint and tube",
                      ctx->conf_path, i + 1);
            return -1;
        }
        if (tube != NULL) {
            nodes[i].tube = tube;
        }
    }
    return i;
}


/* Connect and use the tube; on failure say so and mark the node down. */
static int
dq_cli_open(dq_cli_node_t *n)
{
    bs_init(&n->c, 3000);
    n->up = bs_connect(&n->c, n->endpoint) == BS_OK
            && bs_use(&n->c, n->tube) == BS_OK;
    if (!n->up) {
        cli_error("%s: %s", n->endpoint, n->c.err);
    }
    return n->up;
}


static int
dq_cli_put(dq_cli_node_t *nodes, int n, int argc, char **argv)
{
    int64_t          delay_ms = 0, at_ms = 0, ttr_ms = 5000, pri = 2, now_ns;
    int64_t          at_ns;
    uint64_t         ids[DQ_CLI_NODES];
    const char      *body = NULL, *sep = "";
    char             prefix[32], *wrapped;
    size_t           plen, len;
    int              i, written = 0, need = n < 2 ? n : 2;

    for (i = 2; i < argc; i++) {
        const char  *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(argv[i], "--delay") == 0 && v != NULL) {
            if (cli_duration(v, &delay_ms) != 0) {
                return cli_error("--delay: bad duration \"%s\"", v) + 1;
            }
            i++;
        } else if (strcmp(argv[i], "--at") == 0 && v != NULL) {
            if (cli_time(v, &at_ms) != 0) {
                return cli_error("--at: bad time \"%s\"", v) + 1;
            }
            i++;
        } else if (strcmp(argv[i], "--ttr") == 0 && v != NULL) {
            if (cli_duration(v, &ttr_ms) != 0 || ttr_ms < 1000) {
                return cli_error("--ttr: a duration of 1s or more") + 1;
            }
            i++;
        } else if (strcmp(argv[i], "--pri") == 0 && v != NULL) {
            pri = strtoll(v, NULL, 10);
            i++;
        } else if (body == NULL && (argv[i][0] != '-' || argv[i][1] == '\0')) {
            body = argv[i];
        } else {
            fputs(dq_usage, stderr);
            return 2;
        }
    }
    if (body == NULL || pri < 0 || pri > UINT32_MAX) {
        fputs(dq_usage, stderr);
        return 2;
    }
    now_ns = lt_now_ns();
    at_ns = at_ms != 0 ? at_ms * 1000000 : now_ns + delay_ms * 1000000;
    if (at_ns < now_ns) {
        return cli_error("can't schedule task to past time");
    }
    plen = dq_wrap_prefix(prefix, sizeof(prefix), at_ns);
    len = plen + strlen(body);
    wrapped = malloc(len + 1);
    if (wrapped == NULL) {
        return cli_error("out of memory");
    }
    memcpy(wrapped, prefix, plen);
    memcpy(wrapped + plen, body, len - plen);
    for (i = 0; i < n; i++) {
        ids[i] = 0;
        if (!dq_cli_open(&nodes[i])) {
            continue;
        }
        /* whole seconds, cut as go-queue's client does */
        if (bs_put(&nodes[i].c, (uint32_t) pri,
                   (uint32_t) ((at_ns - now_ns) / 1000000000),
                   (uint32_t) (ttr_ms / 1000), wrapped, len, &ids[i]) != BS_OK)
        {
            cli_error("%s: %s", nodes[i].endpoint, nodes[i].c.err);
            ids[i] = 0;
            continue;
        }
        written++;
    }
    free(wrapped);
    for (i = 0; i < n; i++) {
        if (ids[i] == 0) {
            continue;
        }
        if (written < need) {
            bs_delete(&nodes[i].c, ids[i]);     /* go-queue's Revoke */
            continue;
        }
        /* go-queue's id: endpoint/tube/id of each copy, joined by "," */
        printf("%s%s/%s/%" PRIu64, sep, nodes[i].endpoint, nodes[i].tube,
               ids[i]);
        sep = ",";
    }
    if (written < need || n == 0) {
        return cli_error("written to %d of %d node(s), %d needed", written, n,
                         need > 0 ? need : 1);
    }
    putchar('\n');
    return 0;
}


static int
dq_cli_stats(cli_ctx_t *ctx, dq_cli_node_t *nodes, int n)
{
    static const char *const  keys[] = {
        "current-jobs-ready", "current-jobs-reserved", "current-jobs-delayed",
        "current-jobs-buried", "total-jobs"
    };
    static const char *const  names[] = {
        "ready", "reserved", "delayed", "buried", "total"
    };
    cJSON  *arr = ctx->json ? cJSON_CreateArray() : NULL, *o;
    int     i, k, rc = 0, st;

    if (!ctx->json) {
        printf("%-22s %-20s %8s %8s %8s %8s %8s\n", "NODE", "TUBE", "READY",
               "RESERVED", "DELAYED", "BURIED", "TOTAL");
    }
    for (i = 0; i < n; i++) {
        if (!dq_cli_open(&nodes[i])) {
            rc = 1;
            continue;
        }
        st = bs_stats_tube(&nodes[i].c, nodes[i].tube);
        if (st != BS_OK && st != BS_NOT_FOUND) {
            rc = cli_error("%s: %s", nodes[i].endpoint, nodes[i].c.err);
            continue;
        }
        /* NOT_FOUND: the tube does not exist yet, nothing in it */
        o = ctx->json ? cJSON_CreateObject() : NULL;
        if (o != NULL) {
            cJSON_AddStringToObject(o, "node", nodes[i].endpoint);
            cJSON_AddStringToObject(o, "tube", nodes[i].tube);
            cJSON_AddItemToArray(arr, o);
        } else {
            printf("%-22s %-20s", nodes[i].endpoint, nodes[i].tube);
        }
        for (k = 0; k < 5; k++) {
            int64_t  v = st == BS_OK ? bs_stat(nodes[i].c.body, keys[k]) : 0;

            if (o != NULL) {
                cJSON_AddNumberToObject(o, names[k], (double) v);
            } else {
                printf(" %8" PRId64, v);
            }
        }
        if (o == NULL) {
            putchar('\n');
        }
    }
    if (arr != NULL) {
        cli_print_json(arr);
    }
    return rc;
}


/* One peeked job (in c->body) as a line or a JSON object. */
static void
dq_cli_show(cli_ctx_t *ctx, cJSON *arr, dq_cli_node_t *n, uint64_t id,
    const char *state)
{
    const char      *task;
    size_t           task_len;
    int64_t          at_ns = 0;
    char             why[160], due[40] = "-", *text;
    time_t           t;
    struct tm        tm;
    int              rc;

    rc = dq_unwrap(n->c.body, n->c.body_len, lt_now_ns(), &at_ns,
                   &task, &task_len, why, sizeof(why));
    if (rc == -1) {
        task = n->c.body;
        task_len = n->c.body_len;
    } else {
        t = (time_t) (at_ns / 1000000000);
        localtime_r(&t, &tm);
        strftime(due, sizeof(due), "%Y-%m-%d %H:%M:%S %z", &tm);
    }
    text = strndup(task, task_len);
    if (ctx->json) {
        cJSON  *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "node", n->endpoint);
        cJSON_AddStringToObject(o, "tube", n->tube);
        cJSON_AddNumberToObject(o, "id", (double) id);
        cJSON_AddStringToObject(o, "state", state);
        if (rc != -1) {
            cJSON_AddNumberToObject(o, "due_ms", (double) (at_ns / 1000000));
        } else {
            cJSON_AddStringToObject(o, "error", why);
        }
        cJSON_AddStringToObject(o, "body", text ? text : "");
        cJSON_AddItemToArray(arr, o);
    } else if (rc == -1) {
        printf("%s %s %" PRIu64 " %s (%s): %s\n", n->endpoint, n->tube, id,
               state, why, text ? text : "");
    } else {
        printf("%s %s %" PRIu64 " %s due %s: %s\n", n->endpoint, n->tube, id,
               state, due, text ? text : "");
    }
    free(text);
}


static int
dq_cli_peek(cli_ctx_t *ctx, dq_cli_node_t *nodes, int n, const char *what)
{
    cJSON     *arr = ctx->json ? cJSON_CreateArray() : NULL;
    char      *end;
    uint64_t   id = strtoull(what, &end, 10);
    int        by_id = *what >= '0' && *what <= '9' && *end == '\0';
    int        i, rc = 0, st;
    const char *state, *p;
    char       st_text[16];

    if (!by_id && strcmp(what, "ready") != 0 && strcmp(what, "delayed") != 0
        && strcmp(what, "buried") != 0)
    {
        fputs(dq_usage, stderr);
        return 2;
    }
    for (i = 0; i < n; i++) {
        if (!dq_cli_open(&nodes[i])) {
            rc = 1;
            continue;
        }
        state = what;
        if (by_id) {
            /* the state of a job named by id is in its stats */
            st = bs_stats_job(&nodes[i].c, id);
            p = st == BS_OK ? strstr(nodes[i].c.body, "\nstate: ") : NULL;
            if (p == NULL || sscanf(p + 8, "%15s", st_text) != 1) {
                snprintf(st_text, sizeof(st_text), "?");
            }
            state = st_text;
        }
        st = by_id ? bs_peek(&nodes[i].c, id)
                   : bs_peek_state(&nodes[i].c, what, &id);
        if (st == BS_NOT_FOUND) {
            continue;
        }
        if (st != BS_OK) {
            rc = cli_error("%s: %s", nodes[i].endpoint, nodes[i].c.err);
            continue;
        }
        dq_cli_show(ctx, arr, &nodes[i], id, state);
    }
    if (arr != NULL) {
        cli_print_json(arr);
    }
    return rc;
}


static int
dq_cli_kick(cli_ctx_t *ctx, dq_cli_node_t *nodes, int n, const char *bound)
{
    cJSON     *arr = ctx->json ? cJSON_CreateArray() : NULL, *o;
    char      *end;
    long long  b = bound ? strtoll(bound, &end, 10) : 1000;
    uint64_t   count;
    int        i, rc = 0;

    if (bound != NULL && (*end != '\0' || b < 1 || b > UINT32_MAX)) {
        fputs(dq_usage, stderr);
        return 2;
    }
    for (i = 0; i < n; i++) {
        if (!dq_cli_open(&nodes[i])) {
            rc = 1;
            continue;
        }
        if (bs_kick(&nodes[i].c, (uint32_t) b, &count) != BS_OK) {
            rc = cli_error("%s: %s", nodes[i].endpoint, nodes[i].c.err);
            continue;
        }
        if (arr != NULL) {
            o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "node", nodes[i].endpoint);
            cJSON_AddStringToObject(o, "tube", nodes[i].tube);
            cJSON_AddNumberToObject(o, "kicked", (double) count);
            cJSON_AddItemToArray(arr, o);
        } else {
            printf("%s %s kicked %" PRIu64 "\n", nodes[i].endpoint,
                   nodes[i].tube, count);
        }
    }
    if (arr != NULL) {
        cli_print_json(arr);
    }
    return rc;
}


int
cli_dq(cli_ctx_t *ctx, int argc, char **argv)
{
    dq_cli_node_t  nodes[DQ_CLI_NODES];
    const char    *eps[DQ_CLI_NODES], *tube = NULL, *instance = "dq";
    char          *args[64];
    int            i, n, neps = 0, nargs = 0, rc;

    memset(nodes, 0, sizeof(nodes));
    for (i = 1; i < argc && nargs < 63; i++) {
        if (strcmp(argv[i], "-b") == 0 && i + 1 < argc && neps < DQ_CLI_NODES) {
            eps[neps++] = argv[++i];
        } else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            tube = argv[++i];
        } else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc) {
            instance = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(dq_usage, stdout);
            return 0;
        } else {
            args[nargs++] = argv[i];
        }
    }
    if (nargs == 0) {
        fputs(dq_usage, stderr);
        return 2;
    }
    n = dq_cli_nodes(ctx, instance, eps, neps, tube, nodes);
    if (n < 0) {
        return 1;
    }
    if (strcmp(args[0], "put") == 0) {
        /* put's own arguments start at args[1]: shift to argv shape */
        char  *pargv[66];

        pargv[0] = "dq";
        for (i = 0; i < nargs; i++) {
            pargv[i + 1] = args[i];
        }
        rc = dq_cli_put(nodes, n, nargs + 1, pargv);
    } else if (strcmp(args[0], "stats") == 0 && nargs == 1) {
        rc = dq_cli_stats(ctx, nodes, n);
    } else if (strcmp(args[0], "peek") == 0 && nargs <= 2) {
        rc = dq_cli_peek(ctx, nodes, n, nargs == 2 ? args[1] : "ready");
    } else if (strcmp(args[0], "kick") == 0 && nargs <= 2) {
        rc = dq_cli_kick(ctx, nodes, n, nargs == 2 ? args[1] : NULL);
    } else {
        fputs(dq_usage, stderr);
        rc = 2;
    }
    for (i = 0; i < n; i++) {
        bs_close(&nodes[i].c);
    }
    return rc;
}
