#!/bin/sh
# looklook core: reload time (target < 300 ms).  `looklook -s reload` from
# HUP to "reload ok" with redisq and 2 workers under a stream of tasks (what
# users run: the check, two workers loading redisq and connecting to Redis,
# the old generation told to go), then HUP to the first message of the new
# generation with the test fixtures alone.  Prints p50/p99.
# LL_OBJS = build dir with the t/*.so fixtures built (make test-build);
# needs redis-server.  LL_BENCH_RUNS sets the reloads of each (default 50).
here=$(dirname "$0")
LL_BENCH_RUNS=${LL_BENCH_RUNS:-50} exec perl -I "$here/../t/lib" "$here/core_bench.pl" reload
