#!/usr/bin/perl
# kafka and unreachable brokers (issue 9, items 6 and 7): a first start
# without a broker fails (the master exits 1); a reload onto a closed port
# fails and the old generation keeps consuming; every broker down for a
# while costs a bounded number of log lines (the errors once, "reachable
# again" once) however often librdkafka retried, and nothing is lost.
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Kafka;

my $k      = LL::Kafka->start(topics => ['ko:2']);
my $closed = ll_free_port();
my $ll     = LL::Test::Server->new;
my $d      = $ll->dir;
my $sink   = "$d/sink.log";
my $lk     = LL::Kafka::librdkafka_conf();
diag "dir: $d" if $ENV{LL_KEEP};
sub conf {
    my ($boot) = @_;
    $ll->conf(<<"EOF");
ready_timeout = 4;
worker_processes = 1;
shutdown_timeout = 5;
modules = (
  { name = "sink"; path = "%%OBJS%%/t/kafka_sink.so"; file = "$sink"; },
  { name = "kafka"; path = "%%OBJS%%/kafka.so"; brokers = "$boot";
    group = "gko"; topics = [ "ko" ]; offset = "first";
    commit_interval = "100ms"; librdkafka = ( $lk ); }
);
routes = ( { from = "kafka:ko"; to = "sink"; } );
EOF
}
my $sent = 0;
sub handled {
    my %h;
    $h{"$_->{partition}:$_->{offset}"}++ for LL::Kafka::sink_read($sink);
    return scalar keys %h;
}
sub produce_and_wait {
    my ($n, $what) = @_;
    $k->produce('ko', map { { value => "v$_", partition => $_ % 2 } }
                      $sent .. $sent + $n - 1);
    $sent += $n;
    ok(ll_wait_until(sub { handled() == $sent }, 30),
       "$what: all $sent handled") or diag handled();
}

# a first start without a broker fails loudly
conf("127.0.0.1:$closed");
is($ll->start_fails, 1, 'first start, no broker: the master exits 1')
    or diag $ll->log;
like($ll->log, qr/generation 1 failed: module "kafka": start failed: brokers 127\.0\.0\.1:$closed unreachable: /,
     '... saying which brokers');

conf($k->bootstrap);
ok($ll->start, 'started with the brokers up') or BAIL_OUT($ll->log);
ok($ll->wait_log(qr/assigned ko\[0,1\]/, 20), 'assigned');
produce_and_wait(20, 'generation 1');

# a reload onto a closed port fails; generation 1 goes on
my $from = $ll->log_size;
conf("127.0.0.1:$closed");
$ll->signal('HUP');
ok($ll->wait_log(qr/reload failed, generation 1 keeps running: module "kafka": start failed: brokers \S+ unreachable: /,
                 30, from => $from), 'closed port: the reload fails')
    or diag substr($ll->log, $from);
produce_and_wait(20, 'the old generation');

# every broker down: librdkafka retries with its back-off and reports each
# failed try; before, every report was a line
$from = $ll->log_size;
$k->down($_) for 1 .. 3;
ok($ll->wait_log(qr/kafka: /, 10, from => $from), 'brokers down: logged');
sleep 4;
my $during = () = grep { / \[(?:warn|err)\] \d+ kafka: / }
                  split /\n/, substr($ll->log, $from);
$k->up($_) for 1 .. 3;
ok($ll->wait_log(qr/kafka: brokers reachable again after \d+\.\d s/, 20,
                 from => $from), 'brokers back: "reachable again after N s"')
    or diag substr($ll->log, $from);
produce_and_wait(20, 'after the outage');
my @lines = grep { / kafka: / } split /\n/, substr($ll->log, $from);
my @brokers = grep { /brokers (?:unreachable|reachable again)/ } @lines;
# the first error (a dropped connection, or a refused one), the end, and
# at most one count of repeats after a minute
cmp_ok(scalar @brokers, '<=', 3, 'the brokers\' outage cost at most 3 lines')
    or diag join "\n", @lines;
is(scalar(grep { /reachable again/ } @brokers), 1, '"reachable again" once');
# and librdkafka's own warnings (the group's session lost, commits that
# fail every commit_interval) once per text: before, ~10 lines a second
my @warn = grep { / \[(?:warn|err)\] / } @lines;
cmp_ok(scalar @warn, '<=', 10, "at most 10 warnings and errors in all "
       . "($during while down)") or diag join "\n", @lines;

# a good reload still works
$from = $ll->log_size;
conf($k->bootstrap);
$ll->signal('HUP');
ok($ll->wait_log(qr/generation \d+ ready/, 30, from => $from),
   'a good reload still works') or diag substr($ll->log, $from);
produce_and_wait(20, 'the new generation');
unlike($ll->log, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
is($ll->stop, 0, 'graceful stop');
done_testing;
