# dq when things break: a beanstalkd node killed and started again (its
# binlog kept) loses no job; Redis gone holds jobs reserved until it is
# back; a worker killed with -9 in the middle of a job: the server gives
# the job back and the new worker runs it (its own lock lets it); a stop
# while a handler overruns gives the job back; a start that reaches no
# node fails.
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Redis;
use LL::Beanstalk;
use Time::HiRes qw(time sleep);

my $r  = LL::Redis->start;
my @b  = (LL::Beanstalk->start(binlog => 1), LL::Beanstalk->start(binlog => 1));
my $ll = LL::Test::Server->new;
my $dir = $ll->dir;
my $rec = "$dir/rec.txt";
my ($e0, $e1) = map { $_->endpoint } @b;
my $url = $r->url;
my $conf = <<"CONF";
worker_processes = 1;
shutdown_timeout = 2;
modules = (
  { name = "dq"; path = "%%OBJS%%/dq.so";
    beanstalks = ( { endpoint = "$e0"; tube = "t"; },
                   { endpoint = "$e1"; tube = "t"; } );
    redis = "$url"; concurrency = 2; connect_timeout = "500ms"; },
  { name = "h"; path = "%%OBJS%%/t/dq_handler.so"; record = "$rec"; }
);
routes = ( { from = "dq:t"; to = "h"; } );
CONF
$ll->conf($conf);
ok($ll->start, 'looklook started') or BAIL_OUT($ll->log);

sub records { grep { !/^sent / } split /\n/, ll_slurp($rec) }
sub runs { my ($text) = @_; scalar grep { / \Q$text\E$/ } records() }
sub wrap { sprintf('%d', time * 1e9 + ($_[1] // 0) * 1e9) . "/$_[0]" }
sub empty {
    for my $n (@_) {
        my %s = $n->stats_tube('t');
        return 0 if !%s || $s{'current-jobs-ready'} + $s{'current-jobs-reserved'}
            + $s{'current-jobs-delayed'};
    }
    return 1;
}

# --- a node killed and started again on its binlog: nothing lost ---------
$b[0]->put('t', wrap("a-$_", 2), delay => 2) for 1 .. 10;
$b[1]->put('t', wrap("b-$_", 2), delay => 2) for 1 .. 10;
my $mark = $ll->log_size;
$b[1]->kill;
ok($ll->wait_log(qr/beanstalkd \Q$e1\E: .*(refused|closed)/, 10, from => $mark),
   'the lost node is logged');
ok(ll_wait_until(sub { (grep { runs("a-$_") } 1 .. 10) == 10 }, 15),
   'the other node goes on');
$b[1]->start_again;
ok($ll->wait_log(qr/beanstalkd \Q$e1\E reachable again/, 15, from => $mark),
   'reconnected, and logged');
ok(ll_wait_until(sub { (grep { runs("b-$_") } 1 .. 10) == 10 && empty(@b) }, 15),
   'the jobs of the node that was down all ran');
is(scalar(grep { runs("a-$_") == 1 && runs("b-$_") == 1 } 1 .. 10), 10, 'each once');

# --- Redis gone: the job stays reserved, runs when Redis is back ----------
$r->stop;
$b[0]->put('t', wrap('while-redis-down'));
ok($ll->wait_log(qr/redis: .*refused/, 10, from => $mark), 'Redis loss logged');
sub status { (ll_run(ll_bin(), '-c', $ll->conf_path, '-s', 'status', '--json'))[1] }
ok(ll_wait_until(sub { status() =~ /redis unreachable/ }, 10),
   'status: dq unready, "redis unreachable"') or diag status();
sleep 1;
is(runs('while-redis-down'), 0, 'not run without its lock');
my %s = $b[0]->stats_tube('t');
is($s{'current-jobs-reserved'}, 1, 'held reserved meanwhile');
$r->restart;
ok(ll_wait_until(sub { runs('while-redis-down') && empty(@b) }, 15), 'run once Redis is back');
ok($ll->wait_log(qr/redis reachable again/, 5, from => $mark), 'and logged');
ok(ll_wait_until(sub { status() !~ /unreachable/ }, 10), 'status: ready again');

# --- kill -9 of the worker in the middle of a job -------------------------
my $kid = $b[0]->put('t', wrap('sleep=3000 slow'), ttr => 2);
ok(ll_wait_until(sub { runs('sleep=3000 slow') }, 10), 'slow job started');
my ($w) = $ll->workers;
kill 'KILL', $w;
ok(ll_wait_until(sub { runs('sleep=3000 slow') >= 2 }, 20),
   'the job was given back and the new worker ran it');
ok(ll_wait_until(sub { empty(@b) }, 10), 'then deleted');
my @slow = grep { / slow$/ } records();
is_deeply([ map { (split / /)[1] } @slow ], [ ("$e0/t/$kid") x 2 ],
          'the same job both times (its own lock let it run again)');
is((split / /, $slow[1])[3], 0, 'no retry spent');

# --- a stop while the handler overruns gives the job back ------------------
my $gid = $b[1]->put('t', wrap('sleep=6000 overrun'), ttr => 30);
ok(ll_wait_until(sub { runs('sleep=6000 overrun') }, 10), 'long job started');
$ll->stop;
my %j = $b[1]->stats_job($gid);
is("$j{state} $j{releases}", 'ready 0', 'given back to ready, no release counted');
like($ll->log, qr{job \Q$e1\E/t/$gid given back}, 'given back, and logged');
ok(!grep({ /ERROR|AddressSanitizer|runtime error/ } split /\n/, ll_slurp("$dir/stderr.log")),
   'no sanitizer report');

# --- no node reachable at start: the generation does not start -------------
$_->kill for @b;
my $ll2 = LL::Test::Server->new(conf => $conf);
ok(!$ll2->start(timeout => 10), 'start fails');
like($ll2->log, qr/no beanstalkd node reachable/, 'because no node answers');
$ll2->stop;
done_testing;
