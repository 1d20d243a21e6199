#!/usr/bin/perl
# cron: bad entries are config errors with file and line, caught by
# looklook -t (init opens nothing, so -t needs no Redis); a good config
# with every kind of spec passes.
#
# In each case the line marked "#<" is the line the error must name.
use strict;
use warnings;
use Test::More;
use LL::Test;

my $dir  = ll_dir();
my $objs = ll_objs();

sub conf {
    my ($entries, $extra) = @_;
    $extra //= '';
    return <<"EOF";
worker_processes = 1;
modules = (
  { name = "sink"; path = "$objs/t/core_sink.so"; file = "$dir/out"; },
  { name = "cron"; path = "$objs/cron.so"; $extra
    entries = (
$entries
    ); }
);
routes = ( { from = "cron:h"; to = "sink"; } );
EOF
}

sub marked_line {
    my @l = split /\n/, $_[0];
    for my $i (0 .. $#l) { return $i + 1 if $l[$i] =~ /#<\s*$/ }
    return 0;
}

my @cases = (
    [ 'bad field', qq{      { id = "a"; spec = "61 * * * *"; task = "x"; }   #<},
      qr/cron entry "a": bad spec "61 \* \* \* \*": field 1 \(minutes\): "61" is out of range 0-59/ ],
    [ 'too few fields', qq{      { id = "a"; task = "x";\n        spec = "* * *"; }   #<},
      qr/bad spec "\* \* \*": expected 5 fields/ ],
    [ 'bad step', qq{      { id = "a"; spec = "*/0 * * * *"; task = "x"; }   #<},
      qr/step 0 is out of range/ ],
    [ 'bad name', qq{      { id = "a"; spec = "0 0 * FOO *"; task = "x"; }   #<},
      qr/field 4 \(month\): cannot parse "FOO"/ ],
    [ 'bad @every', qq{      { id = "a"; spec = "\@every 500ms"; task = "x"; }   #<},
      qr/\@every: "500ms" must be whole seconds/ ],
    [ 'never fires', qq{      { id = "a"; spec = "0 0 30 2 *"; task = "x"; }   #<},
      qr/spec "0 0 30 2 \*" never fires/ ],
    [ 'unknown time zone', qq{      { id = "a"; spec = "* * * * *"; task = "x";\n        timezone = "Mars/Olympus_Mons"; }   #<},
      qr/cron entry "a": unknown time zone "Mars\/Olympus_Mons"/ ],
    [ 'unknown zone in CRON_TZ=', qq{      { id = "a"; spec = "CRON_TZ=Nowhere/City 0 6 * * *"; task = "x"; }   #<},
      qr/unknown time zone "Nowhere\/City"/ ],
    [ 'zone name with ..', qq{      { id = "a"; spec = "* * * * *"; task = "x"; timezone = "../../etc/passwd"; }   #<},
      qr/invalid time zone name/ ],
    [ 'no target', qq{      { id = "a"; spec = "* * * * *"; }   #<},
      qr/cron entry "a" has no target: set task = "type" .* or target = "handler"/ ],
    [ 'handler target without a route', qq{      { id = "b"; spec = "* * * * *"; target = "handler"; }   #<},
      qr/cron entry "b": target = "handler" but no route takes "cron:b"/ ],
    [ 'duplicate id', qq{      { id = "a"; spec = "* * * * *"; task = "x"; },\n      { id = "a"; spec = "* * * * *"; task = "y"; }   #<},
      qr/cron entry "a" is defined twice/ ],
    [ 'bad id', qq{      { id = "a b"; spec = "* * * * *"; task = "x"; }   #<},
      qr/cron entry id "a b": use letters/ ],
    [ 'bad misfire', qq{      { id = "a"; spec = "* * * * *"; task = "x"; misfire = "never"; }   #<},
      qr/"misfire" must be "skip" or "once"/ ],
    [ 'unknown entry setting', qq{      { id = "a"; spec = "* * * * *"; task = "x"; colour = "red"; }   #<},
      qr/unknown setting "colour"/ ],
    [ 'missing spec', qq{      { id = "a"; task = "x"; }   #<},
      qr/missing required setting "spec"/ ],
    [ 'bad redis URL', [ qq{      { id = "a"; spec = "* * * * *"; task = "x"; }},
                         qq{redis = "http://x"; } ], qr/redis/ ],
);

for my $c (@cases) {
    my ($name, $e, $re) = @$c;
    my $text = ref $e ? conf(@$e) : conf($e);
    ll_write("$dir/l.conf", $text);
    my ($rc, $out) = ll_run(ll_bin(), '-t', '-c', "$dir/l.conf");
    is($rc, 1, "$name: exit 1");
    my ($line) = grep { /\S/ } split /\n/, $out;
    $line //= '';
    like($line, $re, "$name: says what") or diag $out;
    my $want = marked_line($text);
    like($line, qr/^\Q$dir\E\/l\.conf:$want: /, "$name: names file and line $want")
        if $want;
}

# a good config with every kind of spec and setting passes -t, without
# any Redis running (the URL points nowhere)
my $good = conf(<<'EOF', qq{redis = "redis://127.0.0.1:1/0"; timezone = "Asia/Shanghai"; lease = "2s"; misfire_grace = "3s"; heartbeat = "5s";});
      { id = "settle"; spec = "*/1 * * * *"; task = "schedule:settle_record:settle"; },
      { id = "s6"; spec = "*/15 * * * * *"; task = "x"; queue = "critical"; retry = 3;
        timeout = "30m"; unique = "1h"; retention = "24h"; payload = "{\"a\":1}"; },
      { id = "ny"; spec = "30 2 * * *"; task = "x"; timezone = "America/New_York"; misfire = "once"; },
      { id = "tz"; spec = "CRON_TZ=Europe/London 0 6 * * MON-FRI"; task = "x"; },
      { id = "ev"; spec = "@every 1h30m"; task = "x"; },
      { id = "names"; spec = "0 0 1 JAN,jul ?"; task = "x"; },
      { id = "d"; spec = "@daily"; task = "x"; },
      { id = "feb29"; spec = "0 0 29 2 *"; task = "x"; },
      { id = "h"; spec = "@hourly"; target = "handler"; }
EOF
ll_write("$dir/good.conf", $good);
my ($rc, $out) = ll_run(ll_bin(), '-t', '-c', "$dir/good.conf");
is($rc, 0, 'good config passes -t') or diag $out;
like($out, qr/test is successful/, 'good config: test is successful');

# a Redis Cluster is taken (t/cron-cluster.t runs one)
ll_write("$dir/cl.conf", conf(qq{      { id = "a"; spec = "* * * * *"; task = "x"; }},
                              qq{redis = "redis-cluster://127.0.0.1:7000"; }));
($rc, $out) = ll_run(ll_bin(), '-t', '-c', "$dir/cl.conf");
is($rc, 0, 'a redis-cluster:// URL passes -t') or diag $out;

done_testing();
