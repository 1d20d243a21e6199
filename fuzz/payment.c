/*
 * Fuzz target: payment_update's message decoder (pu_json_decode, Go's
 * encoding/json semantics).
 *
 * Invariants: a refusal says why and leaves no order number; an accepted
 * message decodes the same wrapped in whitespace, is refused with any
 * text after it (Go: "invalid character after top-level value"), and
 * written back as {"payStatus":N,"orderSn":"..."} decodes to the same
 * values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "pu_json.h"

#define FAIL(what)  (fprintf(stderr, "%s\n", what), abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
decode(const char *text, size_t len, pu_message_t *m)
{
    char  why[256];
    int   rc;

    why[0] = '\0';
    rc = pu_json_decode(text, len, m, why, sizeof(why));
    if (rc != 0 && (why[0] == '\0' || m->order_sn != NULL)) {
        FAIL("a refusal without a reason, or with an order number");
    }
    if (rc != 0 && rc != PU_JSON_SYNTAX && rc != PU_JSON_TYPE) {
        FAIL("an unknown result");
    }
    return rc;
}

static int
same(const pu_message_t *a, const pu_message_t *b)
{
    return a->pay_status == b->pay_status
           && (a->order_sn == NULL ? b->order_sn == NULL
               : b->order_sn != NULL && strcmp(a->order_sn, b->order_sn) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pu_message_t   m, m2;
    cJSON         *o;
    char          *buf, *text;
    int            rc;

    /* a copy of exactly size bytes: the decoder must not read past it */
    buf = malloc(size + 2);
    if (buf == NULL) {
        return 0;
    }
    memcpy(buf + 1, data, size);
    rc = decode(buf + 1, size, &m);

    /* " TEXT\n" decodes as TEXT does */
    buf[0] = ' ';
    buf[size + 1] = '\n';
    if (decode(buf, size + 2, &m2) != rc || (rc == 0 && !same(&m, &m2))) {
        FAIL("whitespace around the value changed the result");
    }
    free(m2.order_sn);
    if (rc != 0) {
        free(buf);
        return 0;
    }

    /* TEXT} has text after the value */
    memcpy(buf, data, size);
    buf[size] = '}';
    if (decode(buf, size + 1, &m2) != PU_JSON_SYNTAX) {
        FAIL("text after the value is accepted");
    }
    free(buf);

    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "payStatus", 0);
    if (m.order_sn != NULL) {
        cJSON_AddStringToObject(o, "orderSn", m.order_sn);
    }
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text != NULL) {
        /* cJSON prints numbers as doubles: the status goes in as text */
        size_t  n = strlen(text) + 32;
        char   *t2 = malloc(n);
        char   *at = strstr(text, "\"payStatus\":0");

        if (t2 != NULL && at != NULL) {
            snprintf(t2, n, "%.*s\"payStatus\":%lld%s", (int) (at - text),
                     text, (long long) m.pay_status,
                     at + strlen("\"payStatus\":0"));
            if (decode(t2, strlen(t2), &m2) != 0 || !same(&m, &m2)) {
                fprintf(stderr, "%s\n", t2);
                FAIL("written back, the message decodes differently");
            }
            free(m2.order_sn);
        }
        free(t2);
        free(text);
    }
    free(m.order_sn);
    return 0;
}
