#!/usr/bin/perl
# The Debian packages: `dpkg-buildpackage -us -uc -b` on a copy of the tree
# builds looklook and looklook-dev, lintian finds no error in them; they
# install on this machine (apt-get, as root) with the service user and its
# folders made, the service neither enabled nor started, `looklook -t`
# passing on the installed config; an out-of-tree module builds against
# looklook-dev (pkg-config and looklook-module.mk) and `looklook -m` loads
# it; the installed server runs as the service user, reloads and stops;
# a purge removes everything but the user.

use strict;
use warnings;
use Test::More;
use FindBin;
use Cwd qw(abs_path);
use File::Copy qw(copy);
use POSIX ();
use Fcntl ();
use LL::Test;

my $root = abs_path("$FindBin::Bin/..");
my $objs = ll_objs();
delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL)};     # sub-makes of our own

# every library a module, a tool or the core builds with is a Build-Depends:
# configure's pkg-config name -> Debian package table, against debian/control
my $configure = ll_slurp("$root/configure");
my %deb_of = $configure =~ /^\s+([\w.+-]+)\)\s+echo "?([^";]+?)"?\s*;;$/mg;
my ($core_pkgs) = $configure =~ /^CORE_PKGS="([^"]*)"/m;
my %pc = map { $_ => 'the core' } split ' ', "$core_pkgs libsystemd";
for my $cf (glob("$root/{modules,tools,lib}/*/config")) {
    my ($pkgs) = ll_slurp($cf) =~ /^ll_pkgs="([^"]*)"/m;
    $pc{$_} //= $cf =~ s{^\Q$root/\E}{}r for split ' ', $pkgs // '';
}
my ($bd) = ll_slurp("$root/debian/control") =~ /^Build-Depends:(.*(?:\n[ \t].*)*)/m;
my %bd = map { (split ' ')[0] => 1 } split /,/, $bd // '';
for my $p (sort keys %pc) {
    my @debs = split ' ', $deb_of{$p} // "(configure names no package for $p)";
    ok(!grep({ !$bd{$_} } @debs), "Build-Depends: @debs ($p, for $pc{$p})");
}

my $skip;
$skip = 'installs packages on this machine: run as root' if $> != 0;
for my $t (qw(dpkg-buildpackage dh lintian apt-get)) {
    $skip //= "no $t (Debian: apt-get install dpkg-dev debhelper lintian)"
        unless grep { -x "$_/$t" } split /:/, $ENV{PATH};
}
# the packages are built with Debian's flags whatever this build's are: the
# plain run of the suite checks them, a sanitizer run would only repeat it
$skip //= "a sanitizer build ($objs): the plain build's run checks the packages"
    if ll_slurp("$objs/Makefile") =~ /-fsanitize/;
# one run at a time on a machine (two suites side by side would purge each
# other's packages): held until this test exits
my $lock;
if (!$skip) {
    open $lock, '>>', '/tmp/looklook-deploy-deb.lock' or die "lock file: $!";
    flock($lock, Fcntl::LOCK_EX()) or die "flock: $!";
}
my ($rc, $out) = ll_run('dpkg-query', '-W', '-f=${Package} ${db:Status-Abbrev}\n',
                        'looklook', 'looklook-dev');
$skip //= 'looklook is installed here already (dpkg --purge looklook-dev looklook '
        . 'to run this test, which installs and purges its own)'
    if $out =~ /^\S+ [a-z]i/m;
if ($skip) {
    SKIP: { skip $skip, 1 }
    done_testing();
    exit 0;
}

my $apt = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 -y -q';
# whatever happens below, the packages this test installed go at the end
my $installed;
END {
    local $?;    # the test's exit status
    system("$apt purge looklook looklook-dev >/dev/null 2>&1") if $installed;
}

# build in a copy: the tree's own objs/ and Makefile stay out of it
my $tmp = ll_dir();
my $src = "$tmp/looklook";
mkdir $src or die "$src: $!";
($rc, $out) = ll_run('sh', '-c', "cd '$root' && tar -c --exclude=./.git --exclude='./objs*' "
                     . "--exclude=./Makefile . | tar -x -C '$src'");
is($rc, 0, 'a copy of the tree') or diag $out;
($rc, $out) = ll_run('dpkg-parsechangelog', '-l', "$src/debian/changelog", '-S', 'Version');
chomp(my $version = $out);
my ($ll_version) = $configure =~ /^LL_VERSION=(\S+)$/m;
is($version, $ll_version, "debian/changelog: version $ll_version, as configure's");
{
    local $ENV{DEB_BUILD_OPTIONS} = 'noautodbgsym parallel=2';
    ($rc, $out) = ll_run('sh', '-c', "cd '$src' && dpkg-buildpackage -us -uc -b");
}
is($rc, 0, 'dpkg-buildpackage -us -uc -b') or diag $out;
my $arch = `dpkg --print-architecture`;
chomp $arch;
my %deb = map { $_ => "$tmp/${_}_${version}_$arch.deb" } qw(looklook looklook-dev);
ok(-f $deb{$_}, "built $_") for sort keys %deb;
is_deeply([$out =~ /^((?:dh_\w+|dpkg-\w+): warning: .*)$/mg], [],
          'no debhelper or dpkg warning while building');

($rc, $out) = ll_run('lintian', '--fail-on', 'error', "$tmp/looklook_${version}_$arch.changes");
is($rc, 0, 'lintian: no error') or diag $out;
my @tags = grep { /^[EW]: / } split /\n/, $out;
is_deeply(\@tags, [], 'lintian: no warning either') or diag $out;

($rc, $out) = ll_run('sh', '-c', "$apt install --no-install-recommends '$deb{looklook}' "
                     . "'$deb{'looklook-dev'}'");
$installed = 1;
is($rc, 0, 'apt-get install the two packages') or do { diag $out; done_testing(); exit; };

# what is where
my $multiarch = `dpkg-architecture -qDEB_HOST_MULTIARCH`;
chomp $multiarch;
my %files = (
    looklook => [qw(/usr/sbin/looklook /usr/bin/looklook-cli /etc/looklook/looklook.conf
                    /etc/logrotate.d/looklook /lib/systemd/system/looklook.service
                    /usr/lib/sysusers.d/looklook.conf /usr/lib/tmpfiles.d/looklook.conf
                    /usr/share/man/man8/looklook.8.gz /usr/share/man/man5/looklook.conf.5.gz
                    /usr/share/man/man1/looklook-cli.1.gz
                    /usr/share/bash-completion/completions/looklook
                    /usr/share/bash-completion/completions/looklook-cli),
                 # every module in the tree
                 map { "/usr/lib/looklook/modules/$_.so" }
                 map { ll_slurp($_) =~ /^ll_name=(\S+)$/m } glob("$root/modules/*/config")],
    'looklook-dev' => ['/usr/include/looklook/looklook.h', '/usr/include/looklook/ll_module.h',
                       "/usr/lib/$multiarch/pkgconfig/looklook.pc",
                       '/usr/share/looklook/looklook-module.mk',
                       '/usr/share/man/man7/looklook-module.7.gz'],
);
for my $pkg (sort keys %files) {
    my %has = map { $_ => 1 } split /\n/, (ll_run('dpkg', '-L', $pkg))[1];
    ok($has{$_} && -f $_, "$pkg: $_") for @{ $files{$pkg} };
}
($rc, $out) = ll_run('dpkg', '-S', 'kafka-mock');
isnt($rc, 0, 'the test broker is in no package');
($rc, $out) = ll_run('dpkg-query', '-W', '-f=${Conffiles}', 'looklook');
is_deeply([sort map { (split ' ')[0] } grep { /\S/ } split /\n/, $out],
          ['/etc/logrotate.d/looklook', '/etc/looklook/looklook.conf'],
          'conffiles: the config and the logrotate file');
is((ll_run('man', '-w', 'looklook.conf'))[1], "/usr/share/man/man5/looklook.conf.5.gz\n",
   'man looklook.conf finds the page');

# the postinst made the user and its folders, and left the service off
my @pw = getpwnam('looklook');
ok(@pw, 'the looklook user exists');
cmp_ok($pw[2] // 65535, '<', 1000, '... a system user');
for my $d (qw(/var/log/looklook /var/lib/looklook /run/looklook)) {
    my @st = stat $d;
    ok(@st && $st[4] == ($pw[2] // -1), "$d: made, the user's");
}
ok(!-e '/etc/systemd/system/multi-user.target.wants/looklook.service',
   'the service is not enabled on install');
($rc, $out) = ll_run('systemd-analyze', 'verify', '/lib/systemd/system/looklook.service');
is("$rc $out", '0 ', 'systemd-analyze verify on the installed unit');

($rc, $out) = ll_run('/usr/sbin/looklook', '-t', '-c', '/etc/looklook/looklook.conf');
is($rc, 0, 'looklook -t on the installed config') or diag $out;
like($out, qr{^/etc/looklook/looklook\.conf: test is successful$}m, '... test is successful');
($rc, $out) = ll_run('/usr/sbin/looklook', '-t');
is($rc, 0, 'looklook -t: /etc/looklook/looklook.conf is the default') or diag $out;
# it may hold passwords: the service's group reads it, others do not
my @st = stat '/etc/looklook/looklook.conf';
is(sprintf('%04o %s', $st[2] & 07777, scalar getgrgid($st[5] // 0)), '0640 looklook',
   'the config is 0640, group looklook');
my @as_user = ('setpriv', '--reuid=looklook', '--regid=looklook', '--init-groups');
($rc, $out) = ll_run(@as_user, '/usr/sbin/looklook', '-t');
is($rc, 0, '... and the service user checks it') or diag $out;
($rc, $out) = ll_run('/usr/sbin/looklook', '--version');
like($out, qr/^looklook version \Q$version\E$/m, "looklook --version: $version");

# an out-of-tree module against looklook-dev; its folder is readable by the
# service user, who loads it below
my $mod = "$tmp/hello";
mkdir $mod or die "$mod: $!";
chmod 0755, $tmp, $mod;
copy("$root/examples/hello/$_", "$mod/$_") or die "copy $_: $!" for qw(hello.c Makefile);
($rc, $out) = ll_run('pkg-config', '--variable=moduledir', 'looklook');
is($out, "/usr/lib/looklook/modules\n", 'pkg-config: moduledir');
($rc, $out) = ll_run('make', '-C', $mod);
is($rc, 0, 'make: the hello module builds against looklook-dev') or diag $out;
unlike($out, qr/warning:/, '... without warnings') or diag $out;
($rc, $out) = ll_run('/usr/sbin/looklook', '-m', "$mod/hello.so");
is($rc, 0, 'looklook -m hello.so') or diag $out;
like($out, qr/^name:\s+hello$/m, '... its name');
my ($abi) = ll_slurp('/usr/include/looklook/ll_module.h') =~ /LL_ABI_MAJOR\s+(\d+)/;
like($out, qr/^abi:\s+\Q$abi\E\.\d+$/m, "... ABI $abi.x, the installed headers'");

# the installed server in the installed layout, as the service user: it
# writes its log and pid file in the packaged folders, reloads, stops
my $conf = "$tmp/run.conf";
ll_write($conf, <<"EOF");
worker_processes = 1;
pid_file   = "/run/looklook/looklook.pid";
error_log  = "/var/log/looklook/error.log";
module_dir = "/usr/lib/looklook/modules";
modules = ( { name = "hello"; path = "$mod/hello.so"; greeting = "hi"; },
            { name = "orders"; db = "sqlite:/var/lib/looklook/orders.db"; } );
EOF
chmod 0644, $conf;
my $log = '/var/log/looklook/error.log';
my $pid = fork // die "fork: $!";
if (!$pid) {
    open STDIN, '<', '/dev/null';
    open STDOUT, '>', '/dev/null';
    exec @as_user, '/usr/sbin/looklook', '-c', $conf or POSIX::_exit(127);
}
ok(ll_wait_until(sub { ll_slurp($log) =~ /master: generation 1 ready/ }, 15),
   'the service user runs the installed looklook') or diag ll_slurp($log);
is((stat $log)[4], $pw[2], 'its error.log is the user\'s');
ok(-s '/run/looklook/looklook.pid', 'its pid file is in /run/looklook');
ok(-s '/var/lib/looklook/orders.db', 'its database is in /var/lib/looklook');
# the packaged logrotate file: rotates as the user, then -s reopen (through
# the installed config's pid file, the same as this server's)
($rc, $out) = ll_run('logrotate', '-f', '-s', "$tmp/logrotate.state", '/etc/logrotate.d/looklook');
is($rc, 0, 'logrotate -f /etc/logrotate.d/looklook') or diag $out;
like(ll_slurp("$log.1"), qr/generation 1 ready/, 'the old log is error.log.1');
($rc, $out) = ll_run(@as_user, '/usr/sbin/looklook', '-c', $conf, '-s', 'reload');
is($rc, 0, 'looklook -s reload, as the service user') or diag $out;
ok(ll_wait_until(sub { ll_slurp($log) =~ /master: generation 2 ready/ }, 15),
   '... generation 2 is ready, in the reopened error.log') or diag ll_slurp($log);
is((stat $log)[4], $pw[2], 'the new error.log is the user\'s');
($rc, $out) = ll_run(@as_user, '/usr/sbin/looklook', '-c', $conf, '-s', 'quit');
is($rc, 0, 'looklook -s quit') or diag $out;
my $status;
ll_wait_until(sub {
    return 0 unless waitpid($pid, POSIX::WNOHANG()) == $pid;
    $status = $?;
    return 1;
}, 15) or kill 'KILL', $pid;
is($status, 0, '... it exits 0');

($rc, $out) = ll_run('sh', '-c', "$apt purge looklook looklook-dev");
is($rc, 0, 'apt-get purge') or diag $out;
$installed = 0 if $rc == 0;
($rc, $out) = ll_run('dpkg-statoverride', '--list', '/etc/looklook/looklook.conf');
is($out, '', 'purged: the config\'s mode override');
ok(!-e $_, "purged: $_ is gone") for qw(/usr/sbin/looklook /etc/looklook /usr/include/looklook
                                        /usr/lib/looklook /var/log/looklook /var/lib/looklook
                                        /run/looklook);

done_testing();
