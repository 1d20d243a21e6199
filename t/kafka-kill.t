#!/usr/bin/perl
# kafka module: no loss when a worker is killed with SIGKILL mid-batch.
# Every offset is handled at least once (the set of handled offsets equals
# the set produced), and the group's committed offsets reach the end.
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Kafka;

my $N    = 2000;
my $k    = LL::Kafka->start(topics => ['kl:4']);
my $ll   = $k->sink_server(group => 'gkill', topics => ['kl'],
                           sink => 'sleep = "2ms";',
                           kafka => 'commit_interval = "100ms";');
my $sink = $ll->dir . '/sink.log';

$k->produce('kl', map { { value => "m$_", partition => $_ % 4 } } 0 .. $N - 1);
ok($ll->start, 'looklook started');
my ($w1) = $ll->workers;

my $handled = sub {
    my %h;
    $h{"$_->{partition}:$_->{offset}"}++ for LL::Kafka::sink_read($sink);
    return \%h;
};
ok(ll_wait_until(sub { keys %{ $handled->() } >= 300 }, 30), 'work under way');
ok(ll_wait_until(sub { $k->committed_total('gkill', 'kl') > 0 }, 10),
   'some offsets committed');
kill 'KILL', $w1;
my $at_kill = keys %{ $handled->() };
cmp_ok($at_kill, '<', $N, "killed mid-batch ($at_kill of $N handled)");

ok(ll_wait_until(sub { my @w = $ll->workers; @w && $w[0] != $w1 }, 15),
   'master respawned the worker');
ok(ll_wait_until(sub { keys %{ $handled->() } >= $N }, 90),
   'everything handled after the restart');

my $h = $handled->();
my @missing = grep { !$h->{$_} } map { ($_ % 4) . ':' . int($_ / 4) } 0 .. $N - 1;
is(scalar @missing, 0, 'no offset lost') or diag "missing: @missing[0 .. 9]";
is(scalar(keys %$h), $N, 'nothing but the produced offsets');
my $dups = grep { $h->{$_} > 1 } keys %$h;
note("$dups offsets handled twice (redelivered after the kill)");

ok(ll_wait_until(sub {
    my %c = $k->committed('gkill', 'kl');
    !grep { $c{"kl:$_"} != $N / 4 } 0 .. 3 }, 15), 'committed to the end')
    or diag explain { $k->committed('gkill', 'kl') };

is($ll->stop, 0, 'graceful stop');
done_testing;
