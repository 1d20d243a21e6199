#!/usr/bin/perl
# cron, the takeover window: a tick whose first claimer died may be taken
# over for 60 s after that first claim's lease ended, and not later, even
# when a second claimer took it over and died too (its renewed lease must
# not stretch the window past the retention that makes a repeated enqueue
# conflict).  Both states are written into Redis before the instance
# starts, as two claimers that died would have left them.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use LL::Test;
use LL::Redis;

my $redis = LL::Redis->start;
my $url   = $redis->url;
my $d     = ll_dir();

my $now = int(time * 1000);
my $T   = int($now / 1000) - 90;        # a tick of "@every 1s", 90 s ago
# "once": claimed by dead-a (lease ended 20 s ago): within the window
$redis->cmd('HSET', 'looklook:cron:state:once', 'fired', $T - 1, 'claim', $T,
            'owner', 'dead-a', 'lease', $now - 20000, 'first', $now - 20000);
# "chain": first claimed by dead-a (lease ended 85 s ago), taken over by
# dead-b (lease ended 20 s ago): out of the window
$redis->cmd('HSET', 'looklook:cron:state:chain', 'fired', $T - 1, 'claim', $T,
            'owner', 'dead-b', 'lease', $now - 20000, 'first', $now - 85000);

my $ll = LL::Test::Server->new(dir => $d, conf => <<"EOF");
worker_processes = 1;
modules = (
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "$d/handled"; },
  { name = "cron"; path = "%%OBJS%%/cron.so"; redis = "$url";
    entries = (
      { id = "once"; spec = "\@every 1s"; target = "handler"; },
      { id = "chain"; spec = "\@every 1s"; target = "handler"; }
    ); }
);
routes = ( { from = "cron:*"; to = "sink"; } );
EOF
ok($ll->start, 'up');
ok($ll->wait_log(qr/entry once: took over tick $T from dead-a/, 10),
   'a tick whose only claimer died 20 s ago is taken over');
ok($ll->wait_log(qr/entry chain: tick $T was claimed by an instance .* given up/, 10),
   'a tick first claimed 85 s ago is given up, although its last lease ended 20 s ago');
ok(ll_wait_until(sub { ($redis->cmd('HGET', 'looklook:cron:state:chain', 'fired') // 0) > $T }, 10),
   'chain: the schedule goes on');
is($ll->stop, 0, 'stopped');

my %h;
for (split /\n/, ll_slurp("$d/handled")) {
    $h{$1}{$2}++ if /id=cron:(\w+):(\d+)$/;
}
is($h{once}{$T}, 1, "once: tick $T fired by the takeover");
ok(!$h{chain}{$T}, "chain: tick $T not fired again");
done_testing();
