# Redis Cluster (issue 14): the slot of a busy queue migrates to another
# master while redisq drains it (CLUSTER SETSLOT IMPORTING/MIGRATING, MIGRATE
# in batches, SETSLOT NODE: what redis-cli --cluster reshard does, for one
# chosen slot).  Commands meet ASK, TRYAGAIN and then MOVED; nothing is
# lost: every task handled, the queue's keys all on the new node, the asynq
# invariants there.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep);
use lib 't/lib';
use LL::Test;
use LL::Cluster;
use LL::Asynq;
use LL::AsynqCheck;

my $c = LL::Cluster->start;
my $url = $c->url;
my $q = 'busy';
my $from = $c->node_of("asynq:{$q}:pending");
my ($to) = grep { $_ != $from } $c->nodes;
my $slot = $from->cmd('CLUSTER', 'KEYSLOT', $q);

my $N = 3000;
my $D = 100;
my $ll = LL::Test::Server->new;
my $d = $ll->dir;
my $rec = "$d/rec.txt";
my $jobs = '';
$jobs .= qq({"type":"t:n","payload":"sleep=10","queue":"$q","id":"n$_"}\n) for 1 .. $N;
$jobs .= qq({"type":"t:d","payload":"done","queue":"$q","id":"d$_","in":"2s"}\n) for 1 .. $D;
ll_write("$d/t.jsonl", $jobs);
my ($st, $out) = cli('-u', $url, 'task', 'enqueue', '--file', "$d/t.jsonl");
is($st, 0, "$N + $D tasks enqueued") or diag $out;

$ll->conf(redisq_conf(url => $url, record => $rec, workers => 2,
                      redisq => "concurrency = 10; queues = { $q = 1; };"));
ok($ll->start, 'looklook started on the cluster') or BAIL_OUT($ll->log);

my %runs;
sub handled {
    %runs = ();
    $runs{(split / /)[2]}++ for split /\n/, ll_slurp($rec);
    return scalar keys %runs;
}
ok(ll_wait_until(sub { handled() >= 300 }, 30), 'draining');

# migrate the queue's slot while tasks flow
my $fid = $from->cmd('CLUSTER', 'MYID');
my $tid = $to->cmd('CLUSTER', 'MYID');
$to->cmd('CLUSTER', 'SETSLOT', $slot, 'IMPORTING', $fid);
$from->cmd('CLUSTER', 'SETSLOT', $slot, 'MIGRATING', $tid);
my $moved = 0;
while (1) {
    my $keys = $from->cmd('CLUSTER', 'GETKEYSINSLOT', $slot, 20);
    last unless @$keys;
    $from->cmd('MIGRATE', '127.0.0.1', $to->port, '', 0, 5000, 'KEYS', @$keys);
    $moved += @$keys;
    sleep 0.01;
}
$_->cmd('CLUSTER', 'SETSLOT', $slot, 'NODE', $tid) for $to, $from, $c->nodes;
my $at = handled();
cmp_ok($at, '<', $N + $D, "the slot moved mid-drain ($moved keys, $at tasks handled by then)");

ok(ll_wait_until(sub { handled() == $N + $D }, 90), 'every task handled')
    or diag(handled() . ' of ' . ($N + $D));
note(scalar(grep { $runs{$_} > 1 } keys %runs) . ' tasks ran twice');
ok(ll_wait_until(sub { !$to->cmd('LLEN', "asynq:{$q}:pending")
                       && !$to->cmd('LLEN', "asynq:{$q}:active") }, 10),
   'nothing pending or active on the new node');
is($to->cmd('ZCARD', "asynq:{$q}:scheduled") + $to->cmd('ZCARD', "asynq:{$q}:retry")
   + $to->cmd('ZCARD', "asynq:{$q}:archived"), 0, 'nothing scheduled, in retry or archived');
is(scalar @{ $from->cmd('KEYS', "asynq:{$q}:*") }, 0, 'no key of the queue left on the old node');
asynq_check_ok($to, 'after the migration', $q);
unlike($ll->log, qr/runtime error|AddressSanitizer|CROSSSLOT/, 'no sanitizer report, no cross-slot command');
$ll->stop;
done_testing;
