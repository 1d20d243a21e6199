/*
 * Failures that repeat (ll_log_fail, ll_log_recovered in ll_api.h): a
 * dead broker retried with back-off by every thread of every worker would
 * otherwise write a line per attempt.  Rare path: one lock for all.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ll_core.h"

static pthread_mutex_t  limit_lock = PTHREAD_MUTEX_INITIALIZER;

/* Seconds since l->text was last written, to the nearest, at least 1. */
static long long
since_written(const ll_log_limit_t *l, int64_t now)
{
    int64_t  s = (now - l->logged_ms + 500) / 1000;

    return s > 1 ? (long long) s : 1;
}

/* The count of repeats of l->text not written yet, as a line. */
static void
flush_repeats(ll_instance_t *in, ll_log_limit_t *l, int64_t now)
{
    if (l->repeats > 0) {
        ll_log(in, l->level, "%s (repeated %u times in the last %lld s)",
               l->text, l->repeats, since_written(l, now));
        l->repeats = 0;
        l->logged_ms = now;
    }
}

LL_API void
ll_log_fail(ll_instance_t *in, ll_log_limit_t *l, int level,
    const char *fmt, ...)
{
    char     text[sizeof(l->text)];
    va_list  ap;
    int64_t  now = ll_now_ms();

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);

    pthread_mutex_lock(&limit_lock);
    if (__atomic_load_n(&l->since_ms, __ATOMIC_RELAXED) == 0) {
        __atomic_store_n(&l->since_ms, now, __ATOMIC_RELAXED);
    }
    if (l->text[0] != '\0' && strcmp(text, l->text) == 0) {
        l->repeats++;
        if (now - l->logged_ms >= LL_LOG_REPEAT_MS) {
            flush_repeats(in, l, now);
        }
    } else {
        flush_repeats(in, l, now);
        ll_log(in, level, "%s", text);
        memcpy(l->text, text, sizeof(text));
        l->level = level;
        l->logged_ms = now;
    }
    pthread_mutex_unlock(&limit_lock);
}

LL_API void
ll_log_recovered(ll_instance_t *in, ll_log_limit_t *l, const char *fmt, ...)
{
    char     text[sizeof(l->text)], rep[sizeof(l->text) + 64];
    va_list  ap;
    int64_t  now, took;

    if (__atomic_load_n(&l->since_ms, __ATOMIC_RELAXED) == 0) {
        return;
    }
    pthread_mutex_lock(&limit_lock);
    if (__atomic_load_n(&l->since_ms, __ATOMIC_RELAXED) == 0) {
        /* another thread told it first */
        pthread_mutex_unlock(&limit_lock);
        return;
    }
    now = ll_now_ms();
    took = now - __atomic_load_n(&l->since_ms, __ATOMIC_RELAXED);
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    rep[0] = '\0';
    if (l->repeats > 0) {
        snprintf(rep, sizeof(rep), " (\"%s\" repeated %u times in the last "
                 "%lld s)", l->text, l->repeats, since_written(l, now));
    }
    ll_log(in, LL_LOG_WARN, "%s after %lld.%01lld s%s", text,
           (long long) (took / 1000), (long long) (took % 1000 / 100), rep);
    l->repeats = 0;
    l->logged_ms = 0;
    l->text[0] = '\0';     /* the next outage's first error is written */
    __atomic_store_n(&l->since_ms, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&limit_lock);
}
