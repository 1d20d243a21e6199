/*
 * Unit tests of the config schema: durations, types, defaults, required
 * and unknown settings, and the file:line of every error.
 */
#include <stdlib.h>

#include "ll_core.h"
#include "unit.h"

typedef struct {
    char       *s;
    int64_t     i;
    int         b;
    double      d;
    int64_t     dur;
    const void *node;
} conf_t;

static const ll_conf_field_t  schema[] = {
    { "s", LL_CONF_STR, LL_CONF_REQUIRED, NULL, offsetof(conf_t, s), "" },
    { "i", LL_CONF_INT, 0, "7", offsetof(conf_t, i), "" },
    { "b", LL_CONF_BOOL, 0, "true", offsetof(conf_t, b), "" },
    { "d", LL_CONF_DOUBLE, 0, "0.5", offsetof(conf_t, d), "" },
    { "dur", LL_CONF_DURATION, 0, "1m30s", offsetof(conf_t, dur), "" },
    { "node", LL_CONF_NODE, 0, NULL, offsetof(conf_t, node), "" },
    { NULL, 0, 0, NULL, 0, NULL }
};

/* Fill `text` (one group "g") against the schema; returns the error. */
static int
fill(const char *text, conf_t *out, char *err, size_t n)
{
    config_t     cfg;
    ll_arena_t   a = { 0 };
    int          rc;

    config_init(&cfg);
    if (config_read_string(&cfg, text) != CONFIG_TRUE) {
        snprintf(err, n, "parse: %s", config_error_text(&cfg));
        config_destroy(&cfg);
        return -1;
    }
    memset(out, 0, sizeof(*out));
    rc = ll__conf_fill(&a, config_lookup(&cfg, "g"), schema, out, "m: ",
                       NULL, err, n);
    /* strings die with the arena: check them before */
    if (rc == 0) {
        out->s = out->s && strcmp(out->s, "x") == 0 ? "x" : "?";
        out->node = out->node ? (void *) 1 : NULL;
    }
    ll__arena_free(&a);
    config_destroy(&cfg);
    return rc;
}

static void
durations(void)
{
    static const struct { const char *in; int64_t ms; } ok[] = {
        { "250ms", 250 }, { "30s", 30000 }, { "5m", 300000 },
        { "2h", 7200000 }, { "1d", 86400000 }, { "1m30s", 90000 },
        { "1.5s", 1500 }, { "10", 10000 }, { "0", 0 }, { "1h0m0s", 3600000 }
    };
    static const char *bad[] = { "", "s", "10x", "-1s", "5 m", "1ms2", "m5" };
    size_t   i;
    int64_t  ms;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        CHECK(ll_parse_duration(ok[i].in, &ms) == 0 && ms == ok[i].ms,
              "duration \"%s\" = %lld ms", ok[i].in, (long long) ok[i].ms);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(ll_parse_duration(bad[i], &ms) == -1, "duration \"%s\" refused",
              bad[i]);
    }
}

static void
schema_checks(void)
{
    conf_t  c;
    char    err[256];

    CHECK(fill("g = { s = \"x\"; };", &c, err, sizeof(err)) == 0
          && c.i == 7 && c.b == 1 && c.d == 0.5 && c.dur == 90000
          && c.node == NULL, "defaults filled");
    CHECK(fill("g = { s = \"x\"; i = 3; b = false; d = 2; dur = 45;\n"
               "node = { a = 1; }; };", &c, err, sizeof(err)) == 0
          && c.i == 3 && c.b == 0 && c.d == 2.0 && c.dur == 45000
          && c.node != NULL, "values of every type");
    CHECK(fill("g = { s = \"x\"; dur = \"250ms\"; };", &c, err, sizeof(err))
          == 0 && c.dur == 250, "duration as text");

    fill("g = {\n i = 1;\n};", &c, err, sizeof(err));
    CHECK_STR(err, "looklook.conf:1: m: missing required setting \"s\"" ,
              "missing required: line of the group");
    fill("g = { s = \"x\";\n\n zz = 1; };", &c, err, sizeof(err));
    CHECK_STR(err, "looklook.conf:3: m: unknown setting \"zz\"", "unknown: its own line");
    fill("g = { s = \"x\";\n i = \"many\"; };", &c, err, sizeof(err));
    CHECK_STR(err, "looklook.conf:2: m: \"i\" must be an integer", "int type");
    fill("g = { s = 5; };", &c, err, sizeof(err));
    CHECK_STR(err, "looklook.conf:1: m: \"s\" must be a string", "string type");
    fill("g = { s = \"x\"; b = 1; };", &c, err, sizeof(err));
    CHECK_STR(err, "looklook.conf:1: m: \"b\" must be true or false", "bool type");
    fill("g = { s = \"x\"; dur = \"soon\"; };", &c, err, sizeof(err));
    CHECK(strstr(err, ":1: m: \"dur\" must be a duration") != NULL,
          "duration text refused: %s", err);
    fill("g = { s = \"x\"; node = 3; };", &c, err, sizeof(err));
    CHECK(strstr(err, "\"node\" must be a group") != NULL, "node type");
}

int
main(void)
{
    durations();
    schema_checks();
    return UNIT_DONE();
}
