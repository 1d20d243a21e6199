# order_close and payment_update in a real looklook worker, fed by the
# orders_feed fixture (it plays redisq and kafka: dispatches lines, retries
# LL_RETRY answers, records the notify tasks), against SQLite and MariaDB:
# paid before the close, closed before the payment, duplicates, close and
# pay racing, refund, bad input, the database away and back, cache keys.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use LL::Test;
use LL::Redis;
use LL::MariaDB;

my $cli   = ll_bin('looklook-cli');
my $redis = LL::Redis->start;

sub suite {
    my ($name, $url, %o) = @_;
    my $dir  = ll_dir();
    my $feed = "$dir/feed.txt";
    ll_write($feed, '');
    my $ll = LL::Test::Server->new(dir => $dir, conf => <<"EOF");
worker_processes = 1;
handler_threads = 8;
log_level = "info";
shutdown_timeout = 5;
modules = (
  { name = "orders"; path = "%%OBJS%%/orders.so"; db = "$url";
    cache_redis = "${\ $redis->url }"; busy_timeout = "300ms"; },
  { name = "order_close"; path = "%%OBJS%%/order_close.so"; },
  { name = "payment_update"; path = "%%OBJS%%/payment_update.so";
    notify_to = "feed"; },
  { name = "feed"; path = "%%OBJS%%/t/orders_feed.so"; in = "$feed";
    retry_delay = "100ms"; }
);
routes = (
  { from = "feed:defer:homestay_order:close"; to = "order_close"; },
  { from = "feed:homestay:order:close"; to = "order_close"; },
  { from = "feed:payment-update-paystatus-topic"; to = "payment_update"; }
);
EOF
    ok($ll->start, "$name: looklook up") or diag $ll->log;

    my $lines = 0;
    my $put = sub {                   # append lines, return their numbers
        open my $fh, '>>', $feed or die $!;
        my @n;
        for (@_) { print $fh "$_->[0] $_->[1]\n"; push @n, ++$lines; }
        close $fh;
        return wantarray ? @n : $n[0];
    };
    my $close = sub { $put->(['defer:homestay_order:close', qq({"Sn":"$_[0]"})]) };
    my $pay = sub {
        $put->(['payment-update-paystatus-topic',
                qq({"payStatus":${\ ($_[1] // 1)},"orderSn":"$_[0]"})]);
    };
    my $outcome = sub {               # "done", "fail error=..." of line n
        my ($n) = @_;
        my $m = $ll->wait_log(qr/outcome #$n \S+ ([^\n]*)/, 20);
        return $m ? ($m =~ /outcome #$n \S+ ([^\n]*)/)[0] : 'none';
    };
    my $create = sub {
        my ($rc, $out) = ll_run($cli, 'order', 'create', '--db', $url,
                                '--no-close', '--count', $_[0] // 1);
        is($rc, 0, "$name: order create") or diag $out;
        return split /\n/, $out;
    };
    my $show = sub {                  # sn => [state name, version]
        my ($rc, $out) = ll_run($cli, '--json', 'order', 'show', '--db', $url,
                                @_);
        my $rows = eval { decode_json($out) } || [];
        return { map { $_->{sn} => [ $_->{state}, $_->{version} ] } @$rows };
    };
    my $notifies = sub {
        my ($sn) = @_;
        my @n = $ll->log =~ /enqueued msg:pay_success:notify_user id=pay_success:$sn /g;
        return scalar @n;
    };

    # paid before the close task runs
    my ($a, $b, $c, $d, $e, $f) = $create->(6);
    is($outcome->($pay->($a)), 'done', "$name: payment done");
    is($outcome->($close->($a)), 'done', "$name: close of a paid order done");
    is_deeply($show->($a)->{$a}, [ 'WaitUse', 1 ],
              "$name: paid before close: WaitUse, version 1");
    is($notifies->($a), 1, "$name: pay_success notify enqueued");
    like($ll->log, qr/enqueued msg:pay_success:notify_user id=pay_success:$a queue=default retention=86400000 payload=\{"Order":\{"Id":\d+,"CreateTime":"[^"]+\+08:00",.*"Sn":"$a",.*"TradeState":1,/,
         "$name: notify payload is order-rpc's {\"Order\":{...}}");

    # closed before the payment: a late payment does not revive it
    is($outcome->($close->($b)), 'done', "$name: close done");
    is_deeply($show->($b)->{$b}, [ 'Cancel', 1 ], "$name: closed: Cancel");
    like($outcome->($pay->($b)), qr/^fail error=payStatus 1: order $b is Cancel: /,
         "$name: late payment fails for good with the reason");
    is_deeply($show->($b)->{$b}, [ 'Cancel', 1 ], "$name: still Cancel, v1");
    is($notifies->($b), 0, "$name: no notify for a cancelled order");
    is($outcome->($put->(['homestay:order:close', qq({"Sn":"$c"})])), 'done',
       "$name: the older homestay:order:close task type works too");
    is_deeply($show->($c)->{$c}, [ 'Cancel', 1 ], "$name: ... and cancels");

    # duplicate payment messages
    my @n = ($pay->($d), $pay->($d), $pay->($d));
    is(join(',', map { $outcome->($_) } @n), 'done,done,done',
       "$name: three copies of a payment: all done");
    is_deeply($show->($d)->{$d}, [ 'WaitUse', 1 ],
              "$name: duplicates: WaitUse, version 1");
    is($notifies->($d), 1, "$name: duplicates: one notify");

    # refund; and what cannot be refunded
    is($outcome->($pay->($a, 2)), 'done', "$name: refund done");
    is_deeply($show->($a)->{$a}, [ 'Refund', 2 ], "$name: Refund, version 2");
    is($outcome->($pay->($a)), 'done',
       "$name: the payment replayed after the refund is done ...");
    is_deeply($show->($a)->{$a}, [ 'Refund', 2 ], "$name: ... and changes nothing");
    like($outcome->($pay->($e, 2)), qr/^fail error=.*is WaitPay/,
         "$name: refund of an unpaid order fails");
    is($outcome->($pay->($e, 0)), 'done', "$name: payStatus 0 is ignored");
    is($outcome->($pay->($e, -1)), 'done', "$name: payStatus -1 is ignored");
    is_deeply($show->($e)->{$e}, [ 'WaitPay', 0 ], "$name: untouched");

    # bad input fails for good, with the reason
    like($outcome->($put->(['defer:homestay_order:close', 'not json'])),
         qr/^fail error=payload is not \{"Sn"/, "$name: close: bad JSON");
    like($outcome->($close->('HSO20990101000000nothere')),
         qr/^fail error=order HSO20990101000000nothere does not exist/,
         "$name: close: unknown order");
    like($outcome->($put->(['payment-update-paystatus-topic', '[1,2]'])),
         qr/^fail error=value is not/, "$name: pay: not an object");
    like($outcome->($put->(['payment-update-paystatus-topic',
                            '{"payStatus":"1","orderSn":"x"}'])),
         qr/^fail error=payStatus must be an integer/, "$name: pay: bad type");
    like($outcome->($pay->('HSO20990101000000nothere')),
         qr/^fail error=.*does not exist/, "$name: pay: unknown order");

    # go-zero's cache keys go after the write
    my $kid = "cache:looklookOrder:homestayOrder:id:";
    my $ksn = "cache:looklookOrder:homestayOrder:sn:$f";
    my ($rc, $out) = ll_run($cli, '--json', 'order', 'show', '--db', $url, $f);
    my ($id) = $out =~ /"id":(\d+)/;
    $redis->cmd('SET', "$kid$id", '{"Id":1}');
    $redis->cmd('SET', $ksn, $id);
    is($outcome->($pay->($f)), 'done', "$name: pay with cached row");
    is($redis->cmd('EXISTS', "$kid$id", $ksn), 0,
       "$name: both go-zero cache keys deleted");

    # close and pay racing on the same orders: exactly one wins each
    my @race = $create->(30);
    my (@cl, @pl);
    for my $sn (@race) {
        my ($x, $y) = $put->(['defer:homestay_order:close', qq({"Sn":"$sn"})],
            ['payment-update-paystatus-topic', qq({"payStatus":1,"orderSn":"$sn"})]);
        push @cl, $x;
        push @pl, $y;
    }
    my $st = $show->(@race);
    my ($ok, $won_pay) = (0, 0);
    for my $i (0 .. $#race) {
        my ($co, $po) = ($outcome->($cl[$i]), $outcome->($pl[$i]));
        my $s = $show->($race[$i])->{$race[$i]} // [ '?', -1 ];
        my $good = $co eq 'done' && $s->[1] == 1
            && ($s->[0] eq 'WaitUse' ? $po eq 'done' && $notifies->($race[$i]) == 1
              : $s->[0] eq 'Cancel' ? $po =~ /^fail error=.*is Cancel/
                                      && $notifies->($race[$i]) == 0
              : 0);
        $ok += $good;
        $won_pay += $s->[0] eq 'WaitUse';
        diag "$race[$i]: close $co, pay $po, state @$s" unless $good;
    }
    is($ok, 30, "$name: close vs pay: one winner each, state and version "
       . "consistent ($won_pay paid first)");

    # the database away, then back: the work is retried, nothing lost
    my ($g) = $create->(1);
    $o{down}->();
    my $pn = $pay->($g);
    ok($ll->wait_log(qr/retry #$pn attempt \d+ error=order $g: /, 20),
       "$name: database away: the payment is retried");
    sleep 1;
    $o{up}->();
    is($outcome->($pn), 'done', "$name: database back: payment done");
    is_deeply($show->($g)->{$g}, [ 'WaitUse', 1 ], "$name: ... and applied");
    is($notifies->($g), 1, "$name: ... and notified once");

    unlike($ll->log, qr/\[err\].*(?:crash|signal)/, "$name: no crash");
    $ll->stop;
}

# SQLite: "away" is another process holding the write lock
{
    my $dir = ll_dir();
    my $url = "sqlite:$dir/data/orders.db";
    my $lock;
    suite('sqlite', $url,
        down => sub {
            open($lock, '|-', 'sqlite3', "$dir/data/orders.db") or die $!;
            select((select($lock), $| = 1)[0]);
            print $lock "BEGIN EXCLUSIVE;\n";
            sleep 1;
        },
        up => sub { print $lock "COMMIT;\n.quit\n"; close $lock; });
}

SKIP: {
    skip 'mariadb-server not installed', 1 unless LL::MariaDB->available;
    my $db = LL::MariaDB->start;
    suite('mariadb', $db->url,
          down => sub { $db->stop }, up => sub { $db->start_again });
    $db->stop;
}

done_testing;
