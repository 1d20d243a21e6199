# Redis Cluster (issue 14): redisq and looklook-cli given a
# redis-cluster:// URL route every key to the node serving its slot, on a
# real three-master cluster:
#  - three queues whose slots are on three different nodes, served with
#    weighted priorities (6:3:1) by one server;
#  - immediate, delayed (--in) and retried tasks: every one handled, each
#    queue's keys on its own node only, the asynq invariants there;
#  - the keys spanning queues (asynq:queues, asynq:servers) where a stock
#    asynq reads them (plain keys, on the node of their slot);
#  - a worker killed (-9) with tasks leased: they are retried at once;
#  - the order store deletes go-zero's two cache keys (two slots).
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use LL::Test;
use LL::Cluster;
use LL::Asynq;
use LL::AsynqCheck;

my $c = LL::Cluster->start;
my $url = $c->url;

# one queue on each node
my (%on, @q);
for my $name (map { "q$_" } 1 .. 100) {
    my $port = $c->node_of("asynq:{$name}:pending")->port;
    next if $on{$port};
    $on{$port} = $name;
    push @q, $name;
    last if @q == 3;
}
is(scalar @q, 3, "three queues on three nodes: @q");
my %w = ($q[0] => 6, $q[1] => 3, $q[2] => 1);

my $N = 300;        # immediate tasks a queue
my $D = 20;         # delayed ones
my $R = 20;         # retried once
my $ll = LL::Test::Server->new;
my $d = $ll->dir;
my $rec = "$d/rec.txt";
my $jobs = '';
for my $q (@q) {
    $jobs .= qq({"type":"t:n","payload":"sleep=10","queue":"$q","id":"$q-n$_"}\n) for 1 .. $N;
    $jobs .= qq({"type":"t:d","payload":"done","queue":"$q","id":"$q-d$_","in":"3s"}\n) for 1 .. $D;
    $jobs .= qq({"type":"t:r","payload":"until=1 delay=500","queue":"$q","id":"$q-r$_","retry":3}\n) for 1 .. $R;
}
ll_write("$d/t.jsonl", $jobs);
my ($st, $out) = cli('-u', $url, 'task', 'enqueue', '--file', "$d/t.jsonl");
is($st, 0, 'tasks enqueued through the cluster') or diag $out;
for my $q (@q) {
    my $n = $c->node_of("asynq:{$q}:pending");
    is($n->cmd('LLEN', "asynq:{$q}:pending"), $N + $R, "$q: pending on its node");
    is($n->cmd('ZCARD', "asynq:{$q}:scheduled"), $D, "$q: delayed ones scheduled there");
    for my $other (grep { $_ != $n } $c->nodes) {
        is(scalar @{ $other->cmd('KEYS', "asynq:{$q}:*") }, 0,
           "$q: no key on node " . $other->port);
    }
}
is_deeply([sort @{ $c->cmd('asynq:queues', 'SMEMBERS', 'asynq:queues') }], [sort @q],
          'asynq:queues on the node of its slot');

my $queues = join ' ', map { "$_ = $w{$_};" } @q;
$ll->conf(redisq_conf(url => $url, record => $rec, workers => 1,
                      redisq => "concurrency = 4; queues = { $queues };"));
ok($ll->start, 'looklook started on the cluster URL') or BAIL_OUT($ll->log);

my $total = 3 * ($N + $D + $R);
my @lines;
sub done_ids {
    @lines = map { [split / /] } split /\n/, ll_slurp($rec);
    my %ok;
    # a retried task's second attempt (attempt 1) is its last
    $ok{$_->[2]} = 1 for grep { $_->[3] ne 't:r' || $_->[5] >= 1 } @lines;
    return scalar keys %ok;
}
ok(ll_wait_until(sub { done_ids() == $total }, 90), "all $total tasks handled")
    or diag(done_ids() . " of $total");

# weighted priorities: the first third handled leans to the heavy queue
my %first;
$first{$_->[4]}++ for grep { $_->[3] eq 't:n' } @lines[0 .. int(@lines / 3)];
note(join ' ', map { "$_=" . ($first{$_} // 0) } @q);
ok(($first{$q[0]} // 0) > ($first{$q[1]} // 0)
   && ($first{$q[1]} // 0) > ($first{$q[2]} // 0),
   'the first third handled follows the weights 6:3:1');

my %att;
$att{$_->[2]}++ for grep { $_->[3] eq 't:r' } @lines;
is(scalar(grep { $_ == 2 } values %att), 3 * $R, 'every retried task ran twice');

for my $q (@q) {
    my $n = $c->node_of("asynq:{$q}:pending");
    ok(ll_wait_until(sub { $n->cmd('GET', "asynq:{$q}:processed") == $N + $D + 2 * $R }, 10),
       "$q: processed counted on its node");
    is($n->cmd('LLEN', "asynq:{$q}:pending") + $n->cmd('LLEN', "asynq:{$q}:active")
       + $n->cmd('ZCARD', "asynq:{$q}:scheduled") + $n->cmd('ZCARD', "asynq:{$q}:retry")
       + $n->cmd('ZCARD', "asynq:{$q}:archived"), 0, "$q: nothing left");
    asynq_check_ok($n, "$q on node " . $n->port, $q);
}
my $servers = $c->cmd('asynq:servers', 'ZRANGE', 'asynq:servers', 0, -1);
is(scalar @$servers, 1, 'the server is listed in asynq:servers');
my ($skey) = @$servers;
ok($c->cmd($skey, 'EXISTS', $skey), 'its info key is on the node of its slot');

($st, $out) = cli('-u', $url, 'stats');
is($st, 0, 'looklook-cli stats on the cluster') or diag $out;
like($out, qr/^\Q$q[0]\E\s+no\s+0\s+0\s+0\s+0\s+0\s+0\s+${\($N + $D + 2 * $R)}\b/m,
     '... counts each queue from its node');

($st, $out) = cli('-u', $url, 'queue', 'check', @q);
is($st, 0, 'looklook-cli queue check finds each queue sound on its node') or diag $out;

# kill -9 of the worker with tasks leased on another node: the respawned
# worker finds the dead one's leases on that node and retries them at once
my $kq = $q[1];
my $kn = $c->node_of("asynq:{$kq}:pending");
ll_write("$d/k.jsonl", join '', map { qq({"type":"t:k","payload":"sleep=3000 stubborn","queue":"$kq","id":"K$_","retry":5}\n) } 1 .. 6);
($st, $out) = cli('-u', $url, 'task', 'enqueue', '--file', "$d/k.jsonl");
is($st, 0, '6 long tasks enqueued') or diag $out;
ok(ll_wait_until(sub { $kn->cmd('LLEN', "asynq:{$kq}:active") == 6 }, 10),
   '... all leased, on their node');
my ($w) = $ll->workers;
kill 'KILL', $w;
ok(ll_wait_until(sub { $ll->log =~ /worker \Q$w\E died: 6 of its 6 tasks retried now/ }, 20),
   "the dead worker's tasks retried at once") or diag $ll->log;
ok(ll_wait_until(sub { 6 == grep { $_->[3] eq 't:k' } map { [split / /] } split /\n/, ll_slurp($rec) }, 30),
   '... and run to the end');

# the order store's go-zero cache keys (two slots) deleted on the cluster
ll_run_tap('orders cache on the cluster', 30, ll_objs() . '/t/orders_store_test',
           "sqlite:$d/orders.db", $url);

unlike($ll->log, qr/runtime error|AddressSanitizer|CROSSSLOT|MOVED/, 'no sanitizer report, no misrouted command');
$ll->stop;
done_testing;
