/*
 * Unit tests of ll_log_fail / ll_log_recovered: a failure that repeats is
 * written once, its repeats as a count, its end once.
 */
#include <stdlib.h>
#include <unistd.h>

#include "ll_core.h"
#include "unit.h"

static char  path[] = "/tmp/ll_unit_limit_XXXXXX";

/* The lines written since the last call, each cut to what follows "x: ". */
static int
lines(char *out, size_t n)
{
    static long  seen;
    FILE        *f = fopen(path, "r");
    char         line[1024], *p;
    int          count = 0;

    out[0] = '\0';
    if (f == NULL || fseek(f, seen, SEEK_SET) != 0) {
        abort();
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        p = strstr(line, " x: ");
        snprintf(out + strlen(out), n - strlen(out), "%s",
                 p != NULL ? p + 4 : line);
        count++;
    }
    seen = ftell(f);
    fclose(f);
    return count;
}

int
main(void)
{
    ll_instance_t   in = { 0 };
    ll_log_limit_t  l;
    char            err[LL_ERRLEN], got[4096];
    int             fd, i;

    fd = mkstemp(path);
    if (fd == -1 || ll__log_open(path, err, sizeof(err)) != 0) {
        abort();
    }
    close(fd);
    in.name = "x";
    memset(&l, 0, sizeof(l));

    ll_log_recovered(&in, &l, "fine");
    CHECK(lines(got, sizeof(got)) == 0, "no failure: recovered writes nothing");

    for (i = 0; i < 100; i++) {
        ll_log_fail(&in, &l, LL_LOG_ERR, "redis: %s", "Connection refused");
    }
    CHECK(lines(got, sizeof(got)) == 1, "100 failures: one line");
    CHECK_STR(got, "redis: Connection refused\n", "... the failure's text");

    l.logged_ms -= LL_LOG_REPEAT_MS;    /* as if a minute went by */
    ll_log_fail(&in, &l, LL_LOG_ERR, "redis: %s", "Connection refused");
    CHECK(lines(got, sizeof(got)) == 1, "a minute later: one more line");
    CHECK_STR(got, "redis: Connection refused (repeated 100 times in the "
              "last 60 s)\n", "... the count of repeats");

    ll_log_fail(&in, &l, LL_LOG_ERR, "redis: Connection refused");
    ll_log_fail(&in, &l, LL_LOG_ERR, "redis: AUTH failed");
    ll_log_fail(&in, &l, LL_LOG_ERR, "redis: AUTH failed");
    CHECK(lines(got, sizeof(got)) == 2, "another error: the count, then it");
    CHECK_STR(got, "redis: Connection refused (repeated 1 times in the last "
              "1 s)\nredis: AUTH failed\n", "... in that order");

    l.since_ms -= 3200;
    ll_log_recovered(&in, &l, "redis %s reconnected", "h:1/0");
    CHECK(lines(got, sizeof(got)) == 1, "recovered: one line");
    CHECK(strncmp(got, "redis h:1/0 reconnected after 3.", 32) == 0
          && strstr(got, " s (\"redis: AUTH failed\" repeated 1 times in "
                    "the last 1 s)\n") != NULL, "... with the time and the "
          "repeats: %s", got);
    ll_log_recovered(&in, &l, "redis reconnected");
    CHECK(lines(got, sizeof(got)) == 0, "told once");

    ll_log_fail(&in, &l, LL_LOG_ERR, "redis: AUTH failed");
    CHECK(lines(got, sizeof(got)) == 1, "the next outage is written again");

    ll__log_open("stderr", err, sizeof(err));
    unlink(path);
    return UNIT_DONE();
}
