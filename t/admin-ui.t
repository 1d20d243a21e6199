#!/usr/bin/perl
# The dashboard in a real browser (headless Chromium through chromedriver)
# against a real looklook and Redis: every page loads without a console
# error and shows the server, its queues and tasks; the buttons change
# Redis as asynq would (a paused queue stops, a task run now is handled,
# an archived or deleted task is where asynq keeps it or gone, a running
# task is cancelled, a whole state at once); actions need a POST with the
# CSRF token, are refused when read_only or without the token, and are
# logged.  LL_SCREENSHOTS=DIR saves a picture of each page there.

use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use JSON::PP ();
use LL::Test;
use LL::Redis;
use LL::Asynq;
use LL::Browser;

plan skip_all => 'chromium and chromium-driver are not installed'
    unless LL::Browser::available();

my $r     = LL::Redis->start;
my @u     = ('-u', $r->url);
my $port  = ll_free_port();
my $port2 = ll_free_port();
my $token = 'tok' . int(rand(1e9));
my $ll    = LL::Test::Server->new;
my $rec   = $ll->dir . '/rec.txt';

my $conf = redisq_conf(url => $r->url, record => $rec, workers => 2,
    redisq => 'concurrency = 4; queues = { default = 3; low = 1; };');
my $url = $r->url;
$conf =~ s/modules = \(\n/modules = (
  { name = "admin"; path = "%%OBJS%%\/admin.so"; listen = "127.0.0.1:$port"; read_only = false; redis = "$url"; },
  { name = "admin_ro"; path = "%%OBJS%%\/admin.so"; listen = "127.0.0.1:$port2"; token = "$token"; redis = "$url"; },
/;
$ll->conf($conf);
ok($ll->start, 'started') or BAIL_OUT($ll->log);

sub enq { my ($st, $out) = cli(@u, 'task', 'enqueue', @_); die "enqueue: $out" if $st; }
sub handled { my ($id) = @_; return grep { (split / /)[2] eq $id } split /\n/, ll_slurp($rec) }
sub task { my ($q, $id) = @_; return { @{ $r->cmd('HGETALL', "asynq:{$q}:t:$id") } } }

# what the pages will show: 3 archived failures, a JSON task scheduled in
# an hour, a task waiting for its retry in an hour, a paused queue "low"
enq('t:bad', 'fail', '--id', "bad$_") for 1 .. 3;
enq('t:order', '{"order":42,"items":[{"sku":"A-1","qty":2}],"user":"ann"}',
    '--in', '1h', '--id', 'json1');
enq('t:flaky', 'until=1 delay=3600000', '--id', 'flaky1');
$r->cmd('SADD', 'asynq:queues', 'low');
ok(ll_wait_until(sub { $r->cmd('ZCARD', 'asynq:{default}:archived') == 3
                       && $r->cmd('ZCARD', 'asynq:{default}:retry') == 1 }, 20),
   'three failed tasks archived, one waits for its retry');
cli(@u, 'queue', 'pause', 'low');
enq('t:later', 'done', '--queue', 'low', '--id', "low$_") for 1 .. 2;

my $b = LL::Browser->start(width => 1400, height => 1000);
my $base = "http://127.0.0.1:$port";

# ---- overview ---------------------------------------------------------
$b->get("$base/");
ok($b->wait_for('#workers', 15, sub { $_[0] =~ /ready.*\n.*ready/s }), 'overview: two ready workers');
like($b->text('#modules tr[data-module="redisq"]') // '', qr/redisq\s+redisq\s+\S+\s+2\.\d+\s+\S*redisq\.so/,
     'overview: redisq with version, ABI and file');
like($b->text('#routes') // '', qr/redisq:\*\s+h\s+\d+/, 'overview: the route and its counts');
like($b->text('.cards') // '', qr/GENERATION\s+1/i, 'overview: generation');
enq('t:ok', 'done') for 1 .. 5;    # throughput between two polls
ok(ll_wait_until(sub { $b->js('var p = document.querySelector(\'#throughput polyline[data-route="redisq:* \u2192 h"]\');'
                              . ' return p ? p.getAttribute("points").split(" ").length : 0;') >= 2 }, 20),
   'overview: a throughput line for the route, with points from successive polls');
ok(ll_wait_until(sub { $b->js('return Array.from(document.querySelectorAll(\'#throughput polyline[data-route^="redisq"]\'))'
                              . '.some(p => p.getAttribute("points").split(" ").some(xy => +xy.split(",")[1] < 150));') }, 30),
   'overview: the line rises above zero for the messages handled');
my $hist_http = HTTP::Tiny->new(timeout => 5);
ok(ll_wait_until(sub {
       my $h = eval { JSON::PP::decode_json($hist_http->get("$base/api/history")->{content}) } or return 0;
       my $last = $h->{samples}[-1] or return 0;
       return @{ $h->{samples} } >= 2 && $h->{step} == 5
           && ($last->{routes}{"redisq:* \x{2192} h"}{received} // 0) >= 9;
   }, 20), '/api/history: the routes\' counters sampled every 5 s by the server');
$b->page_ok('overview');

# ---- queues -----------------------------------------------------------
$b->get("$base/#/queues");
my $row = $b->wait_for('#queues tr[data-queue="low"]');
like($row // '', qr/^low\s+paused\s+2\s+2\b/, 'queues: low is paused with 2 pending');
like($b->text('#queues tr[data-queue="default"]') // '', qr/^default\s+run\s+5\s+0\s+0\s+1\s+1\s+3\b/,
     'queues: default with its sizes by state');
$b->page_ok('queues');

# a paused queue stops: pause default from the page, then only low runs
$b->click('tr[data-queue="default"] button[data-act="pause"]');
ok(ll_wait_until(sub { $r->cmd('EXISTS', 'asynq:{default}:paused') == 1 }, 10), 'pause: the key asynq sets');
like($r->cmd('GET', 'asynq:{default}:paused'), qr/^\d{10}$/, 'pause: value is the Unix time, as asynq');
ok($b->wait_for('#queues tr[data-queue="default"] button[data-act="unpause"]'), 'pause: the page shows it');
enq('t:ok', 'done', '--id', 'held1');
$b->click('tr[data-queue="low"] button[data-act="unpause"]');
ok(ll_wait_until(sub { handled('low1') && handled('low2') }, 20), 'unpause low: its tasks run');
is(scalar handled('held1'), 0, 'the paused queue kept its task');
is($r->cmd('LINDEX', 'asynq:{default}:pending', 0), 'held1', 'still pending');
$b->wait_for('#queues tr[data-queue="default"] button[data-act="unpause"]');
$b->click('tr[data-queue="default"] button[data-act="unpause"]');
ok(ll_wait_until(sub { handled('held1') }, 20), 'unpaused: it runs');

# ---- one queue, one task -------------------------------------------------
$b->get("$base/#/queues/default?state=archived");
ok($b->wait_for('#tasks tr[data-id="bad1"]'), 'archived tasks listed');
like($b->text('#tasks tr[data-id="bad2"]') // '', qr/bad2\s+t:bad\s+fail\s+0 \/ 25\s+asked to fail/,
     'a task row: ID, type, payload, retries, last error');
like($b->text('#states') // '', qr/archived 3/, 'state tabs with counts');
my @d = gmtime;
my $today = sprintf('%04d-%02d-%02d', $d[5] + 1900, $d[4] + 1, $d[3]);
my ($proc, $fail) = map { $r->cmd('GET', "asynq:{default}:$_:$today") } qw(processed failed);
is($b->count('#days rect[data-date]'), 7, 'a bar per day, 7 days');
is($b->js('return document.querySelector(\'#days rect[data-date="\' + arguments[0] + \'"] title\').textContent;', $today),
   "$today: $proc processed, $fail failed", "today's bar: asynq's daily counters");
$b->page_ok('queue');

$b->get("$base/#/queues/default?state=scheduled");
$b->wait_for('#tasks tr[data-id="json1"]');
$b->click('#tasks tr[data-id="json1"] a');
my $pre = $b->wait_for('#payload');
like($pre // '', qr/^\{\n  "order": 42,\n  "items": \[\n    \{\n      "sku": "A-1"/,
     'task details: the JSON payload pretty-printed');
like($b->text('#task') // '', qr/state\s+scheduled.*type\s+t:order/s, 'task details: fields');
$b->page_ok('task');

# archive from the task page: where asynq keeps archived tasks
$b->click('button[data-act="archive"]');
ok(ll_wait_until(sub { defined $r->cmd('ZSCORE', 'asynq:{default}:archived', 'json1') }, 10),
   'archive: in the archived zset');
is(task('default', 'json1')->{state}, 'archived', 'archive: state field');
is($r->cmd('ZSCORE', 'asynq:{default}:scheduled', 'json1'), undef, 'archive: out of scheduled');

# a retried task runs now
$b->get("$base/#/queues/default?state=retry");
$b->wait_for('#tasks tr[data-id="flaky1"]');
$b->click('#tasks tr[data-id="flaky1"] button[data-act="run"]');
ok(ll_wait_until(sub { handled('flaky1') == 2 }, 20), 'run now: the retried task ran again');
ok(ll_wait_until(sub { !$r->cmd('EXISTS', 'asynq:{default}:t:flaky1') }, 10),
   'and succeeded (its hash is gone, as asynq without retention)');

# delete asks once more, then the task is gone
$b->get("$base/#/queues/default?state=archived");
$b->wait_for('#tasks tr[data-id="bad1"]');
$b->click('#tasks tr[data-id="bad1"] button[data-act="delete"]');
like($b->text('#tasks tr[data-id="bad1"] button[data-act="delete"]') // '', qr/Sure\?/,
     'delete: a first click only arms the button');
is($r->cmd('EXISTS', 'asynq:{default}:t:bad1'), 1, 'not deleted yet');
$b->click('#tasks tr[data-id="bad1"] button[data-act="delete"]');
ok(ll_wait_until(sub { !$r->cmd('EXISTS', 'asynq:{default}:t:bad1') }, 10), 'delete: the hash is gone');
is($r->cmd('ZSCORE', 'asynq:{default}:archived', 'bad1'), undef, 'delete: out of the zset');

# every task of a state at once: run all archived (they fail again)
$b->get("$base/#/queues/default?state=archived");
$b->wait_for('#tasks tr[data-id="bad2"]');
$b->click('button[data-act="run-all"]');
$b->click('button[data-act="run-all"]');
ok(ll_wait_until(sub { handled('bad2') == 2 && handled('bad3') == 2 && handled('json1') == 1 }, 20),
   'run all archived: each ran again');
ok($b->wait_for('#flash', 10, sub { $_[0] =~ /run all archived tasks: 3 done/ }), 'the page says how many');

# cancel a running task
enq('t:slow', 'sleep=60000', '--id', 'slow1');
ok(ll_wait_until(sub { ($r->cmd('LINDEX', 'asynq:{default}:active', 0) // '') eq 'slow1' }, 10), 'slow1 active');
$b->get("$base/#/queues/default?state=active");
$b->wait_for('#tasks tr[data-id="slow1"]');
$b->click('#tasks tr[data-id="slow1"] button[data-act="cancel"]');
ok(ll_wait_until(sub { my ($l) = handled('slow1'); $l && (split / /, $l)[8] == 1 }, 15),
   'cancel: the handler saw its task cancelled');
$b->page_ok('final', shot => 0);

# ---- the layout stays asynq's ------------------------------------------------
my %keys = map { $_ => 1 } @{ $r->cmd('KEYS', 'asynq:*') };
my @odd = grep { !/^asynq:(queues|servers|workers|cancel|\{(default|low)\}:(t:.+|pending|active|lease|scheduled|retry|archived|completed|paused|processed|failed|processed:\d{4}-\d\d-\d\d|failed:\d{4}-\d\d-\d\d|ll_owners|ll_held:.+)|(servers|workers):\{.+\})$/ } keys %keys;
is_deeply(\@odd, [], 'only keys of asynq\'s layout (and redisq\'s ll_ ones asynq ignores)') or diag(explain(\@odd));
for my $id (map { @{ $r->cmd('ZRANGE', "asynq:{default}:$_", 0, -1) } } qw(archived retry scheduled)) {
    my $m = asynq_decode('TaskMessage', task('default', $id)->{msg});
    is($m->{id}, $id, "task $id: its msg decodes as asynq's TaskMessage");
}

# ---- actions: POST, CSRF token, read_only, token, the log ---------------------
my $http = HTTP::Tiny->new(timeout => 5);
my $csrf = JSON::PP::decode_json($http->get("$base/api/csrf")->{content})->{csrf};
my $res = $http->get("$base/api/csrf");
my ($cookie) = ($res->{headers}{'set-cookie'} // '') =~ /ll_csrf=(\w+)/;
like($res->{headers}{'set-cookie'}, qr/HttpOnly; SameSite=Strict/, 'CSRF cookie HttpOnly, SameSite=Strict');
sub act {
    my ($b, $path, %h) = @_;
    return $http->request('POST', "$b$path", { headers => \%h })->{status};
}
is(act($base, '/api/queues/low/pause'), 403, 'no CSRF token: 403');
is(act($base, '/api/queues/low/pause', 'X-CSRF-Token' => $cookie), 403, 'header without the cookie: 403');
is(act($base, '/api/queues/low/pause', 'X-CSRF-Token' => 'x' x 32, Cookie => "ll_csrf=$cookie"), 403,
   'wrong token: 403');
is($r->cmd('EXISTS', 'asynq:{low}:paused'), 0, 'nothing changed');
is(act($base, '/api/queues/low/pause', 'X-CSRF-Token' => $cookie, Cookie => "ll_csrf=$cookie"), 200,
   'cookie and header agree: 200');
is($r->cmd('EXISTS', 'asynq:{low}:paused'), 1, 'paused');
is($http->get("$base/api/queues/low/pause")->{status}, 404, 'GET of an action: not an endpoint');
my $hist = JSON::PP::decode_json($http->get("$base/api/queues/default/history?days=3")->{content});
is(scalar @$hist, 3, '/api/queues/Q/history: the days asked');
is_deeply($hist->[2], { date => $today, processed => 0 + $r->cmd('GET', "asynq:{default}:processed:$today"),
                        failed => 0 + $r->cmd('GET', "asynq:{default}:failed:$today") },
          '/api/queues/Q/history: today last, from asynq\'s daily keys');
ok($ll->wait_log(qr/action POST \/api\/queues\/low\/pause from 127\.0\.0\.1 user "": 200/, 5),
   'the action is logged with who and what');
ok($ll->wait_log(qr/action POST \/api\/queues\/low\/pause from 127\.0\.0\.1 user "": 403/, 5),
   'refused ones too');

my $b2 = "http://127.0.0.1:$port2";
my %auth = (Authorization => "Bearer $token");
is($http->get("$b2/")->{status}, 401, 'token set: the page needs it');
is($http->get("$b2/api/queues", { headers => \%auth })->{status}, 200, 'with it: the API answers');
my $c2 = ($http->get("$b2/api/csrf", { headers => \%auth })->{headers}{'set-cookie'} =~ /ll_csrf=(\w+)/)[0];
is(act($b2, '/api/queues/low/unpause', %auth, 'X-CSRF-Token' => $c2, Cookie => "ll_csrf=$c2"), 403,
   'read_only (the default): 403');
is(act($b2, '/api/queues/low/unpause', 'X-CSRF-Token' => $c2, Cookie => "ll_csrf=$c2"), 401,
   'without the token: 401');
is($r->cmd('EXISTS', 'asynq:{low}:paused'), 1, 'still paused');

$b->stop;
$ll->stop;
done_testing();
