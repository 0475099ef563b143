#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Small TCP actors for the top/ports integration tests, run inside the tests' own namespaces.

  serve ADDR PORT drain|hold [CLOSE_FIRST]
        listen (backlog 4096) as process "td-srv"; drain: close each connection once the
        client has closed it (TIME_WAIT is the client's); hold: keep every connection. With
        CLOSE_FIRST=N the first N held connections are closed by the server after SIGUSR1.
        Prints "accepted K" after each accept() and "closed N" once those N are closed, so
        a test waits for the state it needs instead of sleeping.
  burst ADDR PORT RATE SECONDS
        RATE short connections per second for SECONDS, client closing first after the server
        accepted; prints "COUNT ELAPSED" when done.
  fill ADDR PORT
        connect and hold until connect() fails with EADDRNOTAVAIL; prints "full COUNT".
  hold ADDR PORT N NAME [SRC[:SPORT]]
        set the process name (comm) to NAME, open N connections (from SRC if given), print
        "ready". On SIGUSR1 close the first 2 of them (client closes first: TIME_WAIT here);
        on SIGUSR2 close every connection whose peer has closed (server closed first).

Every actor prints "ready" once set up and stops by itself after 600 s at most (the test kills it sooner).
"""
import ctypes
import errno
import select
import signal
import socket
import sys
import time

LIMIT_S = 600


def set_comm(name):
    libc = ctypes.CDLL(None)
    libc.prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME


def say(*a):
    print(*a, flush=True)


def serve(addr, port, mode, close_first=0):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(4096)
    held = []
    closing = []

    def on_usr1(*_):
        closing.extend(held[:close_first])
        del held[:close_first]

    signal.signal(signal.SIGUSR1, on_usr1)
    set_comm("td-srv")
    say("ready")
    draining = []
    accepted = 0
    end = time.time() + LIMIT_S
    while time.time() < end:
        if closing:
            for c in closing:
                c.close()
            say("closed", len(closing))
            closing.clear()
        r, _, _ = select.select([ls] + draining, [], [], 0.2)
        for c in r:
            if c is ls:
                conn, _ = ls.accept()
                (draining if mode == "drain" else held).append(conn)
                accepted += 1
                say("accepted", accepted)
            elif c.recv(1) == b"":  # the client closed: close too
                draining.remove(c)
                c.close()


def burst(addr, port, rate, seconds):
    n = 0
    t0 = time.time()
    while True:
        now = time.time()
        if now - t0 >= seconds:
            break
        due = t0 + n / rate
        if due > now:
            time.sleep(due - now)
        s = socket.create_connection((addr, port))
        s.close()
        n += 1
    say(n, "%.3f" % (time.time() - t0))


def fill(addr, port):
    held = []
    for _ in range(70000):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect((addr, port))
        except OSError as e:
            if e.errno != errno.EADDRNOTAVAIL:
                raise
            s.close()
            break
        held.append(s)
    say("full", len(held))
    time.sleep(LIMIT_S)


def hold(addr, port, n, name, src=None):
    set_comm(name)
    conns = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if src:  # ADDR or ADDR:PORT
            a, _, p = src.partition(":")
            s.bind((a, int(p or 0)))
        s.connect((addr, port))
        conns.append(s)
    todo = []
    signal.signal(signal.SIGUSR1, lambda *_: todo.append("first2"))
    signal.signal(signal.SIGUSR2, lambda *_: todo.append("eof"))
    say("ready")
    end = time.time() + LIMIT_S
    while time.time() < end:
        time.sleep(0.05)
        while todo:
            what = todo.pop()
            if what == "first2":
                for s in conns[:2]:
                    s.close()
                del conns[:2]
            else:
                keep = []
                for s in conns:
                    r, _, _ = select.select([s], [], [], 0)
                    if r and s.recv(1) == b"":
                        s.close()
                    else:
                        keep.append(s)
                conns[:] = keep
            say("done")


def main(a):
    cmd = a[0]
    if cmd == "serve":
        serve(a[1], int(a[2]), a[3], int(a[4]) if len(a) > 4 else 0)
    elif cmd == "burst":
        burst(a[1], int(a[2]), float(a[3]), float(a[4]))
    elif cmd == "fill":
        fill(a[1], int(a[2]))
    elif cmd == "hold":
        hold(a[1], int(a[2]), int(a[3]), a[4], a[5] if len(a) > 5 else None)
    else:
        sys.exit("unknown actor " + cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
