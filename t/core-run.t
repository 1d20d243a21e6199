#!/usr/bin/perl
# The process model: a master and worker_processes workers ("auto"), a
# pool of handler_threads; log line format, log_level and error_log; the master never maps a module; a killed worker is respawned in
# its slot; a worker crash-looping at start is respawned with back-off.

use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use LL::Test;

my $LOGLINE = qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[(err|warn|info|debug)\] (\d+) ([^\s:]+): (.*)$/;

# pid => [lines] of out.txt
sub out_by_pid {
    my ($path) = @_;
    my %by;
    for (split /\n/, ll_slurp($path)) {
        push @{ $by{$1} }, $_ if /\bpid=(\d+)/;
    }
    return \%by;
}

my $ll = LL::Test::Server->new(conf => <<'EOF');
worker_processes = 2;
log_level = "info";
shutdown_timeout = 3;
handler_threads = 2;
modules = (
  { name = "src"; path = "%%OBJS%%/t/core_source.so"; count = 0; interval = "20ms"; },
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; start_delay = "300ms"; },
  { name = "fail"; path = "%%OBJS%%/t/core_fail.so"; at = "crash"; when_file = "%%DIR%%/crash"; }
);
routes = ( { from = "src:job"; to = "sink"; } );
EOF
my $dir = $ll->dir;
ok($ll->start, 'started') or do { diag("no generation 1:\n" . $ll->log . ll_slurp("$dir/stderr.log")); done_testing(); exit; };
my $master = $ll->pid;

like($ll->log, qr/\[info\] $master master: generation 1 ready \(2 workers\)$/m,
     'master logs "generation 1 ready (2 workers)"');
my @workers = $ll->workers;
is(scalar @workers, 2, 'two workers');
is(ll_slurp("$dir/looklook.pid") =~ /^(\d+)\s*$/ ? $1 : '', $master, 'pid file holds the master pid');

# both workers handle messages, each in its own slot
ok(ll_wait_until(sub { keys %{ out_by_pid("$dir/out.txt") } == 2 }, 10),
   'both workers handle messages');
my $by = out_by_pid("$dir/out.txt");
is_deeply([sort { $a <=> $b } keys %$by], [@workers], 'handled by the two worker pids');
my %slot = map { my ($s) = $by->{$_}[0] =~ /worker=(\d+)/; ($_ => $s) } keys %$by;
is_deeply([sort values %slot], [0, 1], 'worker slots 0 and 1');
like($by->{$workers[0]}[0], qr/^v1 - pid=\d+ gen=1 worker=\d type=job id=g1\.w\d\.\d+$/,
     'the handler got source, type and id');

# the source comes first in the config and the sink's start takes 300 ms,
# yet the sink must not be handed work before its start ran (it opens its
# file there)
unlike($ll->log, qr/handle before start/, 'no handle call before the module\'s start')
    or diag join "\n", grep { /handle before start| started/ } split /\n/, $ll->log;

# every line of the log has the format, and names its process
{
    my @lines = split /\n/, $ll->log;
    my @bad = grep { !/$LOGLINE/ } @lines;
    is(scalar @bad, 0, 'every log line: "DATE TIME.ms [level] PID WHO: text"')
        or diag join "\n", @bad[0 .. ($#bad > 4 ? 4 : $#bad)];
    my %who_pid;
    for (@lines) { /$LOGLINE/ and $who_pid{"$3 $2"} = 1 }
    ok($who_pid{"master $master"}, 'master lines carry the master pid');
    ok($who_pid{"sink $workers[0]"} || $who_pid{"sink $workers[1]"},
       'module lines carry the instance name and a worker pid');
    ok(!$who_pid{"sink $master"}, 'no module line from the master');
}

# the master never loads a module
{
    my @maps = grep { m{\s/\S+\.so\b} && !m{\s/(usr/)?lib} } split /\n/, ll_slurp("/proc/$master/maps");
    is(scalar @maps, 0, 'the master maps no module') or diag join "\n", @maps;
    my @wmaps = grep { m{core_sink} } split /\n/, ll_slurp("/proc/$workers[0]/maps");
    ok(@wmaps > 0 || grep({ /sink/ } split /\n/, ll_slurp("/proc/$workers[0]/maps")),
       'a worker does map the module (sanity check of the maps test)');
}

# a worker killed with SIGKILL is respawned, in the same slot
{
    my $victim = $workers[0];
    my $vslot = $slot{$victim};
    my $from = $ll->log_size;
    kill 'KILL', $victim;
    my $new = ll_wait_until(sub {
        my @w = $ll->workers;
        my @n = grep { $_ != $workers[1] && $_ != $victim } @w;
        return @w == 2 && @n == 1 ? $n[0] : 0;
    }, 10);
    ok($new, 'a new worker replaces the killed one');
    my $line = $ll->wait_log(qr/^.* master: .*\b$victim\b.*$/m, 5, from => $from);
    ok($line, 'the master logs the dead worker\'s pid') or diag substr($ll->log, $from);
    like($line, qr/signal 9|SIGKILL|killed/i, 'and that it was killed by signal 9');
    ok(ll_wait_until(sub { out_by_pid("$dir/out.txt")->{$new} }, 10),
       'the new worker handles messages') or diag substr($ll->log, $from);
    my $l = (out_by_pid("$dir/out.txt")->{$new} // [''])->[0];
    like($l, qr/ worker=$vslot /, 'in the slot of the dead worker');
    unlike($l, qr/ gen=(?!1 )/, 'in the same generation');
    @workers = $ll->workers;
}

# a worker that crashes at start is respawned with growing back-off, and
# the master keeps running the healthy one
{
    # the master's line for a dead worker (SIGSEGV; a sanitizer build may
    # turn the fault into an exit status)
    my $CRASH = qr/ master: .*\bworker \d+\b.*(signal 11|SIGSEGV|exit|status)/mi;
    ll_write("$dir/crash", '');
    my $from = $ll->log_size;
    my ($victim) = @workers;
    kill 'KILL', $victim;
    sleep 3.5;
    my $text = substr($ll->log, $from);
    my @crashes = grep { /$CRASH/ } split /\n/, $text;
    note scalar(@crashes) . " crashes in 3.5 s";
    cmp_ok(scalar @crashes, '>=', 1, 'the respawned worker crashes at start')
        or diag $text;
    cmp_ok(scalar @crashes, '<=', 6, 'no more than 6 respawns in 3.5 s (back-off)')
        or diag $text;
    ok($ll->alive, 'the master is still running');
    ok(grep({ $_ == $workers[1] } $ll->workers), 'the healthy worker is untouched');
    my $n1 = () = substr($ll->log, $from) =~ /$CRASH/g;
    sleep 2;
    my $n2 = () = substr($ll->log, $from) =~ /$CRASH/g;
    cmp_ok($n2 - $n1, '<=', 2, 'the back-off grows (at most 2 crashes in the next 2 s)');

    unlink "$dir/crash";
    my $ok = $ll->wait_log(qr/ fail: started, not failing/, 40, from => $from);
    ok($ok, 'once start works again, a worker comes up') or diag substr($ll->log, $from);
    ok(ll_wait_until(sub { my @w = $ll->workers; @w == 2 }, 5), 'two workers again');
}

my $st = $ll->stop;
is($st, 0, 'QUIT: the master exits 0');

# worker_processes = "auto" is one worker per CPU; log_level = "warn" drops
# info lines; error_log = "stderr" writes to the master's stderr
{
    my $cpus = () = ll_slurp('/proc/cpuinfo') =~ /^processor\s*:/mg;
    my $q = LL::Test::Server->new(conf => <<'EOF');
worker_processes = "auto";
log_level = "warn";
error_log = "stderr";
modules = (
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; },
  { name = "src"; path = "%%OBJS%%/t/core_source.so"; count = 3; interval = "1ms"; }
);
routes = ( { from = "src:job"; to = "sink"; } );
EOF
    $q->start(nowait => 1);
    my $qdir = $q->dir;
    ok(ll_wait_until(sub { (() = ll_slurp("$qdir/out.txt") =~ / id=/g) == 3 * $cpus }, 10),
       "\"auto\": $cpus workers each handle their messages");
    my @w = $q->workers;
    is(scalar @w, $cpus, "\"auto\": $cpus workers");
    is($q->stop, 0, 'log_level warn: QUIT exits 0');
    my $err = ll_slurp("$qdir/stderr.log");
    unlike($err, qr/\[(info|debug)\]/, 'log_level warn: no info or debug line');
    ok(!-e $q->log_path, 'error_log "stderr": no log file');

    $q = LL::Test::Server->new(conf => <<'EOF');
worker_processes = 1;
log_level = "debug";
error_log = "stderr";
modules = ( { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; } );
EOF
    $q->start(nowait => 1);
    $qdir = $q->dir;
    ok(ll_wait_until(sub { ll_slurp("$qdir/stderr.log") =~ /generation 1 ready/ }, 10),
       'error_log "stderr": the log goes to the master\'s stderr');
    is($q->stop, 0, 'log_level debug: QUIT exits 0');
    like(ll_slurp("$qdir/stderr.log"), qr/^\S+ \S+ \[debug\] \d+ sink: opened /m,
         'log_level debug: a module\'s debug line');
}

# handler_threads bounds how many handlers run at once
{
    my $h = LL::Test::Server->new(conf => <<'EOF');
worker_processes = 1;
handler_threads = 3;
modules = (
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; sleep = "600ms"; },
  { name = "src"; path = "%%OBJS%%/t/core_source.so"; count = 7; interval = "1ms"; }
);
routes = ( { from = "src:job"; to = "sink"; } );
EOF
    ok($h->start, 'handler_threads 3: started') or diag $h->log;
    ok($h->wait_log(qr/(?: sink: finished .*){7}/s, 10), 'handler_threads 3: all 7 handled');
    my ($before) = $h->log =~ /\A(.*?) sink: finished /s;
    my $running = () = ($before // '') =~ / sink: handling /g;
    is($running, 3, 'handler_threads 3: three handlers run at once, not more, not fewer');
    is($h->stop, 0, 'handler_threads: QUIT exits 0');
}

done_testing();
