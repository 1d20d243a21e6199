#!/usr/bin/perl
# looklook -t checks that the master can write its files, as nginx -t
# does: the folders of pid_file and status_file exist and are writable,
# error_log (or its folder) too; a start fails the same way, on stderr,
# with the resolved path.

use strict;
use warnings;
use Test::More;
use LL::Test;

my $dir = ll_dir();
my $T   = ll_objs() . '/t';

sub check {
    my ($name, $settings, $want) = @_;
    ll_write("$dir/looklook.conf", <<"EOF");
# line 1
$settings
modules = ( { name = "sink"; path = "$T/core_sink.so"; file = "$dir/out.txt"; } );
EOF
    my ($rc, $out) = ll_run(ll_bin(), '-t', '-c', "$dir/looklook.conf");
    is($rc, 1, "-t, $name: exit 1");
    like($out, $want, "-t, $name: says which file and why") or diag $out;
    unlike($out, qr/test is successful/, "-t, $name: not successful");
    return $out;
}

check('no run/ folder', qq{pid_file = "run/looklook.pid";},
      qr{^\Q$dir\E/looklook\.conf:2: pid_file "\Q$dir\E/run/looklook\.pid": folder \Q$dir\E/run does not exist$}m);
check('no logs/ folder', qq{pid_file = "x.pid";\nerror_log = "logs/error.log";},
      qr{^\Q$dir\E/looklook\.conf:3: error_log "\Q$dir\E/logs/error\.log": folder \Q$dir\E/logs does not exist$}m);
check('status_file in a missing folder', qq{pid_file = "x.pid";\nstatus_file = "/nonexistent/s";},
      qr{^\Q$dir\E/looklook\.conf:3: status_file "/nonexistent/s": folder /nonexistent does not exist$}m);
check('error_log is a folder', qq{pid_file = "x.pid";\nerror_log = "/tmp";},
      qr{error_log "/tmp" is a folder$}m);
SKIP: {
    skip 'root writes anywhere', 2 if $> == 0;
    mkdir "$dir/ro", 0555;
    check('a read-only folder', qq{pid_file = "ro/x.pid";},
          qr{pid_file "\Q$dir\E/ro/x\.pid": folder \Q$dir\E/ro is not writable});
}

# all in place: ok
{
    mkdir "$dir/run";
    mkdir "$dir/logs";
    ll_write("$dir/looklook.conf", <<"EOF");
pid_file = "run/looklook.pid";
error_log = "logs/error.log";
modules = ( { name = "sink"; path = "$T/core_sink.so"; file = "$dir/out.txt"; } );
EOF
    my ($rc, $out) = ll_run(ll_bin(), '-t', '-c', "$dir/looklook.conf");
    is($rc, 0, '-t with the folders in place: exit 0') or diag $out;
    rmdir "$dir/logs";
}

# a start without logs/: the reason on stderr, with the resolved path
{
    my ($rc, $out) = ll_run(ll_bin(), '-c', "$dir/looklook.conf");
    is($rc, 1, 'start without logs/: exit 1');
    like($out, qr{^looklook: \Q$dir\E/looklook\.conf:2: error_log "\Q$dir\E/logs/error\.log": folder \Q$dir\E/logs does not exist$}m,
         'start without logs/: stderr says why, with the resolved path') or diag $out;
    ok(!-e "$dir/run/looklook.pid", 'start without logs/: no pid file left');
}

done_testing();
