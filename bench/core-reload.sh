#!/bin/sh
# looklook core: HUP to the new generation serving (target < 300 ms)
# LL_OBJS = build dir with the t/*.so fixtures built (make test-build).
here=$(dirname "$0")
exec perl -I "$here/../t/lib" "$here/core_bench.pl" reload
