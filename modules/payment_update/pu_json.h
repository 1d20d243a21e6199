/*
 * pu_json: payment-rpc's {"payStatus":N,"orderSn":"..."} decoded with Go's
 * encoding/json semantics (see pu_json.c).
 */
#ifndef PU_JSON_H_INCLUDED
#define PU_JSON_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t     pay_status;     /* 0 when absent or null */
    char       *order_sn;       /* malloc'd; NULL when absent or null */
} pu_message_t;

#define PU_JSON_SYNTAX  (-1)    /* not one JSON value, or not an object */
#define PU_JSON_TYPE    (-2)    /* a field of the wrong type or range */

/*
 * Decode text[0..len) into m.  Returns 0, or PU_JSON_SYNTAX / PU_JSON_TYPE
 * with the reason in why (m->order_sn is then NULL).  The caller frees
 * m->order_sn.  @locality any thread
 */
int pu_json_decode(const char *text, size_t len, pu_message_t *m, char *why,
    size_t whylen);

#endif /* PU_JSON_H_INCLUDED */
