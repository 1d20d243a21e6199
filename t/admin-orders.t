#!/usr/bin/perl
# The orders module through the admin module: order store errors counted
# by operation; /readyz turns 503 when a call finds the database gone and
# 200 once it is back (the module's probe sees it, with no call needed);
# every close task is still done in the end.
use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use JSON::PP ();
use LL::Test;
use LL::Redis;
use LL::MariaDB;
use LL::Prometheus;

plan skip_all => 'mariadb-server not installed' unless LL::MariaDB->available;

my $db    = LL::MariaDB->start;
my $r     = LL::Redis->start;
my ($ru, $du) = ($r->url, $db->url);
my $port  = ll_free_port();
my $token = 'tok' . int(rand(1e9));
my $ll    = LL::Test::Server->new(conf => <<EOF);
worker_processes = 1;
shutdown_timeout = 2;
modules = (
  { name = "admin"; path = "%%OBJS%%/admin.so"; listen = "127.0.0.1:$port";
    token = "$token"; },
  { name = "redisq"; path = "%%OBJS%%/redisq.so"; redis = "$ru";
    queues = { default = 1; }; },
  { name = "orders"; path = "%%OBJS%%/orders.so"; db = "$du";
    busy_timeout = "1s"; },
  { name = "order_close"; path = "%%OBJS%%/order_close.so"; }
);
routes = ( { from = "redisq:defer:homestay_order:close"; to = "order_close"; } );
EOF
my @c = (ll_bin('looklook-cli'), '-c', $ll->conf_path);

my $http = HTTP::Tiny->new(timeout => 5);
sub get { $http->get("http://127.0.0.1:$port$_[0]",
                     { headers => { Authorization => "Bearer $token" } }) }
sub metric {
    my ($name) = @_;
    my $text = get('/metrics')->{content} // '';
    my ($rc, $out) = LL::Prometheus::lint($text);
    is($rc, 0, 'promtool check metrics') or diag($out);
    return $text =~ /^\Q$name\E (\S+)$/m ? $1 + 0 : undef;
}
sub close_task {
    my ($rc, $out) = ll_run(@c, 'task', 'enqueue', 'defer:homestay_order:close',
                            qq({"Sn":"$_[0]"}), '--retry', 25);
    die "enqueue: $out" if $rc;
}
sub cancelled {
    my ($rc, $out) = ll_run(@c, 'order', 'show', @_);
    return scalar grep { /\bCancel\b/ } split /\n/, $out;
}
my $err = 'looklook_orders_errors_total{name="orders",op="%s"}';

ok($ll->start, 'started') or BAIL_OUT($ll->log);
my ($rc, $out) = ll_run(@c, 'order', 'create', '--count', 2, '--no-close');
is($rc, 0, 'two orders created') or diag $out;
my @sn = split /\n/, $out;

close_task($sn[0]);
ok(ll_wait_until(sub { cancelled($sn[0]) == 1 }, 20), 'the first is closed');
is(metric(sprintf($err, 'find')) + metric(sprintf($err, 'change_state')), 0,
   'no store error');
is(get('/readyz')->{status}, 200, '/readyz 200');

# ---- the database goes: the next call fails, the instance is unready -----
$db->stop;
close_task($sn[1]);
ok(ll_wait_until(sub { get('/readyz')->{status} == 503 }, 30),
   '/readyz 503 once a call finds the database gone');
my $why = eval { JSON::PP::decode_json(get('/readyz')->{content}) } // {};
my ($m) = grep { $_->{module} eq 'orders' } @{ $why->{modules} // [] };
like($m->{reason} // '', qr/^database: /, 'the reason names the database')
    or diag(explain($why));
cmp_ok(metric(sprintf($err, 'find')) + metric(sprintf($err, 'change_state')),
       '>=', 1, 'the failed call is counted');
is(get('/healthz')->{status}, 200, '/healthz still 200');

# ---- it comes back: ready again, the task is done -------------------------
$db->start_again;
ok(ll_wait_until(sub { get('/readyz')->{status} == 200 }, 30),
   '/readyz 200 when the database is back');
ok(ll_wait_until(sub { cancelled($sn[1]) == 1 }, 90), 'the second is closed too');
unlike($ll->log, qr/signal \d+ \(|AddressSanitizer|runtime error/, 'no crash');

is($ll->stop, 0, 'stopped');
done_testing();
