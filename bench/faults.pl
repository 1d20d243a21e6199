#!/usr/bin/perl
# Fault figures for the README's Reliability section (printed, never
# asserted): redisq with 2 workers and the redisq_handler fixture under a
# steady load of 50 ms tasks, through
#
#   1. kill -9 of a worker, 10 times, 300 ms apart
#   2. kill -9 of the master, 3 times (its workers stop by themselves), and
#      a start again from the stale pid file
#   3. 30 reloads (`looklook -s reload`) under load
#   4. a Redis outage of 2 s (restart with its append-only file)
#   5. bad input: a wrong-typed key among the pending IDs
#
# then waits until nothing is pending, active or retrying and counts, over
# every task enqueued: lost (never ran to its end), stranded (left in
# pending/active/retry/scheduled), duplicates (ran to its end twice or
# more: a worker killed between the handler's end and the acknowledgement),
# and the asynq invariant problems (t/lib/LL/AsynqCheck.pm).
#
# LL_OBJS names the build dir (make test-build); needs redis-server.

use strict;
use warnings;
use POSIX ();
use Time::HiRes qw(time sleep);
use LL::Test;
use LL::Redis;
use LL::Asynq;
use LL::AsynqCheck;

my $objs = ll_objs();
-x ll_bin() && -f "$objs/t/redisq_handler.so"
    or die "faults: build looklook and the fixtures first (make test-build)\n";

my $redis = LL::Redis->start(args => [ '--appendonly', 'yes',
                                       '--appendfsync', 'always' ]);
my $dir = ll_dir();
my $rec = "$dir/rec.txt";
my $ll  = LL::Test::Server->new(dir => $dir, conf => redisq_conf(
    url => $redis->url, workers => 2, shutdown_timeout => 5, record => $rec,
    redisq => 'concurrency = 10; recover_interval = "1s";'));
$ll->start or die "not ready:\n" . $ll->log;

my $next = 0;
# enqueue $n tasks of 50 ms, IDs F<n>
sub enqueue {
    my ($n) = @_;
    open my $p, '|-', join(' ', ll_bin('looklook-cli'), '-u', $redis->url,
                           'task enqueue --file - >/dev/null')
        or die "looklook-cli: $!";
    for (1 .. $n) {
        $next++;
        print $p qq({"type":"fault","payload":"sleep=50","id":"F$next","retry":25}\n);
    }
    close $p or die "enqueue failed\n";
}

sub note_phase { printf "# %-52s %6.1f s\n", $_[0], time - $^T }

# ---- 1. kill -9 of a worker, 10 times
enqueue(2000);
sleep 0.5;
for (1 .. 10) {
    my @w = $ll->workers;
    kill 'KILL', $w[rand @w] if @w;
    sleep 0.3;
}
note_phase('10 worker kill -9 done');

# ---- 2. kill -9 of the master, 3 times
for (1 .. 3) {
    enqueue(300);
    sleep 0.5;
    my @w = $ll->workers;
    kill 'KILL', $ll->pid;
    $ll->wait_exit(5);
    LL::Test::ll_wait_until(sub { !grep { kill 0, $_ } @w }, 15);
    my $from = $ll->log_size;
    $ll->start(nowait => 1);
    $ll->wait_log(qr/generation 1 ready/, 15, from => $from)
        or die "no restart:\n" . substr($ll->log, $from);
}
note_phase('3 master kill -9 and restarts done');

# ---- 3. 30 reloads under load
my $failed = 0;
for (1 .. 30) {
    enqueue(100);
    my ($rc, $out) = ll_run(ll_bin(), '-c', $ll->conf_path, '-s', 'reload');
    $failed++ if $rc;
}
note_phase("30 reloads done ($failed failed)");

# ---- 4. a Redis outage of 2 s
enqueue(500);
sleep 0.5;
$redis->restart(2);
LL::Test::ll_wait_until(sub { eval { $redis->cmd('DBSIZE'); 1 } }, 30)
    or die "Redis does not come back\n";
note_phase('Redis back');

# ---- 5. a wrong-typed key among the pending IDs
enqueue(100);
$redis->cmd('SET', 'asynq:{default}:t:bad', 'x');
$redis->cmd('LPUSH', 'asynq:{default}:pending', 'bad');
enqueue(100);

# ---- settle and count
my $total = $next;
my $t0 = time;
my $left = sub {
    my $n = 0;
    $n += $redis->cmd('LLEN', "asynq:{default}:$_") for qw(pending active);
    $n += $redis->cmd('ZCARD', "asynq:{default}:$_") for qw(retry scheduled);
    return $n;
};
# retried tasks wait out asynq's retry delay (15 s and up)
LL::Test::ll_wait_until(sub { $left->() == 0 }, 300);
note_phase(sprintf 'settled (%.0f s after the last fault)', time - $t0);

my %ran;
for (split /\n/, ll_slurp($rec)) {
    my (undef, undef, $id) = split ' ';
    $ran{$id}++ if defined $id && $id =~ /^F\d+$/;
}
my $lost = grep { !$ran{"F$_"} } 1 .. $total;
my $dups = grep { $_ > 1 } values %ran;
my $extra = 0;
$extra += $_ - 1 for grep { $_ > 1 } values %ran;
my $archived = $redis->cmd('ZCARD', 'asynq:{default}:archived');
my @problems = asynq_check($redis, 'default');

printf "%-44s %d\n", 'tasks enqueued', $total;
printf "%-44s %d\n", 'lost (never ran to its end)', $lost;
printf "%-44s %d\n", 'stranded (pending/active/retry/scheduled)', $left->();
printf "%-44s %d tasks (%d extra runs)\n", 'duplicates (ran to its end twice+)',
    $dups, $extra;
printf "%-44s %d\n", 'archived', $archived;
printf "%-44s %d\n", 'asynq invariant problems', scalar @problems;
print "#   $_\n" for @problems[0 .. ($#problems < 9 ? $#problems : 9)];
$ll->stop;
$redis->stop;
