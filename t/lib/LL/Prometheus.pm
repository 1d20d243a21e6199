package LL::Prometheus;

# A real Prometheus server (Debian's `prometheus`) for the admin tests: it
# scrapes looklook's /metrics every second, and its query API answers.
#
#   my $p = LL::Prometheus->new(target => "127.0.0.1:$port", token => 't');
#   my $v = $p->value('sum(looklook_messages_handled_total)');  # or undef
#   $p->wait_value($expr, sub { $_[0] == 10 }, 20) or fail;
#   my ($rc, $out) = LL::Prometheus::lint($text);     # promtool check metrics
#
# Its data folder is a fresh temp folder; it is killed when the object goes.

use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP ();
use POSIX ();
use LL::Test;

sub new {
    my ($class, %a) = @_;
    my $dir  = LL::Test::ll_dir();
    my $port = LL::Test::ll_free_port();
    my $auth = defined $a{token}
        ? "    authorization: { credentials: '$a{token}' }\n" : '';
    LL::Test::ll_write("$dir/prometheus.yml",
        "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
        . "scrape_configs:\n"
        . "  - job_name: looklook\n"
        . "    scrape_interval: 1s\n"
        . "    scrape_timeout: 900ms\n"
        . $auth
        . "    static_configs: [ { targets: ['$a{target}'] } ]\n");
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', "$dir/prometheus.log";
        open STDERR, '>>', "$dir/prometheus.log";
        exec 'prometheus', "--config.file=$dir/prometheus.yml",
            "--storage.tsdb.path=$dir/data",
            "--web.listen-address=127.0.0.1:$port", '--log.level=warn'
            or POSIX::_exit(127);
    }
    my $self = bless { pid => $pid, port => $port, dir => $dir,
                       http => HTTP::Tiny->new(timeout => 5) }, $class;
    LL::Test::ll_wait_until(sub {
        $self->{http}->get("http://127.0.0.1:$port/-/ready")->{success}
    }, 30) or die "prometheus did not start: "
                  . LL::Test::ll_slurp("$dir/prometheus.log");
    return $self;
}

# The query's result vector (array of { metric => {...}, value => [t, v] }).
sub query {
    my ($self, $expr) = @_;
    my $r = $self->{http}->get("http://127.0.0.1:$self->{port}/api/v1/query?"
                               . $self->{http}->www_form_urlencode(
                                     { query => $expr }));
    return undef unless $r->{success};
    my $j = eval { JSON::PP::decode_json($r->{content}) } or return undef;
    return $j->{status} eq 'success' ? $j->{data}{result} : undef;
}

# The single value of a query (the first series), or undef.
sub value {
    my ($self, $expr) = @_;
    my $v = $self->query($expr);
    return $v && @$v ? $v->[0]{value}[1] + 0 : undef;
}

# Wait until $ok->(value) holds; returns the last value seen if it does.
sub wait_value {
    my ($self, $expr, $ok, $timeout) = @_;
    my $last;
    LL::Test::ll_wait_until(sub {
        $last = $self->value($expr);
        return defined $last && $ok->($last);
    }, $timeout // 20);
    return defined $last && $ok->($last) ? $last : undef;
}

# promtool check metrics on an exposition text: (exit status, output).
sub lint {
    my ($text) = @_;
    my $f = LL::Test::ll_dir() . '/metrics.txt';
    LL::Test::ll_write($f, $text);
    return LL::Test::ll_run('sh', '-c', "promtool check metrics < '$f'");
}

# The looklook target as Prometheus sees it (health, lastError, ...).
sub target {
    my ($self) = @_;
    my $r = $self->{http}->get("http://127.0.0.1:$self->{port}/api/v1/targets");
    my $j = $r->{success} && eval { JSON::PP::decode_json($r->{content}) };
    return $j ? $j->{data}{activeTargets}[0] : undef;
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    if ($self->{pid}) {
        kill 'TERM', $self->{pid};
        waitpid($self->{pid}, 0);
    }
}

1;
