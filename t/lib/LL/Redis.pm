package LL::Redis;

# A throwaway redis-server for a test, and a small binary-safe RESP client.
#
#   my $r = LL::Redis->start;            # redis-server on a free port
#   $r->cmd('SET', 'k', "v\0x");          # replies: scalar, array ref, undef;
#   $r->url;                              # errors die unless ->{soft}
#   $r->restart;                          # same port, data kept (or not)
#   $r->stop;
#   LL::Redis->start(pre => [$conf, '--sentinel']);   # a redis-sentinel

use strict;
use warnings;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep);
use LL::Test;

sub start {
    my ($class, %o) = @_;
    my $self = bless { port => $o{port} // ll_free_port(),
                       fixed_port => defined $o{port},
                       dir => $o{dir} // ll_dir(),
                       args => $o{args} // [], pre => $o{pre} // [] },
                  $class;
    $self->_spawn;
    return $self;
}

# Start redis-server; when another process already holds the port (free a
# moment ago), ours exits at once: take another port, unless one was asked.
sub _spawn {
    my ($self) = @_;
    for my $try (1 .. 5) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            open STDOUT, '>>', "$self->{dir}/redis.log";
            open STDERR, '>&', \*STDOUT;
            exec 'redis-server', @{ $self->{pre} }, '--port', $self->{port}, '--bind', '127.0.0.1',
                 '--save', '', '--appendonly', 'no', '--dir', $self->{dir},
                 '--daemonize', 'no', @{ $self->{args} }
                or POSIX::_exit(127);
        }
        $self->{pid} = $pid;
        my $up = ll_wait_until(sub {
            return -1 if waitpid($pid, POSIX::WNOHANG()) == $pid;
            # up once it answers: a restart with AOF says LOADING first
            return eval { $self->connect; $self->cmd('PING') eq 'PONG' };
        }, 10);
        return if $up && $up != -1 && waitpid($pid, POSIX::WNOHANG()) == 0;
        delete $self->{sock};
        kill 'KILL', $pid;
        waitpid($pid, 0);
        delete $self->{pid};
        die "redis-server on port $self->{port} did not come up"
            if $self->{fixed_port};
        $self->{port} = ll_free_port();
    }
    die "redis-server did not come up on any port";
}

sub port { $_[0]{port} }
sub url  { "redis://127.0.0.1:$_[0]{port}/0" }
sub addr { "127.0.0.1:$_[0]{port}" }

sub connect {
    my ($self) = @_;
    $self->{sock} = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $self->{port}, Proto => 'tcp') or die "connect: $!";
    binmode $self->{sock};
    return $self;
}

# Send one command and read its reply.
sub cmd {
    my ($self, @args) = @_;
    $self->connect unless $self->{sock};
    my $req = '*' . scalar(@args) . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for map { "$_" } @args;
    my $s = $self->{sock};
    print {$s} $req or do { delete $self->{sock}; die "redis write: $!" };
    return $self->_read;
}

sub _line {
    my ($self) = @_;
    my $l = readline($self->{sock});
    defined $l or do { delete $self->{sock}; die "redis: connection closed" };
    $l =~ s/\r\n$//;
    return $l;
}

sub _read {
    my ($self) = @_;
    my $l = $self->_line;
    my ($t, $rest) = (substr($l, 0, 1), substr($l, 1));
    return $rest if $t eq '+';
    return 0 + $rest if $t eq ':';
    die "redis error: $rest\n" if $t eq '-';
    if ($t eq '$') {
        return undef if $rest < 0;
        my $buf = '';
        while (length($buf) < $rest + 2) {
            my $n = read($self->{sock}, $buf, $rest + 2 - length($buf), length($buf));
            die "redis read: $!" unless $n;
        }
        return substr($buf, 0, $rest);
    }
    if ($t eq '*') {
        return undef if $rest < 0;
        return [ map { $self->_read } 1 .. $rest ];
    }
    die "redis: bad reply '$l'";
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    delete $self->{sock};
    kill 'TERM', $self->{pid};
    waitpid($self->{pid}, 0);
    delete $self->{pid};
}

# Stop and start again on the same port (the data is gone: no persistence),
# optionally waiting $down seconds in between.
sub restart {
    my ($self, $down) = @_;
    $self->stop;
    sleep($down) if $down;
    local $self->{fixed_port} = 1;     # clients know this port
    $self->_spawn;
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    $self->stop if $self->{pid};
}

1;
