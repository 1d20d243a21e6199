#!/usr/bin/perl
# Running under systemd: the master's sd_notify messages (READY=1 once the
# first generation is ready, RELOADING=1 then READY=1 around a reload that
# works and one that fails, STOPPING=1), seen on a NOTIFY_SOCKET this test
# listens on; the installed unit passes `systemd-analyze verify` and says
# what the deployment needs; the installed logrotate file rotates a running
# server's log and makes it reopen it.

use strict;
use warnings;
use Test::More;
use FindBin;
use Cwd qw(abs_path);
use IO::Select;
use IO::Socket::UNIX;
use Socket qw(SOCK_DGRAM);
use LL::Test;

my $root = abs_path("$FindBin::Bin/..");
my $objs = ll_objs();
delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL)};     # sub-makes of our own

my $conf = <<'EOF';
worker_processes = 1;
shutdown_timeout = 2;
modules = (
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; },
  { name = "src"; path = "%%OBJS%%/t/core_source.so"; count = 0; interval = "20ms"; }
);
routes = ( { from = "src:job"; to = "sink"; } );
EOF

SKIP: {
    skip 'built without libsystemd (configure found no libsystemd-dev): no sd_notify', 9
        unless ll_slurp("$objs/ll_auto_config.h") =~ /LL_HAVE_SYSTEMD\s+1/;

    my $ll = LL::Test::Server->new(conf => $conf);
    my $sock_path = $ll->dir . '/notify.sock';
    my $sock = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $sock_path)
        or die "notify socket: $!";
    my $sel = IO::Select->new($sock);
    # the next notification, or '' after $t seconds
    my $next = sub {
        my ($t) = @_;
        return '' unless $sel->can_read($t // 10);
        my $m;
        $sock->recv($m, 4096);
        return $m;
    };
    local $ENV{NOTIFY_SOCKET} = $sock_path;

    ok($ll->start(nowait => 1), 'started with NOTIFY_SOCKET');
    my $m = $next->(15);
    is($m, "READY=1\nSTATUS=generation 1 ready (1 workers)", 'READY=1 with a status');
    like($ll->log, qr/ master: generation 1 ready/, '... once generation 1 is ready');

    $ll->signal('HUP');
    like($next->(), qr/\ARELOADING=1\nMONOTONIC_USEC=\d+\z/, 'HUP: RELOADING=1');
    is($next->(15), "READY=1\nSTATUS=generation 2 ready (1 workers)",
       'HUP: READY=1 once generation 2 is ready');

    (my $bad = $conf) =~ s/count = 0;/count = "many";/;
    $ll->conf($bad);
    $ll->signal('HUP');
    like($next->(), qr/\ARELOADING=1\n/, 'a broken reload: RELOADING=1');
    is($next->(15), "READY=1\nSTATUS=reload failed, generation 2 keeps running",
       'a broken reload: READY=1, generation 2 keeps running');

    $ll->signal('QUIT');
    is($next->(), 'STOPPING=1', 'QUIT: STOPPING=1');
    is($ll->wait_exit(15), 0, 'QUIT: exit 0');
}

# the unit, from a make install
my $p = ll_dir() . '/x';
my ($rc, $out) = ll_run('make', '-s', '-C', $root, '-f', "$objs/Makefile", 'install',
                        "PREFIX=$p");
is($rc, 0, 'make install PREFIX=tmp') or diag $out;
my $unit = "$p/lib/systemd/system/looklook.service";
{
    # verify also runs man on the Documentation= pages: the installed ones
    local $ENV{MANPATH} = "$p/share/man";
    ($rc, $out) = ll_run('systemd-analyze', 'verify', $unit);
    is($rc, 0, 'systemd-analyze verify: exit 0');
    is($out, '', 'systemd-analyze verify: nothing to say') or diag $out;
}
my $u = ll_slurp($unit);
my %u = map { /^(\w+)=(.*)$/ ? ($1, $2) : () } split /\n/, $u;
is($u{Type}, 'notify', 'Type=notify');
is($u{ExecStart}, "$p/sbin/looklook -c $p/etc/looklook/looklook.conf",
   'ExecStart: the master in the foreground, the installed config');
is($u{ExecReload}, "$p/sbin/looklook -c $p/etc/looklook/looklook.conf -s reload",
   'ExecReload: looklook -s reload');
is($u{KillSignal}, 'SIGQUIT', 'stop: QUIT, the graceful stop');
is($u{KillMode}, 'mixed', 'stop: only the master gets it');
my ($shutdown) = ll_slurp("$p/etc/looklook/looklook.conf") =~ /^shutdown_timeout\s*=\s*(\d+);/m;
my ($stop) = ($u{TimeoutStopSec} // '') =~ /^(\d+)s$/;
cmp_ok($stop // 0, '>', $shutdown + 10,
       'TimeoutStopSec covers shutdown_timeout and the 10 s before SIGKILL');
is($u{User}, 'looklook', 'a dedicated user');
like(ll_slurp("$p/lib/sysusers.d/looklook.conf"), qr/^u looklook - "[^"]+" \Q$p\E\/var\/lib\/looklook$/m,
     'sysusers.d creates it');
is($u{ProtectSystem}, 'strict', 'ProtectSystem=strict');
is_deeply([sort split ' ', $u{ReadWritePaths} // ''],
          [sort map { "$p/var/$_/looklook" } qw(log lib run)],
          'ReadWritePaths: the log, state and run folders');
is($u{$_}, 'yes', "$_=yes") for qw(NoNewPrivileges PrivateTmp ProtectHome PrivateDevices);
my $tmpfiles = ll_slurp("$p/lib/tmpfiles.d/looklook.conf");
like($tmpfiles, qr/^d \Q$p\E\/var\/$_\/looklook\s+07[0-7][0-7] looklook /m,
     "tmpfiles.d makes var/$_/looklook the user's") for qw(log lib run);

# the logrotate file rotates a running server's log; its postrotate
# (looklook -s reopen) makes master and workers write to the new file.  Run
# as ourselves on our folder: only the owner and the paths are changed.
{
    my $ll = LL::Test::Server->new(conf => $conf);
    ok($ll->start, 'logrotate: a server') or diag $ll->log;
    my $dir = $ll->dir;
    my $user = getpwuid($<);
    my $group = getgrgid($();
    my $lr = ll_slurp("$p/etc/logrotate.d/looklook");
    like($lr, qr{^\Q$p\E/var/log/looklook/\*\.log \{$}m, 'logrotate: the log folder');
    like($lr, qr{^\s+\Q$p\E/sbin/looklook -c \Q$p\E/etc/looklook/looklook\.conf -s reopen\b}m,
         'logrotate: postrotate is looklook -s reopen');
    $lr =~ s{^\Q$p\E/var/log/looklook/}{$dir/}m;
    $lr =~ s{ -c \S+ -s reopen}{ -c ${\ $ll->conf_path } -s reopen};
    $lr =~ s/looklook looklook/$user $group/g;
    $lr =~ s{\Q$p\E/sbin/looklook}{$objs/looklook};
    ll_write("$dir/logrotate.conf", $lr);
    ok($ll->wait_log(qr/ sink: finished /, 5), 'logrotate: the worker logs');
    ($rc, $out) = ll_run('logrotate', '-f', '-s', "$dir/logrotate.state", "$dir/logrotate.conf");
    is($rc, 0, 'logrotate -f: exit 0') or diag $out;
    ok(-s "$dir/error.log.1", 'the old log is error.log.1');
    ok(ll_wait_until(sub { ll_slurp("$dir/error.log") =~ / sink: finished / }, 5),
       'the worker writes to the new error.log');
    is($ll->stop, 0, 'logrotate: QUIT exits 0');
    like(ll_slurp("$dir/error.log"), qr/ master: /, 'the master writes to the new error.log');
}

done_testing();
