#!/bin/sh
# Drain rate of redisq on one Redis against a three-master Redis Cluster, in
# the same run: N no-op tasks over three queues (weights 3:2:1), whose
# slots are on the cluster's three masters; 2 workers, concurrency 50
# each.  Prints tasks/s and each Redis's CPU per task.  Asserts nothing.
# Needs LL_OBJS (the build dir), redis-server and redis-cli.
#   LL_OBJS=objs sh bench/redis-ha.sh
set -e
OBJS=${LL_OBJS:-objs}
OBJS=$(cd "$OBJS" && pwd)
N=${N:-60000}
TMP=$(mktemp -d /tmp/redis-ha-bench-XXXXXX)
PORTS=
LLPID=

free_port() {     # <= 55535: a cluster node's bus port is its port + 10000
    perl -MIO::Socket::INET -e 'while (1) { my $p = IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1:0")->sockport;
        next if $p > 55535; IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1:".($p+10000)) or next; print $p; last }'
}
cleanup() {
    [ -n "$LLPID" ] && kill -QUIT "$LLPID" 2>/dev/null && sleep 1
    for p in $PORTS; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

redis() {   # $1 = port, then redis-server options
    p=$1; shift
    mkdir -p "$TMP/$p"
    redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize yes --logfile "$TMP/$p/redis.log" --dir "$TMP/$p" "$@"
    PORTS="$PORTS $p"
    while ! redis-cli -p "$p" ping >/dev/null 2>&1; do sleep 0.05; done
}
cpu() {     # the CPU seconds Redis on port $1 has used
    redis-cli -p "$1" info cpu | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.6f", s }'
}
now() { date +%s.%N; }

echo "host: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"

# ---- the servers ---------------------------------------------------------
ONE=$(free_port); redis "$ONE"
C1=$(free_port); C2=$(free_port); C3=$(free_port)
for p in $C1 $C2 $C3; do
    redis "$p" --cluster-enabled yes --cluster-config-file "$TMP/$p/nodes.conf"
done
redis-cli --cluster create 127.0.0.1:$C1 127.0.0.1:$C2 127.0.0.1:$C3 \
    --cluster-replicas 0 --cluster-yes >/dev/null
for p in $C1 $C2 $C3; do
    while ! redis-cli -p "$p" cluster info | grep -q cluster_state:ok; do sleep 0.1; done
done

# one queue on each master: redis-cli --cluster create gives the first
# node slots 0-5460, the second 5461-10922, the third the rest
Q1= Q2= Q3=
for i in $(seq 1 100); do
    s=$(redis-cli -p "$C1" cluster keyslot "q$i")
    if [ "$s" -le 5460 ]; then [ -z "$Q1" ] && Q1=q$i
    elif [ "$s" -le 10922 ]; then [ -z "$Q2" ] && Q2=q$i
    else [ -z "$Q3" ] && Q3=q$i; fi
done
echo "queues: $Q1 (weight 3) on :$C1, $Q2 (2) on :$C2, $Q3 (1) on :$C3"

awk -v n="$N" -v a="$Q1" -v b="$Q2" -v c="$Q3" 'BEGIN {
    for (i = 0; i < n; i++) {
        q = i % 3 == 0 ? a : i % 3 == 1 ? b : c
        printf "{\"type\":\"t:b\",\"payload\":\"done\",\"queue\":\"%s\",\"id\":\"b%d\"}\n", q, i
    } }' > "$TMP/tasks.jsonl"

# ---- one drain -----------------------------------------------------------
drain() {   # $1 = label, $2 = URL, $3 = ports of its Redis servers
    for q in $Q1 $Q2 $Q3; do
        redis-cli -c -p "${3%% *}" set "asynq:{$q}:paused" 1 >/dev/null
    done
    t0=$(now)
    "$OBJS/looklook-cli" -u "$2" task enqueue --file "$TMP/tasks.jsonl" >/dev/null
    t1=$(now)
    cat > "$TMP/ll.conf" <<EOF
worker_processes = 2;
pid_file = "$TMP/ll.pid";
error_log = "$TMP/error.log";
modules = (
  { name = "redisq"; path = "$OBJS/redisq.so"; redis = "$2";
    concurrency = 50; queues = { $Q1 = 3; $Q2 = 2; $Q3 = 1; }; },
  { name = "h"; path = "$OBJS/t/redisq_handler.so"; record = "-"; }
);
routes = ( { from = "redisq:*"; to = "h"; } );
EOF
    rm -f "$TMP/error.log"
    "$OBJS/looklook" -c "$TMP/ll.conf" &
    LLPID=$!
    while ! grep -q "generation 1 ready" "$TMP/error.log" 2>/dev/null; do sleep 0.05; done
    c0=; for p in $3; do c0="$c0 $(cpu "$p")"; done
    t2=$(now)
    for q in $Q1 $Q2 $Q3; do
        redis-cli -c -p "${3%% *}" del "asynq:{$q}:paused" >/dev/null
    done
    while :; do
        done_n=0
        for q in $Q1 $Q2 $Q3; do
            v=$(redis-cli -c -p "${3%% *}" get "asynq:{$q}:processed")
            done_n=$((done_n + ${v:-0}))
        done
        [ "$done_n" -ge "$N" ] && break
        sleep 0.05
    done
    t3=$(now)
    c1=; for p in $3; do c1="$c1 $(cpu "$p")"; done
    kill -QUIT "$LLPID"; wait "$LLPID" 2>/dev/null || true; LLPID=
    per=$(echo "$c0 | $c1" | awk -v n="$N" -F'|' '{
        split($1, a, " "); split($2, b, " ")
        for (i = 1; i in a; i++) printf "%s%.1f", (i > 1 ? " + " : ""), (b[i] - a[i]) * 1e6 / n }')
    echo "$1: enqueue $N (looklook-cli --file): $(echo "$N / ($t1 - $t0)" | bc) tasks/s;" \
         "drain: $(echo "$N / ($t3 - $t2)" | bc) tasks/s;" \
         "Redis CPU per task drained: $per us"
}

drain "one Redis" "redis://127.0.0.1:$ONE/0" "$ONE"
drain "cluster, 3 masters" "redis-cluster://127.0.0.1:$C1,127.0.0.1:$C2,127.0.0.1:$C3" "$C1 $C2 $C3"
