# kill -9 of a worker with many tasks in flight: its tasks are retried as
# soon as its death is certain (the respawned worker, or any other worker
# of the host, sees its PID gone), not after their leases expire; every
# task runs to the end, and no task is run twice while another live
# process holds it (no two runs of one ID overlap).
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use LL::Test;
use LL::Redis;
use LL::Asynq;
use LL::AsynqCheck;

my $N = 200;
my $r = LL::Redis->start;
my $ll = LL::Test::Server->new;
my $dir = $ll->dir;
my $rec = "$dir/rec.txt";
# recover_interval 1 h: a task back here came back by the dead-worker path
$ll->conf(redisq_conf(url => $r->url, record => $rec, workers => 2,
                      redisq => 'concurrency = 40; recover_interval = "1h";'));
ok($ll->start, 'started with 2 workers') or BAIL_OUT($ll->log);
ll_write("$dir/t.jsonl", join '', map { qq({"type":"k","payload":"sleep=2000 stubborn","id":"K$_","retry":5}\n) } 1 .. $N);
my ($st, $out) = cli('-u', $r->url, 'task', 'enqueue', '--file', "$dir/t.jsonl");
is($st, 0, "$N tasks enqueued") or diag($out);
ok(ll_wait_until(sub { $r->cmd('LLEN', 'asynq:{default}:pending') == 0 }, 10), 'all leased');
my @w = $ll->workers;
is(scalar @w, 2, 'two workers');
my @held = grep { /ll_held/ } @{ $r->cmd('KEYS', 'asynq:{default}:ll_held:*') };
is(scalar @held, 2, 'each worker records the leases it gave');
kill 'KILL', $w[0];
ok(ll_wait_until(sub { $ll->log =~ /worker \Q$w[0]\E died: (\d+) of its \1 tasks retried now/ }, 20),
   'the dead worker\'s tasks retried at once') or diag($ll->log);

my %runs;
ok(ll_wait_until(sub {
    %runs = ();
    for (split /\n/, ll_slurp($rec)) { my @f = split / /; push @{ $runs{$f[2]} }, [@f[0, 1]]; }
    return scalar(keys %runs) == $N && !$r->cmd('LLEN', 'asynq:{default}:active');
}, 60), "all $N tasks ran to the end") or diag(scalar(keys %runs) . " ran");
my @twice = grep { @{ $runs{$_} } > 1 } sort keys %runs;
is_deeply(\@twice, [], 'none ran to the end twice (the killed runs never ended)');
my @overlap;
for my $id (keys %runs) {
    my @s = sort { $a->[0] <=> $b->[0] } @{ $runs{$id} };
    push @overlap, $id if grep { $s[$_][0] < $s[$_ - 1][1] } 1 .. $#s;
}
is_deeply(\@overlap, [], 'no two runs of one task overlap');
unlike($ll->log, qr/expired lease recovered/, 'nothing waited for lease expiry');
is($r->cmd('ZCARD', 'asynq:{default}:retry') + $r->cmd('ZCARD', 'asynq:{default}:archived'), 0,
   'nothing left in retry or archived');
ok(ll_wait_until(sub { !$r->cmd('EXISTS', $held[0]) || !$r->cmd('EXISTS', $held[1]) }, 5),
   'the dead worker\'s record is gone');
asynq_check_ok($r, 'after kill -9', 'default');
$ll->stop;
is(scalar(grep { /ll_held|ll_owners/ } @{ $r->cmd('KEYS', '*') }), 0,
   'a clean stop leaves no ll_held or ll_owners entry');
done_testing;
