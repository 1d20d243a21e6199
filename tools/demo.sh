#!/bin/sh
# looklook's end-to-end demo (make demo): Redis, a Kafka broker (the mock
# cluster from tools/kafka-mock) and looklook with conf/looklook.conf, then
# the rest of a looklook deployment acted out with looklook-cli:
#
#   order-rpc     creates orders and enqueues their close tasks (5 s here,
#                 30 min in looklook)
#   payment-rpc   publishes payment results to Kafka for some of them
#
# looklook cancels the unpaid ones when their close task comes due, moves
# the paid ones to WaitUse (and enqueues the user notification), and
# dead-letters a payment that came after its order was closed.
#
# Everything runs in a temporary folder and is stopped at the end.
# LL_OBJS: the build folder (default objs); LL_KEEP=1 keeps the folder.
set -eu

cd "$(dirname "$0")/.."
OBJS=$(cd "${LL_OBJS:-objs}" && pwd)
CLI=$OBJS/looklook-cli
T=$(mktemp -d "${TMPDIR:-/tmp}/looklook-demo.XXXXXX")
CLOSE_IN=5s
PIDS=

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cleanup() {
    set +e
    if [ -f "$T/run/looklook.pid" ]; then
        "$OBJS/looklook" -c "$T/looklook.conf" -s quit 2>/dev/null
        i=0
        while [ -f "$T/run/looklook.pid" ] && [ $i -lt 100 ]; do
            sleep 0.1; i=$((i + 1))
        done
    fi
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    if [ "${LL_KEEP:-}" = 1 ]; then
        echo "demo folder kept: $T"
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() {
    perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1,
        LocalAddr => "127.0.0.1", LocalPort => 0)->sockport'
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds
wait_for() {
    n=$(($1 * 10)); shift
    while ! "$@" >/dev/null 2>&1; do
        n=$((n - 1))
        [ $n -gt 0 ] || return 1
        sleep 0.1
    done
}

mkdir -p "$T/run" "$T/data"

say "starting Redis and a Kafka broker"
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$T" --daemonize no > "$T/redis.log" 2>&1 &
PIDS="$PIDS $!"
"$OBJS/kafka-mock" -b 1 -t payment-update-paystatus-topic:4 \
    -t payment-update-paystatus-topic.dlq:1 \
    -w "$T/kafka.boot" -C "$T/kafka.ctl" > "$T/kafka.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 redis-cli -p "$RPORT" ping
wait_for 15 test -s "$T/kafka.boot"
REDIS=redis://127.0.0.1:$RPORT/0
BROKERS=$(cat "$T/kafka.boot")
echo "redis $REDIS, kafka $BROKERS"

say "starting looklook with conf/looklook.conf"
# the mock broker rebalances in session.timeout.ms - 1 s: keep it short
MOCK_KAFKA='"consumer:session.timeout.ms=3000", "consumer:heartbeat.interval.ms=500", "consumer:partition.assignment.strategy=range"'

# the shipped config with the demo's addresses and folders
sed -e "s|^module_dir *=.*|module_dir       = \"$OBJS\";|" \
    -e "s|^worker_processes *=.*|worker_processes = 2;|" \
    -e "s|^error_log *=.*|error_log        = \"$T/error.log\";|" \
    -e "s|redis = \"redis://127.0.0.1:6379/0\"|redis = \"$REDIS\"|" \
    -e "s|task = \"schedule:settle_record:settle\";|&\n                  queue = \"mqueue-job\";|" \
    -e "s|brokers = \"127.0.0.1:9092\"|brokers = \"$BROKERS\"|" \
    -e "s|offset = \"first\"; }|offset = \"first\"; librdkafka = ( $MOCK_KAFKA ); }|" \
    -e "s|path = \"payment_update.so\"; }|path = \"payment_update.so\"; notify_queue = \"mqueue-job\"; }|" \
    conf/looklook.conf > "$T/looklook.conf"
"$OBJS/looklook" -t -c "$T/looklook.conf"
"$OBJS/looklook" -c "$T/looklook.conf" > "$T/stdout.log" 2>&1 &
PIDS="$PIDS $!"
if ! wait_for 30 grep -q "generation 1 ready" "$T/error.log"; then
    cat "$T/error.log" >&2
    exit 1
fi
grep -E "ready|order store" "$T/error.log" | sed 's/^/  /'
assigned() { [ "$(grep -c 'kafka: assigned' "$T/error.log")" -ge 2 ]; }
wait_for 20 assigned || true
grep "kafka: assigned" "$T/error.log" | sed 's/^/  /'

C="$CLI -c $T/looklook.conf"

say "order-rpc: 10 orders, each with its close task due in $CLOSE_IN"
$C order create --count 10 --user 42 --homestay 7 --price 29900 \
    --food --food-price 2500 --people 2 --days 2 --close-in "$CLOSE_IN" \
    > "$T/orders"
cat "$T/orders" | sed 's/^/  /'
set -- $(cat "$T/orders")

# count N STATE SN...: whether N of the orders are in STATE
count() {
    n=$1 st=$2; shift 2
    [ "$($C order show "$@" | grep -c " $st ")" -ge "$n" ]
}

say "payment-rpc: orders 1-6 paid (order 2's message sent twice), via Kafka"
$C pay "$1" "$2" "$2" "$3" "$4" "$5" "$6"
wait_for 30 count 6 WaitUse "$1" "$2" "$3" "$4" "$5" "$6" || true
say "payment-rpc: order 6 refunded"
$C pay "$6" --status 2
wait_for 30 count 1 Refund "$6" || true

say "waiting for the close tasks of orders 7-10 ($CLOSE_IN after creation)"
wait_for 40 count 4 Cancel "$7" "$8" "$9" "${10}" || true

say "payment-rpc: a late payment for order 7, which is closed by now"
$C pay "$7"
dead() {
    [ "$(kcat -C -b "$BROKERS" -t payment-update-paystatus-topic.dlq -e -q \
         -f '%o\n' 2>/dev/null | wc -l)" -ge 1 ]
}
wait_for 30 dead || true

say "the orders: 1-5 paid, 6 paid and refunded, 7-10 closed unpaid"
$C order show "$@" | sed 's/^/  /'

say "the queues (asynq's layout in Redis: asynqmon and the asynq CLI read it)"
$C stats | sed 's/^/  /'
echo "  tasks for mqueue-job (queue \"mqueue-job\", which this demo's looklook"
echo "  does not serve): the pay-success notifications"
$C task ls --queue mqueue-job --state pending | cut -c1-110 | sed 's/^/    /'

say "the topic"
sleep 1.5                       # the consumer commits every second
"$OBJS/kafka-mock" committed -b "$BROKERS" -g payment-update-paystatus-group \
    -t payment-update-paystatus-topic \
    | awk '{ printf "  %s partition %s: committed offset %s\n", $1, $2, $3 }'
echo "  dead letters (payment-update-paystatus-topic.dlq):"
kcat -C -b "$BROKERS" -t payment-update-paystatus-topic.dlq -e -q \
    -f '    %s\n    headers: %h\n' 2>/dev/null || true

say "looklook's log: dead letters and errors"
grep -E "dead-letter|\[err\]" "$T/error.log" | tail -8 | sed 's/^/  /' || true

say "stopping"
