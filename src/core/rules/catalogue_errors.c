// SPDX-License-Identifier: MIT
/*
 * The error table of the catalogue (catalogue.h): the errno values and kernel log lines people
 * paste from their logs, each with its possible causes, how to tell them apart and the command
 * that checks each. Only commands that exist are named; where tcpdoctor has none (addresses,
 * firewall rules, connection tracking) the entry names the usual tool. Every cause agrees with
 * doc/tcp-facts.md, section in the entry's ref.
 */
#include "core/rules/catalogue.h"

#include <errno.h>

#include "core/rules/facts.h"
#include "core/util.h"

#define REF(a) FACTS_REF_PREFIX a

const struct td_cat_error catalogue_errors[] = {
	{ "EADDRNOTAVAIL",
	  EADDRNOTAVAIL,
	  "Cannot assign requested address",
	  { NULL },
	  "connect() or bind() could not get the local address or port it needs.",
	  { { "connect() found no free local port to that destination: ports run out per "
	      "namespace, source address, destination address and port, and every connection "
	      "closed first here holds its port in TIME_WAIT for 60 s",
	      "connect() fails, not bind(); one destination has its ports in use up to the "
	      "capacity, mostly TIME_WAIT",
	      "tcpdoctor ports; tcpdoctor doctor --trace 30 (finding port-exhaustion, with the "
	      "programs whose connect() failed)" },
	    { "The ephemeral range is narrow or mostly reserved (ip_local_port_range, "
	      "ip_local_reserved_ports)",
	      "the capacity tcpdoctor ports shows is small for every destination",
	      "tcpdoctor sysctl; tcpdoctor ports" },
	    { "bind() to an address this host does not have (a typo, an address not configured "
	      "yet, an IPv6 address still tentative)",
	      "bind() fails, not connect(); the address is missing from `ip addr`",
	      "ip addr (no tcpdoctor command checks addresses)" } },
	  REF("ephemeral-ports") },
	{ "EADDRINUSE",
	  EADDRINUSE,
	  "Address already in use",
	  { NULL },
	  "bind() (or listen()) found the address and port taken.",
	  { { "Another socket already listens on that port (a second instance, an old process "
	      "still running)",
	      "a LISTEN socket with that local port exists",
	      "tcpdoctor sockets --state listen --sport PORT" },
	    { "A server restarted while its old connections on that port are in TIME_WAIT and it "
	      "does not set SO_REUSEADDR before bind()",
	      "no listener, but TIME_WAIT sockets with that local port; they are gone 60 s later",
	      "tcpdoctor sockets --state time-wait --sport PORT" },
	    { "bind(addr, 0) before connect() ran out of ports: such a bind takes a port no "
	      "socket uses, whatever the destination",
	      "bind() with port 0 fails while each destination looks half empty; the ports in use "
	      "from that source address approach the range size",
	      "tcpdoctor doctor (finding ephemeral-range); tcpdoctor ports" } },
	  REF("ephemeral-ports") },
	{ "ECONNRESET",
	  ECONNRESET,
	  "Connection reset by peer",
	  { "reset by peer", NULL },
	  "The other side (or something on the path) answered with RST.",
	  { { "The peer closed with SO_LINGER {1, 0}: an abortive close sends RST instead of FIN",
	      "TCPAbortOnData rises on the peer", "tcpdoctor counters (run on the peer)" },
	    { "The peer closed its socket with unread data in its receive buffer, which always "
	      "sends RST (a server answering an error before reading the whole request)",
	      "TCPAbortOnClose rises on the peer", "tcpdoctor counters (run on the peer)" },
	    { "The peer's accept queue was full and tcp_abort_on_overflow=1 there",
	      "ListenOverflows rises on the peer and its tcp_abort_on_overflow is 1",
	      "tcpdoctor counters; tcpdoctor sysctl (on the peer)" },
	    { "The peer reset connections for lack of orphan slots or TCP memory",
	      "TCPAbortOnMemory rises on the peer; its log says 'too many orphaned sockets' or "
	      "'out of memory -- consider tuning tcp_mem'",
	      "tcpdoctor counters; tcpdoctor doctor (finding abort-on-memory) on the peer" },
	    { "The peer process exited or restarted, or a firewall, NAT or load balancer forgot "
	      "the connection (often after an idle timeout) and answers with RST",
	      "no counter above rises on the peer; resets hit connections idle for about the same "
	      "time (keepalive shorter than the middlebox's timeout avoids it)",
	      "tcpdoctor trace (the resets received, by program and peer); tcpdoctor counters "
	      "(EstabResets here)" } },
	  REF("linger") },
	{ "ECONNREFUSED",
	  ECONNREFUSED,
	  "Connection refused",
	  { NULL },
	  "The SYN was answered with RST (or an ICMP port unreachable): nothing accepts "
	  "connections there.",
	  { { "Nothing listens on that address and port: the service is down, listens on another "
	      "port, only on 127.0.0.1, or only on IPv4 or IPv6",
	      "on the server, no LISTEN socket matches the address and port",
	      "tcpdoctor sockets --state listen (on the server); tcpdoctor trace (on the client: "
	      "the refused connects by program and destination)" },
	    { "A firewall rejects the connection (REJECT with tcp-reset or ICMP)",
	      "a matching listener exists, yet connections are refused; the rule set has a reject "
	      "rule",
	      "tcpdoctor doctor --trace 30 (finding peer-rejects, on the client); nft list ruleset "
	      "/ iptables -S (no tcpdoctor command reads firewall rules)" } },
	  REF("listen-queues") },
	{ "ETIMEDOUT",
	  ETIMEDOUT,
	  "Connection timed out",
	  { "timed out", NULL },
	  "A SYN, a retransmission or a keepalive probe went unanswered until the kernel gave up.",
	  { { "SYNs got no answer at all: host down, a firewall dropping, a routing problem. "
	      "connect() gives up after tcp_syn_retries (about 2 minutes by default)",
	      "the client socket stays in SYN_SENT; the server shows no SYN_RECV from it",
	      "tcpdoctor sockets --state syn-sent; tcpdoctor trace (the connects that timed out, by "
	      "destination), both on the client" },
	    { "The server dropped the SYNs: its accept queue was full, or its SYN queue with "
	      "syncookies off",
	      "ListenOverflows or TCPReqQFullDrop rise on the server; a listener's Recv-Q is at "
	      "its Send-Q",
	      "tcpdoctor doctor (findings listen-overflows, accept-queue, syn-drops); tcpdoctor "
	      "counters (on the server)" },
	    { "A connection-tracking table on the way is full and drops new flows",
	      "dmesg on that host says 'nf_conntrack: table full, dropping packet'",
	      "tcpdoctor conntrack on that host (its drop and early_drop statistics); dmesg" },
	    { "An established connection's retransmissions or keepalive probes went unanswered "
	      "(the peer vanished or the path broke)",
	      "read() or write() fails rather than connect(); TCPAbortOnTimeout rises",
	      "tcpdoctor counters" },
	    { "tcp_syn_retries was lowered, so connect() gives up after seconds (2 gives about "
	      "7 s)",
	      "connect() fails much sooner than 2 minutes", "tcpdoctor sysctl" } },
	  REF("listen-queues") },
	{ "EMFILE",
	  EMFILE,
	  "Too many open files",
	  { NULL },
	  "The process reached its limit of file descriptors (RLIMIT_NOFILE); ENFILE, 'Too many "
	  "open files in system', is the host-wide fs.file-max instead.",
	  { { "The process leaks sockets in CLOSE_WAIT: it never closes connections its peers "
	      "closed",
	      "thousands of CLOSE_WAIT held by that process",
	      "tcpdoctor top --by process --state close-wait; tcpdoctor doctor (finding "
	      "close-wait-leak)" },
	    { "Many legitimate connections and a low limit (ulimit -n, systemd LimitNOFILE=)",
	      "its sockets are ESTABLISHED and in use; /proc/PID/limits shows the limit",
	      "tcpdoctor top --by process" },
	    { "Descriptors other than sockets leak (files, pipes)",
	      "ls /proc/PID/fd counts far more than its sockets",
	      "ls /proc/PID/fd (sockets are all that tcpdoctor counts)" } },
	  REF("close-wait") },
	{ "EPIPE",
	  EPIPE,
	  "Broken pipe",
	  { NULL },
	  "The program wrote to a connection the peer had already closed or reset.",
	  { { "The peer closed (FIN) and this program kept writing; the peer answered with RST "
	      "and the next write fails",
	      "an ECONNRESET or end-of-stream was ignored before; EstabResets rises",
	      "tcpdoctor counters" },
	    { "The peer reset the connection for one of the reasons of ECONNRESET",
	      "see tcpdoctor explain ECONNRESET", "tcpdoctor explain ECONNRESET" } },
	  REF("linger") },
	{ NULL,
	  0,
	  "nf_conntrack: table full, dropping packet",
	  { "table full", NULL },
	  "The netfilter connection-tracking table reached nf_conntrack_max: new flows of every "
	  "protocol are dropped while existing ones go on.",
	  { { "Many short connections: each keeps its conntrack entry for 120 s after close "
	      "(nf_conntrack_tcp_timeout_time_wait), twice TCP's TIME_WAIT",
	      "conntrack -L shows mostly TIME_WAIT entries; drop and early_drop rise in "
	      "conntrack -S",
	      "tcpdoctor conntrack --by state (TIME_WAIT entries, drop and early_drop)" },
	    { "A flood of new flows (UDP, DNS, SYN) from a few sources",
	      "conntrack -L is dominated by one protocol or source",
	      "tcpdoctor conntrack --by src, --by proto" },
	    { "nf_conntrack_max is too small for the host; child namespaces share the host's "
	      "limit and cannot raise it",
	      "nf_conntrack_count sits at nf_conntrack_max",
	      "tcpdoctor conntrack (entries of nf_conntrack_max)" } },
	  REF("conntrack") },
	{ NULL,
	  0,
	  "Possible SYN flooding on port",
	  { "SYN flooding", NULL },
	  "A listener's SYN queue filled; the rest of the line says whether the kernel is sending "
	  "cookies or dropping requests. It is logged once per listener.",
	  { { "A SYN flood: many half-open connections from many sources that never complete",
	      "many SYN_RECV; SyncookiesSent rises but SyncookiesRecv hardly",
	      "tcpdoctor sockets --state syn-recv; tcpdoctor counters" },
	    { "A legitimate burst larger than the listener's backlog (a small listen() backlog, "
	      "or a program slow to accept())",
	      "SyncookiesRecv rises with SyncookiesSent; the listener's Recv-Q reaches its Send-Q",
	      "tcpdoctor doctor (findings syn-queue, syn-cookies, accept-queue); tcpdoctor sockets "
	      "--state listen" },
	    { "tcp_syncookies=0: the message ends in 'Dropping request' and SYNs are lost",
	      "TCPReqQFullDrop rises", "tcpdoctor sysctl; tcpdoctor counters" } },
	  REF("listen-queues") },
	{ NULL,
	  0,
	  "TCP: too many orphaned sockets",
	  { "too many orphaned sockets", NULL },
	  "The host-wide orphan limit (tcp_max_orphans) was reached and the kernel reset orphaned "
	  "connections (TCPAbortOnMemory).",
	  { { "Programs close connections with unsent data to slow or vanished peers",
	      "sockstat orphan near tcp_max_orphans; FIN_WAIT1 and LAST_ACK sockets with data "
	      "queued",
	      "tcpdoctor doctor (finding orphans); tcpdoctor states" },
	    { "tcp_fin_timeout above 60 s keeps orphaned FIN_WAIT2 as full orphans for the excess",
	      "many FIN_WAIT2 with no process; tcp_fin_timeout > 60",
	      "tcpdoctor sysctl; tcpdoctor sockets --state fin-wait-2" },
	    { "tcp_max_orphans was lowered", "tcp_max_orphans below its default (half the hash)",
	      "tcpdoctor sysctl" } },
	  REF("orphans") },
	{ NULL,
	  0,
	  "TCP: out of memory -- consider tuning tcp_mem",
	  { "consider tuning tcp_mem", NULL },
	  "TCP memory reached tcp_mem[2] (max, in pages) and the kernel reset connections "
	  "(TCPAbortOnMemory).",
	  { { "tcp_mem was set wrongly: in bytes instead of pages, or min/pressure/max out of "
	      "order",
	      "tcpdoctor sysctl judges the triple", "tcpdoctor sysctl; tcpdoctor sysctl lint" },
	    { "Many sockets hold large buffers: slow readers, big Recv-Q or Send-Q",
	      "sockstat mem near tcp_mem[2]; sockets with large queues",
	      "tcpdoctor counters (sockstat mem); tcpdoctor sockets" } },
	  REF("memory") },
	{ NULL,
	  0,
	  "TCP: time wait bucket table overflow",
	  { "time wait bucket", NULL },
	  "tcp_max_tw_buckets was reached and closing sockets skipped TIME_WAIT. Only 2.6 and 3.x "
	  "kernels print this; newer ones are silent and count TCPTimeWaitOverflow.",
	  { { "tcp_max_tw_buckets was lowered (a widely copied 'fix')",
	      "tcp_max_tw_buckets below its default (half the TCP hash size)",
	      "tcpdoctor sysctl; tcpdoctor sysctl lint" },
	    { "A TIME_WAIT storm: many short connections closed first here",
	      "TCPTimeWaitOverflow rises; TIME_WAIT count near the limit",
	      "tcpdoctor doctor (findings time-wait-overflow, time-wait-buckets); tcpdoctor "
	      "counters" } },
	  REF("tw-buckets") },
	{ NULL,
	  0,
	  "ip_local_port_range: prefer different parity for start/end values",
	  { "prefer different parity", NULL },
	  "ip_local_port_range was written with both ends even or both odd. The kernel accepts it; "
	  "connect() and bind(0) then compete for the same ports.",
	  { { "A copied range such as '10000 65000'", "both numbers have the same parity",
	      "tcpdoctor sysctl lint" } },
	  REF("ephemeral-ports") },
	{ NULL,
	  0,
	  "cannot stat /proc/sys/",
	  { "No such file or directory", NULL },
	  "sysctl -p or systemd-sysctl found a key this kernel or namespace does not have; the "
	  "setting is not applied (sysctl -p exits 1).",
	  { { "The key was removed: tcp_tw_recycle is gone since 4.12",
	      "the key is in the knowledge table as removed", "tcpdoctor sysctl lint" },
	    { "The key is misspelled (tcp_timestsmps)", "lint suggests the closest key",
	      "tcpdoctor sysctl lint" },
	    { "A global key in a child namespace: tcp_mem, tcp_max_orphans, netdev_max_backlog "
	      "exist only in the host's",
	      "the same line works on the host",
	      "tcpdoctor explain KEY (says global or per namespace)" },
	    { "The module is not loaded yet (net.netfilter.nf_conntrack_* appear with "
	      "nf_conntrack)",
	      "lsmod lacks the module", "lsmod" } },
	  REF("sysctl-files") },
};
const size_t catalogue_nerrors = TD_ARRAY_SIZE(catalogue_errors);
