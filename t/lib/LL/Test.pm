package LL::Test;

# Test harness for looklook's black-box tests (prove, TAP).
#
#   use LL::Test;
#   my $dir = ll_dir();                      # a fresh temp folder
#   my $ll  = LL::Test::Server->new(dir => $dir, conf => <<'EOF');
#   worker_processes = 1;
#   modules = ( { name = "echo"; path = "%%OBJS%%/t/echo.so"; } );
#   EOF
#   $ll->start;                              # waits for "generation 1 ready"
#   $ll->wait_log(qr/something/, 5) or fail;
#   $ll->stop;
#
# %%OBJS%% (the build folder) and %%DIR%% (the test's folder) are replaced in
# every conf text.  LL_KEEP=1 keeps the folders for a look afterwards.

use strict;
use warnings;
use Exporter 'import';
use File::Temp ();
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);
use Cwd qw(abs_path);

our @EXPORT = qw(ll_objs ll_bin ll_dir ll_free_port ll_run ll_wait_until
                 ll_write ll_slurp ll_children ll_run_tap);

sub ll_objs {
    my $o = $ENV{LL_OBJS} // 'objs';
    return abs_path($o) // $o;
}

sub ll_bin { return ll_objs() . '/' . ($_[0] // 'looklook') }

my @dirs;    # keeps File::Temp objects alive until exit

sub ll_dir {
    my $d = File::Temp->newdir('looklook-t-XXXXXX', TMPDIR => 1,
                               CLEANUP => !$ENV{LL_KEEP});
    push @dirs, $d;
    return $d->dirname;
}

# A TCP port free on 127.0.0.1 right now.
sub ll_free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp', ReuseAddr => 1)
        or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

# Run a command; returns (exit status, stdout and stderr together).  A
# command killed by a signal gives 128 + the signal, as a shell says.
sub ll_run {
    my @cmd = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return (($? & 127) ? 128 + ($? & 127) : $? >> 8, $out);
}

# Run a C test program of the build folder (t/unit/unit.h's TAP) and turn
# each of its checks into one of ours, named "$name: what"; then check that
# at least $min ran and that it exited 0.  Needs Test::More.
sub ll_run_tap {
    my ($name, $min, $bin, @args) = @_;
    my ($rc, $out) = ll_run($bin, @args);
    my $n = 0;
    for (split /\n/, $out) {
        if (/^(not )?ok \d+ - (.*)/) {
            Test::More::ok(!$1, "$name: $2");
            $n++;
        } elsif (/^Bail out! (.*)/) {
            Test::More::fail("$name: $1");
        }
    }
    Test::More::ok($n >= $min, "$name: all cases ran ($n)");
    Test::More::is($rc, 0, "$name: exit status 0") or Test::More::diag($out);
}

# Poll $cond every 20 ms until it returns true or $timeout seconds pass.
sub ll_wait_until {
    my ($cond, $timeout) = @_;
    my $end = time + ($timeout // 10);
    while (time < $end) {
        my $r = $cond->();
        return $r if $r;
        sleep 0.02;
    }
    return $cond->();
}

sub ll_write {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh;
}

sub ll_slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    my $t = <$fh>;
    return $t // '';
}

# PIDs whose parent is $ppid.
sub ll_children {
    my ($ppid) = @_;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $s = ll_slurp($stat) or next;
        # pid (comm) state ppid ...; comm may contain spaces and parens
        $s =~ /^(\d+) \(.*\) \S+ (\d+)/s or next;
        push @kids, $1 if $2 == $ppid;
    }
    return sort { $a <=> $b } @kids;
}

package LL::Test::Server;

use strict;
use warnings;
use POSIX ();
use Time::HiRes qw(time sleep);

# new(dir => D, conf => TEXT [, name => 'looklook.conf'])
sub new {
    my ($class, %a) = @_;
    my $self = bless { dir => $a{dir} // LL::Test::ll_dir(),
                       name => $a{name} // 'looklook.conf' }, $class;
    $self->{log} = "$self->{dir}/error.log";
    $self->conf($a{conf}) if defined $a{conf};
    return $self;
}

sub dir  { $_[0]{dir} }
sub pid  { $_[0]{pid} }
sub log_path { $_[0]{log} }
sub conf_path { "$_[0]{dir}/$_[0]{name}" }

# Write the config (placeholders replaced).  Defaults for pid_file and
# error_log point into the test folder unless the text sets them.
sub conf {
    my ($self, $text) = @_;
    my $objs = LL::Test::ll_objs();
    $text =~ s/%%OBJS%%/$objs/g;
    $text =~ s/%%DIR%%/$self->{dir}/g;
    $text = qq{pid_file = "$self->{dir}/looklook.pid";\n} . $text
        unless $text =~ /^\s*pid_file\s*=/m;
    $text = qq{error_log = "$self->{log}";\n} . $text
        unless $text =~ /^\s*error_log\s*=/m;
    LL::Test::ll_write($self->conf_path, $text);
    return $self;
}

# Start the master in the foreground (in the background of the test) and
# wait until the first generation is ready.  Returns true on success.
sub start {
    my ($self, %o) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', "$self->{dir}/stdout.log";
        open STDERR, '>>', "$self->{dir}/stderr.log";
        exec LL::Test::ll_bin(), '-c', $self->conf_path, @{ $o{args} // [] }
            or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    delete @$self{qw(pid_gone status)};     # a master started before exited
    return 1 if $o{nowait};
    return $self->wait_log(qr/generation 1 ready/, $o{timeout} // 15);
}

# Start a master that is expected to fail (a first generation that does
# not come up); returns its exit code, undef if it still runs after
# $timeout seconds.
sub start_fails {
    my ($self, $timeout) = @_;
    $self->start(nowait => 1);
    my $st = $self->wait_exit($timeout // 30);
    return defined $st ? $st >> 8 : undef;
}

sub log { LL::Test::ll_slurp($_[0]{log}) }

# Wait until the error log matches $re; returns the match (or '').
# With from => N, only the text after byte N counts (see log_size).
sub wait_log {
    my ($self, $re, $timeout, %o) = @_;
    my $from = $o{from} // 0;
    my $m = LL::Test::ll_wait_until(sub {
        my $t = substr($self->log, $from);
        return $t =~ $re ? ($& || 1) : 0;
    }, $timeout // 10);
    return $m;
}

sub log_size { length($_[0]->log) }

sub signal {
    my ($self, $sig) = @_;
    kill $sig, $self->{pid};
}

sub workers { LL::Test::ll_children($_[0]{pid}) }

sub alive {
    my ($self) = @_;
    return 0 unless $self->{pid};
    my $r = waitpid($self->{pid}, POSIX::WNOHANG());
    if ($r == $self->{pid}) { $self->{status} = $?; $self->{pid_gone} = 1; }
    return !$self->{pid_gone} && kill(0, $self->{pid});
}

# Wait for the master to exit; returns its wait status or undef on timeout.
sub wait_exit {
    my ($self, $timeout) = @_;
    my $ok = LL::Test::ll_wait_until(sub { !$self->alive }, $timeout // 10);
    return $ok ? $self->{status} : undef;
}

# Graceful stop (QUIT), then TERM, then KILL.
sub stop {
    my ($self, $timeout) = @_;
    return unless $self->{pid} && $self->alive;
    my @kids = $self->workers;
    kill 'QUIT', $self->{pid};
    if (!defined $self->wait_exit($timeout // 15)) {
        kill 'TERM', $self->{pid};
        if (!defined $self->wait_exit(5)) {
            kill 'KILL', $self->{pid}, @kids;
            $self->wait_exit(5);
        }
    }
    return $self->{status};
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    if ($self->{pid} && !$self->{pid_gone}) {
        my @kids = LL::Test::ll_children($self->{pid});
        kill 'KILL', $self->{pid}, @kids;
        waitpid($self->{pid}, 0);
    }
}

1;
