#!/usr/bin/perl
# cron under change and failure:
#  1. takeover: instance A claims a tick and is killed (-9) before firing
#     it; instance B fires that tick once the claim's lease runs out, and
#     goes on with every later tick exactly once;
#  2. reload: HUPs that add, remove and change entries neither double-fire
#     nor skip a tick of an entry that stays;
#  3. misfire: ticks while no instance ran are skipped (misfire = "skip")
#     or fired once at start (misfire = "once").
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use LL::Test;
use LL::Redis;

my $redis = LL::Redis->start;
my $url   = $redis->url;

# {entry}{tick} = count, from core_sink lines "... type=ENTRY id=cron:ENTRY:TICK"
sub handled {
    my ($file) = @_;
    my %h;
    for (split /\n/, ll_slurp($file)) {
        $h{$1}{$2}++ if /id=cron:([\w.-]+):(\d+)$/;
    }
    return \%h;
}

sub bad_ticks {
    my ($h, $entry, $from, $to) = @_;
    return join ' ', grep { ($h->{$entry}{$_} // 0) != 1 } $from .. $to;
}

# ---- 1. takeover after kill -9 ---------------------------------------------
{
    my $d = ll_dir();
    my $conf = sub {
        my ($sleep) = @_;
        return <<"EOF";
worker_processes = 1;
log_level = "debug";
modules = (
  { name = "slow"; path = "%%OBJS%%/t/core_sink.so"; file = "$d/handled"; sleep = "$sleep"; },
  { name = "cron"; path = "%%OBJS%%/cron.so"; redis = "$url"; lease = "2s";
    entries = ( { id = "k"; spec = "\@every 1s"; target = "slow"; task = "test:k"; } ); }
);
EOF
    };
    # A's target takes 30 s: A claims a tick and hangs in it
    my $a = LL::Test::Server->new(conf => $conf->('30s'));
    ok($a->start, 'A up');
    my $m = $a->wait_log(qr/handling cron:k:\d+/, 5);
    my ($t1) = ($m || '') =~ /(\d+)$/;
    ok($t1, "A claimed tick $t1 and is stuck firing it");
    my $b = LL::Test::Server->new(conf => $conf->('0'));
    ok($b->start, 'B up');
    my $b_ready = time;
    kill 'KILL', $a->workers, $a->pid;
    ok($b->wait_log(qr/took over tick $t1 from /, 8), 'B took the tick over');
    sleep 0.05 while time < $b_ready + 6;
    $b->stop;
    my $end = int(time) - 1;
    my $h = handled("$d/handled");
    is($h->{k}{$t1}, 1, "tick $t1 fired exactly once, by B");
    my @dup = grep { $h->{k}{$_} > 1 } keys %{ $h->{k} };
    is("@dup", '', 'no tick fired twice');
    my $from = int($b_ready) + 1;
    is(bad_ticks($h, 'k', $from, $end - 1), '', "B fired every tick $from..");
    my $st = $redis->cmd('HGET', 'looklook:cron:state:k', 'fired');
    cmp_ok($st, '>=', $end - 1, 'the fired watermark went on');
}

# ---- 2. reload: add, remove, change ------------------------------------------
{
    my $d = ll_dir();
    my $conf = sub {
        my ($entries) = @_;
        return <<"EOF";
worker_processes = 2;
log_level = "debug";
modules = (
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "$d/handled"; },
  { name = "cron"; path = "%%OBJS%%/cron.so"; redis = "$url";
    entries = ( $entries ); }
);
routes = ( { from = "cron:*"; to = "sink"; } );
EOF
    };
    my $stay = q{{ id = "stay"; spec = "@every 1s"; target = "handler"; }};
    my $ll = LL::Test::Server->new(conf => $conf->(qq{$stay,
      { id = "gone"; spec = "\@every 1s"; target = "handler"; },
      { id = "chg"; spec = "\@every 2s"; target = "handler"; }}));
    ok($ll->start, 'reload: up');
    my $start = time;
    sleep 3;
    $ll->conf($conf->(qq{$stay,
      { id = "new"; spec = "\@every 1s"; target = "handler"; },
      { id = "chg"; spec = "\@every 3s"; target = "handler"; }}));
    my $pos = $ll->log_size;
    $ll->signal('HUP');
    ok($ll->wait_log(qr/generation 2 ready/, 10, from => $pos), 'generation 2 ready');
    my $g2 = time;
    sleep 3;
    $ll->conf($conf->($stay));
    $pos = $ll->log_size;
    $ll->signal('HUP');
    ok($ll->wait_log(qr/generation 3 ready/, 10, from => $pos), 'generation 3 ready');
    my $g3 = time;
    sleep 3;
    $ll->stop;
    my $h = handled("$d/handled");
    is(bad_ticks($h, 'stay', int($start) + 1, int(time) - 2), '',
       'stay: every tick exactly once across two reloads');
    my @late = grep { $_ > $g2 + 1 } keys %{ $h->{gone} };
    is("@late", '', 'gone: no tick after the reload that removed it');
    is(bad_ticks($h, 'new', int($g2) + 2, int($g3) - 1), '',
       'new: every tick once from the reload that added it');
    my @newlate = grep { $_ > $g3 + 1 } keys %{ $h->{new} };
    is("@newlate", '', 'new: removed again by the next reload');
    my @chg = grep { $_ > $g2 + 1 && $_ % 3 != 0 } keys %{ $h->{chg} };
    is("@chg", '', 'chg: the new spec (@every 3s) rules after the reload');
    my @dup = grep { my $e = $_; grep { $_ > 1 } values %{ $h->{$e} } } keys %$h;
    is("@dup", '', 'no entry fired any tick twice');
}

# ---- 3. misfire: skip or once ---------------------------------------------------
{
    my $d = ll_dir();
    my $text = <<"EOF";
worker_processes = 1;
modules = (
  { name = "sink"; path = "%%OBJS%%/t/core_sink.so"; file = "$d/handled"; },
  { name = "cron"; path = "%%OBJS%%/cron.so"; redis = "$url"; misfire_grace = "1s";
    entries = (
      { id = "ms"; spec = "\@every 1s"; target = "handler"; },
      { id = "mo"; spec = "\@every 1s"; target = "handler"; misfire = "once"; }
    ); }
);
routes = ( { from = "cron:*"; to = "sink"; } );
EOF
    my $ll = LL::Test::Server->new(conf => $text);
    ok($ll->start, 'misfire: up');
    sleep 2.5;
    $ll->stop;
    my $down = time;
    sleep 4;
    my $ll2 = LL::Test::Server->new(conf => $text);
    ok($ll2->start, 'misfire: up again after 4 s down');
    sleep 1.5;
    $ll2->stop;
    my $h = handled("$d/handled");
    my ($once) = ($ll2->wait_log(qr/entry mo: missed ticks \d+\.\.\d+, firing \d+ once/, 1)
                  || '') =~ /firing (\d+) once/;
    ok($once, 'once: logged the tick fired for the downtime');
    my $lo = int($down) + 1;                # surely nobody ran from here
    cmp_ok($once // 0, '>=', $lo, 'once: that tick fell in the downtime');
    my @mo = grep { $_ >= $lo && $_ <= ($once // 0) } keys %{ $h->{mo} };
    is("@mo", $once // '-', 'once: it is the only downtime tick fired');
    my @ms = grep { $_ >= $lo && $_ <= ($once // 0) } keys %{ $h->{ms} };
    is("@ms", '', "skip: no tick of the downtime fired");
    ok($ll2->wait_log(qr/entry ms: missed ticks \d+\.\.\d+, skipped/, 1),
       'skip: logged');
}

done_testing();
