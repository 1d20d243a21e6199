#!/usr/bin/perl
# looklook -t: every config error is one line "FILE:LINE: what", exit 1;
# a good config passes with "syntax is ok" / "test is successful".
#
# In each case the line marked "#<" is the line the error must name.

use strict;
use warnings;
use Test::More;
use LL::Test;

my $dir  = ll_dir();
my $objs = ll_objs();
my $T    = "$objs/t";

my @cases = (
    [ 'syntax error', <<'EOF', qr/syntax error/ ],
worker_processes = 1;
handler_threads = ;   #<
EOF
    [ 'unknown core setting', <<'EOF', qr/^unknown setting "foo"$/ ],
worker_processes = 1;
foo = 1;   #<
EOF
    [ 'worker_processes of the wrong type', <<'EOF', qr/worker_processes/ ],
log_level = "info";
worker_processes = "many";   #<
EOF
    [ 'log_level not a level', <<'EOF', qr/log_level/ ],
worker_processes = 1;
log_level = "loud";   #<
EOF
    [ 'shutdown_timeout not an int', <<'EOF', qr/shutdown_timeout/ ],
worker_processes = 1;
shutdown_timeout = "soon";   #<
EOF
    [ 'shutdown_timeout past a day', <<'EOF', qr/^"shutdown_timeout" must be at most 1d$/ ],
worker_processes = 1;
shutdown_timeout = 9223372036854775L;   #<
EOF
    [ 'ready_timeout past a day', <<'EOF', qr/^"ready_timeout" must be at most 1d$/ ],
ready_timeout = "25h";   #<
EOF
    [ 'handler_threads not an int', <<'EOF', qr/handler_threads/ ],
handler_threads = "lots";   #<
EOF
    [ 'pid_file not a string', <<'EOF', qr/pid_file/ ],
worker_processes = 1;
pid_file = 42;   #<
EOF
    [ 'modules not a list', <<'EOF', qr/modules/ ],
worker_processes = 1;
modules = 3;   #<
EOF
    [ 'module entry without a name', <<'EOF', qr/^module entry without a name$/ ],
worker_processes = 1;
modules = (
  { path = "%%T%%/core_sink.so"; file = "x"; }   #<
);
EOF
    [ 'module name with a newline', <<'EOF', qr/^module "name" must be a non-empty string without ':' or control characters$/ ],
modules = (
  { name = "a\nb"; path = "%%T%%/core_sink.so"; file = "x"; }   #<
);
EOF
    [ 'duplicate module name', <<'EOF', qr/module "a".*(already|duplicate)/i ],
modules = (
  { name = "a"; path = "%%T%%/core_sink.so"; file = "x"; },
  { name = "a"; path = "%%T%%/core_sink.so"; file = "y"; }   #<
);
EOF
    [ 'module file missing', <<'EOF', qr/^module "x": cannot load \S*nope\.so: .*No such file/ ],
modules = (
  { name = "x"; path = "%%DIR%%/nope.so"; }   #<
);
EOF
    [ 'module file missing under module_dir', <<'EOF', qr/^module "x": cannot load \Q$dir\E\/nope\.so: / ],
module_dir = "%%DIR%%";
modules = (
  { name = "x"; path = "nope.so"; }   #<
);
EOF
    [ 'module with ABI 3.0', <<'EOF', qr/^module "x": cannot load \S+: module ABI 3\.0 but this core is 2\.\d+: the module needs a newer looklook$/ ],
modules = (
  { name = "x"; path = "%%T%%/core_bad_abi.so"; }   #<
);
EOF
    [ 'not a module', <<'EOF', qr/^module "x": cannot load \S+: not a looklook module \(no "ll_module" symbol\)$/ ],
modules = (
  { name = "x"; path = "%%T%%/core_not_module.so"; }   #<
);
EOF
    [ 'module with an undefined symbol', <<'EOF', qr/^module "x": cannot load .*undefined symbol: core_undef_no_such_function/ ],
modules = (
  { name = "x"; path = "%%T%%/core_undef.so"; }   #<
);
EOF
    [ 'unknown module setting', <<'EOF', qr/^module "s": unknown setting "brokerz"$/ ],
modules = (
  { name = "s";
    path = "%%T%%/core_schema.so";
    label = "x";
    brokerz = "localhost";   #<
  }
);
EOF
    [ 'int setting of the wrong type', <<'EOF', qr/^module "s": .*limit/ ],
modules = (
  { name = "s";
    path = "%%T%%/core_schema.so";
    limit = "ten";   #<
    label = "x";
  }
);
EOF
    [ 'bool setting of the wrong type', <<'EOF', qr/^module "s": .*enabled/ ],
modules = (
  { name = "s";
    path = "%%T%%/core_schema.so";
    label = "x";
    enabled = 3;   #<
  }
);
EOF
    [ 'string setting of the wrong type', <<'EOF', qr/^module "s": .*label/ ],
modules = (
  { name = "s";
    path = "%%T%%/core_schema.so";
    label = 5;   #<
  }
);
EOF
    [ 'malformed duration', <<'EOF', qr/^module "s": .*timeout/ ],
modules = (
  { name = "s";
    path = "%%T%%/core_schema.so";
    label = "x";
    timeout = "5 parsecs";   #<
  }
);
EOF
    [ 'double setting of the wrong type', <<'EOF', qr/^module "s": .*ratio/ ],
modules = (
  { name = "s";
    path = "%%T%%/core_schema.so";
    label = "x";
    ratio = "half";   #<
  }
);
EOF
    [ 'missing required setting', <<'EOF', qr/^module "s": missing required setting "label"$/ ],
modules = (
  { name = "s"; path = "%%T%%/core_schema.so"; limit = 3; }   #<
);
EOF
    [ 'init fails with a message', <<'EOF', qr/^module "f": no database here$/ ],
modules = (
  { name = "k"; path = "%%T%%/core_sink.so"; file = "%%DIR%%/k.txt"; },
  { name = "f"; path = "%%T%%/core_fail.so"; at = "init"; message = "no database here"; }   #<
);
EOF
    [ 'init rejects a value', <<'EOF', qr/^module "k": outcome "maybe" is not done, retry, fail or revoke$/ ],
modules = (
  { name = "k"; path = "%%T%%/core_sink.so"; file = "%%DIR%%/k.txt"; outcome = "maybe"; }   #<
);
EOF
    [ 'init names a node with ll_conf_error', <<'EOF', qr/items: element 1 is not a string$/ ],
modules = (
  { name = "s";
    path = "%%T%%/core_schema.so";
    label = "x";
    items = ( "a",
              2 );   #<
  }
);
EOF
    [ 'route from an unknown module', <<'EOF', qr/unknown module "nope"/ ],
modules = (
  { name = "k"; path = "%%T%%/core_sink.so"; file = "%%DIR%%/k.txt"; }
);
routes = (
  { from = "nope:job"; to = "k"; }   #<
);
EOF
    [ 'route with a newline', <<'EOF', qr/^route: "from" and "to" must not hold control characters$/ ],
modules = (
  { name = "k"; path = "%%T%%/core_sink.so"; file = "%%DIR%%/k.txt"; }
);
routes = (
  { from = "k\nx:job"; to = "k"; }   #<
);
EOF
    [ 'route to an unknown module', <<'EOF', qr/route to unknown module "zz"/ ],
modules = (
  { name = "src"; path = "%%T%%/core_source.so"; },
  { name = "k"; path = "%%T%%/core_sink.so"; file = "%%DIR%%/k.txt"; }
);
routes = (
  { from = "src:job"; to = "k"; },
  { from = "src:other"; to = "zz"; }   #<
);
EOF
    [ 'route to a module without handle', <<'EOF', qr/route to module "src".*handle/ ],
modules = (
  { name = "src"; path = "%%T%%/core_source.so"; },
  { name = "k"; path = "%%T%%/core_sink.so"; file = "%%DIR%%/k.txt"; }
);
routes = (
  { from = "k:job"; to = "src"; }   #<
);
EOF
);

sub fill {
    my ($text) = @_;
    $text =~ s/%%T%%/$T/g;
    $text =~ s/%%DIR%%/$dir/g;
    return $text;
}

sub marked_line {
    my ($text) = @_;
    my @l = split /\n/, $text;
    for my $i (0 .. $#l) { return $i + 1 if $l[$i] =~ /#</ }
    die "no #< marker";
}

# Lines of the output that are not log lines ("2026-11-25 16:30:01.123 ...").
sub plain_lines {
    return grep { length && !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} / }
           split /\n/, $_[0];
}

# The file named in messages: the path given with -c (the spec), or its
# base name (the core names the config relative to its folder); the test
# named 'FILE is the path given with -c' below holds the core to the spec.
sub file_re {
    my ($file) = @_;
    (my $base = $file) =~ s{.*/}{};
    return qr/(?:\Q$file\E|\Q$base\E)/;
}

sub check_error {
    my ($name, $file, $line, $re) = @_;
    my ($rc, $out) = ll_run(ll_bin(), '-t', '-c', "$dir/main.conf");
    is($rc, 1, "$name: exit 1");
    my @plain = plain_lines($out);
    is(scalar @plain, 1, "$name: one line") or diag $out;
    my $first = $plain[0] // '';
    my $f = file_re($file);
    like($first, qr/^$f:$line: /, "$name: names $file:$line") or diag $out;
    (my $what = $first) =~ s/^$f:\d+: //;
    like($what, $re, "$name: says what is wrong") or diag $out;
    unlike($out, qr/test is successful/, "$name: not successful");
    return $first;
}

my $first;
for my $c (@cases) {
    my ($name, $text, $re) = @$c;
    $text = fill($text);
    ll_write("$dir/main.conf", $text);
    $first = check_error($name, "$dir/main.conf", marked_line($text), $re);
}
like($first, qr/^\Q$dir\E\/main\.conf:/, 'FILE is the path given with -c');

# an error in an @included file names that file and its line
{
    my $inc = fill(<<'EOF');
handler_threads = 2;
bogus = 1;   #<
EOF
    ll_write("$dir/inc.conf", $inc);
    ll_write("$dir/main.conf", qq{worker_processes = 1;\n\@include "$dir/inc.conf"\n});
    check_error('error in an included file', "$dir/inc.conf", marked_line($inc),
                qr/^unknown setting "bogus"$/);
}

# a missing config file: one line, exit 1
{
    my ($rc, $out) = ll_run(ll_bin(), '-t', '-c', "$dir/absent.conf");
    is($rc, 1, 'missing config: exit 1');
    my @plain = plain_lines($out);
    is(scalar @plain, 1, 'missing config: one line') or diag $out;
    like($plain[0] // '', file_re("$dir/absent.conf"), 'missing config: names the file');
}

# a good config, with module_dir, relative paths, @include, "auto" workers
# and wildcard routes: init runs (defaults filled in), start does not
{
    mkdir "$dir/mods";
    for my $m (qw(core_source core_sink core_fail core_schema)) {
        symlink("$T/$m.so", "$dir/mods/$m.so") or die "symlink: $!";
    }
    ll_write("$dir/routes.conf", <<'EOF');
routes = (
  { from = "src:job"; to = "k"; },
  { from = "src:order.*"; to = "k"; }
);
EOF
    ll_write("$dir/main.conf", fill(<<'EOF'));
worker_processes = "auto";
error_log = "%%DIR%%/check.log";
log_level = "debug";
shutdown_timeout = 3;
handler_threads = 2;
module_dir = "%%DIR%%/mods";
modules = (
  { name = "src"; path = "core_source.so"; count = 5; interval = "10ms"; },
  { name = "k"; path = "core_sink.so"; file = "%%DIR%%/never.txt"; sleep = "250ms"; },
  { name = "s"; path = "core_schema.so"; label = "lbl"; items = ( "a", "b" ); },
  { name = "f"; path = "%%DIR%%/mods/core_fail.so"; at = "start"; },
  { name = "c"; path = "core_fail.so"; at = "crash"; }
);
@include "%%DIR%%/routes.conf"
EOF
    my $conf = "$dir/main.conf";
    my ($rc, $out) = ll_run(ll_bin(), '-t', '-c', $conf);
    is($rc, 0, 'good config: exit 0') or diag $out;
    my $f = file_re($conf);
    like($out, qr/^$f: syntax is ok$/m, 'good config: syntax is ok');
    like($out, qr/^$f: test is successful$/m, 'good config: test is successful');
    like($out, qr/^\Q$conf\E: syntax is ok$/m, 'FILE is the path given with -c (-t)');
    ok(!-e "$dir/never.txt", '-t runs init only, not start (no file opened)');
    like($out . ll_slurp("$dir/check.log"),
         qr/label=lbl limit=10 enabled=1 timeout_ms=90000 ratio=0\.5 items=2/,
         "init got the settings and the schema's defaults");
    my @kids = ll_children($$);
    is(scalar @kids, 0, '-t leaves no process behind');

    # durations: a bare number is seconds, units and sums are accepted
    ll_write($conf, fill(<<'EOF'));
error_log = "%%DIR%%/check2.log";
modules = (
  { name = "a"; path = "%%T%%/core_schema.so"; label = "a"; timeout = 30; limit = -4; enabled = false; },
  { name = "b"; path = "%%T%%/core_schema.so"; label = "b"; timeout = "250ms"; ratio = 2.25; },
  { name = "c"; path = "%%T%%/core_schema.so"; label = "c"; timeout = "1h1m1s"; }
);
EOF
    ($rc, $out) = ll_run(ll_bin(), '-t', '-c', $conf);
    is($rc, 0, 'durations: exit 0') or diag $out;
    my $log = $out . ll_slurp("$dir/check2.log");
    like($log, qr/label=a limit=-4 enabled=0 timeout_ms=30000 /, 'duration 30 = 30 s, int and bool set');
    like($log, qr/label=b limit=10 enabled=1 timeout_ms=250 ratio=2\.25 /, 'duration "250ms", double set');
    like($log, qr/label=c .*timeout_ms=3661000 /, 'duration "1h1m1s"');
    like($log, qr/label=a .* mode=check$/m, 'init knows it runs in the -t checker');
    like($log, qr/ c: fini label=c\n.* b: fini label=b\n.* a: fini label=a$/m,
         '-t runs fini after init, in reverse order') or diag $log;
}

done_testing();
