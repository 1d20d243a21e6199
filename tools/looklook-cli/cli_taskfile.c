/*
 * cli_taskfile: the values of task options (durations, times) and the
 * lines of `task enqueue --file`; see cli_taskfile.h and cli.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_taskfile.h"
#include "lt_duration.h"


int
cli_duration(const char *s, int64_t *ms)
{
    int64_t  v;

    if (lt_duration_parse(s, LT_DUR_LOOKLOOK, &v) != 0 || v > CLI_MS_MAX) {
        return -1;
    }
    *ms = v;
    return 0;
}


int
cli_time(const char *s, int64_t *ms)
{
    struct tm    tm;
    const char  *p;
    char        *end;
    double       v, frac = 0;
    time_t       t;
    int          sign, hh, mm;

    errno = 0;
    v = strtod(s, &end);
    if (end != s && *end == '\0' && errno == 0 && strchr(s, '-') == NULL) {
        if (!(v * 1000 <= CLI_MS_MAX)) {
            return -1;
        }
        *ms = (int64_t) (v * 1000);
        return 0;
    }
    memset(&tm, 0, sizeof(tm));
    p = strptime(s, "%Y-%m-%d", &tm);
    if (p == NULL) {
        return -1;
    }
    if (*p == 'T' || *p == ' ') {
        p = strptime(p + 1, "%H:%M:%S", &tm);
        if (p == NULL) {
            return -1;
        }
        if (*p == '.') {
            frac = strtod(p, &end);
            p = end;
        }
    }
    if (*p == '\0') {
        tm.tm_isdst = -1;
        t = mktime(&tm);
    } else if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        t = timegm(&tm);
    } else if ((*p == '+' || *p == '-')
               && sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2 && strlen(p) == 6)
    {
        sign = *p == '+' ? 1 : -1;
        t = timegm(&tm) - sign * (hh * 3600 + mm * 60);
    } else {
        return -1;
    }
    *ms = (int64_t) t * 1000 + (int64_t) (frac * 1000);
    return 0;
}


/* Fill m (and its options in ro; queue: the default queue) from one JSON
 * line; strings point into j.  0, or -1 with why. */
static int
cli_json_task(cJSON *j, ll_msg_t *m, rq_opts_t *ro, const char *queue,
    ll_header_t **hdrs, char **paybuf, const char **why)
{
    cJSON        *f, *h;
    int64_t       ms, unique = 0, retention = 0;
    size_t        n, i;

    ll_msg_init(m);
    *hdrs = NULL;
    *paybuf = NULL;
    if (!cJSON_IsObject(j)) {
        *why = "not a JSON object";
        return -1;
    }
    f = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(f)) {
        *why = "\"type\" (a string) is required";
        return -1;
    }
    m->type = f->valuestring;
    f = cJSON_GetObjectItemCaseSensitive(j, "payload");
    if (cJSON_IsString(f)) {
        m->payload = f->valuestring;
        m->payload_len = strlen(f->valuestring);
    } else if (f != NULL && !cJSON_IsNull(f)) {
        *paybuf = cJSON_PrintUnformatted(f);   /* JSON payload as text */
        m->payload = *paybuf;
        m->payload_len = *paybuf ? strlen(*paybuf) : 0;
    }
#define CLI_STR(key, dst)                                                   \
    f = cJSON_GetObjectItemCaseSensitive(j, key);                           \
    if (f != NULL) {                                                        \
        if (!cJSON_IsString(f)) { *why = "\"" key "\" must be a string";    \
                                  return -1; }                              \
        dst = f->valuestring;                                               \
    }
    CLI_STR("queue", queue);
    CLI_STR("id", m->id);
#undef CLI_STR
    f = cJSON_GetObjectItemCaseSensitive(j, "retry");
    if (f != NULL) {
        /* asynq's retry is an int32: anything else is refused, not cut */
        if (!cJSON_IsNumber(f) || !(f->valuedouble >= 0)
            || f->valuedouble > 2147483647.0
            || f->valuedouble != (double) (int64_t) f->valuedouble)
        {
            *why = "\"retry\" must be a whole number from 0 to 2147483647";
            return -1;
        }
        m->max_retry = (int) f->valuedouble;
    }
#define CLI_DUR(key, parse, dst)                                            \
    f = cJSON_GetObjectItemCaseSensitive(j, key);                           \
    if (f != NULL) {                                                        \
        if (cJSON_IsNumber(f) && f->valuedouble >= 0                       \
            && f->valuedouble * 1000 <= CLI_MS_MAX)                         \
        {                                                                   \
            ms = (int64_t) (f->valuedouble * 1000);                         \
        } else if (cJSON_IsNumber(f)) {                                     \
            *why = "bad \"" key "\": out of range";                         \
            return -1;                                                      \
        } else if (!cJSON_IsString(f) || parse(f->valuestring, &ms) != 0) { \
            *why = "bad \"" key "\"";                                       \
            return -1;                                                      \
        }                                                                   \
        dst;                                                                \
    }
    CLI_DUR("in", cli_duration, m->process_at_ms = lt_now_ms() + ms);
    CLI_DUR("at", cli_time, m->process_at_ms = ms);
    CLI_DUR("timeout", cli_duration, m->timeout_ms = ms);
    CLI_DUR("deadline", cli_time, m->deadline_ms = ms);
    CLI_DUR("unique", cli_duration, unique = ms);
    CLI_DUR("retention", cli_duration, retention = ms);
#undef CLI_DUR
    rq_msg_opts(m, ro, queue, unique, retention);
    h = cJSON_GetObjectItemCaseSensitive(j, "headers");
    if (h != NULL) {
        n = (size_t) cJSON_GetArraySize(h);
        if (!cJSON_IsObject(h)) {
            *why = "\"headers\" must be an object of strings";
            return -1;
        }
        *hdrs = calloc(n ? n : 1, sizeof(ll_header_t));
        if (*hdrs == NULL) {
            *why = "out of memory";
            return -1;
        }
        i = 0;
        cJSON_ArrayForEach(f, h) {
            if (!cJSON_IsString(f)) {
                *why = "\"headers\" must be an object of strings";
                return -1;
            }
            (*hdrs)[i].name = f->string;
            (*hdrs)[i].value = f->valuestring;
            (*hdrs)[i].value_len = strlen(f->valuestring);
            i++;
        }
        m->headers = *hdrs;
        m->nheaders = n;
    }
    return 0;
}


/* Whether the JSON text has a \u0000 escape: cJSON's strings end at a
 * NUL, so a queue, type, ID or payload holding one would be cut. */
static int
cli_json_nul(const char *s)
{
    for ( ; *s != '\0'; s++) {
        if (*s != '\\' || s[1] == '\0') {
            continue;
        }
        s++;        /* the escaped character; \\ is skipped whole */
        if (*s == 'u' && strncmp(s + 1, "0000", 4) == 0) {
            return 1;
        }
    }
    return 0;
}

int
cli_task_line(cli_task_line_t *t, const char *line, size_t len,
    const char *queue, const char **why)
{
    memset(t, 0, sizeof(*t));
    if (memchr(line, '\0', len) != NULL) {
        *why = "the line holds a NUL byte";
        return -1;
    }
    /* the object and nothing after it: a second one would be lost */
    t->json = cJSON_ParseWithOpts(line, NULL, 1);
    if (t->json == NULL) {
        *why = "not valid JSON";
        return -1;
    }
    if (cli_json_nul(line)) {
        *why = "a string holds a NUL byte (\\u0000), which would cut it";
    } else if (cli_json_task(t->json, &t->msg, &t->ro, queue, &t->hdrs,
                             &t->paybuf, why) == 0)
    {
        return 0;
    }
    cli_task_line_free(t);
    return -1;
}


void
cli_task_line_free(cli_task_line_t *t)
{
    cJSON_Delete(t->json);
    free(t->hdrs);
    free(t->paybuf);
    memset(t, 0, sizeof(*t));
}
