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
# built by make test-build (lib/beanstalk/config: ll_tests)
ok(-x $bin, "$bin built") or BAIL_OUT('make test-build first');

my $b = LL::Beanstalk->start;
my $dead = '127.0.0.1:' . ll_free_port();
ll_run_tap('client', 40, $bin, $b->endpoint, $dead);
done_testing;
