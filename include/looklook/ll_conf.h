/*
 * looklook module config schema.
 *
 * A module declares its settings as an array of ll_conf_field_t; the core
 * checks each module entry of looklook.conf against it (unknown key, wrong
 * type, missing required value: an error with file and line), fills the
 * module's conf struct at the given offsets, and prints the schema for
 * `looklook -m`.
 */
#ifndef LL_CONF_H_INCLUDED
#define LL_CONF_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

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
    const char     *name;       /* key in the module's entry */
    int             type;       /* ll_conf_type_e */
    unsigned        flags;      /* LL_CONF_REQUIRED */
    const char     *def;        /* default as text (not for NODE); NULL none */
    size_t          offset;     /* offsetof(module conf struct, field) */
    const char     *help;       /* one line */
} ll_conf_field_t;

typedef struct ll_conf_node_s  ll_conf_node_t;  /* opaque */

#endif /* LL_CONF_H_INCLUDED */
