#!/bin/sh
# looklook's redisq against its peers on one Redis: BullMQ (npm) and
# Sidekiq (Debian's ruby-sidekiq).  The same workloads, interleaved
# (round by round, workload by workload, system by system): drain N no-op
# jobs at concurrency 10 and 50 (one process each: looklook with one
# worker), enqueue one at a time and in bulk, idle pick-up, delayed
# lateness, Redis CPU per drained job, peak RSS of the draining processes.
# Prints looklook's figures and each peer's as a ratio to looklook's
# (median and range over ROUNDS rounds).  Asserts nothing.
#   sh bench/peers.sh --install   first installs the peers: BullMQ into
#                                 PEERS_DIR with npm, ruby-sidekiq with apt
#   LL_OBJS=objs ROUNDS=3 N=20000 sh bench/peers.sh
# They are the benchmark's alone: quickstart does not install them.
set -e
PEERS_DIR=${PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/looklook-peers}
if [ "${1:-}" = --install ]; then
    mkdir -p "$PEERS_DIR"
    npm install --prefix "$PEERS_DIR" --no-audit --no-fund --silent bullmq ioredis
    dpkg -s ruby-sidekiq >/dev/null 2>&1 \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y \
           --no-install-recommends ruby-sidekiq
fi
if [ ! -d "$PEERS_DIR/node_modules/bullmq" ] || ! command -v sidekiq >/dev/null
then
    echo "peers not installed (sh bench/peers.sh --install): skipped"
    exit 0
fi
ROUNDS=${ROUNDS:-3}
N=${N:-20000}
NS=${NS:-2000}          # jobs enqueued one at a time
. bench/lib/redisq.sh
export REDIS_URL="$URL" NODE_PATH="$PEERS_DIR/node_modules"
RES=$TMP/results
PEERPID=

# peak RSS (kB) of process $1 and its children
rss() { for p in $1 $(pgrep -P "$1"); do awk '/^VmHWM/ { print $2 }' /proc/$p/status; done | awk '{ s += $1 } END { print s }'; }
# wait up to $2 s for file $1
await() { i=0; while [ ! -s "$1" ] && [ $i -lt $(($2 * 20)) ]; do sleep 0.05; i=$((i + 1)); done; [ -s "$1" ]; }

# worker SYS C JOBS OUT: a peer's worker in the background (PEERPID)
worker() {
    rm -f "$4"
    case $1 in
    bullmq)  PEER_N=$3 PEER_OUT=$4 node bench/peers/bullmq.js worker "$2" \
                 >"$TMP/peer.log" 2>&1 & ;;
    sidekiq) PEER_N=$3 PEER_OUT=$4 sidekiq -r ./bench/peers/sidekiq.rb -c "$2" \
                 -q default >"$TMP/peer.log" 2>&1 & ;;
    esac
    PEERPID=$!
}
stop_worker() { kill "$PEERPID"; wait "$PEERPID" 2>/dev/null || true; PEERPID=; }
client() {
    case $1 in
    looklook) shift; $B "$1" "$URL" "$2" "$3" ;;
    bullmq)   shift; node bench/peers/bullmq.js "$@" ;;
    sidekiq)  shift; ruby bench/peers/sidekiq.rb "$@" ;;
    esac
}

drain() {   # SYS C ROUND
    R flushall >/dev/null
    if [ "$1" = looklook ]; then
        $B enqueue "$URL" "$N" bulk >/dev/null
        R set 'asynq:{default}:paused' 1 >/dev/null
        start_ll "concurrency = $2;" "-" 1
        c0=$(redis_cpu)
        rate=$($B wait "$URL" "$N" 'asynq:{default}:processed')
        c1=$(redis_cpu)
        mem=$(rss "$LLPID")
        stop_ll
    else
        client "$1" enqueue "$N" bulk >/dev/null
        c0=$(redis_cpu)
        worker "$1" "$2" "$N" "$TMP/out"
        await "$TMP/out" 600
        c1=$(redis_cpu)
        rate=$(cat "$TMP/out")
        mem=$(rss "$PEERPID")
        stop_worker
    fi
    echo "drain_c$2_jobs/s $1 $3 $rate" >> "$RES"
    echo "redis_cpu_us/job_c$2 $1 $3 $(echo "($c1 - $c0) * 1000000 / $N" | bc -l)" >> "$RES"
    echo "peak_rss_kB_c$2 $1 $3 $mem" >> "$RES"
}

# latency SYS KIND JOBS ARG ROUND: idle (ARG = gap ms) or delayed (ARG =
# span ms); p99 of handler start minus enqueue time or due time
latency() {
    R flushall >/dev/null
    if [ "$1" = looklook ]; then
        : > "$TMP/rec.txt"
        start_ll "concurrency = 10;" "$TMP/rec.txt" 1
        $B "$2" "$URL" "$3" "$4"
        i=0
        while [ "$(wc -l < "$TMP/rec.txt")" -lt "$3" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
        stop_ll
        latencies "$TMP/rec.txt" > "$TMP/lat"
    else
        worker "$1" 10 "$3" "$TMP/out"
        sleep 3     # booted
        client "$1" "$2" "$3" "$4"
        await "$TMP/out" 60 || true
        stop_worker
        sort -n "$TMP/out" > "$TMP/lat"
    fi
    echo "${2}_p99_ms $1 $5 $(pct "$TMP/lat" 0.99)" >> "$RES"
}

echo "host: $(nproc) CPUs, load at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "peers: BullMQ $(sed -n 's/^ *"version": "\(.*\)".*/\1/p' "$PEERS_DIR/node_modules/bullmq/package.json"), Sidekiq $(ruby -rsidekiq -e 'print Sidekiq::VERSION'), Redis $(R info server | sed -n 's/^redis_version:\(.*\)\r/\1/p')"
: > "$RES"
for round in $(seq "$ROUNDS"); do
    for s in looklook bullmq sidekiq; do drain $s 10 "$round"; done
    for s in looklook bullmq sidekiq; do drain $s 50 "$round"; done
    for s in looklook bullmq sidekiq; do
        R flushall >/dev/null
        echo "enqueue_single_jobs/s $s $round $(client $s enqueue "$NS" single)" >> "$RES"
    done
    for s in looklook bullmq sidekiq; do
        R flushall >/dev/null
        echo "enqueue_bulk_jobs/s $s $round $(client $s enqueue "$N" bulk)" >> "$RES"
    done
    for s in looklook bullmq sidekiq; do latency $s idle 100 20 "$round"; done
    for s in looklook bullmq sidekiq; do latency $s delayed 500 5000 "$round"; done
    echo "round $round done, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
done
echo "load at end $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "${RAW:-}" ] && sed 's/^/raw: /' "$RES"

# per figure: looklook's median [range], each peer's ratio to looklook in
# the same round, median [range]; a looklook latency under 1 ms counts as
# 1 ms in the ratios, since the peers time their jobs on 1 ms clocks
awk '
function f(x) { return sprintf(x >= 100 ? "%.0f" : "%.3g", x) }
function med(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return f(n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) \
        " [" f(a[1]) "-" f(a[n]) "]"
}
{ v[$1, $2, $3] = $4; if (!($1 in seen)) { seen[$1] = 1; order[++nm] = $1 } rounds[$3] = 1 }
END {
    printf "%-24s %-26s %-24s %-24s\n", "figure", "looklook", "BullMQ / looklook", "Sidekiq / looklook"
    for (m = 1; m <= nm; m++) {
        k = order[m]; ll = ""; bq = ""; sk = ""
        for (r in rounds) {
            if (!((k, "looklook", r) in v)) continue
            ll = ll " " v[k, "looklook", r]
            # latencies: the peers clocks have 1 ms steps
            d = k ~ /_ms$/ && v[k, "looklook", r] < 1 ? 1 : v[k, "looklook", r]
            if (d == 0) continue
            if (v[k, "bullmq", r] != "") bq = bq " " v[k, "bullmq", r] / d
            if (v[k, "sidekiq", r] != "") sk = sk " " v[k, "sidekiq", r] / d
        }
        printf "%-24s %-26s %-24s %-24s\n", k, med(ll), bq == "" ? "-" : med(bq), sk == "" ? "-" : med(sk)
    }
}' "$RES"
