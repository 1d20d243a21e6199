#!/usr/bin/perl
# kill -9 of a redisq worker with BENCH_N tasks (BENCH_MS ms each) in
# flight, 2 workers: prints how long after the kill the dead worker's tasks
# were retried and the last task ended, and checks that every task ran.
# Recovery by lease expiry alone would take 60-120 s (30 s lease, 30 s
# grace, the recoverer's period); looklook retries a dead worker's tasks as
# soon as its PID is gone.
# Env: BENCH_N (default 1000), BENCH_MS (200), BENCH_CONCURRENCY (500).
use strict;
use warnings;
use Time::HiRes qw(time sleep);
use LL::Test;
use LL::Redis;
use LL::Asynq;

my $N    = $ENV{BENCH_N} // 1000;
my $ms   = $ENV{BENCH_MS} // 200;
my $conc = $ENV{BENCH_CONCURRENCY} // 500;
my $r    = LL::Redis->start;
my $ll   = LL::Test::Server->new;
my $dir  = $ll->dir;
my $rec  = "$dir/rec.txt";
# every task in flight at once: as many handler threads as redisq's slots
$ll->conf("handler_threads = $conc;\n"
          . redisq_conf(url => $r->url, record => $rec, workers => 2,
                        redisq => "concurrency = $conc;"));
$ll->start or die "looklook did not start:\n" . $ll->log;
ll_write("$dir/t.jsonl", join '', map { qq({"type":"k","payload":"sleep=$ms stubborn","id":"B$_"}\n) } 1 .. $N);
my ($st, $out) = cli('-u', $r->url, 'task', 'enqueue', '--file', "$dir/t.jsonl");
die "enqueue: $out" if $st;
ll_wait_until(sub { $r->cmd('LLEN', 'asynq:{default}:pending') == 0 }, 30) or die "not leased";
my ($victim) = $ll->workers;
my $t0 = time;
kill 'KILL', $victim;
my ($t_retry, $t_all, $n);
ll_wait_until(sub {
    $t_retry //= time if $ll->log =~ /worker $victim died/;
    my %seen = map { (split / /)[2] => 1 } split /\n/, ll_slurp($rec);
    $n = keys %seen;
    return 0 unless $n == $N && !$r->cmd('LLEN', 'asynq:{default}:active');
    $t_all = time;
}, 300);
my ($line) = $ll->log =~ /(worker $victim died: .*)/;
printf "kill -9 of 1 of 2 workers, %d tasks of %d ms in flight (concurrency and handler threads %d each)\n",
       $N, $ms, $conc;
printf "  %s\n", $line // 'no dead-worker recovery logged';
printf "  dead worker's tasks retried %.2f s after the kill\n", $t_retry - $t0 if $t_retry;
printf "  every task ended (%d of %d) %.2f s after the kill\n", $n, $N, $t_all - $t0 if $t_all;
printf "  NOT all tasks ended within 300 s: %d of %d\n", $n, $N unless $t_all;
$ll->stop;
