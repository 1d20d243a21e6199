#!/bin/sh
# cron: fire lateness over N ticks (default 300) of "@every 1s".
# Lateness = when redisq stored the task (its pending_since, ns) minus the
# tick instant: claim + enqueue, as a consumer would see it.  Three looklook
# instances (two workers each) compete for every tick, as in production.
# Env: LL_OBJS (build dir), TICKS.  Prints figures; asserts nothing.
set -e
cd "$(dirname "$0")/.."
: "${LL_OBJS:=objs}"
export LL_OBJS
TICKS=${TICKS:-300} INSTANCES=${INSTANCES:-3} exec perl -I t/lib -e '
use strict; use warnings;
use Time::HiRes qw(time sleep);
use LL::Test; use LL::Redis;
my ($ticks, $n) = ($ENV{TICKS}, $ENV{INSTANCES});
my $r = LL::Redis->start; my $url = $r->url;
my @ll = map { LL::Test::Server->new(conf => <<"C") } 1 .. $n;
worker_processes = 2;
log_level = "debug";
modules = (
  { name = "redisq"; path = "%%OBJS%%/redisq.so"; redis = "$url"; queues = { unused = 1; }; },
  { name = "cron"; path = "%%OBJS%%/cron.so"; redis = "$url";
    entries = ( { id = "b"; spec = "\@every 1s"; task = "bench:tick"; queue = "benchq"; } ); }
);
C
$_->start or die "looklook did not start\n" for @ll;
my $t0 = int(time) + 2;
print "cron lateness: $ticks ticks of \@every 1s, $n instances x 2 workers, one Redis\n";
sleep 0.2 while time < $t0 + $ticks + 1;
$_->stop for @ll;
my @late;
for my $t ($t0 .. $t0 + $ticks - 1) {
    my $ps = $r->cmd("HGET", "asynq:{benchq}:t:cron:b:$t", "pending_since");
    push @late, defined $ps ? ($ps - $t * 1e9) / 1e6 : undef;
}
my %us;
for my $l (@ll) {
    for (split /\n/, $l->log) { $us{$1} = $2 / 1000 if /fired cron:b:(\d+), (\d+) us after/ }
}
my @u = sort { $a <=> $b } map { $us{$_} } grep { defined $us{$_} } $t0 .. $t0 + $ticks - 1;
printf "lateness ms (cron, task stored): p50 %.3f  p99 %.3f  max %.3f  (%d ticks)\n",
    $u[int(0.5 * $#u + 0.5)], $u[int(0.99 * $#u + 0.5)], $u[-1], scalar @u if @u;
my $missing = grep { !defined } @late;
my @s = sort { $a <=> $b } grep { defined } @late;
die "no ticks\n" unless @s;
my $pct = sub { $s[int($_[0] * $#s + 0.5)] };
printf "ticks fired: %d/%d (missing %d)\n", scalar @s, $ticks, $missing;
printf "lateness ms (redisq pending_since, ms resolution): min %.3f  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n",
    $s[0], $pct->(0.5), $pct->(0.9), $pct->(0.99), $s[-1];
'
