#!/bin/sh
# redisq benchmarks: drain rate, enqueue rate, delayed-task lateness, idle
# pick-up latency, Redis CPU per task, worker RSS.  Prints figures; asserts
# nothing.  Needs LL_OBJS (the build dir) and redis-server.
#   LL_OBJS=objs-redisq sh bench/redisq-bench.sh
set -e
N=${N:-100000}
. bench/lib/redisq.sh

echo "host: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"

# ---- enqueue -----------------------------------------------------------
echo "enqueue single (one connection, round trip each): $($B enqueue $URL 20000 single) tasks/s"
R flushall >/dev/null
echo "enqueue bulk (pipelined): $($B enqueue $URL $N bulk) tasks/s"
R flushall >/dev/null

# ---- drain -------------------------------------------------------------
for C in 10 50; do
    R flushall >/dev/null
    $B enqueue $URL $N bulk >/dev/null
    R set 'asynq:{default}:paused' 1 >/dev/null
    start_ll "concurrency = $C;" "-"
    c0=$(redis_cpu)
    rate=$($B wait $URL $N 'asynq:{default}:processed')
    c1=$(redis_cpu)
    rss=$(for p in $(pgrep -P "$LLPID"); do awk "/^VmRSS/ {print \$2}" /proc/$p/status; done | tr '\n' ' ')
    echo "drain $N no-op tasks, concurrency $C per worker, $(pgrep -P "$LLPID" | wc -l) workers:" \
         "$rate tasks/s;" \
         "Redis CPU $(echo "($c1 - $c0) * 1000000 / $N" | bc -l | xargs printf '%.1f') us/task;" \
         "worker RSS kB: $rss"
    stop_ll
done

# ---- delayed-task lateness --------------------------------------------
R flushall >/dev/null
start_ll "concurrency = 20;" "$TMP/rec.txt"
$B delayed $URL 2000 20000
sleep 23
latencies "$TMP/rec.txt" > "$TMP/late"
echo "lateness of 2000 delayed tasks due over 20 s (ms): n=$(wc -l < "$TMP/late")" \
     "p50=$(awk '{a[NR]=$1} END {print a[int(NR*0.5)]}' "$TMP/late")" \
     "p99=$(awk '{a[NR]=$1} END {print a[int(NR*0.99)]}' "$TMP/late")" \
     "max=$(tail -1 "$TMP/late") min=$(head -1 "$TMP/late")"

# ---- idle pick-up --------------------------------------------------------
: > "$TMP/rec.txt"
$B idle $URL 200 50
sleep 0.5
latencies "$TMP/rec.txt" > "$TMP/idle"
echo "idle pick-up latency (ms, enqueue call to handler start): n=$(wc -l < "$TMP/idle")" \
     "p50=$(awk '{a[NR]=$1} END {print a[int(NR*0.5)]}' "$TMP/idle")" \
     "p99=$(awk '{a[NR]=$1} END {print a[int(NR*0.99)]}' "$TMP/idle")" \
     "max=$(tail -1 "$TMP/idle")"
stop_ll
