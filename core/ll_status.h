/*
 * The server status part of the shared status mapping (after the route
 * metrics of ll_metrics.c): what the master knows (generations, workers,
 * reloads), what each generation's workers loaded and how healthy each
 * instance is, and the series modules publish.  Written without locks:
 * the master's part under a sequence counter that readers retry on; the
 * rest as independent fields a reader may see a moment out of date.
 */
#ifndef LL_STATUS_H_INCLUDED
#define LL_STATUS_H_INCLUDED

#include <stdint.h>

#include "ll_core.h"

#define LL_ST_WORKERS     256     /* workers listed (the rest are counted) */
#define LL_ST_SLOTS       64      /* worker slots whose health is kept */
#define LL_ST_INST        32      /* instances per generation listed */
#define LL_ST_RELOADS     16      /* recent reloads kept */
#define LL_ST_SERIES      8192    /* module series (a power of two) */
#define LL_ST_KEY         200
#define LL_ST_HELP        120
#define LL_ST_REASON      160
#define LL_ST_WHY         512     /* a failed reload's reason */

enum { LL_WS_STARTING = 0, LL_WS_READY, LL_WS_RETIRING };

typedef struct {
    int32_t     pid;
    uint32_t    gen;
    int32_t     slot;
    uint32_t    state;          /* LL_WS_* */
    int64_t     started_ms;     /* Unix ms */
} ll_st_worker_t;

typedef struct {
    uint32_t    gen;            /* the generation it started */
    int32_t     ok;
    int64_t     at_ms;
    char        why[LL_ST_WHY];
} ll_st_reload_t;

/* written by the master only */
typedef struct {
    uint32_t        seq;        /* odd while the master writes */
    int32_t         master_pid;
    int64_t         started_ms;
    uint32_t        generation; /* serving */
    uint32_t        new_generation;
    uint64_t        reloads_ok, reloads_failed, restarts;
    uint32_t        nworkers;   /* all of them, even past LL_ST_WORKERS */
    uint32_t        nreloads;   /* ended, ever; reload[n % LL_ST_RELOADS] */
    uint32_t        nbegun;     /* begun, ever: reload k (from 1) begins
                                 * when nbegun becomes k, and ends, in the
                                 * same order, in reload[(k - 1) % ...] */
    ll_st_worker_t  worker[LL_ST_WORKERS];
    uint32_t        slot_restarts[LL_ST_SLOTS];
    ll_st_reload_t  reload[LL_ST_RELOADS];
} ll_st_master_t;

typedef struct {
    char        name[64];
    char        module[64];
    char        version[32];
    char        path[256];
    uint16_t    abi_major, abi_minor;
    uint32_t    kind;
} ll_st_inst_t;

typedef struct {
    int32_t     pid;
    uint32_t    state;          /* ll_health_e */
    int64_t     at_ms;
    char        reason[LL_ST_REASON];
} ll_st_health_t;

/* One generation's modules; two banks, gen % 2, reset by the master when
 * it starts a generation (the older one of the two is gone by then). */
typedef struct {
    uint32_t        gen;
    uint32_t        ninst;
    ll_st_inst_t    inst[LL_ST_INST];
    ll_st_health_t  health[LL_ST_SLOTS][LL_ST_INST];
} ll_st_gen_t;

enum { LL_SERIES_FREE = 0, LL_SERIES_CLAIMING, LL_SERIES_READY };

struct ll_series_s {
    uint32_t    state;
    uint32_t    type;           /* ll_metric_type_e */
    uint64_t    bits;           /* the double value's bits, atomically */
    char        key[LL_ST_KEY]; /* name{labels} */
    char        help[LL_ST_HELP];
};

struct ll_status_s {
    ll_st_master_t  m;
    ll_st_gen_t     gen[2];
    ll_series_t     series[LL_ST_SERIES];
};

/* a consistent copy of the master's part (ll_export.c); -1 unmapped */
int        ll__status_master_copy(ll_st_master_t *m);

#endif /* LL_STATUS_H_INCLUDED */
