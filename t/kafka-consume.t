#!/usr/bin/perl
# kafka module, consumer side: messages as go-queue's pusher sends them (a
# time-stamp key, a JSON value) and with headers reach the handler with
# key, value, headers, topic, partition and offset; each partition in
# order; retry then dead letter with its headers; fail -> dead letter at
# once; unrouted and malformed messages dead-lettered; offsets committed.
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Kafka;

my $k    = LL::Kafka->start(topics => ['pay:3', 'pay.dlq', 'other:1',
                                       'other.dlq']);
my $ll   = $k->sink_server(group => 'g1', topics => ['pay', 'other'],
                           routes => ['pay'], sink => 'json = true;',
                           kafka => 'max_retries = 2; retry_backoff = "50ms";'
                                    . ' commit_interval = "200ms";');
my $dir  = $ll->dir;
my $sink = "$dir/sink.log";

# produced before the consumer starts: offset = first must see them
my $ts = '1764052201123456789';
my @good = map { { key => $ts + $_,
                   value => qq({"payStatus":1,"orderSn":"HSO$_"}),
                   partition => $_ % 3 } } 0 .. 29;
$k->produce('pay', @good);
$k->produce('pay', { key => 'hk', value => '{"h":1}', partition => 1,
                     headers => [traceparent => '00-abc-01', 'x-empty' => ''] });

ok($ll->start, 'looklook started');
ok($ll->wait_log(qr/kafka: assigned .*pay\[0,1,2\]/, 20), 'partitions assigned');

# outcomes chosen by value
$k->produce('pay',
    { key => 'r', value => '{"x":1}retry', partition => 0 },   # malformed
    { key => 'r2', value => 'retry-always', partition => 2 },
    { key => 'o', value => 'retry-once', partition => 2 },
    { key => 'f', value => 'fail now', partition => 2 },
    { key => 'n', partition => 2 },                             # NULL value
    { key => 'rv', value => 'revoke', partition => 2 },
    { key => 'd', value => 'retry-delay:300', partition => 1 });
$k->produce('other', { key => 'u', value => '{"unrouted":1}' });

my @dlq;
ok(ll_wait_until(sub { @dlq = $k->consume('pay.dlq'); @dlq >= 5 }, 30),
   'dead letters written') or diag explain \@dlq;
my @r;
ok(ll_wait_until(sub {
    @r = LL::Kafka::sink_read($sink);
    grep { ($_->{value} // '') eq 'revoke' } @r }, 10), 'last one handled');

# every good message arrived once, with its fields
my %seen;
$seen{ $_->{value} // '' }++
    for grep { $_->{topic} eq 'pay' && $_->{attempt} == 0 } @r;
is($seen{ $_->{value} }, 1, "delivered once: $_->{value}") for @good;
my ($m) = grep { ($_->{value} // '') eq '{"payStatus":1,"orderSn":"HSO4"}' } @r;
is($m->{key}, $ts + 4, 'time-stamp key');
is($m->{partition}, 1, 'partition');
is($m->{topic}, 'pay', 'topic');
is($m->{offset}, 1, 'offset (second message of partition 1)');
is($m->{max_retry}, 2, 'max_retry from the settings');
($m) = grep { ($_->{key} // '') eq 'hk' } @r;
is_deeply($m->{headers}, [traceparent => '00-abc-01', 'x-empty' => ''],
          'headers in order, empty value kept');

# order within each partition: offsets handed over strictly increasing
for my $p (0 .. 2) {
    my @o = map { $_->{offset} } grep { $_->{topic} eq 'pay'
        && $_->{partition} == $p && $_->{attempt} == 0 } @r;
    is(join(',', @o), join(',', sort { $a <=> $b } @o), "partition $p in order");
}

# retry then dead letter; fail at once; retry-once recovers
my @att = map { $_->{attempt} } grep { ($_->{value} // '') eq 'retry-always' } @r;
is(join(',', @att), '0,1,2', 'retried max_retries times');
@att = map { $_->{attempt} } grep { ($_->{value} // '') eq 'retry-once' } @r;
is(join(',', @att), '0,1', 'retry-once: done on the second attempt');
@att = map { $_->{attempt} } grep { ($_->{value} // '') eq 'fail now' } @r;
is(join(',', @att), '0', 'fail: no retry');

my %d = map { (($_->{key} // '') => $_) } @dlq;
is(scalar(keys %d), 5, 'five dead letters: malformed, retry, fail, NULL, delay')
    or diag explain [ keys %d ];
my $x = $d{r2};
is($x->{value}, 'retry-always', 'dead letter keeps the value');
is(LL::Kafka::header($x, 'x-looklook-error'), 'fixture says retry', 'error header');
is(LL::Kafka::header($x, 'x-looklook-topic'), 'pay', 'topic header');
is(LL::Kafka::header($x, 'x-looklook-partition'), '2', 'partition header');
like(LL::Kafka::header($x, 'x-looklook-offset'), qr/^\d+$/, 'offset header');
is(LL::Kafka::header($x, 'x-looklook-attempts'), '3', 'attempts header');
is(LL::Kafka::header($x, 'x-looklook-group'), 'g1', 'group header');
is(LL::Kafka::header($d{f}, 'x-looklook-attempts'), '1', 'fail: one attempt');
is(LL::Kafka::header($d{f}, 'x-looklook-error'), 'fixture says fail', 'fail: error');
is(LL::Kafka::header($d{r}, 'x-looklook-error'), 'malformed JSON', 'malformed JSON');
is(LL::Kafka::header($d{n}, 'x-looklook-error'), 'malformed JSON', 'NULL value');
is($d{n}{value}, undef, 'NULL value stays NULL');
is(LL::Kafka::header($d{d}, 'x-looklook-error'),
   'fixture says retry after 300 ms', 'handler-chosen delay retried');
ok(!exists $d{o} && !exists $d{rv}, 'recovered and revoked ones not dead-lettered');

# unrouted topic: retried, then dead-lettered with the core's reason
my @o;
ok(ll_wait_until(sub { @o = $k->consume('other.dlq'); @o }, 20),
   'unrouted dead-lettered');
like(LL::Kafka::header($o[0], 'x-looklook-error') // '',
     qr/no handler for task type other/, 'unrouted: reason');
like($ll->log, qr/no route for "kafka:other"/, 'unrouted topic warned at start');

# everything committed: each partition's end
my %end = (0 => 11, 1 => 12, 2 => 15);
ok(ll_wait_until(sub {
    my %c = $k->committed('g1', 'pay');
    !grep { $c{"pay:$_"} != $end{$_} } keys %end }, 15), 'committed to the end')
    or diag explain { $k->committed('g1', 'pay') };

is($ll->stop, 0, 'graceful stop');
like($ll->log, qr/consumer stopped: consumed \d+, handled \d+/, 'stop summary');
unlike($ll->log, qr/AddressSanitizer|runtime error|exited on signal/, 'no crash');
done_testing;
