#!/usr/bin/perl
# kafka module: a dead letter the producer refuses for good does not stall
# its partition.  A 1,000,028-byte value (the broker takes it; the
# producer's message.max.bytes is 1,000,000) that fails is dead-lettered
# with its value cut to fit and an x-looklook-truncated header; one that
# cannot fit even without its value (a key larger than the producer's
# limit) is dropped with a logged reason.  Either way the messages after
# it are handled and the committed offset moves past it.
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Kafka;

my $k    = LL::Kafka->start(topics => ['big:1', 'big.dlq', 'wide:1',
                                       'wide.dlq']);
my $dir  = ll_dir();
my $sink = "$dir/sink.log";
my $lk   = LL::Kafka::librdkafka_conf();
my $boot = $k->bootstrap;
my $ll   = LL::Test::Server->new(dir => $dir, conf => <<EOF);
worker_processes = 1;
shutdown_timeout = 5;
modules = (
  { name = "sink"; path = "%%OBJS%%/t/kafka_sink.so"; file = "$sink"; },
  { name = "kafka"; path = "%%OBJS%%/kafka.so"; brokers = "$boot";
    group = "g1"; topics = [ "big" ]; offset = "first";
    retry_backoff = "200ms"; commit_interval = "200ms";
    librdkafka = ( $lk ); },
  { name = "kafka2"; path = "%%OBJS%%/kafka.so"; brokers = "$boot";
    group = "g2"; topics = [ "wide" ]; offset = "first";
    retry_backoff = "200ms"; commit_interval = "200ms";
    librdkafka = ( $lk, "producer:message.max.bytes=1000" ); }
);
routes = ( { from = "kafka:big"; to = "sink"; },
           { from = "kafka2:wide"; to = "sink"; } );
EOF

my $size = 1_000_028;
my $big  = 'fail' . ('x' x ($size - 4));
my @p    = (props => ['message.max.bytes=2000000']);
$k->produce('big', { key => 'b', value => $big, @p },
                   { key => 'after', value => 'ok-big', @p });
$k->produce('wide', { key => 'k' x 2000, value => 'fail wide' },
                    { key => 'after', value => 'ok-wide' });

ok($ll->start, 'looklook started') or diag $ll->log;

# too large: dead-lettered with the value cut to fit
my @d;
ok(ll_wait_until(sub { @d = $k->consume('big.dlq'); @d }, 30),
   'the too-large message is dead-lettered') or diag $ll->log;
my $x = $d[0] // { headers => [] };
is($x->{key}, 'b', 'dead letter keeps the key');
is(LL::Kafka::header($x, 'x-looklook-truncated'), $size,
   'x-looklook-truncated: the original value length');
is(LL::Kafka::header($x, 'x-looklook-error'), 'fixture says fail',
   'the handler\'s error');
my $len = length($x->{value} // '');
ok($len > 900_000 && $len < 1_000_000, "value cut to fit ($len bytes)");
is($x->{value}, substr($big, 0, $len), 'the cut value is the start of it');
like($ll->log, qr/big \[0\] offset 0: dead letter too large .*value cut to $len of $size bytes/,
     'the cut is logged');

# cannot fit at all: dropped, said so
ok($ll->wait_log(qr/wide \[0\] offset 0: dead letter cannot be written \(.*\): dropped/, 30),
   'an unwritable dead letter is dropped with the reason');

# neither stalls its partition
my @r;
ok(ll_wait_until(sub {
    @r = map { $_->{value} // '' } LL::Kafka::sink_read($sink);
    (grep { $_ eq 'ok-big' } @r) && (grep { $_ eq 'ok-wide' } @r) }, 20),
   'the next messages of both partitions are handled');
ok(ll_wait_until(sub {
    my %c = ($k->committed('g1', 'big'), $k->committed('g2', 'wide'));
    ($c{'big:0'} // -1) == 2 && ($c{'wide:0'} // -1) == 2 }, 20),
   'committed past both') or diag explain
    { $k->committed('g1', 'big'), $k->committed('g2', 'wide') };
is(scalar(my @w = $k->consume('wide.dlq', timeout => 3)), 0,
   'no dead letter for the one that cannot fit');

is($ll->stop, 0, 'graceful stop');
like($ll->log, qr/dropped 1,/, 'counted as dropped');
unlike($ll->log, qr/AddressSanitizer|runtime error|exited on signal/, 'no crash');
done_testing;
