#!/usr/bin/perl
# The out-of-tree story: `make install` into a prefix, build examples/hello
# against the installed headers, pkg-config file and looklook-module.mk,
# install it into the module dir, add it to a running server, HUP: it runs.

use strict;
use warnings;
use Test::More;
use FindBin;
use Cwd qw(abs_path);
use File::Copy qw(copy);
use LL::Test;

my $root   = abs_path("$FindBin::Bin/..");
my $objs   = ll_objs();
my $prefix = ll_dir();
my $src    = ll_dir();
my $moddir = "$prefix/lib/looklook/modules";

# sub-makes of our own, not part of a `make test` that may run this
delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL)};

my ($rc, $out) = ll_run('make', '-s', '-C', $root, '-f', "$objs/Makefile",
                        'install', "PREFIX=$prefix");
is($rc, 0, 'make install PREFIX=tmp') or do { diag($out); done_testing(); exit; };
for my $f ('sbin/looklook', 'include/looklook/looklook.h',
           'include/looklook/ll_module.h', 'include/looklook/lo_orders.h', 'lib/pkgconfig/looklook.pc',
           'share/looklook/looklook-module.mk') {
    ok(-e "$prefix/$f", "installed $f");
}

local $ENV{PKG_CONFIG_PATH} = "$prefix/lib/pkgconfig";
($rc, $out) = ll_run('pkg-config', '--variable=moduledir', 'looklook');
is($out, "$moddir\n", 'pkg-config: moduledir is under the prefix');

# the order store's service header compiles from the installed headers
ll_write("$src/uses_orders.c", "#include <looklook/lo_orders.h>\n"
         . "int n(const lo_order_t *o);\n"
         . "int n(const lo_order_t *o) { return o->trade_state == LO_ORDER_WAIT_USE; }\n");
($rc, $out) = ll_run($ENV{CC} // 'cc', '-std=gnu11', '-Wall', '-Werror', '-c',
                     "-I$prefix/include", '-o', "$src/uses_orders.o",
                     "$src/uses_orders.c");
is($rc, 0, 'lo_orders.h compiles from the installed headers') or diag $out;

# the example's Makefile is a few lines that include looklook-module.mk
my @mk = grep { /\S/ && !/^\s*#/ } split /\n/, ll_slurp("$root/examples/hello/Makefile");
cmp_ok(scalar @mk, '<=', 5, 'examples/hello/Makefile: a few lines');
ok(grep({ /include .*looklook-module\.mk/ } @mk), 'it includes looklook-module.mk');

copy("$root/examples/hello/$_", "$src/$_") or die "copy $_: $!" for qw(hello.c Makefile);
($rc, $out) = ll_run('make', '-C', $src);
is($rc, 0, 'make: hello.so builds out of tree') or diag $out;
unlike($out, qr/\.[ch]:\d+:(\d+:)? warning:/, 'without compiler warnings') or diag $out;
($rc, $out) = ll_run('make', '-C', $src, 'install');
is($rc, 0, 'make install') or diag $out;
ok(-f "$moddir/hello.so", 'hello.so is in the module dir');

($rc, $out) = ll_run('nm', '-D', '--defined-only', "$moddir/hello.so");
my @syms = map { (split ' ')[-1] } grep { /\S/ } split /\n/, $out;
is_deeply(\@syms, ['ll_module'], 'hello.so exports only ll_module') or diag $out;

# installing again supersedes the file (a new inode), never rewrites it
my $ino = (stat "$moddir/hello.so")[1];
($rc, $out) = ll_run('make', '-C', $src, 'install');
isnt((stat "$moddir/hello.so")[1], $ino, 'make install again: a new inode');

($rc, $out) = ll_run("$prefix/sbin/looklook", '-m', "$moddir/hello.so");
is($rc, 0, 'the installed looklook -m hello.so') or diag $out;
like($out, qr/greeting/, '-m lists its settings');

# a running server picks it up on HUP
my $conf = <<'EOF';
worker_processes = 1;
shutdown_timeout = 2;
module_dir = "MODDIR";
modules = (
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "%%DIR%%/out.txt"; },
  { name = "src"; path = "%%OBJS%%/t/core_source.so"; count = 0; interval = "20ms"; }EXTRA
);
routes = ( { from = "src:job"; to = "sink"; }ROUTE );
EOF
$conf =~ s/MODDIR/$moddir/;
(my $c1 = $conf) =~ s/EXTRA|ROUTE//g;
my $ll = LL::Test::Server->new(conf => $c1);
ok($ll->start, 'server without hello') or do { diag($ll->log); done_testing(); exit; };

(my $c2 = $conf) =~ s/EXTRA/,\n  { name = "hi"; path = "hello.so"; greeting = "hi there"; },\n  { name = "src2"; path = "%%OBJS%%\/t\/core_source.so"; type = "greet"; count = 0; interval = "20ms"; payload = "world"; }/;
$c2 =~ s/ROUTE/, { from = "src2:greet"; to = "hi"; }/;
$ll->conf($c2);
my $from = $ll->log_size;
$ll->signal('HUP');
ok($ll->wait_log(qr/ master: generation 2 ready/, 15, from => $from), 'HUP: generation 2 ready')
    or diag substr($ll->log, $from);
ok($ll->wait_log(qr/ hi: hi there, greet g2\.w0\.\d+ \(queue -\): world$/m, 10, from => $from),
   'hello runs in the new generation') or diag substr($ll->log, $from);

is($ll->stop, 0, 'QUIT: exit 0');
done_testing();
