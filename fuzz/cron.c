/*
 * Fuzz target: the cron module's spec parser and tick search, in UTC and
 * in a time zone read from the input, and the duration parser (both forms)
 * on the spec text.  Input: the spec, then optionally a NUL byte and a
 * TZif image (loaded with cron_tz_load from a file, as the module reads
 * /usr/share/zoneinfo).
 *
 * Invariants for an accepted spec, from a few instants `a`:
 *   next(a) > a;  next(next(a) - 1) == next(a);  prev(next(a)) == next(a);
 *   prev(a) <= a;  @every ticks are multiples of the interval;
 *   next_civil(from, to) is -1 or within [from, to].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cron_spec.h"
#include "cron_tz.h"
#include "lt_duration.h"

static char        tz_dir[64], tz_path[96];
static cron_tz_t  *utc;

static void
remove_dir(void)
{
    unlink(tz_path);
    rmdir(tz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char  err[256];

    snprintf(tz_dir, sizeof(tz_dir), "/tmp/llfuzz-tz.XXXXXX");
    if (mkdtemp(tz_dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    snprintf(tz_path, sizeof(tz_path), "%s/Fuzz", tz_dir);
    atexit(remove_dir);
    utc = cron_tz_load("UTC", NULL, err, sizeof(err));
    if (utc == NULL) {
        fprintf(stderr, "%s (tzdata)\n", err);
        abort();
    }
    return 0;
}

static cron_tz_t *
load_zone(const uint8_t *data, size_t size)
{
    char   err[256];
    FILE  *f = fopen(tz_path, "wb");

    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror(tz_path);
        abort();
    }
    return cron_tz_load("Fuzz", tz_dir, err, sizeof(err));
}

static void
fail(const char *spec, const char *what, int64_t a, int64_t t)
{
    fprintf(stderr, "spec \"%s\": %s (a=%lld, t=%lld)\n", spec, what,
            (long long) a, (long long) t);
    abort();
}

static void
check_ticks(const cron_spec_t *s, const cron_tz_t *tz, const char *spec)
{
    /* instants a server may see (the search starts at the epoch) */
    static const int64_t  from[] = { 31536000 /* 1971 */,
                                     951782400 /* 2000-02-29 */,
                                     1774746000 /* 2026-03-29 01:00 */,
                                     4102444799 /* 2099-12-31 23:59:59 */ };
    int64_t  a, t, p;
    size_t   i;

    for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
        a = from[i];
        t = cron_spec_next(s, tz, a);
        if (t == CRON_NEVER) {
            continue;
        }
        if (t <= a) {
            fail(spec, "next is not after", a, t);
        }
        if (s->every > 0 && t % s->every != 0) {
            fail(spec, "@every tick off the interval", a, t);
        }
        if (cron_spec_next(s, tz, t - 1) != t) {
            fail(spec, "next(next - 1) differs", a, t);
        }
        if (cron_spec_prev(s, tz, t) != t) {
            fail(spec, "prev(next) differs", a, t);
        }
        p = cron_spec_prev(s, tz, a);
        if (p != CRON_NEVER && p > a) {
            fail(spec, "prev is after", a, p);
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t  *nul = memchr(data, '\0', size);
    size_t          slen = nul ? (size_t) (nul - data) : size;
    cron_spec_t     s, again;
    cron_tz_t      *tz = NULL;
    char           *spec, err[256];
    int64_t         ms, c;

    spec = strndup((const char *) data, slen);
    if (spec == NULL) {
        return 0;
    }
    /* the duration parser @every and the config use: never negative */
    if ((lt_duration_parse(spec, LT_DUR_GO, &ms) == 0 && ms < 0)
        || (lt_duration_parse(spec, LT_DUR_LOOKLOOK, &ms) == 0 && ms < 0))
    {
        fail(spec, "negative duration", 0, ms);
    }
    if (cron_spec_parse(&s, spec, err, sizeof(err)) != 0) {
        if (err[0] == '\0') {
            fail(spec, "refused without a reason", 0, 0);
        }
        free(spec);
        return 0;
    }
    /* the same text parses to the same spec */
    if (cron_spec_parse(&again, spec, err, sizeof(err)) != 0
        || memcmp(&s, &again, sizeof(s)) != 0)
    {
        fail(spec, "parse is not repeatable", 0, 0);
    }
    if (s.every == 0) {
        c = cron_spec_next_civil(&s, 86400, 86400 * 400);
        if (c != -1 && (c < 86400 || c > 86400 * 400)) {
            fail(spec, "next_civil out of its window", 86400, c);
        }
    }
    check_ticks(&s, utc, spec);
    if (nul != NULL && (tz = load_zone(nul + 1, size - slen - 1)) != NULL) {
        check_ticks(&s, tz, spec);
        cron_tz_free(tz);
    }
    free(spec);
    return 0;
}
