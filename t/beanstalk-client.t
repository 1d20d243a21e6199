# lib/beanstalk (the beanstalkd client of dq and looklook-cli) on its own,
# against a real beanstalkd: every command, binary bodies, server answers
# that are not errors of the connection, a closed port.
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Beanstalk;

my $objs = ll_objs();
my $bin  = "$objs/t/bs_client_test";
# built like the rest of the build folder: with its sanitizers, if any
my ($san) = ll_slurp("$objs/Makefile") =~ /(-fsanitize=\S+(?: -fno-\S+)*)/;
$san //= '';
my ($rc, $out) = ll_run('sh', '-c',
    "mkdir -p $objs/t && \${CC:-cc} -std=gnu11 -g -O1 -Wall -Wextra -Werror"
    . " -D_GNU_SOURCE -Ilib/beanstalk -Ilib/time $san -o $bin"
    . " lib/beanstalk/test/bs_client_test.c lib/beanstalk/bs_client.c"
    . " lib/time/lt_clock.c");
is($rc, 0, 'client test program builds without warnings') or diag $out;

my $b = LL::Beanstalk->start;
my $dead = '127.0.0.1:' . ll_free_port();
($rc, $out) = ll_run($bin, $b->endpoint, $dead);
my $n = 0;
for (split /\n/, $out) {
    if (/^(not )?ok \d+ - (.*)/) {
        ok(!$1, $2);
        $n++;
    }
}
ok($n >= 40, "all cases ran ($n)");
is($rc, 0, 'exit status 0') or diag $out;
done_testing;
