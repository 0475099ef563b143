#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Saves the raw replies of a ctnetlink dump (IPCTNL_MSG_CT_GET) and of the per-CPU statistics
(IPCTNL_MSG_CT_GET_STATS_CPU) of the current network namespace, one file each, as the kernel
sent them (all recv() buffers concatenated). Run inside a namespace whose table is known (see
tests/data/conntrack/README): the unit tests assert the counts of those files.
  capture.py DUMP_FILE STATS_FILE"""
import socket, struct, sys

NETLINK_NETFILTER = 12
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
CTNL = 1 << 8  # NFNL_SUBSYS_CTNETLINK
NLMSG_DONE = 3


def dump(msg):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    req = struct.pack("=IHHII", 20, CTNL | msg, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    req += struct.pack("=BBH", socket.AF_UNSPEC, 0, 0)
    s.send(req)
    out = b""
    while True:
        b = s.recv(65536)
        out += b
        off = 0
        done = False
        while off + 16 <= len(b):
            ln, typ = struct.unpack_from("=IH", b, off)
            if typ == NLMSG_DONE or ln < 16:
                done = True
                break
            off += (ln + 3) & ~3
        if done:
            return out


open(sys.argv[1], "wb").write(dump(1))  # IPCTNL_MSG_CT_GET
open(sys.argv[2], "wb").write(dump(4))  # IPCTNL_MSG_CT_GET_STATS_CPU
