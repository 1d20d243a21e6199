#!/usr/bin/perl
# log_format = "json": every line of the error log is one JSON object with
# go-zero's logx field names (@timestamp, level, content) plus pid,
# module and generation; a line written while a message is handled (by
# its handler, or by its source's done callback) carries the message's
# task_id (for redisq the asynq task ID, with its queue), or for kafka its
# topic, partition and offset.  Text stays the
# default, and a bad log_format fails looklook -t at its line.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use LL::Test;
use LL::Kafka;
use LL::Redis;

my $k    = LL::Kafka->start(topics => ['lj:1', 'lj.dlq:1'], brokers => 1);
my $lk   = LL::Kafka::librdkafka_conf();
my $boot = $k->bootstrap;
my $ll   = LL::Test::Server->new(conf => <<EOF);
log_format = "json";
worker_processes = 1;
shutdown_timeout = 2;
modules = (
  { name = "src"; path = "%%OBJS%%/t/core_source.so"; count = 5; interval = "5ms"; },
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; },
  { name = "ksink"; path = "%%OBJS%%/t/kafka_sink.so"; file = "%%DIR%%/k.txt"; },
  { name = "kafka"; path = "%%OBJS%%/kafka.so"; brokers = "$boot";
    group = "glj"; topics = [ "lj" ]; offset = "first"; max_retries = 0;
    librdkafka = ( $lk ); }
);
routes = ( { from = "src:*"; to = "sink"; }, { from = "kafka:lj"; to = "ksink"; } );
EOF

ok($ll->start, 'started') or BAIL_OUT($ll->log);
$k->produce('lj', 'ok', 'fail here');
ok($ll->wait_log(qr/to the dead-letter topic/, 30), 'the failing record is dead-lettered');
ok(ll_wait_until(sub { my @l = split /\n/, ll_slurp($ll->dir . '/out.txt'); @l == 5 }, 20),
   'the 5 messages handled');
is($ll->stop, 0, 'stopped');

my @lines = split /\n/, $ll->log;
my @j = map { eval { JSON::PP->new->utf8->decode($_) } } @lines;
is(scalar(grep { ref $_ eq 'HASH' } @j), scalar @lines, 'every line is one JSON object')
    or diag(join "\n", grep { !eval { JSON::PP::decode_json($_) } } @lines);
my @bad = grep {
    !($_->{'@timestamp'} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$/
      && $_->{level} =~ /^(error|warn|info|debug)$/
      && defined $_->{content} && $_->{pid} =~ /^\d+$/ && length $_->{module})
} @j;
is(scalar @bad, 0, 'each has @timestamp (go-zero\'s format), level, content, pid, module')
    or diag(explain(\@bad));
my ($ready) = grep { $_->{content} =~ /^worker ready/ } @j;
is($ready->{module}, 'worker', 'core lines: module "worker"');
is($ready->{generation}, 1, '... with the generation');
my ($mready) = grep { $_->{content} =~ /^generation 1 ready/ } @j;
is($mready->{module}, 'master', 'master lines: module "master"');

# the handler's lines and the source's done-callback lines name the task
my @h = grep { $_->{content} =~ /^handling (\S+)/ && $_->{module} eq 'sink' } @j;
is(scalar @h, 5, 'five "handling" lines');
is(scalar(grep { $_->{content} eq "handling $_->{task_id}" } @h), 5,
   'each with task_id, the message handled');
my @o = grep { $_->{module} eq 'src' && $_->{content} =~ /^outcome (\S+)/ } @j;
is(scalar(grep { defined $_->{task_id} && $_->{content} =~ /^outcome \Q$_->{task_id}\E / } @o),
   5, 'the done callback\'s lines too');
my ($ready_src) = grep { $_->{module} eq 'src' && $_->{content} =~ /^started/ } @j;
ok(!exists $ready_src->{task_id}, 'a line outside a message has no task_id');

# kafka: topic, partition, offset
my ($d) = grep { $_->{content} =~ /to the dead-letter topic/ } @j;
is_deeply([ @{$d}{qw(module topic partition offset)} ], [ 'kafka', 'lj', 0, 1 ],
          'the dead-letter line names topic, partition and offset')
    or diag(explain($d));
is($d->{level}, 'warn', 'at level warn');

# ---- redisq: the asynq task ID and the queue -------------------------------
my $r  = LL::Redis->start;
my $rq = LL::Test::Server->new(conf => <<EOF);
log_format = "json";
worker_processes = 1;
modules = (
  { name = "redisq"; path = "%%OBJS%%/redisq.so"; redis = "@{[ $r->url ]}";
    queues = { critical = 1; }; },
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/o"; }
);
routes = ( { from = "redisq:*"; to = "sink"; } );
EOF
ok($rq->start, 'redisq server started');
my ($rc, $out) = ll_run(ll_bin('looklook-cli'), '-u', $r->url, 'task', 'enqueue',
                        't:log', 'x', '--queue', 'critical', '--id', 'log-task-1');
is($rc, 0, 'a task enqueued') or diag $out;
ok($rq->wait_log(qr/handling log-task-1/, 20), 'handled');
$rq->stop;
my ($hl) = grep { $_->{content} eq 'handling log-task-1' }
           map { eval { JSON::PP::decode_json($_) } // () } split /\n/, $rq->log;
is_deeply([ @{$hl}{qw(module task_id queue)} ], [ 'sink', 'log-task-1', 'critical' ],
          'the handler\'s line names the asynq task ID and its queue')
    or diag(explain($hl));

# ---- text stays the default; a bad value is refused -------------------------
my $t = LL::Test::Server->new(conf => <<EOF);
worker_processes = 1;
modules = ( { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/o"; } );
EOF
ok($t->start, 'a config without log_format');
$t->stop;
like((split /\n/, $t->log)[0], qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[info\] \d+ master: /,
     'writes text lines');
ll_write($t->conf_path, qq{log_format = "xml";\n} . ll_slurp($t->conf_path));
($rc, $out) = ll_run(ll_bin(), '-t', '-c', $t->conf_path);
isnt($rc, 0, 'log_format = "xml": -t fails');
like($out, qr/looklook\.conf:1: .*log_format/, '... at its line') or diag $out;

done_testing();
