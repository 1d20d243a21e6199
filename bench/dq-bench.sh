#!/bin/sh
# dq benchmark: jobs/s drained through one beanstalkd node, and through two
# nodes holding the same jobs (go-queue's producer writes each job to both:
# every job is reserved twice, run once, its copy dropped by the Redis
# lock).  No-op handler, 2 workers.  Prints figures; asserts nothing.
# Needs LL_OBJS (the build dir), beanstalkd and redis-server.
#   LL_OBJS=objs sh bench/dq-bench.sh
set -e
OBJS=${LL_OBJS:-objs}
OBJS=$(cd "$OBJS" && pwd)
N=${N:-20000}
TMP=$(mktemp -d /tmp/dq-bench-XXXXXX)
port() { perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1:0")->sockport'; }
RPORT=$(port)
B1=$(port)
B2=$(port)
PIDS=
LLPID=

cleanup() {
    [ -n "$LLPID" ] && kill -QUIT "$LLPID" 2>/dev/null && sleep 1
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    redis-cli -p "$RPORT" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --logfile "$TMP/redis.log" --dir "$TMP"
beanstalkd -l 127.0.0.1 -p "$B1" & PIDS="$PIDS $!"
beanstalkd -l 127.0.0.1 -p "$B2" & PIDS="$PIDS $!"
sleep 0.3

# put N go-queue jobs ("<unix ns>/body", pri 2, ttr 5) into tube bench of
# each port given, pipelined
fill() {
    perl -MIO::Socket::INET -MTime::HiRes=time -e '
        my ($n, @ports) = @ARGV;
        my $ns = sprintf("%d", time * 1e9);
        for my $p (@ports) {
            my $s = IO::Socket::INET->new("127.0.0.1:$p") or die "$p: $!";
            print $s "use bench\r\n";
            <$s>;
            for (my $i = 0; $i < $n; $i += 1000) {
                my $req = "";
                for my $j ($i .. ($i + 999 < $n ? $i + 999 : $n - 1)) {
                    my $b = "$ns/job-$j";
                    $req .= "put 2 0 5 " . length($b) . "\r\n$b\r\n";
                }
                print $s $req;
                for my $j ($i .. ($i + 999 < $n ? $i + 999 : $n - 1)) {
                    <$s> =~ /^INSERTED/ or die "put failed";
                }
            }
        }' "$@"
}

# wait until tube bench is empty on the given ports
drained() {
    perl -MIO::Socket::INET -MTime::HiRes=sleep -e '
        my @s = map { IO::Socket::INET->new("127.0.0.1:$_") or die } @ARGV;
        while (1) {
            my $left = 0;
            for my $s (@s) {
                print $s "stats-tube bench\r\n";
                my ($n) = <$s> =~ /^OK (\d+)/ or die;
                read($s, my $y, $n + 2);
                $left += $1 while $y =~ /^current-jobs-(?:ready|reserved|delayed): (\d+)/mg;
            }
            exit 0 if $left == 0;
            sleep 0.02;
        }' "$@"
}

run() {     # $1 = beanstalks list, $2 = concurrency, rest = ports
    nodes=$1; conc=$2; shift 2
    redis-cli -p "$RPORT" flushall >/dev/null
    fill "$N" "$@"
    cat > "$TMP/ll.conf" <<CONF
worker_processes = 2;
pid_file = "$TMP/ll.pid";
error_log = "$TMP/error.log";
modules = (
  { name = "dq"; path = "$OBJS/dq.so"; beanstalks = ( $nodes );
    redis = "redis://127.0.0.1:$RPORT/0"; concurrency = $conc; },
  { name = "h"; path = "$OBJS/t/dq_handler.so"; record = "-"; }
);
routes = ( { from = "dq:bench"; to = "h"; } );
CONF
    t0=$(date +%s.%N)
    "$OBJS/looklook" -c "$TMP/ll.conf" &
    LLPID=$!
    drained "$@"
    t1=$(date +%s.%N)
    kill -QUIT "$LLPID"; wait "$LLPID" 2>/dev/null || true; LLPID=
    rm -f "$TMP/error.log"
    echo "$N / ($t1 - $t0)" | bc -l | xargs printf '%.0f'
}

echo "host: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
N1="{ endpoint = \"127.0.0.1:$B1\"; tube = \"bench\"; }"
N2="{ endpoint = \"127.0.0.1:$B2\"; tube = \"bench\"; }"
for C in 8 32; do
    echo "drain $N jobs, one node, 2 workers x concurrency $C:" \
         "$(run "$N1" $C "$B1") jobs/s"
    echo "drain $N jobs replicated on two nodes ($((2 * N)) reservations)," \
         "2 workers x concurrency $C per node: $(run "$N1, $N2" $C "$B1" "$B2") jobs/s"
done
