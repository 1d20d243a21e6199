#!/usr/bin/perl
# kafka module: every worker process is a group member (partitions spread
# over worker_processes = 2), and a HUP reload hands the partitions to the
# new generation without loss while messages keep coming.
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Kafka;

my $k    = LL::Kafka->start(topics => ['rb:4']);
my $ll   = $k->sink_server(group => 'grb', topics => ['rb'], workers => 2,
                           shutdown_timeout => 8, sink => 'sleep = "5ms";',
                           kafka => 'commit_interval = "100ms";');
my $sink = $ll->dir . '/sink.log';

my $n = 0;
my $produce = sub {
    my ($count) = @_;
    $k->produce('rb', map { { value => "m" . $n++, partition => $n % 4 } } 1 .. $count);
};
my $handled = sub {
    my %h;
    for (LL::Kafka::sink_read($sink)) {
        $h{"$_->{partition}:$_->{offset}"}{ $_->{pid} } = 1;
    }
    return \%h;
};

ok($ll->start, 'looklook started');
my @gen1 = $ll->workers;
is(scalar @gen1, 2, 'two workers');

# both members get partitions (the second join rebalances the first)
ok(ll_wait_until(sub {
    my %p = map { $_ => 1 } $ll->log =~ /\[info\] (\d+) kafka: assigned rb\[\d,\d\]$/mg;
    keys %p == 2 }, 30), 'partitions split between the two workers')
    or diag $ll->log;

$produce->(400);
ok(ll_wait_until(sub { keys %{ $handled->() } >= 400 }, 30), 'first 400 handled');
my %pids;
for my $v (values %{ $handled->() }) { $pids{$_} = 1 for keys %$v }
ok($pids{$gen1[0]} && $pids{$gen1[1]}, 'both workers handled messages');

# reload while messages flow
$produce->(200);
my $mark = $ll->log_size;
$ll->signal('HUP');
$produce->(200);
ok($ll->wait_log(qr/generation 2 ready/, 30, from => $mark), 'generation 2 ready');
ok(ll_wait_until(sub { my @w = $ll->workers;
                       @w == 2 && !grep { $_ == $gen1[0] || $_ == $gen1[1] } @w }, 30),
   'old generation gone');
my @gen2 = $ll->workers;
$produce->(400);

ok(ll_wait_until(sub { keys %{ $handled->() } >= $n }, 60), "all $n handled")
    or diag scalar(keys %{ $handled->() });
my $h = $handled->();
my @missing = grep { !$h->{$_} } map { ($_ + 1) % 4 . ':' . int($_ / 4) } 0 .. $n - 1;
is(scalar @missing, 0, 'no offset lost across the reload')
    or diag "missing: @missing[0 .. 9]";
my %late;
for my $v (values %$h) { $late{$_} = 1 for keys %$v }
ok($late{$gen2[0]} || $late{$gen2[1]}, 'the new generation consumes');

ok(ll_wait_until(sub { $k->committed_total('grb', 'rb') == $n }, 20),
   'committed to the end')
    or diag explain { $k->committed('grb', 'rb') };
like($ll->log, qr/kafka: committed rb\[[\d,]+\] on revoke|kafka: commit of rb/,
     'the old generation committed (or tried to) on stop');

is($ll->stop, 0, 'graceful stop');
done_testing;
