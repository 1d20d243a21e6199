#!/bin/sh
# Kafka consume + handle (no-op) + commit rate through looklook, against
# kcat's raw consume rate from the same mock cluster; then looklook's
# memory while it works through a 1,000,000-message backlog.
#   LL_OBJS=objs sh bench/kafka-consume.sh     (N, P, MEM_N override sizes)
set -e
O=${LL_OBJS:-objs}
N=${N:-500000}          # messages for the rate runs (100 B each)
P=${P:-16}              # partitions (the mock keeps ~5 MiB per partition)
MEM_N=${MEM_N:-1000000}
BACKLOG=${BACKLOG:-10000}   # the module's backlog setting (per partition)
MEM_P=32
tmp=$(mktemp -d /tmp/kafka-bench-XXXXXX)
mock=
ll=

cleanup() {
    [ -n "$ll" ] && kill -TERM "$ll" 2>/dev/null && wait "$ll" 2>/dev/null
    [ -n "$mock" ] && kill "$mock" 2>/dev/null && wait "$mock" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f msg/s (%.2f s)", n / (b - a), b - a }'; }

cc -std=gnu11 -O2 -fPIC -shared -Iinclude -o "$tmp/kafka_noop.so" bench/kafka_noop.c

"$O/kafka-mock" -t "bt:$P" -t "mem:$MEM_P" -w "$tmp/boot" >"$tmp/mock.log" 2>&1 &
mock=$!
while [ ! -s "$tmp/boot" ]; do sleep 0.1; done
B=$(cat "$tmp/boot")

echo "cpu: $(nproc) x $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
echo "producing $N x 100 B into bt ($P partitions) and $MEM_N into mem ($MEM_P)"
perl -e 'print "x" x 99, "\n" for 1 .. $ARGV[0]' "$N" | kcat -P -b "$B" -t bt -X linger.ms=50
perl -e 'print "y" x 99, "\n" for 1 .. $ARGV[0]' "$MEM_N" | kcat -P -b "$B" -t mem -X linger.ms=50

committed() {
    "$O/kafka-mock" committed -b "$B" -g "$1" -t "$2" | awk '{ if ($3 > 0) s += $3 } END { print s + 0 }'
}

# kcat: raw consume of every partition to the end, default settings
t0=$(now); kcat -C -b "$B" -t bt -o beginning -e -q >/dev/null; t1=$(now)
echo "kcat -C (raw consume, default settings): $(rate "$N" "$t0" "$t1")"
kcat_rate=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { print n / (b - a) }')

# looklook: one worker, consume + no-op handler + commit; timed from the
# partition assignment to the last offset committed
run_ll() {     # name group topic count librdkafka-extra module-extra
    cat >"$tmp/$1.conf" <<CONF
worker_processes = 1;
pid_file = "$tmp/$1.pid";
error_log = "$tmp/$1.log";
shutdown_timeout = 5;
modules = (
  { name = "noop"; path = "$tmp/kafka_noop.so"; },
  { name = "kafka"; path = "$(cd "$O" && pwd)/kafka.so"; brokers = "$B";
    group = "$2"; topics = [ "$3" ]; offset = "first"; commit_interval = "200ms";
    backlog = $BACKLOG; $6
    librdkafka = ( "consumer:session.timeout.ms=6000",
                   "consumer:partition.assignment.strategy=range" $5 ); }
);
routes = ( { from = "kafka:$3"; to = "noop"; } );
CONF
    "$O/looklook" -c "$tmp/$1.conf" 2>>"$tmp/$1.log" &
    ll=$!
    until grep -q 'kafka: assigned' "$tmp/$1.log" 2>/dev/null; do sleep 0.02; done
    t0=$(now)
    until [ "$(committed "$2" "$3")" -ge "$4" ]; do sleep 0.1; done
    t1=$(now)
    worker=$(pgrep -P "$ll" | head -1)
    hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$worker/status")
    kill -TERM "$ll"; wait "$ll" 2>/dev/null || true; ll=
    pct=$(awk -v n="$4" -v a="$t0" -v b="$t1" -v k="$kcat_rate" 'BEGIN { printf "%.0f", 100 * n / (b - a) / k }')
    echo "looklook $1: $(rate "$4" "$t0" "$t1") = $pct % of kcat, worker peak RSS $((hwm / 1024)) MiB"
}

run_ll "order=partition (default)" g1 bt "$N" "" ""
run_ll "order=key" g2 bt "$N" "" 'order = "key";'
run_ll "order=none" g3 bt "$N" "" 'order = "none"; parallelism = 64;'
echo "memory: a $MEM_N-message backlog in $MEM_P partitions (backlog = $BACKLOG each)"
run_ll "1M backlog" gm mem "$MEM_N" "" ""
