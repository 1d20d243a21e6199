#!/usr/bin/perl
# cron and an unreachable Redis (issue 9, items 6 and 7): a first start
# without Redis fails (the master exits 1); a reload onto a closed port
# fails and the old generation keeps firing; an outage after start costs
# a bounded number of log lines (the error once, "reconnected" once),
# however many times the scheduler retried meanwhile, and ticks go on.
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Redis;

my $redis  = LL::Redis->start;
my $closed = ll_free_port();
my $ll     = LL::Test::Server->new;
my $d      = $ll->dir;
sub conf {
    my ($url) = @_;
    $ll->conf(<<"EOF");
ready_timeout = 3;
worker_processes = 1;
modules = (
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "$d/handled"; },
  { name = "cron"; path = "%%OBJS%%/cron.so"; redis = "$url";
    entries = ( { id = "k"; spec = "\@every 1s"; target = "sink"; task = "test:k"; } ); }
);
EOF
}
sub ticks { scalar(() = ll_slurp("$d/handled") =~ /id=cron:k:\d+$/mg) }
sub more_ticks {
    my ($what) = @_;
    my $n = ticks();
    ok(ll_wait_until(sub { ticks() >= $n + 2 }, 10), "$what: ticks go on");
}

# a first start without Redis fails loudly
conf("redis://127.0.0.1:$closed/0");
is($ll->start_fails, 1, 'first start, Redis unreachable: the master exits 1')
    or diag $ll->log;
like($ll->log, qr/generation 1 failed: module "cron": start failed: redis 127\.0\.0\.1:$closed\/0 unreachable: .*Connection refused/,
     '... saying which Redis and why');

conf($redis->url);
ok($ll->start, 'started with Redis up') or BAIL_OUT($ll->log);
more_ticks('generation 1');

# a reload onto a closed port fails; generation 1 goes on
my $from = $ll->log_size;
conf("redis://127.0.0.1:$closed/0");
$ll->signal('HUP');
ok($ll->wait_log(qr/reload failed, generation 1 keeps running: module "cron": start failed: redis \S+ unreachable: .*Connection refused/,
                 20, from => $from), 'closed port: the reload fails')
    or diag substr($ll->log, $from);
more_ticks('the old generation');

# an outage after start: before, "claiming ticks failed" every 500 ms
$from = $ll->log_size;
$redis->stop;
ok($ll->wait_log(qr/cron: redis \S+: .*Connection refused/, 10,
                 from => $from), 'Redis down: logged');
sleep 4;
$redis->restart;
ok($ll->wait_log(qr/cron: redis \S+ reconnected after \d+\.\d s/, 10,
                 from => $from), 'Redis back: "reconnected after N s"')
    or diag substr($ll->log, $from);
more_ticks('after the outage');
my @lines = grep { / cron: / && !/ entry k: missed ticks / }
            split /\n/, substr($ll->log, $from);
# the error as first seen (a dropped connection may be seen as "closed"
# before "refused") and the recovery
cmp_ok(scalar @lines, '<=', 3, 'the outage cost at most 3 lines')
    or diag join "\n", @lines;
is(scalar(grep { /reconnected/ } @lines), 1, '"reconnected" once');

# a good reload still works
$from = $ll->log_size;
conf($redis->url);
$ll->signal('HUP');
ok($ll->wait_log(qr/generation \d+ ready/, 20, from => $from),
   'a good reload still works') or diag substr($ll->log, $from);
more_ticks('the new generation');
unlike($ll->log, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
$ll->stop;
done_testing;
