# Shared by bench/redisq-bench.sh and bench/peers.sh (sourced, POSIX sh;
# out of bench/*.sh, which make bench runs):
# a scratch Redis, the redisq_bench client, looklook with redisq and the
# test handler.  Sets OBJS, TMP, PORT, URL, B; defines R, start_ll,
# stop_ll, redis_cpu, latencies, pct, spread; cleans up on exit.
OBJS=${LL_OBJS:-objs}
OBJS=$(cd "$OBJS" && pwd)
TMP=$(mktemp -d /tmp/redisq-bench-XXXXXX)
PORT=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1:0")->sockport')
URL=redis://127.0.0.1:$PORT/0
LLPID=

cleanup() {
    [ -n "$LLPID" ] && kill -QUIT "$LLPID" 2>/dev/null && sleep 1
    [ -n "${PEERPID:-}" ] && kill "$PEERPID" 2>/dev/null
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --logfile "$TMP/redis.log" --dir "$TMP"
sleep 0.3
R() { redis-cli -p "$PORT" "$@"; }

# the client and the scripts come from lib/ (the archives make builds)
cc -O2 -std=gnu11 -D_GNU_SOURCE -Iinclude/looklook -Ilib/asynq -Ilib/redis \
    -Ilib/time -I"$OBJS/lib/asynq" -o "$TMP/redisq_bench" bench/redisq_bench.c \
    "$OBJS/libllasynq.a" "$OBJS/libllredis.a" "$OBJS/liblltime.a" \
    $(pkg-config --cflags --libs hiredis libprotobuf-c uuid libcrypto) -lpthread
B=$TMP/redisq_bench

# start_ll SETTINGS RECORD [WORKERS]: redisq's settings, the handler's
# record file ("-" none; times in microseconds), worker_processes (default
# "auto"); fails if looklook exits before it is ready
start_ll() {
    w=${3:-'"auto"'}
    cat > "$TMP/ll.conf" <<EOC
worker_processes = $w;
pid_file = "$TMP/ll.pid";
error_log = "$TMP/error.log";
log_level = "info";
modules = (
  { name = "redisq"; path = "$OBJS/redisq.so"; redis = "$URL"; $1 },
  { name = "h"; path = "$OBJS/t/redisq_handler.so"; record = "$2"; microseconds = true; }
);
routes = ( { from = "redisq:*"; to = "h"; } );
EOC
    "$OBJS/looklook" -c "$TMP/ll.conf" &
    LLPID=$!
    while ! grep -q "generation 1 ready" "$TMP/error.log" 2>/dev/null; do
        if ! kill -0 "$LLPID" 2>/dev/null; then
            echo "looklook exited before it was ready:" >&2
            cat "$TMP/error.log" >&2
            LLPID=
            exit 1
        fi
        sleep 0.05
    done
}
stop_ll() { kill -QUIT "$LLPID"; wait "$LLPID" 2>/dev/null || true; LLPID=; rm -f "$TMP/error.log"; }
# Redis's CPU seconds so far
redis_cpu() { R info cpu | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.6f", s }'; }
# latencies REC: the handler's start minus the time in each task's ID
# (redisq_bench's idle and delayed IDs), in ms with microsecond steps,
# sorted
latencies() {
    awk '{ split($3, a, "_"); printf "%.3f\n", ($1 - substr(a[1], 2)) / 1000 }' "$1" | sort -n
}
# pct FILE Q: the Q quantile (0 to 1) of FILE's sorted numbers
pct() { awk -v q="$2" '{ a[NR] = $1 } END { i = int(NR * q); print a[i ? i : 1] }' "$1"; }
# spread FILE: how many, p50, p99 and max of FILE's sorted numbers
spread() { echo "n=$(wc -l < "$1") p50=$(pct "$1" 0.5) p99=$(pct "$1" 0.99) max=$(tail -1 "$1")"; }
