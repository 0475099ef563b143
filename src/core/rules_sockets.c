// SPDX-License-Identifier: MIT
/*
 * Rules on what the socket tables show: ephemeral-port exhaustion and client-side TIME_WAIT per
 * destination, server-side TIME_WAIT, CLOSE_WAIT leaks per process, full accept queues and SYN
 * queue pressure per listener, FIN_WAIT2 orphans. Every cause and remedy here must agree with
 * kernel-facts.md (section named in each finding's ref).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/model.h"
#include "core/ports.h"
#include "core/rules.h"

static const char *ns_name(const struct td_ns_model *ns)
{
	return ns->name;
}

static void endpoint(unsigned fam, const uint8_t *a, unsigned port, char *b, size_t l)
{
	char s[64];

	sock_addr_str(fam, a, s, sizeof(s));
	snprintf(b, l, fam == AF_INET6 ? "[%s]:%u" : "%s:%u", s, port);
}

static void reuse_remedy(struct td_finding *x, const struct td_port_dest *d)
{
	switch (d->reuse) {
	case TD_REUSE_OFF:
		rules_remedy(x,
			     "net.ipv4.tcp_tw_reuse=1 lets connect() take over a TIME_WAIT older "
			     "than the reuse delay (1 s): outgoing connections only, and only with "
			     "tcp_timestamps on (it is)");
		break;
	case TD_REUSE_LOOPBACK_ONLY:
		rules_remedy(x,
			     "net.ipv4.tcp_tw_reuse is 2 (loopback only, the default since "
			     "4.18) and this destination is not loopback: 1 makes connect() reuse "
			     "TIME_WAIT older than the reuse delay; needs tcp_timestamps on");
		break;
	case TD_REUSE_NO_TIMESTAMPS:
		rules_remedy(x,
			     "net.ipv4.tcp_timestamps=0 disables tcp_tw_reuse whatever its value: "
			     "set tcp_timestamps=1 (the default) first");
		break;
	case TD_REUSE_ACTIVE:
		rules_remedy(x,
			     "tcp_tw_reuse already applies here: the sustainable rate is about "
			     "%u connections/s (capacity / reuse delay); past it only the fixes "
			     "above help",
			     d->capacity);
		break;
	default:
		break;
	}
}

/* The client-side TIME_WAIT remedies, application first (kernel-facts §5, §3, §11). */
static void tw_client_remedies(struct td_finding *x, const struct td_port_dest *d)
{
	rules_remedy(x, "Reuse connections: keep-alive or a connection pool, so one connection "
			"carries many requests");
	rules_remedy(x, "Let the server close first where the protocol allows: its TIME_WAIT then "
			"sits on the server and costs the client no ports");
	rules_remedy(x, "Spread over more source addresses or destination ports (ports run out per "
			"source IP, destination IP and port); with bind() before connect() set "
			"IP_BIND_ADDRESS_NO_PORT so bind() does not take a port exclusively");
	rules_remedy(x, "SO_LINGER {1, 0} closes with RST and skips TIME_WAIT, but unsent data is "
			"lost, the peer sees ECONNRESET and old duplicates are no longer guarded "
			"against: last resort");
	reuse_remedy(x, d);
	rules_remedy(x, "Widen net.ipv4.ip_local_port_range (e.g. \"16384 65535\": ends of "
			"different parity) and list service ports inside it in "
			"ip_local_reserved_ports");
}

static enum td_fsev exhaust_grade(const struct td_limit *l, double s)
{
	/* lower is worse; a threshold of 0 turns the grade off */
	if (s < 0)
		return TD_F_OK;
	if (l->crit > 0 && s <= l->crit)
		return TD_F_CRITICAL;
	if (l->warn > 0 && s <= l->warn)
		return TD_F_WARNING;
	return TD_F_OK;
}

static void dest_evidence(struct td_finding *x, const struct td_port_dest *d)
{
	rules_ev(x, "in_use", d->in_use, "ports");
	rules_ev(x, "capacity", d->capacity, "ports");
	rules_ev(x, "usage", d->capacity ? 100.0 * d->in_use / d->capacity : 0, "%");
	rules_ev(x, "time_wait", d->n[TD_SS_TIME_WAIT], "sockets");
	rules_ev(x, "close_rate", d->rate, "/s");
	if (d->exhaust_s >= 0)
		rules_ev(x, "exhaust_in", d->exhaust_s, "s");
}

static void rule_dest(const struct td_ns_model *ns, const struct td_port_dest *d,
		      const struct td_limits *lim, struct td_findings *out)
{
	char src[64], dst[80];
	double usage = d->capacity ? 100.0 * d->in_use / d->capacity : 100;
	enum td_fsev sev = rules_grade(&lim->l[TD_LIM_PORT_USAGE], usage);
	enum td_fsev sev2 = exhaust_grade(&lim->l[TD_LIM_EXHAUST_S], d->exhaust_s);
	uint32_t tw = d->n[TD_SS_TIME_WAIT];
	struct td_finding *x;

	if (sev2 > sev)
		sev = sev2;
	sock_addr_str(d->family, d->src, src, sizeof(src));
	endpoint(d->family, d->dst, d->dport, dst, sizeof(dst));
	if (sev >= TD_F_WARNING) {
		x = rules_add(out, "port-exhaustion", sev, ns_name(ns), NULL);
		rules_subject(x, "%s -> %s", src, dst);
		if (d->exhaust_s == 0)
			rules_title(x,
				    "Ephemeral ports to %s from %s are exhausted: %u of %u in use; "
				    "connect() fails with EADDRNOTAVAIL",
				    dst, src, d->in_use, d->capacity);
		else if (d->exhaust_s > 0)
			rules_title(x,
				    "Ephemeral ports to %s from %s: %u of %u in use (%.0f%%), "
				    "exhausted in %.0f s at %.0f closes/s",
				    dst, src, d->in_use, d->capacity, usage, d->exhaust_s, d->rate);
		else
			rules_title(x, "Ephemeral ports to %s from %s: %u of %u in use (%.0f%%)",
				    dst, src, d->in_use, d->capacity, usage);
	} else if (tw >= lim->l[TD_LIM_TW_DEST].warn && lim->l[TD_LIM_TW_DEST].warn > 0) {
		x = rules_add(out, "time-wait-client", TD_F_WARNING, ns_name(ns), NULL);
		rules_subject(x, "%s -> %s", src, dst);
		rules_title(x, "TIME_WAIT storm to %s: %u client-side TIME_WAIT (%u of %u ports)",
			    dst, tw, d->in_use, d->capacity);
	} else {
		return;
	}
	rules_cause(x,
		    "connect() needs a local port unique per source IP, destination IP and "
		    "port; every connection this host closes first keeps its port in TIME_WAIT "
		    "for 60 s, a kernel constant no sysctl changes (tcp_fin_timeout does not). "
		    "At %.0f closes/s that is %.0f ports held.",
		    d->rate, d->rate * 60);
	dest_evidence(x, d);
	tw_client_remedies(x, d);
}

/* bind(addr, 0) and bind-before-connect need a port no socket uses, whatever the destination,
 * so they run out at the range size in total while each destination looks half empty
 * (kernel-facts §5). */
static void rule_src_range(const struct td_ns_model *ns, const struct td_limits *lim,
			   struct td_findings *out)
{
	for (size_t i = 0; i < ns->nsrc; i++) {
		const struct td_src_ports *e = &ns->src[i];
		double pct = e->capacity ? 100.0 * e->n / e->capacity : 0;
		enum td_fsev sev = rules_grade(&lim->l[TD_LIM_RANGE_USAGE], pct);
		uint32_t most = 0;
		char a[64];
		if (sev == TD_F_OK)
			continue;
		/* one destination holding them all is port-exhaustion's finding, not this one */
		for (size_t j = 0; j < ns->ndests; j++)
			if (ns->dests[j].family == e->family &&
			    !memcmp(ns->dests[j].src, e->addr, 16) && ns->dests[j].in_use > most)
				most = ns->dests[j].in_use;
		if (e->n <= most)
			continue;
		sock_addr_str(e->family, e->addr, a, sizeof(a));
		struct td_finding *x = rules_add(out, "ephemeral-range", sev, ns_name(ns), NULL);
		rules_subject(x, "%s", a);
		rules_title(x,
			    "%u of %u ephemeral ports in use from %s across all destinations: "
			    "bind() to port 0 fails with EADDRINUSE",
			    e->n, e->capacity, a);
		rules_cause(x,
			    "connect() may share a local port between destinations, but bind(addr, "
			    "0) needs one no socket uses; code that binds before connecting "
			    "(to pick a source address) runs out at the range size in total.");
		rules_ev(x, "ports_in_use", e->n, "ports");
		rules_ev(x, "capacity", e->capacity, "ports");
		rules_ev(x, "usage", pct, "%");
		rules_remedy(x,
			     "Set IP_BIND_ADDRESS_NO_PORT before bind(): the port is then chosen "
			     "at connect() time, per destination (Linux 4.2+)");
		rules_remedy(x, "Do not bind() before connect() unless a source address must be "
				"chosen; reuse connections so fewer ports are held in TIME_WAIT");
		rules_remedy(x, "Widen net.ipv4.ip_local_port_range (ends of different parity) and "
				"reserve service ports inside it");
	}
}

static void rule_tw_server(const struct td_ns_model *ns, const struct td_limits *lim,
			   struct td_findings *out)
{
	const struct td_limit *l = &lim->l[TD_LIM_TW_SERVER];

	if (l->warn <= 0 || ns->tw_server < l->warn)
		return;
	struct td_finding *x = rules_add(out, "time-wait-server", TD_F_INFO, ns_name(ns), NULL);
	rules_subject(x, "port %u", ns->tw_top_port);
	rules_title(x, "%llu server-side TIME_WAIT (most on listening port %u): harmless for ports",
		    (unsigned long long)ns->tw_server, ns->tw_top_port);
	rules_cause(x,
		    "This server closes connections first, so the TIME_WAIT stays here. It costs "
		    "clients no ports, blocks only its exact 4-tuple (a new SYN with a higher "
		    "sequence or timestamp takes it over) and costs a little memory and a "
		    "tcp_max_tw_buckets slot.");
	rules_ev(x, "time_wait_server", (double)ns->tw_server, "sockets");
	rules_ev(x, "top_port", ns->tw_top_port, "");
	rules_remedy(x, "Nothing is required. To move TIME_WAIT to the clients, let them close "
			"first: keep connections alive and have the client end them");
	rules_remedy(x, "Do not lower net.ipv4.tcp_max_tw_buckets to get rid of them: on overflow "
			"closing sockets skip TIME_WAIT and lose its protection");
}

static void peers_text(const struct td_cw_proc *w, char *b, size_t l)
{
	size_t o = 0;

	b[0] = '\0';
	for (int i = 0; i < TD_CW_PEERS && w->peers[i].n && o < l; i++) {
		char ep[80];
		endpoint(w->peers[i].family, w->peers[i].addr, w->peers[i].port, ep, sizeof(ep));
		o += (size_t)snprintf(b + o, l - o, "%s%s (%u)", i ? ", " : "", ep, w->peers[i].n);
	}
	if (w->other_peers && o < l)
		snprintf(b + o, l - o, " and %u more", w->other_peers);
}

static void rule_close_wait(const struct td_model *m, const struct td_ns_model *ns,
			    const struct td_limits *lim, struct td_findings *out)
{
	for (size_t i = 0; i < ns->ncw; i++) {
		const struct td_cw_proc *w = &ns->cw[i];
		enum td_fsev sev = rules_grade(&lim->l[TD_LIM_CW_PROC], w->n);
		char peers[400];
		if (sev == TD_F_OK)
			continue;
		struct td_finding *x = rules_add(out, "close-wait-leak", sev, ns_name(ns), NULL);
		peers_text(w, peers, sizeof(peers));
		if (w->pid) {
			rules_subject(x, "pid %d (%s)", (int)w->pid, w->comm);
			rules_title(x,
				    "CLOSE_WAIT leak: %s (pid %d) holds %u connections its peers "
				    "closed",
				    w->comm, (int)w->pid, w->n);
		} else {
			rules_subject(x, "unknown process");
			rules_title(x, "%u CLOSE_WAIT sockets whose process could not be found%s",
				    w->n, m->have_owners ? "" : " (no process scan)");
		}
		rules_cause(x,
			    "The peers sent FIN and the kernel waits for the program to close(); "
			    "CLOSE_WAIT has no timeout and no sysctl ends it: the fix is in the "
			    "code. Peers: %s.",
			    peers);
		rules_ev(x, "close_wait", w->n, "sockets");
		rules_ev(x, "unread", (double)w->unread, "bytes");
		if (w->pid)
			rules_ev(x, "pid", w->pid, "");
		rules_remedy(x, "Close the socket when read()/recv() returns 0 (end of stream), on "
				"every path, error paths included");
		rules_remedy(x, "Connection pools: evict or validate idle connections the server "
				"has closed instead of keeping them");
		rules_remedy(x, "Until the code is fixed, restarting the process frees them; no "
				"sysctl does");
	}
}

static void rule_listeners(const struct td_ns_model *ns, const struct td_limits *lim,
			   struct td_findings *out)
{
	for (size_t i = 0; i < ns->nlis; i++) {
		const struct td_listener *l = &ns->lis[i];
		double pct = 100.0 * l->accept_q / ((double)l->backlog + 1);
		enum td_fsev sev = rules_grade(&lim->l[TD_LIM_ACCEPT_Q], pct);
		char ep[80], who[48] = "";
		endpoint(l->family, l->addr, l->port, ep, sizeof(ep));
		if (l->pid)
			snprintf(who, sizeof(who), " (%s, pid %d)", l->comm, (int)l->pid);
		if (sev != TD_F_OK) {
			struct td_finding *x =
				rules_add(out, "accept-queue", sev, ns_name(ns), NULL);
			rules_subject(x, "%s", ep);
			rules_title(x, "Accept queue of %s%s is %s: %u waiting, backlog %u", ep,
				    who, l->accept_q > l->backlog ? "full" : "filling", l->accept_q,
				    l->backlog);
			rules_cause(
				x, "The program does not accept() as fast as connections complete. "
				   "When the queue is full (backlog + 1), new handshakes are "
				   "dropped (ListenOverflows, ListenDrops) and clients wait for "
				   "retransmissions.");
			rules_ev(x, "accept_queue", l->accept_q, "connections");
			rules_ev(x, "backlog", l->backlog, "");
			rules_ev(x, "usage", pct, "%");
			rules_remedy(x,
				     "Accept faster: more acceptor threads or workers; never block "
				     "the accept loop");
			rules_remedy(x,
				     "Ask listen() for a larger backlog; net.core.somaxconn only "
				     "caps it (default 4096 since 5.4)");
		}
		if (l->syn_recv && l->syn_recv >= l->backlog && l->backlog) {
			struct td_finding *x =
				rules_add(out, "syn-queue", TD_F_WARNING, ns_name(ns), NULL);
			rules_subject(x, "%s", ep);
			rules_title(x, "SYN queue of %s%s under pressure: %u half-open, backlog %u",
				    ep, who, l->syn_recv, l->backlog);
			rules_cause(x,
				    "The SYN queue is bounded by the listener's backlog, not by "
				    "tcp_max_syn_backlog (which matters only with syncookies off). "
				    "Many half-open connections mean a SYN flood or clients that "
				    "never finish the handshake.");
			rules_ev(x, "syn_recv", l->syn_recv, "sockets");
			rules_ev(x, "backlog", l->backlog, "");
			rules_remedy(x,
				     "Keep net.ipv4.tcp_syncookies=1 (the default) so a full SYN "
				     "queue answers with cookies instead of dropping");
			rules_remedy(x, "A larger listen() backlog also enlarges the SYN queue");
		}
	}
}

static void rule_fw2(const struct td_ns_model *ns, const struct td_limits *lim,
		     struct td_findings *out)
{
	enum td_fsev sev = rules_grade(&lim->l[TD_LIM_FW2_ORPHANS], (double)ns->fw2_orphans);
	int64_t fin = 60;

	if (sev == TD_F_OK)
		return;
	model_sysctl_int(ns, "net.ipv4.tcp_fin_timeout", &fin);
	struct td_finding *x = rules_add(out, "fin-wait2-orphans", sev, ns_name(ns), NULL);
	rules_subject(x, "FIN_WAIT2");
	rules_title(x, "%llu orphaned FIN_WAIT2: closed here, the peers never closed their side",
		    (unsigned long long)ns->fw2_orphans);
	rules_cause(x,
		    "Each is kept as a timewait socket for tcp_fin_timeout (%lld s) and counts "
		    "against tcp_max_tw_buckets; on the peer's FIN it becomes a TIME_WAIT for "
		    "60 s.",
		    (long long)fin);
	rules_ev(x, "fin_wait2_orphans", (double)ns->fw2_orphans, "sockets");
	rules_ev(x, "tcp_fin_timeout", (double)fin, "s");
	rules_remedy(x, "Find the peers that never close: they hold these connections in "
			"CLOSE_WAIT (run tcpdoctor there)");
	rules_remedy(x, "net.ipv4.tcp_fin_timeout bounds orphaned FIN_WAIT2 only (not TIME_WAIT); "
			"lowering it shortens them");
}

void rules_sockets(const struct td_model *m, const struct td_ns_model *ns,
		   const struct td_limits *lim, struct td_findings *out)
{
	for (size_t i = 0; i < ns->ndests; i++)
		rule_dest(ns, &ns->dests[i], lim, out);
	rule_src_range(ns, lim, out);
	rule_tw_server(ns, lim, out);
	rule_close_wait(m, ns, lim, out);
	rule_listeners(ns, lim, out);
	rule_fw2(ns, lim, out);
	if (ns->interrupted) {
		struct td_finding *x =
			rules_add(out, "dump-interrupted", TD_F_INFO, ns_name(ns), NULL);
		rules_title(x, "The kernel flagged the socket dump as interrupted: counts may be "
			       "off by a few");
		rules_cause(x, "A dump is not a snapshot; sockets that change during it can be "
			       "missed or seen twice.");
	}
}
