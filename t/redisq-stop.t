# redisq at stop (docs/asynq-compat.md 5.7): no new task starts once stop began.
# Tasks prefetched (leased, waiting for a slot) are requeued at once, not
# started in the shutdown window; the running one finishes and is Done.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use LL::Test;
use LL::Redis;
use LL::Asynq;
use LL::AsynqCheck;
use Time::HiRes qw(time sleep);

my $r = LL::Redis->start;
my $ll = LL::Test::Server->new;
my $rec = $ll->dir . '/rec.txt';
$ll->conf(redisq_conf(url => $r->url, record => $rec, shutdown_timeout => 5,
    redisq => 'concurrency = 1;'));
ok($ll->start, 'looklook with redisq started') or BAIL_OUT($ll->log);

ll_write($ll->dir . '/t.jsonl',
         join '', map { qq({"type":"s","payload":"sleep=1500","id":"S$_"}\n) } 1 .. 4);
my ($st, $out) = cli('-u', $r->url, 'task', 'enqueue', '--file', $ll->dir . '/t.jsonl');
is($st, 0, 'four tasks enqueued') or diag $out;
# one runs, two more are leased for the next free slots (prefetch: twice
# the concurrency), the fourth waits in pending
ok(ll_wait_until(sub { $r->cmd('ZCARD', 'asynq:{default}:lease') == 3 }, 5), 'three leased');
$ll->stop;

my @lines = split /\n/, ll_slurp($rec);
is(scalar @lines, 1, 'only the running task ran; none started during stop')
    or diag join "\n", @lines;
is($r->cmd('GET', 'asynq:{default}:processed'), 1, 'it was written as done');
is($r->cmd('LLEN', 'asynq:{default}:pending'), 3, 'the other three are pending');
is($r->cmd('ZCARD', 'asynq:{default}:lease') + $r->cmd('LLEN', 'asynq:{default}:active'), 0,
   'nothing left leased');
is_deeply([ sort map { $r->cmd('HGET', "asynq:{default}:t:$_", 'state') }
            @{ $r->cmd('LRANGE', 'asynq:{default}:pending', 0, -1) } ],
          [ ('pending') x 3 ], 'their state is pending');
asynq_check_ok($r, 'after the stop');
done_testing;
