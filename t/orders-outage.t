#!/usr/bin/perl
# A database outage is not the payments' fault: with the kafka module's
# default max_retries (3), a MariaDB outage of about 10 s under
# payment_update dead-letters nothing.  payment_update answers
# LL_R_UNAVAILABLE, which the kafka module retries in place without
# spending an attempt; once the database is back every payment is applied,
# notified once, and committed.  (Before reason codes, the fourth failed
# attempt sent the payment to the dead-letter topic.)
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Redis;
use LL::Kafka;
use LL::MariaDB;

plan skip_all => 'mariadb-server not installed' unless LL::MariaDB->available;

my $cli   = ll_bin('looklook-cli');
my $topic = 'payment-update-paystatus-topic';
my $db    = LL::MariaDB->start;
my $redis = LL::Redis->start;
my $k     = LL::Kafka->start(topics => ["$topic:2", "$topic.dlq:1"],
                             brokers => 1);
my ($boot, $lk, $ru, $du) = ($k->bootstrap, LL::Kafka::librdkafka_conf(),
                             $redis->url, $db->url);

# max_retries left at its default; the back-off capped at 2 s, so three
# counted retries would be spent well inside the outage
my $ll = LL::Test::Server->new;
diag "dir: " . $ll->dir if $ENV{LL_KEEP};
sub conf { my ($dbu, $cache) = @_; $cache //= ''; $ll->conf(<<"EOF"); }
ready_timeout = 5;
worker_processes = 1;
handler_threads = 8;
shutdown_timeout = 5;
modules = (
  { name = "redisq"; path = "%%OBJS%%/redisq.so"; redis = "$ru";
    queues = { default = 1; }; },
  { name = "kafka"; path = "%%OBJS%%/kafka.so"; brokers = "$boot";
    group = "payment-update-paystatus-group"; topics = [ "$topic" ];
    offset = "first"; retry_backoff_max = "2s"; commit_interval = "200ms";
    librdkafka = ( $lk ); },
  { name = "orders"; path = "%%OBJS%%/orders.so"; db = "$dbu";
    busy_timeout = "1s"; $cache },
  { name = "payment_update"; path = "%%OBJS%%/payment_update.so";
    notify_queue = "notify"; }
);
routes = ( { from = "kafka:$topic"; to = "payment_update"; } );
EOF
conf($du);
# looklook-cli reads a copy of the good config (the server's may be a bad
# one for a while, below)
my $cli_conf = $ll->dir . '/cli.conf';
ll_write($cli_conf, ll_slurp($ll->conf_path));
my @c = ($cli, '-c', $cli_conf);
ok($ll->start, 'looklook up') or diag $ll->log;
ok($ll->wait_log(qr/kafka: assigned /, 30), 'the worker joined the group');

my ($rc, $out) = ll_run(@c, 'order', 'create', '--count', 10, '--no-close');
is($rc, 0, '10 orders created') or diag $out;
my @sn = split /\n/, $out;

# the database goes away; the payments come in; it stays away ~10 s
my $from = $ll->log_size;
$db->stop;
($rc, $out) = ll_run(@c, 'pay', @sn);
is($rc, 0, '10 payment messages published') or diag $out;
sleep 10;
is(scalar(() = $k->consume("$topic.dlq")), 0,
   'after 10 s of outage nothing is dead-lettered');
is(LL::Kafka::committed_total($k, 'payment-update-paystatus-group', $topic)
   // 0, 0, '... and nothing committed: the payments wait');
$db->start_again;

my $paid = sub {
    my ($r, $o) = ll_run(@c, 'order', 'show', @sn);
    return scalar grep { /\bWaitUse\b/ } split /\n/, $o;
};
ok(ll_wait_until(sub { $paid->() == 10 }, 60),
   'database back: every payment is applied') or diag $paid->();
ok(ll_wait_until(sub {
       LL::Kafka::committed_total($k, 'payment-update-paystatus-group',
                                  $topic) == 10 }, 30),
   'and committed');
is(scalar(() = $k->consume("$topic.dlq")), 0, 'none was ever dead-lettered');
my @notify = @{ $redis->cmd('LRANGE', 'asynq:{notify}:pending', 0, -1) };
is_deeply([ sort @notify ], [ sort map { "pay_success:$_" } @sn ],
          'each paid order notified once');
# the outage is in the log, once, and its end, once, however many
# messages were retried meanwhile (before: not a line)
my @lines = grep { / orders: / } split /\n/, substr($ll->log, $from);
like($lines[0] // '', qr/\[err\] .* orders: mysql:\/\/\S+: mysql /,
     'the outage is logged') or diag explain \@lines;
is(scalar(grep { / orders: mysql:\/\/\S+ reachable again after \d+\.\d s/ }
          @lines), 1, '... and its end, once') or diag explain \@lines;
# a connection found broken, the refused connects, the end (and at most
# one count of repeats, after a minute)
cmp_ok(scalar @lines, '<=', 4, 'in at most 4 lines') or diag explain \@lines;
unlike($ll->log, qr/to the dead-letter topic/, 'no dead letter in the log');

# a reload onto a database that cannot be reached, or a SQLite file that
# cannot be created, fails; the old generation goes on applying payments
sub pay_and_wait {
    my ($what) = @_;
    my ($r, $o) = ll_run(@c, 'order', 'create', '--count', 2, '--no-close');
    my @new = split /\n/, $o;
    ($r, $o) = ll_run(@c, 'pay', @new);
    ok(ll_wait_until(sub {
           my (undef, $show) = ll_run(@c, 'order', 'show', @new);
           (() = $show =~ /\bWaitUse\b/g) == 2 }, 30),
       "$what: payments applied");
}
my $closed = ll_free_port();
for my $bad ([ 'unreachable MariaDB', "mysql://u:pw\@127.0.0.1:$closed/x",
               qr/127\.0\.0\.1:$closed.*mysql connect: / ],
             [ 'unreachable cache Redis', $du,
               qr/cache redis unreachable: connect to 127\.0\.0\.1:$closed: /,
               qq{cache_redis = "redis://:pw\@127.0.0.1:$closed/0";} ],
             [ 'SQLite file that cannot be created',
               'sqlite:/proc/none/orders.db', qr/orders\.db/ ]) {
    my ($what, $url, $why, $cache) = @$bad;
    $from = $ll->log_size;
    conf($url, $cache);
    $ll->signal('HUP');
    my $line = $ll->wait_log(qr/reload failed, generation 1 keeps running: module "orders": start failed: .*/,
                             30, from => $from);
    ok($line, "$what: the reload fails") or diag substr($ll->log, $from);
    like($line, $why, "$what: ... saying why");
    unlike($line, qr/pw\@/, "$what: ... without the password");
    pay_and_wait("$what: the old generation");
}
$from = $ll->log_size;
conf($du);
$ll->signal('HUP');
ok($ll->wait_log(qr/generation \d+ ready/, 30, from => $from),
   'a good reload still works') or diag substr($ll->log, $from);
pay_and_wait('the new generation');

unlike($ll->log, qr/signal \d+ \(|AddressSanitizer|runtime error/, 'no crash');

$ll->stop;
$k->stop;
$redis->stop;
$db->stop;
done_testing;
