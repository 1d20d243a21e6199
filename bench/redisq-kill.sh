#!/bin/sh
# Recovery time after kill -9 of a redisq worker with many tasks in flight
# (bench/redisq_kill.pl does the work; see there).
#   LL_OBJS=objs sh bench/redisq-kill.sh     (BENCH_N=tasks, BENCH_MS=task ms)
cd "$(dirname "$0")/.." && exec perl -I t/lib bench/redisq_kill.pl "$@"
