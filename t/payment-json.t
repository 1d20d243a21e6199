#!/usr/bin/perl
# payment_update reads payment-rpc's message as order-mq's json.Unmarshal
# does (Go's encoding/json into {PayStatus int64; OrderSn string}): the
# last of duplicate keys wins, keys match case-insensitively (Unicode
# simple folding), null changes nothing, trailing text, numbers that are
# not int64 literals and JSON that Go refuses fail for good and change
# nothing.  Against SQLite, fed by the orders_feed fixture.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use LL::Test;

my $cli  = ll_bin('looklook-cli');
my $dir  = ll_dir();
my $db   = "sqlite://$dir/orders.db";
my $feed = "$dir/feed.txt";
ll_write($feed, '');
my $ll = LL::Test::Server->new(dir => $dir, conf => <<"EOF");
worker_processes = 1;
log_level = "info";
modules = (
  { name = "orders"; path = "%%OBJS%%/orders.so"; db = "$db"; },
  { name = "payment_update"; path = "%%OBJS%%/payment_update.so";
    notify_to = "feed"; },
  { name = "feed"; path = "%%OBJS%%/t/orders_feed.so"; in = "$feed";
    retry_delay = "100ms"; }
);
routes = ( { from = "feed:payment-update-paystatus-topic"; to = "payment_update"; } );
EOF

my ($rc, $out) = ll_run($cli, 'order', 'create', '--db', $db, '--no-close',
                        '--count', 20);
is($rc, 0, 'orders created') or diag $out;
my @sn = split /\n/, $out;
ok($ll->start, 'looklook up') or diag $ll->log;

my $lines = 0;
my $pay = sub {                 # the outcome of one message
    my ($v) = @_;
    open my $fh, '>>', $feed or die $!;
    print $fh "payment-update-paystatus-topic $v\n";
    close $fh;
    my $n = ++$lines;
    my $m = $ll->wait_log(qr/outcome #$n \S+ ([^\n]*)/, 20);
    return $m ? ($m =~ /outcome #$n \S+ ([^\n]*)/)[0] : 'none';
};
my $state = sub {
    my ($rc, $out) = ll_run($cli, '--json', 'order', 'show', '--db', $db, $_[0]);
    my $rows = eval { decode_json($out) } || [];
    return $rows->[0]{state} // 'none';
};
my $i = 0;
my $case = sub {                # message with %s for a fresh order
    my ($name, $tmpl, $want, $state_want) = @_;
    my $s = $sn[$i++];
    my $o = $pay->(sprintf $tmpl, $s);
    if (ref $want) { like($o, $want, "$name: outcome") }
    else           { is($o, $want, "$name: outcome") }
    is($state->($s), $state_want, "$name: order $state_want");
};

$case->('plain', '{"payStatus":1,"orderSn":"%s"}', 'done', 'WaitUse');
$case->('duplicate key: the last wins',
        '{"payStatus":2,"orderSn":"%s","payStatus":1}', 'done', 'WaitUse');
$case->('duplicate orderSn: the last wins',
        '{"payStatus":1,"orderSn":"HSO20990101000000nothere","orderSn":"%s"}',
        'done', 'WaitUse');
$case->('case-insensitive keys', '{"PAYSTATUS":1,"ordersn":"%s"}', 'done',
        'WaitUse');
$case->('U+017F folds to s', qq({"pay\x{c5}\x{bf}tatus":1,"orderSn":"%s"}),
        'done', 'WaitUse');
$case->('exact and folded keys: the last wins',
        '{"payStatus":1,"PayStatus":0,"orderSn":"%s"}', 'done', 'WaitPay');
$case->('null changes nothing',
        '{"payStatus":1,"orderSn":"%s","payStatus":null}', 'done', 'WaitUse');
$case->('unknown keys and escapes',
        '{"x":[1,{"y":"\u00e9\n"}],"orderSn":"%s","pay\u0053tatus":1} ',
        'done', 'WaitUse');
$case->('trailing text', '{"payStatus":1,"orderSn":"%s"}x',
        qr/^fail error=value is not .*after top-level value/, 'WaitPay');
$case->('a second value', '{"payStatus":1,"orderSn":"%s"}{}',
        qr/^fail error=value is not/, 'WaitPay');
$case->('1.0 is not an int64', '{"payStatus":1.0,"orderSn":"%s"}',
        qr/^fail error=payStatus must be an integer/, 'WaitPay');
$case->('1e0 is not an int64', '{"payStatus":1e0,"orderSn":"%s"}',
        qr/^fail error=payStatus must be an integer/, 'WaitPay');
$case->('a wrong type anywhere is an error',
        '{"payStatus":"1","payStatus":1,"orderSn":"%s"}',
        qr/^fail error=payStatus must be an integer/, 'WaitPay');
$case->('+1 is not JSON', '{"payStatus":+1,"orderSn":"%s"}',
        qr/^fail error=value is not/, 'WaitPay');
$case->('01 is not JSON', '{"payStatus":01,"orderSn":"%s"}',
        qr/^fail error=value is not/, 'WaitPay');
$case->('an escaped backslash before u0000 is no NUL',
        '{"payStatus":1,"orderSn":"HSO20990101000000\\\\u0000","orderSn":"%s"}',
        'done', 'WaitUse');
$case->('a NUL in orderSn', '{"payStatus":1,"orderSn":"%s\u0000"}',
        qr/^fail error=payStatus must be an integer and orderSn a string/,
        'WaitPay');
$case->('a raw control character in a string',
        qq({"payStatus":1,"orderSn":"%s","x":"\x01"}),
        qr/^fail error=value is not/, 'WaitPay');
is($pay->('null'), 'done', 'top-level null: the zero message, nothing to do');
like($pay->('{"payStatus":9223372036854775808,"orderSn":"x"}'),
     qr/^fail error=payStatus must be an integer/, 'int64 overflow');
like($pay->(' '), qr/^fail error=value is not/, 'empty');

is($ll->stop, 0, 'graceful stop');
unlike($ll->log, qr/AddressSanitizer|runtime error|exited on signal/, 'no crash');
done_testing;
