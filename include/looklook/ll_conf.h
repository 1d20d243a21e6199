/*
 * looklook module config schema.
 *
 * A module declares its settings as an array of ll_conf_field_t built with
 * the LL_SET_* macros below; the core checks each module entry of
 * looklook.conf against it (unknown key, wrong type, out of range, not one
 * of the choices, missing required value: an error with the setting's file
 * and line), fills the module's conf struct, and prints the schema for
 * `looklook -m`.
 *
 * The macros take the conf struct and the member, check at compile time
 * that the member has the C type the core writes (a wrong-typed member is
 * a compile error, not a corrupted neighbour), and fill its offset and
 * size; the loader refuses a schema whose sizes do not match.  They need
 * C11 (_Static_assert, _Generic).
 */
#ifndef LL_CONF_H_INCLUDED
#define LL_CONF_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef struct ll_conf_node_s  ll_conf_node_t;  /* opaque */

typedef enum {
    LL_CONF_STR = 1,    /* char *: owned by the core, valid until fini */
    LL_CONF_INT,        /* int64_t */
    LL_CONF_BOOL,       /* int: 0 or 1 */
    LL_CONF_DOUBLE,     /* double */
    LL_CONF_DURATION,   /* int64_t ms: a number (seconds) or "250ms" "30s"
                         * "5m" "2h" "1d" and sums like "1m30s" */
    LL_CONF_NODE        /* const ll_conf_node_t *: a group or list, read
                         * with ll_conf_* (ll_api.h); valid in init only */
} ll_conf_type_e;

#define LL_CONF_REQUIRED  0x1

typedef struct {
    const char         *name;       /* key in the module's entry */
    int                 type;       /* ll_conf_type_e */
    unsigned            flags;      /* LL_CONF_REQUIRED */
    const char         *def;        /* default as text (not for NODE); NULL none */
    size_t              offset;     /* of the member in the conf struct */
    size_t              size;       /* of the member: checked against type */
    const char         *help;       /* one line */
    /* INT, DOUBLE, DURATION (in ms): the value must lie in [min, max];
     * both 0: no bounds.  Exact for integers up to 2^53. */
    double              min, max;
    /* STR: NULL, or the NULL-terminated list of values allowed */
    const char *const  *choices;
} ll_conf_field_t;

/* offsetof(st, m), when st.m has type ctype; else a compile error */
#define LL__CONF_AT(st, m, ctype)                                           \
    (offsetof(st, m) + 0 * sizeof(struct {                                  \
        _Static_assert(_Generic(((st *) 0)->m, ctype: 1, default: 0),      \
                       "setting " #st "." #m " must be declared " #ctype);  \
        int ll__unused; }))

#define LL__SET(t, ctype, st, m, key, fl, dflt, lo, hi, ch, text)           \
    { .name = (key), .type = (t), .flags = (fl), .def = (dflt),            \
      .offset = LL__CONF_AT(st, m, ctype), .size = sizeof(((st *) 0)->m),  \
      .help = (text), .min = (lo), .max = (hi), .choices = (ch) }

/* A string (char *member). */
#define LL_SET_STR(st, m, key, flags, def, help)                            \
    LL__SET(LL_CONF_STR, char *, st, m, key, flags, def, 0, 0, NULL, help)
/* A string that must be one of choices (a NULL-terminated array). */
#define LL_SET_CHOICE(st, m, key, flags, def, choices, help)                \
    LL__SET(LL_CONF_STR, char *, st, m, key, flags, def, 0, 0, choices, help)
/* An integer (int64_t member) in [min, max] (both 0: any). */
#define LL_SET_INT(st, m, key, flags, def, min, max, help)                  \
    LL__SET(LL_CONF_INT, int64_t, st, m, key, flags, def, min, max, NULL, help)
/* true/false (int member). */
#define LL_SET_BOOL(st, m, key, flags, def, help)                           \
    LL__SET(LL_CONF_BOOL, int, st, m, key, flags, def, 0, 0, NULL, help)
/* A number (double member) in [min, max] (both 0: any). */
#define LL_SET_DOUBLE(st, m, key, flags, def, min, max, help)               \
    LL__SET(LL_CONF_DOUBLE, double, st, m, key, flags, def, min, max, NULL, \
            help)
/* A duration (int64_t member, ms) in [min, max] ms (both 0: any). */
#define LL_SET_DURATION(st, m, key, flags, def, min, max, help)             \
    LL__SET(LL_CONF_DURATION, int64_t, st, m, key, flags, def, min, max,    \
            NULL, help)
/* A group or list (const ll_conf_node_t *member), read in init. */
#define LL_SET_NODE(st, m, key, flags, help)                                \
    LL__SET(LL_CONF_NODE, const ll_conf_node_t *, st, m, key, flags, NULL,  \
            0, 0, NULL, help)
/* The end of a schema. */
#define LL_SET_END  { .name = NULL }

#endif /* LL_CONF_H_INCLUDED */
