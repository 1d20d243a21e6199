#!/usr/bin/perl
# The cron spec parser, tick search (DST gaps and overlaps in real zones,
# month ends, February 29) and TZif reader: a C unit test program built here
# with cc into the build folder; it prints TAP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use LL::Test;

my $src = "$FindBin::Bin/../modules/cron";
my $lib = "$FindBin::Bin/../lib/time";
my $bin = ll_objs() . '/cron_unit';
my ($rc, $out) = ll_run('cc', '-std=gnu11', '-O1', '-g', '-Wall', '-Wextra',
    '-Werror', "-I$src", "-I$lib", "$src/tests/cron_unit.c",
    "$src/cron_spec.c", "$src/cron_tz.c", "$lib/lt_duration.c", '-lm',
    '-o', $bin);
if ($rc != 0) {
    print "1..1\nnot ok 1 - cron_unit builds\n";
    print "# $_\n" for split /\n/, $out;
    exit 1;
}
exec $bin or die "exec $bin: $!";
