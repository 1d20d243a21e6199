/*
 * Reading the shared status mapping for people and scrapers: the status
 * as JSON (looklook -s status --json, the admin module's /api/status), the
 * Prometheus text exposition (/metrics) and readiness (/readyz).  One
 * reader of the mapping for all of them, so they never disagree.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_core.h"
#include "ll_status.h"

static const char  *health_names[] = { "starting", "ready", "unready",
                                       "stopping" };
static const char  *worker_states[] = { "starting", "ready", "retiring" };

/* A consistent copy of the master's part (it changes at most a few times
 * a second; a reader racing it tries again). */
int
ll__status_master_copy(ll_st_master_t *m)
{
    uint32_t  seq;
    int       tries;

    if (ll__st == NULL) {
        return -1;
    }
    for (tries = 0; tries < 1000; tries++) {
        seq = __atomic_load_n(&ll__st->m.seq, __ATOMIC_ACQUIRE);
        if (seq & 1) {
            continue;
        }
        memcpy(m, &ll__st->m, sizeof(*m));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&ll__st->m.seq, __ATOMIC_RELAXED) == seq) {
            return 0;
        }
    }
    return 0;       /* a torn copy beats none */
}

/* the bank of generation gen, or NULL */
static const ll_st_gen_t *
bank(unsigned gen)
{
    const ll_st_gen_t  *g = &ll__st->gen[gen % 2];

    return gen != 0 && __atomic_load_n(&g->gen, __ATOMIC_ACQUIRE) == gen
           ? g : NULL;
}

static double
series_value(const ll_series_t *s)
{
    uint64_t  bits = __atomic_load_n(&s->bits, __ATOMIC_RELAXED);
    double    d;

    memcpy(&d, &bits, sizeof(d));
    return d;
}

/*
 * Readiness of generation m->generation: every instance in every live,
 * ready worker of it reports ready.  Adds what is not to `not` (when
 * given).
 */
static int
ready_check(const ll_st_master_t *m, cJSON *not)
{
    const ll_st_gen_t      *g = bank(m->generation);
    const ll_st_worker_t   *w;
    const ll_st_health_t   *h;
    cJSON                  *o;
    uint32_t                i, j, ninst, st;
    int                     ready = 1, workers = 0;
    const char             *why;

    if (g == NULL) {
        if (not != NULL) {
            o = cJSON_AddObjectToObject(not, "server");
            cJSON_AddStringToObject(o, "reason", "no generation is serving");
        }
        return 0;
    }
    ninst = __atomic_load_n(&g->ninst, __ATOMIC_ACQUIRE);
    for (i = 0; i < m->nworkers && i < LL_ST_WORKERS; i++) {
        w = &m->worker[i];
        if (w->gen != m->generation || w->state != LL_WS_READY) {
            continue;
        }
        workers++;
        if (w->slot < 0 || w->slot >= LL_ST_SLOTS) {
            continue;
        }
        for (j = 0; j < ninst; j++) {
            h = &g->health[w->slot][j];
            st = __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
            if (h->pid == w->pid && st == LL_HEALTH_READY) {
                continue;
            }
            ready = 0;
            if (not == NULL) {
                return 0;
            }
            if (h->pid != w->pid) {
                st = LL_HEALTH_STARTING;
                why = "";
            } else {
                why = h->reason;
            }
            o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "module", g->inst[j].name);
            cJSON_AddNumberToObject(o, "worker", w->slot);
            cJSON_AddNumberToObject(o, "pid", w->pid);
            cJSON_AddStringToObject(o, "state", st < 4 ? health_names[st]
                                                      : "unknown");
            cJSON_AddStringToObject(o, "reason", why[0] ? why : "starting");
            cJSON_AddItemToArray(cJSON_GetObjectItem(not, "modules"), o);
        }
    }
    if (workers == 0) {
        ready = 0;
        if (not != NULL) {
            o = cJSON_AddObjectToObject(not, "server");
            cJSON_AddStringToObject(o, "reason", "no worker is ready");
        }
    }
    return ready;
}

LL_API int
ll_status_ready(char **why)
{
    ll_st_master_t  *m;
    cJSON           *o;
    int              ready;

    if (why != NULL) {
        *why = NULL;
    }
    m = malloc(sizeof(*m));
    if (m == NULL || ll__status_master_copy(m) != 0) {
        free(m);
        return -1;
    }
    if (why == NULL) {
        ready = ready_check(m, NULL);
    } else {
        o = cJSON_CreateObject();
        if (o == NULL) {
            free(m);
            return -1;
        }
        cJSON_AddArrayToObject(o, "modules");
        ready = ready_check(m, o);
        cJSON_AddBoolToObject(o, "ready", ready);
        cJSON_AddNumberToObject(o, "generation", m->generation);
        *why = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
    }
    free(m);
    return ready;
}

/* ---- JSON -------------------------------------------------------------- */

static void
json_workers(cJSON *root, const ll_st_master_t *m)
{
    cJSON                 *a = cJSON_AddArrayToObject(root, "workers"), *o;
    const ll_st_worker_t  *w;
    uint32_t               i;

    for (i = 0; i < m->nworkers && i < LL_ST_WORKERS; i++) {
        w = &m->worker[i];
        o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "pid", w->pid);
        cJSON_AddNumberToObject(o, "slot", w->slot);
        cJSON_AddNumberToObject(o, "generation", w->gen);
        cJSON_AddStringToObject(o, "state", w->state < 3
                                            ? worker_states[w->state] : "?");
        cJSON_AddNumberToObject(o, "started", (double) w->started_ms / 1e3);
        cJSON_AddNumberToObject(o, "restarts", w->slot >= 0
                                && w->slot < LL_ST_SLOTS
                                ? m->slot_restarts[w->slot] : 0);
        cJSON_AddItemToArray(a, o);
    }
}

static void
json_modules(cJSON *root, const ll_st_master_t *m)
{
    cJSON                 *a = cJSON_AddArrayToObject(root, "modules"), *o;
    cJSON                 *ws, *wo;
    const ll_st_gen_t     *g = bank(m->generation);
    const ll_st_worker_t  *w;
    const ll_st_health_t  *h;
    char                   abi[32];
    uint32_t               i, j, ninst, st;

    if (g == NULL) {
        return;
    }
    ninst = __atomic_load_n(&g->ninst, __ATOMIC_ACQUIRE);
    for (j = 0; j < ninst; j++) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", g->inst[j].name);
        cJSON_AddStringToObject(o, "module", g->inst[j].module);
        cJSON_AddStringToObject(o, "version", g->inst[j].version);
        snprintf(abi, sizeof(abi), "%u.%u", g->inst[j].abi_major,
                 g->inst[j].abi_minor);
        cJSON_AddStringToObject(o, "abi", abi);
        cJSON_AddStringToObject(o, "path", g->inst[j].path);
        ws = cJSON_AddArrayToObject(o, "workers");
        for (i = 0; i < m->nworkers && i < LL_ST_WORKERS; i++) {
            w = &m->worker[i];
            if (w->gen != m->generation || w->slot < 0
                || w->slot >= LL_ST_SLOTS)
            {
                continue;
            }
            h = &g->health[w->slot][j];
            st = __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
            if (h->pid != w->pid) {
                st = LL_HEALTH_STARTING;
            }
            wo = cJSON_CreateObject();
            cJSON_AddNumberToObject(wo, "slot", w->slot);
            cJSON_AddNumberToObject(wo, "pid", w->pid);
            cJSON_AddStringToObject(wo, "health", st < 4 ? health_names[st]
                                                        : "unknown");
            if (h->pid == w->pid && h->reason[0] != '\0') {
                cJSON_AddStringToObject(wo, "reason", h->reason);
            }
            cJSON_AddItemToArray(ws, wo);
        }
        cJSON_AddItemToArray(a, o);
    }
}

static void
json_reloads(cJSON *root, const ll_st_master_t *m)
{
    cJSON                 *r = cJSON_AddObjectToObject(root, "reloads");
    cJSON                 *a, *o;
    const ll_st_reload_t  *e;
    uint32_t               i, first;

    cJSON_AddNumberToObject(r, "ok", (double) m->reloads_ok);
    cJSON_AddNumberToObject(r, "failed", (double) m->reloads_failed);
    a = cJSON_AddArrayToObject(r, "recent");
    first = m->nreloads > LL_ST_RELOADS ? m->nreloads - LL_ST_RELOADS : 0;
    for (i = first; i < m->nreloads; i++) {
        e = &m->reload[i % LL_ST_RELOADS];
        o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "generation", e->gen);
        cJSON_AddNumberToObject(o, "at", (double) e->at_ms / 1e3);
        cJSON_AddStringToObject(o, "outcome", e->ok ? "ok" : "failed");
        if (!e->ok) {
            cJSON_AddStringToObject(o, "reason", e->why);
        }
        cJSON_AddItemToArray(a, o);
    }
}

/* "from -> to" (a route's metric name) into its two ends; the unrouted
 * messages' "(no route)" has no handler: to is "" */
static void
route_split(const char *name, char *from, size_t n, const char **to)
{
    const char  *arrow = strstr(name, " -> ");
    size_t       len = arrow ? (size_t) (arrow - name) : strlen(name);

    snprintf(from, n, "%.*s", (int) len, name);
    *to = arrow ? arrow + 4 : "";
}

static void
json_routes(cJSON *root, ll_metric_t *sum, int n)
{
    cJSON        *a = cJSON_AddArrayToObject(root, "routes"), *o;
    ll_metric_t  *s;
    char          from[256];
    const char   *to;
    uint64_t      total;
    int           i;

    for (i = 0; i < n; i++) {
        s = &sum[i];
        total = s->done + s->retried + s->failed + s->revoked;
        o = cJSON_CreateObject();
        route_split(s->name, from, sizeof(from), &to);
        cJSON_AddStringToObject(o, "from", from);
        cJSON_AddStringToObject(o, "to", to);
        cJSON_AddNumberToObject(o, "received", (double) s->received);
        cJSON_AddNumberToObject(o, "done", (double) s->done);
        cJSON_AddNumberToObject(o, "retried", (double) s->retried);
        cJSON_AddNumberToObject(o, "failed", (double) s->failed);
        cJSON_AddNumberToObject(o, "revoked", (double) s->revoked);
        cJSON_AddNumberToObject(o, "avg_ms", total ? (double) s->sum_us
                                / (double) total / 1000.0 : 0.0);
        cJSON_AddNumberToObject(o, "p50_ms", ll__quantile_ms(s->hist, total,
                                                             0.5));
        cJSON_AddNumberToObject(o, "p99_ms", ll__quantile_ms(s->hist, total,
                                                             0.99));
        cJSON_AddItemToArray(a, o);
    }
}

static void
json_series(cJSON *root)
{
    cJSON              *a = cJSON_AddArrayToObject(root, "metrics"), *o;
    const ll_series_t  *s;
    double              v;
    int                 i;

    for (i = 0; i < LL_ST_SERIES; i++) {
        s = &ll__st->series[i];
        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != LL_SERIES_READY) {
            continue;
        }
        v = series_value(s);
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "series", s->key);
        cJSON_AddNumberToObject(o, "value", isfinite(v) ? v : 0);
        cJSON_AddItemToArray(a, o);
    }
}

LL_API char *
ll_status_json(void)
{
    ll_st_master_t  *m;
    ll_metric_t     *sum;
    cJSON           *root, *ready;
    char            *text = NULL;
    int              n;

    m = malloc(sizeof(*m));
    sum = malloc(sizeof(*sum) * LL_ROUTE_SLOTS);
    root = cJSON_CreateObject();
    if (m == NULL || sum == NULL || root == NULL
        || ll__status_master_copy(m) != 0)
    {
        goto done;
    }
    n = ll__metrics_sum(sum);
    cJSON_AddStringToObject(root, "version", LL_VERSION);
    cJSON_AddNumberToObject(root, "master_pid", m->master_pid);
    cJSON_AddNumberToObject(root, "started", (double) m->started_ms / 1e3);
    cJSON_AddNumberToObject(root, "uptime_seconds",
                            (double) (ll_now_ms() - m->started_ms) / 1e3);
    cJSON_AddNumberToObject(root, "generation", m->generation);
    if (m->new_generation != 0) {
        cJSON_AddNumberToObject(root, "new_generation", m->new_generation);
    }
    ready = cJSON_CreateObject();
    cJSON_AddArrayToObject(ready, "modules");
    cJSON_AddBoolToObject(root, "ready", ready_check(m, ready));
    cJSON_AddItemToObject(root, "not_ready", ready);
    cJSON_AddNumberToObject(root, "worker_restarts", (double) m->restarts);
    json_workers(root, m);
    json_reloads(root, m);
    json_modules(root, m);
    json_routes(root, sum, n > 0 ? n : 0);
    json_series(root);
    text = cJSON_Print(root);
done:
    cJSON_Delete(root);
    free(sum);
    free(m);
    return text;
}

/* ---- Prometheus text exposition (format 0.0.4) -------------------------- */

static void
prom_escaped(FILE *f, const char *s, int quote)
{
    for ( ; *s != '\0'; s++) {
        if (*s == '\\') {
            fputs("\\\\", f);
        } else if (*s == '\n') {
            fputs("\\n", f);
        } else if (*s == '"' && quote) {
            fputs("\\\"", f);
        } else {
            fputc(*s, f);
        }
    }
}

static void
prom_family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s ", name);
    prom_escaped(f, help, 0);
    fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static void
prom_value(FILE *f, double v)
{
    if (isnan(v)) {
        fputs(" NaN\n", f);
    } else if (isinf(v)) {
        fputs(v > 0 ? " +Inf\n" : " -Inf\n", f);
    } else {
        fprintf(f, " %.17g\n", v);
    }
}

/* name{from="..",to=".."[,extra] */
static void
prom_route(FILE *f, const char *name, const ll_metric_t *s)
{
    char         from[256];
    const char  *to;

    route_split(s->name, from, sizeof(from), &to);
    fprintf(f, "%s{from=\"", name);
    prom_escaped(f, from, 1);
    fputs("\",to=\"", f);
    prom_escaped(f, to, 1);
    fputc('"', f);
}

static void
prom_routes(FILE *f, const ll_metric_t *sum, int n)
{
    static const char  *outcomes[] = { "done", "retried", "failed",
                                       "revoked" };
    const ll_metric_t  *s;
    uint64_t            v[4], cum;
    int                 i, k, b;

    prom_family(f, "looklook_messages_received_total", "counter",
                "Messages handed to a handler, by route.");
    for (i = 0; i < n; i++) {
        prom_route(f, "looklook_messages_received_total", &sum[i]);
        fprintf(f, "} %llu\n", (unsigned long long) sum[i].received);
    }
    prom_family(f, "looklook_messages_handled_total", "counter",
                "Handler outcomes (done, retried, failed, revoked), by "
                "route.");
    for (i = 0; i < n; i++) {
        s = &sum[i];
        v[0] = s->done;
        v[1] = s->retried;
        v[2] = s->failed;
        v[3] = s->revoked;
        for (k = 0; k < 4; k++) {
            prom_route(f, "looklook_messages_handled_total", s);
            fprintf(f, ",outcome=\"%s\"} %llu\n", outcomes[k],
                    (unsigned long long) v[k]);
        }
    }
    prom_family(f, "looklook_handler_duration_seconds", "histogram",
                "Time a handler took, by route.");
    for (i = 0; i < n; i++) {
        s = &sum[i];
        cum = 0;
        for (b = 0; b < LL_HIST_BUCKETS; b++) {
            cum += s->hist[b];
            prom_route(f, "looklook_handler_duration_seconds_bucket", s);
            if (b == LL_HIST_BUCKETS - 1) {
                fprintf(f, ",le=\"+Inf\"} %llu\n", (unsigned long long) cum);
            } else {
                fprintf(f, ",le=\"%g\"} %llu\n",
                        (double) ll__hist_bounds[b] / 1e6,
                        (unsigned long long) cum);
            }
        }
        prom_route(f, "looklook_handler_duration_seconds_sum", s);
        fprintf(f, "} %.6f\n", (double) s->sum_us / 1e6);
        prom_route(f, "looklook_handler_duration_seconds_count", s);
        fprintf(f, "} %llu\n", (unsigned long long) cum);
    }
}

/* series ordered by metric name, then labels: a family's lines together */
static int
series_cmp(const void *a, const void *b)
{
    const char  *x = (*(const ll_series_t *const *) a)->key;
    const char  *y = (*(const ll_series_t *const *) b)->key;
    size_t       lx = strcspn(x, "{"), ly = strcspn(y, "{");
    int          r;

    r = strncmp(x, y, lx < ly ? lx : ly);
    if (r != 0 || lx != ly) {
        return r != 0 ? r : (lx < ly ? -1 : 1);
    }
    return strcmp(x + lx, y + ly);
}

static void
prom_series(FILE *f)
{
    static const char  *types[] = { "untyped", "counter", "gauge",
                                    "untyped" };
    ll_series_t   **v;
    size_t          n = 0, i, j, len;
    double          val;
    char            fam[LL_ST_KEY];

    v = malloc(sizeof(*v) * LL_ST_SERIES);
    if (v == NULL) {
        return;
    }
    for (i = 0; i < LL_ST_SERIES; i++) {
        if (__atomic_load_n(&ll__st->series[i].state, __ATOMIC_ACQUIRE)
            == LL_SERIES_READY)
        {
            v[n++] = &ll__st->series[i];
        }
    }
    qsort(v, n, sizeof(*v), series_cmp);
    fam[0] = '\0';
    for (i = 0; i < n; i = j) {
        len = strcspn(v[i]->key, "{");
        if (strlen(fam) != len || strncmp(fam, v[i]->key, len) != 0) {
            snprintf(fam, sizeof(fam), "%.*s", (int) len, v[i]->key);
            prom_family(f, fam, types[v[i]->type < 4 ? v[i]->type : 0],
                        v[i]->help);
        }
        /* the same series claimed twice (a claimer died midway): one
         * line, counters added up */
        val = series_value(v[i]);
        for (j = i + 1; j < n && strcmp(v[j]->key, v[i]->key) == 0; j++) {
            if (v[i]->type == LL_METRIC_COUNTER) {
                val += series_value(v[j]);
            }
        }
        fputs(v[i]->key, f);
        prom_value(f, val);
    }
    free(v);
}

LL_API char *
ll_status_prometheus(size_t *len)
{
    ll_st_master_t      *m;
    ll_metric_t         *sum;
    const ll_st_gen_t   *g;
    FILE                *f = NULL;
    char                *text = NULL, abi[32];
    size_t               size = 0;
    uint32_t             i, counts[3] = { 0, 0, 0 };
    int                  n;

    m = malloc(sizeof(*m));
    sum = malloc(sizeof(*sum) * LL_ROUTE_SLOTS);
    if (m == NULL || sum == NULL || ll__status_master_copy(m) != 0
        || (f = open_memstream(&text, &size)) == NULL)
    {
        free(m);
        free(sum);
        return NULL;
    }
    n = ll__metrics_sum(sum);

    prom_family(f, "looklook_build_info", "gauge",
                "looklook's version and module ABI.");
    fprintf(f, "looklook_build_info{version=\"%s\",abi=\"%d.%d\"} 1\n",
            LL_VERSION, LL_ABI_MAJOR, LL_ABI_MINOR);
    prom_family(f, "looklook_start_time_seconds", "gauge",
                "Unix time the master started.");
    fprintf(f, "looklook_start_time_seconds %.3f\n",
            (double) m->started_ms / 1e3);
    prom_family(f, "looklook_uptime_seconds", "gauge",
                "Seconds since the master started.");
    fprintf(f, "looklook_uptime_seconds %.3f\n",
            (double) (ll_now_ms() - m->started_ms) / 1e3);
    prom_family(f, "looklook_generation", "gauge",
                "The generation serving (1 at start, one more per reload).");
    fprintf(f, "looklook_generation %u\n", m->generation);
    prom_family(f, "looklook_ready", "gauge",
                "1 when every module of the serving generation is ready.");
    fprintf(f, "looklook_ready %d\n", ready_check(m, NULL));
    for (i = 0; i < m->nworkers && i < LL_ST_WORKERS; i++) {
        if (m->worker[i].state < 3) {
            counts[m->worker[i].state]++;
        }
    }
    prom_family(f, "looklook_workers", "gauge", "Worker processes by state.");
    for (i = 0; i < 3; i++) {
        fprintf(f, "looklook_workers{state=\"%s\"} %u\n", worker_states[i],
                counts[i]);
    }
    prom_family(f, "looklook_worker_restarts_total", "counter",
                "Workers respawned after they died.");
    fprintf(f, "looklook_worker_restarts_total %llu\n",
            (unsigned long long) m->restarts);
    prom_family(f, "looklook_reloads_total", "counter",
                "Reloads by outcome (failed: the old generation kept "
                "running).");
    fprintf(f, "looklook_reloads_total{outcome=\"ok\"} %llu\n"
            "looklook_reloads_total{outcome=\"failed\"} %llu\n",
            (unsigned long long) m->reloads_ok,
            (unsigned long long) m->reloads_failed);
    prom_family(f, "looklook_module_info", "gauge",
                "One per module instance of the serving generation.");
    g = bank(m->generation);
    for (i = 0; g != NULL && i < __atomic_load_n(&g->ninst, __ATOMIC_ACQUIRE);
         i++)
    {
        snprintf(abi, sizeof(abi), "%u.%u", g->inst[i].abi_major,
                 g->inst[i].abi_minor);
        fputs("looklook_module_info{name=\"", f);
        prom_escaped(f, g->inst[i].name, 1);
        fputs("\",module=\"", f);
        prom_escaped(f, g->inst[i].module, 1);
        fputs("\",version=\"", f);
        prom_escaped(f, g->inst[i].version, 1);
        fprintf(f, "\",abi=\"%s\",path=\"", abi);
        prom_escaped(f, g->inst[i].path, 1);
        fputs("\"} 1\n", f);
    }
    prom_routes(f, sum, n > 0 ? n : 0);
    prom_series(f);
    free(sum);
    free(m);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    if (len != NULL) {
        *len = size;
    }
    return text;
}
