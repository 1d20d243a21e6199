#!/usr/bin/perl
# --help and --version (and -h, -V) on looklook and looklook-cli: exit 0,
# print on stdout; an unknown long option is an error.

use strict;
use warnings;
use Test::More;
use LL::Test;

my $version = ll_slurp(ll_objs() . '/ll_auto_config.h') =~ /LL_VERSION\s+"([^"]+)"/
    ? $1 : die 'no LL_VERSION';

for my $prog ('looklook', 'looklook-cli') {
    for my $opt ('--help', '-h') {
        my ($rc, $out) = ll_run(ll_bin($prog), $opt);
        is($rc, 0, "$prog $opt: exit 0");
        like($out, qr/\Ausage: \Q$prog\E /, "$prog $opt: usage");
        like($out, qr/--version/, "$prog $opt: names --version");
    }
    for my $opt ('--version', '-V') {
        my ($rc, $out) = ll_run(ll_bin($prog), $opt);
        is($rc, 0, "$prog $opt: exit 0");
        like($out, qr/\A\Q$prog\E version \Q$version\E\n/, "$prog $opt: the version");
    }
}

my ($rc, $out) = ll_run(ll_bin('looklook'), '--bogus');
is($rc, 1, 'looklook --bogus: exit 1');
like($out, qr/^looklook: unknown option --bogus$/m, '... and says which');
($rc, $out) = ll_run(ll_bin('looklook'), '-V');
like($out, qr/^module ABI \d+\.\d+$/m, 'looklook -V: the module ABI');

done_testing();
