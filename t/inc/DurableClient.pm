package DurableClient;

# A tiny HTTP client for tests that need values from earlier answers
# (lease tokens, generated ids): the worker protocol cannot be driven by
# static --- request sections alone. Used from --- init hooks and from
# Perl code in test files, against the nginx the runner started.

use strict;
use warnings;

use Exporter 'import';
use HTTP::Tiny;
use JSON::PP;

our @EXPORT_OK = qw(api json_of);

my $json = JSON::PP->new->canonical->allow_nonref;

# the port to talk to; the server's port unless a test sets another
our $PORT;

sub json_of { $json->encode($_[0]) }

# api(METHOD, PATH[, BODY[, HEADERS]]) -> { status, headers, body, json }
sub api {
    my ($method, $path, $body, $headers) = @_;

    my $port = $PORT || $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
               || 1984;
    my %h = (%{ $headers || {} });
    my %opts = (headers => \%h);

    if (defined $body) {
        $opts{content} = ref $body ? $json->encode($body) : $body;
        $h{'Content-Type'} //= 'application/json';
    }

    my $res = HTTP::Tiny->new(timeout => 30)
        ->request($method, "http://127.0.0.1:$port$path", \%opts);

    my $decoded;
    if (length($res->{content} // '')) {
        $decoded = eval { $json->decode($res->{content}) };
    }

    return {
        status  => $res->{status},
        headers => $res->{headers},
        body    => $res->{content},
        json    => $decoded,
    };
}

1;
