# DurableBlocks::free_port, the port of a listener of a test file's own
# (a second server, a second nginx): outside the kernel's range of
# ephemeral ports, free, never the runner's own port nor one it gave
# before (t/README). Plain Perl checks, no nginx.

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use DurableBlocks ();
use IO::Socket::INET ();

plan tests => 6 + 4 + 3;

my $server = $Test::Nginx::Socket::ServerPort;

# a listener on $port as nginx's (SO_REUSEADDR), or undef
sub listener {
    my ($port) = @_;
    return IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                 LocalPort => $port, Proto => 'tcp',
                                 Listen => 1, ReuseAddr => 1);
}

{
    my ($lo, $hi) = (32768, 60999);
    if (open my $fh, '<', '/proc/sys/net/ipv4/ip_local_port_range') {
        ($lo, $hi) = split ' ', <$fh>;
    }
    my @ports = map { given_port() } 1 .. 300;

    # a host whose ephemeral range leaves fewer than 1,000 ports of
    # 10000-65535 on either side gets ports inside it (t/README)
    my $room = ($lo - 1 - 10000 >= 1000) || (65535 - ($hi + 1) >= 1000);
    SKIP: {
        skip("ephemeral ports $lo-$hi leave no range outside them", 1)
            unless $room;
        is_deeply([grep { $_ >= $lo && $_ <= $hi } @ports], [],
                  "300 ports: none in the ephemeral range $lo-$hi");
    }
    is_deeply([grep { $_ < 10000 || $_ > 65535 } @ports], [],
              '300 ports: all in 10000-65535');
    is_deeply([grep { $_ == $server } @ports], [],
              "300 ports: none is the server's ($server)");
    my %seen;
    is_deeply([grep { $seen{$_}++ } @ports], [],
              '300 ports: no port twice');
    is_deeply([grep { !listener($_) } @ports[0 .. 9]], [],
              'a port it gives can be bound');

    # the ports of the lanes spread over the ranges: two picks in a row
    # rarely start at the same place
    my %near = map { int($_ / 1000) => 1 } @ports;
    cmp_ok(scalar keys %near, '>=', 10, 'the ports are spread out');
}

# free_port's answer, noted: it never gives a port twice, so a port
# taken for a check below must not be one it gave
our @given;

sub given_port {
    my $port = DurableBlocks::free_port();
    push @given, $port;
    return $port;
}

# a free port of 127.0.0.1 that free_port has not given (yet)
sub other_port {
    my (@not) = @_;
    my $port;
    do {
        my $s = listener(0) or die "listen: $!";
        $port = $s->sockport;
    } while grep { $_ == $port } $server, @given, @not;
    return $port;
}

# what free_port gives from ranges of one port each, or 'none'
sub pick_of {
    my $port = eval { DurableBlocks::free_port(map { [$_, $_] } @_) };
    return $port // ($@ =~ /^no free TCP port in / ? 'none' : "died: $@");
}

# never the runner's server port (not bound before nginx starts), nor
# the port of TEST_NGINX_CLIENT_PORT, a port a listener holds, one it
# gave before
{
    my $held = listener(0) or die "listen: $!";
    my $given = given_port();
    my $client = other_port($given);

    is(pick_of($server), 'none', "not the server's port $server");
    {
        local $ENV{TEST_NGINX_CLIENT_PORT} = $client;
        is(pick_of($client), 'none',
           "not TEST_NGINX_CLIENT_PORT's $client");
    }
    is(pick_of($held->sockport), 'none',
       'not a port a listener holds (' . $held->sockport . ')');
    is(pick_of($given), 'none', "not the port it gave before ($given)");
}

# of all four and a free port: the free one, wherever it starts
for my $round (1 .. 3) {
    my $held = listener(0) or die "listen: $!";
    my $given = given_port();
    my $free = other_port($given, $held->sockport);
    is(pick_of($server, $held->sockport, $given, $free), $free,
       "round $round: of the server's port, a held, a given and a free: "
       . 'the free one');
}
