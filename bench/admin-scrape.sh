#!/bin/sh
# admin: what a Prometheus scrape costs the worker that answers it, with
# 100 redisq queues (two instances of 50: one takes at most 64) and 100
# routes, each of which has handled a task, so every series has data.
# One worker (it answers every scrape):
#   - CPU per scrape, from SCRAPES (default 300) back-to-back scrapes over
#     one keep-alive connection, minus the worker's idle rate;
#   - the worker's CPU over SECS seconds (default 30) idle, then while
#     scraped once a second, as Prometheus would.
# Env: LL_OBJS, SCRAPES, SECS.  Prints figures; asserts nothing.
set -e
cd "$(dirname "$0")/.."
: "${LL_OBJS:=objs}"
export LL_OBJS
SCRAPES=${SCRAPES:-300} SECS=${SECS:-30} exec perl -I t/lib -e '
use strict; use warnings;
use Time::HiRes qw(time sleep);
use HTTP::Tiny;
use LL::Test; use LL::Redis;
my ($scrapes, $secs, $nq) = ($ENV{SCRAPES}, $ENV{SECS}, 100);
my $r = LL::Redis->start; my $url = $r->url;
my $port = ll_free_port();
my $hz = 100;
sub cpu_of { my @f = split / /, (split /\) /, ll_slurp("/proc/$_[0]/stat"))[1];
             return ($f[11] + $f[12]) / $hz }
sub inst { $_[0] < $nq / 2 ? "redisq" : "redisq2" }
sub queues { join " ", map { "q$_ = 1;" } grep { inst($_) eq $_[0] } 0 .. $nq - 1 }
my $routes = join ",\n  ", map { my $i = inst($_); qq{{ from = "$i:bench:t$_"; to = "sink"; }} } 0 .. $nq - 1;
my ($q1, $q2) = (queues("redisq"), queues("redisq2"));
my $ll = LL::Test::Server->new(conf => <<"C");
worker_processes = 1;
modules = (
  { name = "admin"; path = "%%OBJS%%/admin.so"; listen = "127.0.0.1:$port"; },
  { name = "redisq"; path = "%%OBJS%%/redisq.so"; redis = "$url"; queues = { $q1 }; },
  { name = "redisq2"; path = "%%OBJS%%/redisq.so"; redis = "$url"; queues = { $q2 }; },
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out"; }
);
routes = (
  $routes
);
C
$ll->start(timeout => 60) or die "looklook did not start\n" . $ll->log;
my ($w) = $ll->workers;
for my $i (0 .. $nq - 1) {
    my ($rc, $out) = ll_run(ll_bin("looklook-cli"), "-u", $url, "task", "enqueue",
                            "bench:t$i", "x", "--queue", "q$i");
    die "enqueue: $out" if $rc;
}
ll_wait_until(sub { my @l = split /\n/, ll_slurp($ll->dir . "/out"); @l == $nq }, 60)
    or die "the tasks were not handled\n";
my $http = HTTP::Tiny->new(timeout => 10, keep_alive => 1);
my $m = "http://127.0.0.1:$port/metrics";
sleep 6;                        # one round of queue figures read from Redis
my $body = $http->get($m)->{content};
my $series = grep { !/^#/ } split /\n/, $body;

# idle rate, then back-to-back scrapes
my ($c0, $t0) = (cpu_of($w), time);
sleep $secs;
my ($c1, $t1) = (cpu_of($w), time);
my $idle = ($c1 - $c0) / ($t1 - $t0);
for (1 .. $scrapes) { $http->get($m)->{status} == 200 or die "scrape failed\n" }
my ($c2, $t2) = (cpu_of($w), time);
my $per = (($c2 - $c1) - $idle * ($t2 - $t1)) / $scrapes;

# once a second, as Prometheus
my $next = time;
for (1 .. $secs) { $http->get($m); $next += 1; sleep($next - time) if $next > time }
my ($c3, $t3) = (cpu_of($w), time);
my $paced = ($c3 - $c2) / ($t3 - $t2);
$ll->stop;

printf "admin scrape: %d queues, %d routes, /metrics of %d bytes, %d series, one worker\n",
    $nq, $nq, length $body, $series;
printf "CPU per scrape: %.2f ms (%d back-to-back scrapes): %.3f%% of a worker at one scrape a second\n",
    $per * 1000, $scrapes, $per * 100;
printf "worker CPU over %d s: %.3f%% idle, %.3f%% scraped every second (+%.3f%%)\n",
    $secs, $idle * 100, $paced * 100, ($paced - $idle) * 100;
'
