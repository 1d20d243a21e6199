package LL::Browser;

# Headless Chromium driven through chromedriver's WebDriver HTTP API (the
# Debian packages chromium and chromium-driver; HTTP::Tiny and JSON::PP,
# nothing else).
#
#   my $b = LL::Browser->start or plan skip_all => 'no chromium';
#   $b->get("http://127.0.0.1:$port/");
#   $b->wait_for('#queues tr[data-queue="default"]');
#   $b->text('h1');  $b->click('button[data-act="pause"]');
#   $b->js('return document.title');
#   my @errors = $b->console_errors;       # SEVERE lines of the console
#   $b->page_ok('queues');                 # a test: none (and a picture)
#   $b->screenshot('docs/x.png');
#   $b->stop;

use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP ();
use MIME::Base64 ();
use POSIX ();
use Test::More ();
use Time::HiRes qw(sleep);
use LL::Test;

my $ELEM = 'element-6066-11e4-a52e-4f735466cecf';   # W3C element key

sub available { -x '/usr/bin/chromium' && -x '/usr/bin/chromedriver' }

# start(width => 1400, height => 1000)
sub start {
    my ($class, %o) = @_;
    return undef unless available();
    my $self = bless { port => ll_free_port(), dir => ll_dir(),
                       http => HTTP::Tiny->new(timeout => 60),
                       json => JSON::PP->new->canonical }, $class;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', "$self->{dir}/chromedriver.log";
        open STDERR, '>&', \*STDOUT;
        exec '/usr/bin/chromedriver', "--port=$self->{port}"
            or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    ll_wait_until(sub { $self->{http}->get($self->_url('/status'))->{success} }, 20)
        or die "chromedriver did not come up";
    my $w = $o{width} // 1400;
    my $h = $o{height} // 1000;
    my $s = $self->_call(POST => '/session', { capabilities => { alwaysMatch => {
        browserName => 'chrome',
        'goog:loggingPrefs' => { browser => 'ALL' },
        'goog:chromeOptions' => {
            binary => '/usr/bin/chromium',
            args => [ '--headless', '--no-sandbox', '--disable-gpu',
                      '--disable-quic', '--no-first-run',
                      '--disable-background-networking',
                      '--disable-component-update', '--disable-sync',
                      '--hide-scrollbars', "--window-size=$w,$h",
                      "--user-data-dir=$self->{dir}/profile" ],
        } } } });
    $self->{session} = $s->{sessionId} // die "no session: " . $self->{json}->encode($s);
    return $self;
}

sub _url { "http://127.0.0.1:$_[0]{port}$_[1]" }

sub _call {
    my ($self, $method, $path, $body) = @_;
    my $res = $self->{http}->request($method, $self->_url($path), {
        headers => { 'Content-Type' => 'application/json' },
        defined $body ? (content => $self->{json}->encode($body)) : () });
    my $v = eval { $self->{json}->decode($res->{content}) }
        // die "webdriver $method $path: $res->{status} $res->{content}";
    die "webdriver $method $path: $v->{value}{error}: $v->{value}{message}"
        if !$res->{success} && !$self->{soft};
    return ref $v eq 'HASH' && exists $v->{value} ? $v->{value} : $v;
}

sub _s { "/session/$_[0]{session}$_[1]" }

sub get { $_[0]->_call(POST => $_[0]->_s('/url'), { url => $_[1] }) }

# Send these headers with every request from now on (e.g. Authorization
# for an admin module with a token), through the DevTools protocol.
sub headers {
    my ($self, %h) = @_;
    $self->_call(POST => $self->_s('/goog/cdp/execute'), { cmd => 'Network.enable', params => {} });
    $self->_call(POST => $self->_s('/goog/cdp/execute'),
                 { cmd => 'Network.setExtraHTTPHeaders', params => { headers => \%h } });
}

# Run a script in the page; arguments as in WebDriver (return ...).
sub js {
    my ($self, $script, @args) = @_;
    return $self->_call(POST => $self->_s('/execute/sync'),
                        { script => $script, args => \@args });
}

# Elements matching a CSS selector, as WebDriver ids.
sub find_all {
    my ($self, $css) = @_;
    my $v = $self->_call(POST => $self->_s('/elements'),
                         { using => 'css selector', value => $css });
    return map { $_->{$ELEM} } @$v;
}

# Wait until $css matches (and $cond->(text of the first) holds, when
# given); returns the text of the first match, or undef after $timeout.
sub wait_for {
    my ($self, $css, $timeout, $cond) = @_;
    my $text;
    my $ok = ll_wait_until(sub {
        $text = $self->js('var e = document.querySelector(arguments[0]);'
                          . ' return e ? e.innerText : null;', $css);
        return defined $text && (!$cond || $cond->($text));
    }, $timeout // 15);
    return $ok ? $text : undef;
}

sub text {
    my ($self, $css) = @_;
    return $self->js('var e = document.querySelector(arguments[0]);'
                     . ' return e ? e.innerText : null;', $css);
}

sub count {
    my ($self, $css) = @_;
    return $self->js('return document.querySelectorAll(arguments[0]).length;', $css);
}

# A real click (WebDriver's, through the page's event handling) on the
# first match of $css, waiting up to 10 s for one; a page that redrew
# between finding and clicking is tried again.
sub click {
    my ($self, $css) = @_;
    my $err;
    ll_wait_until(sub {
        my ($id) = $self->find_all($css);
        return 0 unless defined $id;
        return eval { $self->_call(POST => $self->_s("/element/$id/click"), {}); 1 }
            || ($err = $@, 0);
    }, 10) or die "click $css: " . ($err // 'nothing matches') . "\n"
        . ($self->text('main') // '');
}

# The console's SEVERE entries since the last call (errors, failed loads,
# CSP refusals), as text.
sub console_errors {
    my ($self) = @_;
    my $v = $self->_call(POST => $self->_s('/se/log'), { type => 'browser' });
    return map { $_->{message} } grep { $_->{level} eq 'SEVERE' } @$v;
}

# A test that the page logged no console error since the last check;
# with LL_SCREENSHOTS=DIR (and shot => 1, the default) also a picture of
# it as DIR/dashboard-NAME.png.
sub page_ok {
    my ($self, $name, %o) = @_;
    my @e = $self->console_errors;
    Test::More::is(scalar @e, 0, "$name: no console error")
        or Test::More::diag(join "\n", @e);
    $self->screenshot("$ENV{LL_SCREENSHOTS}/dashboard-$name.png")
        if $ENV{LL_SCREENSHOTS} && ($o{shot} // 1);
}

sub screenshot {
    my ($self, $path) = @_;
    my $png = MIME::Base64::decode_base64($self->_call(GET => $self->_s('/screenshot')));
    open my $fh, '>:raw', $path or die "$path: $!";
    print $fh $png;
    close $fh;
}

sub stop {
    my ($self) = @_;
    if ($self->{session}) {
        local $self->{soft} = 1;
        eval { $self->_call(DELETE => $self->_s('')) };
        delete $self->{session};
    }
    if ($self->{pid}) {
        kill 'TERM', $self->{pid};
        waitpid($self->{pid}, 0);
        delete $self->{pid};
    }
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    $self->stop;
}

1;
