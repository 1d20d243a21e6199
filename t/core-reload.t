#!/usr/bin/perl
# Reload (HUP), all or nothing: a rebuilt .so runs its new code in the new
# generation, which is ready before the old one stops; a broken config, a
# module whose init or start fails, or a worker that does not come up
# leaves the old generation serving; -s reload goes through the pid file.

use strict;
use warnings;
use Test::More;
use FindBin;
use Cwd qw(abs_path);
use Time::HiRes qw(sleep);
use LL::Test;

my $root = abs_path("$FindBin::Bin/..");
my $T    = ll_objs() . '/t';

my $ll  = LL::Test::Server->new;
my $dir = $ll->dir;

# Build core_sink with CODE into $dir/sink.so: compile elsewhere, then
# rename over it, as `make install` does (never overwrite a mapped file).
sub install_sink {
    my ($code) = @_;
    mkdir "$dir/build";
    my @cc = ($ENV{CC} // 'cc', '-std=gnu11', '-O2', '-fPIC', '-shared',
              '-Wl,-z,now', '-fvisibility=hidden', '-pthread', "-I$root/include",
              qq{-DCORE_SINK_CODE="$code"}, '-o', "$dir/build/sink.so",
              "$root/t/modules/core_sink.c");
    my ($rc, $out) = ll_run(@cc);
    die "cc: $out" if $rc;
    rename "$dir/build/sink.so", "$dir/sink.so" or die "rename: $!";
}

sub conf {
    my ($tag, $extra) = @_;
    $extra //= '';
    return <<"EOF";
worker_processes = 1;
shutdown_timeout = 2;
handler_threads = 2;
modules = (
  { name = "sink"; path = "%%DIR%%/sink.so"; file = "%%DIR%%/out.txt"; tag = "$tag"; },
  { name = "src"; path = "%%OBJS%%/t/core_source.so"; count = 0; interval = "20ms"; }$extra
);
routes = ( { from = "src:job"; to = "sink"; } );
EOF
}

sub out_lines { return split /\n/, ll_slurp("$dir/out.txt") }

# Lines written after the first $skip lines, matching $re.
sub new_lines {
    my ($skip, $re) = @_;
    my @l = out_lines();
    return grep { /$re/ } @l[$skip .. $#l];
}

install_sink('v1');
$ll->conf(conf('a'));
ok($ll->start, 'generation 1 ready') or do { diag($ll->log); done_testing(); exit; };
ok(ll_wait_until(sub { grep { /^v1 a pid=\d+ gen=1 / } out_lines() }, 10),
   'generation 1 runs the v1 code');
my ($old) = $ll->workers;

# 1. a rebuilt .so (and a changed setting) after HUP
{
    install_sink('v2');
    $ll->conf(conf('b', qq{,\n  { name = "m"; path = "$T/core_schema.so"; label = "m"; }}));
    my $from = $ll->log_size;
    $ll->signal('HUP');
    ok($ll->wait_log(qr/ master: generation 2 ready \(1 workers?\)/, 15, from => $from),
       'HUP: generation 2 ready') or diag substr($ll->log, $from);
    like(substr($ll->log, $from), qr/ m: label=m .* mode=reload-check\n(?:.*\n)*.* m: label=m .* mode=worker$/m,
         'init knows the reload check from the new worker (ll_mode)');
    ok(ll_wait_until(sub { grep { /^v2 b pid=\d+ gen=2 / } out_lines() }, 10),
       'generation 2 runs the new code with the new setting');
    ok(ll_wait_until(sub { !kill 0, $old }, 10), 'the old worker exits');
    my $log = substr($ll->log, $from);
    my $ready = index($log, 'generation 2 ready');
    my $stopped = index($log, 'sink: stopped, code v1');
    ok($stopped > $ready && $ready >= 0,
       'the new generation is ready before the old one stops') or diag $log;
    my $n = out_lines();
    sleep 0.5;
    is(scalar(new_lines($n, qr/^v1 /)), 0, 'no v1 line once the old worker is gone');
    ok(scalar(new_lines($n, qr/^v2 b .* gen=2 /)), 'v2 keeps serving');
    ($old) = $ll->workers;
}

# The old generation (2) must keep serving, untouched, after a failed HUP.
sub failed_reload {
    my ($name, $conf, $why) = @_;
    my $from = $ll->log_size;
    ll_write($ll->conf_path, $conf) if defined $conf;
    $ll->signal('HUP');
    my $line = $ll->wait_log(qr/ master: reload failed, generation 2 keeps running: .*/, 20,
                             from => $from);
    ok($line, "$name: reload failed, generation 2 keeps running")
        or diag substr($ll->log, $from);
    like($line, $why, "$name: the reason");
    ok(ll_wait_until(sub { my @w = $ll->workers; @w == 1 && $w[0] == $old }, 10),
       "$name: only the old worker is left") or diag join ' ', $ll->workers;
    my $n = out_lines();
    ok(ll_wait_until(sub { scalar new_lines($n, qr/^v2 b pid=$old gen=2 /) }, 5),
       "$name: the old worker keeps handling");
    unlike(substr($ll->log, $from), qr/generation 3 ready/, "$name: no generation 3");
    $ll->conf(conf('b'));
}

my $good = LL::Test::ll_slurp($ll->conf_path);

# 2. a broken config
(my $broken = $good) =~ s/handler_threads = 2;/handler_threads = ;/;
failed_reload('broken config', $broken,
              qr/keeps running: \S*looklook\.conf:\d+: .*syntax error/);

# 3. a module whose init fails
$ll->conf(conf('b', qq{,\n  { name = "f"; path = "$T/core_fail.so"; at = "init"; message = "db is down"; }}));
failed_reload('init fails', undef, qr/keeps running: .*module "f": db is down/);

# 4. a module whose start fails
$ll->conf(conf('b', qq{,\n  { name = "f"; path = "$T/core_fail.so"; at = "start"; message = "port in use"; }}));
failed_reload('start fails', undef, qr/keeps running: .*port in use/);

# 5. a new worker that crashes at start never reports ready
$ll->conf(conf('b', qq{,\n  { name = "f"; path = "$T/core_fail.so"; at = "crash"; }}));
failed_reload('worker crashes at start', undef, qr/keeps running: .+/);

# 6. a missing module file
$ll->conf(conf('b', qq{,\n  { name = "f"; path = "$dir/absent.so"; }}));
failed_reload('missing module', undef, qr/keeps running: .*module "f": cannot load/);

# 7. -s reload via the pid file, after all those failures
{
    $ll->conf(conf('c'));
    my $from = $ll->log_size;
    my ($rc, $out) = ll_run(ll_bin(), '-c', $ll->conf_path, '-s', 'reload');
    is($rc, 0, '-s reload: exit 0') or diag $out;
    my $g = $ll->wait_log(qr/ master: generation (\d+) ready/, 15, from => $from);
    ok($g, '-s reload: a new generation is ready') or diag substr($ll->log, $from);
    my ($gen) = $g =~ /generation (\d+)/;
    $gen //= 0;
    cmp_ok($gen, '>', 2, '-s reload: its number is above 2');
    ok(ll_wait_until(sub { grep { /^v2 c pid=\d+ gen=$gen / } out_lines() }, 10),
       '-s reload: the new generation serves with the new setting');
}

# the reload checks ran in children: the master itself never loaded a module
{
    my $maps = ll_slurp('/proc/' . $ll->pid . '/maps');
    my @mods = grep { m{\s/\S+\.so\b} && !m{\s/(usr/)?lib} } split /\n/, $maps;
    is(scalar @mods, 0, 'after all those reloads the master maps no module')
        or diag join "\n", @mods;
}

is($ll->stop, 0, 'QUIT: exit 0');

done_testing();
