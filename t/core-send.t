#!/usr/bin/perl
# ll_send() only reaches a started instance: a business module sending
# from its start (mq modules start after it) and a handler sending while
# the mq target has already been stopped at shutdown get LL_RETRY
# "module X is not running" instead of running the target's handle.

use strict;
use warnings;
use Test::More;
use LL::Test;

# 1. from start: the target (mq) starts after the relay (business)
{
    my $ll = LL::Test::Server->new(conf => <<'EOF_CONF');
worker_processes = 1;
handler_threads = 1;
modules = (
  { name = "relay"; path = "%%OBJS%%/t/core_relay.so"; to = "tgt"; at = "start"; },
  { name = "tgt"; path = "%%OBJS%%/t/core_target.so"; }
);
EOF_CONF
    ok($ll->start, 'generation 1 ready although relay sends from start');
    like($ll->log, qr/relay: sent from start: retry \(module "tgt" is not running\)/,
         'send to the unstarted target: retry, not running');
    unlike($ll->log, qr/handle while not started/, 'target handle never ran unstarted');
    is($ll->stop, 0, 'stop: exit 0');
}

# 2. from a handler during a graceful stop: tgt (after src in the file)
# is stopped first, while the handler still sleeps on src's message
{
    my $ll = LL::Test::Server->new(conf => <<'EOF_CONF');
worker_processes = 1;
handler_threads = 1;
shutdown_timeout = 10;
modules = (
  { name = "relay"; path = "%%OBJS%%/t/core_relay.so"; to = "tgt"; sleep = "2s"; },
  { name = "src"; path = "%%OBJS%%/t/core_source.so"; count = 1; interval = "10ms"; },
  { name = "tgt"; path = "%%OBJS%%/t/core_target.so"; }
);
routes = ( { from = "src:job"; to = "relay"; } );
EOF_CONF
    ok($ll->start, 'generation 1 ready');
    ok($ll->wait_log(qr/relay: handling/, 10), 'the handler has a message');
    $ll->signal('QUIT');
    ok($ll->wait_log(qr/tgt: stopped/, 10), 'target stopped');
    ok($ll->wait_log(qr/relay: sent from handle: retry \(module "tgt" is not running\)/, 15),
       'send to the stopped target: retry, not running');
    is($ll->wait_exit(20), 0, 'master exits 0');
    unlike($ll->log, qr/handle while not started|killed by signal/,
           'target handle never ran stopped; no worker crashed');
}

done_testing();
