# redisq under hostile data and permanent errors: whatever a script meets,
# the asynq invariants hold (t/lib/LL/AsynqCheck.pm after every case), bad
# entries are archived or dropped with a logged reason, good tasks run, and
# every script error is logged (rate-limited) and counted.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use lib 't/lib';
use LL::Test;
use LL::Redis;
use LL::Asynq;
use LL::AsynqCheck;

sub enq { my ($url, @a) = @_; my ($st, $out) = cli('-u', $url, 'task', 'enqueue', @a);
          die "enqueue: $out" if $st; }

# The value of a series in `looklook -s status --json`.
sub metric {
    my ($ll, $name) = @_;
    my ($rc, $out) = ll_run(ll_bin(), '-c', $ll->conf_path, '-s', 'status', '--json');
    my $j = eval { JSON::PP::decode_json($out) } or return undef;
    for my $m (@{ $j->{metrics} // [] }) {
        return $m->{value} if ($m->{series} // '') =~ /^\Q$name\E(\{|$)/;
    }
    return undef;
}

# ---- janitor: completed tasks past their retention are deleted ---------
{
    my $r = LL::Redis->start;
    my $ll = LL::Test::Server->new;
    $ll->conf(redisq_conf(url => $r->url,
        redisq => 'janitor_interval = "1s"; queues = { default = 1; broken = 1; };'));
    ok($ll->start, 'started') or BAIL_OUT($ll->log);
    enq($r->url, 't:keep', 'done', '--id', 'KEPT', '--retention', '1s');
    ok(ll_wait_until(sub { ($r->cmd('HGET', 'asynq:{default}:t:KEPT', 'state') // '') eq 'completed' }),
       'task completed with a retention');
    ok(ll_wait_until(sub { !$r->cmd('EXISTS', 'asynq:{default}:t:KEPT')
                           && !$r->cmd('ZCARD', 'asynq:{default}:completed') }, 6),
       'the janitor deleted it once its retention was over');
    asynq_check_ok($r, 'janitor');

    # a script that fails on every run is logged once, then counted
    $r->cmd('SET', 'asynq:{broken}:completed', 'x');
    ok($ll->wait_log(qr/janitor on broken: WRONGTYPE/, 5), 'janitor error logged');
    ok(ll_wait_until(sub { (metric($ll, 'looklook_redisq_script_errors_total') // 0) >= 3 }, 8),
       'every script error counted') or diag(ll_run(ll_bin(), '-c', $ll->conf_path, '-s', 'status', '--json'));
    my $lines = () = $ll->log =~ /janitor on broken/g;
    is($lines, 1, 'logged once, not on every run');
    $ll->stop;
}

done_testing;
