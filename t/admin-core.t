#!/usr/bin/perl
# The admin module on the core's shared status: /metrics passes promtool
# and a real Prometheus scrapes it (counters equal what was handled), the
# token guards everything but /healthz, /api/status and `looklook -s status
# --json` say the same, and a killed worker or a reload shows in the
# figures while the port keeps answering.

use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use JSON::PP ();
use MIME::Base64 ();
use LL::Test;
use LL::Prometheus;

my $port  = ll_free_port();
my $token = 'tok-' . int(rand(1e9));
my $ll    = LL::Test::Server->new;
my $dir   = $ll->dir;

sub conf {
    my ($extra) = @_;
    return <<"EOF2" . ($extra // '') . ");\nroutes = ( { from = \"src:*\"; to = \"sink\"; } );\n";
worker_processes = 2;
shutdown_timeout = 2;
handler_threads = 2;
modules = (
  { name = "admin"; path = "%%OBJS%%/admin.so"; listen = "127.0.0.1:$port"; token = "$token"; },
  { name = "src"; path = "%%OBJS%%/t/core_source.so"; count = 50; interval = "5ms"; },
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; }
EOF2
}

my $http = HTTP::Tiny->new(timeout => 5);
my $base = "http://127.0.0.1:$port";
sub get {
    my ($path, %h) = @_;
    return $http->get("$base$path", { headers => \%h });
}
my %auth = (Authorization => "Bearer $token");

# every /metrics text the test fetches goes through promtool
my $checks = 0;
sub metrics_checked {
    my $r = get('/metrics', %auth);
    return '' unless $r->{status} == 200;
    my ($rc, $out) = LL::Prometheus::lint($r->{content});
    $checks++;
    is($rc, 0, "promtool check metrics ($checks)") or diag($out);
    return $r->{content};
}

$ll->conf(conf());
ok($ll->start, 'started') or BAIL_OUT($ll->log);

# ---- the token ----------------------------------------------------------
is(get('/healthz')->{status}, 200, '/healthz needs no token');
is(get('/metrics')->{status}, 401, '/metrics without the token: 401');
is(get('/metrics', Authorization => 'Bearer nope')->{status}, 401,
   'a wrong token: 401');
is(get('/readyz')->{status}, 401, '/readyz without the token: 401');
is(get('/api/status')->{status}, 401, '/api/status without the token: 401');
is(get('/metrics', %auth)->{status}, 200, 'bearer token: 200');
is(get('/metrics', Authorization => 'Basic '
       . MIME::Base64::encode_base64("prometheus:$token", ''))->{status}, 200,
   'basic auth with the token as password: 200');
is(get('/nothing', %auth)->{status}, 404, 'unknown path: 404');
is($http->post("$base/metrics", { headers => \%auth })->{status}, 405,
   'POST /metrics: 405');
is(get('/readyz', %auth)->{status}, 200, '/readyz: 200');

# ---- Prometheus scrapes it ----------------------------------------------
my $prom = LL::Prometheus->new(target => "127.0.0.1:$port", token => $token);
ok(ll_wait_until(sub { my @l = split /\n/, ll_slurp("$dir/out.txt"); @l == 100 }, 20),
   'both workers handled their 50 messages');
is($prom->wait_value('sum(looklook_messages_handled_total{outcome="done"})',
                     sub { $_[0] == 100 }), 100,
   'Prometheus: handled total equals messages handled');
is($prom->value('sum(looklook_messages_received_total{from="src:*"})'), 100,
   'Prometheus: received total');
is($prom->value('up'), 1, 'Prometheus: target up');
is($prom->value('count(looklook_module_info)'), 3, 'one module_info per instance');
is($prom->value('looklook_module_info{name="admin",abi=~"[0-9]+[.][0-9]+"}'), 1,
   'module_info carries name and ABI');
is($prom->value('looklook_workers{state="ready"}'), 2, 'two workers ready');
is($prom->value('looklook_generation'), 1, 'generation 1');
is($prom->value('sum(looklook_handler_duration_seconds_count)'), 100,
   'histogram count');
my $m = metrics_checked();
like($m, qr/^looklook_build_info\{version="[^"]+",abi="\d+\.\d+"\} 1$/m,
     'build_info');
like($m, qr/^looklook_uptime_seconds \d/m, 'uptime');

# ---- JSON status: the same from the API and from the command line --------
my $api = JSON::PP::decode_json(get('/api/status', %auth)->{content});
my ($rc, $out) = ll_run(ll_bin(), '-c', $ll->conf_path, '-s', 'status', '--json');
is($rc, 0, 'looklook -s status --json');
my $cli = eval { JSON::PP::decode_json($out) };
ok($cli, 'it prints JSON') or diag($out);
is_deeply([sort map { $_->{pid} } @{ $cli->{workers} }], [sort { $a <=> $b } $ll->workers],
          'workers: the master\'s children');
is_deeply([map { $_->{name} } @{ $cli->{modules} }], [qw(admin src sink)],
          'modules in config order');
my ($r) = grep { $_->{from} eq 'src:*' } @{ $cli->{routes} };
is($r->{done}, 100, 'route counters');
for my $k (qw(generation master_pid ready)) {
    is("$api->{$k}", "$cli->{$k}", "API and CLI agree: $k");
}
is_deeply([map { $_->{pid} } @{ $api->{workers} }],
          [map { $_->{pid} } @{ $cli->{workers} }], 'API and CLI agree: workers');
is_deeply($api->{modules}, $cli->{modules}, 'API and CLI agree: modules');

# ---- a worker killed: the port keeps answering; restarts counted --------
my @w = $ll->workers;
kill 'KILL', $w[0];
my $fails = 0;
for (1 .. 20) {
    $fails++ if get('/healthz')->{status} != 200;
    select undef, undef, undef, 0.05;
}
cmp_ok($fails, '<=', 2, "/healthz kept answering while a worker died ($fails misses)");
is($prom->wait_value('looklook_worker_restarts_total', sub { $_[0] == 1 }), 1,
   'Prometheus: one worker restart');
ok(ll_wait_until(sub { get('/readyz', %auth)->{status} == 200 }, 10),
   'ready again');
metrics_checked();

# ---- reloads: ok, then failed ------------------------------------------
my $at = $ll->log_size;
$ll->signal('HUP');
ok($ll->wait_log(qr/generation 2 ready/, 15, from => $at), 'reloaded');
is($prom->wait_value('looklook_generation', sub { $_[0] == 2 }), 2,
   'Prometheus: generation 2');
is($prom->wait_value('looklook_reloads_total{outcome="ok"}', sub { $_[0] == 1 }), 1,
   'Prometheus: one reload ok');
like($ll->log, qr/generation 2: module "admin" is admin \S+ \(ABI \d+\.\d+\) from \S+admin\.so/,
     'the log names the file, version and ABI of each module');
$ll->conf(conf(qq{, { name = "bad"; path = "%%DIR%%/nope.so"; }\n}));
$at = $ll->log_size;
$ll->signal('HUP');
ok($ll->wait_log(qr/reload failed/, 15, from => $at), 'a broken reload fails');
is($prom->wait_value('looklook_reloads_total{outcome="failed"}', sub { $_[0] == 1 }), 1,
   'Prometheus: one reload failed');
$api = JSON::PP::decode_json(get('/api/status', %auth)->{content});
is($api->{generation}, 2, 'generation 2 still serves');
is($api->{reloads}{recent}[-1]{outcome}, 'failed', 'recent reloads: failed last');
like($api->{reloads}{recent}[-1]{reason}, qr/nope\.so/, '... with the reason');
is($api->{reloads}{recent}[0]{outcome}, 'ok', '... ok before');
my $t = $prom->target;
is($t->{health}, 'up', 'Prometheus: every scrape parsed') or diag(explain($t));
metrics_checked();

is($ll->stop, 0, 'stopped');
done_testing();
