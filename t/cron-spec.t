#!/usr/bin/perl
# The cron spec parser, tick search (DST gaps and overlaps in real zones,
# month ends, February 29) and TZif reader: a C unit test program of the
# build folder; it prints TAP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use LL::Test;

# built by make test-build (modules/cron/config: ll_tests)
my $bin = ll_objs() . '/t/cron_unit';
unless (-x $bin) {
    print "1..1\nnot ok 1 - $bin built (make test-build)\n";
    exit 1;
}
exec $bin or die "exec $bin: $!";
