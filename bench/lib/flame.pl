#!/usr/bin/perl
# perf script output (with call graphs) on stdin -> a flame graph as SVG
# on stdout: each stack's frames from the root up, widths by samples.
# Debian ships no flame graph tool; this is the small part of one needed
# here.  Argument: the title.
use strict;
use warnings;

my $title = shift // 'flame graph';
my (%tree, $comm, @frames, $total);
$tree{kids} = {};

# one sample: its thread's name, then its frames from the root up
sub add {
    my $n = \%tree;
    $n->{n}++;
    for my $f ($comm, reverse @frames) {
        $n = $n->{kids}{$f} //= { kids => {} };
        $n->{n}++;
    }
    $total++;
    ($comm, @frames) = ();
}

while (my $l = <STDIN>) {
    if ($l =~ /^(\S+)/) {                   # a sample's header
        $comm = $1;
    } elsif ($l =~ /^\s+[0-9a-f]+ (.+?) \(/) {  # a frame, innermost first
        (my $sym = $1) =~ s/\+0x[0-9a-f]+$//;
        push @frames, $sym;
    } elsif ($l =~ /^\s*$/ && defined $comm) {
        add();
    }
}
add() if defined $comm;
$total ||= 1;

my ($W, $H) = (1200, 16);
my @rects;
my $depth = 0;
sub walk {
    my ($name, $n, $x, $d) = @_;
    my $w = $n->{n} / $total * $W;
    return if $w < 0.3;
    $depth = $d if $d > $depth;
    push @rects, [ $name, $x, $d, $w, $n->{n} ];
    my $cx = $x;
    for my $k (sort keys %{ $n->{kids} }) {
        walk($k, $n->{kids}{$k}, $cx, $d + 1);
        $cx += $n->{kids}{$k}{n} / $total * $W;
    }
}
walk('all', \%tree, 0, 0);
my $h = ($depth + 1) * $H + 40;
sub esc { my $s = shift; $s =~ s/&/&amp;/g; $s =~ s/</&lt;/g; $s =~ s/>/&gt;/g; $s =~ s/"/&quot;/g; $s }
print qq(<?xml version="1.0" standalone="no"?>\n);
print qq(<svg version="1.1" width="$W" height="$h" xmlns="http://www.w3.org/2000/svg" font-family="monospace" font-size="11">\n);
printf qq(<text x="4" y="16" font-size="14">%s (%d samples)</text>\n), esc($title), $total;
for my $r (@rects) {
    my ($name, $x, $d, $w, $n) = @$r;
    my $y = $h - ($d + 1) * $H;
    my $hue = 20 + (unpack('%32C*', $name) % 40);
    my $label = $w > 40 ? substr($name, 0, int($w / 7)) : '';
    printf qq(<g><title>%s: %d samples, %.1f%%</title><rect x="%.1f" y="%d" width="%.1f" height="%d" fill="hsl(%d,90%%,60%%)" stroke="white" stroke-width="0.5"/><text x="%.1f" y="%d">%s</text></g>\n),
        esc($name), $n, 100 * $n / $total, $x, $y, $w, $H - 1, $hue, $x + 2, $y + 11, esc($label);
}
print "</svg>\n";
