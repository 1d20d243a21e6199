/*
 * cron_spec: the spec parser and the tick search.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cron_spec.h"
#include "lt_duration.h"

#define HORIZON_DAYS  (366 * 10)    /* "never" beyond this */

typedef struct {
    const char     *what;
    int             lo, hi;
    const char     *const *names;   /* names[i] stands for lo + i */
} field_def_t;

static const char *const month_names[] = {
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
    "NOV", "DEC", NULL
};
static const char *const dow_names[] = {
    "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL
};

/* In order of the six-field form. */
static const field_def_t fields[6] = {
    { "seconds", 0, 59, NULL },
    { "minutes", 0, 59, NULL },
    { "hours", 0, 23, NULL },
    { "day of month", 1, 31, NULL },
    { "month", 1, 12, month_names },
    { "day of week", 0, 7, dow_names },     /* 7 is folded onto 0 */
};

static const struct {
    const char     *name;
    const char     *spec;
} descriptors[] = {
    { "@yearly", "0 0 0 1 1 *" },
    { "@annually", "0 0 0 1 1 *" },
    { "@monthly", "0 0 0 1 * *" },
    { "@weekly", "0 0 0 * * 0" },
    { "@daily", "0 0 0 * * *" },
    { "@midnight", "0 0 0 * * *" },
    { "@hourly", "0 0 * * * *" },
};

/* A number or a name of field f at *p; advances *p.  -1 if neither. */
static int
field_value(const field_def_t *f, const char **p)
{
    const char *s = *p;
    char       *end;
    long        v;
    int         i;

    if (isdigit((unsigned char) *s)) {
        v = strtol(s, &end, 10);
        *p = end;
        return v > 1000 ? 1000 : (int) v;
    }
    for (i = 0; f->names != NULL && f->names[i] != NULL; i++) {
        if (strncasecmp(s, f->names[i], 3) == 0
            && !isalpha((unsigned char) s[3]))
        {
            *p = s + 3;
            return f->lo + i;
        }
    }
    return -1;
}

/* Parse one field text (NUL-terminated) into a bit set. */
static int
field_parse(const field_def_t *f, int num, int pos, const char *text,
    uint64_t *bits, char *err, size_t errlen)
{
    const char *p = text;
    int         lo, hi, step, v, star;

    *bits = 0;
    for (;;) {
        star = 0;
        if (*p == '*' || *p == '?') {
            if (*p == '?' && num != 3 && num != 5) {
                goto bad;
            }
            star = 1;
            lo = f->lo;
            hi = f->hi;
            p++;
        } else {
            if ((lo = field_value(f, &p)) < 0) {
                goto bad;
            }
            hi = lo;
            if (*p == '-') {
                p++;
                if ((hi = field_value(f, &p)) < 0) {
                    goto bad;
                }
            }
        }
        step = 1;
        if (*p == '/') {
            p++;
            if (!isdigit((unsigned char) *p)) {
                goto bad;
            }
            step = (int) strtol(p, (char **) &p, 10);
            if (step < 1 || step > f->hi - f->lo + 1) {
                snprintf(err, errlen, "field %d (%s): step %d is out of "
                         "range 1-%d in \"%s\"", pos,
                         f->what, step, f->hi - f->lo + 1, text);
                return -1;
            }
            if (!star && hi == lo) {
                hi = f->hi;     /* "a/n": from a to the end */
            }
        }
        if (lo < f->lo || hi > f->hi || lo > f->hi || hi < f->lo) {
            snprintf(err, errlen, "field %d (%s): \"%s\" is out of range "
                     "%d-%d", pos, f->what, text, f->lo,
                     f->hi);
            return -1;
        }
        if (lo > hi) {
            snprintf(err, errlen, "field %d (%s): range \"%s\" goes "
                     "backwards", pos, f->what, text);
            return -1;
        }
        for (v = lo; v <= hi; v += step) {
            *bits |= (uint64_t) 1 << v;
        }
        if (*p == '\0') {
            break;
        }
        if (*p++ != ',') {
            goto bad;
        }
    }
    return 0;

bad:
    snprintf(err, errlen, "field %d (%s): cannot parse \"%s\"",
             pos, f->what, text);
    return -1;
}

int
cron_spec_parse(cron_spec_t *s, const char *spec, char *err, size_t errlen)
{
    char        buf[256], *tok[7], *save = NULL, *t;
    uint64_t    bits[6];
    int64_t     ms;
    size_t      i;
    int         n = 0, off;

    memset(s, 0, sizeof(*s));
    while (isspace((unsigned char) *spec)) {
        spec++;
    }
    if (strncmp(spec, "@every", 6) == 0 && isspace((unsigned char) spec[6])) {
        spec += 7;
        while (isspace((unsigned char) *spec)) {
            spec++;
        }
        snprintf(buf, sizeof(buf), "%s", spec);
        for (t = buf + strlen(buf); t > buf && isspace((unsigned char) t[-1]);)
        {
            *--t = '\0';
        }
        if (lt_duration_parse(buf, LT_DUR_GO, &ms) != 0) {
            snprintf(err, errlen, "@every: bad duration \"%s\" (e.g. 30s, "
                     "5m, 1h30m)", buf);
            return -1;
        }
        if (ms < 1000 || ms % 1000 != 0) {
            snprintf(err, errlen, "@every: \"%s\" must be whole seconds, at "
                     "least 1s", buf);
            return -1;
        }
        s->every = ms / 1000;
        return 0;
    }
    if (spec[0] == '@') {
        for (i = 0; i < sizeof(descriptors) / sizeof(descriptors[0]); i++) {
            if (strcmp(spec, descriptors[i].name) == 0) {
                return cron_spec_parse(s, descriptors[i].spec, err, errlen);
            }
        }
        snprintf(err, errlen, "unknown descriptor \"%s\"", spec);
        return -1;
    }
    if (strlen(spec) >= sizeof(buf)) {
        snprintf(err, errlen, "spec too long");
        return -1;
    }
    memcpy(buf, spec, strlen(spec) + 1);
    for (t = strtok_r(buf, " \t", &save); t != NULL;
         t = strtok_r(NULL, " \t", &save))
    {
        if (n == 7) {
            break;
        }
        tok[n++] = t;
    }
    if (n != 5 && n != 6) {
        snprintf(err, errlen, "expected 5 fields (minute hour day-of-month "
                 "month day-of-week) or 6 with seconds first, got %d", n);
        return -1;
    }
    off = n == 5;           /* five fields: no seconds, second 0 */
    bits[0] = 1;
    for (i = 0; i < (size_t) n; i++) {
        if (field_parse(&fields[i + off], (int) (i + off), (int) i + 1,
                        tok[i], &bits[i + off], err, errlen) != 0)
        {
            return -1;
        }
    }
    s->sec = bits[0];
    s->min = bits[1];
    s->hour = (uint32_t) bits[2];
    s->dom = (uint32_t) bits[3];
    s->mon = (uint16_t) bits[4];
    s->dow = (uint8_t) ((bits[5] | bits[5] >> 7) & 0x7f);
    s->dom_star = tok[3 - off][0] == '*' || tok[3 - off][0] == '?';
    s->dow_star = tok[5 - off][0] == '*' || tok[5 - off][0] == '?';
    s->fixed = tok[1 - off][0] != '*' && tok[2 - off][0] != '*';
    return 0;
}

/* ---- searching ----------------------------------------------------------- */

static int
day_matches(const cron_spec_t *s, int64_t days, int mday)
{
    int  wd = (int) ((days % 7 + 11) % 7);
    int  dom = (s->dom >> mday) & 1, dow = (s->dow >> wd) & 1;

    return s->dom_star || s->dow_star ? dom && dow : dom || dow;
}

/* The lowest set bit >= from in bits (below limit), or -1. */
static int
next_bit(uint64_t bits, int from, int limit)
{
    for (; from < limit; from++) {
        if (bits >> from & 1) {
            return from;
        }
    }
    return -1;
}

int64_t
cron_spec_next_civil(const cron_spec_t *s, int64_t from, int64_t to)
{
    int64_t  days, y, c = from;
    int      m, d, sod, h, mi, se;

    while (c <= to) {
        days = c >= 0 ? c / 86400 : -((-c + 86399) / 86400);
        sod = (int) (c - days * 86400);
        cron_civil_from_days(days, &y, &m, &d);
        if (!(s->mon >> m & 1)) {
            /* first day of the next month */
            c = cron_days_from_civil(y + (m == 12), m == 12 ? 1 : m + 1, 1)
                * 86400;
            continue;
        }
        if (!day_matches(s, days, d)) {
            c = (days + 1) * 86400;
            continue;
        }
        h = next_bit(s->hour, sod / 3600, 24);
        if (h < 0) {
            c = (days + 1) * 86400;
            continue;
        }
        if (h != sod / 3600) {
            c = days * 86400 + h * 3600;
            continue;
        }
        mi = next_bit(s->min, sod % 3600 / 60, 60);
        if (mi < 0) {
            c = days * 86400 + (h + 1) * 3600;
            continue;
        }
        if (mi != sod % 3600 / 60) {
            c = days * 86400 + h * 3600 + mi * 60;
            continue;
        }
        se = next_bit(s->sec, sod % 60, 60);
        if (se < 0) {
            c = days * 86400 + h * 3600 + (mi + 1) * 60;
            continue;
        }
        c = days * 86400 + h * 3600 + mi * 60 + se;
        return c <= to ? c : -1;
    }
    return -1;
}

/*
 * Walk the zone's segments of constant offset from `after` on.  In each,
 * the first matching wall-clock time maps to exactly one instant.  Fixed
 * specs skip the part of a segment whose wall-clock times were already
 * lived in the previous segment (the repeated hour after a fall-back), and
 * fire at the start of a segment when the gap before it swallowed a
 * matching time (spring-forward).
 */
int64_t
cron_spec_next(const cron_spec_t *s, const cron_tz_t *tz, int64_t after)
{
    int64_t  u, limit, seg_start, seg_end, c_from, c_to, c;
    int32_t  off, prev_off, new_off;

    if (s->every > 0) {
        return (after >= 0 ? after / s->every
                           : -((-after + s->every - 1) / s->every) )
               * s->every + s->every;
    }
    u = after + 1;
    limit = u + (int64_t) HORIZON_DAYS * 86400;
    seg_start = cron_tz_prev_change(tz, u);
    off = cron_tz_offset(tz, u);
    prev_off = seg_start == INT64_MIN ? off : cron_tz_offset(tz, seg_start - 1);
    if (s->fixed && seg_start == u && off > prev_off
        && cron_spec_next_civil(s, u + prev_off, u + off - 1) >= 0)
    {
        return u;       /* u ends a gap that swallowed a matching time */
    }

    while (u < limit) {
        seg_end = cron_tz_next_change(tz, u);
        c_from = u + off;
        if (s->fixed && prev_off > off && seg_start != INT64_MIN
            && c_from < seg_start + prev_off)
        {
            c_from = seg_start + prev_off;  /* repeated wall-clock times */
        }
        c_to = seg_end >= limit ? limit + off : seg_end - 1 + off;
        c = c_from <= c_to ? cron_spec_next_civil(s, c_from, c_to) : -1;
        if (c >= 0) {
            return c - off;
        }
        if (seg_end >= limit) {
            break;
        }
        new_off = cron_tz_offset(tz, seg_end);
        if (s->fixed && new_off > off
            && cron_spec_next_civil(s, seg_end + off,
                                    seg_end + new_off - 1) >= 0)
        {
            return seg_end;     /* a matching time fell into the gap */
        }
        prev_off = off;
        off = new_off;
        seg_start = seg_end;
        u = seg_end;
    }
    return CRON_NEVER;
}

/* Look back through growing windows, so a frequent spec walks few ticks
 * and a rare one few windows. */
int64_t
cron_spec_prev(const cron_spec_t *s, const cron_tz_t *tz, int64_t t)
{
    static const int64_t  windows[] = {
        60, 3600, 86400, 86400 * 32, 86400 * 367, 86400LL * HORIZON_DAYS
    };
    int64_t  x, y;
    size_t   i;

    if (s->every > 0) {
        return (t >= 0 ? t / s->every : -((-t + s->every - 1) / s->every))
               * s->every;
    }
    for (i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
        x = cron_spec_next(s, tz, t - windows[i] - 1);
        if (x > t) {
            continue;
        }
        while ((y = cron_spec_next(s, tz, x)) <= t) {
            x = y;
        }
        return x;
    }
    return CRON_NEVER;
}
