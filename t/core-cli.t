#!/usr/bin/perl
# The command line: -V, -h, bad options, -m (a module's description and
# schema, or why it cannot be loaded), -s without a running master.

use strict;
use warnings;
use Test::More;
use LL::Test;

my $dir = ll_dir();
my $T   = ll_objs() . '/t';
my $bin = ll_bin();

# -V
{
    my ($rc, $out) = ll_run($bin, '-V');
    is($rc, 0, '-V: exit 0');
    like($out, qr/^looklook version \d+\.\d+\.\d+/m, '-V: version');
    like($out, qr/^module ABI 2\.\d+$/m, '-V: module ABI');
    like($out, qr/^configure arguments:/m, '-V: configure arguments');
}

# -h
{
    my ($rc, $out) = ll_run($bin, '-h');
    is($rc, 0, '-h: exit 0');
    like($out, qr/usage/i, '-h: usage');
    like($out, qr/-$_\b/, "-h: mentions -$_") for qw(c t m s V);
    like($out, qr/reload/, '-h: lists the -s signals');
}

# a bad command line: one line saying what is wrong, exit 1
for my $args (['-Z'], ['-c'], ['-s'], ['-s', 'dance'], ['-m'], ['stray']) {
    my ($rc, $out) = ll_run($bin, @$args);
    is($rc, 1, "@$args: exit 1");
    my ($first) = split /\n/, $out;
    like($first // '', qr/^looklook: .+/, "@$args: an error line first")
        or diag $out;
    unlike($out, qr/generation \d+ ready/, "@$args: nothing started");
}

# -m on good modules: name, version, kind, ABI, description, schema
{
    my ($rc, $out) = ll_run($bin, '-m', "$T/core_schema.so");
    is($rc, 0, '-m core_schema: exit 0') or diag $out;
    like($out, qr/\bcore_schema\b/, '-m: name');
    like($out, qr/\b2\.3\.4\b/, '-m: version');
    like($out, qr/\bother\b/i, '-m: kind');
    like($out, qr/^abi:\s+2\.\d+$/m, '-m: ABI');
    like($out, qr/test module with a setting of every type/, '-m: description');

    my %line;
    for my $s (qw(label limit enabled timeout ratio items)) {
        my @l = grep { /^\s*\Q$s\E\b/ } split /\n/, $out;
        is(scalar @l, 1, "-m: one line for setting $s") or diag $out;
        $line{$s} = $l[0] // '';
    }
    like($line{label},   qr/\bstr(ing)?\b/i, '-m: label is a string');
    like($line{label},   qr/\brequired\b/i, '-m: label is required');
    like($line{label},   qr/a required string/, '-m: label help');
    like($line{limit},   qr/\bint(eger)?\b/i, '-m: limit is an int');
    like($line{limit},   qr/\b10\b/, '-m: limit default');
    unlike($line{limit}, qr/\brequired\b/i, '-m: limit is optional');
    like($line{limit},   qr/an integer/, '-m: limit help');
    like($line{enabled}, qr/\bbool(ean)?\b/i, '-m: enabled is a bool');
    like($line{enabled}, qr/\btrue\b/, '-m: enabled default');
    like($line{timeout}, qr/\bduration\b/i, '-m: timeout is a duration');
    like($line{timeout}, qr/1m30s/, '-m: timeout default');
    like($line{ratio},   qr/\b(double|float|number)\b/i, '-m: ratio is a double');
    like($line{ratio},   qr/0\.5/, '-m: ratio default');
    like($line{items},   qr/a list of strings/, '-m: items help');

    ($rc, $out) = ll_run($bin, '-m', "$T/core_source.so");
    is($rc, 0, '-m core_source: exit 0');
    like($out, qr/\bmq\b/i, '-m: kind mq');
    ($rc, $out) = ll_run($bin, '-m', "$T/core_sink.so");
    is($rc, 0, '-m core_sink: exit 0');
    like($out, qr/\bbusiness\b/i, '-m: kind business');
    like((grep { /^\s*file\b/ } split /\n/, $out)[0] // '', qr/\brequired\b/i,
         '-m: core_sink file is required');
}

# -m refusals: "looklook: cannot load FILE: REASON", exit 1
ll_write("$dir/text.so", "this is not an ELF file\n");
my @refused = (
    [ "$T/core_bad_abi.so",    qr/module ABI 3\.0 but this core is 2\.\d+: the module needs a newer looklook$/ ],
    [ "$T/core_abi1.so",       qr/module ABI 1\.0 but this core is 2\.\d+: rebuild the module against this looklook's headers$/ ],
    [ "$T/core_bad_width.so",  qr/setting "limit" \(integer\) fills 8 bytes but its member has 4 \(declare settings with the LL_SET_\* macros\)$/ ],
    [ "$T/core_bad_magic.so",  qr/not a looklook module \(bad magic\)$/ ],
    [ "$T/core_not_module.so", qr/not a looklook module \(no "ll_module" symbol\)$/ ],
    [ "$T/core_undef.so",      qr/undefined symbol: core_undef_no_such_function/ ],
    [ "$T/core_short_desc.so", qr/malformed module descriptor \(size 16\)$/ ],
    [ "$T/core_bad_schema.so", qr/setting "limit" \(integer at offset 8\) does not fit conf_size 8$/ ],
    [ "$dir/nope.so",          qr/No such file or directory/ ],
    [ "$dir/text.so",          qr/\S/ ],
);
for my $r (@refused) {
    my ($so, $re) = @$r;
    my ($rc, $out) = ll_run($bin, '-m', $so);
    is($rc, 1, "-m $so: exit 1");
    my @l = grep { length } split /\n/, $out;
    is(scalar @l, 1, "-m $so: one line") or diag $out;
    like($l[0] // '', qr/^looklook: cannot load \Q$so\E: /, "-m $so: cannot load FILE:");
    (my $why = $l[0] // '') =~ s/^looklook: cannot load \Q$so\E: //;
    like($why, $re, "-m $so: the reason") or diag $out;
}

# -m NAME.so: a bare name is looked for in the config's module_dir (a
# relative one from the config's folder), as module paths in it are
{
    mkdir "$dir/mods";
    ll_write("$dir/mods/copy.so", ll_slurp("$T/core_schema.so"));
    ll_write("$dir/m.conf", qq{module_dir = "mods";\npid_file = "$dir/m.pid";\n});
    my ($rc, $out) = ll_run($bin, '-c', "$dir/m.conf", '-m', 'copy.so');
    is($rc, 0, '-m NAME.so: found in module_dir') or diag $out;
    like($out, qr/^name:\s+core_schema$/m, '-m NAME.so: the module in module_dir');
    ($rc, $out) = ll_run($bin, '-c', "$dir/m.conf", '-m', 'nope.so');
    is($rc, 1, '-m NAME.so: not in module_dir: exit 1');
    like($out, qr/cannot load \Q$dir\E\/mods\/nope\.so: /, '-m NAME.so: names the path tried');
}

# -m lists an mq module's message options
{
    my ($rc, $out) = ll_run($bin, '-m', "$T/orders_feed.so");
    is($rc, 0, '-m orders_feed: exit 0');
    like($out, qr/^message options:$/m, '-m: message options listed');
    like($out, qr/^\s+queue\s+string\s+taken\b/m, '-m: an option with its type and direction');
    like($out, qr/^\s+retention\s+ms\s+taken\b/m, '-m: a duration option');
}

# -s with no master running: the pid file is missing
{
    ll_write("$dir/s.conf", qq{pid_file = "$dir/none.pid";\nerror_log = "$dir/s.log";\n});
    my ($rc, $out) = ll_run($bin, '-c', "$dir/s.conf", '-s', 'reload');
    is($rc, 1, '-s reload without a master: exit 1');
    like($out, qr/none\.pid/, '-s reload without a master: names the pid file');

    ll_write("$dir/none.pid", "999999999\n");
    ($rc, $out) = ll_run($bin, '-c', "$dir/s.conf", '-s', 'quit');
    is($rc, 1, '-s quit with a stale pid: exit 1');
}

done_testing();
