/*
 * lt_duration: duration texts in looklook's form and in Go's (lt_duration.h).
 */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "lt_duration.h"

typedef struct {
    const char  *unit;
    double       ms;
    int          go;        /* Go knows it */
    int          looklook;  /* looklook's form knows it */
} lt_unit_t;

/* longer names first: "m" must not take the "m" of "ms" */
static const lt_unit_t  lt_units[] = {
    { "ns", 1e-6, 1, 0 }, { "us", 1e-3, 1, 0 }, { "\xc2\xb5s", 1e-3, 1, 0 },
    { "ms", 1, 1, 1 }, { "s", 1000, 1, 1 }, { "m", 60000, 1, 1 },
    { "h", 3600000, 1, 1 }, { "d", 86400000, 0, 1 },
};

/* A duration's number: digits with at most one decimal point, at least one
 * digit (strtod would also take blanks, signs, exponents, hex and "inf").
 * *s moves past it.  0, or -1 if there is none. */
static int
lt_number(const char **s, double *v)
{
    const char  *p = *s;
    double       scale = 1;
    int          digits = 0, point = 0;

    *v = 0;
    for (;; p++) {
        if (isdigit((unsigned char) *p)) {
            if (point) {
                scale /= 10;
                *v += (*p - '0') * scale;
            } else {
                *v = *v * 10 + (*p - '0');
            }
            digits++;
        } else if (*p == '.' && !point) {
            point = 1;
        } else {
            break;
        }
    }
    if (digits == 0 || !isfinite(*v)) {
        return -1;
    }
    *s = p;
    return 0;
}

int
lt_duration_parse(const char *s, lt_dur_form_e form, int64_t *ms)
{
    const lt_unit_t  *u;
    double            total = 0, v;
    size_t            i, n;
    int               parts = 0;

    if (form == LT_DUR_LOOKLOOK) {
        while (isspace((unsigned char) *s)) {
            s++;
        }
    } else if (strcmp(s, "0") == 0) {
        *ms = 0;
        return 0;
    }
    if (*s == '\0') {
        return -1;
    }
    while (*s != '\0') {
        if (lt_number(&s, &v) != 0) {
            return -1;
        }
        if (*s == '\0' && parts == 0 && form == LT_DUR_LOOKLOOK) {
            total = v * 1000;       /* a bare number is seconds */
            break;
        }
        u = NULL;
        for (i = 0; i < sizeof(lt_units) / sizeof(lt_units[0]); i++) {
            n = strlen(lt_units[i].unit);
            if (strncmp(s, lt_units[i].unit, n) == 0
                && (form == LT_DUR_GO ? lt_units[i].go : lt_units[i].looklook))
            {
                u = &lt_units[i];
                break;
            }
        }
        if (u == NULL) {
            return -1;
        }
        total += v * u->ms;
        s += n;
        parts++;
    }
    if (total > 9.2e18) {
        return -1;
    }
    *ms = (int64_t) llround(total);
    return 0;
}
