#!/bin/sh
# looklook core: idle worker RSS with five modules (target < 8 MB)
# LL_OBJS = build dir with the t/*.so fixtures built (make test-build).
here=$(dirname "$0")
exec perl -I "$here/../t/lib" "$here/core_bench.pl" rss
