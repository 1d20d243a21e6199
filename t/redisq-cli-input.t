# looklook-cli refuses what it cannot do faithfully instead of guessing:
# -u / -c without a value (never the default Redis), NUL bytes in --file
# strings or lines (would cut queue and type names, or lose a task), text
# after a line's object, out-of-range numbers (never clamped), cancel of a
# task that does not run; and accepts what asynq accepts: pausing a queue
# nothing was enqueued in yet.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use LL::Test;
use LL::Redis;
use LL::Asynq;
use LL::AsynqCheck;

my $r = LL::Redis->start;
my @u = ('-u', $r->url);

for my $args (['-u'], ['stats', '-u'], ['-u', '', 'stats'], ['--uri=', 'stats'],
              ['--uri', '', 'queue', 'ls'], ['stats', '-c']) {
    my ($st, $out) = cli(@$args);
    is($st, 2, "looklook-cli @$args: usage error") or diag($out);
    like($out, qr/needs a value/, '... saying why');
    unlike($out, qr/127\.0\.0\.1:6379/, '... not the default Redis');
}

# ---- --file: NUL bytes and out-of-range numbers refused ------------------
my $dir = ll_dir();
ll_write("$dir/t.jsonl", join "\n",
    '{"type":"t\u0000cut","queue":"q"}',                 # 1 refused
    '{"type":"ok","queue":"q\u0000cut"}',                # 2 refused
    '{"type":"ok","queue":"q","id":"i\u0000d"}',         # 3 refused
    '{"type":"ok","queue":"q","payload":"a\u0000b"}',    # 4 refused
    '{"type":"ok","queue":"q","retry":1e400}',           # 5 refused
    '{"type":"ok","queue":"q","retry":2.5}',             # 6 refused
    '{"type":"ok","queue":"q","retry":4294967297}',      # 7 refused
    '{"type":"ok","queue":"q","in":1e300}',              # 8 refused
    '{"type":"ok","queue":"q","timeout":"1e300s"}',      # 9 refused
    '{"type":"ok","queue":"q","id":"K1","payload":"a\\\\u0000b","retry":3}',  # 10 ok
    '{"type":"ok","queue":"q","id":"K2"} {"type":"lost","queue":"q"}',       # 11 refused
    qq({"type":"ok","queue":"q","id":"K3"}\0{"type":"lost","queue":"q"}),   # 12 refused
    '');
my ($st, $out) = cli(@u, 'task', 'enqueue', '--file', "$dir/t.jsonl");
is($st, 1, '--file with bad lines exits 1');
like($out, qr/^looklook-cli: line $_: a string holds a NUL byte/m, "line $_: NUL refused") for 1 .. 4;
like($out, qr/^looklook-cli: line $_: "retry" must be a whole number/m, "line $_: retry refused") for 5 .. 7;
like($out, qr/^looklook-cli: line $_: bad "(in|timeout)"/m, "line $_: time out of range refused") for 8 .. 9;
like($out, qr/^looklook-cli: line 11: not valid JSON/m, 'line 11: text after the object refused');
like($out, qr/^looklook-cli: line 12: the line holds a NUL byte/m, 'line 12: a NUL byte refused');
like($out, qr/enqueued 1 tasks/, 'the good line enqueued');
is_deeply([sort @{ $r->cmd('SMEMBERS', 'asynq:queues') }], ['q'], 'no cut queue name created');
is($r->cmd('LLEN', 'asynq:{q}:pending'), 1, 'only the good task');
my $m = asynq_decode('TaskMessage', $r->cmd('HGET', 'asynq:{q}:t:K1', 'msg'));
is_deeply([@$m{qw(type payload retry)}], ['ok', 'a\\u0000b', 3], 'an escaped backslash is text');

# a blank queue first in a file (the bulk enqueue's key cache starts blank)
ll_write("$dir/blank.jsonl", qq({"type":"ok","queue":""}\n));
($st, $out) = cli(@u, 'task', 'enqueue', '--file', "$dir/blank.jsonl");
is($st, 1, 'a blank queue refused');
like($out, qr/line 1: redisq: invalid task: blank, too long or non-UTF-8 queue name/, '... saying why');
is($r->cmd('EXISTS', 'asynq:{}:pending'), 0, '... and no asynq:{}: keys');

# ---- cancel says when nothing runs the task -------------------------------
($st, $out) = cli(@u, 'task', 'cancel', '--id', 'NOPE');
is($st, 1, 'cancel of an unknown ID fails');
like($out, qr/task "NOPE" not found/, '... saying so');
unlike($out, qr/sent/, '... and sends nothing');
($st, $out) = cli(@u, 'task', 'cancel', '--id', 'K1');
is($st, 1, 'cancel of a pending task fails');
like($out, qr/task "K1" in queue "q" is pending, not running/, '... saying why');
($st, $out) = cli(@u, 'task', 'cancel', '--id', 'K1', '--queue', 'other');
like($out, qr/task "K1" not found in queue "other"/, '--queue narrows the search');
$r->cmd('HSET', 'asynq:{q}:t:K1', 'state', 'active');     # as if running
($st, $out) = cli(@u, 'task', 'cancel', '--id', 'K1');
is($st, 0, 'cancel of an active task') or diag($out);
like($out, qr/cancel of K1 sent/, '... sent');
$r->cmd('HSET', 'asynq:{q}:t:K1', 'state', 'pending');

# ---- pause before anything was enqueued (asynq accepts it) ----------------
($st, $out) = cli(@u, 'queue', 'pause', 'later');
is($st, 0, 'pause of a queue not known yet') or diag($out);
like($r->cmd('GET', 'asynq:{later}:paused') // '', qr/^\d+$/, 'its paused key set');
($st, $out) = cli(@u, 'queue', 'pause', '  ');
is($st, 1, 'a blank queue name is still refused');
($st, $out) = cli(@u, 'queue', 'unpause', 'later');
is($st, 0, 'unpause');

asynq_check_ok($r, 'after the CLI cases');
done_testing;
