#!/usr/bin/perl
# kafka module: a partition paused by back-pressure (full window) when an
# eager rebalance takes it away and gives it back must fetch again.
# librdkafka 2.0.2 keeps the application pause flag of a partition across
# unassign/assign, while the module starts a reassigned partition afresh;
# a pause left behind would stall the partition for good.
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Kafka;

my $k    = LL::Kafka->start(topics => ['pz:2']);
my $N    = 400;     # per partition

my $server = sub {
    my ($dir) = @_;
    return $k->sink_server(dir => $dir, group => 'gpz', topics => ['pz'],
                           global => 'log_level = "debug";',
                           sink => 'sleep = "20ms";',
                           kafka => 'backlog = 4; commit_interval = "100ms";');
};
my ($da, $db) = (ll_dir(), ll_dir());
my $a = $server->($da);
my $b = $server->($db);

ok($a->start, 'member A started');
ok($a->wait_log(qr/kafka: assigned pz\[0,1\]/, 30), 'A has both partitions');
$k->produce('pz', map { { value => "m$_", partition => $_ % 2 } } 0 .. 2 * $N - 1);
ok($a->wait_log(qr/kafka: paused pz\[0\]/, 20)
   && $a->wait_log(qr/kafka: paused pz\[1\]/, 20), 'A paused its full partitions');

# B joins: A's partitions are revoked while paused, and one comes back
my $mark = $a->log_size;
ok($b->start, 'member B started');
ok($a->wait_log(qr/kafka: assigned pz\[\d\]/, 30, from => $mark),
   'A got one partition back');

my $handled = sub {
    my %h;
    for my $f ("$da/sink.log", "$db/sink.log") {
        next unless -e $f;
        $h{"$_->{partition}:$_->{offset}"} = 1 for LL::Kafka::sink_read($f);
    }
    return scalar keys %h;
};
ok(ll_wait_until(sub { $handled->() >= 2 * $N }, 90), 'every message handled')
    or diag $handled->() . ' of ' . 2 * $N;
ok(ll_wait_until(sub { $k->committed_total('gpz', 'pz') == 2 * $N }, 20),
   'committed to the end')
    or diag explain { $k->committed('gpz', 'pz') };

is($b->stop, 0, 'B stopped');
is($a->stop, 0, 'A stopped');
done_testing;
