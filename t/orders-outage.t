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
my $ll = LL::Test::Server->new(conf => <<"EOF");
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
  { name = "orders"; path = "%%OBJS%%/orders.so"; db = "$du";
    busy_timeout = "1s"; },
  { name = "payment_update"; path = "%%OBJS%%/payment_update.so";
    notify_queue = "notify"; }
);
routes = ( { from = "kafka:$topic"; to = "payment_update"; } );
EOF
my @c = ($cli, '-c', $ll->conf_path);
ok($ll->start, 'looklook up') or diag $ll->log;
ok($ll->wait_log(qr/kafka: assigned /, 30), 'the worker joined the group');

my ($rc, $out) = ll_run(@c, 'order', 'create', '--count', 10, '--no-close');
is($rc, 0, '10 orders created') or diag $out;
my @sn = split /\n/, $out;

# the database goes away; the payments come in; it stays away ~10 s
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
unlike($ll->log, qr/to the dead-letter topic/, 'no dead letter in the log');
unlike($ll->log, qr/signal \d+ \(|AddressSanitizer|runtime error/, 'no crash');

$ll->stop;
$k->stop;
$redis->stop;
$db->stop;
done_testing;
