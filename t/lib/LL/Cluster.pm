package LL::Cluster;

# A Redis Cluster of three masters (no replicas) on free loopback ports,
# made with redis-cli --cluster create, for the cluster tests:
#
#   my $c = LL::Cluster->start;
#   $c->url;                  # redis-cluster://127.0.0.1:P1,127.0.0.1:P2,...
#   $c->nodes;                # LL::Redis objects (->cmd, ->port)
#   $c->node_of($key);        # the LL::Redis serving $key's slot
#   $c->cmd($key, @cmd);      # @cmd on that node

use strict;
use warnings;
use LL::Test;
use LL::Redis;
use IO::Socket::INET;

# A free port with its cluster bus port (+10000) free too: Redis refuses a
# cluster port above 55535.
sub _port {
    while (1) {
        my $p = ll_free_port();
        next if $p > 55535;
        my $bus = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                        LocalPort => $p + 10000, Proto => 'tcp',
                                        ReuseAddr => 1) or next;
        close $bus;
        return $p;
    }
}

sub start {
    my ($class, %o) = @_;
    my $self = bless {}, $class;
    for (1 .. ($o{masters} // 3)) {
        my $d = ll_dir();
        push @{ $self->{nodes} }, LL::Redis->start(dir => $d, port => _port(),
            args => ['--cluster-enabled', 'yes', '--cluster-config-file',
                     "$d/nodes.conf", '--cluster-node-timeout', '2000']);
    }
    my ($st, $out) = ll_run('redis-cli', '--cluster', 'create',
        (map { $_->addr } @{ $self->{nodes} }), '--cluster-replicas', '0',
        '--cluster-yes');
    die "redis-cli --cluster create: $out" if $st;
    die 'the cluster did not come up' unless ll_wait_until(sub {
        for my $n (@{ $self->{nodes} }) {
            return 0 unless $n->cmd('CLUSTER', 'INFO') =~ /cluster_state:ok/;
        }
        return 1;
    }, 30);
    return $self;
}

sub nodes { @{ $_[0]{nodes} } }

sub url {
    my ($self) = @_;
    return 'redis-cluster://' . join ',', map { $_->addr } @{ $self->{nodes} };
}

# The node serving $key's slot (from the first node's CLUSTER SLOTS).
sub node_of {
    my ($self, $key) = @_;
    my $slot = $self->{nodes}[0]->cmd('CLUSTER', 'KEYSLOT', $key);
    for my $range (@{ $self->{nodes}[0]->cmd('CLUSTER', 'SLOTS') }) {
        next unless $slot >= $range->[0] && $slot <= $range->[1];
        my ($port) = $range->[2][1];
        my ($n) = grep { $_->port == $port } @{ $self->{nodes} };
        return $n;
    }
    die "slot $slot of $key is not served";
}

sub cmd {
    my ($self, $key, @cmd) = @_;
    return $self->node_of($key)->cmd(@cmd);
}

1;
