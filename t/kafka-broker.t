#!/usr/bin/perl
# kafka module: every broker goes down mid-batch (the mock's fault
# injection) and comes back; consumption resumes with nothing lost and
# the group's offsets committed to the end.  The worker never crashes.
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Kafka;

my $k    = LL::Kafka->start(topics => ['bd:3']);
my $ll   = $k->sink_server(group => 'gbd', topics => ['bd'],
                           sink => 'sleep = "10ms";',
                           kafka => 'commit_interval = "100ms";');
my $sink = $ll->dir . '/sink.log';

my $handled = sub {
    my %h;
    $h{"$_->{partition}:$_->{offset}"}++ for LL::Kafka::sink_read($sink);
    return scalar keys %h;
};

ok($ll->start, 'looklook started');
my ($w) = $ll->workers;
ok($ll->wait_log(qr/assigned bd\[0,1,2\]/, 20), 'assigned');
$k->produce('bd', map { { value => "a$_", partition => $_ % 3 } } 0 .. 599);
ok(ll_wait_until(sub { $handled->() >= 60 }, 20), 'under way');

$k->down($_) for 1 .. 3;
my $during = $handled->();
sleep 4;
ok($ll->wait_log(qr/kafka: .*(?:Connection refused|Disconnected|brokers are down|transport)/i, 5),
   'the outage is noticed') or diag $ll->log;
$k->up($_) for 1 .. 3;
note("handled $during when the brokers went down");

$k->produce('bd', map { { value => "b$_", partition => $_ % 3 } } 0 .. 299);
ok(ll_wait_until(sub { $handled->() >= 900 }, 60), 'all 900 handled')
    or diag $handled->();
ok(ll_wait_until(sub {
    my %c = $k->committed('gbd', 'bd');
    !grep { $c{"bd:$_"} != 300 } 0 .. 2 }, 20), 'committed to the end')
    or diag explain { $k->committed('gbd', 'bd') };
is(($ll->workers)[0], $w, 'same worker throughout');

is($ll->stop, 0, 'graceful stop');
done_testing;
