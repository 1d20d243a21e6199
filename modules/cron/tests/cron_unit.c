/*
 * Unit tests of the cron spec parser, the tick search and the TZif reader,
 * printed as TAP (t/unit/unit.h).  Built by make test-build (ll_tests in
 * modules/cron/config), run by t/cron-spec.t.
 * Single-threaded, so it may use setenv("TZ") to ask glibc for reference
 * offsets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron_spec.h"
#include "cron_tz.h"
#include "unit.h"


/* "2026-03-08T01:30:00-05:00" or "...Z" to Unix seconds; -1 on "never" */
static int64_t
iso(const char *s)
{
    int   y, mo, d, h, mi, se, oh = 0, om = 0;
    char  sign = 'Z';

    if (strcmp(s, "never") == 0) {
        return CRON_NEVER;
    }
    if (sscanf(s, "%d-%d-%dT%d:%d:%d%c%d:%d", &y, &mo, &d, &h, &mi, &se,
               &sign, &oh, &om) < 7)
    {
        fprintf(stderr, "bad time %s\n", s);
        exit(2);
    }
    return cron_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se
           - (sign == '-' ? -1 : sign == '+' ? 1 : 0) * (oh * 3600 + om * 60);
}

static void
fmt_utc(int64_t t, char *buf, size_t len)
{
    int64_t  y, days;
    int      m, d, sod;

    if (t == CRON_NEVER) {
        snprintf(buf, len, "never");
        return;
    }
    days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    sod = (int) (t - days * 86400);
    cron_civil_from_days(days, &y, &m, &d);
    snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long) y, m,
             d, sod / 3600, sod / 60 % 60, sod % 60);
}

static cron_tz_t *
zone(const char *name)
{
    static cron_tz_t  *cache[16];
    char               err[256];
    int                i;

    for (i = 0; i < 16 && cache[i] != NULL; i++) {
        if (strcmp(cache[i]->name, name) == 0) {
            return cache[i];
        }
    }
    if (i == 16 || (cache[i] = cron_tz_load(name, NULL, err, sizeof(err)))
                   == NULL)
    {
        fprintf(stderr, "zone %s: %s\n", name, err);
        exit(2);
    }
    return cache[i];
}

/* ---- next-tick table ------------------------------------------------------ */

static const struct {
    const char *tz, *spec, *after, *expect;
} nexts[] = {
    /* five and six fields, steps, ranges, lists, names */
    { "UTC", "*/1 * * * *", "2026-11-25T16:30:01Z", "2026-11-25T16:31:00Z" },
    { "UTC", "*/1 * * * *", "2026-11-25T16:30:00Z", "2026-11-25T16:31:00Z" },
    { "UTC", "*/1 * * * *", "2026-11-25T16:29:59Z", "2026-11-25T16:30:00Z" },
    { "UTC", "*/15 * * * * *", "2026-11-25T16:30:01Z",
      "2026-11-25T16:30:15Z" },
    { "UTC", "30 */5 * * * *", "2026-11-25T16:30:31Z",
      "2026-11-25T16:35:30Z" },
    { "UTC", "0-10/5 9 * * *", "2026-11-25T09:05:00Z",
      "2026-11-25T09:10:00Z" },
    { "UTC", "0-10/5 9 * * *", "2026-11-25T09:10:00Z",
      "2026-11-26T09:00:00Z" },
    { "UTC", "5,20,40 * * * *", "2026-11-25T16:21:00Z",
      "2026-11-25T16:40:00Z" },
    { "UTC", "15/20 * * * *", "2026-11-25T16:36:00Z",
      "2026-11-25T16:55:00Z" },
    { "UTC", "0 0 * JAN,jul *", "2026-02-01T00:00:00Z",
      "2026-07-01T00:00:00Z" },
    { "UTC", "0 12 * * MON-FRI", "2026-11-27T12:00:00Z",      /* a Friday */
      "2026-11-30T12:00:00Z" },
    { "UTC", "0 0 * * 7", "2026-11-25T00:00:00Z", "2026-11-29T00:00:00Z" },
    { "UTC", "0 0 * * sun", "2026-11-25T00:00:00Z", "2026-11-29T00:00:00Z" },
    /* Vixie: both day fields restricted -> either matches */
    { "UTC", "0 0 13 * FRI", "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z" },
    { "UTC", "0 0 13 * FRI", "2026-11-06T00:00:00Z", "2026-11-13T00:00:00Z" },
    { "UTC", "0 0 13 * ?", "2026-11-01T00:00:00Z", "2026-11-13T00:00:00Z" },
    /* month ends and February 29 */
    { "UTC", "0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z" },
    { "UTC", "0 0 30 * *", "2026-01-30T00:00:00Z", "2026-03-30T00:00:00Z" },
    { "UTC", "0 0 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z" },
    { "UTC", "0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z" },
    { "UTC", "0 0 31 2 *", "2026-01-01T00:00:00Z", "never" },
    { "UTC", "59 23 31 12 *", "2026-12-31T23:59:00Z",
      "2027-12-31T23:59:00Z" },
    /* descriptors */
    { "UTC", "@hourly", "2026-11-25T16:30:00Z", "2026-11-25T17:00:00Z" },
    { "UTC", "@daily", "2026-11-25T16:30:00Z", "2026-11-26T00:00:00Z" },
    { "UTC", "@midnight", "2026-11-25T16:30:00Z", "2026-11-26T00:00:00Z" },
    { "UTC", "@weekly", "2026-11-25T16:30:00Z", "2026-11-29T00:00:00Z" },
    { "UTC", "@monthly", "2026-11-25T16:30:00Z", "2026-12-01T00:00:00Z" },
    { "UTC", "@yearly", "2026-11-25T16:30:00Z", "2027-01-01T00:00:00Z" },
    { "UTC", "@annually", "2026-11-25T16:30:00Z", "2027-01-01T00:00:00Z" },
    /* @every: multiples of the interval since the epoch, any zone */
    { "UTC", "@every 1s", "2026-11-25T16:30:00Z", "2026-11-25T16:30:01Z" },
    { "America/New_York", "@every 1h30m", "2026-11-25T16:30:00Z",
      "2026-11-25T18:00:00Z" },
    { "UTC", "@every 7s", "1970-01-01T00:00:13Z", "1970-01-01T00:00:14Z" },
    /* a zone without DST: Asia/Shanghai is UTC+8 */
    { "Asia/Shanghai", "*/1 * * * *", "2026-11-25T16:30:00+08:00",
      "2026-11-25T16:31:00+08:00" },
    { "Asia/Shanghai", "0 0 * * *", "2026-11-25T16:30:00Z",
      "2026-11-27T00:00:00+08:00" },
    { "Asia/Shanghai", "0 9 * * MON", "2026-11-25T00:00:00Z",
      "2026-11-30T09:00:00+08:00" },
    /* DST gap: 2026-03-08 02:00 EST -> 03:00 EDT in New York.  A fixed
     * time in the gap fires at the end of the gap (03:00 EDT) ... */
    { "America/New_York", "30 2 * * *", "2026-03-07T12:00:00-05:00",
      "2026-03-08T03:00:00-04:00" },
    { "America/New_York", "30 2 * * *", "2026-03-08T03:00:00-04:00",
      "2026-03-09T02:30:00-04:00" },
    /* ... also when the search starts one second before the gap */
    { "America/New_York", "30 2 * * *", "2026-03-08T01:59:59-05:00",
      "2026-03-08T03:00:00-04:00" },
    { "America/New_York", "0 30 2 8 3 *", "2026-01-01T00:00:00-05:00",
      "2026-03-08T03:00:00-04:00" },
    { "America/New_York", "0 2 * * *", "2026-03-07T12:00:00-05:00",
      "2026-03-08T03:00:00-04:00" },
    /* ... and merges with a tick due at that instant */
    { "America/New_York", "0 2,3 * * *", "2026-03-08T03:00:00-04:00",
      "2026-03-09T02:00:00-04:00" },
    /* a wildcard spec skips the missing times */
    { "America/New_York", "*/30 * * * *", "2026-03-08T01:30:00-05:00",
      "2026-03-08T03:00:00-04:00" },
    { "America/New_York", "30 * * * *", "2026-03-08T01:30:00-05:00",
      "2026-03-08T03:30:00-04:00" },
    { "America/New_York", "@hourly", "2026-03-08T01:00:00-05:00",
      "2026-03-08T03:00:00-04:00" },
    /* DST overlap: 2026-11-01 02:00 EDT -> 01:00 EST.  A fixed time in the
     * repeated hour fires once, at its first occurrence ... */
    { "America/New_York", "30 1 * * *", "2026-10-31T12:00:00-04:00",
      "2026-11-01T01:30:00-04:00" },
    { "America/New_York", "30 1 * * *", "2026-11-01T01:30:00-04:00",
      "2026-11-02T01:30:00-05:00" },
    { "America/New_York", "30 1 * * *", "2026-11-01T01:10:00-05:00",
      "2026-11-02T01:30:00-05:00" },
    /* ... a wildcard spec fires at both */
    { "America/New_York", "30 * * * *", "2026-11-01T01:30:00-04:00",
      "2026-11-01T01:30:00-05:00" },
    { "America/New_York", "*/1 * * * *", "2026-11-01T01:59:00-04:00",
      "2026-11-01T01:00:00-05:00" },
    { "America/New_York", "@hourly", "2026-11-01T01:00:00-04:00",
      "2026-11-01T01:00:00-05:00" },
    /* a fixed time just after the repeated hour is untouched */
    { "America/New_York", "0 2 * * *", "2026-11-01T00:00:00-04:00",
      "2026-11-01T02:00:00-05:00" },
    /* southern hemisphere: Sydney leaves DST 2026-04-05 03:00 -> 02:00 */
    { "Australia/Sydney", "30 2 * * *", "2026-04-04T12:00:00+11:00",
      "2026-04-05T02:30:00+11:00" },
    { "Australia/Sydney", "30 2 * * *", "2026-04-05T02:30:00+11:00",
      "2026-04-06T02:30:00+10:00" },
    /* far future: beyond the last transition stored in the file */
    { "America/New_York", "30 2 * * *", "2050-03-12T12:00:00-05:00",
      "2050-03-13T03:00:00-04:00" },
    { "Europe/London", "30 1 * * *", "2061-03-27T00:00:00Z",
      "2061-03-27T02:00:00+01:00" },
};

/* ---- the last tick at or before ------------------------------------------ */

static const struct {
    const char *tz, *spec, *at, *expect;
} prevs[] = {
    { "UTC", "*/1 * * * *", "2026-11-25T16:30:59Z", "2026-11-25T16:30:00Z" },
    { "UTC", "*/1 * * * *", "2026-11-25T16:30:00Z", "2026-11-25T16:30:00Z" },
    { "UTC", "* * * * * *", "2026-11-25T16:30:07Z", "2026-11-25T16:30:07Z" },
    { "UTC", "@every 7s", "1970-01-01T00:00:13Z", "1970-01-01T00:00:07Z" },
    { "UTC", "0 0 29 2 *", "2027-06-01T00:00:00Z", "2024-02-29T00:00:00Z" },
    { "Asia/Shanghai", "0 9 * * MON", "2026-11-25T00:00:00Z",
      "2026-11-23T09:00:00+08:00" },
    { "America/New_York", "30 2 * * *", "2026-03-08T12:00:00-04:00",
      "2026-03-08T03:00:00-04:00" },
};

/* ---- parse errors ------------------------------------------------------------ */

static const struct {
    const char *spec, *err;
} bad[] = {
    { "* * * *", "expected 5 fields" },
    { "* * * * * * *", "expected 5 fields" },
    { "60 * * * *", "field 1 (minutes): \"60\" is out of range 0-59" },
    { "0 24 * * *", "field 2 (hours): \"24\" is out of range 0-23" },
    { "0 0 0 * *", "field 3 (day of month)" },
    { "0 0 * 13 *", "field 4 (month)" },
    { "0 0 * * 8", "field 5 (day of week)" },
    { "61 * * * * *", "field 1 (seconds)" },
    { "*/0 * * * *", "step 0 is out of range" },
    { "5-1 * * * *", "goes backwards" },
    { "a * * * *", "cannot parse \"a\"" },
    { "1,,2 * * * *", "cannot parse" },
    { "? * * * *", "cannot parse" },
    { "0 0 * FOO *", "cannot parse" },
    { "@every", "unknown descriptor" },
    { "@every 0s", "at least 1s" },
    { "@every 1500ms", "whole seconds" },
    { "@every 5x", "bad duration" },
    { "@fortnightly", "unknown descriptor" },
    { "", "expected 5 fields" },
};

static void
test_zone_vs_glibc(const char *name)
{
    cron_tz_t  *tz = zone(name);
    struct tm   tm;
    time_t      tt;
    int64_t     t, ch, bad_at = 0;
    int         mism = 0, n = 0, chm = 0;
    char        buf[64];

    setenv("TZ", name, 1);
    tzset();
    for (t = iso("1960-01-01T00:00:00Z"); t < iso("2090-01-01T00:00:00Z");
         t += 86400 * 3 + 3607)
    {
        tt = (time_t) t;
        localtime_r(&tt, &tm);
        n++;
        if (tm.tm_gmtoff != cron_tz_offset(tz, t) && mism++ == 0) {
            bad_at = t;
        }
    }
    /* every change the reader reports is a real change or a no-op, and
     * the offset is constant up to it */
    for (t = iso("1990-01-01T00:00:00Z"); t < iso("2080-01-01T00:00:00Z");
         t = ch)
    {
        ch = cron_tz_next_change(tz, t);
        if (ch == INT64_MAX) {
            break;
        }
        tt = (time_t) (ch - 1);
        localtime_r(&tt, &tm);
        if (tm.tm_gmtoff != cron_tz_offset(tz, t)
            || cron_tz_prev_change(tz, ch) != ch
            || cron_tz_prev_change(tz, ch - 1) >= ch)
        {
            chm++;
        }
    }
    fmt_utc(bad_at, buf, sizeof(buf));
    CHECK(mism == 0 && chm == 0, "zone %s agrees with glibc (first mismatch: "
       "%s, bad changes %s)", name, mism ? buf : "none", chm ? "yes" : "no");
    (void) n;
}

int
main(void)
{
    static const char *const zones[] = {
        "UTC", "America/New_York", "Asia/Shanghai", "Europe/London",
        "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo",
        "Pacific/Apia", "Europe/Dublin", "Africa/Casablanca",
        "America/Santiago", "Pacific/Chatham"
    };
    cron_spec_t  s;
    char         err[256], got[64], want[64], what[256];
    size_t       i;
    int64_t      n;

    for (i = 0; i < sizeof(nexts) / sizeof(nexts[0]); i++) {
        if (cron_spec_parse(&s, nexts[i].spec, err, sizeof(err)) != 0) {
            CHECK(0, "parse \"%s\": %s", nexts[i].spec, err);
            continue;
        }
        n = cron_spec_next(&s, zone(nexts[i].tz), iso(nexts[i].after));
        fmt_utc(n, got, sizeof(got));
        fmt_utc(iso(nexts[i].expect), want, sizeof(want));
        snprintf(what, sizeof(what), "%s \"%s\" after %s", nexts[i].tz,
                 nexts[i].spec, nexts[i].after);
        CHECK(n == iso(nexts[i].expect), "%s -> %s (want %s)", what, got, want);
    }
    for (i = 0; i < sizeof(prevs) / sizeof(prevs[0]); i++) {
        if (cron_spec_parse(&s, prevs[i].spec, err, sizeof(err)) != 0) {
            CHECK(0, "parse \"%s\": %s", prevs[i].spec, err);
            continue;
        }
        n = cron_spec_prev(&s, zone(prevs[i].tz), iso(prevs[i].at));
        fmt_utc(n, got, sizeof(got));
        fmt_utc(iso(prevs[i].expect), want, sizeof(want));
        snprintf(what, sizeof(what), "%s \"%s\" at or before %s",
                 prevs[i].tz, prevs[i].spec, prevs[i].at);
        CHECK(n == iso(prevs[i].expect), "%s -> %s (want %s)", what, got, want);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        n = cron_spec_parse(&s, bad[i].spec, err, sizeof(err));
        CHECK(n == -1 && strstr(err, bad[i].err) != NULL,
           "bad spec \"%s\": %s (want %s)", bad[i].spec, err, bad[i].err);
    }
    for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        test_zone_vs_glibc(zones[i]);
    }
    CHECK(cron_tz_load("Mars/Olympus_Mons", NULL, err, sizeof(err)) == NULL
       && strstr(err, "unknown time zone") != NULL, "unknown zone: %s", err);
    CHECK(cron_tz_load("../etc/passwd", NULL, err, sizeof(err)) == NULL,
       "zone name with ..: %s", err);
    CHECK(cron_tz_load("zone.tab", NULL, err, sizeof(err)) == NULL,
       "not a TZif file: %s", err);
    return UNIT_DONE();
}
