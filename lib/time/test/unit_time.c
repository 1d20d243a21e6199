/*
 * Unit tests of lib/time: the duration parser in both forms (looklook's and
 * Go's, which cron's "@every" reads) and the clocks' units.
 */
#include <stdint.h>

#include "lt_clock.h"
#include "lt_duration.h"
#include "unit.h"

typedef struct {
    const char  *in;
    int          rc;
    int64_t      ms;
} dur_case_t;

static void
durations(lt_dur_form_e form, const char *name, const dur_case_t *c, size_t n)
{
    size_t   i;
    int64_t  ms;
    int      rc;

    for (i = 0; i < n; i++) {
        ms = -42;
        rc = lt_duration_parse(c[i].in, form, &ms);
        if (c[i].rc == 0) {
            CHECK(rc == 0 && ms == c[i].ms, "%s \"%s\" = %lld ms (got %d, %lld)",
                  name, c[i].in, (long long) c[i].ms, rc, (long long) ms);
        } else {
            CHECK(rc == -1 && ms == -42, "%s \"%s\" refused, *ms untouched",
                  name, c[i].in);
        }
    }
}

int
main(void)
{
    static const dur_case_t  looklook[] = {
        { "250ms", 0, 250 }, { "1m30s", 0, 90000 }, { "1.5s", 0, 1500 },
        { "2d", 0, 172800000 }, { "10", 0, 10000 }, { "  5s", 0, 5000 },
        { ".5s", 0, 500 }, { "0", 0, 0 },
        { "", -1, 0 }, { "1ns", -1, 0 }, { "1us", -1, 0 }, { "-1s", -1, 0 },
        { "+1s", -1, 0 }, { "0x10s", -1, 0 }, { "1e3s", -1, 0 },
        { "inf", -1, 0 }, { "1.2.3s", -1, 0 }, { "5 m", -1, 0 },
        { "1ms2", -1, 0 }, { "1s ", -1, 0 }, { "99999999999999999999d", -1, 0 },
    };
    static const dur_case_t  go[] = {
        { "1h30m", 0, 5400000 }, { "45s", 0, 45000 }, { "1.5h", 0, 5400000 },
        { "1500ms", 0, 1500 }, { "2500us", 0, 3 }, { "1500\xc2\xb5s", 0, 2 },
        { "999999ns", 0, 1 }, { "0", 0, 0 }, { "0s", 0, 0 },
        { "10", -1, 0 }, { "1d", -1, 0 }, { " 5s", -1, 0 }, { "-5s", -1, 0 },
        { "", -1, 0 }, { "5x", -1, 0 }, { "s", -1, 0 },
    };
    int64_t  a, b;

    durations(LT_DUR_LOOKLOOK, "looklook", looklook,
              sizeof(looklook) / sizeof(looklook[0]));
    durations(LT_DUR_GO, "go", go, sizeof(go) / sizeof(go[0]));

    a = lt_now_ns() / 1000000;
    b = lt_now_ms();
    CHECK(b >= a && b - a < 60000, "lt_now_ms and lt_now_ns count alike");
    a = lt_mono_ns() / 1000000;
    b = lt_mono_ms();
    CHECK(b >= a && b - a < 60000, "lt_mono_ms and lt_mono_ns count alike");
    return UNIT_DONE();
}
