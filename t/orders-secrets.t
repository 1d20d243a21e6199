#!/usr/bin/perl
# The order store keeps its secrets: no database password in any error of
# `looklook -t`, the worker's log or looklook-cli (it is shown as ***), and
# SQLite files are created 0640 whatever the umask.
use strict;
use warnings;
use Test::More;
use LL::Test;

my $cli    = ll_bin('looklook-cli');
my $closed = ll_free_port();
my $dir    = ll_dir();

my @bad = ("mysql://u:SECRET\@127.0.0.1:99999/x",           # bad port
           "mysql://u:SECRET\@127.0.0.1",                   # no database
           "mariadb://u:SE%40CRET\@h:1/x?foo=1",            # bad option
           "mysql://u:SECRET\@127.0.0.1:$closed/x");        # unreachable
for my $url (@bad) {
    my $ll = LL::Test::Server->new(dir => $dir, conf => <<"EOF");
modules = ( { name = "orders"; path = "%%OBJS%%/orders.so"; db = "$url"; } );
EOF
    my ($rc, $out) = ll_run(ll_bin(), '-t', '-c', $ll->conf_path);
    my $all = $out . $ll->log;
    unlike($all, qr/SECRET|SE%40/, "looklook -t, $url: no password");
    ($rc, $out) = ll_run($cli, 'order', 'show', '--db', $url, 'HSO1');
    isnt($rc, 0, "cli order show, $url: fails");
    unlike($out, qr/SECRET|SE%40/, "cli order show, $url: no password")
        or diag $out;
    like($out, qr/u:\*\*\*@/, "cli order show, $url: the password is ***")
        or diag $out;
}

# SQLite files: 0640 even under umask 000
umask 0;
my ($rc, $out) = ll_run($cli, 'order', 'create', '--db', "sqlite:$dir/cli.db",
                        '--no-close');
is($rc, 0, 'cli created an order') or diag $out;
is(sprintf('%04o', (stat "$dir/cli.db")[2] & 07777), '0640',
   'the file looklook-cli created is 0640');
my $ll = LL::Test::Server->new(dir => $dir, conf => <<"EOF");
worker_processes = 1;
modules = ( { name = "orders"; path = "%%OBJS%%/orders.so";
              db = "sqlite:$dir/data/srv.db"; } );
EOF
ok($ll->start, 'looklook up') or diag $ll->log;
ok(ll_wait_until(sub { -e "$dir/data/srv.db" }, 10), 'database created');
is(sprintf('%04o', (stat "$dir/data/srv.db")[2] & 07777), '0640',
   'the file the orders module created is 0640');
ok(!((stat "$dir/data")[2] & 022), 'its folder is not group- or world-writable');
is($ll->stop, 0, 'graceful stop');
umask 022;
done_testing;
