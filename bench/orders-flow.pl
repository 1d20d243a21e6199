#!/usr/bin/perl
# Orders per second through looklook's two order flows, end to end, as in a
# deployment (Redis, the Kafka mock broker, looklook with 2 workers):
#
#   close  N close tasks (defer:homestay_order:close, due now) enqueued in
#          Redis for N WaitPay orders; timed from the enqueue until all N
#          orders are Cancel (dequeue, handler, versioned UPDATE, ack)
#   pay    N payment messages published to payment-update-paystatus-topic;
#          timed from the first publish until all N orders are WaitUse
#          (consume, handler, versioned UPDATE, notify task enqueued,
#          offset commit in the background)
#   create looklook-cli order create --count N (order-rpc's insert and its
#          close task), for reference
#
# Env: BENCH_N (default 2000), BENCH_WORKERS (2), BENCH_KAFKA_ORDER
# (partition, as the shipped config; or key / none).
use strict;
use warnings;
use Time::HiRes qw(time sleep);
use LL::Test;
use LL::Redis;
use LL::Kafka;
use LL::MariaDB;

my $N       = $ENV{BENCH_N} // 2000;
my $workers = $ENV{BENCH_WORKERS} // 2;
my $korder  = $ENV{BENCH_KAFKA_ORDER} // 'partition';
my $cli     = ll_bin('looklook-cli');
my $topic   = 'payment-update-paystatus-topic';
chomp(my $cpu = `grep -m1 'model name' /proc/cpuinfo | cut -d: -f2`);
chomp(my $nproc = `nproc`);
printf "orders-flow: N=%d, %d workers, kafka order=%s, %s CPUs,%s\n",
    $N, $workers, $korder, $nproc, $cpu;

sub bench {
    my ($name, $db_url, $count_state) = @_;
    my $redis = LL::Redis->start;
    my $k  = LL::Kafka->start(topics => ["$topic:4", "$topic.dlq:1"],
                              brokers => 1);
    my ($boot, $ru, $lk) = ($k->bootstrap, $redis->url,
                            LL::Kafka::librdkafka_conf());
    my $ll = LL::Test::Server->new(conf => <<"EOF");
worker_processes = $workers;
handler_threads = 16;
log_level = "info";
modules = (
  { name = "redisq"; path = "%%OBJS%%/redisq.so"; redis = "$ru";
    concurrency = 16; queues = { default = 1; }; },
  { name = "kafka"; path = "%%OBJS%%/kafka.so"; brokers = "$boot";
    group = "payment-update-paystatus-group"; topics = [ "$topic" ];
    offset = "first"; order = "$korder"; librdkafka = ( $lk ); },
  { name = "orders"; path = "%%OBJS%%/orders.so"; db = "$db_url"; },
  { name = "order_close"; path = "%%OBJS%%/order_close.so"; },
  { name = "payment_update"; path = "%%OBJS%%/payment_update.so";
    notify_queue = "notify"; }
);
routes = (
  { from = "redisq:defer:homestay_order:close"; to = "order_close"; },
  { from = "kafka:$topic"; to = "payment_update"; }
);
EOF
    $ll->start or die "looklook did not start:\n" . $ll->log;
    my $want = $workers > 1 ? qr/(?s)assigned .*assigned / : qr/assigned /;
    $ll->wait_log($want, 30);
    my @c = ($cli, '-c', $ll->conf_path);

    my $create = sub {
        my $t0 = time;
        my ($rc, $out) = ll_run(@c, 'order', 'create', '--count', $N, @_);
        die "order create: $out" if $rc != 0;
        return ([ split /\n/, $out ], time - $t0);
    };
    my $wait = sub {
        my ($state, $t0) = @_;
        ll_wait_until(sub { $count_state->($state) >= $N }, 600)
            or die "$name: only " . $count_state->($state) . " of $N $state\n"
                   . $ll->log;
        return time - $t0;
    };

    # reference: order-rpc's side, one CLI process
    my (undef, $ct) = $create->('--close-in', '1h');
    printf "  %-8s create %6d orders + close tasks    %7.2f s %8.0f orders/s\n",
        $name, $N, $ct, $N / $ct;

    # close flow
    my ($sns) = $create->('--no-close');
    my $file = $ll->dir . '/close.jsonl';
    ll_write($file, join('', map { qq({"type":"defer:homestay_order:close",)
                                   . qq("payload":{"Sn":"$_"}}\n) } @$sns));
    my $t0 = time;
    my ($rc, $out) = ll_run(@c, 'task', 'enqueue', '--file', $file);
    die "enqueue: $out" if $rc != 0;
    my $t = $wait->(-1, $t0);
    printf "  %-8s close  %6d orders -> Cancel          %7.2f s %8.0f orders/s\n",
        $name, $N, $t, $N / $t;

    # pay flow
    ($sns) = $create->('--no-close');
    my $list = $ll->dir . '/sns.txt';
    ll_write($list, join("\n", @$sns) . "\n");
    $t0 = time;
    ($rc, $out) = ll_run('sh', '-c', "'$cli' -c '" . $ll->conf_path
                         . "' pay - < '$list'");
    die "pay: $out" if $rc != 0;
    $t = $wait->(1, $t0);
    printf "  %-8s pay    %6d orders -> WaitUse+notify  %7.2f s %8.0f orders/s\n",
        $name, $N, $t, $N / $t;

    $ll->stop;
    $k->stop;
    $redis->stop;
}

{
    my $dir = ll_dir();
    my $f = "$dir/data/orders.db";
    bench('sqlite', "sqlite:$f", sub {
        my $n = `sqlite3 '$f' 'PRAGMA busy_timeout=2000;' 'SELECT count(*) FROM homestay_order WHERE trade_state = $_[0]' 2>/dev/null`;
        return ($n // '') =~ /(\d+)\s*$/ ? $1 : 0;
    });
}
if (LL::MariaDB->available) {
    my $db = LL::MariaDB->start;
    bench('mariadb', $db->url, sub {
        my $r = eval { $db->sql('SELECT count(*) FROM homestay_order WHERE'
                                . " trade_state = $_[0]") };
        return $r ? $r->[0][0] : 0;
    });
    $db->stop;
}
