/*
 * A worker process: loads the modules of its generation, starts them,
 * reports "ready" (or why not) to the master over a pipe, then waits for
 * signals on its main thread.  Every signal is blocked before the first
 * thread exists, so module and library threads inherit the mask and only
 * sigwaitinfo() here ever sees QUIT, TERM, INT and USR1.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "ll_core.h"

static void
report(int fd, char kind, const char *msg)
{
    char    buf[LL_ERRLEN + 2];
    int     len;

    len = snprintf(buf, sizeof(buf), "%c%s", kind, msg ? msg : "");
    if (len < 0) {
        return;
    }
    if ((size_t) len >= sizeof(buf)) {
        len = sizeof(buf) - 1;
    }
    /* the master learns of a failed write from our exit status */
    if (write(fd, buf, (size_t) len) < 0) {
        return;
    }
}

__attribute__((noreturn)) static void
fail(int fd, const char *err)
{
    ll__log_core(LL_LOG_ERR, "%s", err);
    report(fd, 'F', err);
    _exit(1);
}

/* Ends the process if stop overruns the deadline (a module that hangs). */
static void *
watchdog(void *arg)
{
    int64_t          deadline = *(int64_t *) arg + LL_WATCHDOG_GRACE_MS;
    struct timespec  ts = { deadline / 1000, (deadline % 1000) * 1000000 };

    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        /* void */
    }
    ll__log_core(LL_LOG_ERR, "shutdown overran shutdown_timeout by %d ms; "
                 "exiting now", LL_WATCHDOG_GRACE_MS);
    _exit(1);
}

/* Which files this generation runs, once per generation (slot 0). */
static void
log_modules(const ll_cycle_t *c)
{
    const ll_module_t  *m;
    int                 i;

    for (i = 0; i < c->ninst; i++) {
        m = c->inst[i]->mod;
        ll__log_core(LL_LOG_INFO, "generation %u: module \"%s\" is %s %s "
                     "(ABI %u.%u) from %s", c->generation, c->inst[i]->name,
                     m->name, m->version ? m->version : "-", m->abi_major,
                     m->abi_minor, c->inst[i]->path);
    }
}

void
ll__worker_run(const char *conf_path, unsigned generation, int slot,
    int count, int ready_fd, pid_t master)
{
    sigset_t     all, wait;
    siginfo_t    si;
    ll_conf_t   *conf;
    ll_cycle_t  *c;
    pthread_t    wd;
    static int64_t  deadline;   /* outlives the cycle, for the watchdog */
    char         err[LL_ERRLEN];
    int          sig;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    /* an orphaned worker stops gracefully instead of serving alone */
    prctl(PR_SET_PDEATHSIG, SIGQUIT);
    if (getppid() != master) {
        _exit(1);       /* the master died before the line above */
    }
    ll__log_set(-1, "worker");

    conf = ll__conf_load(conf_path, err, sizeof(err));
    if (conf == NULL) {
        fail(ready_fd, err);
    }
    ll__log_set(conf->settings.log_level, NULL);
    ll__log_format(conf->settings.log_json, generation);
    c = ll__cycle_create(conf, LL_MODE_WORKER, err, sizeof(err));
    if (c == NULL) {
        fail(ready_fd, err);
    }
    c->worker_id = slot;
    c->worker_count = count;
    c->generation = generation;
    ll__status_cycle(c);
    if (slot == 0) {
        log_modules(c);
    }
    /* the master counts ready_timeout from the fork: end start a little
     * earlier (a tenth, at most 1 s) so the failure is reported, not
     * timed out */
    c->ready_deadline = ll_now_ms() + conf->settings.ready_timeout_ms
        - (conf->settings.ready_timeout_ms / 10 < 1000
           ? conf->settings.ready_timeout_ms / 10 : 1000);
    if (ll__pool_create(c, conf->settings.handler_threads, err, sizeof(err))
        == NULL
        || ll__cycle_start(c, err, sizeof(err)) != 0)
    {
        __atomic_store_n(&c->shutdown_deadline, ll_now_ms(), __ATOMIC_RELAXED);
        ll__cycle_stop(c);
        fail(ready_fd, err);
    }
    report(ready_fd, 'R', NULL);
    close(ready_fd);
    ll__log_core(LL_LOG_INFO, "worker ready (generation %u, slot %d)",
                 generation, slot);

    sigemptyset(&wait);
    sigaddset(&wait, SIGQUIT);
    sigaddset(&wait, SIGTERM);
    sigaddset(&wait, SIGINT);
    sigaddset(&wait, SIGUSR1);
    for ( ;; ) {
        sig = sigwaitinfo(&wait, &si);
        if (sig == SIGUSR1) {
            if (ll__log_open(conf->settings.error_log, err, sizeof(err)) != 0) {
                ll__log_core(LL_LOG_ERR, "%s", err);
            }
            continue;
        }
        if (sig == SIGQUIT || sig == SIGTERM || sig == SIGINT) {
            break;
        }
    }

    __atomic_store_n(&c->shutdown_deadline, ll_now_ms()
                     + (sig == SIGQUIT ? conf->settings.shutdown_timeout_ms
                                       : 0), __ATOMIC_RELAXED);
    ll__log_core(LL_LOG_INFO, "%s stop (generation %u)",
                 sig == SIGQUIT ? "graceful" : "fast", generation);
    deadline = c->shutdown_deadline;
    if (pthread_create(&wd, NULL, watchdog, &deadline) == 0) {
        pthread_detach(wd);
    }
    ll__cycle_stop(c);
    ll__cycle_destroy(c);
    ll__conf_free(conf);
    ll__log_core(LL_LOG_INFO, "worker exiting");
    _exit(0);
}

int
ll__check(const char *conf_path, int mode, char *err, size_t n)
{
    ll_conf_t   *conf;
    ll_cycle_t  *c;

    conf = ll__conf_load(conf_path, err, n);
    if (conf == NULL) {
        return -1;
    }
    if (ll__conf_check_paths(conf, err, n) != 0) {
        ll__conf_free(conf);
        return -1;
    }
    c = ll__cycle_create(conf, mode, err, n);
    if (c == NULL) {
        ll__conf_free(conf);
        return -1;
    }
    ll__cycle_destroy(c);
    ll__conf_free(conf);
    return 0;
}
