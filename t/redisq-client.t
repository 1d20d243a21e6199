# redisq client side through looklook-cli (no server): the exact bytes
# stored by enqueue / unique / schedule / bulk, the inspector commands,
# --json output and exit statuses.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use LL::Test;
use LL::Redis;
use LL::Asynq;
use LL::AsynqCheck;
use JSON::PP;
use Time::HiRes qw(time);

my $r = LL::Redis->start;
my @u = ('-u', $r->url);
my $J = JSON::PP->new->canonical;

# 1. the spec's example vector (docs/asynq-compat.md 3.2), headers included
my $id = '0f5d6b7e-3a8a-4c1e-9b0e-2f0b6a6d8c11';
my $want = asynq_encode('TaskMessage', <<EOF);
type: "email:welcome" payload: "{\\"user_id\\":42}"
headers { key: "trace" value: "abc" }
id: "$id" queue: "default" retry: 25 timeout: 1800
EOF
my $spec = "\x0a\x0demail:welcome\x12\x0e{\"user_id\":42}\x1a\x24$id"
         . "\x22\x07default\x28\x19\x40\x88\x0e\x7a\x0c\x0a\x05trace\x12\x03abc";
is(unpack('H*', $want), unpack('H*', $spec), 'protoc agrees with the spec bytes of 2.6');
my $dir = ll_dir();
ll_write("$dir/one.jsonl", qq({"type":"email:welcome","payload":"{\\"user_id\\":42}","id":"$id","headers":{"trace":"abc"}}\n));
my ($st, $out) = cli(@u, 'task', 'enqueue', '--file', "$dir/one.jsonl");
is($st, 0, 'bulk enqueue of the spec vector') or diag $out;
my $h = "asynq:{default}:t:$id";
is(unpack('H*', $r->cmd('HGET', $h, 'msg')), unpack('H*', $want),
   'stored msg is byte-identical to protoc --encode of the spec example');
is($r->cmd('HGET', $h, 'state'), 'pending', 'state pending');
my $ps = $r->cmd('HGET', $h, 'pending_since');
like($ps, qr/^\d{19}$/, 'pending_since in nanoseconds');
ok(abs($ps / 1e9 - time) < 5, 'pending_since is now');
is_deeply($r->cmd('LRANGE', 'asynq:{default}:pending', 0, -1), [$id], 'ID LPUSHed to pending');
is_deeply($r->cmd('SMEMBERS', 'asynq:queues'), ['default'], 'queue SADDed');
is_deeply([sort @{ $r->cmd('HKEYS', $h) }], [qw(msg pending_since state)], 'no other hash fields');

# 2. ID conflict: exit 1, clear text, nothing changed
($st, $out) = cli(@u, 'task', 'enqueue', 'other', 'x', '--id', $id);
is($st, 1, 'ID conflict exits 1');
like($out, qr/task ID conflicts with another task/, 'ID conflict text');
is(unpack('H*', $r->cmd('HGET', $h, 'msg')), unpack('H*', $want), 'conflict left the task alone');

# 3. options: queue, retry, timeout, deadline, retention -> message fields
($st, $out) = cli(@u, '--json', 'task', 'enqueue', 'report:build', 'p1', '--queue', 'critical',
                  '--retry', '3', '--timeout', '90s', '--deadline', '2030-01-01T00:00:00Z',
                  '--retention', '1h', '--id', 'T1');
is($st, 0, 'enqueue with options') or diag $out;
is_deeply($J->decode($out), { id => 'T1', queue => 'critical', state => 'pending' }, '--json reply');
my $m = asynq_decode('TaskMessage', $r->cmd('HGET', 'asynq:{critical}:t:T1', 'msg'));
is_deeply($m, { type => 'report:build', payload => 'p1', id => 'T1', queue => 'critical',
                retry => 3, timeout => 90, deadline => 1893456000, retention => 3600 },
          'message fields as the Go client sets them');
($st, $out) = cli(@u, 'task', 'enqueue', 'x', '--id', 'T2', '--retry', '0');
$m = asynq_decode('TaskMessage', $r->cmd('HGET', 'asynq:{default}:t:T2', 'msg'));
is_deeply($m, { type => 'x', id => 'T2', queue => 'default', timeout => 1800 },
          'retry 0 and no payload: fields omitted, default timeout 1800');

# 4. schedule: whole-second score, precise ll_at_ms, state scheduled
my $t0 = time;
($st, $out) = cli(@u, 'task', 'enqueue', 'later', 'p', '--in', '30s', '--id', 'S1');
is($st, 0, 'schedule');
my $score = $r->cmd('ZSCORE', 'asynq:{default}:scheduled', 'S1');
my $at = $r->cmd('HGET', 'asynq:{default}:t:S1', 'll_at_ms');
like($score, qr/^\d+$/, 'score is whole seconds');
is($score, int($at / 1000), 'score = due time truncated to the second');
ok($at / 1000 > $t0 + 29 && $at / 1000 < time + 31, 'due 30 s from now');
is($r->cmd('HGET', 'asynq:{default}:t:S1', 'state'), 'scheduled', 'state scheduled');
ok(!defined $r->cmd('HGET', 'asynq:{default}:t:S1', 'pending_since'), 'no pending_since');

# 5. unique: lock key, TTL, value; duplicate refused with exit 1
($st, $out) = cli(@u, 'task', 'enqueue', 'mail', '{"a":1}', '--unique', '1m', '--id', 'U1');
is($st, 0, 'unique enqueue');
require Digest::MD5;
my $lock = 'asynq:{default}:unique:mail:' . Digest::MD5::md5_hex('{"a":1}');
is($r->cmd('GET', $lock), 'U1', 'lock holds the task ID');
my $ttl = $r->cmd('TTL', $lock);
ok($ttl > 55 && $ttl <= 60, "lock TTL 60 s ($ttl)");
is($r->cmd('HGET', 'asynq:{default}:t:U1', 'unique_key'), $lock, 'unique_key hash field');
is(asynq_decode('TaskMessage', $r->cmd('HGET', 'asynq:{default}:t:U1', 'msg'))->{unique_key},
   $lock, 'unique_key in the message');
($st, $out) = cli(@u, 'task', 'enqueue', 'mail', '{"a":1}', '--unique', '1m');
is($st, 1, 'duplicate exits 1');
like($out, qr/task already exists \(unique lock held\)/, 'duplicate text');
($st, $out) = cli(@u, 'task', 'enqueue', 'mail', '', '--unique', '10s', '--in', '20s', '--id', 'U2');
is($r->cmd('GET', 'asynq:{default}:unique:mail:'), 'U2', 'empty payload: nil-form lock key');
$ttl = $r->cmd('TTL', 'asynq:{default}:unique:mail:');
ok($ttl > 26 && $ttl <= 30, "schedule-unique TTL = delay + ttl ($ttl)");

# 6. inspector: ls / inspect (payload as JSON) / run / archive / delete
($st, $out) = cli(@u, '--json', 'task', 'inspect', '--queue', 'default', '--id', $id);
is($st, 0, 'inspect');
my $ti = $J->decode($out);
is_deeply($ti->{payload}, { user_id => 42 }, 'payload shown as JSON');
is_deeply($ti->{headers}, { trace => 'abc' }, 'headers shown');
($st, $out) = cli(@u, '--json', 'task', 'ls', '--queue', 'default', '--state', 'scheduled');
is_deeply([ map { $_->{id} } @{ $J->decode($out) } ], ['U2', 'S1'], 'ls scheduled, by due time');
($st, $out) = cli(@u, 'task', 'run', '--queue', 'default', '--id', 'S1');
is($st, 0, 'run scheduled task') or diag $out;
is($r->cmd('HGET', 'asynq:{default}:t:S1', 'state'), 'pending', 'run -> pending');
is($r->cmd('LINDEX', 'asynq:{default}:pending', 0), 'S1', 'run LPUSHes');
ok(!defined $r->cmd('ZSCORE', 'asynq:{default}:scheduled', 'S1'), 'left scheduled');
($st, $out) = cli(@u, 'task', 'archive', '--queue', 'default', '--id', 'S1');
is($st, 0, 'archive pending task');
is($r->cmd('HGET', 'asynq:{default}:t:S1', 'state'), 'archived', 'archived state');
ok(defined $r->cmd('ZSCORE', 'asynq:{default}:archived', 'S1'), 'in archived zset');
($st, $out) = cli(@u, 'task', 'delete', '--queue', 'default', '--id', 'U1');
is($st, 0, 'delete');
is($r->cmd('EXISTS', 'asynq:{default}:t:U1'), 0, 'hash gone');
ok(!defined $r->cmd('GET', $lock), 'owned unique lock released');
($st, $out) = cli(@u, '--json', 'task', 'run', '--queue', 'default', '--all', '--state', 'archived');
is($J->decode($out)->{count}, 1, 'run --all archived');
($st, $out) = cli(@u, 'task', 'run', '--queue', 'default', '--id', 'nope');
is($st, 1, 'unknown task exits 1');
like($out, qr/task "nope" not found/, 'not found text');
($st, $out) = cli(@u, 'task', 'ls', '--queue', 'nope', '--state', 'pending');
is($st, 1, 'unknown queue exits 1');
like($out, qr/queue "nope" not found/, 'unknown queue text');
($st, $out) = cli(@u, 'task', 'ls', '--queue', 'default');
is($st, 2, 'usage error exits 2');
($st, $out) = cli(@u, 'task', 'enqueue', 'x', '--in', 'soon');
is($st, 2, 'bad duration exits 2');

# 7. pause / stats / queue inspect
($st, $out) = cli(@u, 'queue', 'pause', 'critical');
is($st, 0, 'pause');
like($r->cmd('GET', 'asynq:{critical}:paused'), qr/^\d{10}$/, 'paused key holds Unix seconds');
($st, $out) = cli(@u, 'queue', 'pause', 'critical');
is($st, 1, 'pause twice exits 1');
($st, $out) = cli(@u, '--json', 'stats');
my %q = map { $_->{queue} => $_ } @{ $J->decode($out) };
is($q{critical}{paused}, JSON::PP::true, 'stats shows paused');
is($q{critical}{pending}, 1, 'stats counts');
($st, $out) = cli(@u, 'queue', 'unpause', 'critical');
is($r->cmd('EXISTS', 'asynq:{critical}:paused'), 0, 'unpause deletes the key');
($st, $out) = cli(@u, '--json', 'queue', 'ls');
is_deeply($J->decode($out), [qw(critical default)], 'queue ls');

# 8. bulk: 5,000 tasks through one pipeline; bad lines reported, rest stored
my $lines = join '', map { qq({"type":"bulk","payload":{"n":$_},"queue":"bulk"}\n) } 1 .. 5000;
$lines .= "not json\n" . qq({"type":"bulk","id":"T1","queue":"critical"}\n);
ll_write("$dir/bulk.jsonl", $lines);
($st, $out) = cli(@u, '--json', 'task', 'enqueue', '--file', "$dir/bulk.jsonl");
is($st, 1, 'bulk with errors exits 1');
my $res = $J->decode($out);
is($res->{enqueued}, 5000, '5000 enqueued');
is_deeply([ map { [$_->{line}, $_->{error}] } @{ $res->{errors} } ],
          [[5001, 'not valid JSON'], [5002, 'redisq: task ID conflicts with another task']],
          'errors by line');
is($r->cmd('LLEN', 'asynq:{bulk}:pending'), 5000, 'all in pending');
my $first = $r->cmd('LINDEX', 'asynq:{bulk}:pending', -1);
is(asynq_decode('TaskMessage', $r->cmd('HGET', "asynq:{bulk}:t:$first", 'msg'))->{payload},
   '{"n":1}', 'oldest at the right end, JSON payload stored as text');
asynq_check_ok($r, 'after every enqueue and inspector operation');

done_testing;
