// SPDX-License-Identifier: MIT
/*
 * The finding catalogue (one entry per id the rules emit) and the look-up of what a user asks
 * `explain` about. Every sentence agrees with doc/tcp-facts.md, section named in each entry's
 * ref; the rules take that ref from here (rules_add with a NULL ref). The error table is in
 * catalogue_errors.c. tests/unit/test_catalogue.c checks that every id rules_add() is called
 * with has an entry here and that every anchor named exists in the document.
 */
#include "core/rules/catalogue.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/rules/facts.h"
#include "core/sysctl/params.h"
#include "core/util.h"

#define REF(a) FACTS_REF_PREFIX a

static const char tell_counter[] =
	"Read from /proc/net/netstat: with an interval (doctor's default 1 s) a rise during it is "
	"the finding; with --interval 0 the total since the namespace started only informs.";

const struct td_cat_finding catalogue_findings[] = {
	{ "port-exhaustion",
	  "Ephemeral ports to one destination are running out",
	  "connect() needs a local port unique per namespace, source address, destination address "
	  "and destination port. Every connection this host closes first keeps its port in "
	  "TIME_WAIT for 60 s, a kernel constant that tcp_fin_timeout does not change; when the "
	  "close rate times 60 s reaches the range, connect() fails with EADDRNOTAVAIL.",
	  "Counts the local ports in use per (netns, source, destination, port) in the socket dump "
	  "against the range's capacity (ip_local_port_range, rounded down to even, minus reserved "
	  "ports), and with an interval the close rate and the seconds left. Fires when port_usage "
	  "or exhaust_s crosses its threshold.",
	  { "Reuse connections: keep-alive or a connection pool, so one connection carries many "
	    "requests",
	    "Let the server close first where the protocol allows: its TIME_WAIT then costs the "
	    "client no ports",
	    "Spread over more source addresses or destination ports; with bind() before connect() "
	    "set IP_BIND_ADDRESS_NO_PORT",
	    "net.ipv4.tcp_tw_reuse=1 lets connect() take over a TIME_WAIT older than the reuse "
	    "delay: outgoing connections only, and only with tcp_timestamps on",
	    "Widen net.ipv4.ip_local_port_range (ends of different parity) and list service ports "
	    "inside it in ip_local_reserved_ports",
	    "SO_LINGER {1, 0} closes with RST and skips TIME_WAIT, but loses unsent data and the "
	    "peer sees ECONNRESET: last resort" },
	  REF("ephemeral-ports"),
	  "time-wait tw-reuse linger",
	  "port_usage exhaust_s",
	  "tcpdoctor ports; tcpdoctor top --by dest; tcpdoctor lab reproduces it" },
	{ "time-wait-client",
	  "Many client-side TIME_WAIT to one destination",
	  "This host connects and closes first, so each connection leaves its local port in "
	  "TIME_WAIT for 60 s. Ports are not short yet, but the same pattern at a higher rate "
	  "exhausts them.",
	  "Counts TIME_WAIT sockets per (netns, source, destination, port) whose local port is "
	  "ephemeral; fires at tw_dest when port-exhaustion has not fired for that destination.",
	  { "Reuse connections: keep-alive or a connection pool",
	    "Let the server close first where the protocol allows",
	    "net.ipv4.tcp_tw_reuse=1 (outgoing only, needs tcp_timestamps)" },
	  REF("time-wait"),
	  "ephemeral-ports tw-reuse",
	  "tw_dest",
	  "tcpdoctor ports; tcpdoctor top --by dest --state time-wait" },
	{ "ephemeral-range",
	  "The ephemeral range from one source address is nearly used up",
	  "connect() may share a local port between destinations, but bind(addr, 0) needs a port "
	  "no socket uses: code that binds before connecting runs out at the range size in total, "
	  "and bind() fails with EADDRINUSE while each destination looks half empty.",
	  "Counts distinct local ports in use per (netns, source address) over all destinations; "
	  "fires at range_usage unless a single destination holds them all (then port-exhaustion "
	  "does).",
	  { "Set IP_BIND_ADDRESS_NO_PORT before bind(): the port is chosen at connect() time, per "
	    "destination (Linux 4.2+)",
	    "Do not bind() before connect() unless a source address must be chosen; reuse "
	    "connections",
	    "Widen net.ipv4.ip_local_port_range (ends of different parity) and reserve service "
	    "ports inside it" },
	  REF("ephemeral-ports"),
	  NULL,
	  "range_usage",
	  "tcpdoctor ports; tcpdoctor top --by lport" },
	{ "time-wait-server",
	  "Many server-side TIME_WAIT (harmless for ports)",
	  "This server closes connections first, so the TIME_WAIT stays here. It costs clients no "
	  "ports, blocks only its own 4-tuple (a new SYN with a higher sequence or timestamp takes "
	  "it over) and costs a little memory and a tcp_max_tw_buckets slot.",
	  "Counts TIME_WAIT sockets whose local port is a listening port; info at tw_server.",
	  { "Nothing is required; to move TIME_WAIT to the clients, let them close first",
	    "Do not lower net.ipv4.tcp_max_tw_buckets to get rid of them: on overflow closing "
	    "sockets skip TIME_WAIT and lose its protection" },
	  REF("time-wait"),
	  "tw-buckets",
	  "tw_server",
	  "tcpdoctor top --by lport --state time-wait" },
	{ "close-wait-leak",
	  "A process holds connections its peers have closed (CLOSE_WAIT)",
	  "The peer sent FIN and the kernel waits for the program to call close(). CLOSE_WAIT has "
	  "no timeout and no sysctl ends it: the fix is in the code. Each socket holds a file "
	  "descriptor, so a leak ends in EMFILE.",
	  "Counts CLOSE_WAIT sockets per owning process (one pass over /proc to map inodes to "
	  "processes); fires at close_wait_proc.",
	  { "Close the socket when read()/recv() returns 0 (end of stream), on every path, error "
	    "paths included",
	    "Connection pools: evict or validate idle connections the server has closed",
	    "Until the code is fixed, restarting the process frees them; no sysctl does" },
	  REF("close-wait"),
	  "states inet-diag",
	  "close_wait_proc",
	  "tcpdoctor top --by process --state close-wait; tcpdoctor sockets --state close-wait" },
	{ "accept-queue",
	  "A listener's accept queue is filling or full",
	  "The program does not accept() as fast as handshakes complete. When the queue is full "
	  "(backlog + 1), completing handshakes and new SYNs are dropped (ListenOverflows, "
	  "ListenDrops) and clients wait for retransmissions.",
	  "For each LISTEN socket inet_diag gives the accept-queue length (Recv-Q) and the "
	  "backlog (Send-Q); fires at accept_queue percent of backlog + 1.",
	  { "Accept faster: more acceptor threads or workers; never block the accept loop",
	    "Ask listen() for a larger backlog; net.core.somaxconn only caps it (default 4096 "
	    "since 5.4)" },
	  REF("listen-queues"),
	  "counters",
	  "accept_queue",
	  "tcpdoctor sockets --state listen; tcpdoctor counters" },
	{ "syn-queue",
	  "A listener's SYN queue is under pressure",
	  "The SYN queue is bounded by the listener's backlog, not by tcp_max_syn_backlog (which "
	  "matters only with syncookies off). Many half-open connections mean a SYN flood or "
	  "clients that never finish the handshake.",
	  "Counts SYN_RECV request sockets per listener; fires when they reach its backlog.",
	  { "Keep net.ipv4.tcp_syncookies=1 (the default) so a full SYN queue answers with "
	    "cookies",
	    "A larger listen() backlog also enlarges the SYN queue" },
	  REF("listen-queues"),
	  NULL,
	  NULL,
	  "tcpdoctor sockets --state syn-recv; tcpdoctor counters" },
	{ "fin-wait2-orphans",
	  "Orphaned FIN_WAIT2: closed here, the peers never closed",
	  "A connection this host closed waits for the peer's FIN in FIN_WAIT2 with no process. "
	  "tcp_fin_timeout bounds that wait (orphaned FIN_WAIT2 only, not TIME_WAIT); up to 60 s "
	  "of it the orphan is a timewait socket counted against tcp_max_tw_buckets, beyond 60 s "
	  "a full orphan counted against tcp_max_orphans.",
	  "Counts FIN_WAIT2 sockets without an owner (timewait entries and inode 0) in the dump; "
	  "fires at fin_wait2_orphans.",
	  { "Find the peers that never close: they hold these connections in CLOSE_WAIT (run "
	    "tcpdoctor there)",
	    "net.ipv4.tcp_fin_timeout bounds orphaned FIN_WAIT2 only; lowering it shortens them" },
	  REF("fin-wait2"),
	  "close-wait tw-buckets orphans",
	  "fin_wait2_orphans",
	  "tcpdoctor sockets --state fin-wait-2; tcpdoctor states" },
	{ "dump-interrupted",
	  "The socket dump was flagged as interrupted",
	  "A dump is not a snapshot: the kernel walks the shared hash table bucket by bucket, so "
	  "sockets that change during it can be missed or seen twice, and it may say so "
	  "(NLM_F_DUMP_INTR).",
	  "Set when the kernel flags any part of the dump; counts may be off by a few.",
	  { "Nothing to fix; run again for exact counts" },
	  REF("inet-diag"),
	  NULL,
	  NULL,
	  "tcpdoctor states" },
	{ "time-wait-overflow",
	  "The TIME_WAIT table overflowed: closing sockets skipped TIME_WAIT",
	  "At tcp_max_tw_buckets a closing socket gets no TIME_WAIT (TCPTimeWaitOverflow): old "
	  "duplicates can be accepted and a lost last ACK is answered with RST. Kernels since 4.11 "
	  "log nothing about it.",
	  tell_counter,
	  { "Make fewer TIME_WAIT: keep-alive and pooling on the side that closes first",
	    "Raise net.ipv4.tcp_max_tw_buckets back to its default (half the TCP hash size); never "
	    "lower it" },
	  REF("tw-buckets"),
	  "time-wait counters",
	  NULL,
	  "tcpdoctor counters; tcpdoctor sysctl" },
	{ "time-wait-buckets",
	  "The TIME_WAIT table is nearly full",
	  "sockstat tw counts TIME_WAIT and orphaned FIN_WAIT2 against tcp_max_tw_buckets; at the "
	  "limit closing sockets skip TIME_WAIT.",
	  "Compares /proc/net/sockstat tw with tcp_max_tw_buckets; fires at tw_buckets percent.",
	  { "Reduce TIME_WAIT at its source (connection reuse) or raise the limit; do not lower "
	    "it" },
	  REF("tw-buckets"),
	  "fin-wait2",
	  "tw_buckets",
	  "tcpdoctor counters; tcpdoctor states" },
	{ "listen-overflows",
	  "Accept queues overflowed",
	  "A handshake completed, or a SYN arrived, while its listener's accept queue was full; "
	  "the kernel dropped it (ListenOverflows, ListenDrops). With tcp_abort_on_overflow=0 "
	  "(default) the client retries; with 1 it gets RST.",
	  tell_counter,
	  { "Find the listener with a full queue (tcpdoctor sockets --state listen: Recv-Q is the "
	    "queue, Send-Q the backlog) and make it accept faster",
	    "Ask listen() for a larger backlog (capped by net.core.somaxconn)" },
	  REF("listen-queues"),
	  "counters",
	  NULL,
	  "tcpdoctor counters; tcpdoctor sockets --state listen" },
	{ "syn-drops",
	  "SYNs dropped because a SYN queue was full",
	  "With tcp_syncookies=0 (or when cookies cannot be used) a full SYN queue drops new SYNs "
	  "(TCPReqQFullDrop); clients retransmit their SYN (at first every second on 6.5+, "
	  "tcp_syn_linear_timeouts) and may time out.",
	  tell_counter,
	  { "Set net.ipv4.tcp_syncookies=1 (the default)",
	    "A larger listen() backlog enlarges the SYN queue; tcp_max_syn_backlog matters only "
	    "with syncookies off" },
	  REF("listen-queues"),
	  "counters",
	  NULL,
	  "tcpdoctor counters; tcpdoctor sysctl" },
	{ "syn-cookies",
	  "SYN queue full, answered with SYN cookies",
	  "A SYN flood or a burst larger than the listener's backlog (TCPReqQFullDoCookies); "
	  "connections made with cookies lose the options only timestamps can carry.",
	  tell_counter,
	  { "If this is legitimate load, ask listen() for a larger backlog" },
	  REF("listen-queues"),
	  "timestamps",
	  NULL,
	  "tcpdoctor counters" },
	{ "orphans",
	  "Orphaned sockets near tcp_max_orphans",
	  "Orphans are connections closed by their program but still sending. Past "
	  "tcp_max_orphans (host-wide) the kernel resets them ('too many orphaned sockets'); each "
	  "can hold about 64 KB.",
	  "Compares sockstat orphan (host-wide) with tcp_max_orphans; fires at orphans percent.",
	  { "Find who closes with unsent data to slow peers; do not lower tcp_max_orphans" },
	  REF("orphans"),
	  "memory",
	  "orphans",
	  "tcpdoctor counters; tcpdoctor states" },
	{ "abort-on-memory",
	  "Connections reset for lack of orphan slots or TCP memory",
	  "The orphan limit or tcp_mem[2] was reached: the kernel reset connections "
	  "(TCPAbortOnMemory) and logged 'too many orphaned sockets' or 'out of memory -- "
	  "consider tuning tcp_mem'.",
	  tell_counter,
	  { "Check tcp_mem (pages; min <= pressure <= max) and what holds orphans; do not lower "
	    "tcp_max_orphans" },
	  REF("orphans"),
	  "memory",
	  NULL,
	  "tcpdoctor counters; tcpdoctor sysctl" },
	{ "sysctl",
	  "A sysctl value the knowledge table judges harmful or questionable",
	  "The running kernel has a value that does not do what it is usually set for, or does "
	  "harm (for example tcp_max_tw_buckets lowered, tcp_timestamps=0).",
	  "Judges each known key of the namespace with the same table as `sysctl lint`; each "
	  "finding names the key and the section its verdict comes from.",
	  { "Set it back to this kernel's default and remove the line from sysctl.conf or "
	    "sysctl.d (tcpdoctor sysctl lint finds it)" },
	  REF("sysctl-files"),
	  "netns-scope",
	  NULL,
	  "tcpdoctor sysctl; tcpdoctor sysctl lint; tcpdoctor explain KEY" },
	{ "tw-reuse-without-timestamps",
	  "tcp_tw_reuse is set but tcp_timestamps=0 disables it",
	  "connect() takes over a TIME_WAIT only when the old connection negotiated timestamps; "
	  "with tcp_timestamps=0 reuse never happens, and PAWS is gone too.",
	  "Reads tcp_timestamps and tcp_tw_reuse of the namespace.",
	  { "sysctl -w net.ipv4.tcp_timestamps=1 (the default)" },
	  REF("tw-reuse"),
	  "timestamps",
	  NULL,
	  "tcpdoctor sysctl" },
	{ "attribution-partial",
	  "Process attribution is partial",
	  "Some processes' file descriptors could not be read (not root, or processes vanished), "
	  "so some sockets cannot be tied to a process. TIME_WAIT and request sockets never can: "
	  "the kernel reports them with inode 0.",
	  "Counted during the one pass over /proc that maps socket inodes to processes.",
	  { "Run as root (or with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH) for full attribution" },
	  REF("inet-diag"),
	  NULL,
	  NULL,
	  "tcpdoctor top --by process" },
	{ "state-threshold",
	  "Sockets in one state crossed a threshold set with check",
	  "A total per TCP state, over every namespace read, reached a threshold given with "
	  "`tcpdoctor check --warn STATE=N` or `--crit STATE=N` (off by default).",
	  "Compares each state's total with its threshold.",
	  { "See which finding explains the state: tcpdoctor doctor" },
	  REF("states"),
	  NULL,
	  "established syn_sent syn_recv fin_wait1 fin_wait2 time_wait close close_wait last_ack "
	  "listen closing",
	  "tcpdoctor states; tcpdoctor check" },
	{ "conntrack-full",
	  "The connection tracking table is full or nearly full",
	  "Where the firewall uses connection tracking, every new flow of any protocol needs an "
	  "entry. At nf_conntrack_max the kernel evicts entries that are not ASSURED, then logs "
	  "'nf_conntrack: table full, dropping packet' and drops new flows: TCP connects (inbound "
	  "ssh too), ping and DNS fail together while established flows go on. The count is the "
	  "namespace's own; the limit is the host's, read-only in a child namespace.",
	  "Reads nf_conntrack_count and nf_conntrack_max in each namespace; fires when the count "
	  "reaches conntrack_usage percent of the limit.",
	  { "Reuse connections: each closed TCP connection keeps its entry in conntrack TIME_WAIT "
	    "(nf_conntrack_tcp_timeout_time_wait, 120 s by default)",
	    "Do not track what needs no tracking: nftables notrack in chains at raw priority for "
	    "high-rate local flows (doctor prints the rules for the busiest port)",
	    "Shorten the conntrack timeouts that are safe to shorten, per namespace: "
	    "net.netfilter.nf_conntrack_tcp_timeout_time_wait, unlike TCP's TIME_WAIT, is a sysctl",
	    "Raise net.netfilter.nf_conntrack_max with net.netfilter.nf_conntrack_buckets on the "
	    "host (doctor computes the memory from the nf_conntrack slab); a child namespace "
	    "cannot" },
	  REF("conntrack"),
	  "time-wait netns-scope",
	  "conntrack_usage",
	  "tcpdoctor conntrack; conntrack -C; conntrack -S" },
	{ "conntrack-drops",
	  "Connection tracking dropped or evicted flows",
	  "drop counts new flows refused because the table was full; early_drop counts entries "
	  "evicted to make room for new ones; insert_failed counts new entries that could not be "
	  "added, their packet dropped. Any of them rising means the table is at its limit or its "
	  "hash chains are too long.",
	  "Sums the per-CPU statistics (ctnetlink, as conntrack -S) at the start and end of the "
	  "interval; fires when drop + early_drop + insert_failed reaches conntrack_drops. "
	  "With --interval 0 the totals since the namespace started only inform.",
	  { "Reuse connections",
	    "Do not track what needs no tracking (nftables notrack at raw priority)",
	    "Shorten the conntrack timeouts that are safe to shorten",
	    "Raise nf_conntrack_max with the buckets on the host" },
	  REF("conntrack"),
	  NULL,
	  "conntrack_drops",
	  "tcpdoctor conntrack --interval 5; conntrack -S" },
	{ "conntrack-time-wait",
	  "Closed TCP connections in conntrack TIME_WAIT fill the table",
	  "Short connections: conntrack keeps each closed TCP connection in its own TIME_WAIT for "
	  "nf_conntrack_tcp_timeout_time_wait, 120 s by default, twice TCP's 60 s, so a rate of R "
	  "connections a second holds about 120 x R entries. Unlike TCP's, this timeout is a "
	  "sysctl, set per namespace.",
	  "Counts the TCP entries in TIME_WAIT in a ctnetlink dump; fires when they are at least "
	  "100 and conntrack_time_wait percent of the entries: info while the table has room, a "
	  "warning once conntrack_usage is reached.",
	  { "Reuse connections: keep-alive or a connection pool",
	    "Do not track what needs no tracking (nftables notrack at raw priority)",
	    "Shorten net.netfilter.nf_conntrack_tcp_timeout_time_wait in that namespace",
	    "Raise nf_conntrack_max with the buckets on the host" },
	  REF("conntrack"),
	  "time-wait",
	  "conntrack_time_wait conntrack_usage",
	  "tcpdoctor conntrack --by state; conntrack -L" },
	{ "conntrack-unreplied",
	  "Flows nobody answers fill the connection tracking table",
	  "Entries that never saw a reply: a scan, a flood, or an upstream that is down (UDP to a "
	  "closed port, SYNs nobody answers). Each holds its slot until its timeout "
	  "(nf_conntrack_udp_timeout 30 s, nf_conntrack_tcp_timeout_syn_sent 120 s by default); "
	  "not being ASSURED, they are the first a full table evicts.",
	  "Counts the entries without a reply in a ctnetlink dump; fires when they are at least "
	  "100 and conntrack_unreplied percent of the entries: info while the table has room, a "
	  "warning once conntrack_usage is reached.",
	  { "Find who sends them and whether anyone should answer: tcpdoctor conntrack --by dst",
	    "Do not track what needs no tracking (nftables notrack at raw priority)",
	    "Shorten nf_conntrack_udp_timeout and nf_conntrack_tcp_timeout_syn_sent in that "
	    "namespace",
	    "Raise nf_conntrack_max with the buckets on the host" },
	  REF("conntrack"),
	  NULL,
	  "conntrack_unreplied conntrack_usage",
	  "tcpdoctor conntrack --by dst; conntrack -L" },
	{ "conntrack-hash",
	  "The conntrack hash table is small for nf_conntrack_max",
	  "Each entry is hashed twice (original and reply direction), so a full table averages "
	  "2 x nf_conntrack_max / nf_conntrack_buckets entries a chain, walked for every packet "
	  "of a new flow; since 5.15 insertions into a chain past a limit are refused "
	  "(chaintoolong) and the packet dropped.",
	  "Compares nf_conntrack_max with nf_conntrack_buckets; fires when the average chain at a "
	  "full table reaches conntrack_chain, or when chaintoolong rises during the interval.",
	  { "Size the buckets to the limit on the host: net.netfilter.nf_conntrack_buckets, "
	    "writable only in the host's namespace, 8 bytes a bucket" },
	  REF("conntrack"),
	  NULL,
	  "conntrack_chain",
	  "tcpdoctor conntrack; conntrack -S" },
	{ "peer-rejects",
	  "A destination refuses or resets our connections",
	  "ECONNREFUSED from connect() means an RST answered our SYN: nothing listens on that "
	  "address and port, or a firewall or blacklist on the way or at the peer rejects us; the "
	  "client cannot tell which from the errno. A reset received on an open connection "
	  "(ECONNRESET) is the peer ending it. Neither comes from TIME_WAIT or the ephemeral "
	  "range: "
	  "tuning them does not help.",
	  "Needs a trace (doctor or check --trace S, watch --trace): counts, per destination, "
	  "connects that failed with ECONNREFUSED "
	  "or ECONNRESET and resets received on connections we opened, with the programs; fires at "
	  "peer_rejects when the namespace has no port-exhaustion finding.",
	  { "Look at the destination: is the service listening on that port (ss -ltn there), "
	    "starting, or overloaded into resets?",
	    "Look for a reject rule or blacklist that names this host: nft list ruleset, "
	    "iptables -S on both sides and any firewall between; ask the peer's operators",
	    "Retry with backoff and a limit, and log the errno with the destination",
	    "Leave TIME_WAIT and port settings alone: the peer's RST is not a port shortage" },
	  REF("peer-rejects"),
	  "trace errors",
	  "peer_rejects",
	  "tcpdoctor doctor --trace 10; tcpdoctor trace --duration 10" },
};
const size_t catalogue_nfindings = TD_ARRAY_SIZE(catalogue_findings);

const struct td_cat_finding *catalogue_finding(const char *id)
{
	for (size_t i = 0; id && i < catalogue_nfindings; i++)
		if (!strcmp(catalogue_findings[i].id, id))
			return &catalogue_findings[i];
	return NULL;
}

const char *catalogue_ref(const char *id)
{
	const struct td_cat_finding *f = catalogue_finding(id);

	return f ? f->ref : NULL;
}

const struct td_param *catalogue_key(const char *input)
{
	static const char *const prefixes[] = { "", "net.ipv4.", "net.core.", "net.netfilter." };
	char dotted[256], full[300];
	const char *k = input;

	if (!k)
		return NULL;
	if (!strncmp(k, "/proc/sys/", 10))
		k += 10;
	if (params_key_normalize(k, dotted, NULL, sizeof(dotted)))
		return NULL;
	for (size_t i = 0; i < TD_ARRAY_SIZE(prefixes); i++) {
		snprintf(full, sizeof(full), "%s%s", prefixes[i], dotted);
		const struct td_param *p = params_find(full);
		if (p)
			return p;
	}
	return NULL;
}

/* Case-insensitive substring search. */
static bool has(const char *hay, const char *needle)
{
	return hay && needle && *needle && strcasestr(hay, needle);
}

static bool error_matches(const struct td_cat_error *e, const char *in)
{
	size_t n = strlen(in);

	if (has(in, e->message) || (n >= 4 && has(e->message, in)))
		return true;
	for (size_t i = 0; i < TD_ARRAY_SIZE(e->match) && e->match[i]; i++)
		if (has(in, e->match[i]) || (n >= 4 && has(e->match[i], in)))
			return true;
	return false;
}

/* An errno name in input as a whole word: "connect: EADDRNOTAVAIL" */
static bool names_errno(const char *in, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = in; (p = strcasestr(p, name)); p++)
		if ((p == in || !isalnum((unsigned char)p[-1])) && !isalnum((unsigned char)p[n]))
			return true;
	return false;
}

static size_t resolve_errors(const char *in, struct td_cat_match *m, size_t max)
{
	uint64_t num;
	size_t n = 0;
	const char *digits = in;

	if (!strncasecmp(digits, "errno", 5))
		digits += 5 + strspn(digits + 5, " =:");
	bool isnum = !util_parse_u64(digits, 1, 4095, &num);
	for (size_t pass = 0; pass < 2 && !n; pass++)
		for (size_t i = 0; i < catalogue_nerrors && n < max; i++) {
			const struct td_cat_error *e = &catalogue_errors[i];
			bool hit = pass == 0 ? (isnum && e->errnum && (uint64_t)e->errnum == num) ||
						       (e->name && names_errno(in, e->name))
					     : !isnum && error_matches(e, in);
			if (hit)
				m[n++] = (struct td_cat_match){ TD_CAT_ERROR, { .error = e } };
		}
	return n;
}

size_t catalogue_resolve(const char *input, struct td_cat_match *m, size_t max)
{
	char in[512];
	size_t n = 0, l;
	const struct td_cat_finding *f;
	const struct td_param *p;
	const struct td_section *s;

	if (!input || !max)
		return 0;
	/* pasted text: drop surrounding blanks and quotes */
	input += strspn(input, " \t\r\n\"'");
	l = strlen(input);
	while (l && strchr(" \t\r\n\"'", input[l - 1]))
		l--;
	if (!l || l >= sizeof(in))
		return 0;
	memcpy(in, input, l);
	in[l] = '\0';
	if ((f = catalogue_finding(in)))
		m[n++] = (struct td_cat_match){ TD_CAT_FINDING, { .finding = f } };
	if (n < max && (p = catalogue_key(in)))
		m[n++] = (struct td_cat_match){ TD_CAT_KEY, { .key = p } };
	if (n < max && (s = facts_section(in)) && (strchr(in, '#') || !strcmp(in, s->anchor)))
		m[n++] = (struct td_cat_match){ TD_CAT_SECTION, { .section = s } };
	if (n)
		return n;
	return resolve_errors(in, m, max);
}

struct cand {
	const char *name;
	unsigned d;
};

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Adds name when it is close to input: at most 6 edits and not more than half its length
 * ("tcp_tw_reuse" is close to "net.ipv4.tcp_tw_reuse": keys are also judged by their last
 * part). */
static void consider(struct cand *c, size_t cap, size_t *n, const char *in, const char *name)
{
	unsigned d = params_edit_distance(in, name, 6);
	const char *u = strrchr(name, '.');

	if (u) {
		unsigned d2 = params_edit_distance(in, u + 1, 6);
		d = d2 < d ? d2 : d;
	}
	if (d > 6 || d * 2 > strlen(u ? u + 1 : name) + 1 || *n >= cap)
		return;
	c[(*n)++] = (struct cand){ name, d };
}

size_t catalogue_suggest(const char *input, const char **out, size_t max)
{
	struct cand c[256];
	size_t n = 0, cap = TD_ARRAY_SIZE(c);

	if (!input || !max)
		return 0;
	for (size_t i = 0; i < catalogue_nfindings; i++)
		consider(c, cap, &n, input, catalogue_findings[i].id);
	for (size_t i = 0; i < params_count; i++)
		consider(c, cap, &n, input, params_table[i].key);
	for (size_t i = 0; i < facts_nsections; i++)
		consider(c, cap, &n, input, facts_sections[i].anchor);
	for (size_t i = 0; i < catalogue_nerrors; i++)
		if (catalogue_errors[i].name)
			consider(c, cap, &n, input, catalogue_errors[i].name);
	if (n > 1)
		qsort(c, n, sizeof(*c), cmp_cand);
	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++)
		out[i] = c[i].name;
	return n;
}
