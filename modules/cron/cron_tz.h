/*
 * cron_tz: IANA time zones read from the system tzdata (TZif files), for
 * computing wall-clock cron ticks without touching the process-wide TZ.
 *
 * Why not setenv("TZ") + localtime_r: the environment and glibc's zone
 * state are process-wide; a worker runs other modules' threads (and the
 * core's logger) concurrently, so switching TZ would race with their
 * getenv/localtime calls.  A loaded cron_tz_t is immutable, so any number
 * of threads may use it at once.  Files are read once, in init.
 */
#ifndef CRON_TZ_H_INCLUDED
#define CRON_TZ_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

/* One POSIX TZ rule date ("M3.2.0/2", "J60", "59"). */
typedef struct {
    char            kind;           /* 'M', 'J' or 'D' (zero-based day) */
    int             month, week, wday, day;
    int32_t         secs;           /* local time of day, may be < 0 */
} cron_tz_rule_t;

typedef struct {
    char           *name;           /* "Asia/Shanghai", "UTC" */
    int64_t        *trans;          /* transition instants, ascending */
    uint8_t        *idx;            /* type index of each transition */
    int32_t        *utoff;          /* UT offset of each type, seconds */
    size_t          ntrans, ntypes;

    /* the footer rule for instants after the last transition */
    int             has_rule;
    int32_t         std_off, dst_off;   /* UT offsets, seconds east */
    int             has_dst;
    cron_tz_rule_t  start, end;     /* dst starts (std time), ends (dst) */
} cron_tz_t;

/*
 * Load zone `name` ("UTC", "Asia/Shanghai", ...) from dir (NULL:
 * $TZDIR or /usr/share/zoneinfo).  Names with "..", a leading "/" or odd
 * characters are refused.  Returns a zone owned by the caller
 * (cron_tz_free), or NULL with a one-line reason in err.
 * @locality any thread (init in practice)
 */
cron_tz_t *cron_tz_load(const char *name, const char *dir, char *err,
    size_t errlen);

/* NULL-safe.  @locality any thread */
void cron_tz_free(cron_tz_t *tz);

/* UT offset (seconds east) in force at instant t.  @locality any thread */
int32_t cron_tz_offset(const cron_tz_t *tz, int64_t t);

/* The first instant > t at which the offset may change, or INT64_MAX.
 * @locality any thread */
int64_t cron_tz_next_change(const cron_tz_t *tz, int64_t t);

/* The last instant <= t at which the offset may have changed, or
 * INT64_MIN.  @locality any thread */
int64_t cron_tz_prev_change(const cron_tz_t *tz, int64_t t);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t cron_days_from_civil(int64_t y, int m, int d);
void    cron_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

#endif /* CRON_TZ_H_INCLUDED */
