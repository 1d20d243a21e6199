/*
 * bs_client against a real beanstalkd (t/beanstalk-client.t starts it):
 * argv[1] its endpoint, argv[2] an endpoint where nothing listens.  TAP.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bs_client.h"
#include "unit.h"


int
main(int argc, char **argv)
{
    bs_conn_t  c;
    uint64_t   id, id2, n;
    char       body[] = "bin\0ary\r\nbody";
    char      *big;

    if (argc != 3) {
        fprintf(stderr, "usage: bs_client_test ENDPOINT DEAD_ENDPOINT\n");
        return 2;
    }
    bs_init(&c, 2000);

    CHECK(bs_connect(&c, argv[2]) == BS_EIO && strstr(c.err, "refused") != NULL,
       "connect to a closed port: BS_EIO, connection refused");
    CHECK(bs_connect(&c, "[::1") == BS_EIO && strstr(c.err, "bad endpoint") != NULL,
       "malformed endpoint refused");
    CHECK(bs_use(&c, "t") == BS_EIO && c.fd == -1, "command while closed: BS_EIO");
    CHECK(bs_connect(&c, argv[1]) == BS_OK, "connect");

    CHECK(bs_tube_valid("orders") && bs_tube_valid("a-b+c/d;e.f$g_h(i)")
       && !bs_tube_valid("") && !bs_tube_valid("-x") && !bs_tube_valid("a b")
       && !bs_tube_valid("a\r\nput"), "tube names checked as the server does");
    CHECK(bs_use(&c, "a b") == BS_BAD_NAME && c.fd >= 0,
       "bad tube name refused before sending, connection kept");

    CHECK(bs_use(&c, "t1") == BS_OK, "use t1");
    CHECK(bs_watch(&c, "t1") == BS_OK, "watch t1");
    CHECK(bs_ignore(&c, "default") == BS_OK, "ignore default");
    CHECK(bs_ignore(&c, "t1") == BS_NOT_IGNORED, "ignoring the last tube: NOT_IGNORED");

    CHECK(bs_reserve(&c, 0, &id) == BS_TIMED_OUT, "reserve on an empty tube: TIMED_OUT");
    CHECK(bs_put(&c, 2, 0, 5, body, sizeof(body) - 1, &id) == BS_OK && id > 0,
       "put a body with NUL and CRLF");
    CHECK(bs_reserve(&c, 1, &id2) == BS_OK && id2 == id
       && c.body_len == sizeof(body) - 1
       && memcmp(c.body, body, sizeof(body) - 1) == 0,
       "reserve gives the same id and bytes");
    CHECK(bs_touch(&c, id) == BS_OK, "touch a reserved job");
    CHECK(bs_stats_job(&c, id) == BS_OK && bs_stat(c.body, "releases") == 0
       && bs_stat(c.body, "pri") == 2 && bs_stat(c.body, "ttr") == 5
       && bs_stat(c.body, "no-such-key") == -1, "stats-job read");
    CHECK(bs_release(&c, id, 7, 0) == BS_OK, "release");
    CHECK(bs_stats_job(&c, id) == BS_OK && bs_stat(c.body, "releases") == 1
       && bs_stat(c.body, "pri") == 7, "release counted, priority changed");
    CHECK(bs_reserve(&c, 1, &id2) == BS_OK && id2 == id, "reserve it again");
    CHECK(bs_bury(&c, id, 3) == BS_OK, "bury");
    CHECK(bs_peek_state(&c, "buried", &id2) == BS_OK && id2 == id
       && memcmp(c.body, body, sizeof(body) - 1) == 0, "peek-buried finds it");
    CHECK(bs_stats_tube(&c, "t1") == BS_OK
       && bs_stat(c.body, "current-jobs-buried") == 1
       && bs_stat(c.body, "current-jobs-ready") == 0, "stats-tube counts it");
    CHECK(bs_kick(&c, 10, &n) == BS_OK && n == 1, "kick: 1 kicked");
    CHECK(bs_peek_state(&c, "ready", &id2) == BS_OK && id2 == id, "peek-ready finds it");
    CHECK(bs_reserve(&c, 1, &id2) == BS_OK && bs_bury(&c, id2, 2) == BS_OK
       && bs_kick_job(&c, id2) == BS_OK, "kick-job");
    CHECK(bs_kick_job(&c, 999999) == BS_NOT_FOUND, "kick-job of no job: NOT_FOUND");
    CHECK(bs_reserve(&c, 1, &id2) == BS_OK && bs_delete(&c, id2) == BS_OK,
       "reserve and delete");
    CHECK(bs_delete(&c, id2) == BS_NOT_FOUND && c.fd >= 0,
       "delete again: NOT_FOUND, connection kept");
    CHECK(bs_peek(&c, id2) == BS_NOT_FOUND, "peek a deleted job: NOT_FOUND");
    CHECK(bs_touch(&c, id2) == BS_NOT_FOUND, "touch a job not reserved: NOT_FOUND");

    CHECK(bs_put(&c, 2, 60, 5, "later", 5, &id) == BS_OK
       && bs_peek_state(&c, "delayed", &id2) == BS_OK && id2 == id
       && strcmp(c.body, "later") == 0, "put with a delay: peek-delayed");
    CHECK(bs_peek(&c, id) == BS_OK && strcmp(c.body, "later") == 0, "peek by id");
    CHECK(bs_stats_job(&c, id) == BS_OK && bs_stat(c.body, "delay") == 60,
       "delay in stats-job");
    CHECK(bs_reserve(&c, 0, &id2) == BS_TIMED_OUT, "a delayed job is not reserved");
    CHECK(bs_kick(&c, 1, &n) == BS_OK && n == 1
       && bs_reserve(&c, 0, &id2) == BS_OK && id2 == id
       && bs_delete(&c, id) == BS_OK, "kick makes a delayed job ready");

    big = malloc(70000);
    memset(big, 'x', 70000);
    CHECK(bs_put(&c, 2, 0, 5, big, 70000, &id) == BS_JOB_TOO_BIG,
       "70000 bytes: JOB_TOO_BIG");
    CHECK(bs_put(&c, 2, 0, 5, big, 65000, &id) == BS_OK
       && bs_reserve(&c, 1, &id2) == BS_OK && id2 == id
       && c.body_len == 65000 && c.body[64999] == 'x' && c.body[65000] == '\0',
       "the connection goes on; 65000 bytes round trip");
    CHECK(bs_delete(&c, id) == BS_OK, "delete it");
    free(big);

    /* a job whose TTR is about to run out: the server warns the holder */
    CHECK(bs_put(&c, 2, 0, 1, "ttr", 3, &id) == BS_OK
       && bs_reserve(&c, 1, &id2) == BS_OK, "reserve a job with TTR 1");
    CHECK(bs_reserve(&c, 2, &id2) == BS_DEADLINE_SOON, "reserve again: DEADLINE_SOON");
    CHECK(bs_delete(&c, id) == BS_OK, "delete it in time");

    CHECK(bs_peek_state(&c, "nowhere", &id) == BS_BAD_NAME, "peek of no state refused");
    bs_close(&c);
    CHECK(c.fd == -1 && c.body == NULL, "closed");
    bs_close(&c);
    return UNIT_DONE();
}
