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
