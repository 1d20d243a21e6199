/*
 * log_format = "json": one JSON object per line under go-zero's logx field
 * names (@timestamp, level, content), plus pid, module, generation and,
 * on a line written while a message is being handled, what identifies
 * the message: its id as task_id and each of its options (queue; topic,
 * partition, offset).  The context is the thread's: the core sets it
 * around a handler call and its done callback, a module around its own
 * lines about a message (ll_log_context); only when lines are JSON (text
 * lines stay as they were, and nothing is copied).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ll_core.h"

#define CTX_OPTS  4

int  ll__log_json_on;

/* A copy, not the message: a done callback may free it and log after. */
typedef struct {
    int         set;
    char        id[128];
    int         nopts;
    struct {
        char        name[32];
        int         is_str;
        char        str[128];
        int64_t     num;
    }           opt[CTX_OPTS];
} log_ctx_t;

static __thread log_ctx_t  ctx;

LL_API void
ll_log_context(const ll_msg_t *m)
{
    size_t  i;

    ctx.set = 0;
    if (m == NULL || !ll__log_json_on) {
        return;         /* text lines carry no context: no copy */
    }
    snprintf(ctx.id, sizeof(ctx.id), "%s", m->id != NULL ? m->id : "");
    ctx.nopts = 0;
    for (i = 0; i < m->nopts && m->opts != NULL && ctx.nopts < CTX_OPTS; i++)
    {
        if (m->opts[i].name == NULL) {
            continue;
        }
        snprintf(ctx.opt[ctx.nopts].name, sizeof(ctx.opt[0].name), "%s",
                 m->opts[i].name);
        ctx.opt[ctx.nopts].is_str = m->opts[i].str != NULL;
        snprintf(ctx.opt[ctx.nopts].str, sizeof(ctx.opt[0].str), "%s",
                 m->opts[i].str != NULL ? m->opts[i].str : "");
        ctx.opt[ctx.nopts].num = m->opts[i].num;
        ctx.nopts++;
    }
    ctx.set = 1;
}

/* go-zero's "2006-01-02T15:04:05.000Z07:00" in local time */
static void
timestamp(char *buf, size_t len, const struct timeval *tv)
{
    struct tm  tm;
    char       zone[8];
    size_t     n;

    localtime_r(&tv->tv_sec, &tm);
    n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof(zone), "%z", &tm);        /* +0800 */
    if (tm.tm_gmtoff == 0) {
        snprintf(buf + n, len - n, ".%03dZ", (int) (tv->tv_usec / 1000));
    } else {
        snprintf(buf + n, len - n, ".%03d%.3s:%.2s",
                 (int) (tv->tv_usec / 1000), zone, zone + 3);
    }
}

static void
add_context(cJSON *o)
{
    int  i;

    if (ctx.id[0] != '\0') {
        cJSON_AddStringToObject(o, "task_id", ctx.id);
    }
    for (i = 0; i < ctx.nopts; i++) {
        if (cJSON_GetObjectItemCaseSensitive(o, ctx.opt[i].name) != NULL) {
            continue;       /* never over pid, module, ... */
        }
        if (ctx.opt[i].is_str) {
            cJSON_AddStringToObject(o, ctx.opt[i].name, ctx.opt[i].str);
        } else {
            cJSON_AddNumberToObject(o, ctx.opt[i].name,
                                    (double) ctx.opt[i].num);
        }
    }
}

/*
 * The line (with its newline) for content, malloc'ed; NULL when out of
 * memory.  generation 0 is left out (the master before its first).
 */
char *
ll__log_json(const struct timeval *tv, int level, const char *who,
    unsigned generation, const char *content, size_t *len)
{
    /* logx's names for LL_LOG_ERR .. LL_LOG_DEBUG */
    static const char  *go_levels[] = { "error", "warn", "info", "debug" };
    cJSON              *o = cJSON_CreateObject();
    char                ts[40], *text, *line = NULL;

    timestamp(ts, sizeof(ts), tv);
    if (o == NULL
        || cJSON_AddStringToObject(o, "@timestamp", ts) == NULL
        || cJSON_AddStringToObject(o, "level", go_levels[level]) == NULL
        || cJSON_AddStringToObject(o, "content", content) == NULL)
    {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddNumberToObject(o, "pid", getpid());
    cJSON_AddStringToObject(o, "module", who);
    if (generation != 0) {
        cJSON_AddNumberToObject(o, "generation", generation);
    }
    if (ctx.set) {
        add_context(o);
    }
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text != NULL) {
        *len = strlen(text);
        line = realloc(text, *len + 1);
        if (line == NULL) {
            free(text);
        } else {
            line[(*len)++] = '\n';
        }
    }
    return line;
}
