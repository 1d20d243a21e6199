/*
 * cron_metrics: what cron publishes for the admin module, per entry
 * (fires, misfires, how late the last fire was, when it was), and its
 * health: unready while its Redis does not answer.
 */
#include <stdio.h>

#include "cron.h"

static ll_series_t *
entry_series(cron_t *cr, cron_entry_t *e, int type, const char *name,
    const char *help)
{
    return ll_metric(cr->in, type, name, help, "name", ll_instance_name(cr->in),
                     "entry", e->id, (const char *) NULL);
}

/* @locality worker main thread, in start */
void
cron_metrics_init(cron_t *cr)
{
    cron_entry_t  *e;
    size_t         i;

    cr->healthy = -1;
    for (i = 0; i < cr->n; i++) {
        e = &cr->entries[i];
        e->m_fires = entry_series(cr, e, LL_METRIC_COUNTER,
                                  "looklook_cron_fires_total",
                                  "Ticks fired (enqueued or handed to the "
                                  "handler), by entry.");
        e->m_misfires = entry_series(cr, e, LL_METRIC_COUNTER,
                                     "looklook_cron_misfires_total",
                                     "Runs of ticks missed (reached more than "
                                     "misfire_grace late, or claimed by an "
                                     "instance that died), by entry.");
        e->m_late = entry_series(cr, e, LL_METRIC_GAUGE,
                                 "looklook_cron_lateness_seconds",
                                 "How long after its tick the entry's last "
                                 "fire happened.");
        e->m_last = entry_series(cr, e, LL_METRIC_GAUGE,
                                 "looklook_cron_last_fire_timestamp_seconds",
                                 "Unix time of the entry's last fired tick.");
    }
}

/* Tick `tick` of e fired `late_us` after it.  @locality scheduler thread */
void
cron_metrics_fired(cron_entry_t *e, int64_t tick, int64_t late_us)
{
    ll_metric_add(e->m_fires, 1);
    ll_metric_set(e->m_late, late_us > 0 ? (double) late_us / 1e6 : 0);
    ll_metric_set(e->m_last, (double) tick);
}

/* A run of e's ticks missed.  Every worker judges misfires alike, so
 * only worker 0 counts those (once); a given-up claim reaches one worker
 * (all = 1).  @locality scheduler thread */
void
cron_metrics_missed(cron_t *cr, cron_entry_t *e, int all)
{
    if (all || ll_worker_id(cr->in) == 0) {
        ll_metric_add(e->m_misfires, 1);
    }
}

/* After each round of Redis work: ready while the connection holds.
 * @locality scheduler thread */
void
cron_health(cron_t *cr)
{
    int  up = cr->r.c != NULL;

    if (up) {
        ll_log_recovered(cr->in, &cr->down, "redis %s reconnected",
                         cr->where);
    }
    if (up == cr->healthy) {
        return;
    }
    cr->healthy = up;
    if (up) {
        ll_health_set(cr->in, LL_HEALTH_READY, NULL);
    } else {
        ll_health_set(cr->in, LL_HEALTH_UNREADY, "redis: %s",
                      cr->r.err[0] ? cr->r.err : "no answer");
    }
}
