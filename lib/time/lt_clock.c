/*
 * lt_clock: the project's one set of clock readers (see lt_clock.h).
 */
#include "lt_clock.h"

static int64_t
lt_ns(clockid_t id)
{
    struct timespec  ts;

    clock_gettime(id, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
lt_now_ms(void)
{
    return lt_ns(CLOCK_REALTIME) / 1000000;
}

int64_t
lt_now_ns(void)
{
    return lt_ns(CLOCK_REALTIME);
}

int64_t
lt_mono_ms(void)
{
    return lt_ns(CLOCK_MONOTONIC) / 1000000;
}

int64_t
lt_mono_ns(void)
{
    return lt_ns(CLOCK_MONOTONIC);
}

void
lt_mono_deadline(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}
