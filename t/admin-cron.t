#!/usr/bin/perl
# cron's metrics through the admin module and a real Prometheus: fires
# per entry equal the ticks the handler got, the lateness of the last fire
# and its tick are published; /readyz turns 503 while cron's Redis is gone
# and 200 when it is back, and the ticks missed meanwhile count as
# misfires; promtool passes on every fetched scrape.
use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use JSON::PP ();
use LL::Test;
use LL::Redis;
use LL::Prometheus;

my $r     = LL::Redis->start;
my $url   = $r->url;
my $port  = ll_free_port();
my $token = 'tok' . int(rand(1e9));
my $dir   = ll_dir();
my $ll    = LL::Test::Server->new(dir => $dir, conf => <<EOF);
worker_processes = 2;
shutdown_timeout = 2;
modules = (
  { name = "admin"; path = "%%OBJS%%/admin.so"; listen = "127.0.0.1:$port";
    token = "$token"; },
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "$dir/handled"; },
  { name = "cron"; path = "%%OBJS%%/cron.so"; redis = "$url";
    misfire_grace = "1s";
    entries = ( { id = "h"; spec = "\@every 1s"; target = "handler"; } ); }
);
routes = ( { from = "cron:h"; to = "sink"; } );
EOF

my $http = HTTP::Tiny->new(timeout => 5);
sub get { $http->get("http://127.0.0.1:$port$_[0]",
                     { headers => { Authorization => "Bearer $token" } }) }
sub handled { my @l = split /\n/, ll_slurp("$dir/handled"); scalar @l }
sub metric {
    my ($text, $name) = @_;
    return $text =~ /^\Q$name\E (\S+)$/m ? $1 + 0 : undef;
}
sub metrics_checked {
    my $text = get('/metrics')->{content};
    my ($rc, $out) = LL::Prometheus::lint($text);
    is($rc, 0, 'promtool check metrics') or diag($out);
    return $text;
}
my $fires = 'looklook_cron_fires_total{name="cron",entry="h"}';
my $miss  = 'looklook_cron_misfires_total{name="cron",entry="h"}';

ok($ll->start, 'started') or BAIL_OUT($ll->log);
my $prom = LL::Prometheus->new(target => "127.0.0.1:$port", token => $token);

# ---- fires: one per tick the handler got ----------------------------------
ok(ll_wait_until(sub { handled() >= 3 }, 20), 'ticks reach the handler');
my ($m, $n);
ok(ll_wait_until(sub {
       $n = handled();
       $m = metrics_checked();
       my $f = metric($m, $fires);
       return defined $f && $f == $n && $n == handled();
   }, 20), 'fires_total equals the ticks handled') or diag($m);
my $last = metric($m, 'looklook_cron_last_fire_timestamp_seconds{name="cron",entry="h"}');
ok($last && $last == int($last) && $last <= time, 'last fire: a whole tick');
ok(defined metric($m, 'looklook_cron_lateness_seconds{name="cron",entry="h"}'),
   'lateness of the last fire');
is(metric($m, $miss), 0, 'no misfire yet');
ok($prom->wait_value($fires, sub { $_[0] >= 3 }), 'Prometheus has the fires');

# ---- readiness follows Redis; the ticks missed count -----------------------
is(get('/readyz')->{status}, 200, '/readyz 200');
$r->stop;
ok(ll_wait_until(sub { get('/readyz')->{status} == 503 }, 15),
   '/readyz 503 while Redis is gone');
my $why = eval { JSON::PP::decode_json(get('/readyz')->{content}) } // {};
my ($c) = grep { $_->{module} eq 'cron' } @{ $why->{modules} // [] };
like($c->{reason} // '', qr/^redis: /, 'the reason names Redis') or diag(explain($why));
sleep 3;        # ticks go by unfired, beyond misfire_grace
$r->restart;
ok(ll_wait_until(sub { get('/readyz')->{status} == 200 }, 20),
   '/readyz 200 when Redis is back');
ok($prom->wait_value($miss, sub { $_[0] >= 1 }), 'the missed ticks count as misfires');
my $f0 = metric(metrics_checked(), $fires);
ok(ll_wait_until(sub { (metric(get('/metrics')->{content}, $fires) // 0) > $f0 }, 20),
   'firing again');
is($prom->target->{health}, 'up', 'every scrape parsed');

is($ll->stop, 0, 'stopped');
done_testing();
