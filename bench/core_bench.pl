#!/usr/bin/perl
# Core engine figures (printed, never asserted), with the test fixtures:
#
#   core_bench.pl startup   exec to "generation 1 ready", five modules
#   core_bench.pl reload    `looklook -s reload` (HUP to "reload ok": the
#                           new generation ready, the old one told to go)
#                           with redisq and 2 workers under a stream of
#                           tasks, as users run it; then HUP to the first
#                           message of the new generation with the test
#                           fixtures alone (the core's own share)
#   core_bench.pl rss       idle RSS of the master and of a worker
#
# LL_OBJS names the build dir (its t/*.so fixtures must be built:
# make -f BUILD/Makefile test-build).  LL_BENCH_RUNS sets the repetitions.

use strict;
use warnings;
use POSIX ();
use Time::HiRes qw(time sleep);
use LL::Test;

my $mode = shift // 'startup';
my $runs = $ENV{LL_BENCH_RUNS} // 20;
my $objs = ll_objs();

-x ll_bin() && -f "$objs/t/core_sink.so"
    or die "core_bench: build looklook and the fixtures first "
         . "(make -f $objs/Makefile test-build)\n";

# Five modules: a source, two handlers, a schema-checked module and one
# that starts without failing.
sub five {
    my (%o) = @_;
    my $count    = $o{count} // 1;
    my $interval = $o{interval} // '1ms';
    my $workers  = $o{workers} // 1;
    return <<"EOF";
worker_processes = $workers;
log_level = "info";
shutdown_timeout = 2;
modules = (
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; },
  { name = "sink2"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out2.txt"; },
  { name = "schema"; path = "%%OBJS%%/t/core_schema.so"; label = "x"; items = ( "a", "b" ); },
  { name = "ok"; path = "%%OBJS%%/t/core_fail.so"; at = "start"; when_file = "%%DIR%%/never"; },
  { name = "src"; path = "%%OBJS%%/t/core_source.so"; count = $count; interval = "$interval"; }
);
routes = ( { from = "src:job"; to = "sink"; }, { from = "src:other.*"; to = "sink2"; } );
EOF
}

sub stats {
    my ($name, $unit, @v) = @_;
    @v = sort { $a <=> $b } @v;
    printf "%-44s median %7.1f %s  min %7.1f  max %7.1f  (n=%d)\n", $name,
        $v[$#v / 2], $unit, $v[0], $v[-1], scalar @v;
}

# p50 and p99 (nearest rank) of @v
sub pct {
    my ($name, $unit, @v) = @_;
    @v = sort { $a <=> $b } @v;
    my $rank = sub { $v[ int($_[0] * @v + 0.999999) - 1 ] };
    printf "%-44s p50 %7.1f %s  p99 %7.1f %s  min %7.1f  max %7.1f  (n=%d)\n",
        $name, $rank->(0.5), $unit, $rank->(0.99), $unit, $v[0], $v[-1],
        scalar @v;
}

# ll_wait_until polls every 20 ms: too coarse for these figures.
sub wait_fine {
    my ($cond, $timeout) = @_;
    my $end = time + $timeout;
    while (time < $end) {
        return 1 if $cond->();
        sleep 0.0005;
    }
    return 0;
}

sub kb {
    my ($pid, $field) = @_;
    return (ll_slurp("/proc/$pid/status") =~ /^$field:\s+(\d+) kB/m)[0] // 0;
}

printf "# %s, %d CPUs, %s\n", $mode, scalar(() = ll_slurp('/proc/cpuinfo') =~ /^processor/mg),
    (ll_slurp('/proc/cpuinfo') =~ /^model name\s*:\s*(.*)$/m)[0] // '?';

if ($mode eq 'startup') {
    for my $w (1, 2) {
        my @ms;
        for (1 .. $runs) {
            my $ll = LL::Test::Server->new(conf => five(workers => $w));
            my $t0 = time;
            $ll->start(nowait => 1);
            wait_fine(sub { $ll->log =~ /generation 1 ready/ }, 10)
                or die "not ready:\n" . $ll->log;
            push @ms, (time - $t0) * 1000;
            $ll->stop;
        }
        stats("start to ready, 5 modules, $w worker(s)", 'ms', @ms);
    }
} elsif ($mode eq 'reload') {
    require LL::Redis;
    require LL::Asynq;
    my $redis = LL::Redis->start;
    my $rq = LL::Test::Server->new(conf => LL::Asynq::redisq_conf(
        url => $redis->url, workers => 2, shutdown_timeout => 5,
        redisq => 'concurrency = 10;', record => '-'));
    $rq->start or die "redisq not ready:\n" . $rq->log;
    # a stream of short tasks (5 ms each) through every reload
    my $feeder = fork // die "fork: $!";
    if (!$feeder) {
        open STDOUT, '>', '/dev/null';
        my $line = qq({"type":"bench","payload":"sleep=5"}\n) x 50;
        for (;;) {
            open my $p, '|-', ll_bin('looklook-cli'), '-u', $redis->url,
                 'task', 'enqueue', '--file', '-'
                or POSIX::_exit(1);
            print $p $line;
            close $p;
            sleep 0.1;
        }
    }
    my (@ms, @gone);
    for my $gen (2 .. $runs + 1) {
        my $t0 = time;
        my ($rc, $out) = ll_run(ll_bin(), '-c', $rq->conf_path, '-s', 'reload');
        push @ms, (time - $t0) * 1000;
        $out eq "reload ok, generation $gen\n" or die "reload: $out";
        # the old generation finishes its tasks and leaves
        wait_fine(sub { my @w = $rq->workers; @w == 2 }, 10);
        push @gone, (time - $t0) * 1000;
    }
    kill 'KILL', $feeder;
    waitpid $feeder, 0;
    pct('-s reload, redisq + 2 workers, tasks flowing', 'ms', @ms);
    pct('  HUP to the old generation gone', 'ms', @gone);
    $rq->stop;
    $redis->stop;

    my $ll = LL::Test::Server->new(conf => five(count => 0, interval => '1ms'));
    $ll->start or die "not ready:\n" . $ll->log;
    my $out = $ll->dir . '/out.txt';
    my @hup;
    for my $gen (2 .. $runs + 1) {
        my $t0 = time;
        $ll->signal('HUP');
        wait_fine(sub { ll_slurp($out) =~ / gen=$gen / }, 10)
            or die "generation $gen does not serve:\n" . $ll->log;
        push @hup, (time - $t0) * 1000;
        # let the old generation finish leaving before the next HUP
        LL::Test::ll_wait_until(sub { my @w = $ll->workers; @w == 1 }, 10);
    }
    pct('HUP to first message, fixtures, 1 worker', 'ms', @hup);
    $ll->stop;
} elsif ($mode eq 'rss') {
    my $ll = LL::Test::Server->new(conf => five(count => 1));
    $ll->start or die "not ready:\n" . $ll->log;
    sleep 1;
    my ($w) = $ll->workers;
    printf "%-44s %7.1f MB (peak %.1f MB)\n", 'idle worker RSS, 5 modules',
        kb($w, 'VmRSS') / 1024, kb($w, 'VmHWM') / 1024;
    printf "%-44s %7.1f MB\n", 'master RSS', kb($ll->pid, 'VmRSS') / 1024;
    printf "%-44s %7d\n", 'worker threads',
        (ll_slurp("/proc/$w/status") =~ /^Threads:\s+(\d+)/m)[0] // 0;
    $ll->stop;
} else {
    die "usage: core_bench.pl startup|reload|rss\n";
}
