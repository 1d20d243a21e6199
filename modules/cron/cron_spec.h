/*
 * cron_spec: parsing cron specs and computing their ticks.
 *
 * Accepted (as robfig/cron v3, which asynq's Scheduler uses, plus a seconds
 * field):
 *   "m h dom mon dow"          five fields
 *   "s m h dom mon dow"        six fields, seconds first
 *   "@yearly" "@annually" "@monthly" "@weekly" "@daily" "@midnight"
 *   "@hourly" "@every <d>"     d: Go-style duration ("90s", "1h30m"),
 *                              whole seconds, at least 1s
 * Fields: "*", "?" (day fields), "a", "a-b", "*\/n", "a-b/n", "a/n", lists
 * with ",", names JAN..DEC and SUN..SAT (any case), 7 = Sunday.  As in
 * Vixie cron, when both day fields are restricted a day matches either.
 *
 * Ticks of "@every d" are the multiples of d since the Unix epoch, so every
 * instance computes the same ticks.  Wall-clock specs are evaluated in a
 * time zone; the daylight-saving rule (Vixie cron's) is in README.md:
 * a "fixed" spec (minute and hour fields both without "*") fires once at
 * the end of a gap for the times the gap swallowed and only at the first
 * occurrence of a repeated time; other specs follow real time (skip
 * times that do not exist, fire at both occurrences of repeated ones).
 */
#ifndef CRON_SPEC_H_INCLUDED
#define CRON_SPEC_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "cron_tz.h"

#define CRON_NEVER  INT64_MAX

typedef struct {
    uint64_t        sec, min;       /* bit n: second/minute n matches */
    uint32_t        hour, dom;      /* hour 0-23, day of month 1-31 */
    uint16_t        mon;            /* month 1-12 */
    uint8_t         dow;            /* day of week 0-6, Sunday = 0 */
    unsigned        dom_star:1;     /* day field began with '*' or '?' */
    unsigned        dow_star:1;
    unsigned        fixed:1;        /* neither minute nor hour began '*' */
    int64_t         every;          /* @every: interval in seconds, else 0 */
} cron_spec_t;

/*
 * Parse spec into s.  Returns 0, or -1 with a one-line reason in err
 * ("field 3 (hours): 24 is out of range 0-23").  @locality any thread
 */
int cron_spec_parse(cron_spec_t *s, const char *spec, char *err,
    size_t errlen);

/*
 * The first tick of s strictly after Unix second `after`, wall-clock specs
 * read in zone tz; CRON_NEVER when there is none within ~10 years.
 * @locality any thread (s and tz are only read)
 */
int64_t cron_spec_next(const cron_spec_t *s, const cron_tz_t *tz,
    int64_t after);

/* The last tick of s at or before Unix second t, or CRON_NEVER.
 * @locality any thread */
int64_t cron_spec_prev(const cron_spec_t *s, const cron_tz_t *tz, int64_t t);

/*
 * The smallest wall-clock second c in [from, to] ("civil seconds": local
 * date and time counted as if it were UTC) that s matches, or -1.
 * @locality any thread
 */
int64_t cron_spec_next_civil(const cron_spec_t *s, int64_t from, int64_t to);

#endif /* CRON_SPEC_H_INCLUDED */
