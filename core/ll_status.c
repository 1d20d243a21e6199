/*
 * Writing the server status into the shared mapping (ll_status.h): the
 * master's view of generations, workers and reloads; each worker's
 * modules and their health; the series modules publish (ll_metric).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ll_core.h"
#include "ll_status.h"

/* ---- the master's part ------------------------------------------------- */

/* The master's writes go between begin and end; readers retry while the
 * sequence is odd or changed under them. */
void
ll__status_master_begin(void)
{
    if (ll__st != NULL) {
        __atomic_add_fetch(&ll__st->m.seq, 1, __ATOMIC_ACQ_REL);
    }
}

void
ll__status_master_end(void)
{
    if (ll__st != NULL) {
        __atomic_add_fetch(&ll__st->m.seq, 1, __ATOMIC_ACQ_REL);
    }
}

/* Before generation gen's workers are forked: its bank starts empty (the
 * generation that used it last is two reloads old, long gone). */
void
ll__status_gen_reset(unsigned gen)
{
    ll_st_gen_t  *g;

    if (ll__st == NULL) {
        return;
    }
    g = &ll__st->gen[gen % 2];
    __atomic_store_n(&g->gen, 0, __ATOMIC_RELEASE);
    memset(g->inst, 0, sizeof(g->inst));
    memset(g->health, 0, sizeof(g->health));
    g->ninst = 0;
    __atomic_store_n(&g->gen, gen, __ATOMIC_RELEASE);
}

/* A reload begins (reads the config): a waiting `looklook -s reload`
 * knows from nbegun which outcome will be its own. */
void
ll__status_reload_begin(void)
{
    if (ll__st == NULL) {
        return;
    }
    ll__status_master_begin();
    ll__st->m.nbegun++;
    ll__status_master_end();
}

/* A reload's outcome: the generation it started, and why it failed. */
void
ll__status_reload(unsigned gen, int ok, const char *why)
{
    ll_st_master_t  *m;
    ll_st_reload_t  *r;

    if (ll__st == NULL) {
        return;
    }
    m = &ll__st->m;
    ll__status_master_begin();
    r = &m->reload[m->nreloads % LL_ST_RELOADS];
    r->gen = gen;
    r->ok = ok;
    r->at_ms = ll_now_ms();
    snprintf(r->why, sizeof(r->why), "%s", why ? why : "");
    ll__mask_secrets(r->why, sizeof(r->why));
    m->nreloads++;
    if (ok) {
        m->reloads_ok++;
    } else {
        m->reloads_failed++;
    }
    ll__status_master_end();
}

/* ---- a worker's part --------------------------------------------------- */

static ll_st_gen_t *
my_bank(const ll_cycle_t *c)
{
    ll_st_gen_t  *g;

    if (ll__st == NULL || c == NULL) {
        return NULL;
    }
    g = &ll__st->gen[c->generation % 2];
    /* a worker of a generation whose bank was handed on writes nothing */
    return __atomic_load_n(&g->gen, __ATOMIC_ACQUIRE) == c->generation
           ? g : NULL;
}

/* What this generation loaded; every worker writes the same. */
void
ll__status_cycle(ll_cycle_t *c)
{
    ll_st_gen_t    *g = my_bank(c);
    ll_st_inst_t   *si;
    ll_instance_t  *in;
    int             i;

    if (g == NULL) {
        return;
    }
    for (i = 0; i < c->ninst && i < LL_ST_INST; i++) {
        in = c->inst[i];
        si = &g->inst[i];
        snprintf(si->name, sizeof(si->name), "%s", in->name);
        snprintf(si->module, sizeof(si->module), "%s", in->mod->name);
        snprintf(si->version, sizeof(si->version), "%s",
                 in->mod->version ? in->mod->version : "");
        snprintf(si->path, sizeof(si->path), "%s", in->path);
        si->abi_major = in->mod->abi_major;
        si->abi_minor = in->mod->abi_minor;
        si->kind = in->mod->kind;
    }
    __atomic_store_n(&g->ninst, (uint32_t) i, __ATOMIC_RELEASE);
}

static int
inst_index(const ll_instance_t *in)
{
    int  i;

    for (i = 0; i < in->cycle->ninst; i++) {
        if (in->cycle->inst[i] == in) {
            return i;
        }
    }
    return -1;
}

void
ll__status_health(ll_instance_t *in, int state, const char *why)
{
    ll_st_gen_t     *g = my_bank(in->cycle);
    ll_st_health_t  *h;
    int              i = inst_index(in);

    if (g == NULL || i < 0 || i >= LL_ST_INST
        || in->cycle->worker_id >= LL_ST_SLOTS)
    {
        return;
    }
    h = &g->health[in->cycle->worker_id][i];
    /* the reason first: a reader seeing the new state sees its reason
     * (or, racing a second change, the next one) */
    snprintf(h->reason, sizeof(h->reason), "%s", why ? why : "");
    ll__mask_secrets(h->reason, sizeof(h->reason));
    h->pid = (int32_t) getpid();
    h->at_ms = ll_now_ms();
    __atomic_store_n(&h->state, (uint32_t) state, __ATOMIC_RELEASE);
}

/* After in's start returned 0: ready, unless start itself said otherwise. */
void
ll__status_started(ll_instance_t *in)
{
    ll_st_gen_t  *g = my_bank(in->cycle);
    int           i = inst_index(in);

    if (g != NULL && i >= 0 && i < LL_ST_INST
        && in->cycle->worker_id < LL_ST_SLOTS
        && __atomic_load_n(&g->health[in->cycle->worker_id][i].state,
                           __ATOMIC_ACQUIRE) == LL_HEALTH_STARTING)
    {
        ll__status_health(in, LL_HEALTH_READY, NULL);
    }
}

LL_API void
ll_health_set(ll_instance_t *in, int state, const char *fmt, ...)
{
    char     why[LL_ST_REASON];
    va_list  ap;

    why[0] = '\0';
    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
    }
    if (state != LL_HEALTH_READY && state != LL_HEALTH_UNREADY) {
        state = LL_HEALTH_UNREADY;      /* the others are the core's */
    }
    ll__status_health(in, state, why);
}

/* ---- module series ----------------------------------------------------- */

/* append s to key at *len, escaped as a label value wants */
static int
key_append(char *key, size_t *len, const char *s, int escape)
{
    for ( ; *s != '\0'; s++) {
        const char  *e = NULL;

        if (escape && (*s == '\\' || *s == '"')) {
            e = *s == '\\' ? "\\\\" : "\\\"";
        } else if (escape && *s == '\n') {
            e = "\\n";
        }
        if (*len + (e ? 2 : 1) >= LL_ST_KEY) {
            return -1;
        }
        if (e) {
            key[(*len)++] = e[0];
            key[(*len)++] = e[1];
        } else {
            key[(*len)++] = *s;
        }
    }
    key[*len] = '\0';
    return 0;
}

static uint32_t
key_hash(const char *s)
{
    uint32_t  h = 2166136261u;      /* FNV-1a */

    for ( ; *s != '\0'; s++) {
        h = (h ^ (uint8_t) *s) * 16777619u;
    }
    return h;
}

LL_API ll_series_t *
ll_metric(ll_instance_t *in, int type, const char *name, const char *help,
    ...)
{
    char              key[LL_ST_KEY];
    size_t            len = 0;
    const char       *k, *v;
    ll_series_t      *s;
    uint32_t          i, h, expected, st;
    va_list           ap;
    int               n = 0, spins;
    struct timespec   us = { 0, 1000 };

    if (ll__st == NULL || name == NULL
        || key_append(key, &len, name, 0) != 0)
    {
        return NULL;
    }
    va_start(ap, help);
    while ((k = va_arg(ap, const char *)) != NULL) {
        v = va_arg(ap, const char *);
        if (key_append(key, &len, n++ ? "," : "{", 0) != 0
            || key_append(key, &len, k, 0) != 0
            || key_append(key, &len, "=\"", 0) != 0
            || key_append(key, &len, v ? v : "", 1) != 0
            || key_append(key, &len, "\"", 0) != 0)
        {
            va_end(ap);
            ll_log(in, LL_LOG_WARN, "metric %s: labels too long", name);
            return NULL;
        }
    }
    va_end(ap);
    if (n > 0 && key_append(key, &len, "}", 0) != 0) {
        return NULL;
    }

    /* open addressing, slots never freed: the first free slot on the
     * probe path ends the search */
    h = key_hash(key);
    for (i = 0; i < LL_ST_SERIES; i++) {
        s = &ll__st->series[(h + i) & (LL_ST_SERIES - 1)];
        expected = LL_SERIES_FREE;
        if (__atomic_compare_exchange_n(&s->state, &expected,
                                        LL_SERIES_CLAIMING, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        {
            memcpy(s->key, key, len + 1);
            snprintf(s->help, sizeof(s->help), "%s", help ? help : name);
            s->type = (uint32_t) type;
            __atomic_store_n(&s->state, LL_SERIES_READY, __ATOMIC_RELEASE);
            return s;
        }
        /* another claim of this slot in progress: wait for its key (a
         * claimer that died mid-claim leaves the slot to be skipped) */
        for (spins = 0; (st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE))
                        == LL_SERIES_CLAIMING && spins < 1000; spins++)
        {
            nanosleep(&us, NULL);
        }
        if (st == LL_SERIES_READY && strcmp(s->key, key) == 0) {
            return s;
        }
    }
    ll_log(in, LL_LOG_WARN, "metric %s: no room left in the status file",
           key);
    return NULL;
}

LL_API void
ll_metric_add(ll_series_t *s, double v)
{
    uint64_t  old, new;
    double    d;

    if (s == NULL) {
        return;
    }
    old = __atomic_load_n(&s->bits, __ATOMIC_RELAXED);
    do {
        memcpy(&d, &old, sizeof(d));
        d += v;
        memcpy(&new, &d, sizeof(new));
    } while (!__atomic_compare_exchange_n(&s->bits, &old, new, 1,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

LL_API void
ll_metric_set(ll_series_t *s, double v)
{
    uint64_t  bits;

    if (s == NULL) {
        return;
    }
    memcpy(&bits, &v, sizeof(bits));
    __atomic_store_n(&s->bits, bits, __ATOMIC_RELAXED);
}
