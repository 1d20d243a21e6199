#!/usr/bin/perl
# tools/kafka-mock: stock kcat produces and consumes through it (keys,
# values, headers, partitions), fixed ports refuse cleanly when busy, the
# control port injects faults, and `committed` reads a group's offsets.
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use LL::Test;
use LL::Kafka;

my $k = LL::Kafka->start(topics => ['t1:3', 'single']);
like($k->bootstrap, qr/^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/,
     'three brokers on loopback');
is($k->ctl('ping'), 'ok pong', 'control port answers');

# kcat round trip with keys, NULL key, headers and explicit partitions
$k->produce('t1',
    { key => '1764052201000000000', value => '{"payStatus":1,"orderSn":"HSO1"}',
      headers => [trace => 'abc', h2 => 'v2'], partition => 2 },
    { key => 'k2', value => 'plain', partition => 0 },
    { value => 'no key', partition => 1 });
my @m = sort { $a->{partition} <=> $b->{partition} } $k->consume('t1');
is(scalar @m, 3, 'three messages back');
is($m[0]{value}, 'plain', 'p0 value');
is($m[0]{key}, 'k2', 'p0 key');
is($m[1]{key}, undef, 'p1 NULL key');
is($m[2]{key}, '1764052201000000000', 'p2 time-stamp key');
is($m[2]{value}, '{"payStatus":1,"orderSn":"HSO1"}', 'p2 JSON value');
is(LL::Kafka::header($m[2], 'trace'), 'abc', 'header trace');
is(LL::Kafka::header($m[2], 'h2'), 'v2', 'header h2');
is($m[2]{offset}, 0, 'offset 0');

# the single-partition topic keeps order
$k->produce('single', map { "m$_" } 1 .. 50);
my @s = $k->consume('single');
is(join(',', map { $_->{value} } @s), join(',', map { "m$_" } 1 .. 50),
   '50 messages in order');
is(join(',', map { $_->{offset} } @s), join(',', 0 .. 49), 'offsets 0..49');

# a consumer group commits; `committed` reads it back
my %c = $k->committed('g1', 'single');
is($c{'single:0'}, -1, 'nothing committed yet');
my ($rc, $out) = ll_run('kcat', '-b', $k->bootstrap, '-G', 'g1', '-q', '-e',
    '-X', 'auto.offset.reset=earliest', '-X', 'session.timeout.ms=6000',
    '-X', 'partition.assignment.strategy=range', 'single');
is($rc, 0, 'kcat -G consumed') or diag $out;
%c = $k->committed('g1', 'single');
is($c{'single:0'}, 50, 'group offset committed at 50');

# fault injection: broker down refuses, up serves again
is($k->down(1), 'ok', 'broker 1 down');
like($k->ctl('down 9', soft => 1), qr/^error:/, 'unknown broker refused');
like($k->ctl('frobnicate', soft => 1), qr/^error: unknown command/,
     'unknown command refused');
is($k->up(1), 'ok', 'broker 1 up');
is($k->ctl('topic late 2'), 'ok', 'topic created at run time');
$k->produce('late', { value => 'x', partition => 1 });
is(scalar(my @l = $k->consume('late')), 1, 'late topic works');
is($k->ctl('error Fetch NOT_LEADER_FOR_PARTITION 2'), 'ok', 'request error pushed');
($rc, $out) = ll_run(ll_bin('kafka-mock'), 'ctl', $k->ctl_addr, 'ping');
is($rc, 0, 'ctl client mode');
is($out, "ok pong\n", 'ctl client reply');

# fixed ports: taken -> clean failure, free -> used
my $busy = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                 LocalPort => 0, Proto => 'tcp');
($rc, $out) = ll_run(ll_bin('kafka-mock'), '-b', 1, '-p', $busy->sockport);
is($rc, 1, 'busy port: exit 1');
like($out, qr/^FATAL: cannot listen on 127\.0\.0\.1:\d+: Address already in use/m,
     'busy port: clear message');
close $busy;

my $base = ll_free_port();
$base = ll_free_port() while $base > 65000;
my $f = eval { LL::Kafka->start(topics => ['fx'], port => $base, brokers => 2) };
SKIP: {
    skip "ports $base.. taken meanwhile", 2 unless $f;
    is($f->bootstrap, "127.0.0.1:$base,127.0.0.1:" . ($base + 1), 'fixed ports');
    $f->produce('fx', 'hello');
    is(($f->consume('fx'))[0]{value}, 'hello', 'fixed-port cluster works');
    $f->stop;
}

my $pid = $k->pid;
$k->stop;
ok(!kill(0, $pid), 'stopped by SIGTERM');
ok(!-e $k->dir . '/kafka-mock.boot', 'ready file removed');
done_testing;
