package LL::Kafka;

# A throwaway Kafka broker for a test (tools/kafka-mock: librdkafka's mock
# cluster on free loopback ports), and kcat-based helpers.
#
#   use LL::Kafka;
#   my $k = LL::Kafka->start(topics => ['orders:4', 'pay:1']);
#   $k->bootstrap;                         # "127.0.0.1:P1,127.0.0.1:P2,..."
#   $k->produce('orders', 'v1', { key => 'k', value => '{"a":1}',
#               headers => [h1 => 'x'], partition => 2 });
#   my @m = $k->consume('orders');        # everything, as hashes:
#                                         # topic partition offset key value
#                                         # headers (array ref k, v, ...)
#   my %c = $k->committed('group', 'orders');   # "orders:0" => 17, ...
#   $k->ctl('down 1'); $k->down(1); $k->up(1);  # fault injection
#   $k->stop;                             # also on destruction
#
# Client settings the mock needs (see reference/kafka-mock-facts.md):
# LL::Kafka::librdkafka_conf() gives a looklook.conf `librdkafka` list with
# short session timeouts and an eager assignor.

use strict;
use warnings;
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(sleep);
use LL::Test;

# start(topics => ['t:P', ...], brokers => 3, port => BASE, dir => D)
sub start {
    my ($class, %o) = @_;
    my $self = bless { dir => $o{dir} // ll_dir(),
                       topics => $o{topics} // [],
                       brokers => $o{brokers} // 3,
                       port => $o{port} }, $class;
    $self->_spawn;
    return $self;
}

sub _spawn {
    my ($self) = @_;
    my $boot = "$self->{dir}/kafka-mock.boot";
    my $ctl  = "$self->{dir}/kafka-mock.ctl";
    unlink $boot, $ctl;
    my @cmd = (ll_bin('kafka-mock'), '-b', $self->{brokers},
               '-w', $boot, '-C', $ctl,
               map { ('-t', $_) } @{ $self->{topics} });
    push @cmd, '-p', $self->{port} if $self->{port};
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', "$self->{dir}/kafka-mock.log";
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    ll_wait_until(sub { -s $boot && -s $ctl
                        || waitpid($pid, POSIX::WNOHANG()) == $pid }, 15);
    die "kafka-mock did not come up:\n" . ll_slurp("$self->{dir}/kafka-mock.log")
        unless -s $boot && -s $ctl;
    chomp($self->{bootstrap} = ll_slurp($boot));
    chomp($self->{ctl_addr} = ll_slurp($ctl));
}

sub bootstrap { $_[0]{bootstrap} }
sub ctl_addr  { $_[0]{ctl_addr} }
sub pid       { $_[0]{pid} }
sub dir       { $_[0]{dir} }

# The broker ports, in broker id order (id 1 first).
sub ports {
    my ($self) = @_;
    return map { /:(\d+)$/ ? $1 : () } split /,/, $self->{bootstrap};
}

# A looklook.conf `librdkafka = ( ... );` body for clients of the mock.
# Keys may carry the module's "consumer:"/"producer:" scope prefix.
sub librdkafka_conf {
    my (%extra) = @_;
    my %p = ('consumer:session.timeout.ms' => 6000,
             'consumer:heartbeat.interval.ms' => 500,
             'consumer:partition.assignment.strategy' => 'range',
             'topic.metadata.refresh.interval.ms' => 1000, %extra);
    return join(', ', map { qq{"$_=$p{$_}"} } sort keys %p);
}

# A looklook server consuming topics into the kafka_sink fixture: the
# config the kafka tests share (one kafka module "kafka" reading from the
# first offset with librdkafka_conf()'s settings, a sink writing
# DIR/sink.log, a route from each topic to the sink).  Options:
#   group, topics => [..]       the consumer (required)
#   kafka => 'text'             more settings of the kafka module
#   librdkafka => ['k=v', ..]   more librdkafka entries
#   sink => 'text'              more settings of the sink (sleep, json)
#   routes => [..]              topics routed to the sink (default: all)
#   workers (1), shutdown_timeout (5), global => 'text' (top-level
#   settings), dir (a new ll_dir)
# Returns an LL::Test::Server, not started; its sink file is
# $server->dir . '/sink.log'.
sub sink_server {
    my ($self, %o) = @_;
    my $dir    = $o{dir} // ll_dir();
    my $topics = join(', ', map { qq{"$_"} } @{ $o{topics} });
    my $lk     = join(', ', librdkafka_conf(), map { qq{"$_"} }
                                                @{ $o{librdkafka} // [] });
    my $routes = join(",\n  ", map { qq{{ from = "kafka:$_"; to = "sink"; }} }
                                   @{ $o{routes} // $o{topics} });
    my $conf = sprintf(<<'EOF', $o{workers} // 1, $o{shutdown_timeout} // 5,
worker_processes = %d;
shutdown_timeout = %d;
%s
modules = (
  { name = "sink"; path = "%%%%OBJS%%%%/t/kafka_sink.so"; file = "%s/sink.log";
    %s },
  { name = "kafka"; path = "%%%%OBJS%%%%/kafka.so"; brokers = "%s";
    group = "%s"; topics = [ %s ]; offset = "first";
    %s
    librdkafka = ( %s ); }
);
routes = (
  %s
);
EOF
        $o{global} // '', $dir, $o{sink} // '', $self->{bootstrap}, $o{group},
        $topics, $o{kafka} // '', $lk, $routes);
    return LL::Test::Server->new(dir => $dir, conf => $conf);
}

# One control command; returns the reply line (dies unless it is "ok...",
# except with soft => 1).
sub ctl {
    my ($self, $cmd, %o) = @_;
    my ($host, $port) = split /:/, $self->{ctl_addr};
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or die "kafka-mock control: $!";
    print {$s} "$cmd\n";
    my $r = <$s> // '';
    close $s;
    $r =~ s/\r?\n$//;
    die "kafka-mock control \"$cmd\": $r\n" unless $r =~ /^ok/ || $o{soft};
    return $r;
}

sub down { $_[0]->ctl("down $_[1]") }
sub up   { $_[0]->ctl("up $_[1]") }

sub _kcat {
    my ($self, $in, @args) = @_;
    my $pid = open(my $to, '|-') // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', "$self->{dir}/kcat.log";
        open STDERR, '>&', \*STDOUT;
        exec 'kcat', '-b', $self->{bootstrap}, @args or POSIX::_exit(127);
    }
    binmode $to;
    print {$to} $in;
    close $to;
    die "kcat @args failed (status $?); see $self->{dir}/kcat.log\n" if $?;
}

# produce($topic, MSG...): MSG is a value string or a hash
# { key, value, headers => [name => value, ...], partition, props =>
# ['message.max.bytes=2000000', ...] (producer properties) }.  A missing
# key or value is sent as NULL.  Messages with the same partition, headers
# and properties share one kcat run, in the order given (so each partition gets
# them in order).  Values and keys must not contain the bytes 0x1e/0x1f
# (the delimiters used).
sub produce {
    my ($self, $topic, @msgs) = @_;
    my (%groups, @order);
    for my $x (@msgs) {
        my $m = ref $x ? $x : { value => $x };
        my $sig = join("\0", $m->{partition} // '', @{ $m->{headers} // [] },
                       "\1", @{ $m->{props} // [] });
        push @order, $sig unless $groups{$sig};
        push @{ $groups{$sig} }, $m;
    }
    for my $sig (@order) {
        my $batch = $groups{$sig};
        my $m = $batch->[0];
        my @args = ('-P', '-t', $topic, '-D', '\x1e', '-K', '\x1f', '-Z',
                    '-X', 'enable.idempotence=true');
        push @args, '-p', $m->{partition} if defined $m->{partition};
        push @args, map { ('-X', $_) } @{ $m->{props} // [] };
        my @h = @{ $m->{headers} // [] };
        while (my ($k, $v) = splice @h, 0, 2) { push @args, '-H', "$k=$v" }
        my $in = '';
        for my $x (@$batch) {
            $in .= (defined $x->{key} ? "$x->{key}\x1f" : '')
                 . ($x->{value} // '') . "\x1e";
        }
        $self->_kcat($in, @args);
    }
}

# consume($topic, count => N, timeout => S): the topic's messages from the
# beginning (every partition, up to its end, or N messages), each a hash
# { topic, partition, offset, key, value, headers => [k, v, ...] }.
sub consume {
    my ($self, $topic, %o) = @_;
    my @args = ('kcat', '-b', $self->{bootstrap}, '-C', '-t', $topic,
                '-o', 'beginning', '-J', '-q', '-m', $o{timeout} // 10);
    push @args, defined $o{count} ? ('-c', $o{count}) : ('-e');
    my ($rc, $out) = ll_run(@args);
    my $json = JSON::PP->new->utf8(0);
    my @m;
    for my $line (split /\n/, $out) {
        next unless $line =~ /^\{/;
        my $j = eval { $json->decode($line) } or next;
        push @m, { topic => $j->{topic}, partition => $j->{partition},
                   offset => $j->{offset}, key => $j->{key},
                   value => $j->{payload}, headers => $j->{headers} // [] };
    }
    return @m;
}

# Header value by name from a consumed message (the first one).
sub header {
    my ($m, $name) = @_;
    my @h = @{ $m->{headers} };
    while (my ($k, $v) = splice @h, 0, 2) { return $v if $k eq $name }
    return undef;
}

# committed($group, @topics): "topic:partition" => offset (-1: none).
sub committed {
    my ($self, $group, @topics) = @_;
    my ($rc, $out) = ll_run(ll_bin('kafka-mock'), 'committed',
        '-b', $self->{bootstrap}, '-g', $group, map { ('-t', $_) } @topics);
    die "kafka-mock committed: $out" if $rc;
    my %c;
    for (split /\n/, $out) {
        $c{"$1:$2"} = $3 if /^(\S+) (\d+) (-?\d+)$/;
    }
    return %c;
}

# Sum of committed offsets over a group's partitions of @topics.
sub committed_total {
    my ($self, $group, @topics) = @_;
    my %c = $self->committed($group, @topics);
    my $n = 0;
    $n += $_ > 0 ? $_ : 0 for values %c;
    return $n;
}

# The lines t/modules/kafka_sink.c appended to $file, as hashes (pid topic
# partition offset attempt max_retry key value headers), \xNN unescaped,
# "(null)" as undef; headers as an array ref [name, value, ...].
sub sink_read {
    my ($file) = @_;
    my @r;
    my $un = sub {
        my ($s) = @_;
        return undef if $s eq '(null)';
        $s =~ s/\\x([0-9a-f]{2})/chr(hex $1)/ge;
        return $s;
    };
    for my $line (split /\n/, LL::Test::ll_slurp($file)) {
        my %h = map { /^([a-z_]+)=(.*)$/s ? ($1, $2) : () } split /\t/, $line;
        next unless exists $h{offset};
        $h{$_} = $un->($h{$_}) for qw(key value);
        $h{headers} = [ map { map { $un->($_) } split /:/, $_, 2 }
                        grep { length } split /,/, $h{headers} // '' ];
        push @r, \%h;
    }
    return @r;
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'TERM', $self->{pid};
    my $ok = ll_wait_until(sub {
        waitpid($self->{pid}, POSIX::WNOHANG()) == $self->{pid} }, 10);
    if (!$ok) {
        kill 'KILL', $self->{pid};
        waitpid($self->{pid}, 0);
    }
    delete $self->{pid};
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    $self->stop if $self->{pid};
}

1;
