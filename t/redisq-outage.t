# redisq and an unreachable Redis (issue 9, items 6 and 7):
# - a reload onto a closed port or a wrong password fails, and the old
#   generation keeps serving; a good reload still works;
# - a first start with Redis unreachable fails (the master exits 1);
# - an outage after start, and a changed password, cost a bounded number
#   of log lines (the error once per worker, "reconnected" once per
#   worker), however many reconnects the back-off makes meanwhile, and
#   every task is still handled.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use LL::Test;
use LL::Redis;
use LL::Asynq;
use Time::HiRes qw(sleep);

my $r = LL::Redis->start;
my $workers = 2;
my $ll = LL::Test::Server->new;
my $rec = $ll->dir . '/rec.txt';
my $closed = ll_free_port();
diag "dir: " . $ll->dir if $ENV{LL_KEEP};

sub conf {
    my (%o) = @_;
    $ll->conf("ready_timeout = 3;\n" . redisq_conf(url => $o{url} // $r->url,
        record => $rec, workers => $workers,
        redisq => $o{redisq} // 'concurrency = 4;'));
}
sub handled { scalar(() = ll_slurp($rec) =~ /^\d+ \d+ \S+ t:/mg) }
# ---- a first start without Redis fails loudly ----------------------------
conf(url => "redis://127.0.0.1:$closed/0");
is($ll->start_fails, 1, 'first start, Redis unreachable: the master exits 1')
    or diag $ll->log;
like($ll->log, qr/generation 1 failed: module "redisq": start failed: redis 127\.0\.0\.1:$closed\/0 unreachable: .*Connection refused/,
     '... saying which Redis and why');

# ---- reloads and outages ------------------------------------------------
conf();
ok($ll->start, 'started with Redis up') or BAIL_OUT($ll->log);
my $cli_url = $r->url;
my $sent = 0;
sub enqueue_and_wait {
    my ($n, $what) = @_;
    for (1 .. $n) {
        my ($st, $out) = cli('-u', $cli_url, 'task', 'enqueue', 't:x', 'done');
        die "enqueue: $out" if $st;
    }
    $sent += $n;
    ok(ll_wait_until(sub { handled() == $sent }, 20),
       "$what: all $sent tasks handled") or diag handled();
    # and their outcomes written: a step starts with no task in flight
    my @left = map { "asynq:{default}:$_" } qw(pending active retry);
    ok(ll_wait_until(sub { !grep { $r->cmd('EXISTS', $_) } @left }, 20),
       "$what: every outcome written") or diag explain
        { map { $_ => $r->cmd('EXISTS', $_) } @left };
}
enqueue_and_wait(5, 'generation 1');

sub bad_reload {
    my ($name, $url, $why) = @_;
    my $from = $ll->log_size;
    conf(url => $url);
    $ll->signal('HUP');
    ok($ll->wait_log(qr/reload failed, generation 1 keeps running: module "redisq": start failed: redis \S+ unreachable: $why/,
                     20, from => $from), "$name: the reload fails")
        or diag substr($ll->log, $from);
    unlike(substr($ll->log, $from), qr/generation \d+ ready/,
           "$name: no new generation");
    enqueue_and_wait(5, "$name: the old generation");
}
bad_reload('closed port', "redis://127.0.0.1:$closed/0", '.*Connection refused');

# An outage after start, long enough for the back-off (50 ms doubling to
# 2 s, on each of a worker's ~6 connections) to retry many times: before,
# every failed try of the fetcher was a line, 10 a second per worker.
sub lines_since {
    my ($from) = @_;
    return grep { / redisq: / && !/ serving \d+ queue/ }
           split /\n/, substr($ll->log, $from);
}
sub reconnected {
    my ($from) = @_;
    return () = substr($ll->log, $from)
                =~ /redisq: redis \S+ reconnected after \d+\.\d s/g;
}
my $from = $ll->log_size;
$r->stop;
ok($ll->wait_log(qr/redisq: redis \S+: .*Connection refused/, 10,
                 from => $from), 'Redis down: logged');
sleep 4;
my $during = () = lines_since($from);
$r->restart;
ok(ll_wait_until(sub { reconnected($from) == $workers }, 20),
   'Redis back: "reconnected after N s", once per worker')
    or diag substr($ll->log, $from);
enqueue_and_wait(5, 'after the outage');
my @lines = lines_since($from);
# per worker: the error as first seen (a dropped connection may be seen
# as "closed" before "refused") and the recovery
cmp_ok(scalar @lines, '<=', $workers * 3, 'the outage cost at most 3 lines '
       . "per worker ($during while down)") or diag join "\n", @lines;

# Redis asks for a password this generation does not send: a connection
# is refused as with a wrong one (before: each loop's calls got NOAUTH,
# logged on every try, and the connections stayed unusable after the
# password was lifted, Redis 7 keeping them unauthenticated)
$from = $ll->log_size;
$r->cmd('CONFIG', 'SET', 'requirepass', 'asked');
$r->cmd('CLIENT', 'KILL', 'TYPE', 'normal');
$r->cmd('CLIENT', 'KILL', 'TYPE', 'pubsub');
ok($ll->wait_log(qr/redisq: .*NOAUTH/, 10, from => $from), 'NOAUTH: logged');
sleep 6;                        # a heartbeat (every 5 s) included
$during = () = lines_since($from);
$r->cmd('CONFIG', 'SET', 'requirepass', '');
ok(ll_wait_until(sub { reconnected($from) == $workers }, 20),
   'no password asked again: "reconnected", once per worker')
    or diag substr($ll->log, $from);
enqueue_and_wait(5, 'no password asked again');
@lines = lines_since($from);
cmp_ok(scalar @lines, '<=', $workers * 3, 'NOAUTH cost at most 3 lines per '
       . "worker ($during while refused)") or diag join "\n", @lines;

# a password: a reload with the wrong one fails, with the right one works.
# The password is an ACL user's, the default user staying open: the old
# generation, which sends none, must keep serving, and Redis 7 would cut it
# off if the default user asked one (a connection it accepted while
# "asked" above and that PINGed after the password was lifted stays
# unauthenticated, and its next long command is refused: "Protocol error:
# unauthenticated multibulk length"; that generation could then write no
# outcome, and those tasks came back only by lease expiry)
$r->cmd('ACL', 'SETUSER', 'll', 'on', '>right', '~*', '&*', '+@all');
my $good = 'redis://ll:right@' . $r->addr . '/0';
$cli_url = $good;
bad_reload('wrong password', 'redis://ll:wrong@' . $r->addr . '/0',
           'AUTH: WRONGPASS');
$from = $ll->log_size;
conf(url => $good);
$ll->signal('HUP');
ok($ll->wait_log(qr/generation \d+ ready/, 20, from => $from),
   'a good reload still works') or diag substr($ll->log, $from);
enqueue_and_wait(5, 'the new generation');

# the password changes under the running server, then back
$from = $ll->log_size;
$r->cmd('ACL', 'SETUSER', 'll', 'resetpass', '>changed');
$r->cmd('CLIENT', 'KILL', 'TYPE', 'normal');
$r->cmd('CLIENT', 'KILL', 'TYPE', 'pubsub');
ok($ll->wait_log(qr/redisq: redis \S+: AUTH: WRONGPASS/, 10, from => $from),
   'wrong password: logged');
sleep 3;
$during = () = lines_since($from);
$r->cmd('ACL', 'SETUSER', 'll', 'resetpass', '>right');
ok(ll_wait_until(sub { reconnected($from) == $workers }, 20),
   'password right again: "reconnected", once per worker')
    or diag substr($ll->log, $from);
enqueue_and_wait(5, 'after the password change');
@lines = lines_since($from);
cmp_ok(scalar @lines, '<=', $workers * 3, 'a wrong password cost at most 3 '
       . "lines per worker ($during while refused)") or diag join "\n", @lines;

$ll->stop;
done_testing();
