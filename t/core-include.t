#!/usr/bin/perl
# @include of a folder: a clear FILE:LINE error from looklook -t, a start,
# -s and looklook-cli -c, instead of libconfig's scanner dying with
# "input in flex scanner failed"; a file including a folder is named too.

use strict;
use warnings;
use Test::More;
use LL::Test;

my $dir = ll_dir();
mkdir "$dir/conf.d";
ll_write("$dir/conf.d/a.conf", "handler_threads = 2;\n");
ll_write("$dir/inc.conf", "# included\n\n  \@include \"conf.d\"\n");

my $want = qr/\@include "conf\.d" is a folder: include its files one by one/;
for my $case ([ 'the config', qq{pid_file = "x.pid";\n\@include "conf.d"\n}, qr/^\S*looklook\.conf:2: / ],
              [ 'an included file', qq{pid_file = "x.pid";\n\@include "inc.conf"\n}, qr{^(\S*/)?inc\.conf:3: } ]) {
    my ($name, $text, $where) = @$case;
    ll_write("$dir/looklook.conf", $text);
    for my $cmd ([ ll_bin(), '-t' ], [ ll_bin() ], [ ll_bin(), '-s', 'reload' ],
                 [ ll_bin('looklook-cli'), 'stats' ]) {
        my ($rc, $out) = ll_run(@$cmd, '-c', "$dir/looklook.conf");
        my $what = "$name, " . join(' ', map { m{/([^/]+)$} ? $1 : $_ } @$cmd);
        is($rc, 1, "$what: exit 1");
        like($out, $want, "$what: says the include is a folder") or diag $out;
        like($out =~ s/^looklook(-cli)?: (reload failed: )?//r, $where, "$what: with the file and line");
        unlike($out, qr/flex/, "$what: not libconfig's scanner error");
    }
}

# the folder's files one by one are fine
ll_write("$dir/looklook.conf", qq{pid_file = "x.pid";\n\@include "conf.d/a.conf"\n});
my ($rc, $out) = ll_run(ll_bin(), '-t', '-c', "$dir/looklook.conf");
is($rc, 0, 'a file of the folder: -t ok') or diag $out;

done_testing();
