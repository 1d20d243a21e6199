/*
 * cron_tz: a reader for TZif files (RFC 8536) and their POSIX TZ footer.
 *
 * Only what cron needs: the UT offset at an instant and the instants where
 * it changes.  Abbreviations, leap seconds and the std/ut indicators are
 * skipped.  The 64-bit (version 2+) data block is used when present.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron_tz.h"

#define TZ_MAX_FILE  (1 << 20)

/* ---- calendar arithmetic (proleptic Gregorian, days since 1970) ------ */

int64_t
cron_days_from_civil(int64_t y, int m, int d)
{
    int64_t  era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void
cron_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t  era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t y, int m)
{
    static const int  n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return m == 2 && is_leap(y) ? 29 : n[m - 1];
}

/* ---- the POSIX TZ footer ("EST5EDT,M3.2.0,M11.1.0") ------------------ */

static const char *
tz_parse_name(const char *p)
{
    if (*p == '<') {
        p = strchr(p, '>');
        return p == NULL ? NULL : p + 1;
    }
    while (isalpha((unsigned char) *p)) {
        p++;
    }
    return p;
}

/* [+-]hh[:mm[:ss]] into seconds; hours up to 167 (TZif v3). */
static const char *
tz_parse_time(const char *p, int32_t *secs)
{
    int   sign = 1, part = 0, v[3] = { 0, 0, 0 };
    char *end;
    long  n;

    if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
    }
    for (;;) {
        if (!isdigit((unsigned char) *p)) {
            return NULL;
        }
        n = strtol(p, &end, 10);
        if (n > (part == 0 ? 167 : 59)) {
            return NULL;
        }
        v[part++] = (int) n;
        p = end;
        if (*p != ':' || part == 3) {
            break;
        }
        p++;
    }
    *secs = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    return p;
}

static const char *
tz_parse_rule(const char *p, cron_tz_rule_t *r)
{
    char *end;

    r->secs = 7200;
    if (*p == 'M') {
        r->kind = 'M';
        r->month = (int) strtol(p + 1, &end, 10);
        if (*end != '.') {
            return NULL;
        }
        r->week = (int) strtol(end + 1, &end, 10);
        if (*end != '.') {
            return NULL;
        }
        r->wday = (int) strtol(end + 1, &end, 10);
        if (r->month < 1 || r->month > 12 || r->week < 1 || r->week > 5
            || r->wday < 0 || r->wday > 6)
        {
            return NULL;
        }
    } else if (*p == 'J' || isdigit((unsigned char) *p)) {
        r->kind = *p == 'J' ? 'J' : 'D';
        r->day = (int) strtol(p + (*p == 'J'), &end, 10);
        if (end == p + (*p == 'J') || r->day < (r->kind == 'J')
            || r->day > 365)
        {
            return NULL;
        }
    } else {
        return NULL;
    }
    p = end;
    if (*p == '/') {
        p = tz_parse_time(p + 1, &r->secs);
    }
    return p;
}

static int
tz_parse_footer(cron_tz_t *tz, const char *s)
{
    const char *p;
    int32_t     off;

    p = tz_parse_name(s);
    if (p == NULL || p == s || (p = tz_parse_time(p, &off)) == NULL) {
        return -1;
    }
    tz->std_off = -off;
    tz->dst_off = tz->std_off;
    tz->has_rule = 1;
    if (*p == '\0') {
        return 0;
    }
    s = p;
    p = tz_parse_name(p);
    if (p == NULL || p == s) {
        return -1;
    }
    tz->has_dst = 1;
    tz->dst_off = tz->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if ((p = tz_parse_time(p, &off)) == NULL) {
            return -1;
        }
        tz->dst_off = -off;
    }
    if (*p == '\0') {
        /* POSIX leaves it to the implementation; glibc uses the US rule */
        p = ",M3.2.0,M11.1.0";
    }
    if (*p != ',' || (p = tz_parse_rule(p + 1, &tz->start)) == NULL
        || *p != ',' || (p = tz_parse_rule(p + 1, &tz->end)) == NULL
        || *p != '\0')
    {
        return -1;
    }
    return 0;
}

/* The instant a rule date of year y happens, given the offset in force. */
static int64_t
tz_rule_instant(const cron_tz_rule_t *r, int64_t y, int32_t off)
{
    int64_t  days;
    int      first_wd, md;

    days = cron_days_from_civil(y, 1, 1);
    switch (r->kind) {
    case 'J':
        days += r->day - 1 + (is_leap(y) && r->day >= 60);
        break;
    case 'D':
        days += r->day;
        break;
    default:
        days = cron_days_from_civil(y, r->month, 1);
        first_wd = (int) ((days % 7 + 11) % 7);     /* 1970-01-01: Thu */
        md = (r->wday - first_wd + 7) % 7 + (r->week - 1) * 7;
        while (md >= month_days(y, r->month)) {
            md -= 7;
        }
        days += md;
        break;
    }
    return days * 86400 + r->secs - off;
}

static void
tz_rule_year(const cron_tz_t *tz, int64_t y, int64_t *s, int64_t *e)
{
    *s = tz_rule_instant(&tz->start, y, tz->std_off);
    *e = tz_rule_instant(&tz->end, y, tz->dst_off);
}

static int64_t
tz_year_of(const cron_tz_t *tz, int64_t t)
{
    int64_t  y;
    int      m, d;

    cron_civil_from_days(floor_div(t + tz->std_off, 86400), &y, &m, &d);
    return y;
}

static int32_t
tz_rule_offset(const cron_tz_t *tz, int64_t t)
{
    int64_t  s, e;

    if (!tz->has_dst) {
        return tz->std_off;
    }
    tz_rule_year(tz, tz_year_of(tz, t), &s, &e);
    if (s < e) {
        return t >= s && t < e ? tz->dst_off : tz->std_off;
    }
    return t < e || t >= s ? tz->dst_off : tz->std_off;
}

/* ---- loading ----------------------------------------------------------- */

static uint32_t
be32(const unsigned char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
    return (int64_t) ((uint64_t) be32(p) << 32 | be32(p + 4));
}

static int
tz_valid_name(const char *name)
{
    const char *p;

    if (name[0] == '\0' || name[0] == '/' || strstr(name, "..") != NULL) {
        return 0;
    }
    for (p = name; *p; p++) {
        if (!isalnum((unsigned char) *p) && strchr("/_+-", *p) == NULL) {
            return 0;
        }
    }
    return 1;
}

/* Parse the TZif image buf[0..len) into tz.  Returns NULL or a reason. */
static const char *
tz_parse(cron_tz_t *tz, const unsigned char *buf, size_t len)
{
    const unsigned char *p = buf, *end = buf + len, *data;
    uint32_t             isut, isstd, leap, timecnt, typecnt, charcnt;
    size_t               tsize, need, i;
    const char          *footer, *nl;
    char                *text;
    int                  v2, rc;

    if (len < 44 || memcmp(p, "TZif", 4) != 0) {
        return "not a TZif file";
    }
    v2 = p[4] >= '2';
    for (;;) {
        isut = be32(p + 20);
        isstd = be32(p + 24);
        leap = be32(p + 28);
        timecnt = be32(p + 32);
        typecnt = be32(p + 36);
        charcnt = be32(p + 40);
        tsize = v2 && p != buf ? 8 : 4;
        need = 44 + timecnt * tsize + timecnt + typecnt * 6 + charcnt
               + leap * (tsize + 4) + isstd + isut;
        if (timecnt > 100000 || typecnt == 0 || typecnt > 256
            || (size_t) (end - p) < need)
        {
            return "truncated or corrupt TZif file";
        }
        if (v2 && p == buf) {
            p += need;              /* skip the 32-bit block */
            if (end - p < 44 || memcmp(p, "TZif", 4) != 0) {
                return "corrupt TZif version 2 header";
            }
            continue;
        }
        break;
    }

    data = p + 44;
    tz->trans = malloc((timecnt ? timecnt : 1) * sizeof(int64_t));
    tz->idx = malloc(timecnt ? timecnt : 1);
    tz->utoff = malloc(typecnt * sizeof(int32_t));
    if (tz->trans == NULL || tz->idx == NULL || tz->utoff == NULL) {
        return "out of memory";
    }
    tz->ntrans = timecnt;
    tz->ntypes = typecnt;
    for (i = 0; i < timecnt; i++) {
        tz->trans[i] = tsize == 8 ? be64(data + i * 8)
                                  : (int32_t) be32(data + i * 4);
        if (i > 0 && tz->trans[i] <= tz->trans[i - 1]) {
            return "TZif transitions out of order";
        }
    }
    data += timecnt * tsize;
    for (i = 0; i < timecnt; i++) {
        tz->idx[i] = data[i];
        if (data[i] >= typecnt) {
            return "TZif type index out of range";
        }
    }
    data += timecnt;
    for (i = 0; i < typecnt; i++) {
        tz->utoff[i] = (int32_t) be32(data + i * 6);
    }

    if (!v2) {
        return NULL;
    }
    footer = (const char *) p + need;
    if ((const unsigned char *) footer >= end || *footer != '\n') {
        return NULL;
    }
    footer++;
    nl = memchr(footer, '\n', (size_t) ((const char *) end - footer));
    if (nl == NULL) {
        return "TZif footer not terminated";
    }
    if (nl == footer) {
        return NULL;
    }
    text = strndup(footer, (size_t) (nl - footer));
    if (text == NULL) {
        return "out of memory";
    }
    rc = tz_parse_footer(tz, text);
    free(text);
    return rc == 0 ? NULL : "TZif footer is not a valid POSIX TZ string";
}

cron_tz_t *
cron_tz_load(const char *name, const char *dir, char *err, size_t errlen)
{
    cron_tz_t      *tz;
    unsigned char  *buf;
    const char     *why;
    char            path[4096];
    FILE           *f;
    size_t          len;

    if (!tz_valid_name(name)) {
        snprintf(err, errlen, "invalid time zone name \"%s\"", name);
        return NULL;
    }
    if (dir == NULL) {
        dir = getenv("TZDIR");
        if (dir == NULL || dir[0] == '\0') {
            dir = "/usr/share/zoneinfo";
        }
    }
    if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, name)
        >= sizeof(path))
    {
        snprintf(err, errlen, "time zone name too long");
        return NULL;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "unknown time zone \"%s\" (%s: %s)", name, path,
                 strerror(errno));
        return NULL;
    }
    buf = malloc(TZ_MAX_FILE);
    tz = calloc(1, sizeof(cron_tz_t));
    len = buf != NULL ? fread(buf, 1, TZ_MAX_FILE, f) : 0;
    fclose(f);
    why = buf == NULL || tz == NULL ? "out of memory"
          : len == TZ_MAX_FILE ? "file too large"
          : NULL;
    if (why == NULL && (tz->name = strdup(name)) == NULL) {
        why = "out of memory";
    }
    if (why == NULL) {
        why = tz_parse(tz, buf, len);
    }
    free(buf);
    if (why != NULL) {
        snprintf(err, errlen, "time zone \"%s\": %s", name, why);
        cron_tz_free(tz);
        return NULL;
    }
    return tz;
}

void
cron_tz_free(cron_tz_t *tz)
{
    if (tz == NULL) {
        return;
    }
    free(tz->name);
    free(tz->trans);
    free(tz->idx);
    free(tz->utoff);
    free(tz);
}

/* ---- queries ----------------------------------------------------------- */

/* Index of the last transition <= t, or -1. */
static ptrdiff_t
tz_find(const cron_tz_t *tz, int64_t t)
{
    size_t  lo = 0, hi = tz->ntrans, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return (ptrdiff_t) lo - 1;
}

static int
tz_in_rule(const cron_tz_t *tz, int64_t t)
{
    return tz->has_rule
           && (tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1]);
}

int32_t
cron_tz_offset(const cron_tz_t *tz, int64_t t)
{
    ptrdiff_t  i;

    if (tz_in_rule(tz, t)) {
        return tz_rule_offset(tz, t);
    }
    i = tz_find(tz, t);
    return tz->utoff[i < 0 ? 0 : tz->idx[i]];
}

int64_t
cron_tz_next_change(const cron_tz_t *tz, int64_t t)
{
    int64_t  y, s, e, best = INT64_MAX;
    int      k;

    if (tz->ntrans > 0 && t < tz->trans[tz->ntrans - 1]) {
        return tz->trans[tz_find(tz, t) + 1];
    }
    if (!tz->has_rule || !tz->has_dst) {
        return INT64_MAX;
    }
    y = tz_year_of(tz, t);
    for (k = -1; k <= 1; k++) {
        tz_rule_year(tz, y + k, &s, &e);
        if (s > t && s < best) {
            best = s;
        }
        if (e > t && e < best) {
            best = e;
        }
    }
    return best;
}

int64_t
cron_tz_prev_change(const cron_tz_t *tz, int64_t t)
{
    int64_t    y, s, e, best;
    ptrdiff_t  i;
    int        k;

    if (tz->ntrans > 0 && t < tz->trans[tz->ntrans - 1]) {
        i = tz_find(tz, t);
        return i < 0 ? INT64_MIN : tz->trans[i];
    }
    best = tz->ntrans > 0 ? tz->trans[tz->ntrans - 1] : INT64_MIN;
    if (!tz->has_rule || !tz->has_dst) {
        return best;
    }
    y = tz_year_of(tz, t);
    for (k = -1; k <= 1; k++) {
        tz_rule_year(tz, y + k, &s, &e);
        if (s <= t && s > best) {
            best = s;
        }
        if (e <= t && e > best) {
            best = e;
        }
    }
    return best;
}
