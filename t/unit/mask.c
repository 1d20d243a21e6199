/*
 * Unit tests of ll__mask_secrets: URL passwords become *** wherever they
 * sit in a message, and nothing else changes.
 */
#include "ll_core.h"
#include "unit.h"

static void
mask(const char *in, const char *want, size_t cap)
{
    char  buf[256];

    snprintf(buf, sizeof(buf), "%s", in);
    ll__mask_secrets(buf, cap);
    CHECK_STR(buf, want, in);
}

int
main(void)
{
    mask("redis url \"redis://:S3CRET@127.0.0.1:99999/0\": bad port",
         "redis url \"redis://:***@127.0.0.1:99999/0\": bad port", 256);
    mask("mysql://user:S3CRET@db:3306/x", "mysql://user:***@db:3306/x", 256);
    mask("redis://S3CRET@host/1", "redis://***@host/1", 256);
    mask("mysql://user@host/db", "mysql://user@host/db", 256);
    mask("a mysql://u:p/a@ss@h/db b", "a mysql://u:***@h/db b", 256);
    mask("two: redis://:a@h1 and mysql://u:b@h2/d",
         "two: redis://:***@h1 and mysql://u:***@h2/d", 256);
    mask("already redis://:***@h", "already redis://:***@h", 256);
    mask("empty redis://:@h", "empty redis://:@h", 256);
    mask("no url here: a@b:c", "no url here: a@b:c", 256);
    mask("http://example.com/a@b", "http://example.com/a@b", 256);
    mask("x redis://:p@host", "x redis://:***", 15);
    mask("redis://:p@h", "redis://:", 12);     /* no room: cut */
    mask("url \"redis-sentinel://:S3CRET@h1:26379,h2:26380/mymaster/2\"",
         "url \"redis-sentinel://:***@h1:26379,h2:26380/mymaster/2\"", 256);
    mask("redis-sentinel://S3CRET@h1/m", "redis-sentinel://***@h1/m", 256);
    mask("REDIS-CLUSTER://S3CRET@h1:7000,h2:7001",
         "REDIS-CLUSTER://***@h1:7000,h2:7001", 256);
    mask("redis-x://user@h/m", "redis-x://user@h/m", 256);
    return UNIT_DONE();
}
