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

sub ran { my ($rec) = @_; my %n; $n{(split / /)[2]}++ for split /\n/, ll_slurp($rec); \%n }

# ---- wrong-typed keys and broken task hashes, met by every script -------
{
    my $r = LL::Redis->start;
    my $ll = LL::Test::Server->new;
    my $rec = $ll->dir . '/rec.txt';
    $ll->conf(redisq_conf(url => $r->url, record => $rec,
        redisq => 'recover_interval = "1s"; queues = { default = 1; wq = 1; };'));
    my $q = 'queue: "default" retry: 3 timeout: 60';
    # issue 9 item 1: a string under t: with its ID in pending, between good
    # tasks that one dequeue call takes together
    put($r, 'default', "g$_", qq{type: "t:g" payload: "done" id: "g$_" $q}) for 1 .. 5;
    $r->cmd('SET', 'asynq:{default}:t:bad', 'x');
    $r->cmd('LPUSH', 'asynq:{default}:pending', 'bad');
    put($r, 'default', "g$_", qq{type: "t:g" payload: "done" id: "g$_" $q}) for 6 .. 10;
    # item 4: an ID with a NUL byte, an empty msg, a hash with a state and
    # no msg
    put($r, 'default', "N\0UL", qq{type: "t:g" payload: "done" id: "N\\000UL" $q});
    $r->cmd('HSET', 'asynq:{default}:t:EM', 'msg', '', 'state', 'pending');
    $r->cmd('LPUSH', 'asynq:{default}:pending', 'EM');
    $r->cmd('HSET', 'asynq:{default}:t:NM', 'state', 'pending');
    $r->cmd('LPUSH', 'asynq:{default}:pending', 'NM');
    # the same met by the recoverer: expired leases of a hash without msg,
    # of a string key, and of a good task after them
    my $old = time - 100;
    $r->cmd('HSET', 'asynq:{default}:t:LM', 'state', 'active');
    $r->cmd('SET', 'asynq:{default}:t:LS', 'x');
    put($r, 'default', 'LG', qq{type: "t:g" payload: "done" id: "LG" $q}, state => 'active');
    for my $id (qw(LM LS LG)) {
        $r->cmd('LPUSH', 'asynq:{default}:active', $id);
        $r->cmd('ZADD', 'asynq:{default}:lease', $old, $id);
    }
    # the forwarder: a string key in scheduled before a due task
    $r->cmd('SET', 'asynq:{default}:t:FS', 'x');
    $r->cmd('ZADD', 'asynq:{default}:scheduled', $old - 1, 'FS');
    put($r, 'default', 'FG', qq{type: "t:g" payload: "done" id: "FG" $q}, state => 'scheduled');
    $r->cmd('ZADD', 'asynq:{default}:scheduled', $old, 'FG');
    # Done: a lock key of another type, a counter that is no number
    put($r, 'default', 'UL', qq{type: "t:g" payload: "done" id: "UL" $q unique_key: "asynq:{default}:unique:t:g:x"});
    $r->cmd('LPUSH', 'asynq:{default}:unique:t:g:x', 'UL');
    $r->cmd('SET', 'asynq:{default}:processed', 'not a number');
    # a queue whose lease key is a string: nothing may be dequeued half-way
    put($r, 'wq', "w$_", qq{type: "t:g" payload: "done" id: "w$_" queue: "wq"}) for 1 .. 3;
    $r->cmd('SET', 'asynq:{wq}:lease', 'x');

    ok($ll->start, 'started') or BAIL_OUT($ll->log);
    ok(ll_wait_until(sub { my $n = ran($rec); 11 == grep { $n->{$_} } map("g$_", 1 .. 10), 'FG' }, 10),
       'every good task ran, around the bad entries') or diag(explain(ran($rec)), $ll->log);
    ok(ll_wait_until(sub { state($r, 'default', 'LG') eq 'retry' }, 5),
       'the good expired lease recovered behind the bad ones');
    ok(ll_wait_until(sub { !$r->cmd('EXISTS', 'asynq:{default}:t:UL') }, 5),
       'done with a wrong-typed lock and counter');
    like($ll->log, qr/task ID "bad" in pending has no task hash \(or its key is no hash\); dropped/,
         'the string key in pending: dropped, logged');
    is($r->cmd('GET', 'asynq:{default}:t:bad'), 'x', 'and left alone');
    for my $id ("N\0UL", 'EM', 'NM', 'LM') {
        (my $show = $id) =~ s/\0/\\0/;
        ok(ll_wait_until(sub { state($r, 'default', $id) eq 'archived' }, 5), "$show archived")
            or diag(state($r, 'default', $id));
        ok(defined $r->cmd('ZSCORE', 'asynq:{default}:archived', $id), "$show in the archived zset");
        like(asynq_decode('TaskMessage', $r->cmd('HGET', "asynq:{default}:t:$id", 'msg'))->{error_msg},
             qr/^redisq: /, "$show: the reason stored in a msg that decodes");
    }
    is($r->cmd('LLEN', 'asynq:{default}:active') + $r->cmd('ZCARD', 'asynq:{default}:lease'), 0,
       'nothing left in active or lease');
    is($r->cmd('ZCARD', 'asynq:{default}:scheduled'), 0, 'the string key left scheduled');
    asynq_check_ok($r, 'bad entries', 'default');
    # nothing dequeued from a queue whose lease key is wrong, and it says so
    ok($ll->wait_log(qr/dequeue from wq: WRONGTYPE asynq:\{wq\}:lease is a string/, 5),
       'wrong-typed lease key logged');
    is_deeply([ map { state($r, 'wq', $_) } qw(w1 w2 w3) ], [qw(pending pending pending)],
              'its tasks wait in pending, untouched');
    is($r->cmd('LLEN', 'asynq:{wq}:active'), 0, 'none half-dequeued');
    $r->cmd('DEL', 'asynq:{wq}:lease');
    ok(ll_wait_until(sub { my $n = ran($rec); 3 == grep { $n->{$_} } qw(w1 w2 w3) }, 5),
       'they run once the key is repaired');
    # a task key replaced while its task runs: the ID leaves active
    put($r, 'default', 'RK', qq{type: "t:g" payload: "sleep=1000 retry" id: "RK" $q});
    ok(ll_wait_until(sub { state($r, 'default', 'RK') eq 'active' }, 5), 'RK running');
    $r->cmd('DEL', 'asynq:{default}:t:RK');
    $r->cmd('SET', 'asynq:{default}:t:RK', 'x');
    ok(ll_wait_until(sub { !$r->cmd('LLEN', 'asynq:{default}:active') }, 5), 'RK left active');
    asynq_check_ok($r, 'after all the bad entries');
    $ll->stop;
}

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
