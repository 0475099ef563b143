# SPDX-License-Identifier: MIT
"""Pieces of the python actors of the conntrack suites (tests/integration/conntrack.sh and
conntrack_doctor.sh), imported from TD_ROOT/tests/helpers: a listener on 127.0.0.1, short
connections the client closes first (conntrack TIME_WAIT), and the actor's main loop, which
says "ready" and then lives for a bounded time so signals can ask it for more."""
import socket
import time


def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    return s


def short(srv, n):
    """n connections to srv, each closed by the client first."""
    port = srv.getsockname()[1]
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = srv.accept()
        c.close()
        a.recv(1)
        a.close()


def udp(host, first_port, n, family=socket.AF_INET):
    """One datagram to each of n ports nobody listens on (UNREPLIED entries)."""
    u = socket.socket(family, socket.SOCK_DGRAM)
    for p in range(n):
        u.sendto(b"q", (host, first_port + p))
    u.close()


def serve(seconds):
    print("ready", flush=True)
    end = time.time() + seconds
    while time.time() < end:
        time.sleep(0.2)
