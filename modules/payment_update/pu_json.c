/*
 * pu_json: payment-rpc's message decoded as order-mq's json.Unmarshal into
 *
 *     struct { PayStatus int64 `json:"payStatus"`; OrderSn string `json:"orderSn"` }
 *
 * decodes it, so a message order-mq refuses is refused here and one it
 * takes means the same.  What Go's encoding/json does, and cJSON does not:
 *
 *  - the whole text must be one JSON value (RFC 8259, no extensions) with
 *    only space, tab, CR and LF around it: trailing text is an error;
 *  - keys match a field exactly or case-insensitively under Unicode simple
 *    folding ("ORDERSN", and U+017F for 's'); every matching key is
 *    applied in order, so the last one wins;
 *  - null leaves a field as it was; a top-level null is the zero message;
 *  - an int64 takes only an integer literal in range ("1.0", "1e0" are
 *    errors); a wrong type is an error (Go goes on, then returns it).
 *
 * cJSON decodes the strings; the strict grammar check is ours, because
 * cJSON accepts what Go refuses ("+1", "01", "1.", trailing text, raw
 * control characters in strings, a byte-order mark).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "pu_json.h"

#define PU_JSON_DEPTH  10000    /* Go's decoder refuses deeper nesting */

static const char *
ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}

static int
hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
           || (c >= 'A' && c <= 'F');
}

static int
digit(const char *p, const char *e)
{
    return p < e && *p >= '0' && *p <= '9';
}

/* Past the string that starts at p ('"'), or NULL. */
static const char *
str(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        if (*p == '"') {
            return p + 1;
        }
        if ((unsigned char) *p < 0x20) {
            return NULL;
        }
        if (*p != '\\') {
            continue;
        }
        if (++p >= e) {
            return NULL;
        }
        if (*p == 'u') {
            if (e - p < 5 || !hex(p[1]) || !hex(p[2]) || !hex(p[3])
                || !hex(p[4]))
            {
                return NULL;
            }
            p += 4;
        } else if (strchr("\"\\/bfnrt", *p) == NULL || *p == '\0') {
            return NULL;
        }
    }
    return NULL;
}

/* Past -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at p, or NULL. */
static const char *
num(const char *p, const char *e)
{
    if (p < e && *p == '-') {
        p++;
    }
    if (!digit(p, e)) {
        return NULL;
    }
    if (*p++ != '0') {
        while (digit(p, e)) {
            p++;
        }
    }
    if (p < e && *p == '.') {
        if (!digit(++p, e)) {
            return NULL;
        }
        while (digit(p, e)) {
            p++;
        }
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) {
            p++;
        }
        if (!digit(p, e)) {
            return NULL;
        }
        while (digit(p, e)) {
            p++;
        }
    }
    return p;
}

/* Past "key" ws ':' at p (after whitespace), or NULL. */
static const char *
key(const char *p, const char *e)
{
    if (p >= e || *p != '"' || (p = str(p, e)) == NULL) {
        return NULL;
    }
    p = ws(p, e);
    return p < e && *p == ':' ? p + 1 : NULL;
}

/*
 * Past the one value that starts at p (after whitespace), or NULL if it is
 * not valid JSON.  Iterative: a bit per level says object or array.
 */
static const char *
value(const char *p, const char *e)
{
    unsigned char  obj[PU_JSON_DEPTH / 8 + 1];
    int            depth = 0, o;

    for (;;) {
        p = ws(p, e);
        if (p >= e) {
            return NULL;
        }
        if (*p == '{' || *p == '[') {
            if (depth == PU_JSON_DEPTH) {
                return NULL;
            }
            o = *p == '{';
            obj[depth / 8] = (unsigned char) (o ? obj[depth / 8] | 1 << depth % 8
                                              : obj[depth / 8] & ~(1 << depth % 8));
            depth++;
            p = ws(p + 1, e);
            if (p < e && *p == (o ? '}' : ']')) {
                p++;
                depth--;
            } else {
                if (o && (p = key(p, e)) == NULL) {
                    return NULL;
                }
                continue;
            }
        } else if (*p == '"') {
            p = str(p, e);
        } else if (*p == 't' || *p == 'f' || *p == 'n') {
            const char  *w = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
            size_t       n = strlen(w);

            p = (size_t) (e - p) >= n && memcmp(p, w, n) == 0 ? p + n : NULL;
        } else {
            p = num(p, e);
        }

        /* after a value: close containers, or go on to the next element */
        for (;;) {
            if (p == NULL || depth == 0) {
                return p;
            }
            p = ws(p, e);
            o = obj[(depth - 1) / 8] >> (depth - 1) % 8 & 1;
            if (p < e && *p == (o ? '}' : ']')) {
                p++;
                depth--;
                continue;
            }
            if (p >= e || *p != ',') {
                return NULL;
            }
            p = ws(p + 1, e);
            if (o) {
                p = key(p, e);
            }
            break;
        }
        if (p == NULL) {
            return NULL;
        }
    }
}

/*
 * Whether the decoded key k names the field `name` for Go: bytes.EqualFold,
 * whose non-ASCII folds onto ASCII letters are U+017F (s) and U+212A (k).
 */
static int
fold_eq(const char *k, const char *name)
{
    for ( ; *name != '\0'; name++) {
        char  c = (char) (*name | 0x20);

        if ((*k | 0x20) == c && (unsigned char) *k < 0x80) {
            k++;
        } else if (c == 's' && strncmp(k, "\xc5\xbf", 2) == 0) {
            k += 2;
        } else if (c == 'k' && strncmp(k, "\xe2\x84\xaa", 3) == 0) {
            k += 3;
        } else {
            return 0;
        }
    }
    return *k == '\0';
}

static int
fail(int rc, char *why, size_t len, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return rc;
}

/* A JSON string's text (validated) decoded by cJSON; NULL if it holds a
 * NUL or an unpaired surrogate (no order number has either). */
static char *
decode_string(const char *p, const char *e)
{
    const char  *q;
    cJSON       *j;
    char        *s = NULL;

    /* a \u0000 escape, not the text u0000 after an escaped backslash */
    for (q = p; q < e; q++) {
        if (*q == '\\' && ++q < e && *q == 'u' && e - q >= 5
            && memcmp(q + 1, "0000", 4) == 0)
        {
            return NULL;
        }
    }
    j = cJSON_ParseWithLength(p, (size_t) (e - p));
    if (cJSON_IsString(j)) {
        s = strdup(j->valuestring);
    }
    cJSON_Delete(j);
    return s;
}

/* Go's strconv.ParseInt(text, 10, 64) of a number literal. */
static int
int64_literal(const char *p, const char *e, int64_t *out)
{
    char       buf[32], *end;
    long long  v;

    if ((size_t) (e - p) >= sizeof(buf) || memchr(p, '.', (size_t) (e - p))
        || memchr(p, 'e', (size_t) (e - p)) || memchr(p, 'E', (size_t) (e - p)))
    {
        return -1;
    }
    memcpy(buf, p, (size_t) (e - p));
    buf[e - p] = '\0';
    errno = 0;
    v = strtoll(buf, &end, 10);
    if (errno != 0 || *end != '\0') {
        return -1;
    }
    *out = v;
    return 0;
}

int
pu_json_decode(const char *text, size_t len, pu_message_t *m, char *why,
    size_t whylen)
{
    const char  *e = text + len, *p, *end, *k, *ke, *v, *ve;
    const char  *type_err = NULL;
    char        *name;

    m->pay_status = 0;
    m->order_sn = NULL;

    p = ws(text, e);
    if (p == e) {
        return fail(PU_JSON_SYNTAX, why, whylen, "unexpected end of JSON input");
    }
    end = value(p, e);
    if (end == NULL) {
        return fail(PU_JSON_SYNTAX, why, whylen, "invalid JSON");
    }
    if (ws(end, e) != e) {
        return fail(PU_JSON_SYNTAX, why, whylen, "invalid character '%c' after top-level "
                    "value", *ws(end, e));
    }
    if (*p == 'n') {
        return 0;       /* null: the zero message */
    }
    if (*p != '{') {
        return fail(PU_JSON_SYNTAX, why, whylen, "not a JSON object");
    }

    for (p = ws(p + 1, e); *p != '}'; p = ws(p + 1, e)) {
        k = p;
        ke = str(k, e);
        v = ws(ws(ke, e) + 1, e);
        ve = value(v, e);
        p = ws(ve, e);          /* at ',' or '}' */

        name = decode_string(k, ke);
        if (name == NULL || *v == 'n') {
            /* a key no field has; null changes nothing */
        } else if (fold_eq(name, "payStatus")) {
            if (*v == '"' || *v == '{' || *v == '[' || *v == 't' || *v == 'f'
                || int64_literal(v, ve, &m->pay_status) != 0)
            {
                type_err = type_err != NULL ? type_err : "payStatus";
            }
        } else if (fold_eq(name, "orderSn")) {
            char  *sn = *v == '"' ? decode_string(v, ve) : NULL;

            if (sn != NULL) {
                free(m->order_sn);
                m->order_sn = sn;
            } else {
                type_err = type_err != NULL ? type_err : "orderSn";
            }
        }
        free(name);
        if (*p == '}') {
            break;
        }
    }
    if (type_err != NULL) {
        free(m->order_sn);
        m->order_sn = NULL;
        return fail(PU_JSON_TYPE, why, whylen, "%s has the wrong type or is out of range", type_err);
    }
    return 0;
}
