package LL::Beanstalk;

# A throwaway beanstalkd for a test, and a small client for its protocol.
#
#   my $b = LL::Beanstalk->start;            # beanstalkd on a free port
#   $b->endpoint;                            # "127.0.0.1:PORT"
#   my $id = $b->put('orders', $body, delay => 2, pri => 2, ttr => 5);
#   my ($id, $body) = $b->reserve('orders', 1);   # () on TIMED_OUT
#   $b->cmd("delete $id");                   # the reply line
#   my %s = $b->stats_tube('orders');        # current-jobs-ready => 1, ...
#   $b->stop; $b->start_again;               # same port (and binlog)
#   $b->kill;                                # SIGKILL, nothing saved
#
# With binlog => 1 the server keeps its jobs in a binlog folder, so a stop
# and start_again loses nothing.

use strict;
use warnings;
use IO::Socket::INET;
use POSIX ();
use LL::Test;

sub start {
    my ($class, %o) = @_;
    my $self = bless { port => ll_free_port(), dir => $o{dir} // ll_dir(),
                       binlog => $o{binlog} }, $class;
    $self->_spawn;
    return $self;
}

sub _spawn {
    my ($self) = @_;
    my @b = $self->{binlog} ? ('-b', "$self->{dir}/binlog-$self->{port}") : ();
    mkdir $b[1] if @b;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', "$self->{dir}/beanstalkd.log";
        open STDERR, '>&', \*STDOUT;
        exec 'beanstalkd', '-l', '127.0.0.1', '-p', $self->{port}, @b
            or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    ll_wait_until(sub {
        die "beanstalkd on port $self->{port} exited"
            if waitpid($pid, POSIX::WNOHANG()) == $pid;
        return eval { $self->connect; 1 };
    }, 10) or die "beanstalkd on port $self->{port} did not come up";
}

sub port     { $_[0]{port} }
sub endpoint { "127.0.0.1:$_[0]{port}" }

sub connect {
    my ($self) = @_;
    $self->{sock} = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $self->{port}, Proto => 'tcp') or die "connect: $!";
    binmode $self->{sock};
    $self->{using} = 'default';
    $self->{watching} = { default => 1 };
    return $self;
}

sub _line {
    my ($self) = @_;
    my $l = readline($self->{sock});
    defined $l or do { delete $self->{sock}; die "beanstalkd: connection closed" };
    $l =~ s/\r\n$//;
    return $l;
}

sub _data {
    my ($self, $n) = @_;
    my $buf = '';
    while (length($buf) < $n + 2) {
        my $r = read($self->{sock}, $buf, $n + 2 - length($buf), length($buf));
        die "beanstalkd read: $!" unless $r;
    }
    return substr($buf, 0, $n);
}

# Send one command line (and data), return the reply line; a reply with
# data ("FOUND id n", "RESERVED id n", "OK n") returns (line, data).
sub cmd {
    my ($self, $line, $data) = @_;
    $self->connect unless $self->{sock};
    my $req = "$line\r\n" . (defined $data ? "$data\r\n" : '');
    print { $self->{sock} } $req or do { delete $self->{sock}; die "write: $!" };
    my $r = $self->_line;
    if ($r =~ /^(?:FOUND|RESERVED) \d+ (\d+)$/ || $r =~ /^OK (\d+)$/) {
        return ($r, $self->_data($1));
    }
    return $r;
}

sub use_tube {
    my ($self, $tube) = @_;
    $self->connect unless $self->{sock};
    return if $self->{using} eq $tube;
    $self->cmd("use $tube") eq "USING $tube" or die "use $tube failed";
    $self->{using} = $tube;
}

# put: the job id; dies unless INSERTED
sub put {
    my ($self, $tube, $body, %o) = @_;
    $self->use_tube($tube);
    my $r = $self->cmd(sprintf('put %d %d %d %d', $o{pri} // 2,
        $o{delay} // 0, $o{ttr} // 5, length $body), $body);
    $r =~ /^INSERTED (\d+)$/ or die "put: $r";
    return $1;
}

# reserve from one tube: (id, body), or () when nothing came in time
sub reserve {
    my ($self, $tube, $timeout) = @_;
    $self->connect unless $self->{sock};
    if (!$self->{watching}{$tube}) {
        $self->cmd("watch $tube");
        $self->{watching}{$tube} = 1;
    }
    for my $t (keys %{ $self->{watching} }) {
        next if $t eq $tube;
        $self->cmd("ignore $t");
        delete $self->{watching}{$t};
    }
    my ($r, $body) = $self->cmd('reserve-with-timeout ' . ($timeout // 0));
    return () unless $r =~ /^RESERVED (\d+)/;
    return ($1, $body);
}

sub _yaml {
    my ($text) = @_;
    my %h;
    $h{$1} = $2 while defined $text && $text =~ /^([\w-]+): (.*)$/mg;
    return %h;
}

sub stats_tube {
    my ($self, $tube) = @_;
    my ($r, $y) = $self->cmd("stats-tube $tube");
    return () unless $r =~ /^OK/;
    return _yaml($y);
}

sub stats_job {
    my ($self, $id) = @_;
    my ($r, $y) = $self->cmd("stats-job $id");
    return () unless $r =~ /^OK/;
    return _yaml($y);
}

# the jobs in a state, bodies in id order, taken out of the tube (deleted):
# for checking what a tube held at the end
sub drain {
    my ($self, $tube, $state) = @_;
    $self->use_tube($tube);
    my @bodies;
    while (1) {
        my ($r, $body) = $self->cmd("peek-$state");
        last unless $r =~ /^FOUND (\d+)/;
        push @bodies, $body;
        $self->cmd("delete $1") eq 'DELETED' or die "delete $1";
    }
    return @bodies;
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    delete $self->{sock};
    kill 'TERM', $self->{pid};
    waitpid($self->{pid}, 0);
    delete $self->{pid};
}

sub kill {
    my ($self) = @_;
    return unless $self->{pid};
    delete $self->{sock};
    kill 'KILL', $self->{pid};
    waitpid($self->{pid}, 0);
    delete $self->{pid};
}

sub start_again {
    my ($self) = @_;
    $self->_spawn;
}

sub DESTROY { local ($?, $!, $@); $_[0]->kill }

1;
