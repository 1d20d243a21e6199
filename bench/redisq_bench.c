/*
 * redisq_bench: the client side of bench/redisq-bench.sh, built on the
 * module's own client code (rq_client.c).
 *
 *   redisq_bench enqueue URL N single|bulk PAYLOAD   prints tasks/s
 *   redisq_bench delayed URL N SPAN_MS               IDs "d<due us>_<i>"
 *   redisq_bench idle URL N GAP_MS                   IDs "i<enqueue us>_<i>"
 * (us: Unix microseconds, as the handler records with microseconds = true)
 *   redisq_bench wait URL N KEY       deletes asynq:{default}:paused, then
 *                                     prints tasks/s from KEY's first
 *                                     change until it reaches N
 *   redisq_bench wake URL N GAP_MS    the machine's own floor for idle
 *                                     pick-up: prints N latencies (us) of
 *                                     a bare client blocked in BLMOVE,
 *                                     woken by an LPUSH every GAP_MS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lt_clock.h"
#include "rq_client.h"
#include "rq_scripts.h"


/* wake: the parent pushes its send time, a child blocked in BLMOVE prints
 * its wake time minus that */
static int
bench_wake(const rq_redis_conf_t *rc, long n, long gap_ms)
{
    rq_redis_t   r;
    redisReply  *rep;
    pid_t        pid;
    long         i;
    int          st;

    pid = fork();
    if (pid < 0) {
        return 1;
    }
    rq_redis_init(&r, rc);
    if (pid == 0) {
        for (i = 0; i < n; i++) {
            rep = rq_redis_cmd(&r, "BLMOVE bench:wake bench:woken RIGHT LEFT 0");
            if (rep == NULL || rep->type != REDIS_REPLY_STRING) {
                _exit(1);
            }
            printf("%lld\n", (long long) (lt_now_ns() / 1000) - atoll(rep->str));
            freeReplyObject(rep);
        }
        fflush(stdout);
        _exit(0);
    }
    freeReplyObject(rq_redis_cmd(&r, "PING"));
    usleep(200000);     /* the child is blocked */
    for (i = 0; i < n; i++) {
        usleep((useconds_t) gap_ms * 1000);
        freeReplyObject(rq_redis_cmd(&r, "LPUSH bench:wake %lld",
                                     (long long) (lt_now_ns() / 1000)));
    }
    waitpid(pid, &st, 0);
    freeReplyObject(rq_redis_cmd(&r, "DEL bench:woken"));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}


int
main(int argc, char **argv)
{
    rq_redis_conf_t   rc;
    rq_redis_t        r;
    rq_enq_out_t     *out;
    ll_msg_t         *m;
    char              err[256], (*ids)[64];
    long              n, i, arg;
    int64_t           t0, t1, now;
    const char       *payload;

    if (argc < 5 || rq_redis_conf_parse(&rc, argv[2], err, sizeof(err))) {
        fprintf(stderr, "usage: see the comment in bench/redisq_bench.c\n");
        return 2;
    }
    rq_redis_init(&r, &rc);
    n = atol(argv[3]);
    m = calloc((size_t) n, sizeof(*m));
    out = calloc((size_t) n, sizeof(*out));
    ids = calloc((size_t) n, sizeof(*ids));
    if (m == NULL || out == NULL || ids == NULL) {
        return 1;
    }
    payload = argc > 5 ? argv[5] : "";
    for (i = 0; i < n; i++) {
        ll_msg_init(&m[i]);
        m[i].type = "bench";
        m[i].payload = payload;
        m[i].payload_len = strlen(payload);
    }

    if (strcmp(argv[1], "enqueue") == 0) {
        t0 = lt_now_ms();
        if (strcmp(argv[4], "bulk") == 0) {
            if (rq_enqueue_many(&r, m, (size_t) n, out) != (size_t) n) {
                fprintf(stderr, "bulk enqueue failed: %s\n", out[0].error);
                return 1;
            }
        } else {
            for (i = 0; i < n; i++) {
                if (rq_enqueue(&r, &m[i], &out[i]) != RQ_OK) {
                    fprintf(stderr, "enqueue failed: %s\n", out[i].error);
                    return 1;
                }
            }
        }
        t1 = lt_now_ms();
        printf("%.0f\n", (double) n * 1000 / (double) (t1 - t0 ? t1 - t0 : 1));
        return 0;
    }

    if (strcmp(argv[1], "wait") == 0) {
        redisReply  *rep;
        long         v = 0, v0 = -1;

        /* timed from the first task done to the last, as bench/peers.sh
         * times its peers */
        freeReplyObject(rq_redis_cmd(&r, "DEL asynq:{default}:paused"));
        t0 = lt_now_ms();
        while (v < n) {
            usleep(2000);
            rep = rq_redis_cmd(&r, "GET %s", argv[4]);
            v = rep && rep->type == REDIS_REPLY_STRING ? atol(rep->str) : 0;
            freeReplyObject(rep);
            if (v0 < 0 && v > 0) {
                t0 = lt_now_ms();
                v0 = v;
            }
        }
        t1 = lt_now_ms();
        printf("%.0f\n", (double) (n - v0) * 1000
               / (double) (t1 - t0 ? t1 - t0 : 1));
        return 0;
    }
    arg = atol(argv[4]);
    if (strcmp(argv[1], "wake") == 0) {
        return bench_wake(&rc, n, arg);
    }
    if (strcmp(argv[1], "delayed") == 0) {
        now = lt_now_ms() + 1000;
        for (i = 0; i < n; i++) {
            m[i].process_at_ms = now + random() % arg;
            snprintf(ids[i], sizeof(ids[i]), "d%lld_%ld",
                     (long long) m[i].process_at_ms * 1000, i);
            m[i].id = ids[i];
        }
        rq_enqueue_many(&r, m, (size_t) n, out);
        return 0;
    }
    if (strcmp(argv[1], "idle") == 0) {
        /* connected and the script loaded before the first time taken:
         * the latencies are the server's, not this client's start */
        if (rq_redis_load(&r, &rq_s_enqueue) != 0) {
            fprintf(stderr, "redis: %s\n", r.err);
            return 1;
        }
        for (i = 0; i < n; i++) {
            usleep((useconds_t) arg * 1000);
            snprintf(ids[i], sizeof(ids[i]), "i%lld_%ld",
                     (long long) (lt_now_ns() / 1000), i);
            m[i].id = ids[i];
            rq_enqueue(&r, &m[i], &out[i]);
        }
        return 0;
    }
    return 2;
}
