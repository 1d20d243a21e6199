#!/usr/bin/perl
# cron, exactly once: three looklook instances (two workers each, so six
# schedulers) share one Redis.  Over 60 ticks of "@every 1s" every tick
# is fired by exactly one of them, for an entry that enqueues into redisq
# and for one that calls a handler; no tick is missed.  While they run,
# the entries are checked as asynqmon reads them (asynq:schedulers +
# SchedulerEntry protobufs decoded with protoc, history events), and
# looklook-cli cron ls / history / run.
use strict;
use warnings;
use Test::More;
use FindBin;
use Digest::SHA qw(sha1);
use Time::HiRes qw(time sleep);
use LL::Test;
use LL::Redis;

my $proto_dir = "$FindBin::Bin/../lib/asynq";
plan skip_all => 'protoc not installed' unless -x '/usr/bin/protoc';

my $redis = LL::Redis->start;
my $objs  = ll_objs();
my $shared = ll_dir();
my $url   = $redis->url;

sub conf_text {
    return <<"EOF";
worker_processes = 2;
log_level = "debug";
modules = (
  { name = "redisq"; path = "%%OBJS%%/redisq.so"; redis = "$url";
    queues = { unused = 1; }; },
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "$shared/handled"; },
  { name = "cron"; path = "%%OBJS%%/cron.so"; redis = "$url";
    timezone = "Asia/Shanghai";
    entries = (
      { id = "every"; spec = "\@every 1s"; task = "test:every"; queue = "cronq"; },
      { id = "h"; spec = "\@every 1s"; target = "handler"; payload = "tick"; },
      { id = "settle"; spec = "*/1 * * * *"; task = "schedule:settle_record:settle";
        queue = "cronq"; },
      { id = "yearly"; spec = "0 0 0 1 1 *"; task = "test:yearly"; queue = "cronq";
        retry = 3; timeout = "90s"; unique = "1h"; retention = "24h"; }
    ); }
);
routes = ( { from = "cron:h"; to = "sink"; } );
EOF
}

# asynq entry IDs: name-based UUIDs (v5) in looklook's namespace
sub entry_uuid {
    my ($name) = @_;
    my $ns = pack 'H*', '3f0c4a8e7b2d4f619a531c5e2d8b7a90';
    my @b = unpack 'C16', substr(sha1($ns . $name), 0, 16);
    $b[6] = ($b[6] & 0x0f) | 0x50;
    $b[8] = ($b[8] & 0x3f) | 0x80;
    my $h = join '', map { sprintf '%02x', $_ } @b;
    return join '-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4),
                     substr($h, 16, 4), substr($h, 20);
}

sub decode {
    my ($type, $bytes) = @_;
    my $f = "$shared/pb.bin";
    open my $fh, '>:raw', $f or die $!;
    print $fh $bytes;
    close $fh;
    my $out = `protoc --proto_path=$proto_dir --decode=asynq.$type $proto_dir/asynq.proto < $f 2>&1`;
    return $out;
}

my @ll = map {
    LL::Test::Server->new(dir => ll_dir(), conf => conf_text())
} 1 .. 3;
for my $i (0 .. 2) {
    ok($ll[$i]->start, "instance $i up") or BAIL_OUT('no looklook');
}
my $t0 = int(time) + 2;         # first tick every instance surely saw

# ---- the asynqmon view, while running ------------------------------------
ok(ll_wait_until(sub {
        @{ $redis->cmd('ZRANGEBYSCORE', 'asynq:schedulers', int(time), '+inf') } == 1
    }, 10), 'one scheduler published for six schedulers (the leader)');
my ($skey) = @{ $redis->cmd('ZRANGEBYSCORE', 'asynq:schedulers', int(time), '+inf') };
like($skey // '', qr/^asynq:schedulers:\{[^:]+:\d+:[0-9a-f-]{36}\}$/,
     'scheduler key asynq:schedulers:{host:pid:uuid}');
my $score = $redis->cmd('ZSCORE', 'asynq:schedulers', $skey);
cmp_ok($score, '>', time + 5, 'zset score is the expiry (now + 20 s)');
cmp_ok($score, '<=', time + 21, 'expiry at most 20 s ahead');
my $ttl = $redis->cmd('TTL', $skey);
ok($ttl > 0 && $ttl <= 20, "entries list expires (TTL $ttl)");

my %e;
for my $raw (@{ $redis->cmd('LRANGE', $skey, 0, -1) }) {
    my $d = decode('SchedulerEntry', $raw);
    my ($id) = $d =~ /^id: "([^"]+)"/m;
    $e{$id} = $d;
}
is(scalar keys %e, 4, 'four SchedulerEntry protobufs');
my $ye = $e{ entry_uuid('yearly') } // '';
like($ye, qr/^spec: "0 0 0 1 1 \*"$/m, 'yearly: spec as written');
like($ye, qr/^task_type: "test:yearly"$/m, 'yearly: task type');
like($ye, qr/prev_enqueue_time \{\n\s+seconds: -62135596800\n\s*\}/,
     'yearly: prev is Go\'s zero time before the first run');
like($ye, qr/^enqueue_options: "Queue\(\\"cronq\\"\)"$/m, 'option Queue("cronq")');
like($ye, qr/^enqueue_options: "MaxRetry\(3\)"$/m, 'option MaxRetry(3)');
like($ye, qr/^enqueue_options: "Timeout\(1m30s\)"$/m, 'option Timeout(1m30s)');
like($ye, qr/^enqueue_options: "Unique\(1h0m0s\)"$/m, 'option Unique(1h0m0s)');
like($ye, qr/^enqueue_options: "Retention\(24h0m0s\)"$/m, 'option Retention(24h0m0s)');
my ($ynext) = $ye =~ /next_enqueue_time \{\n\s+seconds: (\d+)/;
my @lt = gmtime(($ynext // 0) + 8 * 3600);
is(sprintf('%02d-%02d %02d:%02d:%02d', $lt[4] + 1, $lt[3], @lt[2, 1, 0]),
   '01-01 00:00:00', 'yearly: next is 1 January 00:00 in Asia/Shanghai');
my $se = $e{ entry_uuid('settle') } // '';
like($se, qr/^task_type: "schedule:settle_record:settle"$/m, 'settle entry present');
my $he = $e{ entry_uuid('h') } // '';
like($he, qr/^task_payload: "tick"$/m, 'handler entry: payload');

# ---- looklook-cli -----------------------------------------------------------
my $cli = ll_bin('looklook-cli');
my ($rc, $out) = ll_run($cli, '-u', $url, 'cron', 'ls');
is($rc, 0, 'cron ls: exit 0');
like($out, qr/^yearly\s+\Q${\ entry_uuid('yearly')}\E\s+0 0 0 1 1 \*\s+test:yearly\s.*\s-\s+Queue/m,
     'cron ls: yearly with next and no previous run') or diag $out;
like($out, qr/^every\s+\S+\s+\@every 1s\s+test:every\s/m, 'cron ls: every');
sleep 2;
($rc, $out) = ll_run($cli, '-u', $url, 'cron', 'history', 'every', '-n', '2');
is($rc, 0, 'cron history: exit 0');
like($out, qr/^cron:every:\d+\s+\d{4}-/m, 'cron history: task IDs and times') or diag $out;
($rc, $out) = ll_run($cli, '-u', $url, 'cron', 'run', 'yearly');
is($rc, 0, 'cron run: exit 0') or diag $out;
chomp $out;
like($out, qr/^cron:yearly:run:\d+$/, 'cron run: prints the task ID');
is($redis->cmd('HGET', "asynq:{cronq}:t:$out", 'state'), 'pending', 'cron run: task enqueued');
($rc, $out) = ll_run($cli, '-u', $url, 'cron', 'run', 'nosuch');
is($rc, 1, 'cron run of an unknown entry: exit 1');
like($out, qr/no entry "nosuch"/, 'cron run of an unknown entry: says so');

# ---- 60 ticks ---------------------------------------------------------------
my $t1 = $t0 + ($ENV{CRON_TICKS} // 60) - 1;
sleep 0.05 while time < $t1 + 1.5;
$_->stop for @ll;

my %enq;
for my $id (@{ $redis->cmd('LRANGE', 'asynq:{cronq}:pending', 0, -1) }) {
    $enq{$1}++ if $id =~ /^cron:every:(\d+)$/;
}
my @missing = grep { !$enq{$_} } $t0 .. $t1;
is("@missing", '', "redisq entry: a task for each of the 60 ticks $t0..$t1");

my (%fired, %handled);
for my $l (@ll) {
    for (split /\n/, $l->log) {
        $fired{$1}{$2}++ if /entry (every|h): fired cron:\w+:(\d+),/;
    }
}
for my $entry (qw(every h)) {
    my @dup = grep { ($fired{$entry}{$_} // 0) > 1 } keys %{ $fired{$entry} };
    is("@dup", '', "$entry: no tick fired twice across the three instances");
    my @none = grep { !$fired{$entry}{$_} } $t0 .. $t1;
    is("@none", '', "$entry: every tick $t0..$t1 fired once");
}
my @by = map { my $l = $_; scalar grep { /entry every: fired/ } split /\n/, $l->log } @ll;
cmp_ok(scalar(grep { $_ > 0 } @by), '>=', 2, "ticks spread over instances (@by)");

for (split /\n/, ll_slurp("$shared/handled")) {
    $handled{$1}++ if /type=h id=cron:h:(\d+)$/;
}
my @hbad = grep { ($handled{$_} // 0) != 1 } $t0 .. $t1;
is("@hbad", '', 'handler entry: the handler ran once for each tick');

my $conflicts = grep { /already enqueued/ } map { split /\n/, $_->log } @ll;
is($conflicts, 0, 'no tick needed the task-ID safety net');

# history: one event per fired tick, newest first, as asynq writes it
my $hist = $redis->cmd('ZREVRANGE', 'asynq:scheduler_history:' . entry_uuid('every'),
                       0, -1, 'WITHSCORES');
my %ev;
for (my $i = 0; $i < @$hist; $i += 2) {
    my $d = decode('SchedulerEnqueueEvent', $hist->[$i]);
    $ev{$1}++ if $d =~ /^task_id: "cron:every:(\d+)"/m;
}
my @hmiss = grep { ($ev{$_} // 0) != 1 } $t0 .. $t1;
is("@hmiss", '', 'history: one SchedulerEnqueueEvent per tick');

# settle (*/1 * * * *, Asia/Shanghai): each minute boundary in the window
my @minutes = grep { $_ % 60 == 0 } $t0 .. $t1;
for my $m (@minutes) {
    is($redis->cmd('HGET', "asynq:{cronq}:t:cron:settle:$m", 'state'), 'pending',
       "settle fired at minute $m");
}
my $msg = $redis->cmd('HGET', "asynq:{cronq}:t:cron:every:$t0", 'msg');
my $tm = decode('TaskMessage', $msg // '');
like($tm, qr/^type: "test:every"$/m, 'task message: type');
like($tm, qr/^retention: (\d+)$/m, 'task message: retention set (exactly-once floor)');

done_testing();
