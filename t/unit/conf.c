/*
 * Unit tests of the config schema: durations, types, defaults, required
 * and unknown settings, and the file:line of every error.
 */
#include <stdlib.h>

#include "ll_core.h"
#include "unit.h"

typedef struct {
    char                   *s;
    int64_t                 i;
    int                     b;
    double                  d;
    int64_t                 dur;
    const ll_conf_node_t   *node;
    char                   *level;
} conf_t;

static const char *const  levels[] = { "low", "high", NULL };

static const ll_conf_field_t  schema[] = {
    LL_SET_STR(conf_t, s, "s", LL_CONF_REQUIRED, NULL, ""),
    LL_SET_INT(conf_t, i, "i", 0, "7", -5, 100, ""),
    LL_SET_BOOL(conf_t, b, "b", 0, "true", ""),
    LL_SET_DOUBLE(conf_t, d, "d", 0, "0.5", 0, 0, ""),
    LL_SET_DURATION(conf_t, dur, "dur", 0, "1m30s", 0, 86400000, ""),
    LL_SET_NODE(conf_t, node, "node", 0, ""),
    LL_SET_CHOICE(conf_t, level, "level", 0, "low", levels, ""),
    LL_SET_END
};

/* Fill `text` (one group "g") against the schema; returns the error. */
static int
fill(const char *text, conf_t *out, char *err, size_t n)
{
    config_t     cfg;
    ll_cleanups_t   a = { 0 };
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
    /* strings die with the owned: check them before */
    if (rc == 0) {
        out->s = out->s && strcmp(out->s, "x") == 0 ? "x" : "?";
        out->node = out->node ? (void *) 1 : NULL;
        out->level = out->level && strcmp(out->level, "high") == 0
                     ? "high" : "low";
    }
    ll__cleanup_run(&a);
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

    /* bounds and choices, at the setting's own line */
    CHECK(fill("g = { s = \"x\"; i = 100; level = \"high\"; };", &c, err,
               sizeof(err)) == 0 && c.i == 100 && strcmp(c.level, "high") == 0,
          "values at the bounds and among the choices");
    fill("g = { s = \"x\";\n i = 101; };", &c, err, sizeof(err));
    CHECK_STR(err, "looklook.conf:2: m: \"i\" must be from -5 to 100",
              "integer above its bound");
    fill("g = { s = \"x\";\n i = -6; };", &c, err, sizeof(err));
    CHECK_STR(err, "looklook.conf:2: m: \"i\" must be from -5 to 100",
              "integer below its bound");
    fill("g = { s = \"x\";\n\n dur = \"1d1s\"; };", &c, err, sizeof(err));
    CHECK_STR(err, "looklook.conf:3: m: \"dur\" must be at most 1d",
              "duration above its bound");
    fill("g = { s = \"x\";\n level = \"mid\"; };", &c, err, sizeof(err));
    CHECK_STR(err, "looklook.conf:2: m: \"level\" must be \"low\" or \"high\"",
              "string not among the choices");
}

int
main(void)
{
    durations();
    schema_checks();
    return UNIT_DONE();
}
