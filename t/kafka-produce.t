#!/usr/bin/perl
# kafka module, producer side: other modules publish through the core with
# ll_send(in, "INSTANCE", msg) (type = topic, key, value, headers),
# asynchronously (done once queued) or synchronously (sync = true: the
# delivery report decides, errors come back as retry/fail), with
# compression; an undeliverable record is an error, never a crash.
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Kafka;

my $k    = LL::Kafka->start(topics => ['in', 'in2', 'in2.dlq', 'out', 'out2']);
my $dir  = ll_dir();
my $lk   = LL::Kafka::librdkafka_conf();
my $boot = $k->bootstrap;
my $ll   = LL::Test::Server->new(dir => $dir, conf => <<EOF);
worker_processes = 1;
shutdown_timeout = 5;
modules = (
  { name = "pub"; path = "%%OBJS%%/t/kafka_pub.so"; to = "kout"; topic = "out"; },
  { name = "pub2"; path = "%%OBJS%%/t/kafka_pub.so"; to = "ksync"; topic = "out2"; },
  { name = "kout"; path = "%%OBJS%%/kafka.so"; brokers = "$boot";
    compression = "snappy"; },
  { name = "ksync"; path = "%%OBJS%%/kafka.so"; brokers = "$boot"; sync = true;
    send_timeout = "5s"; },
  { name = "kin"; path = "%%OBJS%%/kafka.so"; brokers = "$boot"; group = "gin";
    topics = [ "in", "in2" ]; offset = "first"; max_retries = 0;
    librdkafka = ( $lk ); }
);
routes = ( { from = "kin:in"; to = "pub"; }, { from = "kin:in2"; to = "pub2"; } );
EOF
ok($ll->start, 'looklook started');

# asynchronous, snappy: key, value and headers carried over
$k->produce('in', { key => '1764052201000000001', value => '{"payStatus":1,"orderSn":"HSO1"}',
                    headers => [trace => 't1'] },
                  { value => 'no key' }, { key => 'null value' });
my @o;
ok(ll_wait_until(sub { @o = $k->consume('out'); @o == 3 }, 20), 'published')
    or diag explain \@o;
my %by = map { (($_->{key} // 'NULL') => $_) } @o;
my $m = $by{'1764052201000000001'};
is($m->{value}, '{"payStatus":1,"orderSn":"HSO1"}', 'value');
is_deeply($m->{headers}, [trace => 't1', via => 'kafka_pub'], 'headers');
is($by{NULL}{value}, 'no key', 'NULL key published');
is($by{'null value'}{value}, undef, 'NULL value published');

# synchronous: the report's partition and offset come back as the id
$k->produce('in2', 'first', 'second');
ok($ll->wait_log(qr/pub2: published out2\/0\/1/, 20), 'sync send returns out2/0/OFFSET')
    or diag $ll->log;
is(scalar(my @x = $k->consume('out2')), 2, 'both delivered');

# undeliverable (no such partition): the sync send fails, the source
# dead-letters the input with the producer's error
$k->produce('in2', 'part:7 nowhere');
my @d;
ok(ll_wait_until(sub { @d = $k->consume('in2.dlq'); @d }, 20), 'failed publish dead-lettered');
like(LL::Kafka::header($d[0], 'x-looklook-error') // '', qr/kafka: out2: .*[Pp]artition/,
     'the producer error reached the source');

# and the producer keeps working after the failure
$k->produce('in', { key => 'after', value => 'still fine' });
ok(ll_wait_until(sub { grep { ($_->{key} // '') eq 'after' } $k->consume('out') }, 20),
   'producer still works');

is($ll->stop, 0, 'graceful stop');
like($ll->log, qr/kout: producer: delivered 4, failed 0/, 'async delivery counted');
done_testing;
