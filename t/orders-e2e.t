# The whole path, as in a looklook deployment: looklook-cli plays order-rpc
# (insert + close task in Redis) and payment-rpc (Kafka message); redisq,
# kafka, orders, order_close and payment_update run in two workers; against
# SQLite and MariaDB.  Paid orders end WaitUse with one notify task each,
# unpaid ones Cancel, a late payment is dead-lettered with its reason,
# offsets are committed, no task is left retrying; a database that goes away
# makes the payment wait, not vanish.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use LL::Test;
use LL::Redis;
use LL::Kafka;
use LL::MariaDB;

my $cli   = ll_bin('looklook-cli');
my $topic = 'payment-update-paystatus-topic';

sub suite {
    my ($name, $db_url, %o) = @_;
    my $redis = LL::Redis->start;
    my $k     = LL::Kafka->start(topics => ["$topic:3", "$topic.dlq:1"],
                                 brokers => 1);
    my $boot  = $k->bootstrap;
    my $lk    = LL::Kafka::librdkafka_conf();
    my $ru    = $redis->url;
    my $ll = LL::Test::Server->new(conf => <<"EOF");
worker_processes = 2;
handler_threads = 8;
shutdown_timeout = 5;
modules = (
  { name = "redisq"; path = "%%OBJS%%/redisq.so"; redis = "$ru";
    concurrency = 8; queues = { default = 1; }; forward_poll = "100ms"; },
  { name = "kafka"; path = "%%OBJS%%/kafka.so"; brokers = "$boot";
    group = "payment-update-paystatus-group"; topics = [ "$topic" ];
    offset = "first"; max_retries = 1000; retry_backoff = "100ms";
    retry_backoff_max = "500ms"; commit_interval = "200ms";
    librdkafka = ( $lk ); },
  { name = "orders"; path = "%%OBJS%%/orders.so"; db = "$db_url";
    cache_redis = "$ru"; busy_timeout = "1s"; },
  { name = "order_close"; path = "%%OBJS%%/order_close.so"; },
  { name = "payment_update"; path = "%%OBJS%%/payment_update.so";
    notify_queue = "notify"; }
);
routes = (
  { from = "redisq:defer:homestay_order:close"; to = "order_close"; },
  { from = "kafka:$topic"; to = "payment_update"; }
);
EOF
    my @c = ($cli, '-c', $ll->conf_path);
    ok($ll->start, "$name: looklook up") or diag $ll->log;
    ok($ll->wait_log(qr/kafka: assigned .*\n(?:.*\n)*.*kafka: assigned /, 30),
       "$name: both workers joined the group");

    my $show = sub {
        my ($rc, $out) = ll_run(@c, '--json', 'order', 'show', @_);
        my $rows = eval { decode_json($out) } || [];
        return { map { $_->{sn} => "$_->{state}/$_->{version}" } @$rows };
    };
    my $count = sub {
        my ($want, @sns) = @_;
        my $s = $show->(@sns);
        return scalar grep { $_ eq $want } values %$s;
    };

    # order-rpc: 20 orders whose close tasks come due in an hour; the test
    # makes them due once the payments are applied (a close due in 3 s
    # raced the payments under load)
    my ($rc, $out) = ll_run(@c, 'order', 'create', '--count', 20,
                            '--close-in', '1h');
    is($rc, 0, "$name: 20 orders created") or diag $out;
    my @sn = split /\n/, $out;
    is(scalar @sn, 20, "$name: 20 sns");
    is($redis->cmd('ZCARD', 'asynq:{default}:scheduled'), 20,
       "$name: 20 close tasks scheduled in Redis");

    # payment-rpc: the first 10 paid, two of them twice
    ($rc, $out) = ll_run(@c, 'pay', @sn[0 .. 9], @sn[0, 1]);
    is($rc, 0, "$name: 12 payment messages published") or diag $out;
    ok(ll_wait_until(sub { $count->('WaitUse/1', @sn[0 .. 9]) == 10 }, 30),
       "$name: paid orders are WaitUse, version 1");
    for my $id (@{ $redis->cmd('ZRANGE', 'asynq:{default}:scheduled', 0, -1) }) {
        $redis->cmd('ZADD', 'asynq:{default}:scheduled', 'XX', time, $id);
    }
    ok(ll_wait_until(sub { $count->('Cancel/1', @sn[10 .. 19]) == 10 }, 30),
       "$name: unpaid orders Cancel, version 1, after their close task");
    is($count->('WaitUse/1', @sn[0 .. 9]), 10,
       "$name: closes did not touch the paid orders");

    my @notify = @{ $redis->cmd('LRANGE', 'asynq:{notify}:pending', 0, -1) };
    is_deeply([ sort @notify ], [ sort map { "pay_success:$_" } @sn[0 .. 9] ],
              "$name: one notify task per paid order, duplicates included");
    like($redis->cmd('HGET', "asynq:{notify}:t:pay_success:$sn[0]", 'msg'),
         qr/msg:pay_success:notify_user.*\{"Order":\{"Id":\d+,.*"Sn":"$sn[0]"/s,
         "$name: notify task carries order-rpc's payload");

    ok(ll_wait_until(sub {
           $redis->cmd('LLEN', 'asynq:{default}:pending') == 0
           && $redis->cmd('ZCARD', 'asynq:{default}:scheduled') == 0
           && $redis->cmd('LLEN', 'asynq:{default}:active') == 0 }, 20),
       "$name: every close task ran");
    is($redis->cmd('ZCARD', 'asynq:{default}:retry')
       + $redis->cmd('ZCARD', 'asynq:{default}:archived'), 0,
       "$name: none retried or archived");

    # a late payment for a closed order: dead-lettered with the reason
    ($rc, $out) = ll_run(@c, 'pay', $sn[10]);
    my @dlq;
    ok(ll_wait_until(sub { @dlq = $k->consume("$topic.dlq"); @dlq >= 1 }, 30),
       "$name: the late payment is dead-lettered");
    is($dlq[0]{value}, qq({"payStatus":1,"orderSn":"$sn[10]"}),
       "$name: dead letter holds the message");
    like(LL::Kafka::header($dlq[0], 'x-looklook-error') // '',
         qr/order $sn[10] is Cancel: only orders waiting for payment/,
         "$name: and why");
    is($show->($sn[10])->{$sn[10]}, 'Cancel/1', "$name: still Cancel");

    ok(ll_wait_until(sub {
           LL::Kafka::committed_total($k, 'payment-update-paystatus-group',
                                      $topic) == 13 }, 20),
       "$name: all 13 payment messages committed");

    # the database goes away: the payment waits for it
    if ($o{down}) {
        ($rc, $out) = ll_run(@c, 'order', 'create', '--no-close');
        my $g = (split /\n/, $out)[0];
        $o{down}->();
        ll_run(@c, 'pay', $g);
        sleep 3;
        is(scalar(() = $k->consume("$topic.dlq")), 1,
           "$name: database away: the payment is held, not dead-lettered");
        ok(LL::Kafka::committed_total($k, 'payment-update-paystatus-group',
                                      $topic) == 13,
           "$name: ... nor committed");
        $o{up}->();
        ok(ll_wait_until(sub { $count->('WaitUse/1', $g) == 1 }, 40),
           "$name: database back: the payment is applied");
        is(scalar(() = $k->consume("$topic.dlq")), 1,
           "$name: and never dead-lettered");
        ok(ll_wait_until(sub {
               LL::Kafka::committed_total($k, 'payment-update-paystatus-group',
                                          $topic) == 14 }, 20),
           "$name: then committed");
    }

    unlike($ll->log, qr/signal \d+ \(|AddressSanitizer|runtime error/,
           "$name: no crash");
    $ll->stop;
    $k->stop;
    $redis->stop;
}

{
    my $dir = ll_dir();
    suite('sqlite', "sqlite:$dir/data/orders.db");
}

SKIP: {
    skip 'mariadb-server not installed', 1 unless LL::MariaDB->available;
    my $db = LL::MariaDB->start;
    suite('mariadb', $db->url,
          down => sub { $db->stop }, up => sub { $db->start_again });
    $db->stop;
}

done_testing;
