package LL::Sentinel;

# A Redis master, one replica and three redis-sentinel processes watching
# them (quorum 2), on free loopback ports, for the failover tests:
#
#   my $s = LL::Sentinel->start;        # name "mymaster"
#   $s->url;                            # redis-sentinel://127.0.0.1:P1,.../mymaster/0
#   $s->master; $s->replica;            # LL::Redis objects (->cmd, ->stop)
#   $s->synced;                         # the replica holds all the master wrote
#   $s->kill_master;                    # kill -9; returns the old LL::Redis
#   $s->wait_promoted(30);              # the sentinels name the replica
#   $s->rcmd('LLEN', 'k');              # a command to the replica
#
# The sentinels call a master down after 1 s without answer
# (down-after-milliseconds) so a failover takes a few seconds.

use strict;
use warnings;
use LL::Test;
use LL::Redis;

sub start {
    my ($class, %o) = @_;
    my $self = bless { name => $o{name} // 'mymaster', dir => ll_dir() },
                      $class;
    $self->{master} = LL::Redis->start(dir => $self->{dir});
    my $rdir = ll_dir();
    $self->{replica} = LL::Redis->start(dir => $rdir,
        args => ['--replicaof', '127.0.0.1', $self->{master}->port]);
    die 'the replica did not sync' unless ll_wait_until(sub {
        $self->{replica}->cmd('INFO', 'replication')
            =~ /master_link_status:up/ }, 20);
    for my $i (1 .. 3) {
        my $d = ll_dir();
        my $name = $self->{name};
        my $mport = $self->{master}->port;
        # sentinel rewrites its config file: it must be its own and writable
        ll_write("$d/sentinel.conf", <<EOC);
sentinel monitor $name 127.0.0.1 $mport 2
sentinel down-after-milliseconds $name 1000
sentinel failover-timeout $name 10000
sentinel parallel-syncs $name 1
EOC
        push @{ $self->{sentinels} },
            LL::Redis->start(dir => $d, pre => ["$d/sentinel.conf", '--sentinel']);
    }
    # a failover needs the sentinels to know the replica and each other
    die 'the sentinels did not discover each other and the replica'
        unless ll_wait_until(sub {
            for my $s (@{ $self->{sentinels} }) {
                return 0 unless @{ $s->cmd('SENTINEL', 'replicas', $self->{name}) } == 1
                    && @{ $s->cmd('SENTINEL', 'sentinels', $self->{name}) } == 2;
            }
            return 1;
        }, 30);
    return $self;
}

sub master    { $_[0]{master} }
sub replica   { $_[0]{replica} }
sub sentinels { @{ $_[0]{sentinels} } }

sub url {
    my ($self, %o) = @_;
    my $auth = defined $o{password} ? ":$o{password}\@" : '';
    return "redis-sentinel://$auth"
        . join(',', map { $_->addr } @{ $self->{sentinels} })
        . "/$self->{name}/" . ($o{db} // 0);
}

# The address the first sentinel names as master, "127.0.0.1:PORT".
sub master_addr {
    my ($self) = @_;
    my $a = $self->{sentinels}[0]->cmd('SENTINEL', 'get-master-addr-by-name',
                                       $self->{name});
    return join ':', @$a;
}

# Whether the replica has applied every write the master has made.
sub synced {
    my ($self) = @_;
    my ($m) = $self->{master}->cmd('INFO', 'replication')
        =~ /master_repl_offset:(\d+)/;
    my ($r) = $self->{replica}->cmd('INFO', 'replication')
        =~ /slave_repl_offset:(\d+)/;
    return defined $m && defined $r && $m == $r;
}

sub kill_master {
    my ($self) = @_;
    my $m = $self->{master};
    delete $m->{sock};
    kill 'KILL', $m->{pid};
    waitpid($m->{pid}, 0);
    delete $m->{pid};
    return $m;
}

# Every sentinel names the replica, and the replica says it is a master.
sub wait_promoted {
    my ($self, $timeout) = @_;
    my $want = $self->{replica}->addr;
    return ll_wait_until(sub {
        for my $s (@{ $self->{sentinels} }) {
            my $a = eval { $s->cmd('SENTINEL', 'get-master-addr-by-name',
                                   $self->{name}) } or return 0;
            return 0 unless join(':', @$a) eq $want;
        }
        return $self->rcmd('ROLE')->[0] eq 'master';
    }, $timeout // 30);
}

# A command to the replica (the new master), again on a fresh connection
# when the sentinels closed ours (they kill clients on reconfiguring it).
sub rcmd {
    my ($self, @cmd) = @_;
    my $r = $self->{replica};
    my $rep = eval { $r->cmd(@cmd) };
    return $@ ? $r->cmd(@cmd) : $rep;
}

1;
