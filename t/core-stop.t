#!/usr/bin/perl
# Stopping and the other signals: QUIT drains an in-flight handler, TERM
# does not wait for it, USR1 reopens the log, and -s quit|stop|reopen|status
# through the pid file.

use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use LL::Test;

sub conf {
    my (%o) = @_;
    my $count = $o{count} // 1;
    my $sleep = $o{sleep} // '0';
    my $interval = $o{interval} // '20ms';
    my $timeout = $o{timeout} // 10;
    return <<"EOF";
worker_processes = 1;
shutdown_timeout = $timeout;
handler_threads = @{[ $o{threads} // 2 ]};
modules = (
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; sleep = "$sleep"; },
  { name = "src"; path = "%%OBJS%%/t/core_source.so"; count = $count; interval = "$interval"; }
);
routes = ( { from = "src:job"; to = "sink"; } );
EOF
}

sub gone { my @p = @_; return !grep { kill 0, $_ } @p }

# QUIT: the slow in-flight handler finishes before the master exits 0
{
    my $ll = LL::Test::Server->new(conf => conf(sleep => '2s'));
    ok($ll->start, 'QUIT: started') or diag $ll->log;
    my @w = $ll->workers;
    ok($ll->wait_log(qr/ sink: handling g1\.w0\.1$/m, 5), 'QUIT: a message is in flight');
    $ll->signal('QUIT');
    my $st = $ll->wait_exit(15);
    is($st, 0, 'QUIT: the master exits 0');
    like($ll->log, qr/ sink: finished g1\.w0\.1$/m, 'QUIT: the handler finished');
    like(ll_slurp($ll->dir . '/out.txt'), qr/ id=g1\.w0\.1$/m, 'QUIT: its work is written');
    like($ll->log, qr/ src: outcome g1\.w0\.1 done$/m, 'QUIT: the source got the outcome');
    my $log = $ll->log;
    ok(index($log, 'sink: finished g1.w0.1') < index($log, 'sink: stopped'),
       'QUIT: the handler finished before its module stopped');
    ok(gone(@w), 'QUIT: no worker left');
}

# QUIT with a handler slower than shutdown_timeout: the master still exits
{
    my $ll = LL::Test::Server->new(conf => conf(sleep => '60s', timeout => 1));
    ok($ll->start, 'QUIT past shutdown_timeout: started') or diag $ll->log;
    my @w = $ll->workers;
    ok($ll->wait_log(qr/ sink: handling /, 5), 'QUIT past shutdown_timeout: in flight');
    my $t0 = time;
    $ll->signal('QUIT');
    ok(defined $ll->wait_exit(15), 'QUIT past shutdown_timeout: the master exits');
    cmp_ok(time - $t0, '<', 12, 'QUIT past shutdown_timeout: long before the handler would end');
    unlike(ll_slurp($ll->dir . '/out.txt'), qr/id=/, 'QUIT past shutdown_timeout: the handler did not finish');
    ok(gone(@w), 'QUIT past shutdown_timeout: no worker left');
}

# TERM: fast stop, does not wait for the handler
{
    my $ll = LL::Test::Server->new(conf => conf(sleep => '60s'));
    ok($ll->start, 'TERM: started') or diag $ll->log;
    my @w = $ll->workers;
    ok($ll->wait_log(qr/ sink: handling /, 5), 'TERM: in flight');
    $ll->signal('TERM');
    my $st = $ll->wait_exit(8);
    ok(defined $st, 'TERM: the master exits without waiting for the handler');
    is(($st // 0) & 127, 0, 'TERM: the master exits, not killed by a signal');
    unlike(ll_slurp($ll->dir . '/out.txt'), qr/id=/, 'TERM: the handler did not finish');
    ok(ll_wait_until(sub { gone(@w) }, 3), 'TERM: no worker left');
}

# TERM with messages still queued in the pool: none is run after the
# deadline, none is dropped silently: each goes back to its source as a
# retry ("shutting down before it ran", reason LL_R_SHUTDOWN)
{
    my $ll = LL::Test::Server->new(conf => conf(sleep => '300ms', count => 0,
                                                interval => '1ms', threads => 1));
    ok($ll->start, 'TERM, queue full: started') or diag $ll->log;
    ok($ll->wait_log(qr/ sink: handling /, 5), 'TERM, queue full: in flight');
    sleep 0.2;
    $ll->signal('TERM');
    ok(defined $ll->wait_exit(8), 'TERM, queue full: the master exits');
    my $log = $ll->log;
    my @back = $log =~ / src: outcome (\S+) retry error=shutting down before it ran$/mg;
    cmp_ok(scalar @back, '>', 0, 'TERM, queue full: queued messages are given back '
           . 'to their source as retries') or diag $log;
    my %ran = map { $_ => 1 } ll_slurp($ll->dir . '/out.txt') =~ /id=(\S+)/g;
    is(scalar(grep { $ran{$_} } @back), 0, 'TERM, queue full: none of them ran');
}

# INT: like TERM
{
    my $ll = LL::Test::Server->new(conf => conf());
    ok($ll->start, 'INT: started') or diag $ll->log;
    my @w = $ll->workers;
    $ll->signal('INT');
    ok(defined $ll->wait_exit(8), 'INT: the master exits');
    ok(ll_wait_until(sub { gone(@w) }, 3), 'INT: no worker left');
}

# USR1 and -s reopen: after the log is moved away, new lines go to a new file
{
    my $ll = LL::Test::Server->new(conf => conf(count => 0, interval => '20ms'));
    ok($ll->start, 'USR1: started') or diag $ll->log;
    my $log = $ll->log_path;
    ok($ll->wait_log(qr/ sink: finished /, 5), 'USR1: the worker logs');

    for my $how ('USR1', '-s reopen') {
        rename $log, "$log.old" or die "rename: $!";
        if ($how eq 'USR1') {
            $ll->signal('USR1');
        } else {
            my ($rc, $out) = ll_run(ll_bin(), '-c', $ll->conf_path, '-s', 'reopen');
            is($rc, 0, '-s reopen: exit 0') or diag $out;
        }
        ok(ll_wait_until(sub { ll_slurp($log) =~ / sink: finished / }, 5),
           "$how: the worker writes to the new file");
        sleep 0.3;
        my $size = -s "$log.old";
        sleep 0.5;
        is(-s "$log.old", $size, "$how: nothing more goes to the old file");
        unlink "$log.old";
    }
    is($ll->stop, 0, 'USR1: QUIT exits 0');
    like(ll_slurp($log), qr/ master: /, 'USR1: the master logs to the new file too');
}

# -s status, -s quit and -s stop through the pid file
{
    my $ll = LL::Test::Server->new(conf => conf(count => 7, interval => '1ms'));
    ok($ll->start, '-s: started') or diag $ll->log;
    ok(ll_wait_until(sub { (() = ll_slurp($ll->dir . '/out.txt') =~ / id=/g) == 7 }, 5),
       '-s: seven messages handled');
    sleep 0.2;
    my ($rc, $out) = ll_run(ll_bin(), '-c', $ll->conf_path, '-s', 'status');
    is($rc, 0, '-s status: exit 0') or diag $out;
    like($out, qr/\b$_\b/i, "-s status: a $_ column") for qw(received done retried failed revoked);
    like($out, qr/p(50|90|95|99)/i, '-s status: latency percentiles');
    my ($row) = grep { /src:job/ } split /\n/, $out;
    ok($row, '-s status: a row for route src:job') or diag $out;
    my @nums = ($row // '') =~ /(?<![\w.])(\d+)(?![\w.])/g;
    is(scalar(grep { $_ == 7 } @nums), 2, '-s status: 7 received, 7 done') or diag $out;

    my @w = $ll->workers;
    ($rc, $out) = ll_run(ll_bin(), '-c', $ll->conf_path, '-s', 'quit');
    is($rc, 0, '-s quit: exit 0') or diag $out;
    is($ll->wait_exit(10), 0, '-s quit: the master exits 0');
    ok(gone(@w), '-s quit: no worker left');

    $ll = LL::Test::Server->new(conf => conf());
    ok($ll->start, '-s stop: started') or diag $ll->log;
    ($rc, $out) = ll_run(ll_bin(), '-c', $ll->conf_path, '-s', 'stop');
    is($rc, 0, '-s stop: exit 0') or diag $out;
    ok(defined $ll->wait_exit(10), '-s stop: the master exits');
}

done_testing();
