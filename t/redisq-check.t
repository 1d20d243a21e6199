# looklook-cli queue check [--fix]: the asynq invariants for operators.
# A database broken every way the checker knows is reported (exit 1) and
# left as it was; --fix repairs it so that the test's own checker
# (t/lib/LL/AsynqCheck.pm) finds nothing, without touching a task a live
# server holds; a clean database exits 0.
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
my $now = time;
my $p = 'asynq:{default}:';
sub msg { asynq_encode('TaskMessage', qq{type: "t:c" id: "$_[0]" queue: "$_[1]" retry: 3 timeout: 60}) }
sub task { my ($id, $state, %o) = @_; my $q = $o{queue} // 'default';
           $r->cmd('HSET', "asynq:{$q}:t:$id", 'msg', $o{msg} // msg($id, $q), 'state', $state); }
$r->cmd('SADD', 'asynq:queues', 'default', 'odd:name');

task('OK1', 'pending');   $r->cmd('LPUSH', "${p}pending", 'OK1');
task('OK2', 'retry');     $r->cmd('ZADD', "${p}retry", $now + 100, 'OK2');
task('RUN', 'active');    $r->cmd('LPUSH', "${p}active", 'RUN');     # held by a live server
$r->cmd('ZADD', "${p}lease", $now + 30, 'RUN');
$r->cmd('LPUSH', "${p}pending", 'GHOST');                             # no hash
$r->cmd('SET', "${p}t:STR", 'x'); $r->cmd('ZADD', "${p}scheduled", $now, 'STR');  # not a hash
task('TWO', 'retry');     $r->cmd('ZADD', "${p}retry", $now, 'TWO'); $r->cmd('ZADD', "${p}archived", $now, 'TWO');
task('MIS', 'pending');   $r->cmd('ZADD', "${p}scheduled", $now, 'MIS');           # state mismatch
task('NOLEASE', 'active'); $r->cmd('LPUSH', "${p}active", 'NOLEASE');              # active, no lease
task('ORPHAN', 'archived');                                                         # in no container
task('ORPHAN2', 'weird');                                                           # no valid state
task('BADMSG', 'pending', msg => "\xff\xff"); $r->cmd('LPUSH', "${p}pending", 'BADMSG');
task('DUP', 'pending');   $r->cmd('LPUSH', "${p}pending", 'DUP', 'DUP');
$r->cmd('ZADD', "${p}lease", $now, 'STRAY');                                        # lease, no task
task('ODD', 'scheduled', queue => 'odd:name');                                      # odd queue name
$r->cmd('SET', 'asynq:{wrong}:pending', 'x');                                       # wrong type

my @before = asynq_check($r, 'default', 'odd:name');
ok(@before >= 10, 'the test checker sees the damage') or diag explain \@before;
my $dump = sub { join "\n", map { "$_=" . join(',', @{ $r->cmd('TYPE', $_) eq 'hash'
    ? $r->cmd('HGETALL', $_) : $r->cmd('TYPE', $_) eq 'list' ? $r->cmd('LRANGE', $_, 0, -1)
    : $r->cmd('TYPE', $_) eq 'zset' ? $r->cmd('ZRANGE', $_, 0, -1) : [$r->cmd('TYPE', $_)] }) }
    sort @{ $r->cmd('KEYS', '*') } };
my $snapshot = $dump->();

my ($st, $out) = cli(@u, 'queue', 'check');
is($st, 1, 'check finds problems: exit 1');
for my $want (qr/task GHOST: no task hash/, qr/task STR: its key is a string/,
              qr/task TWO: .*in retry and archived/, qr/task MIS: state pending but in scheduled/,
              qr/task NOLEASE: active without a lease/, qr/task ORPHAN: in no container/,
              qr/task ORPHAN2: in no container, state weird/, qr/task BADMSG: msg does not decode/,
              qr/task DUP: in pending 2 times/, qr/task STRAY: no task hash/,
              qr/queue "odd:name": task ODD: in no container/,
              qr/asynq:\{wrong\}:pending is a string, not a list/) {
    like($out, $want, "reported: $want");
}
unlike($out, qr/task (RUN|OK1|OK2):/, 'sound and held tasks not reported');
is($dump->(), $snapshot, 'a check changes nothing');

($st, $out) = cli(@u, 'queue', 'check', '--fix', 'default', 'odd:name');
is($st, 0, '--fix of the two queues: exit 0') or diag $out;
like($out, qr/task ORPHAN: in no container: fixed, now archived/, 'says what it did');
asynq_check_ok($r, 'after --fix', 'default', 'odd:name');
is($r->cmd('HGET', "${p}t:MIS", 'state'), 'scheduled', 'mismatch: the container wins');
is($r->cmd('HGET', "${p}t:TWO", 'state'), 'retry', 'two containers: the state wins');
is_deeply($r->cmd('ZRANGE', "${p}archived", 0, -1), [sort qw(BADMSG ORPHAN ORPHAN2)],
          'undecodable and stateless tasks archived');
is(asynq_decode('TaskMessage', $r->cmd('HGET', "${p}t:BADMSG", 'msg'))->{type}, 'looklook:undecodable',
   'under a stand-in msg that decodes');
ok($r->cmd('ZSCORE', "${p}lease", 'NOLEASE') < $now, 'active without lease: an expired lease for a recoverer');
is($r->cmd('ZSCORE', "${p}lease", 'RUN'), $now + 30, 'the held task untouched');
is($r->cmd('GET', "${p}t:STR"), 'x', 'a key that is no hash is left alone');

($st, $out) = cli(@u, 'queue', 'check', 'default', 'odd:name');
is($st, 0, 'a second check finds nothing') or diag $out;
like($out, qr/queue "default": \d+ tasks, 0 with problems/, '... and says so');
($st, $out) = cli(@u, 'queue', 'check', '--bogus');
is($st, 2, 'unknown option: usage error');
done_testing;
