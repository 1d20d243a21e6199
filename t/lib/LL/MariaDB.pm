package LL::MariaDB;

# A throwaway MariaDB server for a test: its own datadir, socket and free
# port on 127.0.0.1, with real password authentication (root has a
# password; tests connect as their own user over TCP).
#
#   my $db = LL::MariaDB->start;          # or ->start(database => 'x')
#   $db->url;                             # mysql://looklook:...@127.0.0.1:P/looklook_order
#   $db->sql('SELECT trade_state FROM homestay_order WHERE sn = ?', $sn);
#                                          # rows as array refs of strings
#   $db->stop; $db->start_again;          # down and back, data kept
#
# The server runs as root (--user=root) because tests may run as root;
# mariadb-install-db writes the system tables with the normal (password)
# authentication method for root, and a password is set at once.

use strict;
use warnings;
use POSIX ();
use Time::HiRes qw(sleep);
use LL::Test;

my $ROOT_PW = 'll-root-pw';

sub available {
    for my $b (qw(mariadbd mariadb-install-db mariadb)) {
        return 0 unless grep { -x "$_/$b" } split(/:/, "$ENV{PATH}:/usr/sbin");
    }
    return 1;
}

sub start {
    my ($class, %o) = @_;
    my $dir = $o{dir} // ll_dir();
    my $self = bless {
        dir      => $dir,
        port     => $o{port} // ll_free_port(),
        database => $o{database} // 'looklook_order',
        user     => $o{user} // 'looklook',
        password => $o{password} // 'secret-p@ss:1',
    }, $class;
    $self->{datadir} = "$dir/mysql";
    $self->{socket}  = "$dir/mysql.sock";

    my ($rc, $out) = ll_run('mariadb-install-db', '--no-defaults',
        '--auth-root-authentication-method=normal', '--user=root',
        '--skip-test-db', "--datadir=$self->{datadir}");
    die "mariadb-install-db failed ($rc):\n$out" if $rc != 0;

    $self->_spawn;
    $self->_client(1, "ALTER USER 'root'\@'localhost' IDENTIFIED BY '$ROOT_PW';"
        . "CREATE DATABASE `$self->{database}` CHARACTER SET utf8mb4;"
        . "CREATE USER '$self->{user}'\@'127.0.0.1' IDENTIFIED BY "
        . _quote($self->{password}) . ";"
        . "GRANT ALL ON `$self->{database}`.* TO '$self->{user}'\@'127.0.0.1';");
    return $self;
}

sub _quote { my $s = shift; $s =~ s/(['\\])/\\$1/g; return "'$s'" }

sub _spawn {
    my ($self) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', "$self->{dir}/mariadb.out";
        open STDERR, '>&', \*STDOUT;
        exec 'mariadbd', '--no-defaults', '--user=root',
            "--datadir=$self->{datadir}", "--socket=$self->{socket}",
            "--port=$self->{port}", '--bind-address=127.0.0.1',
            "--pid-file=$self->{dir}/mariadb.pid",
            "--log-error=$self->{dir}/mariadb.err", '--skip-name-resolve',
            '--innodb-buffer-pool-size=32M', '--innodb-log-file-size=16M',
            '--max-connections=500', '--skip-log-bin'
            or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    ll_wait_until(sub {
        return 0 if waitpid($pid, POSIX::WNOHANG()) == $pid;
        -S $self->{socket} && eval { $self->_client(0, 'SELECT 1'); 1 }
            || eval { $self->_client(1, 'SELECT 1'); 1 };
    }, 60) or die "mariadbd on port $self->{port} did not come up:\n"
        . ll_slurp("$self->{dir}/mariadb.err");
}

# Run SQL as root over the socket; $first: root has no password yet.
sub _client {
    my ($self, $first, $sql) = @_;
    my @auth = $first ? () : ("-p$ROOT_PW");
    my ($rc, $out) = ll_run('mariadb', '--no-defaults', '-uroot', @auth,
        "--socket=$self->{socket}", '--batch', '--skip-column-names',
        '--raw', '-e', $sql);
    die "mariadb: $out" if $rc != 0;
    return $out;
}

sub port { $_[0]{port} }
sub url {
    my ($self) = @_;
    (my $pw = $self->{password}) =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge;
    return "mysql://$self->{user}:$pw\@127.0.0.1:$self->{port}/$self->{database}";
}

# Run a query on the test database; '?' are replaced by quoted values.
# Returns the rows, each an array ref of column texts.
sub sql {
    my ($self, $q, @args) = @_;
    $q =~ s/\?/_quote(shift @args)/ge;
    my $out = $self->_client(0, "USE `$self->{database}`; $q");
    return [ map { [ split /\t/, $_, -1 ] } split /\n/, $out ];
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'TERM', $self->{pid};
    my $gone = ll_wait_until(sub {
        waitpid($self->{pid}, POSIX::WNOHANG()) == $self->{pid} }, 60);
    if (!$gone) {
        kill 'KILL', $self->{pid};
        waitpid($self->{pid}, 0);
    }
    delete $self->{pid};
}

# Start the stopped server again on the same port and data.
sub start_again { $_[0]->_spawn; $_[0] }

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    if ($self->{pid}) {
        kill 'KILL', $self->{pid};
        waitpid($self->{pid}, 0);
    }
}

1;
