# Redis Sentinel (issue 14): redisq, cron and looklook-cli given a
# redis-sentinel:// URL find the master through the sentinels and follow
# it when it is killed (-9) and the replica promoted, in the middle of a
# drain of 20,000 tasks:
#  - every task is handled (all were enqueued and replicated before the
#    kill; what asynchronous replication can lose is in the redisq README);
#  - what the new master holds is consistent (the asynq invariants) and
#    nothing is left pending, in retry or archived; a task still active
#    there was handled already (its acknowledgement reached the old master
#    only): its lease expires and it is recovered, as in asynq;
#  - a cron entry fires every tick exactly once across the failover;
#  - looklook-cli enqueues to the new master with the same URL.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use LL::Test;
use LL::Sentinel;
use LL::Asynq;
use LL::AsynqCheck;

my $N = 20_000;
my $M = 200;
my $s = LL::Sentinel->start;
my $url = $s->url;
my $ll = LL::Test::Server->new;
my $d = $ll->dir;
my $rec = "$d/rec.txt";

# 10 ms a task and 20 at a time: the drain lasts ~10 s, the failover ~3 s
ll_write("$d/t.jsonl", join '', map { qq({"type":"t:s","payload":"sleep=10","id":"S$_"}\n) } 1 .. $N);
my ($st, $out) = cli('-u', $url, 'task', 'enqueue', '--file', "$d/t.jsonl");
is($st, 0, "$N tasks enqueued through the sentinels") or diag $out;
is($s->master->cmd('LLEN', 'asynq:{default}:pending'), $N, '... onto the master');
ok(ll_wait_until(sub { $s->synced }, 20), '... and replicated');

$ll->conf(<<EOF);
worker_processes = 2;
shutdown_timeout = 3;
modules = (
  { name = "redisq"; path = "%%OBJS%%/redisq.so"; redis = "$url";
    concurrency = 10; },
  { name = "h"; path = "%%OBJS%%/t/redisq_handler.so"; record = "$rec"; },
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "$d/ticks"; },
  { name = "cron"; path = "%%OBJS%%/cron.so"; redis = "$url";
    misfire_grace = "30s";
    entries = ( { id = "k"; spec = "\@every 1s"; target = "sink"; task = "test:k"; } ); }
);
routes = ( { from = "redisq:*"; to = "h"; } );
EOF
ok($ll->start, 'looklook started on the sentinel URL') or BAIL_OUT($ll->log);

my %runs;
sub handled {
    %runs = ();
    $runs{(split / /)[2]}++ for split /\n/, ll_slurp($rec);
    return scalar keys %runs;
}
sub ticks {
    my %t;
    $t{$_}++ for ll_slurp("$d/ticks") =~ /id=cron:k:(\d+)$/mg;
    return \%t;
}

ok(ll_wait_until(sub { handled() >= $N / 5 }, 30), 'a fifth drained');
my $at_kill = handled();
$s->kill_master;
ok($s->wait_promoted(30), 'the replica is promoted');
my $after = handled();
cmp_ok($at_kill, '<', $N, "the kill came mid-drain ($at_kill handled)");

# looklook-cli with the same URL reaches the new master
ll_write("$d/f.jsonl", join '', map { qq({"type":"t:f","payload":"done","id":"F$_"}\n) } 1 .. $M);
($st, $out) = cli('-u', $url, 'task', 'enqueue', '--file', "$d/f.jsonl");
is($st, 0, "looklook-cli enqueues $M more after the failover") or diag $out;

ok(ll_wait_until(sub { handled() == $N + $M }, 90),
   'every task handled, before and after the failover')
    or diag(handled() . ' of ' . ($N + $M) . ' handled');
cmp_ok($after, '<', $N + $M, "... most after the promotion ($after before it)");
my @twice = grep { $runs{$_} > 1 } keys %runs;
note(scalar(@twice) . ' tasks ran twice (their dequeue or acknowledgement '
     . 'was not replicated)');
cmp_ok(scalar(@twice), '<=', 40, '... none ran twice but those in flight at the kill');

my $nm = $s->replica;
ok(ll_wait_until(sub { !$nm->cmd('LLEN', 'asynq:{default}:pending') }, 10),
   'nothing pending on the new master');
is($nm->cmd('ZCARD', 'asynq:{default}:retry') + $nm->cmd('ZCARD', 'asynq:{default}:archived'),
   0, 'nothing in retry or archived');
my @active = @{ $nm->cmd('LRANGE', 'asynq:{default}:active', 0, -1) };
is_deeply([grep { !$runs{$_} } @active], [],
          'a task still active on the new master was handled ('
          . scalar(@active) . ' acknowledgements lost)');
asynq_check_ok($nm, 'after the failover', 'default');

# cron: every tick from the first to the last fired once
my $t = ticks();
my @k = sort { $a <=> $b } keys %$t;
cmp_ok(scalar(@k), '>=', 5, 'cron ticked');
is(join(' ', grep { !$t->{$_} } $k[0] .. $k[-1]), '', "no tick skipped ($k[0]..$k[-1])");
is(join(' ', grep { $t->{$_} > 1 } @k), '', 'no tick fired twice');

my $log = $ll->log;
like($log, qr/redis sentinel:mymaster\@[\d.:,]+\/0 reconnected/,
     'redisq logs its reconnection to the new master');
unlike($log, qr/runtime error|AddressSanitizer/, 'no sanitizer report');
$ll->stop;
done_testing;
