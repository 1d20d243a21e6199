/*
 * Unit tests of lib/asynq's task message codec: what rq_msg_decode takes
 * is what a Go reader takes, and packs back into a message it takes again.
 */
#include <stdlib.h>

#include "rq_task.h"
#include "unit.h"

/* type "x", id "i", queue "q" (fields 1, 3, 4) */
#define BASE  "\x0a\x01x\x1a\x01i\x22\x01q"

static int
takes(const char *what, const char *buf, size_t len)
{
    Asynq__TaskMessage  *m, *again;
    uint8_t             *p;
    size_t               plen;
    char                 err[200];
    int                  ok;

    m = rq_msg_decode(buf, len, err, sizeof(err));
    if (m == NULL) {
        printf("# %s: %s\n", what, err);
        return 0;
    }
    p = rq_msg_pack(m, &plen);
    again = p ? rq_msg_decode(p, plen, err, sizeof(err)) : NULL;
    ok = again != NULL;
    if (again != NULL) {
        asynq__task_message__free_unpacked(again, NULL);
    }
    free(p);
    asynq__task_message__free_unpacked(m, NULL);
    CHECK(ok, "%s: packed back, it decodes again", what);
    return 1;
}

int
main(void)
{
    /* field 101 (varint 7): an unknown field kept and written back */
    static const char  unknown[] = BASE "\xa8\x06\x07";
    /* field 0 as a fixed32 with a two-byte tag (0x85 0x00) */
    static const char  field0[] = BASE "\x85\x00" "abcd";
    /* the same inside a header entry (field 15: key "k", then field 0) */
    static const char  hdr0[] = BASE "\x7a\x09\x0a\x01k\x85\x00" "abcd";

    CHECK(takes("plain", BASE, sizeof(BASE) - 1), "a plain message taken");
    CHECK(takes("unknown field", unknown, sizeof(unknown) - 1),
          "an unknown field is taken");
    CHECK(!takes("field 0", field0, sizeof(field0) - 1),
          "field number 0 (a long tag) refused, as Go does");
    CHECK(!takes("field 0 in a header", hdr0, sizeof(hdr0) - 1),
          "field number 0 in a header entry refused");
    return UNIT_DONE();
}
