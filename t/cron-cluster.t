#!/usr/bin/perl
# cron on a Redis Cluster (issue 14): one looklook with two workers (two
# schedulers) given a redis-cluster:// URL on a real three-master cluster,
# an "@every 1s" entry enqueueing into a queue on another node than the
# entry's state:
#  - every tick fired exactly once across the two schedulers, and its task
#    run once by redisq;
#  - asynq's keys spanning queues where a stock asynq reads them, each on
#    the node of its slot: one history event per tick in
#    asynq:scheduler_history:<uuid>, the scheduler in asynq:schedulers and
#    its entries list asynq:schedulers:{id};
#  - no command misrouted (CROSSSLOT, MOVED).
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't/lib';
use LL::Test;
use LL::Cluster;

my $c = LL::Cluster->start;
my $url = $c->url;

# a queue whose keys are on another node than the entry's state
my $state = $c->node_of('looklook:cron:state:every');
my ($q) = grep { $c->node_of("asynq:{$_}:pending") != $state } map { "cq$_" } 1 .. 100;
ok(defined $q, "queue $q is on another node than the entry's state");

my $ll = LL::Test::Server->new;
my $rec = $ll->dir . '/rec.txt';
$ll->conf(<<"EOF");
worker_processes = 2;
log_level = "debug";
modules = (
  { name = "redisq"; path = "%%OBJS%%/redisq.so"; redis = "$url";
    queues = { $q = 1; }; },
  { name = "h"; path = "%%OBJS%%/t/redisq_handler.so"; record = "$rec"; },
  { name = "cron"; path = "%%OBJS%%/cron.so"; redis = "$url";
    entries = (
      { id = "every"; spec = "\@every 1s"; task = "test:every"; queue = "$q"; }
    ); }
);
routes = ( { from = "redisq:*"; to = "h"; } );
EOF
ok($ll->start, 'looklook with cron started on the cluster URL') or BAIL_OUT($ll->log);
my $t0 = int(time) + 2;         # the first tick both schedulers surely saw
my $t1 = $t0 + ($ENV{CRON_TICKS} // 12) - 1;

# the scheduler, as asynqmon finds it on a cluster
ok(ll_wait_until(sub {
        @{ $c->cmd('asynq:schedulers', 'ZRANGE', 'asynq:schedulers', 0, -1) } == 1
    }, 10), 'one scheduler in asynq:schedulers, on the node of its slot');
my ($skey) = @{ $c->cmd('asynq:schedulers', 'ZRANGE', 'asynq:schedulers', 0, -1) };
like($skey // '', qr/^asynq:schedulers:\{[^}]+\}$/, 'scheduler key asynq:schedulers:{id}');
is($c->cmd($skey, 'LLEN', $skey), 1, '... its entries list on the node of its slot');

sleep 0.05 while time < $t1 + 1.5;
ok(ll_wait_until(sub {
        my %seen = map { /^\S+ \S+ cron:every:(\d+) / ? ($1 => 1) : () }
                   split /\n/, ll_slurp($rec);
        !grep { !$seen{$_} } $t0 .. $t1
    }, 10), "a task run for each tick $t0..$t1");
$ll->stop;

# fired once each, across the two schedulers
my %fired;
$fired{$_}++ for $ll->log =~ /entry every: fired cron:every:(\d+),/g;
my @bad = grep { ($fired{$_} // 0) != 1 } $t0 .. $t1;
is("@bad", '', 'every tick fired exactly once across the two workers');
my %ran;
$ran{$_}++ for ll_slurp($rec) =~ /^\S+ \S+ cron:every:(\d+) test:every \Q$q\E /mg;
@bad = grep { ($ran{$_} // 0) != 1 } $t0 .. $t1;
is("@bad", '', 'each tick\'s task ran once, from its queue');
my $qn = $c->node_of("asynq:{$q}:pending");
is($qn->cmd('HGET', "asynq:{$q}:t:cron:every:$t0", 'state'), 'completed',
   'the task is stored on its queue\'s node')
    or diag $qn->cmd('HGETALL', "asynq:{$q}:t:cron:every:$t0");
ok($state->cmd('HGET', 'looklook:cron:state:every', 'fired') >= $t1,
   'the watermark is on the state\'s node');

# history: one event per tick, on the node of its own slot
my ($hkey) = map { @{ $_->cmd('KEYS', 'asynq:scheduler_history:*') } } $c->nodes;
ok(defined $hkey, 'a scheduler history key exists');
my %ev;
for my $e (@{ $c->cmd($hkey, 'ZRANGE', $hkey, 0, -1) }) {
    $ev{$1}++ if $e =~ /cron:every:(\d+)/;
}
@bad = grep { ($ev{$_} // 0) != 1 } $t0 .. $t1;
is("@bad", '', 'history: one event per tick');

unlike($ll->log, qr/runtime error|AddressSanitizer|CROSSSLOT|MOVED/,
       'no sanitizer report, no misrouted command');
done_testing;
