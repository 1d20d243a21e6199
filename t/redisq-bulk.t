# Bulk enqueue (looklook-cli task enqueue --file, one batch script call per
# run of tasks of a queue) leaves Redis byte for byte as the same tasks
# enqueued one at a time (task enqueue, one script call each), with the
# same outcome for every task: plain, unique, scheduled, scheduled-unique,
# a duplicate, an ID conflict inside the batch, a queue whose pending key
# has the wrong type, options, queues interleaved, more than one chunk.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use LL::Test;
use LL::Redis;
use LL::Asynq;
use LL::AsynqCheck;
use JSON::PP;

my $r = LL::Redis->start;
my @u = ('-u', $r->url);
my $J = JSON::PP->new->canonical;
my $dir = ll_dir();
my $at = time + 3600;

# [ task enqueue arguments, the same task as a --file line ]
my @tasks = (
    [ [qw(a p1 --id B1)], { type => 'a', payload => 'p1', id => 'B1' } ],
    [ [qw(a p2 --id B2 --queue q2)], { type => 'a', payload => 'p2', id => 'B2', queue => 'q2' } ],
    [ [qw(a p3 --id B3)], { type => 'a', payload => 'p3', id => 'B3' } ],
    [ [qw(u x --id B4 --unique 1h)], { type => 'u', payload => 'x', id => 'B4', unique => '1h' } ],
    [ [qw(u x --id B5 --unique 1h)], { type => 'u', payload => 'x', id => 'B5', unique => '1h' } ],
    [ ['s', 'p', '--id', 'B6', '--at', $at], { type => 's', payload => 'p', id => 'B6', at => "$at" } ],
    [ ['s', 'p', '--id', 'B7', '--at', $at, '--unique', '1h', '--queue', 'q2'],
      { type => 's', payload => 'p', id => 'B7', at => "$at", unique => '1h', queue => 'q2' } ],
    [ [qw(other y --id B1)], { type => 'other', payload => 'y', id => 'B1' } ],
    [ [qw(a p --id B9 --queue bad)], { type => 'a', payload => 'p', id => 'B9', queue => 'bad' } ],
    [ ['s', 'p', '--id', 'B10', '--queue', 'bad', '--at', $at],
      { type => 's', payload => 'p', id => 'B10', queue => 'bad', at => "$at" } ],
    [ [qw(o p --id B11 --retry 3 --timeout 90s --retention 1h --deadline 2030-01-01T00:00:00Z)],
      { type => 'o', payload => 'p', id => 'B11', retry => 3, timeout => '90s', retention => '1h',
        deadline => '2030-01-01T00:00:00Z' } ],
    [ [qw(u x --id B12 --unique 1h --queue q2)], { type => 'u', payload => 'x', id => 'B12', unique => '1h', queue => 'q2' } ],
    (map { [ ['n', "p$_", '--id', "N$_", '--queue', "q" . ($_ % 3)],
             { type => 'n', payload => "p$_", id => "N$_", queue => "q" . ($_ % 3) } ] } 1 .. 12),
);

# Every key: its type and contents; pending_since (the enqueue time) and
# lock TTLs (whole seconds left) only by their form.
sub snapshot {
    my %s;
    for my $k (sort @{ $r->cmd('KEYS', '*') }) {
        my $t = $r->cmd('TYPE', $k);
        my $v;
        if ($t eq 'hash') {
            my @h = @{ $r->cmd('HGETALL', $k) };
            for (my $i = 0; $i < @h; $i += 2) {
                $h[$i + 1] = $h[$i + 1] =~ /^\d{19}$/ ? 'NS' : 'bad' if $h[$i] eq 'pending_since';
            }
            $v = \@h;
        } elsif ($t eq 'list') {
            $v = $r->cmd('LRANGE', $k, 0, -1);
        } elsif ($t eq 'zset') {
            $v = $r->cmd('ZRANGE', $k, 0, -1, 'WITHSCORES');
        } elsif ($t eq 'set') {
            $v = [ sort @{ $r->cmd('SMEMBERS', $k) } ];
        } else {
            $v = [ $r->cmd('GET', $k), $r->cmd('TTL', $k) > 0 ? 'ttl' : 'none' ];
        }
        $s{$k} = [ $t, $v, $r->cmd('OBJECT', 'ENCODING', $k) ];
    }
    return \%s;
}

# The same start for both: a pending key of the wrong type.
sub setup { $r->cmd('FLUSHALL'); $r->cmd('SET', 'asynq:{bad}:pending', 'x') }

setup();
my @one;
for my $t (@tasks) {
    my ($st, $out) = cli(@u, 'task', 'enqueue', @{ $t->[0] });
    push @one, $st == 0 ? 'ok' : ($out =~ /(redisq: .*)/)[0];
}
my $single = snapshot();

setup();
ll_write("$dir/all.jsonl", join '', map { $J->encode($_->[1]) . "\n" } @tasks);
my ($st, $out) = cli(@u, '--json', 'task', 'enqueue', '--file', "$dir/all.jsonl");
my $res = $J->decode($out);
my @bulk = ('ok') x @tasks;
$bulk[ $_->{line} - 1 ] = $_->{error} for @{ $res->{errors} };
my $bulked = snapshot();

is_deeply(\@bulk, \@one, 'the same outcome for every task');
is_deeply([ @one[4, 7, 8] ],
          [ 'redisq: task already exists (unique lock held)',
            'redisq: task ID conflicts with another task',
            'redisq: redis unreachable: WRONGTYPE asynq:{bad}:pending is a string, not a list' ],
          'the duplicate, the conflict and the wrong type refused');
is_deeply($bulked, $single, 'Redis holds the same bytes');
is($bulked->{'asynq:{default}:t:B6'}[1][5], $at * 1000, 'scheduled task kept its due time');
asynq_check_ok($r, 'after the bulk enqueue (but the queue broken on purpose)', qw(default q0 q1 q2));

# More than one chunk of 512, queues in runs: every task stored once, in order.
$r->cmd('FLUSHALL');
ll_write("$dir/many.jsonl", join '', map { $J->encode({ type => 'm', payload => "$_", id => "M$_",
                                                         queue => 'm' . int($_ / 300) }) . "\n" } 0 .. 1199);
($st, $out) = cli(@u, '--json', 'task', 'enqueue', '--file', "$dir/many.jsonl");
is($J->decode($out)->{enqueued}, 1200, '1200 enqueued');
is_deeply([ map { $r->cmd('LLEN', "asynq:{m$_}:pending") } 0 .. 3 ], [300, 300, 300, 300], '300 a queue');
is_deeply($r->cmd('LRANGE', 'asynq:{m1}:pending', 0, -1), [ map { "M$_" } reverse 300 .. 599 ],
          'pushed in order');
asynq_check_ok($r, 'after 1200 tasks');

done_testing;
