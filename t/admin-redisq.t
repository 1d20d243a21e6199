#!/usr/bin/perl
# redisq's metrics through the admin module and a real Prometheus, under
# asynq's exporter names: processed and failed totals equal the tasks
# handled, queue sizes by state, paused queues, latency; /readyz turns 503
# while Redis is gone and 200 when it is back; a reload and a killed worker
# lose no task.

use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use JSON::PP ();
use LL::Test;
use LL::Redis;
use LL::Asynq;
use LL::Prometheus;

my $r     = LL::Redis->start;
my @u     = ('-u', $r->url);
my $port  = ll_free_port();
my $token = 'tok' . int(rand(1e9));
my $ll    = LL::Test::Server->new;
my $dir   = $ll->dir;
my $rec   = "$dir/rec.txt";

my $conf = redisq_conf(url => $r->url, record => $rec, workers => 2,
    redisq => 'concurrency = 4; queues = { default = 3; low = 1; };');
$conf =~ s/modules = \(\n/modules = (\n  { name = "admin"; path = "%%OBJS%%\/admin.so"; listen = "127.0.0.1:$port"; token = "$token"; },\n/;
$ll->conf($conf);
ok($ll->start, 'started') or BAIL_OUT($ll->log);

my $http = HTTP::Tiny->new(timeout => 5);
sub get { $http->get("http://127.0.0.1:$port$_[0]",
                     { headers => { Authorization => "Bearer $token" } }) }
sub enq { my ($st, $out) = cli(@u, 'task', 'enqueue', @_); die "enqueue: $out" if $st; }
sub handled { my @l = split /\n/, ll_slurp($rec); return scalar @l }

my $prom = LL::Prometheus->new(target => "127.0.0.1:$port", token => $token);

# ---- totals: what was handled ------------------------------------------
enq('t:ok', 'done', '--queue', 'default') for 1 .. 40;
enq('t:bad', 'fail', '--queue', 'default') for 1 .. 5;
ok(ll_wait_until(sub { handled() == 45 }, 20), '45 tasks handled');
is($prom->wait_value('asynq_tasks_processed_total{queue="default"}',
                     sub { $_[0] == 45 }, 30), 45,
   'asynq_tasks_processed_total equals the tasks handled');
is($prom->wait_value('asynq_tasks_failed_total{queue="default"}',
                     sub { $_[0] == 5 }), 5, 'asynq_tasks_failed_total');
is($prom->wait_value('asynq_tasks_enqueued_total{queue="default",state="archived"}',
                     sub { $_[0] == 5 }), 5, 'archived tasks by state');
is($prom->value('asynq_queue_size{queue="default"}'), 5, 'queue size');
is($prom->value('sum(looklook_messages_handled_total{from=~"redisq:.*"})'), 45,
   'route outcomes agree');
is($prom->value('asynq_queue_paused_total{queue="low"}'), 0, 'low not paused');

# ---- paused queue, latency of the oldest pending task --------------------
$r->cmd('SADD', 'asynq:queues', 'low');     # as an enqueue would
my ($st, $out) = cli(@u, 'queue', 'pause', 'low');
is($st, 0, 'pause low') or diag($out);
enq('t:ok', 'done', '--queue', 'low') for 1 .. 3;
is($prom->wait_value('asynq_queue_paused_total{queue="low"}', sub { $_[0] == 1 }), 1,
   'paused queue shows');
is($prom->wait_value('asynq_tasks_enqueued_total{queue="low",state="pending"}',
                     sub { $_[0] == 3 }), 3, 'pending tasks by state');
ok($prom->wait_value('asynq_queue_latency_seconds{queue="low"}', sub { $_[0] > 0.5 }),
   'latency grows while the queue is paused');
cli(@u, 'queue', 'unpause', 'low');
ok(ll_wait_until(sub { handled() == 48 }, 20), 'unpaused: handled');
ok(defined $prom->wait_value('asynq_queue_latency_seconds{queue="low"}', sub { $_[0] == 0 }),
   'latency back to 0 when nothing waits');

# ---- readiness follows Redis ----------------------------------------------
is(get('/readyz')->{status}, 200, '/readyz 200');
$r->stop;
ok(ll_wait_until(sub { get('/readyz')->{status} == 503 }, 15), '/readyz 503 while Redis is gone');
my $why = eval { JSON::PP::decode_json(get('/readyz')->{content}) } // {};
my ($m) = grep { $_->{module} eq 'redisq' } @{ $why->{modules} // [] };
like($m->{reason} // '', qr/redis/i, 'the reason names Redis') or diag(explain($why));
is(get('/healthz')->{status}, 200, '/healthz still 200');
$r->restart;
ok(ll_wait_until(sub { get('/readyz')->{status} == 200 }, 20), '/readyz 200 when Redis is back');
is($prom->wait_value('looklook_ready', sub { $_[0] == 1 }), 1, 'Prometheus: ready again');

# ---- a reload and a killed worker lose no task -----------------------------
# (Redis restarted empty: counting starts over)
enq('t:ok', 'done sleep=20', '--queue', 'default') for 1 .. 60;
my $at = $ll->log_size;
$ll->signal('HUP');
ok($ll->wait_log(qr/generation 2 ready/, 20, from => $at), 'reloaded while tasks run');
my @w = $ll->workers;
ok(ll_wait_until(sub { $r->cmd('LLEN', 'asynq:{default}:pending') == 0
                       && $r->cmd('LLEN', 'asynq:{default}:active') == 0 }, 30),
   'the tasks drained');
kill 'KILL', $w[0];
enq('t:ok', 'done', '--queue', 'default') for 1 .. 20;
is($prom->wait_value('asynq_tasks_processed_total{queue="default"}',
                     sub { $_[0] == 80 }, 40), 80,
   'every task processed once: 60 across the reload, 20 after a worker was killed');
is($r->cmd('GET', 'asynq:{default}:failed') // 0, 0, 'none failed');
is($prom->target->{health}, 'up', 'every scrape parsed');

$ll->stop;
done_testing();
