"""Ports for the tools' own nginx and servers: outside the kernel's
ephemeral range (net.ipv4.ip_local_port_range), where an outgoing
connection (nginx's to PostgreSQL, a client's) can take a port and hold
it in TIME_WAIT, and from a random start, so that two tools running at
once seldom try the same one. The same rules as t/inc/DurableBlocks.pm's
free_port() and the test runner's (t/README, "Ports of a file's own")."""

import random
import socket

RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"

# the ports free_port() returned, which it does not return again
_taken = set()


def port_ranges(range_file=RANGE_FILE):
    """the ranges of 10000-65535 outside the ephemeral one, each of 1,000
    ports at least; 20000-59999 when none is (Linux's default range is
    read when the file cannot be)"""
    lo, hi = 32768, 60999
    try:
        with open(range_file) as f:
            lo, hi = (int(v) for v in f.read().split()[:2])
    except (OSError, ValueError):
        pass
    ranges = [r for r in ((10000, min(lo - 1, 65535)),
                          (max(hi + 1, 10000), 65535))
              if r[1] - r[0] >= 1000]
    return ranges or [(20000, 59999)]


def free_port(ranges=None, avoid=()):
    """a free TCP port of 127.0.0.1: the first from a random start of
    ranges (default port_ranges()) that is not in avoid, was not
    returned before, and that a listener can bind as nginx binds
    (SO_REUSEADDR)"""
    ranges = ranges or port_ranges()
    size = sum(hi - lo + 1 for lo, hi in ranges)
    start = random.randrange(size)
    for i in range(min(size, 2000)):
        n = (start + i) % size
        for lo, hi in ranges:
            if n <= hi - lo:
                port = lo + n
                break
            n -= hi - lo + 1
        if port in _taken or port in avoid:
            continue
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen(1)
        except OSError:
            continue
        finally:
            s.close()
        _taken.add(port)
        return port
    raise RuntimeError("no free TCP port in %s" % (ranges,))
