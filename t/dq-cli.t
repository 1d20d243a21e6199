# looklook-cli dq put | stats | peek | kick against two real beanstalkd
# nodes named by a looklook.conf (or by -b/-t): go-queue's bytes on every
# node, counts by state, unwrapped bodies, buried jobs made ready again.
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Beanstalk;
use Time::HiRes qw(time);

my @b = (LL::Beanstalk->start, LL::Beanstalk->start);
my ($e0, $e1) = map { $_->endpoint } @b;
my $dir = ll_dir();
ll_write("$dir/looklook.conf", <<"CONF");
modules = (
  { name = "jobs"; path = "dq.so";
    beanstalks = ( { endpoint = "$e0"; tube = "orders"; },
                   { endpoint = "$e1"; tube = "orders"; } ); }
);
CONF
sub cli { ll_run(ll_bin('looklook-cli'), '-c', "$dir/looklook.conf", 'dq', '-i', 'jobs', @_) }

my $t0 = time;
my ($rc, $out) = cli('put', '--delay', '30s', 'hello dq');
is($rc, 0, 'put') or diag $out;
like($out, qr{^\Q$e0\E/orders/(\d+),\Q$e1\E/orders/(\d+)\n$}, "go-queue's joined id");
my ($id0) = $out =~ m{/orders/(\d+),};
my ($r0, $body0) = $b[0]->cmd("peek $id0");
my ($ns) = $body0 =~ m{^(\d+)/hello dq$};
ok($ns && $ns >= ($t0 + 30) * 1e9 - 1e6 && $ns <= (time + 30) * 1e9,
   'body "<unix ns>/hello dq", due in 30 s');
$b[1]->use_tube('orders');
my (undef, $body1) = $b[1]->cmd('peek-delayed');
is($body1, $body0, 'the same bytes on both nodes');
my %j = $b[0]->stats_job($id0);
is("$j{tube} $j{state} $j{pri} $j{ttr}", 'orders delayed 2 5', 'tube, delayed, pri 2, ttr 5');
ok($j{delay} == 29 || $j{delay} == 30, "delay $j{delay} s");

($rc, $out) = cli('stats');
is($rc, 0, 'stats');
like($out, qr{^\Q$e0\E\s+orders\s+0\s+0\s+1\s+0\s+1$}m, 'node 0: one delayed');
like($out, qr{^\Q$e1\E\s+orders\s+0\s+0\s+1\s+0\s+1$}m, 'node 1: one delayed');

($rc, $out) = ll_run(ll_bin('looklook-cli'), '--json', '-c', "$dir/looklook.conf",
                     'dq', '-i', 'jobs', 'peek', 'delayed');
is($rc, 0, 'peek delayed --json');
like($out, qr{"state":"delayed","due_ms":\Q${\ int($ns / 1e6)}\E,"body":"hello dq"}, 'unwrapped, with its due time');

# a buried job is made ready again
my $bid = $b[0]->put('orders', 'not-wrapped');
$b[0]->reserve('orders', 1);
$b[0]->cmd("bury $bid 2") eq 'BURIED' or die 'bury';
($rc, $out) = cli('peek', 'buried');
like($out, qr{^\Q$e0\E orders $bid buried \(no "<unix ns>/" due time before the body\): not-wrapped$}m,
     'peek shows a body without wrapper as such');
($rc, $out) = cli('kick');
like($out, qr{^\Q$e0\E orders kicked 1$}m, 'kick: the buried job on node 0');
like($out, qr{^\Q$e1\E orders kicked 1$}m, 'kick: the delayed job on node 1 (no buried one there)');
my %k = $b[0]->stats_job($bid);
is($k{state}, 'ready', 'buried job ready again');

# -b and -t instead of the config; errors
($rc, $out) = ll_run(ll_bin('looklook-cli'), 'dq', '-b', $e1, '-t', 'other', 'put', 'x');
is($rc, 0, 'put with -b/-t');
like($out, qr{^\Q$e1\E/other/\d+$}m, 'one node, tube other');
($rc, $out) = cli('put', '--at', '1000', 'past');
is($rc, 1, 'put at a past time refused');
like($out, qr/can't schedule task to past time/, "go-queue's words");
$b[1]->kill;
($rc, $out) = cli('put', 'half');
is($rc, 1, 'put with one of two nodes down fails (2 copies needed)');
like($out, qr/written to 1 of 2 node\(s\), 2 needed/, 'and says so');
is(scalar(grep { /half$/ } $b[0]->drain('orders', 'ready')), 0, 'the copy written was revoked');
($rc, $out) = ll_run(ll_bin('looklook-cli'), 'dq', 'stats');
is($rc, 1, 'no nodes, no config: an error');

# settings checked by looklook -t, at their line
for my $case (
    [ '{ endpoint = "127.0.0.1:1"; tube = "a b"; }', qr/:3: tube "a b": 1 to 200 letters/ ],
    [ '{ endpoint = "127.0.0.1:1"; tube = "t"; }, { endpoint = "127.0.0.1:1"; tube = "u"; }',
      qr/:3: endpoint 127.0.0.1:1 given twice: all node endpoints must be different/ ],
    [ '{ tube = "t"; }', qr/:3: .*endpoint/ ],
) {
    ll_write("$dir/bad.conf", qq{modules = (\n  { name = "dq"; path = "${\ ll_objs() }/dq.so";\n    beanstalks = ( $case->[0] ); }\n);\n});
    my ($rc, $out) = ll_run(ll_bin(), '-t', '-c', "$dir/bad.conf");
    ok($rc != 0 && $out =~ $case->[1], "looklook -t: $case->[1]") or diag $out;
}
done_testing;
