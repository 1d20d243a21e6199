# redisq server: every outcome's exact Redis writes (docs/asynq-compat.md 5.3-5.8,
# 4.13, 4.17), precise delays, deadline, cancel, pause, no route, headers,
# unknown fields, undecodable messages, enqueue from a handler.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use LL::Test;
use LL::Redis;
use LL::Asynq;
use LL::AsynqCheck;
use Time::HiRes qw(time sleep);
use POSIX qw(strftime);

my $r = LL::Redis->start;
my @u = ('-u', $r->url);
my $ll = LL::Test::Server->new;
my $rec = $ll->dir . '/rec.txt';
$ll->conf(redisq_conf(url => $r->url, record => $rec,
    redisq => 'concurrency = 5; queues = { critical = 6; default = 3; low = 1; };',
    routes => 'routes = ( { from = "redisq:t:*"; to = "h"; },
                          { from = "redisq:followup"; to = "h"; } );'));
ok($ll->start, 'looklook with redisq started') or BAIL_OUT($ll->log);

sub records {
    my %by;
    for (split /\n/, ll_slurp($rec)) {
        my @f = split / /;
        push @{ $by{$f[2]} }, { start => $f[0], end => $f[1], id => $f[2], type => $f[3],
            queue => $f[4], attempt => $f[5], max_retry => $f[6], deadline => $f[7],
            cancelled => $f[8], headers => [ @f[10 .. $#f] ] };
    }
    return \%by;
}
sub attempts { my $x = records()->{$_[0]}; return $x ? scalar @$x : 0 }
sub enq { my ($st, $out) = cli(@u, 'task', 'enqueue', @_); die "enqueue: $out" if $st; }
sub hget { $r->cmd('HGET', "asynq:{$_[0]}:t:$_[1]", $_[2]) }
sub msg { asynq_decode('TaskMessage', hget($_[0], $_[1], 'msg')) }
sub wait_state { my ($q, $id, $s, $t) = @_;
    ll_wait_until(sub { (hget($q, $id, 'state') // '') eq $s }, $t // 10) }
my $today = strftime('%Y-%m-%d', gmtime);

# done: hash deleted, processed counters (daily with 90-day expiry)
enq('t:a', 'done', '--id', 'D1');
ok(ll_wait_until(sub { $r->cmd('EXISTS', 'asynq:{default}:t:D1') == 0 && attempts('D1') }),
   'done task deleted');
is($r->cmd('GET', 'asynq:{default}:processed'), 1, 'processed total');
is($r->cmd('GET', "asynq:{default}:processed:$today"), 1, 'processed today');
my $ttl = $r->cmd('TTL', "asynq:{default}:processed:$today");
ok($ttl > 89 * 86400 && $ttl <= 90 * 86400 + 86400, 'daily counter expires in ~90 days');
ok(!defined $r->cmd('GET', 'asynq:{default}:failed'), 'no failure counted');
is($r->cmd('LLEN', 'asynq:{default}:active') + $r->cmd('ZCARD', 'asynq:{default}:lease'), 0,
   'active and lease empty');
my $d1 = records()->{D1}[0];
is_deeply([@$d1{qw(type queue attempt max_retry cancelled)}], ['t:a', 'default', 0, 25, 0],
          'handler got type, queue, attempt, max_retry');
ok(abs($d1->{deadline} - ($d1->{start} + 1800_000)) < 2000, 'deadline = now + default timeout');

# retry with asynq back-off: exact message bytes
my $t0 = time;
enq('t:r', 'retry', '--id', 'R1', '--retry', '2');
ok(wait_state('default', 'R1', 'retry'), 'failed task moved to retry');
my $m = msg('default', 'R1');
is($m->{retried}, 1, 'retried incremented');
is($m->{error_msg}, 'asked to retry (attempt 0)', 'error text stored');
ok($m->{last_failed_at} >= int($t0) && $m->{last_failed_at} <= time, 'last_failed_at');
my $want = asynq_encode('TaskMessage', qq{type: "t:r" payload: "retry" id: "R1" queue: "default"
    retry: 2 retried: 1 error_msg: "asked to retry (attempt 0)" timeout: 1800
    last_failed_at: $m->{last_failed_at}});
is(unpack('H*', hget('default', 'R1', 'msg')), unpack('H*', $want), 'retry msg bytes = protoc');
my $score = $r->cmd('ZSCORE', 'asynq:{default}:retry', 'R1');
my $delay = $score - $m->{last_failed_at};
ok($delay >= 15 && $delay <= 44, "back-off for n=0 is 15..44 s ($delay)");
is(hget('default', 'R1', 'll_at_ms'), $score * 1000, 'll_at_ms = score for the default back-off');
is($r->cmd('GET', 'asynq:{default}:failed'), 1, 'failed total');
is($r->cmd('GET', "asynq:{default}:failed:$today"), 1, 'failed today');
is($r->cmd('GET', 'asynq:{default}:processed'), 2, 'processed counts failures too');

# handler-chosen delay: millisecond-precise retries, then done
enq('t:rd', 'retry delay=300 until=2', '--id', 'R2');
ok(ll_wait_until(sub { attempts('R2') == 3 && $r->cmd('EXISTS', 'asynq:{default}:t:R2') == 0 }),
   'retried twice, then done');
my @a = @{ records()->{R2} };
is_deeply([ map { $_->{attempt} } @a ], [0, 1, 2], 'attempt numbers');
for my $i (1, 2) {
    my $gap = $a[$i]{start} - $a[$i - 1]{end};
    # never early; the upper bound only tells ms precision from asynq's
    # second scores and 5 s forwarder poll (loose for a loaded machine)
    ok($gap >= 299 && $gap < 2000, "retry $i started ${gap} ms after a 300 ms delay");
}

# retries exhausted -> archived; fail -> archived at once
enq('t:x', 'retry delay=0', '--id', 'X1', '--retry', '1');
ok(wait_state('default', 'X1', 'archived'), 'exhausted retries archived');
is(attempts('X1'), 2, 'ran retry + 1 times');
$m = msg('default', 'X1');
is_deeply([@$m{qw(retried error_msg)}], [1, 'asked to retry (attempt 1)'], 'archived message');
ok(defined $r->cmd('ZSCORE', 'asynq:{default}:archived', 'X1'), 'in archived zset');
enq('t:f', 'fail', '--id', 'F1');
ok(wait_state('default', 'F1', 'archived'), 'LL_FAIL archived');
is(msg('default', 'F1')->{retried} // 0, 0, 'fail does not count a retry');
is(msg('default', 'F1')->{error_msg}, 'asked to fail', 'fail text');

# revoke: deleted, processed but not failed
my $failed = $r->cmd('GET', 'asynq:{default}:failed');
enq('t:v', 'revoke', '--id', 'V1');
ok(ll_wait_until(sub { attempts('V1') && $r->cmd('EXISTS', 'asynq:{default}:t:V1') == 0 }),
   'revoked task deleted');
is($r->cmd('GET', 'asynq:{default}:failed'), $failed, 'revoke is no failure');

# retention: completed with completed_at, score = now + retention
enq('t:k', 'done', '--id', 'K1', '--retention', '1h');
ok(wait_state('default', 'K1', 'completed'), 'retained task completed');
$m = msg('default', 'K1');
ok(abs($m->{completed_at} - time) < 5, 'completed_at set');
is($r->cmd('ZSCORE', 'asynq:{default}:completed', 'K1'), $m->{completed_at} + 3600,
   'completed score = completed_at + retention');

# no route: retried with the core's text
enq('unrouted:x', '', '--id', 'N1');
ok(wait_state('default', 'N1', 'retry'), 'unrouted task retried');
is(msg('default', 'N1')->{error_msg}, 'no handler for task type unrouted:x', 'no-handler text');

# headers reach the handler; unknown fields survive a rewrite
ll_write($ll->dir . '/h.jsonl', qq({"type":"t:h","payload":"done","id":"H1","headers":{"trace":"abc"}}\n));
cli(@u, 'task', 'enqueue', '--file', $ll->dir . '/h.jsonl');
ok(ll_wait_until(sub { attempts('H1') }), 'task with headers ran');
is_deeply(records()->{H1}[0]{headers}, ['trace=abc'], 'header passed to the handler');
my $raw = asynq_encode('TaskMessage', qq{type: "t:u" payload: "fail" id: "U1" queue: "default" retry: 3})
        . "\x80\x01\x05";    # field 16, varint 5: unknown to asynq
$r->cmd('HSET', 'asynq:{default}:t:U1', 'msg', $raw, 'state', 'pending');
$r->cmd('LPUSH', 'asynq:{default}:pending', 'U1');
ok(wait_state('default', 'U1', 'archived'), 'hand-made task archived');
like(unpack('H*', hget('default', 'U1', 'msg')), qr/800105$/, 'unknown field kept on rewrite');

# undecodable msg: archived with a readable stand-in; an ID without hash dropped
$r->cmd('HSET', 'asynq:{default}:t:B1', 'msg', "\xff\xff\xff", 'state', 'pending');
$r->cmd('LPUSH', 'asynq:{default}:pending', 'B1', 'ghost');
ok(wait_state('default', 'B1', 'archived'), 'undecodable task archived');
$m = msg('default', 'B1');
is_deeply([@$m{qw(type id queue payload)}], ['looklook:undecodable', 'B1', 'default', "\xff\xff\xff"],
          'stand-in message decodes (protoc) and keeps the bytes');
like($m->{error_msg}, qr/undecodable/, 'reason stored');
ok(ll_wait_until(sub { !grep { $_ eq 'ghost' } @{ $r->cmd('LRANGE', 'asynq:{default}:pending', 0, -1) } }),
   'ghost ID dropped');
is($r->cmd('EXISTS', 'asynq:{default}:t:ghost'), 0, 'no hash created for it');
like($ll->log, qr/task B1: undecodable task message.*archived/, 'logged');

# precise delay: due in 1.5 s (not on a second boundary)
enq('t:s', 'done', '--id', 'S1', '--in', '1500ms');
my $due = hget('default', 'S1', 'll_at_ms');
ok(ll_wait_until(sub { attempts('S1') }, 5), 'scheduled task ran');
my $late = records()->{S1}[0]{start} - $due;
ok($late >= 0 && $late < 1000, "started $late ms after its due time (not early, not at a poll)");

# deadline: the handler sees cancelled, the task is retried
enq('t:d', 'sleep=5000', '--id', 'DL1', '--timeout', '1s');
ok(wait_state('default', 'DL1', 'retry', 8), 'timed-out task retried');
is(msg('default', 'DL1')->{error_msg}, 'context deadline exceeded', 'deadline text');
is(records()->{DL1}[0]{cancelled}, 1, 'handler saw ll_msg_cancelled');

# running task: active state, lease, worker info, server info; then cancel
enq('t:c', 'sleep=10000', '--id', 'C1');
ok(wait_state('default', 'C1', 'active'), 'task active');
ok(!defined hget('default', 'C1', 'pending_since'), 'pending_since deleted at dequeue');
my $lease = $r->cmd('ZSCORE', 'asynq:{default}:lease', 'C1');
ok($lease >= int(time) + 25 && $lease <= time + 31, 'lease = now + 30 s');
my ($wk) = @{ $r->cmd('ZRANGEBYSCORE', 'asynq:workers', int(time), '+inf') };
ok(ll_wait_until(sub { $r->cmd('HGET', $wk, 'C1') }, 7), 'worker info written');
my $wi = asynq_decode('WorkerInfo', $r->cmd('HGET', $wk, 'C1'));
is_deeply([@$wi{qw(task_id task_type queue)}], ['C1', 't:c', 'default'], 'WorkerInfo fields');
my ($sk) = @{ $r->cmd('ZRANGEBYSCORE', 'asynq:servers', int(time), '+inf') };
my $si = asynq_decode('ServerInfo', $r->cmd('GET', $sk));
is_deeply($si->{queues}, { critical => 6, default => 3, low => 1 }, 'ServerInfo queues');
is_deeply([@$si{qw(concurrency status)}], [5, 'active'], 'ServerInfo concurrency, status');
is($sk, "asynq:servers:{$si->{host}:$si->{pid}:$si->{server_id}}", 'server key name');
ok($r->cmd('TTL', $sk) > 0 && $r->cmd('TTL', $sk) <= 10, 'server info TTL 10 s');
my ($st, $out) = cli(@u, 'task', 'cancel', '--id', 'C1');
ok(wait_state('default', 'C1', 'retry', 5), 'cancelled task retried');
is(msg('default', 'C1')->{error_msg}, 'context canceled', 'cancel text');

# pause: nothing dequeued while paused
enq('t:p', 'done', '--id', 'P0', '--queue', 'low');
ok(ll_wait_until(sub { attempts('P0') }), 'low queue served');
cli(@u, 'queue', 'pause', 'low');
enq('t:p', 'done', '--id', 'P1', '--queue', 'low');
sleep 1.5;
is(hget('low', 'P1', 'state'), 'pending', 'paused queue not dequeued');
cli(@u, 'queue', 'unpause', 'low');
ok(ll_wait_until(sub { attempts('P1') }, 5), 'served after unpause');

# a handler enqueues through ll_send(.., "redisq", ..)
enq('t:send', 'send=critical', '--id', 'SE1');
ok(ll_wait_until(sub { grep { $_->[0]{type} eq 'followup' } values %{ records() } }),
   'follow-up task enqueued by a handler ran');
like($ll->log, qr/no handler|archived/, 'log has outcome lines');

asynq_check_ok($r, 'after every outcome');

# stop clears the heartbeat keys
$ll->stop;
is($r->cmd('EXISTS', $sk), 0, 'server info deleted at stop');
is($r->cmd('ZSCORE', 'asynq:servers', $sk), undef, 'server zset member removed');

done_testing;
