#!/usr/bin/perl
# kafka's metrics through the admin module and a real Prometheus: the
# consumer lag per partition (high watermark minus committed) while a
# message holds its partition, and 0 once the consumer catches up; the
# partition paused while its backlog is full; dead letters counted;
# /readyz 503 while every broker is down and 200 when they are back; a
# reload and a killed worker lose no message.
use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use JSON::PP ();
use LL::Test;
use LL::Kafka;
use LL::Prometheus;

my $k     = LL::Kafka->start(topics => ['lag:2', 'lag.dlq:1']);
my $lk    = LL::Kafka::librdkafka_conf('reconnect.backoff.max.ms' => 1000);
my $boot  = $k->bootstrap;
my $port  = ll_free_port();
my $token = 'tok' . int(rand(1e9));
my $dir   = ll_dir();
my $sink  = "$dir/sink.log";
my $ll    = LL::Test::Server->new(dir => $dir, conf => <<EOF);
worker_processes = 1;
shutdown_timeout = 5;
modules = (
  { name = "admin"; path = "%%OBJS%%/admin.so"; listen = "127.0.0.1:$port";
    token = "$token"; },
  { name = "sink"; path = "%%OBJS%%/t/kafka_sink.so"; file = "$sink"; },
  { name = "kafka"; path = "%%OBJS%%/kafka.so"; brokers = "$boot";
    group = "glag"; topics = [ "lag" ]; offset = "first"; backlog = 4;
    max_retries = 2; commit_interval = "200ms"; librdkafka = ( $lk ); }
);
routes = ( { from = "kafka:lag"; to = "sink"; } );
EOF

my $http = HTTP::Tiny->new(timeout => 5);
sub get { $http->get("http://127.0.0.1:$port$_[0]",
                     { headers => { Authorization => "Bearer $token" } }) }
sub handled {
    my %h;
    $h{"$_->{partition}:$_->{offset}"} = 1 for LL::Kafka::sink_read($sink);
    return scalar keys %h;
}
# every /metrics text the test fetches goes through promtool
sub metrics_checked {
    my $r = get('/metrics');
    my ($rc, $out) = LL::Prometheus::lint($r->{content});
    is($rc, 0, 'promtool check metrics') or diag($out);
    return $r->{content};
}
my $lag = 'looklook_kafka_consumer_lag{name="kafka",topic="lag",partition="%d"}';

ok($ll->start, 'started') or BAIL_OUT($ll->log);
ok($ll->wait_log(qr/kafka: assigned lag\[0,1\]/, 30), 'both partitions assigned');
my $prom = LL::Prometheus->new(target => "127.0.0.1:$port", token => $token);

# ---- caught up: lag 0 ---------------------------------------------------
$k->produce('lag', map { { value => "m$_", partition => $_ % 2 } } 0 .. 19);
ok(ll_wait_until(sub { handled() == 20 }, 30), '20 messages handled');
for my $p (0, 1) {
    is($prom->wait_value(sprintf($lag, $p), sub { $_[0] == 0 }, 30), 0,
       "partition $p: lag 0 once committed");
}

# ---- a message holds partition 0: lag grows, then falls to 0 -------------
# it is retried twice, 5 s apart, then dead-lettered; the 20 behind it wait
$k->produce('lag', { value => 'retry-delay:5000', partition => 0 },
            map { { value => "w$_", partition => 0 } } 1 .. 20);
is($prom->wait_value(sprintf($lag, 0), sub { $_[0] == 21 }, 15), 21,
   'partition 0: lag = high watermark - committed = 21');
is($prom->value(sprintf($lag, 1)), 0, 'partition 1: still 0');
my $mt = metrics_checked();
like($mt, qr/^looklook_kafka_consumer_lag\{name="kafka",topic="lag",partition="0"\} 21$/m,
     '/metrics: the lag');
like($mt, qr/^looklook_kafka_high_watermark\{name="kafka",topic="lag",partition="0"\} 31$/m,
     '/metrics: its high watermark');
like($mt, qr/^looklook_kafka_committed_offset\{name="kafka",topic="lag",partition="0"\} 10$/m,
     '/metrics: its committed offset');
is($prom->wait_value('looklook_kafka_partition_paused{name="kafka",topic="lag",partition="0"}',
                     sub { $_[0] == 1 }, 10), 1,
   'partition 0 paused: its backlog is full');
ok(ll_wait_until(sub { handled() == 20 + 21 }, 40), 'then all handled');
is($prom->wait_value('looklook_kafka_dead_lettered_total{name="kafka",topic="lag"}',
                     sub { $_[0] == 1 }), 1, 'one dead letter counted');
is($prom->wait_value(sprintf($lag, 0), sub { $_[0] == 0 }, 20), 0,
   'partition 0: lag falls to 0 when the consumer catches up');
is($prom->wait_value('looklook_kafka_partition_paused{name="kafka",topic="lag",partition="0"}',
                     sub { $_[0] == 0 }), 0, 'partition 0 resumed');
like(metrics_checked(), qr/^looklook_kafka_dead_lettered_total\{name="kafka",topic="lag"\} 1$/m,
     '/metrics: the dead letter');
my @d = $k->consume('lag.dlq');
is(scalar @d, 1, 'the dead letter is in lag.dlq');

# ---- readiness follows the brokers ---------------------------------------
is(get('/readyz')->{status}, 200, '/readyz 200');
$k->down($_) for 1 .. 3;
ok(ll_wait_until(sub { get('/readyz')->{status} == 503 }, 30),
   '/readyz 503 while every broker is down');
my $why = eval { JSON::PP::decode_json(get('/readyz')->{content}) } // {};
my ($m) = grep { $_->{module} eq 'kafka' } @{ $why->{modules} // [] };
like($m->{reason} // '', qr/no broker up/, 'the reason says so') or diag(explain($why));
is(get('/healthz')->{status}, 200, '/healthz still 200');
is($prom->wait_value('looklook_ready', sub { $_[0] == 0 }), 0,
   'Prometheus: looklook_ready 0');
$k->up($_) for 1 .. 3;
metrics_checked();
ok(ll_wait_until(sub { get('/readyz')->{status} == 200 }, 40),
   '/readyz 200 when the brokers are back');
is($prom->wait_value('looklook_ready', sub { $_[0] == 1 }), 1,
   'Prometheus: looklook_ready 1');

# ---- a reload and a killed worker lose no message --------------------------
my $at = $ll->log_size;
$k->produce('lag', map { { value => "r$_", partition => $_ % 2 } } 0 .. 99);
$ll->signal('HUP');
ok($ll->wait_log(qr/generation 2 ready/, 30, from => $at), 'reloaded');
my ($w) = $ll->workers;
kill 'KILL', $w;
$k->produce('lag', map { { value => "k$_", partition => $_ % 2 } } 0 .. 99);
ok(ll_wait_until(sub { handled() == 241 }, 90),
   'every message handled across the reload and the kill')
    or diag handled() . ' of 241';
for my $p (0, 1) {
    is($prom->wait_value(sprintf($lag, $p), sub { $_[0] == 0 }, 40), 0,
       "partition $p: lag 0 at the end");
}
metrics_checked();
is($prom->target->{health}, 'up', 'every scrape parsed');

is($ll->stop, 0, 'stopped');
done_testing();
