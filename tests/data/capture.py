#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Builds the known socket set behind tests/data/proc/*.txt and tests/data/netlink/*.bin, and
# dumps inet_diag replies independently of tcpdoctor (so the unit tests check our parser
# against bytes our own code did not produce). Run only through tests/data/capture.sh, which
# puts it in a private network namespace.
#   capture.py sockets READYFILE   make the sockets, touch READYFILE, sleep until killed
#   capture.py dump FAMILY OUT     one SOCK_DIAG_BY_FAMILY dump (4 or 6), raw recv() buffers
import os, socket, struct, sys, time

def tcp(fam=socket.AF_INET, port=None, addr=None, v6only=None):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    if port is not None:
        s.bind((addr or ('127.0.0.1' if fam == socket.AF_INET else '::1'), port))
    return s

def listener(port, backlog, fam=socket.AF_INET, addr=None, v6only=None, **opt):
    s = tcp(fam, port, addr, v6only)
    for k, v in opt.items():
        s.setsockopt(socket.SOL_SOCKET if k.startswith('SO_') else socket.IPPROTO_TCP,
                     getattr(socket, k), v)
    s.listen(backlog)
    return s

def client(sport, dport, fam=socket.AF_INET, block=True):
    c = tcp(fam, sport)
    dst = '127.0.0.1' if fam == socket.AF_INET else '::1'
    if block:
        c.connect((dst, dport))
    else:
        c.setblocking(False)
        try:
            c.connect((dst, dport))
        except BlockingIOError:
            pass
    return c

def sockets(ready):
    keep = []
    l1 = listener(5000, 8)                      # accept queue of 2, never accepted
    keep += [l1, client(41001, 5000), client(41002, 5000)]
    l2 = listener(5001, 5)
    c = client(41010, 5001)                     # keepalive timer, 100 unread bytes at server
    c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 600)
    c.send(b'x' * 100)
    keep += [l2, c, l2.accept()[0]]
    c = client(41020, 5001)                     # client closes first: client TIME_WAIT
    a = l2.accept()[0]
    c.close(); time.sleep(0.2); a.close()
    c = client(41030, 5001)                     # orphan: timewait FIN_WAIT2 + CLOSE_WAIT
    keep.append(l2.accept()[0]); c.close()
    c = client(41031, 5001)                     # half-closed: full FIN_WAIT2 + CLOSE_WAIT
    keep += [c, l2.accept()[0]]; c.shutdown(socket.SHUT_WR)
    l3 = listener(5002, 5, TCP_DEFER_ACCEPT=60) # bare ACK dropped: request sock in SYN_RECV
    keep += [l3, client(41040, 5002)]
    l4 = listener(5003, 0)                      # backlog 0 holds one; next SYN is dropped
    keep += [l4, client(41050, 5003), client(41051, 5003, block=False)]
    l5 = listener(5004, 5, SO_RCVBUF=4096)      # zero window: FIN_WAIT1 orphan with data
    c = tcp(port=41060)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    c.connect(('127.0.0.1', 5004))
    keep += [l5, l5.accept()[0]]
    c.setblocking(False)
    try:
        while True:
            c.send(b'y' * 4096)
    except BlockingIOError:
        pass
    c.close()
    keep.append(tcp(port=5099))                 # bound only: in neither procfs nor (by default) inet_diag
    l6 = listener(6000, 4, socket.AF_INET6, v6only=1)
    keep += [l6, client(42001, 6000, socket.AF_INET6), l6.accept()[0]]
    c = client(42002, 6000, socket.AF_INET6)
    a = l6.accept()[0]
    c.close(); time.sleep(0.2); a.close()
    l7 = listener(6001, 4, socket.AF_INET6, addr='::', v6only=0)
    keep += [l7, client(41070, 6001), l7.accept()[0]]
    time.sleep(0.5)
    open(ready, 'w').close()
    while True:
        time.sleep(3600)

def dump(fam, out, states=0x1ffe):
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4)  # NETLINK_SOCK_DIAG
    req = struct.pack('=BBBxI', fam, socket.IPPROTO_TCP, 0, states) + bytes(48)
    hdr = struct.pack('=IHHII', 16 + len(req), 20, 0x301, 1, 0)  # SOCK_DIAG_BY_FAMILY
    nl.send(hdr + req)
    with open(out, 'wb') as f:
        while True:
            buf = nl.recv(65536)
            f.write(buf)
            ln, typ = struct.unpack_from('=IH', buf, 0)
            off = 0
            done = False
            while off < len(buf):
                ln, typ = struct.unpack_from('=IH', buf, off)
                done |= typ in (2, 3)
                off += (ln + 3) & ~3
            if done:
                break

if __name__ == '__main__':
    if sys.argv[1] == 'sockets':
        sockets(sys.argv[2])
    else:
        fam = socket.AF_INET if sys.argv[2] == '4' else socket.AF_INET6
        dump(fam, sys.argv[3], int(sys.argv[4], 0) if len(sys.argv) > 4 else 0x1ffe)
