# redisq queue order (docs/asynq-compat.md 5.2): weighted shares 6/3/1 and strict
# priority.  Idle pick-up of an immediate task goes through the BLMOVE
# wake-up, not a poll.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use LL::Test;
use LL::Redis;
use LL::Asynq;
use LL::AsynqCheck;
use Time::HiRes qw(time sleep);

sub preload {
    my ($r, $dir, $n) = @_;
    my $lines = '';
    for my $q (qw(critical default low)) {
        $lines .= qq({"type":"p","payload":"done","queue":"$q","id":"$q-$_"}\n) for 1 .. $n;
    }
    ll_write("$dir/pre.jsonl", $lines);
    my ($st, $out) = cli('-u', $r->url, 'task', 'enqueue', '--file', "$dir/pre.jsonl");
    die $out if $st;
}

sub order { map { (split / /)[4] } split /\n/, ll_slurp($_[0]) }
sub count { my @o = order($_[0]); return scalar @o }

# weighted: concurrency 1, one task per dequeue, as asynq does; the
# picks are random, so 1,000 of them keep each bound beyond 5 sigma
my $r = LL::Redis->start;
my $ll = LL::Test::Server->new;
preload($r, $ll->dir, 1000);
$ll->conf(redisq_conf(url => $r->url, redisq => 'concurrency = 1; dequeue_batch = 1;
    queues = { critical = 6; default = 3; low = 1; };'));
ok($ll->start, 'weighted server') or BAIL_OUT($ll->log);
ok(ll_wait_until(sub { count($ll->dir . '/rec.txt') >= 1000 }, 60), '1000 tasks ran');
$ll->stop;
my @o = (order($ll->dir . '/rec.txt'))[0 .. 999];
my %n;
$n{$_}++ for @o;
my %share = map { $_ => ($n{$_} // 0) / 1000 } qw(critical default low);
diag sprintf('shares: critical %.3f default %.3f low %.3f', @share{qw(critical default low)});
ok(abs($share{critical} - 0.6) < 0.08, 'critical about 60 %');
ok(abs($share{default} - 0.3) < 0.08, 'default about 30 %');
ok(abs($share{low} - 0.1) < 0.06, 'low about 10 %, not starved');

# strict: all critical first, then default, then low
my $r2 = LL::Redis->start;
my $ll2 = LL::Test::Server->new;
preload($r2, $ll2->dir, 50);
$ll2->conf(redisq_conf(url => $r2->url, redisq => 'concurrency = 1; strict_priority = true;
    queues = { low = 1; critical = 6; default = 3; };'));
ok($ll2->start, 'strict server') or BAIL_OUT($ll2->log);
ok(ll_wait_until(sub { count($ll2->dir . '/rec.txt') >= 150 }, 30), '150 tasks ran');
my @s = order($ll2->dir . '/rec.txt');
is_deeply(\@s, [ ('critical') x 50, ('default') x 50, ('low') x 50 ], 'strict order');

# idle pick-up: an immediate task enqueued while idle starts at once
my @lat;
for my $i (1 .. 20) {
    sleep 0.05;
    my $t0 = time;
    my ($st) = cli('-u', $r2->url, 'task', 'enqueue', 'p', 'done', '--queue', 'low', '--id', "I$i");
    my $rec = $ll2->dir . '/rec.txt';
    ll_wait_until(sub { ll_slurp($rec) =~ /^(\d+) \d+ I$i /m }, 5);
    ll_slurp($rec) =~ /^(\d+) \d+ I$i /m;
    push @lat, $1 - $t0 * 1000;
}
@lat = sort { $a <=> $b } @lat;
diag sprintf('idle pick-up incl. CLI start: median %.1f ms, max %.1f ms', $lat[10], $lat[-1]);
ok($lat[10] < 500, 'idle pick-up well under asynq\'s 0.5-1.5 s poll');
$ll2->stop;
asynq_check_ok($r, 'priorities');
asynq_check_ok($r2, 'idle pick-up');

done_testing;
