/*
 * lt_clock: wall and monotonic clocks in the units the project counts in.
 * Every function reads the clock afresh and may be called from any thread.
 */
#ifndef LT_CLOCK_H_INCLUDED
#define LT_CLOCK_H_INCLUDED

#include <stdint.h>
#include <time.h>

/* Wall clock (CLOCK_REALTIME) since the Unix epoch, in ms and in ns: for
 * timestamps other processes read.  @locality any thread */
int64_t lt_now_ms(void);
int64_t lt_now_ns(void);

/* Monotonic clock (CLOCK_MONOTONIC), in ms and in ns: for timeouts and
 * intervals, which a change of the wall clock must not stretch or cut.
 * @locality any thread */
int64_t lt_mono_ms(void);
int64_t lt_mono_ns(void);

/* *ts = the monotonic clock now plus ms: the absolute deadline of a
 * pthread_cond_timedwait on a condition variable set to CLOCK_MONOTONIC.
 * @locality any thread */
void lt_mono_deadline(struct timespec *ts, int64_t ms);

#endif /* LT_CLOCK_H_INCLUDED */
