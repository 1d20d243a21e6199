#!/bin/sh
# cron: idle cost of 10,000 entries (default) in one worker: RSS of the
# worker with and without the cron module, and the CPU it uses over
# SECS seconds (default 60) while no entry is due (daily specs) -- the
# leader's heartbeat rewrites all entries every 10 s and is included.
# Env: LL_OBJS, ENTRIES, SECS.  Prints figures; asserts nothing.
set -e
cd "$(dirname "$0")/.."
: "${LL_OBJS:=objs}"
export LL_OBJS
ENTRIES=${ENTRIES:-10000} SECS=${SECS:-60} exec perl -I t/lib -e '
use strict; use warnings;
use Time::HiRes qw(time sleep);
use LL::Test; use LL::Redis;
my ($n, $secs) = ($ENV{ENTRIES}, $ENV{SECS});
my $r = LL::Redis->start; my $url = $r->url;
my $hz = 100;
sub stat_of { my @f = split / /, (split /\) /, ll_slurp("/proc/$_[0]/stat"))[1];
              return ($f[11] + $f[12]) / $hz }
sub rss_kb { ll_slurp("/proc/$_[0]/status") =~ /VmRSS:\s+(\d+)/ ? $1 : 0 }
sub run {
    my ($entries) = @_;
    my $cron = $entries eq "" ? "" : qq{,\n  { name = "cron"; path = "%%OBJS%%/cron.so"; redis = "$url";
    entries = ( $entries ); }};
    my $ll = LL::Test::Server->new(conf => <<"C");
worker_processes = 1;
modules = (
  { name = "redisq"; path = "%%OBJS%%/redisq.so"; redis = "$url"; queues = { unused = 1; }; }$cron
);
C
    $ll->start(timeout => 60) or die "looklook did not start\n";
    my ($w) = $ll->workers;
    sleep 3;                            # settle: first heartbeat, cursors
    my ($c0, $t0) = (stat_of($w), time);
    sleep $secs;
    my ($c1, $t1) = (stat_of($w), time);
    my $rss = rss_kb($w);
    $ll->stop;
    return ($rss, ($c1 - $c0) / ($t1 - $t0) * 100);
}
my @e;
for my $i (0 .. $n - 1) {
    # daily at a time that is not now: idle for the whole run
    my ($h, $m) = ((int(time / 3600) + 12 + $i % 6) % 24, $i % 60);
    push @e, qq{{ id = "e$i"; spec = "$m $h * * *"; task = "bench:idle"; queue = "benchq"; }};
}
my ($rss0, $cpu0) = run("");
my ($rss1, $cpu1) = run(join(",\n", @e));
print "cron idle: $n entries (daily specs), one worker, ${secs} s\n";
printf "worker RSS: %d KiB without cron, %d KiB with %d entries (+%d KiB, %.0f bytes/entry)\n",
    $rss0, $rss1, $n, $rss1 - $rss0, ($rss1 - $rss0) * 1024 / $n;
printf "worker CPU: %.2f%% without cron, %.2f%% with %d entries\n", $cpu0, $cpu1, $n;
'
