# The core's unit tests (t/unit/*.c, built as BUILD/t/unit_*): each prints
# TAP of its own; this runs them and reports each as one test.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use LL::Test;

my @bins = grep { -x $_ && !/\.d$/ } glob(ll_objs() . '/t/unit_*');
plan skip_all => 'unit tests not built (make test-build)' unless @bins;
for my $bin (@bins) {
    my ($rc, $out) = ll_run($bin);
    my ($name) = $bin =~ m{unit_(\w+)$};
    is($rc, 0, "unit $name") or diag $out;
    like($out, qr/^1\.\.\d+$/m, "unit $name ran to the end");
}
done_testing();
