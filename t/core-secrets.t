#!/usr/bin/perl
# No password in what looklook shows: URL errors in `looklook -t`, the log
# of a failed start and looklook-cli's errors print the password as ***
# (the reload-failure line and -s reload are in t/core-ops.t, the order
# store's own paths in t/orders-secrets.t).

use strict;
use warnings;
use Test::More;
use LL::Test;

my $objs = ll_objs();
my $dir  = ll_dir();

sub no_secret {
    my ($what, $out, $shown) = @_;
    unlike($out, qr/S3CRET/, "$what: no password") or diag $out;
    like($out, $shown, "$what: the URL shown masked") or diag $out;
}

# looklook -t: a redis URL with a bad port, a mysql URL without a database
{
    ll_write("$dir/r.conf", <<"EOF");
pid_file = "$dir/r.pid";
modules = ( { name = "redisq"; path = "$objs/redisq.so"; redis = "redis://:S3CRET\@127.0.0.1:99999/0"; } );
EOF
    my ($rc, $out) = ll_run(ll_bin(), '-t', '-c', "$dir/r.conf");
    is($rc, 1, '-t redis: exit 1');
    no_secret('-t redis', $out, qr{redis://:\*\*\*\@127\.0\.0\.1:99999/0});

    ll_write("$dir/m.conf", <<"EOF");
pid_file = "$dir/m.pid";
modules = ( { name = "orders"; path = "$objs/orders.so"; db = "mysql://app:S3CRET\@127.0.0.1:1"; } );
EOF
    ($rc, $out) = ll_run(ll_bin(), '-t', '-c', "$dir/m.conf");
    is($rc, 1, '-t mysql: exit 1');
    no_secret('-t mysql', $out, qr{mysql://app:\*\*\*\@127\.0\.0\.1:1});

    # the same config started: stderr and the log
    ll_write("$dir/r.conf", ll_slurp("$dir/r.conf") . qq{error_log = "$dir/r.log";\n});
    ($rc, $out) = ll_run(ll_bin(), '-c', "$dir/r.conf");
    is($rc, 1, 'start redis: exit 1');
    no_secret('start redis', $out . ll_slurp("$dir/r.log"), qr{redis://:\*\*\*\@});
}

# looklook-cli
{
    my $cli = ll_bin('looklook-cli');
    my ($rc, $out) = ll_run($cli, '-u', 'redis://:S3CRET@127.0.0.1:99999/0', 'stats');
    is($rc, 1, 'cli -u bad port: exit 1');
    no_secret('cli -u bad port', $out, qr{redis://:\*\*\*\@127});

    ($rc, $out) = ll_run($cli, '-u', 'redis://user:S3CRET@127.0.0.1:1/0/x', 'stats');
    isnt($rc, 0, 'cli -u bad db: exit non-zero');
    unlike($out, qr/S3CRET/, 'cli -u bad db: no password') or diag $out;

    ($rc, $out) = ll_run($cli, 'order', 'show', '1', '--db', 'mysql://app:S3CRET@127.0.0.1:1/x');
    isnt($rc, 0, 'cli order --db unreachable: exit non-zero');
    no_secret('cli order --db', $out, qr{mysql://app:\*\*\*\@127});
}

done_testing();
