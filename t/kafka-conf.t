#!/usr/bin/perl
# kafka module, configuration: the librdkafka pass-through cannot switch
# off what the no-loss commits rest on (offsets stored only below the
# first unhandled message, committed by the auto-committer); everything
# else passes, and a bad key or value fails `looklook -t`.
use strict;
use warnings;
use Test::More;
use LL::Test;

my $dir = ll_dir();
sub conf {
    my ($props) = @_;
    return <<EOF;
worker_processes = 1;
modules = (
  { name = "kafka"; path = "%%OBJS%%/kafka.so"; brokers = "127.0.0.1:9";
    group = "g"; topics = [ "t" ];
    librdkafka = ( $props ); }
);
EOF
}
sub check {
    my ($props) = @_;
    my $text = conf($props);
    my $objs = ll_objs();
    $text =~ s/%%OBJS%%/$objs/g;
    ll_write("$dir/k.conf", $text);
    return ll_run(ll_bin(), '-t', '-c', "$dir/k.conf");
}

for my $p ('"consumer:enable.auto.offset.store=true"', '"enable.auto.offset.store=true"',
           '"consumer:enable.auto.commit=false"', '"auto.commit.enable=false"') {
    my ($rc, $out) = check($p);
    is($rc, 1, "$p: refused");
    like($out, qr/k\.conf:\d+: .*is the module's own/, "$p: says why, with the line")
        or diag $out;
}
my ($rc, $out) = check('"producer:enable.idempotence=true", "consumer:session.timeout.ms=6000"');
is($rc, 0, 'other properties pass') or diag $out;
($rc, $out) = check('"consumer:no.such.key=1"');
is($rc, 1, 'an unknown key fails');
like($out, qr/librdkafka: .*no\.such\.key/, 'an unknown key: says which') or diag $out;
done_testing();
