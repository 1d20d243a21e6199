#!/usr/bin/perl
# A generation is all its workers or none, also when the master cannot
# fork them all (out of descriptors here): the first start fails with the
# reason, and a reload fails and leaves the old generation serving,
# instead of a generation with fewer workers than worker_processes.

use strict;
use warnings;
use Test::More;
use LL::Test;

my $bin = ll_bin();

plan skip_all => 'needs prlimit (util-linux)' unless grep { -x "$_/prlimit" } split /:/, $ENV{PATH};

sub conf {
    my ($n) = @_;
    return <<"EOF_CONF";
worker_processes = $n;
handler_threads = 1;
EOF_CONF
}

sub nfds { my @f = glob("/proc/$_[0]/fd/*"); return scalar @f }

# 1. reload: old generation of 2 keeps serving when 8 cannot be forked
{
    my $ll = LL::Test::Server->new(conf => conf(2));
    ok($ll->start, 'generation 1 ready (2 workers)');
    my @gen1 = $ll->workers;
    is(scalar @gen1, 2, 'two workers');

    # room for the config check and about three new workers' pipes
    my $limit = nfds($ll->pid) + 4;
    my ($rc, $out) = ll_run('prlimit', '--pid', $ll->pid, "--nofile=$limit:$limit");
    is($rc, 0, "master limited to $limit descriptors") or diag $out;

    $ll->conf(conf(8));
    my $from = $ll->log_size;
    $ll->signal('HUP');
    ok($ll->wait_log(qr/reload failed, generation 1 keeps running: cannot start worker \d of 8/,
                     15, from => $from), 'reload failed: cannot start worker N of 8');
    unlike(substr($ll->log, $from), qr/generation 2 ready/, 'no short generation 2');
    ok(ll_wait_until(sub { join(',', $ll->workers) eq join(',', @gen1) }, 20),
       'generation 1 workers serve on, the started new ones went');

    ($rc, $out) = ll_run('prlimit', '--pid', $ll->pid, '--nofile=1024:1024');
    is($ll->stop, 0, 'graceful stop, exit 0');
}

# 2. first start: exit 1 with the reason
{
    my $ll = LL::Test::Server->new(conf => conf(8));
    my $conf = $ll->conf_path;
    my ($rc, $out) = ll_run('timeout', '30', 'sh', '-c',
                            "ulimit -n 10 && exec $bin -c $conf");
    is($rc, 1, 'first start with too few descriptors: exit 1 (not a short generation)');
    like($ll->log, qr/generation 1 failed: cannot start worker \d of 8/,
         'generation 1 failed: cannot start worker N of 8');
    unlike($ll->log, qr/generation 1 ready/, 'never ready');
}

done_testing();
