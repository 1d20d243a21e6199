#!/usr/bin/perl
# The manual pages (man/*.in, with the install paths written in) format
# without a single groff or man warning and have a NAME line lexgrog reads
# (what mandb indexes, so `man -k` and `whatis` find them); the bash
# completion completes the signals, the commands and their subcommands.

use strict;
use warnings;
use Test::More;
use FindBin;
use Cwd qw(abs_path);
use LL::Test;

my $root = abs_path("$FindBin::Bin/..");
my $objs = ll_objs();
delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL)};     # sub-makes of our own

my $p = ll_dir() . '/x';
my ($rc, $out) = ll_run('make', '-s', '-C', $root, '-f', "$objs/Makefile", 'install',
                        "PREFIX=$p");
is($rc, 0, 'make install PREFIX=tmp') or diag $out;

my %pages = ('man8/looklook.8' => 'looklook', 'man5/looklook.conf.5' => 'looklook.conf',
             'man1/looklook-cli.1' => 'looklook-cli',
             'man7/looklook-module.7' => 'looklook-module');
for my $page (sort keys %pages) {
    my $f = "$p/share/man/$page";
    ok(-f $f, "$page installed") or next;
    # stdout (the text) is thrown away; stderr is every warning
    ($rc, $out) = ll_run('sh', '-c', 'MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings '
                         . "-E UTF-8 -l '$f' 2>&1 >/dev/null");
    is($rc, 0, "$page: man exits 0");
    is($out, '', "$page: no warnings") or diag $out;
    ($rc, $out) = ll_run('lexgrog', $f);
    is($rc, 0, "$page: lexgrog parses it");
    like($out, qr/: "\Q$pages{$page}\E - \S.*"$/, "$page: its NAME line");
    ($rc, $out) = ll_run('sh', '-c', "MANWIDTH=80 man -l '$f' 2>/dev/null");
    unlike($out, qr/\@[A-Z]+\@/, "$page: no placeholder left");
}
like(ll_slurp("$p/share/man/man8/looklook.8"), qr/\Q$p\E\/etc\/looklook\/looklook\.conf/,
     'looklook(8) names the installed config');

# every option the pages and the completion offer, the program takes
($rc, $out) = ll_run(ll_bin('looklook'), '--help');
my $help = $out;
for my $o (qw(-c -p -t -s -m -V -h --help --version)) {
    like($help, qr/(?:^|\s)\Q$o\E\b/m, "looklook --help lists $o");
}

# bash completion: what COMPREPLY holds for a command line ending in $cur
my $bc = '/usr/share/bash-completion/bash_completion';
sub complete {
    my ($prog, $func, @words) = @_;
    my $line = join ' ', @words;
    my $script = <<"EOS";
source $bc
source $p/share/bash-completion/completions/$prog
COMP_WORDS=($line)
[ "\${COMP_LINE: -1}" = ' ' ] && COMP_WORDS+=('')
COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1))
COMP_POINT=\${#COMP_LINE}
$func
printf '%s\\n' "\${COMPREPLY[\@]}" | sort
EOS
    local $ENV{COMP_LINE} = $line;
    my ($r, $o) = ll_run('bash', '-c', "COMP_LINE=\"\$COMP_LINE\"\n$script");
    return join ' ', grep { length } split /\n/, $o;
}
SKIP: {
    skip "no $bc (Debian: apt-get install bash-completion)", 7 unless -f $bc;
    is(complete('looklook', '_looklook', 'looklook', '-s', 'r'), 'reload reopen',
       'looklook -s r<TAB>');
    is(complete('looklook', '_looklook', 'looklook', '--v'), '--version',
       'looklook --v<TAB>');
    is(complete('looklook-cli', '_looklook_cli', 'looklook-cli', 'q'), 'queue',
       'looklook-cli q<TAB>');
    is(complete('looklook-cli', '_looklook_cli', 'looklook-cli', '-c', 'x.conf', 'ta'), 'task',
       'looklook-cli -c FILE ta<TAB>');
    is(complete('looklook-cli', '_looklook_cli', 'looklook-cli', 'queue', ''),
       'check inspect ls pause unpause', 'looklook-cli queue <TAB>');
    is(complete('looklook-cli', '_looklook_cli', 'looklook-cli', 'task', 'ls', '--state', 'ar'),
       'archived', 'looklook-cli task ls --state ar<TAB>');
    is(complete('looklook-cli', '_looklook_cli', 'looklook-cli', 'cron', ''),
       'history ls run', 'looklook-cli cron <TAB>');
}

done_testing();
