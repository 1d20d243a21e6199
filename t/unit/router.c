/*
 * Unit tests of routing: the glob, exact routes over patterns, the first
 * pattern in the file winning.
 */
#include <stdlib.h>

#include "ll_core.h"
#include "unit.h"

static void
globs(void)
{
    static const struct { const char *p, *s; int m; } t[] = {
        { "redisq:*", "redisq:defer:homestay_order:close", 1 },
        { "redisq:defer:*:close", "redisq:defer:homestay_order:close", 1 },
        { "redisq:defer:*:close", "redisq:defer:homestay_order:open", 0 },
        { "*", "", 1 }, { "", "", 1 }, { "a", "", 0 }, { "", "a", 0 },
        { "a*b*c", "a-b-b-c", 1 }, { "a*b*c", "a-b-b-cd", 0 },
        { "kafka:pay[ment]", "kafka:pay[ment]", 1 },   /* no classes */
        { "kafka:pay?", "kafka:payx", 0 },             /* no '?' */
        { "**x", "yyx", 1 },
    };
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        CHECK(ll__glob(t[i].p, t[i].s) == t[i].m, "glob \"%s\" %s \"%s\"",
              t[i].p, t[i].m ? "matches" : "does not match", t[i].s);
    }
}

static void
precedence(void)
{
    ll_module_t     mod = { .name = "h" };
    ll_instance_t   a = { .mod = &mod, .name = "a" }, b = a, x = a;
    ll_route_t      routes[] = {
        { .from = "redisq:*", .exact = 0, .to = &a },
        { .from = "redisq:defer:*", .exact = 0, .to = &b },
        { .from = "redisq:defer:close", .exact = 1, .to = &x },
    };
    ll_cycle_t      c = { .routes = routes, .nroutes = 3 };

    b.name = "b";
    x.name = "x";
    CHECK(ll__route_find(&c, "redisq", "defer:close")->to == &x,
          "an exact route wins over patterns listed before it");
    CHECK(ll__route_find(&c, "redisq", "defer:open")->to == &a,
          "the first matching pattern wins");
    CHECK(ll__route_find(&c, "kafka", "defer:close") == NULL,
          "another source does not match");
    CHECK(ll__route_find(&c, "redisq", NULL)->to == &a,
          "a message without a type matches \"src:*\"");
}

/* a type longer than any buffer routes as a short one */
static void
long_types(void)
{
    ll_module_t     mod = { .name = "h" };
    ll_instance_t   a = { .mod = &mod, .name = "a" }, x = a;
    char            type[2000], from[2100];
    ll_route_t      routes[] = {
        { .from = "redisq:*", .exact = 0, .to = &a },
        { .from = from, .exact = 1, .to = &x },
    };
    ll_cycle_t      c = { .routes = routes, .nroutes = 2 };

    memset(type, 't', sizeof(type) - 1);
    type[sizeof(type) - 1] = '\0';
    snprintf(from, sizeof(from), "redisq:%s", type);
    x.name = "x";
    CHECK(ll__route_find(&c, "redisq", type) != NULL
          && ll__route_find(&c, "redisq", type)->to == &x,
          "an exact route of a 1,999-byte type");
    type[1000] = '\0';
    CHECK(ll__route_find(&c, "redisq", type) != NULL
          && ll__route_find(&c, "redisq", type)->to == &a,
          "\"redisq:*\" matches a 1,000-byte type");
}

int
main(void)
{
    globs();
    precedence();
    long_types();
    return UNIT_DONE();
}
