/*
 * cron: timed tasks (asynq's Scheduler, exactly once across instances).
 * This file: the module descriptor, the settings and the entry list, and
 * the hooks.  The scheduler thread is in cron_sched.c.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "cron_asynq.h"

#define HOUR_MS  3600000
#define DAY_MS   86400000

static const char *const misfires[] = { "skip", "once", NULL };

static const ll_conf_field_t cron_schema[] = {
    LL_SET_STR(cron_conf_t, redis, "redis", 0, "redis://127.0.0.1:6379/0",
               "Redis for claims, asynq scheduler entries and history (the "
               "one redisq uses)"),
    LL_SET_STR(cron_conf_t, redisq, "redisq", 0, "redisq",
               "instance that enqueues the tasks (an entry's default target)"),
    LL_SET_STR(cron_conf_t, timezone, "timezone", 0, "UTC",
               "IANA time zone of the entries' specs (asynq's default is UTC)"),
    LL_SET_NODE(cron_conf_t, entries, "entries", LL_CONF_REQUIRED,
                "list of entries { id; spec; task; ... } (see README.md)"),
    LL_SET_DURATION(cron_conf_t, lease_ms, "lease", 0, "3s", 100, HOUR_MS,
                    "how long a claimed tick is reserved for its claimer"),
    LL_SET_DURATION(cron_conf_t, grace_ms, "misfire_grace", 0, "5s", 0,
                    DAY_MS, "a tick first reached later than this is a "
                    "misfire"),
    LL_SET_DURATION(cron_conf_t, heartbeat_ms, "heartbeat", 0, "10s", 1000,
                    HOUR_MS, "asynq scheduler heartbeat (entries expire "
                    "after two)"),
    LL_SET_END
};

static const ll_conf_field_t entry_schema[] = {
    LL_SET_STR(cron_entry_t, id, "id", LL_CONF_REQUIRED, NULL,
               "entry name: letters, digits, - _ . (routes: \"cron:ID\")"),
    LL_SET_STR(cron_entry_t, spec_text, "spec", LL_CONF_REQUIRED, NULL,
               "cron spec: 5 fields, 6 with seconds first, @daily, @every 30s"),
    LL_SET_STR(cron_entry_t, timezone, "timezone", 0, NULL,
               "IANA zone of this entry (default: the module's)"),
    LL_SET_STR(cron_entry_t, task, "task", 0, NULL,
               "task type to enqueue (required unless target = \"handler\")"),
    LL_SET_STR(cron_entry_t, payload, "payload", 0, "", "task payload"),
    LL_SET_STR(cron_entry_t, queue, "queue", 0, NULL,
               "queue (default \"default\")"),
    LL_SET_STR(cron_entry_t, target, "target", 0, NULL,
               "\"handler\" (call the routed handler), or an instance to "
               "enqueue into (default: the module's redisq)"),
    LL_SET_CHOICE(cron_entry_t, misfire, "misfire", 0, "skip", misfires,
                  "ticks nobody could fire in time: \"skip\" or \"once\" "
                  "(fire the latest once)"),
    LL_SET_INT(cron_entry_t, retry, "retry", 0, "-1", -1, 1000000,
               "max retries (-1: the target's default, 25)"),
    LL_SET_DURATION(cron_entry_t, timeout_ms, "timeout", 0, "0", 0, 0,
                    "per-attempt timeout"),
    LL_SET_DURATION(cron_entry_t, unique_ms, "unique", 0, "0", 0, 0,
                    "uniqueness lock (asynq Unique; 0 or at least 1s)"),
    LL_SET_DURATION(cron_entry_t, retention_ms, "retention", 0, "0", 0, 0,
                    "keep completed tasks this long (at least the "
                    "exactly-once floor)"),
    LL_SET_END
};

static int
cron_valid_id(const char *id)
{
    const char *p;

    if (id[0] == '\0' || strlen(id) > 100) {
        return 0;
    }
    for (p = id; *p; p++) {
        if (!isalnum((unsigned char) *p) && strchr("-_.", *p) == NULL) {
            return 0;
        }
    }
    return 1;
}

/* The zone `name`, loaded once per instance. */
static const cron_tz_t *
cron_zone(cron_t *cr, const char *name, char *why, size_t len)
{
    cron_tz_t  **z;
    size_t       i;

    for (i = 0; i < cr->nzones; i++) {
        if (strcmp(cr->zones[i]->name, name) == 0) {
            return cr->zones[i];
        }
    }
    z = realloc(cr->zones, (cr->nzones + 1) * sizeof(*z));
    if (z == NULL) {
        snprintf(why, len, "out of memory");
        return NULL;
    }
    cr->zones = z;
    z[cr->nzones] = cron_tz_load(name, NULL, why, len);
    if (z[cr->nzones] == NULL) {
        return NULL;
    }
    return z[cr->nzones++];
}

static int
cron_add_option(cron_entry_t *e, const char *name, const char *arg)
{
    char  **o;

    o = realloc(e->options, (e->noptions + 1) * sizeof(char *));
    if (o == NULL) {
        return -1;
    }
    e->options = o;
    if (asprintf(&o[e->noptions], "%s(%s)", name, arg) < 0) {
        return -1;
    }
    e->noptions++;
    return 0;
}

/* asynq's option texts (docs/asynq-compat.md 11) for what the entry sets, plus
 * the retention actually applied. */
static int
cron_entry_options(cron_t *cr, cron_entry_t *e)
{
    char  buf[256];

    if (e->handler) {
        return 0;
    }
    if (e->queue != NULL) {
        cron_go_quote(e->queue, buf, sizeof(buf));
        if (cron_add_option(e, "Queue", buf) != 0) {
            return -1;
        }
    }
    if (e->retry >= 0) {
        snprintf(buf, sizeof(buf), "%lld", (long long) e->retry);
        if (cron_add_option(e, "MaxRetry", buf) != 0) {
            return -1;
        }
    }
    if (e->timeout_ms > 0) {
        cron_go_duration(e->timeout_ms, buf, sizeof(buf));
        if (cron_add_option(e, "Timeout", buf) != 0) {
            return -1;
        }
    }
    if (e->unique_ms > 0) {
        cron_go_duration(e->unique_ms, buf, sizeof(buf));
        if (cron_add_option(e, "Unique", buf) != 0) {
            return -1;
        }
    }
    if (e->retention_ms < cr->retention_floor_ms) {
        e->retention_ms = cr->retention_floor_ms;
    }
    cron_go_duration(e->retention_ms, buf, sizeof(buf));
    return cron_add_option(e, "Retention", buf);
}

static int
cron_entry_init(cron_t *cr, cron_entry_t *e, const ll_conf_node_t *node,
    char *err, size_t errlen)
{
    const char         *spec = e->spec_text, *zone = e->timezone;
    const ll_conf_node_t *at;
    char                why[256], zbuf[128];
    size_t              i, zl;

    if (!cron_valid_id(e->id)) {
        return ll_conf_error(cr->in, err, errlen, ll_conf_get(node, "id"),
                             "cron entry id \"%s\": use letters, digits, "
                             "'-', '_' and '.'", e->id);
    }
    for (i = 0; &cr->entries[i] != e; i++) {
        if (strcmp(cr->entries[i].id, e->id) == 0) {
            return ll_conf_error(cr->in, err, errlen, ll_conf_get(node, "id"),
                                 "cron entry \"%s\" is defined twice", e->id);
        }
    }
    /* robfig/cron's "CRON_TZ=Zone spec" (and "TZ=") prefix */
    if (strncmp(spec, "CRON_TZ=", 8) == 0 || strncmp(spec, "TZ=", 3) == 0) {
        spec = strchr(spec, '=') + 1;
        zl = strcspn(spec, " \t");
        if (zl == 0 || zl >= sizeof(zbuf)) {
            return ll_conf_error(cr->in, err, errlen, ll_conf_get(node, "spec"),
                                 "cron entry \"%s\": bad CRON_TZ= prefix",
                                 e->id);
        }
        memcpy(zbuf, spec, zl);
        zbuf[zl] = '\0';
        zone = zbuf;
        spec += zl;
    }
    if (cron_spec_parse(&e->spec, spec, why, sizeof(why)) != 0) {
        return ll_conf_error(cr->in, err, errlen, ll_conf_get(node, "spec"),
                             "cron entry \"%s\": bad spec \"%s\": %s", e->id,
                             e->spec_text, why);
    }
    at = ll_conf_get(node, zone == e->timezone ? "timezone" : "spec");
    if (zone == NULL) {
        zone = cr->conf->timezone;
        at = node;
    }
    e->tz = cron_zone(cr, zone, why, sizeof(why));
    if (e->tz == NULL) {
        return ll_conf_error(cr->in, err, errlen, at != NULL ? at : node,
                             "cron entry \"%s\": %s", e->id, why);
    }
    if (e->target == NULL) {
        e->target = cr->conf->redisq;
    }
    e->handler = strcmp(e->target, "handler") == 0;
    if (e->handler && !ll_route_exists(cr->in, e->id)) {
        return ll_conf_error(cr->in, err, errlen, ll_conf_get(node, "target"),
                             "cron entry \"%s\": target = \"handler\" but no "
                             "route takes \"%s:%s\"", e->id,
                             ll_instance_name(cr->in), e->id);
    }
    if (!e->handler && (e->task == NULL || e->task[0] == '\0')) {
        return ll_conf_error(cr->in, err, errlen, node,
                             "cron entry \"%s\" has no target: set task = "
                             "\"type\" (enqueued into \"%s\") or target = "
                             "\"handler\"", e->id, e->target);
    }
    e->fire_once = strcmp(e->misfire, "once") == 0;
    if (!e->handler) {
        /* queue and unique are the target's message options: a loaded
         * target that does not take them would refuse every tick */
        if (e->queue != NULL
            && ll_opt_taken(cr->in, e->target, "queue") == 0)
        {
            return ll_conf_error(cr->in, err, errlen,
                                 ll_conf_get(node, "queue"),
                                 "cron entry \"%s\": target \"%s\" takes "
                                 "no queue", e->id, e->target);
        }
        if (e->unique_ms > 0
            && ll_opt_taken(cr->in, e->target, "unique_ttl") == 0)
        {
            return ll_conf_error(cr->in, err, errlen,
                                 ll_conf_get(node, "unique"),
                                 "cron entry \"%s\": target \"%s\" takes "
                                 "no unique", e->id, e->target);
        }
        e->retention_opt = ll_opt_taken(cr->in, e->target, "retention")
                           != 0;
    }
    if (e->unique_ms > 0 && e->unique_ms < 1000) {
        return ll_conf_error(cr->in, err, errlen, ll_conf_get(node, "unique"),
                             "cron entry \"%s\": unique must be 0 or at "
                             "least 1s", e->id);
    }
    if (cron_spec_next(&e->spec, e->tz, ll_now_ms() / 1000) == CRON_NEVER) {
        return ll_conf_error(cr->in, err, errlen, ll_conf_get(node, "spec"),
                             "cron entry \"%s\": spec \"%s\" never fires",
                             e->id, e->spec_text);
    }
    cron_entry_uuid(e->id, e->uuid);
    if (asprintf(&e->state_key, "%s%s", CRON_KEY_STATE, e->id) < 0
        || asprintf(&e->history_key, "%s%s", CRON_KEY_HISTORY, e->uuid) < 0
        || cron_entry_options(cr, e) != 0)
    {
        return ll_conf_error(cr->in, err, errlen, node, "out of memory");
    }
    return 0;
}

/* Free what init allocated; strings of the settings are the core's, cr
 * itself is ll_alloc()'ed.  Run by the core after fini or a failed init.
 * @locality worker main thread */
static void
cron_free(void *arg)
{
    cron_t  *cr = arg;
    size_t   i, j;

    for (i = 0; i < cr->n; i++) {
        free(cr->entries[i].state_key);
        free(cr->entries[i].history_key);
        for (j = 0; j < cr->entries[i].noptions; j++) {
            free(cr->entries[i].options[j]);
        }
        free(cr->entries[i].options);
    }
    free(cr->entries);
    for (i = 0; i < cr->nzones; i++) {
        cron_tz_free(cr->zones[i]);
    }
    free(cr->zones);
    rq_redis_conf_free(&cr->rc);
}

/*
 * Check the settings and every entry, load the zones (read-only files:
 * nothing is connected or started).
 * @locality worker main thread (or a checker process)
 */
static int
cron_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    cron_conf_t          *cf = conf;
    cron_t               *cr;
    const ll_conf_node_t *node;
    char                  why[256];
    int                   i, n;

    cr = ll_alloc(in, sizeof(*cr));
    if (cr == NULL || ll_cleanup_add(in, cron_free, cr) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ll_set_data(in, cr);
    cr->in = in;
    cr->conf = cf;
    if (rq_redis_conf_parse(&cr->rc, cf->redis, why, sizeof(why)) != 0) {
        return ll_setting_error(in, err, errlen, "redis", "module \"%s\": "
                                "redis: %s", ll_instance_name(in), why);
    }
    rq_redis_conf_text(&cr->rc, cr->where, sizeof(cr->where));
    /* README.md, "Exactly once": a completed task must outlive the longest
     * time a takeover may still enqueue it again */
    cr->retention_floor_ms = CRON_TAKEOVER_MS + 2 * cf->lease_ms + 30000;

    n = ll_conf_count(cf->entries);
    if (n < 0) {
        n = 0;
    }
    cr->entries = calloc((size_t) n + 1, sizeof(cron_entry_t));
    if (cr->entries == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < n; i++) {
        node = ll_conf_at(cf->entries, i);
        if (ll_conf_fill(in, node, entry_schema, &cr->entries[i], err, errlen)
            != 0)
        {
            return -1;
        }
        cr->n = (size_t) i + 1;
        if (cron_entry_init(cr, &cr->entries[i], node, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

/* @locality worker main thread */
static int
cron_start(ll_instance_t *in, char *err, size_t errlen)
{
    cron_t  *cr = ll_get_data(in);
    char     why[160];

    /* no generation without its Redis: a reload onto an unreachable one
     * fails and the old generation goes on */
    if (rq_redis_ping_until(&cr->rc, ll_ready_deadline(in), why, sizeof(why))
        != 0)
    {
        snprintf(err, errlen, "redis %s unreachable: %s", cr->where, why);
        return -1;
    }
    cron_metrics_init(cr);
    return cron_sched_start(cr, err, errlen);
}

/* @locality worker main thread */
static void
cron_stop(ll_instance_t *in)
{
    cron_t  *cr = ll_get_data(in);

    if (cr != NULL) {
        cron_sched_stop(cr);
    }
}

LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_MQ,
    .name = "cron",
    .version = "1.0.0",
    .description = "timed tasks: cron specs with seconds and time zones, "
                   "exactly once across instances, asynq scheduler format",
    .conf = cron_schema,
    .conf_size = sizeof(cron_conf_t),
    .init = cron_init,
    .start = cron_start,
    .stop = cron_stop,
};
