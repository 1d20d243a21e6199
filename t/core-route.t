#!/usr/bin/perl
# (Handlers come before sources in the config: the core starts modules in
# config order.  t/core-run.t checks that order does not matter.)
#
# Routing: an exact route wins over a pattern whatever their order, a
# pattern takes the rest, unrouted work is answered "retry: no handler";
# handler outcomes reach the source and the status table.

use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep);
use LL::Test;

my $ll = LL::Test::Server->new(conf => <<'EOF');
worker_processes = 1;
shutdown_timeout = 3;
handler_threads = 3;
modules = (
  { name = "wild"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; tag = "wild"; },
  { name = "exact"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; tag = "exact"; },
  { name = "retry"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; tag = "retry"; outcome = "retry"; },
  { name = "fail"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; tag = "fail"; outcome = "fail"; },
  { name = "revoke"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; tag = "revoke"; outcome = "revoke"; },
  { name = "paid"; path = "%%OBJS%%/t/core_source.so"; type = "order.paid"; count = 5; interval = "10ms"; },
  { name = "close"; path = "%%OBJS%%/t/core_source.so"; type = "order.close"; count = 5; interval = "10ms"; },
  { name = "lost"; path = "%%OBJS%%/t/core_source.so"; type = "nobody.home"; count = 2; interval = "10ms"; },
  { name = "r"; path = "%%OBJS%%/t/core_source.so"; type = "r"; count = 3; interval = "10ms"; },
  { name = "f"; path = "%%OBJS%%/t/core_source.so"; type = "f"; count = 4; interval = "10ms"; },
  { name = "v"; path = "%%OBJS%%/t/core_source.so"; type = "v"; count = 6; interval = "10ms"; }
);
routes = (
  { from = "paid:order.*"; to = "wild"; },
  { from = "paid:order.paid"; to = "exact"; },
  { from = "close:order.*"; to = "wild"; },
  { from = "r:r"; to = "retry"; },
  { from = "f:*"; to = "fail"; },
  { from = "v:v"; to = "revoke"; }
);
EOF
ok($ll->start, 'started') or do { diag($ll->log); done_testing(); exit; };
my $out = "$ll->{dir}/out.txt";

ok($ll->wait_log(qr/ v: stopped| v: dispatched 6/, 10), 'all dispatched');
ok(ll_wait_until(sub { (() = ll_slurp($out) =~ / id=/g) == 23 }, 10),
   '23 messages handled') or diag ll_slurp($out);
my @lines = split /\n/, ll_slurp($out);
is(scalar(grep { /^v1 exact .* type=order\.paid / } @lines), 5, 'the exact route wins over the earlier pattern');
is(scalar(grep { /^v1 wild .* type=order\.paid / } @lines), 0, 'the pattern does not get the exact type');
is(scalar(grep { /^v1 wild .* type=order\.close / } @lines), 5, 'the pattern takes the rest');
is(scalar(grep { / type=nobody\.home / } @lines), 0, 'unrouted work reaches no handler');

ok(ll_wait_until(sub { (() = $ll->log =~ / lost: outcome \S+ retry error=no handler for task type nobody\.home$/mg) == 2 }, 5),
   'unrouted work is answered retry "no handler for task type nobody.home"') or diag $ll->log;
my $log = $ll->log;
is((() = $log =~ / r: outcome \S+ retry error=sink told to retry$/mg), 3, 'retry reaches the source with its reason');
is((() = $log =~ / f: outcome \S+ fail error=sink told to fail$/mg), 4, 'fail reaches the source with its reason');
is((() = $log =~ / v: outcome \S+ revoke$/mg), 6, 'revoke reaches the source');
is((() = $log =~ / paid: outcome \S+ done$/mg), 5, 'done reaches the source');

# the status table counts outcomes per route
sleep 0.2;
my ($rc, $st) = ll_run(ll_bin(), '-c', $ll->conf_path, '-s', 'status');
is($rc, 0, '-s status: exit 0') or diag $st;
my @rows = split /\n/, $st;
my ($head) = grep { /received/i && /revoked/i } @rows;
ok($head, 'a header row') or diag $st;
my @cols = map { lc } split ' ', ($head // '');
my %ix;
@ix{@cols} = (0 .. $#cols);

# The numbers of a route's row, by column name (a row may have a route
# name of a few words before its numbers; we align from the right).
sub row {
    my ($from) = @_;
    my ($r) = grep { /\Q$from\E/ } @rows;
    return undef unless $r;
    my @f = split ' ', $r;
    my $shift = @f - @cols;
    return { map { $_ => $f[$ix{$_} + $shift] } grep { defined $ix{$_} } qw(received done retried failed revoked) };
}

my %want = (
    'paid:order.paid'  => [5, 5, 0, 0, 0],
    'close:order.*'    => [5, 5, 0, 0, 0],
    'r:r'              => [3, 0, 3, 0, 0],
    'f:*'              => [4, 0, 0, 4, 0],
    'v:v'              => [6, 0, 0, 0, 6],
);
for my $from (sort keys %want) {
    my $r = row($from);
    ok($r, "-s status: a row for $from") or next;
    is_deeply([@$r{qw(received done retried failed revoked)}], $want{$from},
              "-s status: $from received/done/retried/failed/revoked") or diag $st;
}
my $r = row('paid:order.*');
ok(!$r || !$r->{received}, '-s status: the unused pattern route counted nothing');

is($ll->stop, 0, 'QUIT: exit 0');
done_testing();
