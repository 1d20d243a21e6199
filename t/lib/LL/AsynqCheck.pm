package LL::AsynqCheck;

# The asynq invariants (state <=> container, every ID with its hash), read
# straight from Redis, for the redisq tests to assert after every scenario:
#
#   asynq_check_ok($r, 'after the kill');          # every queue found
#   asynq_check_ok($r, 'name', 'default', 'low');  # these queues
#   my @problems = asynq_check($r, @queues);       # one line each
#
# Checked per queue:
#   - every container key has its type (pending/active LIST, the others
#     ZSET) and every task key is a HASH with `msg` and a known `state`;
#   - every ID in a container has its hash, whose state names that
#     container, and sits in exactly one container (lease aside);
#   - every active ID has a lease entry, every lease entry is active;
#   - every task hash is in the container its state names (none in no
#     container).  A non-hash key under t: that no container names is no
#     task and is left out.
# `group` containers (aggregating) are read from asynq:{q}:groups and any
# asynq:{q}:g:* zset.  ll_held:* and other looklook keys are not checked.

use strict;
use warnings;
use Exporter 'import';
use Test::More ();

our @EXPORT = qw(asynq_check asynq_check_ok);

my %ZSETS = map { $_ => 1 } qw(scheduled retry archived completed);

sub _scan {
    my ($r, $match) = @_;
    my ($cur, @keys) = (0);
    do {
        my $rep = $r->cmd('SCAN', $cur, 'MATCH', $match, 'COUNT', 1000);
        ($cur, my $k) = @$rep;
        push @keys, @$k;
    } while ($cur ne '0');
    return @keys;
}

# Every queue with a key in Redis, and those in asynq:queues.
sub _queues {
    my ($r) = @_;
    my %q = map { $_ => 1 } @{ $r->cmd('SMEMBERS', 'asynq:queues') };
    for my $k (_scan($r, 'asynq:{*}:*')) {
        $q{$1} = 1 if $k =~ /^asynq:\{(.*?)\}:/s;
    }
    return sort keys %q;
}

sub asynq_check {
    my ($r, @queues) = @_;
    @queues = _queues($r) unless @queues;
    my @bad;
    for my $q (@queues) {
        my $p = "asynq:{$q}:";
        my (%in, %lease);        # id => [containers]
        for my $c (qw(pending active lease scheduled retry archived completed)) {
            my $type = $r->cmd('TYPE', "$p$c");
            my $want = $c eq 'pending' || $c eq 'active' ? 'list' : 'zset';
            next if $type eq 'none';
            if ($type ne $want) {
                push @bad, "$q: $p$c is a $type, not a $want";
                next;
            }
            my @ids = $want eq 'list' ? @{ $r->cmd('LRANGE', "$p$c", 0, -1) }
                                      : @{ $r->cmd('ZRANGE', "$p$c", 0, -1) };
            if ($c eq 'lease') { $lease{$_} = 1 for @ids; next; }
            push @{ $in{$_} }, $c for @ids;
        }
        if ($r->cmd('TYPE', "${p}groups") eq 'set') {
            for my $g (@{ $r->cmd('SMEMBERS', "${p}groups") }) {
                next unless $r->cmd('TYPE', "${p}g:$g") eq 'zset';
                push @{ $in{$_} }, 'aggregating'
                    for @{ $r->cmd('ZRANGE', "${p}g:$g", 0, -1) };
            }
        }
        for my $id (sort keys %in) {
            my @c = @{ $in{$id} };
            push @bad, "$q: $id is in " . join(' and ', @c) if @c > 1;
            my $key = "${p}t:$id";
            my $type = $r->cmd('TYPE', $key);
            if ($type eq 'none') { push @bad, "$q: $id in $c[0] has no task hash"; next; }
            if ($type ne 'hash') { push @bad, "$q: $id in $c[0]: its key is a $type"; next; }
            my ($state, $msg) = @{ $r->cmd('HMGET', $key, 'state', 'msg') };
            push @bad, "$q: $id in $c[0] has no msg" unless defined $msg && length $msg;
            push @bad, "$q: $id in $c[0] has state " . ($state // '(none)')
                unless grep { ($state // '') eq $_ } @c;
            push @bad, "$q: $id is active without a lease entry"
                if $c[0] eq 'active' && !$lease{$id};
        }
        for my $id (sort keys %lease) {
            push @bad, "$q: lease entry $id is not in active"
                unless grep { $_ eq 'active' } @{ $in{$id} // [] };
        }
        for my $key (_scan($r, "${p}t:*")) {
            my $id = substr($key, length("${p}t:"));
            next if $in{$id};
            # a key of another type outside the containers is no task:
            # no asynq reader looks at it
            next unless $r->cmd('TYPE', $key) eq 'hash';
            my $state = $r->cmd('HGET', $key, 'state') // '(none)';
            push @bad, "$q: task $id ($state) is in no container";
        }
    }
    return @bad;
}

sub asynq_check_ok {
    my ($r, $name, @queues) = @_;
    my @bad = asynq_check($r, @queues);
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return Test::More::is_deeply(\@bad, [], "$name: asynq invariants hold");
}

1;
