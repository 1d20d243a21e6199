#!/usr/bin/perl
# The install layout: configure's path options reach the Makefile and the
# binary; `make install` honours PREFIX and DESTDIR, writes the paths into
# the installed config, unit, logrotate file and manual pages, creates the
# log, run and state folders, never overwrites an existing config, and the
# installed looklook passes -t on the installed config.

use strict;
use warnings;
use Test::More;
use FindBin;
use Cwd qw(abs_path);
use LL::Test;

my $root = abs_path("$FindBin::Bin/..");
my $objs = ll_objs();
delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL)};     # sub-makes of our own

# configure: the Debian layout, in a build folder of its own (not built)
my $b = ll_dir();
my ($rc, $out) = ll_run('sh', '-c', "cd '$root' && ./configure --builddir=$b/objs "
    . '--prefix=/usr --sysconfdir=/etc --localstatedir=/var --runstatedir=/run '
    . '--moduledir=/usr/lib/looklook/modules --libdir=/usr/lib/x86_64-linux-gnu '
    . '--systemdunitdir=/lib/systemd/system');
is($rc, 0, 'configure with the Debian paths') or diag $out;
like($out, qr{config:\s+/etc/looklook/looklook\.conf}, 'it says where the config goes');
my $mk = ll_slurp("$b/objs/Makefile");
my %want = (SBINDIR => '$(PREFIX)/sbin', CONFDIR => '/etc/looklook',
            LOGDIR => '/var/log/looklook', RUNDIR => '/run/looklook',
            STATEDIR => '/var/lib/looklook', MODULEDIR => '$(PREFIX)/lib/looklook/modules',
            LIBDIR => '$(PREFIX)/lib/x86_64-linux-gnu', UNITDIR => '/lib/systemd/system',
            MANDIR => '$(PREFIX)/share/man');
for my $v (sort keys %want) {
    my ($got) = $mk =~ /^\Q$v\E\s*=\s*(.*)$/m;
    is($got, $want{$v}, "Makefile: $v");
}
my $h = ll_slurp("$b/objs/ll_auto_config.h");
like($h, qr{LL_CONF_PATH\s+"/etc/looklook/looklook\.conf"}, 'compiled-in config path');
like($h, qr{LL_MODULE_DIR\s+"/usr/lib/looklook/modules"}, 'compiled-in module_dir');
($rc, $out) = ll_run('sh', '-c', "cd '$root' && ./configure --builddir=$b/objs --bogus");
isnt($rc, 0, 'configure: an unknown option is an error');

# make install into a DESTDIR, prefix /opt/x
my $dest = ll_dir();
($rc, $out) = ll_run('make', '-s', '-C', $root, '-f', "$objs/Makefile", 'install',
                     "DESTDIR=$dest", 'PREFIX=/opt/x');
is($rc, 0, 'make install DESTDIR=... PREFIX=/opt/x') or diag $out;
my $p = "$dest/opt/x";
for my $f (qw(sbin/looklook bin/looklook-cli lib/looklook/modules/redisq.so
              lib/looklook/modules/kafka.so include/looklook/looklook.h
              lib/pkgconfig/looklook.pc share/looklook/looklook-module.mk
              etc/looklook/looklook.conf etc/logrotate.d/looklook
              lib/systemd/system/looklook.service lib/sysusers.d/looklook.conf
              lib/tmpfiles.d/looklook.conf share/man/man8/looklook.8
              share/man/man5/looklook.conf.5 share/man/man1/looklook-cli.1
              share/man/man7/looklook-module.7
              share/bash-completion/completions/looklook
              share/bash-completion/completions/looklook-cli)) {
    ok(-f "$p/$f", "installed $f");
}
ok(!-e "$p/bin/kafka-mock", 'the test broker is not installed');
ok(-d "$p/$_", "created $_") for qw(var/log/looklook var/run/looklook var/lib/looklook);
ok(!-e "$dest/usr" && !-e "$dest/etc", 'nothing outside the prefix');

my $conf = ll_slurp("$p/etc/looklook/looklook.conf");
like($conf, qr{^module_dir\s*=\s*"/opt/x/lib/looklook/modules";}m, 'config: module_dir');
like($conf, qr{^pid_file\s*=\s*"/opt/x/var/run/looklook/looklook\.pid";}m, 'config: pid_file');
like($conf, qr{^error_log\s*=\s*"/opt/x/var/log/looklook/error\.log";}m, 'config: error_log');
like($conf, qr{"sqlite:/opt/x/var/lib/looklook/orders\.db"}, 'config: the order database');
like(ll_slurp("$p/lib/systemd/system/looklook.service"),
     qr{^ExecStart=/opt/x/sbin/looklook -c /opt/x/etc/looklook/looklook\.conf$}m,
     'unit: ExecStart with the paths');
like(ll_slurp("$p/etc/logrotate.d/looklook"), qr{^/opt/x/var/log/looklook/\*\.log }m,
     'logrotate: the log folder');
like(ll_slurp("$p/share/man/man8/looklook.8"), qr{/opt/x/etc/looklook/looklook\.conf},
     'man page: the config path');
my @left = grep { ll_slurp($_) =~ /\@[A-Z]+\@/ }
           map { "$p/$_" } qw(etc/looklook/looklook.conf etc/logrotate.d/looklook
                              lib/systemd/system/looklook.service lib/pkgconfig/looklook.pc
                              lib/sysusers.d/looklook.conf lib/tmpfiles.d/looklook.conf),
           glob("$p/share/man/man*/*");
is_deeply(\@left, [], 'no @PLACEHOLDER@ left in an installed file');

# an existing config survives a second install
ll_write("$p/etc/looklook/looklook.conf", "# mine\n$conf");
($rc, $out) = ll_run('make', '-s', '-C', $root, '-f', "$objs/Makefile", 'install',
                     "DESTDIR=$dest", 'PREFIX=/opt/x');
is($rc, 0, 'make install again') or diag $out;
like(ll_slurp("$p/etc/looklook/looklook.conf"), qr/\A# mine\n/,
     'the existing config is left as it is');

# an install that runs where it lands: the installed looklook -t passes on
# the installed config
my $q = ll_dir() . '/x';
($rc, $out) = ll_run('make', '-s', '-C', $root, '-f', "$objs/Makefile", 'install',
                     "PREFIX=$q");
is($rc, 0, 'make install PREFIX=tmp') or diag $out;
($rc, $out) = ll_run("$q/sbin/looklook", '-t', '-c', "$q/etc/looklook/looklook.conf");
is($rc, 0, 'installed looklook -t on the installed config') or diag $out;
like($out, qr/test is successful/, '... test is successful');
($rc, $out) = ll_run("$q/sbin/looklook", '-m', "$q/lib/looklook/modules/redisq.so");
is($rc, 0, 'installed looklook -m on an installed module') or diag $out;

done_testing();
