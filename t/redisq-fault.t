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

# A task as a Go client stores it (3.2), its msg from protoc text.
sub put {
    my ($r, $q, $id, $text, %o) = @_;
    $r->cmd('SADD', 'asynq:queues', $q);
    $r->cmd('HSET', "asynq:{$q}:t:$id", 'msg', asynq_encode('TaskMessage', $text),
            'state', $o{state} // 'pending');
    $r->cmd('LPUSH', "asynq:{$q}:pending", $id) unless $o{state};
}
sub state { $_[0]->cmd('HGET', "asynq:{$_[1]}:t:$_[2]", 'state') // '' }

# ---- times near 2^62 in a stored message: saturated, no overflow -------
# (under the sanitizers an overflow kills the worker on every attempt)
{
    my $r = LL::Redis->start;
    my $ll = LL::Test::Server->new;
    $ll->conf(redisq_conf(url => $r->url, redisq => 'queues = { default = 1; far = 1; };'));
    ok($ll->start, 'started') or BAIL_OUT($ll->log);
    my $big = 4611686018427387904;              # 2^62
    my $max = 9223372036854775807;
    my $q = 'queue: "default" retry: 3';
    put($r, 'default', 'T62', qq{type: "t:o" payload: "done" id: "T62" $q timeout: $big});
    put($r, 'default', 'D62', qq{type: "t:o" payload: "done" id: "D62" $q deadline: $big});
    put($r, 'default', 'TDM', qq{type: "t:o" payload: "done" id: "TDM" $q timeout: $max deadline: $max});
    put($r, 'default', 'RTM', qq{type: "t:o" payload: "done" id: "RTM" $q timeout: 60 retention: $max});
    put($r, 'default', 'DLY', qq{type: "t:o" payload: "retry delay=$max" id: "DLY" $q timeout: 60});
    put($r, 'far', 'INF', qq{type: "t:o" payload: "done" id: "INF" queue: "far" timeout: 60},
        state => 'scheduled');
    $r->cmd('ZADD', 'asynq:{far}:scheduled', 'inf', 'INF');
    ok(ll_wait_until(sub { !grep { $r->cmd('EXISTS', "asynq:{default}:t:$_") } qw(T62 D62 TDM) }, 10),
       'tasks with a timeout or deadline near 2^62 run and finish');
    ok(ll_wait_until(sub { state($r, 'default', 'RTM') eq 'completed' }, 5),
       'a retention near 2^63 completes');
    ok(ll_wait_until(sub { state($r, 'default', 'DLY') eq 'retry' }, 5),
       'a retry delay near 2^63 is written');
    is(state($r, 'far', 'INF'), 'scheduled', 'a task scheduled at +inf waits');
    unlike($ll->log, qr/runtime error|died|signal/i, 'no worker died');
    asynq_check_ok($r, 'huge times');
    $ll->stop;
}

done_testing;
