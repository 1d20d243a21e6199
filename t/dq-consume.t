# dq against two real beanstalkd nodes and a real Redis: jobs written as
# go-queue's producer writes them (same bytes on both nodes) and jobs
# produced by looklook run once each; the Redis lock is go-queue's (key,
# TTL); delays are honoured to the second; bad and stale bodies, failures
# and spent retries are buried with their reason; a transient answer keeps
# the job reserved without spending a retry; a lock held by another
# consumer (a Go one) means the copy is dropped.
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Redis;
use LL::Beanstalk;
use Digest::MD5 qw(md5_hex);
use Time::HiRes qw(time sleep);

my $r  = LL::Redis->start;
my @b  = (LL::Beanstalk->start, LL::Beanstalk->start);
my $ll = LL::Test::Server->new;
my $dir = $ll->dir;
my $rec = "$dir/rec.txt";
my ($e0, $e1) = map { $_->endpoint } @b;
my $url = $r->url;
$ll->conf(<<"CONF");
worker_processes = 2;
shutdown_timeout = 5;
modules = (
  { name = "dq"; path = "%%OBJS%%/dq.so";
    beanstalks = ( { endpoint = "$e0"; tube = "orders"; },
                   { endpoint = "$e1"; tube = "orders"; } );
    redis = "$url"; concurrency = 3; max_retries = 2;
    retry_backoff = "1s"; retry_backoff_max = "1s"; },
  { name = "h"; path = "%%OBJS%%/t/dq_handler.so"; record = "$rec"; }
);
routes = ( { from = "dq:orders"; to = "h"; } );
CONF
ok($ll->start, 'looklook with dq on two nodes started') or BAIL_OUT($ll->log);

sub records { grep { !/^sent / } split /\n/, ll_slurp($rec) }
sub runs { my ($text) = @_; scalar grep { / \Q$text\E$/ } records() }
sub sent { map { [ split / /, $_, 4 ] } grep { /^sent / } split /\n/, ll_slurp($rec) }
sub ns { sprintf '%d', time * 1e9 }
# go-queue's producer: the same wrapped body on every node, pri 2, ttr 5
sub goput {
    my ($body, $delay, %o) = @_;
    my $w = ($o{at_ns} // sprintf('%d', time * 1e9 + $delay * 1e9)) . "/$body";
    my @ids = map { $_->put('orders', $w, delay => int($delay), pri => 2, ttr => 5) } @b;
    return ($w, @ids);
}
sub tube_empty {
    my %s0 = $b[0]->stats_tube('orders');
    my %s1 = $b[1]->stats_tube('orders');
    return 0 == ($s0{'current-jobs-ready'} + $s0{'current-jobs-reserved'}
        + $s0{'current-jobs-delayed'} + $s1{'current-jobs-ready'}
        + $s1{'current-jobs-reserved'} + $s1{'current-jobs-delayed'});
}

# --- go-queue's jobs, replicated to both nodes, run once each ---------------
my @w;
for my $i (1 .. 20) {
    my ($w) = goput("go-$i", 0);
    push @w, $w;
}
ok(ll_wait_until(sub { tube_empty() && (grep { runs("go-$_") } 1 .. 20) == 20 }, 20),
   '20 go-queue jobs on two nodes all handled');
is(scalar(grep { runs("go-$_") == 1 } 1 .. 20), 20, 'each exactly once');
my @rs = records();
my ($line) = grep { / go-1$/ } @rs;
my ($start, $id, $type, $attempt, $max_retry, $due) = split / /, $line;
like($id, qr{^127\.0\.0\.1:\d+/orders/\d+$}, 'message id is endpoint/tube/job id');
is($type, 'orders', 'type is the tube (route dq:orders)');
is("$attempt $max_retry", '0 2', 'attempt 0, max_retry from max_retries');
my ($at_ns) = $w[0] =~ m{^(\d+)/};
is($due, int($at_ns / 1e6), 'option due = the wrapper time in ms');

# the lock: go-zero's RedisLock on md5(body), 3600 s + 500 ms
for my $i (0, 19) {
    my $key = md5_hex($w[$i]);
    like($r->cmd('GET', $key) // '', qr/^[0-9a-f]{16}$/, "lock $i: key md5(body), value 16 chars");
    my $pttl = $r->cmd('PTTL', $key);
    ok($pttl > 3_590_000 && $pttl <= 3_600_500, "lock $i: PX 3600500 ($pttl)");
}
is(scalar @{ $r->cmd('KEYS', '*') }, 20, 'one lock per job, nothing else in Redis');

# --- a lock already held (a Go consumer ran the job): the copy is dropped --
my $held = ns() . "/held-by-go";
$r->cmd('SET', md5_hex($held), 'AbCdEfGh12345678', 'PX', 60000);
$b[0]->put('orders', $held, pri => 2, ttr => 5);
ok(ll_wait_until(sub { tube_empty() }, 10), 'job whose lock is held is taken off the tube');
is(runs('held-by-go'), 0, 'and not run');
is($r->cmd('GET', md5_hex($held)), 'AbCdEfGh12345678', 'the other lock left as it was');

# --- produced by looklook: go-queue's bytes on both nodes, run once ---------
# a job that asks the handler to produce "made-1" with a 3 s delay
goput('send=made-1 after=3000', 0);
ok(ll_wait_until(sub { scalar sent() }, 10), 'handler produced through ll_send');
my ($s) = sent();
is("$s->[1] $s->[2]", '0 none', 'll_send answered done');
my @ids = split /,/, $s->[3];
is(scalar @ids, 2, 'written to both nodes: ' . $s->[3]);
my %copies;
for my $cid (@ids) {
    my ($ep, $tube, $jid) = $cid =~ m{^(.+)/(\w+)/(\d+)$} or next;
    my ($node) = grep { $_->endpoint eq $ep } @b;
    my ($reply, $body) = $node->cmd("peek $jid");
    my %st = $node->stats_job($jid);
    $copies{$ep} = { body => $body, %st };
}
is(scalar keys %copies, 2, 'a copy on each node');
my @bodies = map { $_->{body} } values %copies;
like($bodies[0], qr{^\d{19}/made-1$}, 'body is "<unix ns>/payload"');
is($bodies[0], $bodies[1], 'same bytes on both nodes');
for my $c (values %copies) {
    is("$c->{tube} $c->{state} $c->{pri} $c->{ttr}", 'orders delayed 2 5',
       'tube, delayed, pri 2, ttr 5 as go-queue');
    ok($c->{delay} == 2 || $c->{delay} == 3, "delay $c->{delay} s (3 s cut to whole seconds)");
}
my ($made_ns) = $bodies[0] =~ /^(\d+)/;
ok(ll_wait_until(sub { runs('made-1') }, 10), 'produced job handled');
ok(ll_wait_until(sub { tube_empty() }, 10), 'both copies gone');
is(runs('made-1'), 1, 'once');
my ($made) = grep { / made-1$/ } records();
my ($made_start) = split / /, $made;
ok($made_start >= int($made_ns / 1e6) - 1000,
   'not run before its due time (to the second beanstalkd keeps)');

# process_at and the errors of ll_send
my $at = int(time * 1000) + 2000;
goput("send=made-at at=$at", 0);
goput('send=made-past at=1000', 0);
ok(ll_wait_until(sub { runs('made-at') }, 10), 'job produced with process_at handled');
my ($ma) = grep { / made-at$/ } records();
ok((split / /, $ma)[0] >= $at - 1000, 'not before process_at');
is((split / /, $ma)[5], $at, 'its due time is process_at');
ok(ll_wait_until(sub { grep { $_->[2] eq 'invalid' } sent() }, 10), 'past process_at refused');
my ($past) = grep { $_->[2] eq 'invalid' } sent();
is("$past->[1] $past->[3]", "2 can't schedule task to past time", "go-queue's error, LL_FAIL");

# --- bad and stale bodies: buried, with the reason in the log -------------
my $bad_id = $b[0]->put('orders', 'no-wrapper-here', pri => 2, ttr => 5);
my $nan_id = $b[0]->put('orders', '12x45/body', pri => 2, ttr => 5);
my $old_id = $b[1]->put('orders', sprintf('%d', time * 1e9 - 31 * 60 * 1e9) . '/stale',
                        pri => 2, ttr => 5);
ok($ll->wait_log(qr{job \Q$e0\E/orders/$bad_id buried: bad body: no "<unix ns>/" due time}),
   'body without wrapper buried, reason logged');
ok($ll->wait_log(qr{job \Q$e0\E/orders/$nan_id buried: bad body: due time "12x45" is not a 64-bit integer}),
   'bad due time buried, reason logged');
ok($ll->wait_log(qr{job \Q$e1\E/orders/$old_id buried: expired: due at \d+ ns, more than 30 minutes ago}),
   'job due more than 30 min ago buried');
my %j = $b[0]->stats_job($bad_id);
is($j{state}, 'buried', 'buried in beanstalkd');

# --- fail: buried at once; retry: released with a delay, then buried -------
my ($fw) = goput('fail', 0);
ok($ll->wait_log(qr{job \S+ buried after 1 attempt\(s\) \(error\): asked to fail}),
   'fail answer: buried, reason logged');
my ($rw) = goput('retry', 0);
ok($ll->wait_log(qr{buried after 3 attempt\(s\), retries exhausted \(error\): asked to retry \(attempt 2\)}, 20),
   'retry answer: released max_retries times, then buried');
my @att = map { (split / /)[3] } grep { / retry$/ } records();
is("@att", '0 1 2', 'attempts 0, 1, 2 (releases counted by beanstalkd)');
is(scalar(grep { / fail$/ } records()), 1, 'failed job ran once (its copy dropped)');
my @buried = map { $_->drain('orders', 'buried') } @b;
is_deeply([ sort @buried ], [ sort('12x45/body', 'no-wrapper-here', $fw, $rw,
    grep { /stale$/ } @buried) ], 'buried: the bad, the stale, the failed, the spent');

# --- transient answers keep the job reserved and spend nothing ------------
my $gate = "$dir/gate";
ll_write($gate, '');
goput("gate=$gate", 0);
ok(ll_wait_until(sub { grep({ / gate=/ } records()) >= 3 }, 15), 'unavailable: tried again and again');
my ($gid) = map { (split / /)[1] } grep { / gate=/ } records();
my ($gn) = $gid =~ m{/(\d+)$};
my ($gnode) = grep { $gid =~ /^\Q${\ $_->endpoint }\E/ } @b;
my %gs = $gnode->stats_job($gn);
is("$gs{state} $gs{releases}", 'reserved 0', 'held reserved, never released');
unlink $gate;
ok(ll_wait_until(sub { tube_empty() }, 10), 'handled once the gate opens');
is_deeply([ map { (split / /)[3] } grep { / gate=/ } records() ],
          [ map { 0 } grep { / gate=/ } records() ], 'every try was attempt 0');

$ll->stop;
ok(!grep({ /ERROR|AddressSanitizer|runtime error/ } split /\n/, ll_slurp("$dir/stderr.log")),
   'no sanitizer report');

# the module's ABI
my ($rc, $out) = ll_run(ll_bin(), '-m', ll_objs() . '/dq.so');
like($out, qr/^abi:\s+2\.\d+$/m, 'dq.so is built for ABI 2.x') or diag $out;
done_testing;
