#!/usr/bin/perl
# What an operator's commands say: -s reload waits for the outcome and
# prints it (exit 1 on failure; --no-wait only signals); -s status says
# "not running" after a stop or a kill -9, and a broken status file gets a
# clear error; -s signals only a looklook; the files the master writes are
# never group- or world-writable, whatever the umask.

use strict;
use warnings;
use Test::More;
use POSIX ();
use LL::Test;

my $T   = ll_objs() . '/t';
my $bin = ll_bin();

sub conf {
    my ($extra) = @_;
    $extra //= '';
    return <<"EOF";
worker_processes = 2;
shutdown_timeout = 2;
ready_timeout = "3s";
handler_threads = 2;
modules = (
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; },
  { name = "src"; path = "%%OBJS%%/t/core_source.so"; count = 0; interval = "50ms"; }$extra
);
routes = ( { from = "src:job"; to = "sink"; } );
EOF
}

sub fail_at {
    my ($at, $msg) = @_;
    return conf(qq{,\n  { name = "f"; path = "$T/core_fail.so"; at = "$at"; message = "$msg"; }});
}

my $ll  = LL::Test::Server->new(conf => conf());
my $dir = $ll->dir;
ok($ll->start, 'started') or BAIL_OUT($ll->log);

sub ctl { return ll_run($bin, '-c', $ll->conf_path, '-s', @_) }

# 1. -s reload waits and says how it went
{
    my ($rc, $out) = ctl('reload');
    is($rc, 0, 'reload: exit 0') or diag $out;
    is($out, "reload ok, generation 2\n", 'reload: "reload ok, generation 2"');
    like($ll->log, qr/ master: generation 2 ready/, 'reload: the log agrees');

    my @cases = (
        [ 'a typo', sub { ll_write($ll->conf_path, ll_slurp($ll->conf_path) =~ s/handler_threads = 2;/handler_threads = ;/r) },
          qr/^looklook: reload failed: \S*looklook\.conf:\d+: syntax error/ ],
        [ 'init fails', sub { $ll->conf(fail_at('init', 'db is down')) },
          qr/^looklook: reload failed: \S*looklook\.conf:\d+: module "f": db is down$/m ],
        [ 'start fails', sub { $ll->conf(fail_at('start', 'port in use')) },
          qr/^looklook: reload failed: .*port in use$/m ],
        [ 'a wrong ABI', sub { $ll->conf(conf(qq{,\n  { name = "b"; path = "$T/core_bad_abi.so"; }})) },
          qr/^looklook: reload failed: .*module "b": .*ABI/m ],
        [ 'start hangs', sub { $ll->conf(fail_at('hang', 'x')) },
          qr/^looklook: reload failed: workers were not ready within ready_timeout$/m ],
        [ 'a password in the reason', sub { $ll->conf(fail_at('init', 'cannot reach redis://:S3CRET@127.0.0.1:1/0')) },
          qr{^looklook: reload failed: .*cannot reach redis://:\*\*\*\@127\.0\.0\.1:1/0$}m ],
    );
    for my $c (@cases) {
        my ($name, $setup, $want) = @$c;
        $setup->();
        ($rc, $out) = ctl('reload');
        is($rc, 1, "reload, $name: exit 1");
        like($out, $want, "reload, $name: the reason") or diag $out;
    }
    unlike($ll->log . $out, qr/S3CRET/, 'no password in the log or the output');
    like($ll->log, qr{reload failed, generation 2 keeps running: .*redis://:\*\*\*\@127}, 'the log line masks it');

    ($rc, $out) = ctl('status', '--json');
    unlike($out, qr/S3CRET/, 'status --json: no password in the reloads');

    $ll->conf(conf());
    my $from = $ll->log_size;
    ($rc, $out) = ctl('reload', '--no-wait');
    is($rc, 0, 'reload --no-wait: exit 0');
    is($out, '', 'reload --no-wait: prints nothing');
    my ($gen) = ($ll->wait_log(qr/ master: generation \d+ ready/, 10, from => $from)
                 || '') =~ /(\d+) ready/;
    ok($gen, 'reload --no-wait: the reload happens');
    ($rc, $out) = ctl('reload');
    is($out, sprintf("reload ok, generation %d\n", ($gen // 0) + 1),
       'reload after --no-wait: its own outcome');
}

# 2. -s stop and -s reload signal only a looklook
{
    my $pid = fork // die;
    if (!$pid) { exec('sleep', '60') or POSIX::_exit(127); }
    ll_wait_until(sub { ll_slurp("/proc/$pid/comm") eq "sleep\n" }, 5);
    my $real = ll_slurp("$dir/looklook.pid");
    ll_write("$dir/looklook.pid", "$pid\n");
    for my $s (qw(stop reload)) {
        my ($rc, $out) = ctl($s);
        is($rc, 1, "-s $s with the pid of a sleep: exit 1");
        like($out, qr/not looklook \(it runs "sleep"\)/, "-s $s: says it is not looklook") or diag $out;
    }
    ok(kill(0, $pid) && waitpid($pid, POSIX::WNOHANG()) == 0, 'the sleep was not signalled');
    kill 'KILL', $pid;
    waitpid $pid, 0;
    ll_write("$dir/looklook.pid", $real);
}

# 3. -s status after a stop, after kill -9, on a broken status file
{
    my ($rc, $out) = ctl('status');
    is($rc, 0, 'status while running: exit 0') or diag $out;
    is($ll->stop, 0, 'stopped');
    ($rc, $out) = ctl('status');
    is($rc, 3, 'status after a stop: exit 3');
    like($out, qr/^looklook: not running/, 'status after a stop: "not running"') or diag $out;
    ($rc, $out) = ctl('status', '--json');
    is($rc, 3, 'status --json after a stop: exit 3');

    my $from = $ll->log_size;
    $ll->start(nowait => 1);
    ok($ll->wait_log(qr/generation 1 ready/, 15, from => $from), 'started again')
        or diag $ll->log;
    kill 'KILL', $ll->pid;
    $ll->wait_exit(5);
    ($rc, $out) = ctl('status');
    is($rc, 3, 'status after kill -9: exit 3');
    like($out, qr/^looklook: not running \(pid \d+ is not running/, 'status after kill -9: "not running"') or diag $out;
    ll_wait_until(sub { !$ll->workers }, 10);

    ll_write("$dir/looklook.status", '');
    ($rc, $out) = ctl('status');
    cmp_ok($rc, '>', 0, 'an empty status file: exit non-zero');
    cmp_ok($rc, '<', 128, 'an empty status file: no signal (SIGBUS)');
    like($out, qr/^looklook: status file \S+ is empty/, 'an empty status file: says so') or diag $out;

    ll_write("$dir/looklook.status", "garbage\n" x 10);
    ($rc, $out) = ctl('status');
    is($rc, 3, 'a short garbage status file: exit 3');
    like($out, qr/is too short \(80 bytes\)/, 'a short garbage status file: says so') or diag $out;
    ll_write("$dir/looklook.status", "garbage\n" x 1_000_000);
    ($rc, $out) = ctl('status', '--json');
    is($rc, 3, 'a long garbage status file: exit 3');
    like($out, qr/is not a looklook \S+ status file/, 'a long garbage status file: says so') or diag $out;
    unlike($out, qr/Success/, 'never "...: Success"');
}

# 4. umask 000: still no group- or world-writable file
{
    my $old = umask 0;
    my $u = LL::Test::Server->new(conf => conf());
    ok($u->start, 'started under umask 000') or diag $u->log;
    umask $old;
    for my $f (qw(looklook.pid looklook.status error.log)) {
        my $mode = (stat $u->dir . "/$f")[2] // 0;
        is(sprintf('%o', $mode & 0022), '0', sprintf('%s is %o: not group/world-writable', $f, $mode & 07777));
    }
    $u->stop;
}

done_testing();
