# redisq against docs/asynq-compat.md, cases found by the audit: tasks a Go
# client may write that redisq must serve as asynq does (long task IDs,
# NUL bytes and a 4 MB payload), the recoverer (6) with more expired
# leases than one batch (behind stale entries not in active) and a
# message whose id differs from its key, the
# unique lock released by Done only when owned (5.3), archive trimming by
# age and size deleting the hashes (5.6, the 9,999 effect), an active
# task without its lease entry.
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
my $now = int(time);

# A TaskMessage as the Go client writes it (2.1), checked against protoc.
sub vint { my ($n) = @_; my $s = ''; while ($n >= 0x80) { $s .= chr(($n & 0x7f) | 0x80); $n >>= 7 } $s . chr($n) }
sub ld { my ($tag, $v) = @_; chr($tag) . vint(length $v) . $v }
sub tmsg {
    my (%f) = @_;
    my $m = ld(0x0a, $f{type}) . (length($f{payload} // '') ? ld(0x12, $f{payload}) : '')
          . ld(0x1a, $f{id}) . ld(0x22, $f{queue} // 'default') . chr(0x28) . vint($f{retry} // 25)
          . chr(0x40) . vint(1800);
    $m .= ld(0x52, $f{unique_key}) if $f{unique_key};
    return $m;
}
is(unpack('H*', tmsg(type => 't:x', payload => "a\0b", id => 'I1', retry => 3, unique_key => 'L')),
   unpack('H*', asynq_encode('TaskMessage', 'type: "t:x" payload: "a\000b" id: "I1" queue: "default"
       retry: 3 timeout: 1800 unique_key: "L"')), 'test encoder = protoc');
sub go_enqueue {    # 3.2 as the Go client does it
    my ($q, %f) = @_;
    $r->cmd('SADD', 'asynq:queues', $q);
    $r->cmd('HSET', "asynq:{$q}:t:$f{id}", 'msg', tmsg(%f, queue => $q), 'state', 'pending',
            'pending_since', int(time * 1e9));
    $r->cmd('LPUSH', "asynq:{$q}:pending", $f{id});
}
sub hget { $r->cmd('HGET', "asynq:{$_[0]}:t:$_[1]", $_[2]) }
sub state { hget($_[0], $_[1], 'state') // '' }

# ---- before the server starts: expired leases for the start-up recoverer
# 600 tasks leased by a crashed server (more than one recovery batch), and
# one whose stored msg names another ID than its key.
$r->cmd('EVAL', <<'LUA', 0, $now - 100);
for i = 1, 600 do
  local id = 'E' .. i
  local msg = '\10\3t:e' .. '\26' .. string.char(#id) .. id .. '\34\7default\40\5\64\136\14'
  redis.call('HSET', 'asynq:{default}:t:' .. id, 'msg', msg, 'state', 'active')
  redis.call('LPUSH', 'asynq:{default}:active', id)
  redis.call('ZADD', 'asynq:{default}:lease', ARGV[1], id)
  -- and 600 stale lease entries not in active (NOT FOUND for any script),
  -- ranked before them: they must not hide the real ones
  id = 'S' .. i
  msg = '\10\3t:e' .. '\26' .. string.char(#id) .. id .. '\34\7default\40\5\64\136\14'
  redis.call('HSET', 'asynq:{default}:t:' .. id, 'msg', msg, 'state', 'active')
  redis.call('ZADD', 'asynq:{default}:lease', ARGV[1] - 100, id)
end
LUA
$r->cmd('HSET', 'asynq:{default}:t:M1', 'msg', tmsg(type => 't:m', id => 'OTHER'), 'state', 'active');
$r->cmd('LPUSH', 'asynq:{default}:active', 'M1');
$r->cmd('ZADD', 'asynq:{default}:lease', $now - 100, 'M1');

my $ll = LL::Test::Server->new;
my $rec = $ll->dir . '/rec.txt';
$ll->conf(redisq_conf(url => $r->url, record => $rec,
    redisq => 'concurrency = 4; recover_interval = "1h"; queues = { default = 1; arch = 1; };',
    routes => 'routes = ( { from = "redisq:t:*"; to = "h"; } );'));
ok($ll->start, 'looklook with redisq started') or BAIL_OUT($ll->log);

# 4.10: every expired lease is recovered by the first run, not one batch
ok(ll_wait_until(sub { $r->cmd('ZCARD', 'asynq:{default}:retry') >= 600 }, 10),
   'all 600 expired leases recovered at start')
    or diag 'retry: ' . $r->cmd('ZCARD', 'asynq:{default}:retry');
is($r->cmd('ZCARD', 'asynq:{default}:lease') + $r->cmd('LLEN', 'asynq:{default}:active'), 600,
   'lease holds only the 600 stale entries, active is empty');
is($r->cmd('ZCOUNT', 'asynq:{default}:lease', $now - 200, $now - 200), 600, 'stale ones left alone');
is(asynq_decode('TaskMessage', hget('default', 'E600', 'msg'))->{error_msg},
   'asynq: task lease expired', 'recovered with the lease-expired text');
# the mismatched message is archived under its key, not lost in active
ok(ll_wait_until(sub { state('default', 'M1') eq 'archived' }, 5), 'id/key mismatch archived');
like(asynq_decode('TaskMessage', hget('default', 'M1', 'msg'))->{error_msg}, qr/does not match/,
     'reason stored');
is($r->cmd('EXISTS', 'asynq:{default}:t:OTHER'), 0, 'nothing written for the other ID');

# ---- a Go client's long task ID (any non-blank string is allowed) ------
my $long = 'L' . ('x' x 499);
go_enqueue('default', type => 't:l', payload => 'retry', id => $long, retry => 3);
ok(ll_wait_until(sub { state('default', $long) eq 'retry' }, 10), '500-byte task ID retried')
    or diag $ll->log;
is(asynq_decode('TaskMessage', hget('default', $long, 'msg'))->{retried}, 1, 'retried = 1');
ok((grep { index($_, " $long t:l ") >= 0 } split /\n/, ll_slurp($rec)), 'handler got the long ID');
my @stray = grep { length($_) < length("asynq:{default}:t:$long") && /^asynq:\{default\}:t:Lxx/ }
            @{ $r->cmd('KEYS', 'asynq:{default}:t:L*') };
is_deeply(\@stray, [], 'no hash under a truncated key');

# ---- NUL bytes and a 4 MB payload survive the rewrite byte for byte ----
my $big = "fail\0" . ("\xff\x00\x01" x 1_400_000);
go_enqueue('default', type => 't:b', payload => $big, id => 'BIG', retry => 3);
ok(ll_wait_until(sub { state('default', 'BIG') eq 'archived' }, 15), 'big binary task archived');
my $m = hget('default', 'BIG', 'msg');
ok(index($m, ld(0x12, $big)) >= 0, 'payload bytes unchanged in the archived msg');

# ---- 4.3: Done releases the unique lock only when this task owns it -----
my $lock = 'asynq:{default}:unique:t:u:' . 'a' x 32;
$r->cmd('SET', $lock, 'UO', 'EX', 600);
go_enqueue('default', type => 't:u', payload => 'done', id => 'UO', unique_key => $lock);
ok(ll_wait_until(sub { $r->cmd('EXISTS', 'asynq:{default}:t:UO') == 0 }), 'owner done');
is($r->cmd('EXISTS', $lock), 0, 'owned lock released');
$r->cmd('SET', $lock, 'SOMEONE', 'EX', 600);
go_enqueue('default', type => 't:u', payload => 'done', id => 'UN', unique_key => $lock);
ok(ll_wait_until(sub { $r->cmd('EXISTS', 'asynq:{default}:t:UN') == 0 }), 'non-owner done');
is($r->cmd('GET', $lock), 'SOMEONE', 'lock of another task kept');

# ---- 4.7: archive trims by age and size and deletes the trimmed hashes --
$r->cmd('EVAL', <<'LUA', 0, $now - 10, $now - 91 * 86400);
for i = 1, 10000 do
  redis.call('HSET', 'asynq:{arch}:t:A' .. i, 'msg', 'x', 'state', 'archived')
  redis.call('ZADD', 'asynq:{arch}:archived', ARGV[1] + i / 100000, 'A' .. i)
end
for i = 1, 5 do
  redis.call('HSET', 'asynq:{arch}:t:OLD' .. i, 'msg', 'x', 'state', 'archived')
  redis.call('ZADD', 'asynq:{arch}:archived', ARGV[2], 'OLD' .. i)
end
LUA
go_enqueue('arch', type => 't:f', payload => 'fail', id => 'NEW');
ok(ll_wait_until(sub { state('arch', 'NEW') eq 'archived' }), 'failed task archived');
is($r->cmd('ZCARD', 'asynq:{arch}:archived'), 9999, 'archive holds 9,999 tasks');
is(scalar @{ $r->cmd('KEYS', 'asynq:{arch}:t:OLD*') }, 0, 'hashes of tasks past 90 days deleted');
is_deeply([ map { $r->cmd('EXISTS', "asynq:{arch}:t:$_") } qw(A1 A2 A3) ], [0, 0, 1],
          'oldest two by size trimmed with their hashes');
ok(defined $r->cmd('ZSCORE', 'asynq:{arch}:archived', 'NEW'), 'the new one kept');

# ---- an active task whose lease entry vanished (asynq issue #1051) is
# still finished: its outcome is written, not NOT FOUND after the LREM
go_enqueue('default', type => 't:z', payload => 'sleep=1500 retry', id => 'LZ');
ok(ll_wait_until(sub { state('default', 'LZ') eq 'active' }, 5), 'LZ active');
$r->cmd('ZREM', 'asynq:{default}:lease', 'LZ');
ok(ll_wait_until(sub { state('default', 'LZ') eq 'retry' }, 5), 'retried without a lease entry')
    or diag 'state ' . state('default', 'LZ');
ok(defined $r->cmd('ZSCORE', 'asynq:{default}:retry', 'LZ'), 'in the retry zset');

# ---- 2.7: headers (field 15) survive a rewrite --------------------------
$r->cmd('SADD', 'asynq:queues', 'default');
$r->cmd('HSET', 'asynq:{default}:t:HD', 'msg', asynq_encode('TaskMessage', 'type: "t:h"
    payload: "fail" id: "HD" queue: "default" retry: 3 timeout: 1800
    headers { key: "trace" value: "abc" } headers { key: "k2" value: "v\303\251" }'),
    'state', 'pending');
$r->cmd('LPUSH', 'asynq:{default}:pending', 'HD');
ok(ll_wait_until(sub { state('default', 'HD') eq 'archived' }), 'task with headers archived');
is_deeply(asynq_decode('TaskMessage', hget('default', 'HD', 'msg'))->{headers},
          { trace => 'abc', k2 => "v\303\251" }, 'headers kept in the archived msg (protoc)');

$ll->stop;

# the 600 stale lease entries (not in active) break the invariants on
# purpose: the operator's checker finds them and --fix repairs them
my @bad = asynq_check($r, 'default');
is(scalar(grep { /lease entry S\d+ is not in active/ } @bad), 600, 'the test checker sees the stale leases');
my ($st, $out) = cli('-u', $r->url, 'queue', 'check', 'default', 'arch');
is($st, 1, 'looklook-cli queue check finds them');
is(scalar(() = $out =~ /task S\d+: in no container/g), 600, '... each one');
($st, $out) = cli('-u', $r->url, 'queue', 'check', '--fix', 'default', 'arch');
is($st, 0, 'queue check --fix') or diag($out);
asynq_check_ok($r, 'after the audit cases and --fix', 'default', 'arch');
done_testing;
