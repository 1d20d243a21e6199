#!/usr/bin/perl
# The settings macros check the member's C type at compile time: a module
# whose conf struct member does not have the type the core writes (int for
# LL_CONF_INT's int64_t, const char * for a string the core allocates)
# does not compile, so it can never overwrite the member after it.

use strict;
use warnings;
use Test::More;
use FindBin;
use Cwd qw(abs_path);
use LL::Test;

my $root = abs_path("$FindBin::Bin/..");
my $dir  = ll_dir();
my $cc   = $ENV{CC} // 'cc';

sub compile {
    my ($name, $decl, $field) = @_;
    ll_write("$dir/$name.c", <<"SRC");
#include <looklook/looklook.h>

typedef struct {
    $decl
    int64_t     after;
} c_t;

static const ll_conf_field_t  schema[] = {
    $field,
    LL_SET_END
};

const ll_conf_field_t *get(void);
const ll_conf_field_t *get(void) { return schema; }
SRC
    return ll_run($cc, '-std=gnu11', '-Wall', '-Wextra', '-Werror',
                  "-I$root/include", '-c', '-o', "$dir/$name.o",
                  "$dir/$name.c");
}

my ($rc, $out) = compile('good',
    'int64_t limit; char *name; int on; double r; int64_t ms; '
    . 'const ll_conf_node_t *n;',
    'LL_SET_INT(c_t, limit, "limit", 0, "1", 0, 10, "x"), '
    . 'LL_SET_STR(c_t, name, "name", 0, "a", "x"), '
    . 'LL_SET_BOOL(c_t, on, "on", 0, "true", "x"), '
    . 'LL_SET_DOUBLE(c_t, r, "r", 0, "1", 0, 0, "x"), '
    . 'LL_SET_DURATION(c_t, ms, "ms", 0, "1s", 0, 0, "x"), '
    . 'LL_SET_NODE(c_t, n, "n", 0, "x")');
is($rc, 0, 'members of the right types compile') or diag $out;

my @bad = (
    [ 'int for an integer', 'int limit;',
      'LL_SET_INT(c_t, limit, "limit", 0, "1", 0, 10, "x")',
      qr/setting c_t\.limit must be declared int64_t/ ],
    [ 'const char * for a string', 'const char *name;',
      'LL_SET_STR(c_t, name, "name", 0, "a", "x")',
      qr/setting c_t\.name must be declared char \*/ ],
    [ 'int64_t for a bool', 'int64_t on;',
      'LL_SET_BOOL(c_t, on, "on", 0, "true", "x")',
      qr/setting c_t\.on must be declared int\b/ ],
    [ 'int for a duration', 'int ms;',
      'LL_SET_DURATION(c_t, ms, "ms", 0, "1s", 0, 0, "x")',
      qr/setting c_t\.ms must be declared int64_t/ ],
    [ 'float for a number', 'float r;',
      'LL_SET_DOUBLE(c_t, r, "r", 0, "1", 0, 0, "x")',
      qr/setting c_t\.r must be declared double/ ],
);
my $i = 0;
for my $b (@bad) {
    my ($what, $decl, $field, $re) = @$b;
    ($rc, $out) = compile('bad' . $i++, $decl, $field);
    isnt($rc, 0, "$what: does not compile");
    like($out, $re, "$what: the compiler says which member and type");
}

done_testing();
