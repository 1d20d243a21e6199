# Queue names asynq allows but libconfig setting names cannot hold
# (email:send, orders.high, 1st) are served through the list form
# queues = ( { name = "..."; weight = N; }, ... ); the group form still
# works; malformed entries and duplicates are refused with their line.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use LL::Test;
use LL::Redis;
use LL::Asynq;
use LL::AsynqCheck;
use Time::HiRes qw(sleep);

my $r = LL::Redis->start;
my $ll = LL::Test::Server->new;
my $rec = $ll->dir . '/rec.txt';
my @names = ('email:send', 'orders.high', '1st', 'with space');
$ll->conf(redisq_conf(url => $r->url, record => $rec, redisq =>
    'queues = ( { name = "email:send"; weight = 3; }, { name = "orders.high"; weight = 2; },'
  . ' { name = "1st"; weight = 1; }, { name = "with space"; weight = 1; },'
  . ' { name = "dropped"; weight = 0; } );'));
ok($ll->start, 'started with the list form') or BAIL_OUT($ll->log);
for my $q (@names) {
    my ($st, $out) = cli('-u', $r->url, 'task', 'enqueue', 't:q', 'done', '--queue', $q,
                         '--id', "in $q");
    is($st, 0, "enqueued into \"$q\"") or diag($out);
}
ok(ll_wait_until(sub { my $t = ll_slurp($rec); 4 == grep { index($t, " in $_ t:q $_ ") >= 0 } @names }, 10),
   'every queue served, the handler told its name') or diag(ll_slurp($rec));
my ($servers) = grep { /^asynq:servers:/ } @{ $r->cmd('KEYS', 'asynq:servers:*') };
my $info = asynq_decode('ServerInfo', $r->cmd('GET', $servers));
is_deeply($info->{queues}, { 'email:send' => 3, 'orders.high' => 2, '1st' => 1, 'with space' => 1 },
          'ServerInfo lists them with their weights (weight 0 dropped, as asynq)');
asynq_check_ok($r, 'list form', @names);
$ll->stop;

# More queues than slots: at concurrency 1 (two slots) the four queues'
# idle waiters cannot all hold a slot for the dequeue they pipeline behind
# BLMOVE; a task that arrives on a queue whose waiter holds none is the
# fetcher's, which must be told when a waiter gives its slot back.  Each
# task is enqueued while the server is idle, on every queue in turn.
{
    my $t = LL::Test::Server->new;
    my $trec = $t->dir . '/rec.txt';
    my @qs = qw(a b c d);
    $t->conf(redisq_conf(url => $r->url, record => $trec, redisq =>
        'concurrency = 1; queues = ( ' . join(', ', map { qq({ name = "$_"; weight = 1; }) } @qs) . ' );'));
    ok($t->start, 'started: four queues, concurrency 1') or BAIL_OUT($t->log);
    my $ran = 0;
    for my $round (1 .. 3) {
        for my $q (@qs) {
            sleep 0.6 if $round > 1 && $q eq 'a';   # waiters past a BLMOVE timeout
            my ($st, $out) = cli('-u', $r->url, 'task', 'enqueue', 't:q', 'done', '--queue', $q,
                                 '--id', "idle $q $round");
            $ran++ if $st == 0 && ll_wait_until(sub { index(ll_slurp($trec), " idle $q $round t:q ") >= 0 }, 10);
        }
    }
    is($ran, 12, 'each of the 12 tasks ran, whichever queue it came on') or diag(ll_slurp($trec), $t->log);
    asynq_check_ok($r, 'more queues than slots', @qs);
    $t->stop;
}

# refused: an entry without a name or weight, an extra key, a duplicate
for my $bad ('( { name = "a"; } )', '( { weight = 1; } )', '( { name = "a"; weight = "x"; } )',
             '( { name = "a"; weight = 1; prio = 2; } )',
             '( { name = "a:b"; weight = 1; }, { name = "a:b"; weight = 2; } )') {
    my $t = LL::Test::Server->new;
    $t->conf(redisq_conf(url => $r->url, redisq => "queues = $bad;"));
    my ($st, $out) = ll_run(ll_bin(), '-t', '-c', $t->conf_path);
    isnt($st, 0, "looklook -t refuses queues = $bad");
    like($out, qr/looklook\.conf:\d+: .*queues: (expected|"a:b" given twice)/, '... with file, line and why')
        or diag($out);
}
done_testing;
