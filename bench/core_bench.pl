#!/usr/bin/perl
# Core engine figures (printed, never asserted), with the test fixtures:
#
#   core_bench.pl startup   exec to "generation 1 ready", five modules
#   core_bench.pl reload    HUP to the first message handled by the new
#                           generation
#   core_bench.pl rss       idle RSS of the master and of a worker
#
# LL_OBJS names the build dir (its t/*.so fixtures must be built:
# make -f BUILD/Makefile test-build).  LL_BENCH_RUNS sets the repetitions.

use strict;
use warnings;
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
    my $ll = LL::Test::Server->new(conf => five(count => 0, interval => '1ms'));
    $ll->start or die "not ready:\n" . $ll->log;
    my $out = $ll->dir . '/out.txt';
    my @ms;
    for my $gen (2 .. $runs + 1) {
        my $t0 = time;
        $ll->signal('HUP');
        wait_fine(sub { ll_slurp($out) =~ / gen=$gen / }, 10)
            or die "generation $gen does not serve:\n" . $ll->log;
        push @ms, (time - $t0) * 1000;
        # let the old generation finish leaving before the next HUP
        LL::Test::ll_wait_until(sub { my @w = $ll->workers; @w == 1 }, 10);
    }
    stats('HUP to the new generation serving', 'ms', @ms);
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
