/*
 * The master: reads the core settings, checks each config in a child
 * process, forks the workers of each generation and watches them, turns
 * signals into actions.  It never loads a module itself, so no module can
 * crash it, and every worker loads the module files afresh.
 *
 * Reload is all or nothing: the new config is checked in a child; the new
 * generation's workers must all report ready within ready_timeout; only
 * then are the old workers sent QUIT.  Anything less and the new workers
 * are stopped and the old generation keeps serving.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ll_core.h"
#include "ll_status.h"

#define MAX_WORKERS       2048
#define RESPAWN_MIN_MS    250
#define RESPAWN_MAX_MS    30000
#define STABLE_MS         10000     /* up this long: back-off starts over */
#define KILL_GRACE_MS     10000     /* past shutdown_timeout: SIGKILL */

typedef enum { W_STARTING, W_READY, W_RETIRING } wstate_e;

typedef struct {
    pid_t       pid;
    unsigned    gen;
    int         slot;
    int         fd;             /* ready pipe, -1 once read */
    wstate_e    state;
    int64_t     started;        /* monotonic ms */
    int64_t     kill_at;        /* retiring: SIGKILL from then on; 0 none */
} worker_t;

typedef struct {
    int64_t     at;             /* monotonic ms of the next respawn; 0 none */
    int64_t     backoff;
} slot_t;

static volatile sig_atomic_t  sig_hup, sig_quit, sig_term, sig_usr1, sig_chld;
static int          self_pipe[2] = { -1, -1 };

static worker_t     workers[MAX_WORKERS];
static int          nworkers;
static slot_t       slots[1024];

static const char  *conf_path;
static ll_settings_t  cur;          /* settings of the serving generation */
static ll_conf_t   *cur_conf;       /* owns cur's strings */
static ll_conf_t   *new_conf;
static unsigned     cur_gen, new_gen, last_gen;
static int64_t      new_deadline;
static int          stopping;       /* 0, SIGQUIT or SIGTERM */
static char         pid_path[4096]; /* the pid file we wrote */
static uint64_t     restarts;       /* workers respawned, ever */
static uint32_t     slot_restarts[LL_ST_SLOTS];

static void
on_signal(int signo)
{
    int  saved = errno;

    switch (signo) {
    case SIGHUP:  sig_hup = 1; break;
    case SIGQUIT: sig_quit = 1; break;
    case SIGTERM:
    case SIGINT:  sig_term = 1; break;
    case SIGUSR1: sig_usr1 = 1; break;
    case SIGCHLD: sig_chld = 1; break;
    }
    if (write(self_pipe[1], "", 1) < 0) {
        /* full pipe: a wake-up is already pending */
    }
    errno = saved;
}

static int
install_signals(void)
{
    struct sigaction  sa;
    int               sigs[] = { SIGHUP, SIGQUIT, SIGTERM, SIGINT, SIGUSR1,
                                 SIGCHLD };
    size_t            i;

    if (pipe2(self_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        if (sigaction(sigs[i], &sa, NULL) != 0) {
            return -1;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void
reset_signals(void)
{
    int  sigs[] = { SIGHUP, SIGQUIT, SIGTERM, SIGINT, SIGUSR1, SIGCHLD,
                    SIGPIPE };
    size_t  i;

    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        signal(sigs[i], SIG_DFL);
    }
}

/* What a wait status says, for the log. */
static const char *
status_text(int status, char *buf, size_t n)
{
    if (WIFSIGNALED(status)) {
        snprintf(buf, n, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    } else {
        snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
    }
    return buf;
}

/*
 * Check conf_path in a child: parse, load every module, check its
 * settings, run init and fini.  Returns 0, or -1 with the reason in err.
 */
static int
check_in_child(char *err, size_t n)
{
    struct pollfd  pfd;
    pid_t          pid;
    int            fds[2], status, r;
    ssize_t        got;
    size_t         len = 0;

    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, n, "pipe(): %s", strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid == -1) {
        snprintf(err, n, "fork(): %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        reset_signals();
        close(fds[0]);
        ll__log_set(-1, "check");
        r = ll__check(conf_path, LL_MODE_RELOAD_CHECK, err, n);
        if (r != 0 && write(fds[1], err, strlen(err)) < 0) {
            _exit(2);
        }
        _exit(r == 0 ? 0 : 1);
    }
    close(fds[1]);
    err[0] = '\0';
    pfd.fd = fds[0];
    pfd.events = POLLIN;
    for ( ;; ) {
        r = poll(&pfd, 1, LL_CHECK_TIMEOUT_MS);
        if (r == -1 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            kill(pid, SIGKILL);
            snprintf(err, n, "config check did not finish in %d s",
                     LL_CHECK_TIMEOUT_MS / 1000);
            break;
        }
        got = read(fds[0], err + len, n - 1 - len);
        if (got == -1 && errno == EINTR) {
            continue;
        }
        if (got <= 0 || (len += (size_t) got) >= n - 1) {
            break;
        }
    }
    err[len < n ? len : n - 1] = '\0';
    close(fds[0]);
    while (waitpid(pid, &status, 0) == -1 && errno == EINTR) { /* void */ }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return 0;
    }
    if (err[0] == '\0') {
        char  st[64];

        snprintf(err, n, "config check %s", status_text(status, st, sizeof(st)));
    }
    return -1;
}

static worker_t *
spawn(unsigned gen, int slot, int count)
{
    worker_t  *w;
    pid_t      pid, master = getpid();
    int        fds[2], i;

    if (nworkers == MAX_WORKERS) {
        ll__log_core(LL_LOG_ERR, "too many worker processes");
        return NULL;
    }
    if (pipe2(fds, O_CLOEXEC) != 0) {
        ll__log_core(LL_LOG_ERR, "pipe(): %s", strerror(errno));
        return NULL;
    }
    pid = fork();
    if (pid == -1) {
        ll__log_core(LL_LOG_ERR, "fork(): %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    if (pid == 0) {
        reset_signals();
        close(fds[0]);
        close(self_pipe[0]);
        close(self_pipe[1]);
        for (i = 0; i < nworkers; i++) {
            if (workers[i].fd != -1) {
                close(workers[i].fd);
            }
        }
        ll__worker_run(conf_path, gen, slot, count, fds[1], master);
    }
    close(fds[1]);
    w = &workers[nworkers++];
    *w = (worker_t) { .pid = pid, .gen = gen, .slot = slot, .fd = fds[0],
                      .state = W_STARTING, .started = lt_mono_ms() };
    return w;
}

/*
 * Send w away with sig and give it until grace ms from now to exit; after
 * that it is killed (a worker stuck in a module's init or start never
 * sees the signal).  A later, shorter grace wins.
 */
static void
retire(worker_t *w, int sig, int64_t grace)
{
    int64_t  at = lt_mono_ms() + grace;

    kill(w->pid, sig);
    w->state = W_RETIRING;
    if (w->kill_at == 0 || at < w->kill_at) {
        w->kill_at = at;
    }
}

/* QUIT every worker of generation gen not yet retiring. */
static void
retire_gen(unsigned gen, int64_t shutdown_timeout_ms)
{
    int  i;

    for (i = 0; i < nworkers; i++) {
        if (workers[i].gen == gen && workers[i].state != W_RETIRING) {
            retire(&workers[i], SIGQUIT, shutdown_timeout_ms + KILL_GRACE_MS);
        }
    }
}

/* Set slot s's next respawn: at once after a worker that was up for a
 * while, else after a back-off that doubles up to RESPAWN_MAX_MS. */
static int64_t
schedule_respawn(slot_t *s, int64_t now, int stable)
{
    if (stable) {
        s->backoff = 0;
    } else {
        s->backoff = s->backoff ? s->backoff * 2 : RESPAWN_MIN_MS;
        if (s->backoff > RESPAWN_MAX_MS) {
            s->backoff = RESPAWN_MAX_MS;
        }
    }
    s->at = now + s->backoff;
    return s->backoff;
}

/* A reload that failed (gen: the generation it started, 0 if none): the
 * serving generation carries on. */
static void
reload_failed(unsigned gen, const char *why)
{
    ll__log_core(LL_LOG_ERR, "reload failed, generation %u keeps running: %s",
                 cur_gen, why);
    ll__status_reload(gen, 0, why);
    ll__notify("READY=1\nSTATUS=reload failed, generation %u keeps running",
               cur_gen);
}

static void
gen_failed(const char *why)
{
    if (new_gen == 0) {
        return;
    }
    retire_gen(new_gen, new_conf->settings.shutdown_timeout_ms);
    if (cur_gen == 0) {
        ll__log_core(LL_LOG_ERR, "generation %u failed: %s", new_gen, why);
        stopping = SIGQUIT;
        /* nothing else serves: its settings stay for the shutdown */
        cur_conf = new_conf;
        cur = new_conf->settings;
    } else {
        reload_failed(new_gen, why);
        ll__conf_free(new_conf);
    }
    new_conf = NULL;
    new_gen = 0;
}

/* A generation is all its workers or none: one that cannot be forked
 * fails it, as one that does not come up would. */
static void
start_gen(ll_conf_t *conf)
{
    char  why[96];
    int   i;

    new_gen = ++last_gen;
    new_conf = conf;
    ll__status_gen_reset(new_gen);
    new_deadline = lt_mono_ms() + conf->settings.ready_timeout_ms;
    for (i = 0; i < conf->settings.worker_processes; i++) {
        if (spawn(new_gen, i, conf->settings.worker_processes) == NULL) {
            snprintf(why, sizeof(why), "cannot start worker %d of %d", i,
                     conf->settings.worker_processes);
            gen_failed(why);
            return;
        }
    }
}

static int
write_pid_file(const char *path)
{
    char  err[LL_ERRLEN];

    if (ll__pid_file_write(path, err, sizeof(err)) != 0) {
        ll__log_core(LL_LOG_ERR, "%s", err);
        return -1;
    }
    if (pid_path[0] != '\0' && strcmp(pid_path, path) != 0) {
        unlink(pid_path);
    }
    snprintf(pid_path, sizeof(pid_path), "%s", path);
    return 0;
}

static void
gen_ready(void)
{
    unsigned  old = cur_gen;
    int64_t   old_timeout = cur.shutdown_timeout_ms;
    int       i, n = 0;

    for (i = 0; i < nworkers; i++) {
        if (workers[i].gen == new_gen) {
            if (workers[i].state != W_READY) {
                return;
            }
            n++;
        }
    }
    if (n == 0) {
        return;
    }
    if (strcmp(pid_path, new_conf->settings.pid_file) != 0) {
        write_pid_file(new_conf->settings.pid_file);
    }
    ll__conf_free(cur_conf);
    cur_conf = new_conf;
    cur = new_conf->settings;
    new_conf = NULL;
    cur_gen = new_gen;
    new_gen = 0;
    ll__log_format(-1, cur_gen);
    memset(slots, 0, sizeof(slots));
    ll__log_core(LL_LOG_INFO, "generation %u ready (%d workers)", cur_gen, n);
    ll__notify("READY=1\nSTATUS=generation %u ready (%d workers)", cur_gen, n);
    if (old != 0) {
        ll__status_reload(cur_gen, 1, NULL);
        retire_gen(old, old_timeout);
    }
}

static void
read_ready(worker_t *w)
{
    char     buf[LL_ERRLEN + 64];
    ssize_t  n;

    n = read(w->fd, buf, sizeof(buf) - 1);
    if (n == -1 && errno == EINTR) {
        return;
    }
    close(w->fd);
    w->fd = -1;
    if (n <= 0) {
        return;         /* died before a word: reaping tells why */
    }
    buf[n] = '\0';
    if (buf[0] == 'R' && w->state == W_STARTING) {
        w->state = W_READY;
        if (w->gen == new_gen) {
            gen_ready();
        } else {
            ll__log_core(LL_LOG_INFO, "worker %d ready (slot %d)",
                         (int) w->pid, w->slot);
        }
    } else if (buf[0] == 'F' && w->gen == new_gen) {
        gen_failed(buf + 1);
    }
}

static void
reap(void)
{
    worker_t  *w;
    char       st[96];
    int        status, i;
    pid_t      pid;
    int64_t    now, up;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (i = 0; i < nworkers && workers[i].pid != pid; i++) { /* void */ }
        if (i == nworkers) {
            continue;
        }
        w = &workers[i];
        if (w->fd != -1) {
            read_ready(w);  /* a last word may be waiting in the pipe */
        }
        now = lt_mono_ms();
        status_text(status, st, sizeof(st));
        if (w->state == W_RETIRING || stopping) {
            ll__log_core(LL_LOG_INFO, "worker %d (generation %u) %s",
                         (int) pid, w->gen, st);
        } else if (w->gen == new_gen) {
            char  why[160];

            snprintf(why, sizeof(why), "worker %d %s before generation %u "
                     "was ready", (int) pid, st, w->gen);
            gen_failed(why);
        } else if (w->gen == cur_gen && w->slot < (int) (sizeof(slots)
                                                         / sizeof(slots[0])))
        {
            up = now - w->started;
            restarts++;
            if (w->slot < LL_ST_SLOTS) {
                slot_restarts[w->slot]++;
            }
            ll__log_core(LL_LOG_WARN, "worker %d (slot %d) %s after %lld ms; "
                         "respawning in %lld ms", (int) pid, w->slot, st,
                         (long long) up,
                         (long long) schedule_respawn(&slots[w->slot], now,
                                                      up >= STABLE_MS));
        }
        *w = workers[--nworkers];
    }
}

static void
reload(void)
{
    ll_conf_t  *conf;
    char        err[LL_ERRLEN];

    ll__log_core(LL_LOG_INFO, "reload requested");
    ll__status_reload_begin();
    ll__notify("RELOADING=1\nMONOTONIC_USEC=%lld",
               (long long) lt_mono_ms() * 1000);
    if (check_in_child(err, sizeof(err)) != 0
        || (conf = ll__conf_load(conf_path, err, sizeof(err))) == NULL)
    {
        reload_failed(0, err);
        return;
    }
    if (strcmp(conf->settings.error_log, cur.error_log) != 0
        && ll__log_open(conf->settings.error_log, err, sizeof(err)) != 0)
    {
        reload_failed(0, err);
        ll__conf_free(conf);
        return;
    }
    ll__log_set(conf->settings.log_level, NULL);
    ll__log_format(conf->settings.log_json, 0);
    start_gen(conf);
}

static void
begin_stop(int how)
{
    int64_t  grace;
    int      i;

    if (stopping == SIGTERM || (stopping && how == SIGQUIT)) {
        return;
    }
    stopping = how;
    ll__log_core(LL_LOG_INFO, "%s shutdown", how == SIGQUIT ? "graceful"
                                                            : "fast");
    ll__notify("STOPPING=1");
    grace = (how == SIGQUIT ? cur.shutdown_timeout_ms : 0) + KILL_GRACE_MS;
    for (i = 0; i < nworkers; i++) {
        retire(&workers[i], how, grace);
    }
    if (new_conf != NULL) {
        if (cur_conf == NULL) {
            cur_conf = new_conf;    /* cur points into it */
        } else {
            /* a reload cut short: a waiting -s reload learns it */
            ll__status_reload(new_gen, 0, "the server is stopping");
            ll__conf_free(new_conf);
        }
        new_conf = NULL;
        new_gen = 0;
    }
}

/* What the master knows, into the shared status (ll_export.c reads it). */
static void
publish(void)
{
    ll_st_master_t  *m;
    int64_t          now = ll_now_ms(), mono = lt_mono_ms();
    int              i;

    if (ll__st == NULL) {
        return;
    }
    m = &ll__st->m;
    ll__status_master_begin();
    m->generation = cur_gen;
    m->new_generation = new_gen;
    m->restarts = restarts;
    memcpy(m->slot_restarts, slot_restarts, sizeof(slot_restarts));
    m->nworkers = (uint32_t) nworkers;
    for (i = 0; i < nworkers && i < LL_ST_WORKERS; i++) {
        m->worker[i] = (ll_st_worker_t) {
            .pid = workers[i].pid, .gen = workers[i].gen,
            .slot = workers[i].slot, .state = workers[i].state,
            .started_ms = now - (mono - workers[i].started) };
    }
    ll__status_master_end();
}

static void
loop_once(void)
{
    struct pollfd  pfd[MAX_WORKERS + 1];
    worker_t      *idx[MAX_WORKERS + 1];
    int64_t        now, timeout = 1000;
    int            n = 1, i, r;
    char           drain[64];

    now = lt_mono_ms();
    if (new_gen != 0 && new_deadline - now < timeout) {
        timeout = new_deadline - now;
    }
    for (i = 0; i < (int) (sizeof(slots) / sizeof(slots[0])); i++) {
        if (slots[i].at != 0 && slots[i].at - now < timeout) {
            timeout = slots[i].at - now;
        }
    }
    for (i = 0; i < nworkers; i++) {
        if (workers[i].kill_at != 0 && workers[i].kill_at - now < timeout) {
            timeout = workers[i].kill_at - now;
        }
    }
    if (timeout < 0) {
        timeout = 0;
    }
    pfd[0].fd = self_pipe[0];
    pfd[0].events = POLLIN;
    for (i = 0; i < nworkers; i++) {
        if (workers[i].fd != -1) {
            pfd[n].fd = workers[i].fd;
            pfd[n].events = POLLIN;
            idx[n++] = &workers[i];
        }
    }
    r = poll(pfd, (nfds_t) n, (int) timeout);
    if (r > 0) {
        while (read(self_pipe[0], drain, sizeof(drain)) > 0) { /* void */ }
        /* reading may reorder workers[] (reap), so collect pids first */
        for (i = 1; i < n; i++) {
            if (pfd[i].revents != 0 && idx[i]->fd == pfd[i].fd) {
                read_ready(idx[i]);
            }
        }
    }
    if (sig_chld) {
        sig_chld = 0;
        reap();
    }
    if (sig_term) {
        sig_term = 0;
        begin_stop(SIGTERM);
    }
    if (sig_quit) {
        sig_quit = 0;
        begin_stop(SIGQUIT);
    }
    if (sig_usr1) {
        char  err[LL_ERRLEN];

        sig_usr1 = 0;
        if (ll__log_open(cur.error_log, err, sizeof(err)) != 0) {
            ll__log_core(LL_LOG_ERR, "reopen: %s", err);
        }
        ll__log_core(LL_LOG_INFO, "log files reopened");
        for (i = 0; i < nworkers; i++) {
            kill(workers[i].pid, SIGUSR1);
        }
    }
    if (sig_hup && !stopping && new_gen == 0) {
        sig_hup = 0;    /* a HUP during a reload waits for it to end */
        reload();
    }

    now = lt_mono_ms();
    if (new_gen != 0 && now >= new_deadline) {
        gen_failed("workers were not ready within ready_timeout");
    }
    for (i = 0; i < nworkers; i++) {
        if (workers[i].kill_at != 0 && now >= workers[i].kill_at) {
            ll__log_core(LL_LOG_WARN, "worker %d did not exit in time; "
                         "killing it", (int) workers[i].pid);
            kill(workers[i].pid, SIGKILL);
            workers[i].kill_at = now + 1000;
        }
    }
    if (stopping) {
        return;
    }
    for (i = 0; i < (int) (sizeof(slots) / sizeof(slots[0])); i++) {
        if (slots[i].at != 0 && now >= slots[i].at && cur_gen != 0) {
            slots[i].at = 0;
            if (spawn(cur_gen, i, cur.worker_processes) == NULL) {
                ll__log_core(LL_LOG_WARN, "slot %d: retrying in %lld ms", i,
                             (long long) schedule_respawn(&slots[i], now, 0));
            }
        }
    }
}

/* A start that fails once the log is open: said in the log and on
 * stderr, where whoever started us looks. */
static int
start_failed(ll_conf_t *conf, const char *err)
{
    ll__log_core(LL_LOG_ERR, "cannot start: %s", err);
    if (strcmp(conf->settings.error_log, "stderr") != 0) {
        fprintf(stderr, "looklook: cannot start: %s\n", err);
    }
    ll__conf_free(conf);
    return 1;
}

int
ll__master_run(const char *path)
{
    char        err[LL_ERRLEN], abs[4096];
    pid_t       pid;
    ll_conf_t  *conf;

    conf_path = path;
    conf = ll__conf_load(conf_path, err, sizeof(err));
    if (conf == NULL) {
        fprintf(stderr, "looklook: %s\n", err);
        return 1;
    }
    pid = ll__pid_file_read(conf->settings.pid_file, err, sizeof(err));
    if (pid > 0 && ll__pid_is_looklook(pid, err, sizeof(err))) {
        fprintf(stderr, "looklook: already running (pid %d, %s)\n", (int) pid,
                ll__path_abs(conf->settings.pid_file, abs, sizeof(abs)));
        ll__conf_free(conf);
        return 1;
    }
    if (check_in_child(err, sizeof(err)) != 0) {
        ll__mask_secrets(err, sizeof(err));
        fprintf(stderr, "looklook: %s\n", err);
        ll__conf_free(conf);
        return 1;
    }
    if (ll__log_open(conf->settings.error_log, err, sizeof(err)) != 0) {
        fprintf(stderr, "looklook: %s\n", err);
        ll__conf_free(conf);
        return 1;
    }
    ll__log_set(conf->settings.log_level, "master");
    ll__log_format(conf->settings.log_json, 0);
    if (ll__metrics_open(ll__path_abs(conf->settings.status_file, abs,
                                      sizeof(abs)), 1, err, sizeof(err)) != 0)
    {
        return start_failed(conf, err);
    }
    if (install_signals() != 0) {
        snprintf(err, sizeof(err), "signals: %s", strerror(errno));
        return start_failed(conf, err);
    }
    if (ll__pid_file_write(ll__path_abs(conf->settings.pid_file, abs,
                                        sizeof(abs)), err, sizeof(err)) != 0)
    {
        return start_failed(conf, err);
    }
    snprintf(pid_path, sizeof(pid_path), "%s", conf->settings.pid_file);
    cur = conf->settings;   /* for a signal before generation 1 is ready */
    if (ll__st != NULL) {
        ll__st->m.master_pid = (int32_t) getpid();
        ll__st->m.started_ms = ll_now_ms();
    }
    ll__log_core(LL_LOG_INFO, "looklook %s starting, master pid %d",
                 LL_VERSION, (int) getpid());
    start_gen(conf);

    publish();
    while (!(stopping && nworkers == 0)) {
        loop_once();
        publish();
    }
    unlink(pid_path);
    if (ll__st != NULL) {
        ll__status_master_begin();
        ll__st->m.master_pid = 0;   /* -s status: not running */
        ll__status_master_end();
    }
    ll__log_core(LL_LOG_INFO, "exiting");
    ll__conf_free(cur_conf);
    return cur_gen == 0;    /* generation 1 never came up: a failed start */
}
