/*
 * Unit tests of lib/redis's URL parser: redis://, unix:// and
 * redis-sentinel:// (sentinel list, master name, db, password) and
 * redis-cluster:// (nodes, password, no db), what each
 * refuses, and the text log lines show for each (no password).
 */
#include <stdio.h>
#include <string.h>

#include "rq_redis.h"
#include "unit.h"

static void
good(const char *url, const char *text, const char *password)
{
    rq_redis_conf_t  rc;
    char             err[256], buf[300];

    err[0] = '\0';
    if (rq_redis_conf_parse(&rc, url, err, sizeof(err)) != 0) {
        CHECK(0, "%s parses (%s)", url, err);
        return;
    }
    CHECK_STR(rq_redis_conf_text(&rc, buf, sizeof(buf)), text, url);
    CHECK((password == NULL && rc.password == NULL)
          || (password != NULL && rc.password != NULL
              && strcmp(password, rc.password) == 0),
          "%s: password %s", url, password ? password : "none");
    rq_redis_conf_free(&rc);
}

static void
bad(const char *url, const char *why)
{
    rq_redis_conf_t  rc;
    char             err[256];

    err[0] = '\0';
    CHECK(rq_redis_conf_parse(&rc, url, err, sizeof(err)) == -1
          && strstr(err, why) != NULL, "%s refused: %s (got \"%s\")", url,
          why, err);
}

int
main(void)
{
    rq_redis_conf_t  rc;
    char             err[256];

    good(NULL, "127.0.0.1:6379/0", NULL);
    good("redis://:p%40ss@10.0.0.1:6380/3", "10.0.0.1:6380/3", "p@ss");
    good("redis://[::1]:7000", "::1:7000/0", NULL);
    good("unix:///run/redis.sock?db=2", "unix:/run/redis.sock/2", NULL);
    good("redis-sentinel://:s3cret@127.0.0.1:26379,[::1],h3:26381/mymaster",
         "sentinel:mymaster@127.0.0.1:26379,::1:26379,h3:26381/0", "s3cret");
    good("redis-sentinel://h1/m/5", "sentinel:m@h1:26379/5", NULL);
    good("redis-sentinel://pw@h1:1/m", "sentinel:m@h1:1/0", "pw");
    good("redis-cluster://:pw@127.0.0.1:7000,h2", "cluster:127.0.0.1:7000,h2:6379",
         "pw");

    CHECK(rq_redis_conf_parse(&rc, "redis-sentinel://u:pw@a:1,b:2/mm/1",
                              err, sizeof(err)) == 0
          && rc.mode == RQ_REDIS_SENTINEL && rc.nnodes == 2
          && strcmp(rc.nodes[1].host, "b") == 0 && rc.nodes[1].port == 2
          && strcmp(rc.master, "mm") == 0 && rc.db == 1
          && strcmp(rc.username, "u") == 0, "sentinel fields");
    rq_redis_conf_free(&rc);

    bad("rediss://h:6379", "Debian 12's hiredis has no TLS");
    bad("redis-sentinel://h1:26379", "master_name");
    bad("redis-sentinel://h1:26379/", "master_name");
    bad("redis-sentinel://h1:26379//0", "master_name");
    bad("redis-sentinel://h1,,h2/m", "empty node address");
    bad("redis-sentinel://h1:0/m", "bad port");
    bad("redis-sentinel://h1/m/x", "bad database number");
    bad("redis://h:99999/0", "bad port");
    bad("redis-cluster://h:7000/0", "a cluster has no database number");
    bad("redis-cluster://h:7000,", "empty node address");
    bad("http://h", "expected redis://");
    return UNIT_DONE();
}
