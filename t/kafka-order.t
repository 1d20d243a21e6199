#!/usr/bin/perl
# kafka module: the order settings (partition: one at a time; key: a key
# waits for its earlier messages, other keys pass; none: no wait), the
# back-pressure pause/resume of a full partition, and on_error = drop
# (kq's ForceCommit: log, commit, move on, no dead letter).
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Kafka;

my $k    = LL::Kafka->start(topics => ['po', 'ko', 'no', 'bp', 'dr', 'dr.dlq']);
my $dir  = ll_dir();
my $lk   = LL::Kafka::librdkafka_conf();
my $boot = $k->bootstrap;
my $common = qq{brokers = "$boot"; offset = "first"; librdkafka = ( $lk );
    commit_interval = "200ms";};
my $ll   = LL::Test::Server->new(dir => $dir, conf => <<EOF);
worker_processes = 1;
log_level = "debug";
shutdown_timeout = 5;
handler_threads = 16;
modules = (
  { name = "sink"; path = "%%OBJS%%/t/kafka_sink.so"; file = "$dir/sink.log"; },
  { name = "kp"; path = "%%OBJS%%/kafka.so"; $common group = "gp";
    topics = [ "po", "bp" ]; backlog = 8; },
  { name = "kk"; path = "%%OBJS%%/kafka.so"; $common group = "gk";
    topics = [ "ko" ]; order = "key"; parallelism = 8; },
  { name = "kn"; path = "%%OBJS%%/kafka.so"; $common group = "gn";
    topics = [ "no" ]; order = "none"; parallelism = 8; },
  { name = "kd"; path = "%%OBJS%%/kafka.so"; $common group = "gd";
    topics = [ "dr" ]; on_error = "drop"; max_retries = 1;
    retry_backoff = "20ms"; }
);
routes = ( { from = "*:*"; to = "sink"; } );
EOF
ok($ll->start, 'looklook started');
for my $t (qw(po ko no dr)) {
    ok($ll->wait_log(qr/assigned .*\b$t\[0\]/, 20), "$t assigned");
}

my @seq = ({ key => 'A', value => 'sleep:1500 a1' }, { key => 'A', value => 'a2' },
           { key => 'B', value => 'b1' }, { key => 'B', value => 'b2' },
           { value => 'nokey' });
$k->produce($_, @seq) for qw(po ko no);

my $lines = sub {
    my ($t) = @_;
    return map { $_->{value} } grep { $_->{topic} eq $t }
           LL::Kafka::sink_read("$dir/sink.log");
};
# before a1 (1.5 s) is done: partition order has started nothing else,
# key order everything but a2, none everything
ok(ll_wait_until(sub { $lines->('no') == 5 && $lines->('ko') == 4 }, 1.2),
   'key and none did not wait for the slow message');
is(join(',', $lines->('po')), 'sleep:1500 a1', 'partition order waits');
is(join(',', sort $lines->('ko')), 'b1,b2,nokey,sleep:1500 a1',
   'key order: only A waits');
ok(ll_wait_until(sub { $lines->('po') == 5 && $lines->('ko') == 5 }, 10),
   'all handled');
is(join(',', $lines->('po')), 'sleep:1500 a1,a2,b1,b2,nokey',
   'partition order: offset order');
is(join(',', grep { /^b/ } $lines->('ko')), 'b1,b2', 'key order: b2 after b1');
is(($lines->('ko'))[-1], 'a2', 'key order: a2 after a1 (last)');

# key order under load: 4 keys, each key's messages in produce order
my @many = map { { key => "K" . ($_ % 4), value => "sleep:3 n=$_" } } 1 .. 120;
$k->produce('ko', @many);
ok(ll_wait_until(sub { $lines->('ko') == 125 }, 30), '120 more handled');
for my $key (0 .. 3) {
    my @n = map { /n=(\d+)/ ? $1 : () } $lines->('ko');
    @n = grep { $_ % 4 == $key } @n;
    is(join(',', @n), join(',', grep { $_ % 4 == $key } 1 .. 120),
       "key K$key in order");
}

# key order with a retry: C stays in work through c1's back-off (1 s),
# so c2 waits for c1's second attempt while D passes
$k->produce('ko', { key => 'C', value => 'retry-once c1' }, { key => 'C', value => 'c2' },
            { key => 'D', value => 'd1' });
ok(ll_wait_until(sub { $lines->('ko') == 129 }, 15), 'retry round handled');
my @cd = grep { /^(?:retry-once c1|c2|d1)$/ } $lines->('ko');
is(join(',', grep { /c/ } @cd), 'retry-once c1,retry-once c1,c2',
   'key order: c2 after the retry of c1');
my ($d1) = grep { $cd[$_] eq 'd1' } 0 .. $#cd;
ok(defined $d1 && $d1 < 2, 'key order: d1 did not wait for the back-off of c1')
    or diag "@cd";

# back-pressure: backlog 8 pauses the partition, draining resumes it
$k->produce('bp', map { "sleep:4 m$_" } 1 .. 200);
ok(ll_wait_until(sub { $lines->('bp') == 200 }, 30), 'backlog drained');
is(join(',', $lines->('bp')), join(',', map { "sleep:4 m$_" } 1 .. 200),
   'in order through pauses');
like($ll->log, qr/kp: paused bp\[0\]/, 'partition paused when full');
like($ll->log, qr/kp: resumed bp\[0\]/, 'and resumed');

# on_error = drop
$k->produce('dr', 'fail x', 'retry-always', 'fine');
ok(ll_wait_until(sub { $lines->('dr') == 4 }, 10), 'drop: handled')
    or diag explain [ $lines->('dr') ];
is(join(',', $lines->('dr')), 'fail x,retry-always,retry-always,fine',
   'drop: retries still happen first');
ok(ll_wait_until(sub { my %c = $k->committed('gd', 'dr'); $c{'dr:0'} == 3 }, 10),
   'drop: committed past the failures');
like($ll->log, qr/dr \[0\] offset 0 failed after 1 attempt\(s\), dropped \(on_error = drop\): fixture says fail/,
     'drop: logged');
is(scalar(my @d = $k->consume('dr.dlq', timeout => 3)), 0, 'drop: no dead letter');

is($ll->stop, 0, 'graceful stop');
done_testing;
