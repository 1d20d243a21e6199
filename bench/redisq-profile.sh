#!/bin/sh
# Where a redisq worker's time goes while it drains no-op tasks: perf
# (Debian linux-perf) samples the workers' call stacks during a drain of N
# tasks (2 workers, concurrency 10), prints the busiest functions and
# writes a flame graph to $SVG (default /tmp/redisq-drain-flame.svg;
# SVG=docs/redisq-drain-flame.svg refreshes the one docs/ shows).
# Prints figures; asserts nothing.  Needs root or perf_event_paranoid <= 1
# to sample; skips itself without perf.
set -e
if ! perf version >/dev/null 2>&1; then
    echo "perf not installed (Debian linux-perf): skipped"
    exit 0
fi
N=${N:-100000}
SVG=${SVG:-/tmp/redisq-drain-flame.svg}
. bench/lib/redisq.sh

$B enqueue "$URL" "$N" bulk >/dev/null
R set 'asynq:{default}:paused' 1 >/dev/null
start_ll "concurrency = 10;" "-" 2
pids=$(pgrep -P "$LLPID" | tr '\n' ',' | sed 's/,$//')
perf record -q -F 499 --call-graph dwarf,16384 -p "$pids" -o "$TMP/perf.data" 2>/dev/null &
PERFPID=$!
sleep 0.5
echo "load at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "drain $N no-op tasks, 2 workers, concurrency 10, sampled: $($B wait "$URL" "$N" 'asynq:{default}:processed') tasks/s"
kill -INT "$PERFPID"; wait "$PERFPID" 2>/dev/null || true
stop_ll
echo "busiest functions (self time, % of the workers' samples):"
perf report -i "$TMP/perf.data" --no-children --sort sym --stdio 2>/dev/null \
    | grep -E '^ +[0-9.]+%' | head -25
perf script -i "$TMP/perf.data" 2>/dev/null | perl bench/lib/flame.pl \
    "redisq: drain of $N no-op tasks, 2 workers, concurrency 10" > "$SVG"
echo "flame graph: $SVG"
