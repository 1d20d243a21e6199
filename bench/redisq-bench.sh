#!/bin/sh
# redisq benchmarks: drain rate, enqueue rate, delayed-task lateness, idle
# pick-up latency, Redis CPU per task, worker RSS.  Prints figures; asserts
# nothing.  Needs LL_OBJS (the build dir) and redis-server.
#   LL_OBJS=objs-redisq sh bench/redisq-bench.sh
set -e
N=${N:-100000}
. bench/lib/redisq.sh

echo "host: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- enqueue -----------------------------------------------------------
echo "enqueue single (one connection, round trip each): $($B enqueue $URL 20000 single) tasks/s"
R flushall >/dev/null
echo "enqueue bulk (pipelined): $($B enqueue $URL $N bulk) tasks/s"
R flushall >/dev/null

# ---- drain -------------------------------------------------------------
# CPU seconds (user + system) of the workers so far
workers_cpu() { for p in $(pgrep -P "$LLPID"); do awk '{ print $14 + $15 }' "/proc/$p/stat"; done | awk -v hz="$(getconf CLK_TCK)" '{ s += $1 } END { printf "%.6f", s / hz }'; }
for run in '10 "auto"' '50 "auto"' '10 1'; do
    set -- $run
    R flushall >/dev/null
    $B enqueue $URL $N bulk >/dev/null
    R set 'asynq:{default}:paused' 1 >/dev/null
    start_ll "concurrency = $1;" "-" "$2"
    c0=$(redis_cpu)
    w0=$(workers_cpu)
    rate=$($B wait $URL $N 'asynq:{default}:processed')
    c1=$(redis_cpu)
    w1=$(workers_cpu)
    rss=$(for p in $(pgrep -P "$LLPID"); do awk "/^VmRSS/ {print \$2}" /proc/$p/status; done | tr '\n' ' ')
    echo "drain $N no-op tasks, concurrency $1 per worker, $(pgrep -P "$LLPID" | wc -l) workers:" \
         "$rate tasks/s;" \
         "CPU per task: Redis $(echo "($c1 - $c0) * 1000000 / $N" | bc -l | xargs printf '%.1f') us," \
         "workers $(echo "($w1 - $w0) * 1000000 / $N" | bc -l | xargs printf '%.1f') us;" \
         "worker RSS kB: $rss"
    stop_ll
done

# ---- delayed-task lateness --------------------------------------------
R flushall >/dev/null
start_ll "concurrency = 20;" "$TMP/rec.txt"
$B delayed $URL 2000 20000
sleep 23
latencies "$TMP/rec.txt" > "$TMP/late"
echo "lateness of 2000 delayed tasks due over 20 s (ms): $(spread "$TMP/late") min=$(head -1 "$TMP/late")"

# ---- idle pick-up --------------------------------------------------------
: > "$TMP/rec.txt"
$B idle $URL 400 50
sleep 0.5
latencies "$TMP/rec.txt" > "$TMP/idle"
echo "idle pick-up latency (ms, enqueue call to handler start): $(spread "$TMP/idle")"
stop_ll

# ---- the machine's floor: one Redis wake-up of a bare client -------------
$B wake $URL 400 50 | awk '{ printf "%.3f\n", $1 / 1000 }' | sort -n > "$TMP/wake"
echo "for scale, a bare client blocked in BLMOVE woken by an LPUSH every 50 ms (ms): $(spread "$TMP/wake")"
