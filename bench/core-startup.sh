#!/bin/sh
# looklook core: exec to "generation 1 ready" with five modules (target < 100 ms)
# LL_OBJS = build dir with the t/*.so fixtures built (make test-build).
here=$(dirname "$0")
exec perl -I "$here/../t/lib" "$here/core_bench.pl" startup
