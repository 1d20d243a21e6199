package LL::Asynq;

# asynq helpers for the redisq tests: protobuf vectors made independently
# with protoc (--encode / --decode against lib/asynq/asynq.proto).
#
#   my $bytes = asynq_encode('TaskMessage', qq{type: "x" id: "1"});
#   my $m = asynq_decode('TaskMessage', $bytes);   # { type => 'x', ... }
#   looklook-cli shortcuts: cli(@args) -> ($status, $output)

use strict;
use warnings;
use Exporter 'import';
use File::Temp ();
use IPC::Open2;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use LL::Test;

our @EXPORT = qw(asynq_encode asynq_decode asynq_decode_text cli redisq_conf);

my $proto_dir = abs_path(dirname(__FILE__) . '/../../../lib/asynq');

sub _protoc {
    my ($mode, $msg, $in) = @_;
    my $pid = open2(my $out, my $inp, 'protoc', "--$mode=asynq.$msg",
                    "--proto_path=$proto_dir", 'asynq.proto');
    binmode $inp;
    binmode $out;
    print $inp $in;
    close $inp;
    local $/;
    my $r = <$out>;
    waitpid($pid, 0);
    die "protoc --$mode failed" if $? != 0;
    return $r // '';
}

# protoc text-format string escapes back to bytes
sub _unq {
    my ($s) = @_;
    $s =~ s/\\([0-7]{3}|.)/length($1) == 3 ? chr(oct($1))
        : $1 eq 'n' ? "\n" : $1 eq 't' ? "\t" : $1 eq 'r' ? "\r" : $1/ge;
    return $s;
}

sub asynq_encode { _protoc('encode', $_[0], $_[1]) }

sub asynq_decode_text { _protoc('decode', $_[0], $_[1]) }

# Top-level scalar fields as a hash; map entries (headers, queues) as a
# hash under the field name; repeated/nested messages as their text.
sub asynq_decode {
    my ($msg, $bytes) = @_;
    my $t = asynq_decode_text($msg, $bytes);
    my %h;
    while ($t =~ /^(\w+) \{\n\s+key: "((?:[^"\\]|\\.)*)"\n\s+value: (?:"((?:[^"\\]|\\.)*)"|(-?\d+))\n\}\n/mg) {
        $h{$1}{_unq($2)} = defined $3 ? _unq($3) : $4;
    }
    while ($t =~ /^(\w+) \{\n((?:\s+\w+: [^\n]*\n)*)\}\n/mg) {
        my ($name, $body) = ($1, $2);
        next if ref $h{$name};
        my %sub;
        $sub{$1} = $2 while $body =~ /^\s+(\w+): ([^\n]*)$/mg;
        $h{$name} = \%sub;
    }
    while ($t =~ /^(\w+): (?:"((?:[^"\\]|\\.)*)"|(\S+))$/mg) {
        $h{$1} = defined $2 ? _unq($2) : $3;
    }
    return \%h;
}

# Run looklook-cli; returns (exit status, stdout+stderr).
sub cli { ll_run(ll_bin('looklook-cli'), @_) }

# A looklook.conf with redisq + the test handler routed for every type.
sub redisq_conf {
    my (%o) = @_;
    my $extra = $o{redisq} // '';
    my $workers = $o{workers} // 1;
    my $routes = $o{routes} // qq{routes = ( { from = "redisq:*"; to = "h"; } );};
    return <<EOF;
worker_processes = $workers;
log_level = "${\($o{log_level} // 'info')}";
shutdown_timeout = ${\($o{shutdown_timeout} // 3)};
modules = (
  { name = "redisq"; path = "%%OBJS%%/redisq.so"; redis = "$o{url}"; $extra },
  { name = "h"; path = "%%OBJS%%/t/redisq_handler.so"; record = "${\($o{record} // '%%DIR%%/rec.txt')}"; }
);
$routes
EOF
}

1;
