/*
 * looklook core: internal types shared by the core's files.  Nothing here
 * is visible to modules (the core is built -fvisibility=hidden; only the
 * LL_API functions of include/looklook/ll_api.h are exported).
 */
#ifndef LL_CORE_H_INCLUDED
#define LL_CORE_H_INCLUDED

#include <libconfig.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include <looklook/looklook.h>
#include "ll_auto_config.h"
#include "ll_include.h"
#include "ll_mask.h"
#include "lt_clock.h"

#define LL_ERRLEN  1024

#define LL_CHECK_TIMEOUT_MS       30000  /* the config check of a reload */
#define LL_RELOAD_WAIT_MARGIN_MS  5000   /* -s reload waits a little longer */
#define LL_EXIT_NOT_RUNNING       3      /* -s: no master (as LSB status) */

/* the sizes of the ABI 2.0 layouts: every 2.x struct has at least these */
#define LL__MSG_SIZE_20                                                     \
    (offsetof(ll_msg_t, core) + sizeof(((ll_msg_t *) 0)->core))
#define LL__RESULT_SIZE_20                                                  \
    (offsetof(ll_result_t, id) + sizeof(((ll_result_t *) 0)->id))

typedef struct ll_pool_s     ll_pool_t;
typedef struct ll_metric_s   ll_metric_t;
typedef struct ll_status_s   ll_status_t;

/* A cleanup list: calls run together when its owner (an instance, a parsed
 * config) goes, the last added first (ll_cleanup.c). */
typedef struct {
    void          (*fn)(void *);
    void           *arg;
} ll_cleanup_item_t;

typedef struct {
    ll_cleanup_item_t  *item;
    size_t              n, cap;
} ll_cleanups_t;

/* 0, or -1 when out of memory, after running fn(arg) at once */
int   ll__cleanup_add(ll_cleanups_t *l, void (*fn)(void *), void *arg);
void *ll__own(ll_cleanups_t *l, void *p);   /* takes p; NULL if out of memory */
char *ll__own_strdup(ll_cleanups_t *l, const char *s);
void  ll__cleanup_run(ll_cleanups_t *l);

/* The core settings of one generation (top level of looklook.conf). */
typedef struct {
    int             worker_processes;
    char           *pid_file;
    char           *error_log;
    int             log_level;
    int             log_json;           /* log_format = "json" */
    int64_t         shutdown_timeout_ms;
    int             handler_threads;
    char           *module_dir;
    char           *status_file;
    int64_t         ready_timeout_ms;
} ll_settings_t;

/* One `modules` entry as written, before loading. */
typedef struct {
    const char             *name;
    const char             *path;       /* as written */
    config_setting_t       *group;
    int                     line;
} ll_conf_module_t;

typedef struct {
    char                   *from;       /* "instance:pattern" */
    char                   *to;
    int                     line;
} ll_conf_route_t;

/* A parsed looklook.conf; config_t stays alive for the module settings. */
typedef struct {
    config_t                cfg;
    char                   *path;       /* as given on the command line */
    ll_settings_t           settings;
    ll_conf_module_t       *modules;
    int                     nmodules;
    ll_conf_route_t        *routes;
    int                     nroutes;
    ll_cleanups_t           owned;
} ll_conf_t;

typedef struct ll_cycle_s  ll_cycle_t;

struct ll_instance_s {
    const ll_module_t      *mod;
    char                   *name;
    char                   *path;       /* resolved */
    int                     line;
    void                   *conf;       /* the filled schema struct */
    void                   *data;       /* ll_set_data */
    ll_cycle_t             *cycle;
    config_setting_t       *group;      /* its entry in looklook.conf */
    const config_setting_t *err_at;     /* where init's error points */
    ll_cleanups_t           owned;      /* conf strings, conf struct, then
                                         * ll_alloc / ll_cleanup_add */
    unsigned                inited:1;
    unsigned                started:1;
    int                     running;    /* atomic: ll_send may reach it */
    int                     sending;    /* atomic: ll_send calls inside */
};

typedef struct {
    char                   *from;       /* full pattern "src:type" */
    int                     exact;
    ll_instance_t          *to;
    ll_metric_t            *metric;
} ll_route_t;

typedef struct {
    const char             *name;
    const void             *svc;
    ll_instance_t          *owner;
} ll_service_t;

/* One generation as a worker (or the -t check) holds it. */
struct ll_cycle_s {
    ll_conf_t              *conf;
    ll_instance_t         **inst;
    int                     ninst;
    ll_route_t             *routes;
    int                     nroutes;
    ll_metric_t            *unrouted;
    ll_service_t           *services;
    int                     nservices;
    ll_pool_t              *pool;
    int                     mode;               /* ll_mode_e */
    int                     worker_id;
    int                     worker_count;
    unsigned                generation;
    int64_t                 shutdown_deadline;  /* atomic: 0 until stop */
    int64_t                 ready_deadline;     /* start must end by it */
};

extern ll_cycle_t *ll_cycle;        /* this process's generation */

/* ll_conf.c */
ll_conf_t *ll__conf_load(const char *path, char *err, size_t n);
void       ll__conf_free(ll_conf_t *c);
int        ll__conf_fill(ll_cleanups_t *a, const config_setting_t *group,
    const ll_conf_field_t *schema, void *out, const char *prefix,
    const char *const *reserved, char *err, size_t n);
int        ll__conf_fill_module(ll_instance_t *in,
    const config_setting_t *group, char *err, size_t n);
int        ll__conf_errorf(char *err, size_t n, const config_setting_t *s,
    const char *fmt, ...) LL_PRINTF(4, 5);
const char *ll__conf_type_name(int type);

/* ll_loader.c */
const ll_module_t *ll__module_open(const char *path, char *err, size_t n);
char      *ll__module_path(const char *module_dir, const char *path);

/* ll_cycle.c */
ll_cycle_t *ll__cycle_create(ll_conf_t *conf, int mode, char *err,
    size_t n);
int        ll__cycle_start(ll_cycle_t *c, char *err, size_t n);
void       ll__cycle_stop(ll_cycle_t *c);
void       ll__cycle_destroy(ll_cycle_t *c);

/* ll_router.c */
int        ll__routes_build(ll_cycle_t *c, char *err, size_t n);
ll_route_t *ll__route_find(ll_cycle_t *c, const char *source,
    const char *type);
int        ll__glob(const char *pattern, const char *s);

/* ll_pool.c */
ll_pool_t *ll__pool_create(ll_cycle_t *c, int threads, char *err, size_t n);
int        ll__pool_stop(ll_pool_t *p, int64_t deadline_ms);  /* 0: joined */

/* ll_metrics.c: one route's counters, in the shared mapping */
#define LL_ROUTE_SLOTS   512
#define LL_HIST_BUCKETS  16

struct ll_metric_s {
    uint32_t    state;
    char        name[252];
    uint64_t    received, done, retried, failed, revoked;
    uint64_t    sum_us;
    uint64_t    hist[LL_HIST_BUCKETS];
};

extern const uint64_t  ll__hist_bounds[LL_HIST_BUCKETS];   /* µs */
extern ll_status_t    *ll__st;      /* NULL without a mapping */

int        ll__metrics_open(const char *path, int create, char *err,
    size_t n);
int        ll__metrics_sum(ll_metric_t *sum);      /* LL_ROUTE_SLOTS */
double     ll__quantile_ms(const uint64_t *hist, uint64_t total, double q);
ll_metric_t *ll__metric_slot(const char *name);
void       ll__metric_add(ll_metric_t *m, int outcome, int64_t us, int received);
int        ll__metrics_print(FILE *out);

/* ll_status.c: the server status in the shared mapping */
void       ll__status_master_begin(void);
void       ll__status_master_end(void);
void       ll__status_gen_reset(unsigned gen);
void       ll__status_reload_begin(void);
void       ll__status_reload(unsigned gen, int ok, const char *why);
void       ll__status_cycle(ll_cycle_t *c);    /* publish the modules */
void       ll__status_health(ll_instance_t *in, int state, const char *why);
void       ll__status_started(ll_instance_t *in);

/* ll_log.c */
int        ll__log_open(const char *path, char *err, size_t n);
void       ll__log_set(int level, const char *who);
/* log_format json (1) or text (0), -1 unchanged; the generation named in
 * JSON lines, 0 unchanged */
void       ll__log_format(int json, unsigned generation);
int        ll__log_level_parse(const char *s);

/* ll_log_json.c: JSON log lines (when ll__log_json_on), which name the
 * thread's ll_log_context.  ll__log_json: the line, newline included,
 * malloc'ed (NULL when out of memory). */
extern int ll__log_json_on;
char      *ll__log_json(const struct timeval *tv, int level, const char *who,
    unsigned generation, const char *content, size_t *len);
void       ll__log_core(int level, const char *fmt, ...) LL_PRINTF(2, 3);

/* ll_paths.c */
const char *ll__path_abs(const char *path, char *buf, size_t n);
int        ll__conf_check_paths(ll_conf_t *c, char *err, size_t n);

/* ll_pid.c */
int        ll__pid_file_write(const char *path, char *err, size_t n);
pid_t      ll__pid_file_read(const char *path, char *err, size_t n);
int        ll__pid_is_looklook(pid_t pid, char *err, size_t n);

/* ll_notify.c: a state line for systemd ("READY=1\nSTATUS=..."); the
 * master's thread only */
void       ll__notify(const char *fmt, ...) LL_PRINTF(1, 2);

/* ll_master.c, ll_worker.c */
int        ll__master_run(const char *conf_path);
void       ll__worker_run(const char *conf_path, unsigned generation,
    int slot, int count, int ready_fd, pid_t master)
    __attribute__((noreturn));
int        ll__check(const char *conf_path, int mode, char *err, size_t n);

#endif /* LL_CORE_H_INCLUDED */
