/*
 * Unit tests of lib/redis's cluster slots: CRC16 (XMODEM) of the hash tag
 * or of the whole key, mod 16384, as Redis Cluster computes it; asynq's
 * per-queue keys share their queue's slot.
 */
#include <string.h>

#include "rq_redis.h"
#include "unit.h"

static unsigned
slot(const char *key)
{
    return rq_redis_key_slot(key, strlen(key));
}

int
main(void)
{
    /* the CRC16 check value of "123456789" is 0x31C3 */
    CHECK(slot("123456789") == 0x31C3, "CRC16 check value (%u)",
          slot("123456789"));
    CHECK(slot("foo") == 12182, "foo: 12182 (%u)", slot("foo"));
    CHECK(slot("bar") == 5061, "bar: 5061 (%u)", slot("bar"));
    CHECK(slot("") == 0, "the empty key: 0");
    CHECK(slot("{user1000}.following") == slot("user1000")
          && slot("{user1000}.followers") == slot("user1000"),
          "a hash tag is what is hashed");
    CHECK(slot("foo{}{bar}") != slot("bar"),
          "an empty first tag: the whole key is hashed");
    CHECK(slot("foo{{bar}}zap") == slot("{bar"),
          "the tag ends at the first '}' after the first '{'");
    CHECK(slot("foo{bar}{zap}") == slot("bar"), "only the first tag counts");
    CHECK(slot("asynq:{critical}:pending") == slot("critical")
          && slot("asynq:{critical}:t:0f3c") == slot("critical")
          && slot("asynq:{critical}:lease") == slot("critical"),
          "an asynq queue's keys share the queue's slot");
    CHECK(rq_redis_key_slot("a\0{b}", 5) == slot("b"),
          "binary keys: the length counts, not the NUL");
    return UNIT_DONE();
}
