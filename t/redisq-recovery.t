# redisq never loses or strands a task: graceful stop requeues what still
# runs, kill -9 of a worker mid-task is retried as soon as the worker is
# certainly dead, and a Redis restart in the middle of a run loses nothing
# (what it cut off comes back by lease expiry, docs/asynq-compat.md 6).  Also checks the "every ID has its hash" invariant (2.4).
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use LL::Test;
use LL::Redis;
use LL::Asynq;
use LL::AsynqCheck;
use Time::HiRes qw(time sleep);

sub enq { my ($url, @a) = @_; my ($st, $out) = cli('-u', $url, 'task', 'enqueue', @a);
          die "enqueue: $out" if $st; }
sub state { $_[0]->cmd('HGET', "asynq:{default}:t:$_[1]", 'state') // '' }

# ---- 1. kill -9 of a worker mid-task: retried once it is surely dead --
my $r1 = LL::Redis->start;
my $ll1 = LL::Test::Server->new;
$ll1->conf(redisq_conf(url => $r1->url, redisq => 'concurrency = 2; recover_interval = "1s";'));
ok($ll1->start, 'server 1 started') or BAIL_OUT($ll1->log);
enq($r1->url, 'k', 'sleep=120000 stubborn', '--id', 'K1', '--retry', '5');
ok(ll_wait_until(sub { state($r1, 'K1') eq 'active' }), 'K1 active');
my ($w) = $ll1->workers;
my $killed_at = time;
kill 'KILL', $w;
ok(ll_wait_until(sub { my @k = $ll1->workers; @k && $k[0] != $w }, 10), 'worker respawned');

# ---- 2. Redis restarted in the middle of a run (AOF keeps the data) ----
my $r2 = LL::Redis->start(args => ['--appendonly', 'yes', '--appendfsync', 'always']);
my $ll2 = LL::Test::Server->new;
$ll2->conf(redisq_conf(url => $r2->url, redisq => 'concurrency = 5; recover_interval = "1s";'));
ok($ll2->start, 'server 2 started') or BAIL_OUT($ll2->log);
my $dir = $ll2->dir;
ll_write("$dir/t.jsonl", join '', map { qq({"type":"r","payload":"sleep=10","id":"R$_"}\n) } 1 .. 300);
my ($st, $out) = cli('-u', $r2->url, 'task', 'enqueue', '--file', "$dir/t.jsonl");
is($st, 0, '300 tasks enqueued') or diag $out;
ok(ll_wait_until(sub { (-s "$dir/rec.txt" // 0) > 2000 }, 10), "run under way");
$r2->restart(0.5);
# a dequeue whose reply was lost in the restart leaves tasks leased by
# nobody: they come back by lease expiry (~60 s) into retry
ok(ll_wait_until(sub { $r2->cmd('LLEN', 'asynq:{default}:pending') == 0
                       && $r2->cmd('LLEN', 'asynq:{default}:active') == 0 }, 90),
   'pending and active empty after the restart');
my @back = @{ $r2->cmd('ZRANGE', 'asynq:{default}:retry', 0, -1) };
diag scalar(@back) . ' task(s) came back by lease expiry';
is(scalar(grep { asynq_decode('TaskMessage', $r2->cmd('HGET', "asynq:{default}:t:$_", 'msg'))
                     ->{error_msg} ne 'asynq: task lease expired' } @back), 0,
   'only lease-expired tasks wait in retry');
cli('-u', $r2->url, 'task', 'run', '--queue', 'default', '--all', '--state', 'retry') if @back;
ok(ll_wait_until(sub { @{ $r2->cmd('KEYS', 'asynq:{default}:t:*') } == 0 }, 20),
   'every task finished: no hash left');
my %seen = map { (split / /)[2] => 1 } split /\n/, ll_slurp("$dir/rec.txt");
is(scalar(grep { $seen{"R$_"} } 1 .. 300), 300, 'every task ran (at least once)');
is($r2->cmd('ZCARD', 'asynq:{default}:lease'), 0, 'no lease left');
asynq_check_ok($r2, 'after the Redis restart');
$ll2->stop;

# ---- 3. graceful stop: finished work written, running work requeued ----
my $r3 = LL::Redis->start;
my $ll3 = LL::Test::Server->new;
$ll3->conf(redisq_conf(url => $r3->url, shutdown_timeout => 1,
                       redisq => 'concurrency = 3;'));
ok($ll3->start, 'server 3 started') or BAIL_OUT($ll3->log);
enq($r3->url, 'g', 'sleep=30000 stubborn', '--id', 'G1');
enq($r3->url, 'g', 'sleep=300', '--id', 'G2');
ok(ll_wait_until(sub { state($r3, 'G1') eq 'active' && state($r3, 'G2') eq 'active' }),
   'both running');
my $t0 = time;
$ll3->stop(10);
ok(time - $t0 < 5, 'stopped within the shutdown timeout');
is(state($r3, 'G1'), 'pending', 'still-running task requeued');
is_deeply($r3->cmd('LRANGE', 'asynq:{default}:pending', 0, -1), ['G1'], 'back in pending');
is($r3->cmd('LLEN', 'asynq:{default}:active') + $r3->cmd('ZCARD', 'asynq:{default}:lease'), 0,
   'nothing left active');
is($r3->cmd('EXISTS', 'asynq:{default}:t:G2'), 0, 'task that finished in time is done');
like($ll3->log, qr/1 unfinished tasks requeued/, 'requeue logged');
asynq_check_ok($r3, 'after graceful stop');
is($r3->cmd('ZCARD', 'asynq:servers'), 0, 'server unregistered');

# ---- 1 (end): K1 is retried as soon as its worker is certainly dead ---
# (the respawned worker sees its PID gone), not after the lease expires
my $m;
ok(ll_wait_until(sub {
    my $b = $r1->cmd('HGET', 'asynq:{default}:t:K1', 'msg') or return 0;
    $m = asynq_decode('TaskMessage', $b);
    return ($m->{retried} // 0) == 1;
}, 30), 'killed task retried at once');
diag sprintf('retried %.1f s after the kill', time - $killed_at);
is($m->{error_msg}, 'redisq: its worker died', 'with the reason');
like($ll1->log, qr/worker $w died: 1 of its 1 tasks retried now/, 'logged');
ok(ll_wait_until(sub { state($r1, 'K1') eq 'active' }, 10), 'running again in the new worker');
asynq_check_ok($r1, 'after kill -9');
$ll1->stop;

done_testing;
