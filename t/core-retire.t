#!/usr/bin/perl
# Workers sent away outside a shutdown are still made to go: a worker of a
# new generation that hangs in start is sent QUIT when ready_timeout runs
# out, cannot act on it (its signals are blocked until it is up), and the
# master kills it after shutdown_timeout + 10 s instead of keeping it
# forever; the old generation serves on throughout.

use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep);
use LL::Test;

my $ll  = LL::Test::Server->new;
my $dir = $ll->dir;

$ll->conf(<<'EOF_CONF');
worker_processes = 1;
shutdown_timeout = 1;
ready_timeout = "1s";
handler_threads = 1;
modules = (
  { name = "f"; path = "%%OBJS%%/t/core_fail.so"; at = "hang";
    when_file = "%%DIR%%/hang"; }
);
EOF_CONF
ok($ll->start, 'generation 1 ready (not hanging: no when_file)');
my @gen1 = $ll->workers;
is(scalar @gen1, 1, 'one worker');

ll_write("$dir/hang", "1\n");
my $from = $ll->log_size;
$ll->signal('HUP');
my $hung = $ll->wait_log(qr/(\d+) f: hanging in start/, 15, from => $from);
ok($hung, 'the new worker hangs in start');
my ($hpid) = $hung =~ /(\d+) f:/;
ok($ll->wait_log(qr/reload failed, generation 1 keeps running: workers were not ready within ready_timeout/,
                 15, from => $from), 'reload failed at ready_timeout');
ok(kill(0, $hpid), "hung worker $hpid still there right after the failure");

# shutdown_timeout 1 s + 10 s grace; generous bound, never asserted early
ok(ll_wait_until(sub { !kill(0, $hpid) }, 40), "hung worker $hpid was killed")
    or kill 'KILL', $hpid;
like(substr($ll->log, $from), qr/worker $hpid did not exit in time; killing it/,
     'the kill is logged');
like(substr($ll->log, $from), qr/worker $hpid \(generation 2\) killed by signal 9/,
     'and reaped');
is_deeply([ $ll->workers ], \@gen1, 'generation 1 worker serves on');

unlink "$dir/hang";
is($ll->stop, 0, 'graceful stop, exit 0');
done_testing();
