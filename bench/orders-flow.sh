#!/bin/sh
# Orders per second through both flows, end to end, with SQLite and with
# MariaDB (bench/orders-flow.pl does the work; see there).
#   LL_OBJS=objs sh bench/orders-flow.sh      (BENCH_N=orders per flow)
cd "$(dirname "$0")/.." && exec perl -I t/lib bench/orders-flow.pl "$@"
