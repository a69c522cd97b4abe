package DurableH2;

# A small HTTP/2 client (h2c with prior knowledge) for tests that need
# what a ready-made client hides: a stream window that stays shut until
# the test opens it, and a stream reset sent in the same packet as its
# request. Written on frames and a subset of HPACK (requests as literals
# without indexing, only :status decoded in answers), enough for nginx.
# Call it fully qualified from --- init code:
#
#   my $h = DurableH2->connect($port, window => 0);
#   my $sid = $h->request('GET', '/w/instances/x?wait=20');
#   $h->pump(1.5);                 # read, and acknowledge settings
#   $h->open_window;               # nginx sends what it held back
#   $h->pump(5, $sid);             # until the stream ends
#   my $s = $h->stream($sid);      # status, body, headers, ended, rst

use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use Time::HiRes ();

use constant {
    DATA => 0, HEADERS => 1, RST_STREAM => 3, SETTINGS => 4, PING => 6,
    GOAWAY => 7, WINDOW_UPDATE => 8, CONTINUATION => 9,
    END_STREAM => 0x1, ACK => 0x1, END_HEADERS => 0x4, PADDED => 0x8,
    PRIORITY => 0x20,
    INITIAL_WINDOW_SIZE => 4, ENABLE_PUSH => 2,
};

# the statuses of HPACK's static table (RFC 7541, appendix A)
my %STATIC_STATUS = (8 => 200, 9 => 204, 10 => 206, 11 => 304, 12 => 400,
                     13 => 404, 14 => 500);

sub connect {
    my ($class, $port, %opt) = @_;

    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp')
        or die "DurableH2: connect to port $port: $!";
    binmode $sock;

    my $self = bless { sock => $sock, next_sid => 1, streams => {},
                       in => '', goaway => undef }, $class;

    my $settings = pack('nN', ENABLE_PUSH, 0);
    $settings .= pack('nN', INITIAL_WINDOW_SIZE, $opt{window})
        if defined $opt{window};

    $self->send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                . frame(SETTINGS, 0, 0, $settings));
    return $self;
}

sub frame {
    my ($type, $flags, $sid, $payload) = @_;
    my $len = length $payload;
    return pack('nCCCN', $len >> 8, $len & 0xff, $type, $flags, $sid)
           . $payload;
}

sub send {
    my ($self, $bytes) = @_;
    my $off = 0;
    while ($off < length $bytes) {
        my $n = syswrite($self->{sock}, $bytes, length($bytes) - $off, $off);
        die "DurableH2: write: $!" unless defined $n;
        $off += $n;
    }
}

sub literal {
    my ($s) = @_;
    die "DurableH2: header longer than 126 bytes" if length $s > 126;
    return chr(length $s) . $s;
}

# the HEADERS frame of a request without a body; with reset => 1 a
# RST_STREAM (CANCEL) follows it in the same write
sub request {
    my ($self, $method, $path, %opt) = @_;

    my $sid = $self->{next_sid};
    $self->{next_sid} += 2;

    my $block = '';
    for my $h ([':method', $method], [':scheme', 'http'],
               [':path', $path], [':authority', 'localhost'],
               @{ $opt{headers} || [] })
    {
        $block .= "\0" . literal($h->[0]) . literal($h->[1]);
    }

    $self->{streams}{$sid} = { headers => 0, body => '', ended => 0,
                               rst => undef, status => undef };

    my $out = frame(HEADERS, END_HEADERS | END_STREAM, $sid, $block);
    $out .= frame(RST_STREAM, 0, $sid, pack('N', 8)) if $opt{reset};
    $self->send($out);

    return $sid;
}

# resets stream $sid (CANCEL), as a client that gives up on it
sub reset {
    my ($self, $sid) = @_;
    $self->send(frame(RST_STREAM, 0, $sid, pack('N', 8)));
}

# the initial window of streams, for streams open now too
sub open_window {
    my ($self, $size) = @_;
    $self->send(frame(SETTINGS, 0, 0,
                      pack('nN', INITIAL_WINDOW_SIZE, $size // 65535)));
}

# reads frames for up to $secs seconds, or until stream $sid ended or
# was reset, or the connection closed
sub pump {
    my ($self, $secs, $sid) = @_;

    my $deadline = Time::HiRes::time() + $secs;
    my $sel = IO::Select->new($self->{sock});

    while (1) {
        return 1 if defined $sid && $self->done($sid);
        return 0 if $self->{closed};

        my $left = $deadline - Time::HiRes::time();
        return 0 if $left <= 0;
        next unless $sel->can_read($left);

        my $n = sysread($self->{sock}, my $buf, 65536);
        if (!$n) {
            $self->{closed} = 1;
            next;
        }

        $self->{in} .= $buf;
        $self->frames;
    }
}

sub done {
    my ($self, $sid) = @_;
    my $s = $self->{streams}{$sid};
    return $s->{ended} || defined $s->{rst};
}

sub frames {
    my ($self) = @_;

    while (length $self->{in} >= 9) {
        my ($hi, $lo, $type, $flags, $sid) = unpack('nCCCN', $self->{in});
        my $len = ($hi << 8) | $lo;
        last if length $self->{in} < 9 + $len;

        my $payload = substr($self->{in}, 9, $len);
        substr($self->{in}, 0, 9 + $len) = '';
        $sid &= 0x7fffffff;

        if ($flags & PADDED && ($type == DATA || $type == HEADERS)) {
            my $pad = ord $payload;
            $payload = substr($payload, 1, length($payload) - 1 - $pad);
        }

        my $s = $self->{streams}{$sid};

        if ($type == SETTINGS && !($flags & ACK)) {
            $self->send(frame(SETTINGS, ACK, 0, ''));

        } elsif ($type == PING && !($flags & ACK)) {
            $self->send(frame(PING, ACK, 0, $payload));

        } elsif ($type == GOAWAY) {
            $self->{goaway} = unpack('x4N', $payload);

        } elsif ($type == HEADERS && $s) {
            $payload = substr($payload, 5) if $flags & PRIORITY;
            $s->{headers}++;
            $s->{status} //= status_of($payload);
            $s->{ended} = 1 if $flags & END_STREAM;

        } elsif ($type == DATA && $s) {
            $s->{body} .= $payload;
            $s->{ended} = 1 if $flags & END_STREAM;
            # give back what was read, to the connection and the stream
            if ($len) {
                $self->send(frame(WINDOW_UPDATE, 0, 0, pack('N', $len))
                            . ($s->{ended} ? ''
                               : frame(WINDOW_UPDATE, 0, $sid,
                                       pack('N', $len))));
            }

        } elsif ($type == RST_STREAM && $s) {
            $s->{rst} = unpack('N', $payload);
        }
    }
}

# :status, which nginx sends first: indexed, or a literal of index 8
sub status_of {
    my ($block) = @_;
    my $b = ord $block;
    return $STATIC_STATUS{$b & 0x7f} if $b & 0x80;
    if (($b & 0x3f) == 8 || ($b & 0x0f) == 8) {
        my $len = ord(substr $block, 1, 1) & 0x7f;
        return substr($block, 2, $len) + 0;
    }
    return undef;
}

# { status, body, headers (HEADERS frames), ended, rst (code or undef) }
sub stream {
    my ($self, $sid) = @_;
    return $self->{streams}{$sid};
}

sub close {
    my ($self) = @_;
    close $self->{sock};
}

1;
