#!/usr/bin/perl
# The dashboard's Servers, Cron and Kafka pages in a real browser
# (headless Chromium) against a real looklook with redisq, cron and kafka,
# a real Redis and the Kafka mock: each page loads without a console
# error; Servers shows both workers' asynq server info and the task one
# is running; Cron shows the entries with spec, next fire and last task,
# and "Run now" enqueues the entry's task; Kafka shows the partitions with
# their lag and the dead-lettered count, the dead letters themselves, and
# re-publishing one sends it through its route again.  LL_SCREENSHOTS=DIR saves a
# picture of each page there.

use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use JSON::PP ();
use LL::Test;
use LL::Redis;
use LL::Kafka;
use LL::Asynq;
use LL::Browser;

plan skip_all => 'chromium and chromium-driver are not installed'
    unless LL::Browser::available();

my $r     = LL::Redis->start;
my $url   = $r->url;
my $k     = LL::Kafka->start(topics => ['orders:2', 'orders.dlq:1']);
my $lk    = LL::Kafka::librdkafka_conf();
my $boot  = $k->bootstrap;
my $port  = ll_free_port();
my $token = 'tok' . int(rand(1e9));
my $ll    = LL::Test::Server->new;
my $dir   = $ll->dir;

$ll->conf(<<EOF);
worker_processes = 2;
shutdown_timeout = 3;
modules = (
  { name = "admin"; path = "%%OBJS%%/admin.so"; listen = "127.0.0.1:$port";
    read_only = false; redis = "$url"; kafka = "$boot"; token = "$token"; },
  { name = "redisq"; path = "%%OBJS%%/redisq.so"; redis = "$url";
    concurrency = 2; queues = { default = 3; reports = 1; }; },
  { name = "h"; path = "%%OBJS%%/t/redisq_handler.so"; record = "$dir/rec.txt"; },
  { name = "cron"; path = "%%OBJS%%/cron.so"; redis = "$url";
    timezone = "Asia/Shanghai";
    entries = (
      { id = "nightly"; spec = "0 30 2 * * *"; task = "report:nightly";
        payload = "done"; queue = "reports"; retry = 3; },
      { id = "yearly"; spec = "0 0 0 1 1 *"; task = "report:yearly"; queue = "reports"; }
    ); },
  { name = "sink"; path = "%%OBJS%%/t/kafka_sink.so"; file = "$dir/sink.log"; },
  { name = "kafka"; path = "%%OBJS%%/kafka.so"; brokers = "$boot";
    group = "gpages"; topics = [ "orders" ]; offset = "first";
    max_retries = 0; commit_interval = "200ms"; librdkafka = ( $lk ); }
);
routes = ( { from = "redisq:*"; to = "h"; }, { from = "kafka:orders"; to = "sink"; } );
EOF
ok($ll->start(timeout => 30), 'started') or BAIL_OUT($ll->log);

my $b = LL::Browser->start(width => 1400, height => 900);
my $base = "http://127.0.0.1:$port";
# the token is set: every page and action below carries it
is(HTTP::Tiny->new->get("$base/api/cron")->{status}, 401, 'without the token: 401');
$b->headers(Authorization => "Bearer $token");

# ---- servers: both workers' asynq server info, a running task ---------------
my ($st, $out) = cli('-u', $url, 'task', 'enqueue', 't:slow', 'sleep=60000', '--id', 'slow1');
is($st, 0, 'enqueued a slow task') or diag($out);
ok(ll_wait_until(sub { ($r->cmd('LINDEX', 'asynq:{default}:active', 0) // '') eq 'slow1' }, 10),
   'it runs');
$b->get("$base/#/servers");
ok($b->wait_for('#servers', 15, sub { (() = $_[0] =~ /\bactive\b/g) >= 2 }),
   'servers: two servers (one a worker), active');
like($b->text('#servers') // '', qr/default 3, reports 1/, 'servers: queues with priorities');
# (a heartbeat rewrites the worker info: read it whole, not between)
ok($b->wait_for('#workers-active tr[data-id="slow1"]', 15, sub { $_[0] =~ /slow1\s+t:slow\s+sleep=60000\s+default/ }),
   'servers: the running task (from the worker info) with its type, payload and queue');
$b->page_ok('servers');
cli('-u', $url, 'task', 'cancel', '--id', 'slow1');

# ---- cron: entries, run now ----------------------------------------------
$b->get("$base/#/cron");
ok($b->wait_for('#cron tr[data-entry="nightly"]', 30), 'cron: the entries are listed');
like($b->text('#cron tr[data-entry="nightly"]') // '',
     qr/^nightly\s+0 30 2 \* \* \*\s+report:nightly\s+Queue\("reports"\), MaxRetry\(3\).*\s+in \d+h/,
     'cron: spec, type, options and the next fire');
like($b->text('#cron tr[data-entry="yearly"]') // '', qr/never/, 'cron: never fired before');
$b->click('#cron tr[data-entry="nightly"] button[data-act="cron-run"]');
my $msg = $b->wait_for('#flash', 15, sub { $_[0] =~ /enqueued/ }) // '';
my ($tid) = $msg =~ /enqueued (cron:nightly:run:\d+)/;
ok($tid, 'run now: the page names the task enqueued') or diag($msg);
ok(ll_wait_until(sub { grep { (split / /)[2] eq ($tid // '') } split /\n/, ll_slurp("$dir/rec.txt") }, 15),
   'run now: the task ran');
ok($b->wait_for('#cron tr[data-entry="nightly"]', 20, sub { $_[0] =~ /\Q$tid\E\s+completed/ }),
   'cron: the last task and its result') or diag($b->text('#cron'));
$b->page_ok('cron');
$b->click('#cron tr[data-entry="nightly"] a');
ok($b->wait_for('#history', 15, sub { $_[0] =~ /\Q$tid\E/ }), 'cron entry: its history');
$b->page_ok('cron-entry');

# ---- kafka: partitions and lag, dead letters --------------------------------
$k->produce('orders', map { { value => $_ < 9 ? "ok$_" : 'fail', partition => $_ % 2 } } 0 .. 9);
# (once in a full run on a loaded machine the group never got its partitions
# within a minute: the workers' log says why, if it happens again)
ok(ll_wait_until(sub { scalar $k->consume('orders.dlq') >= 1 }, 30), 'a message dead-lettered')
    or diag(join "\n", grep { /kafka/ } split /\n/, $ll->log);
$b->get("$base/#/kafka");
ok($b->wait_for('#partitions tr[data-part="orders/1"]', 30), 'kafka: partitions listed')
    or diag($b->text('main') // $b->text('body') // '');
ok($b->wait_for('#partitions', 30, sub { $_[0] =~ /orders\s+0\s+5\s+5\s+0\s+fetching/
                                         && $_[0] =~ /orders\s+1\s+5\s+5\s+0\s+fetching/ }),
   'kafka: committed offset, high watermark and lag 0 on both partitions once caught up')
    or diag($b->text('#partitions'));
ok($b->wait_for('#dead', 30, sub { $_[0] =~ /kafka\s+orders\s+1\s+0/ }), 'kafka: one dead letter, none dropped');
ok($b->wait_for('table.letters[data-source="orders"] tr[data-letter]', 30,
                sub { $_[0] =~ /\bfail\s+fixture says fail\s+1\s+orders\[1\]\@4/ }),
   'kafka: the dead letter with its error, attempts and origin (read from the brokers)')
    or diag($b->text('main'));
$b->page_ok('kafka');
$b->click('table.letters[data-source="orders"] button[data-act="republish"]');
ok($b->wait_for('#flash', 15, sub { $_[0] =~ /written to orders/ }), 're-publish: written to its topic');
ok(ll_wait_until(sub { (() = ll_slurp("$dir/sink.log") =~ /topic=orders\t.*value=fail/g) == 2 }, 30),
   're-publish: the message is handled again');
ok(ll_wait_until(sub { scalar $k->consume('orders.dlq') == 2 }, 30), 'and, failing again, dead-lettered again');
my @again = $k->consume('orders.dlq');
is(LL::Kafka::header($again[1], 'x-looklook-topic'), 'orders', 'the new letter names its topic');

$b->stop;
$ll->stop;
done_testing();
