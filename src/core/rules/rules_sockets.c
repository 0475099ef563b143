// SPDX-License-Identifier: MIT
/*
 * Rules on what the socket tables show: server-side TIME_WAIT, CLOSE_WAIT leaks per process,
 * full accept queues and SYN queue pressure per listener, FIN_WAIT2 orphans (the port rules are
 * in rules_ports.c). Every cause and remedy here must agree with kernel-facts.md (section named
 * in each finding's ref).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/model/model.h"
#include "core/rules/rules.h"

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

/* What the receive queues say (tcp-facts#inet-diag): inet_diag counts the peer's FIN as one byte
 * until the program reads end-of-stream, so the model keeps data bytes and EOF apart. */
static void cw_cause(struct td_finding *x, const struct td_cw_proc *w, const char *peers)
{
	char how[300], data[96] = "";
	uint32_t read_eof = w->n - w->eof_unread;

	if (read_eof == 0)
		snprintf(how, sizeof(how),
			 "The program never read EOF on any of them (read() would return 0): it "
			 "does not read these connections at all, like idle connections kept in "
			 "a pool.");
	else if (w->eof_unread == 0)
		snprintf(how, sizeof(how),
			 "The program read EOF (read() returned 0) on all of them and still did "
			 "not close(): a missing close() on that path.");
	else
		snprintf(how, sizeof(how),
			 "On %u the program never read EOF; on %u it read EOF (read() returned "
			 "0) and still did not close().",
			 w->eof_unread, read_eof);
	if (w->unread_data)
		snprintf(data, sizeof(data), " %llu bytes of data wait unread.",
			 (unsigned long long)w->unread_data);
	rules_cause(x,
		    "The peers sent FIN and the kernel waits for the program to close(); "
		    "CLOSE_WAIT has no timeout and no sysctl ends it: the fix is in the code. "
		    "%s%s Peers: %s.",
		    how, data, peers);
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
		cw_cause(x, w, peers);
		rules_ev(x, "close_wait", w->n, "sockets");
		rules_ev(x, "never_read_eof", w->eof_unread, "sockets");
		rules_ev(x, "unread_data", (double)w->unread_data, "bytes");
		if (w->pid)
			rules_ev(x, "pid", w->pid, "");
		if (w->eof_unread)
			rules_remedy(x, "Connection pools: evict or validate idle connections the "
					"server has closed instead of keeping them (poll them: "
					"readable with read() returning 0 means closed)");
		rules_remedy(x, "Close the socket when read()/recv() returns 0 (end of stream), on "
				"every path, error paths included");
		rules_remedy(x, "Until the code is fixed, restarting the process frees them; no "
				"sysctl does");
	}
}

static void rule_listeners(const struct td_ns_model *ns, const struct td_limits *lim,
			   struct td_findings *out)
{
	for (size_t i = 0; i < ns->nlis; i++) {
		const struct td_listener *l = &ns->lis[i];
		if (l->backlog_unknown) /* /proc has the queue's length, not its size */
			continue;
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
				   "When the queue is full (backlog + 1), completing handshakes "
				   "and new SYNs are dropped (ListenOverflows, ListenDrops) and "
				   "clients wait for retransmissions.");
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

#define TD_FW2_TW_MAX_S                                                                            \
	60 /* TCP_TIMEWAIT_LEN: the most of tcp_fin_timeout a timewait socket serves */

/* Up to 60 s of tcp_fin_timeout an orphaned FIN_WAIT2 is a timewait socket; beyond that the
 * kernel keeps a full orphan socket for tcp_fin_timeout - 60 s (keepalive timer), then a timewait
 * socket for tcp_fin_timeout - 60 s more (tcp_keepalive_timer; measured on 6.18: 90 gives 30 s +
 * 30 s, 120 gives 60 s + 60 s). */
static void fw2_cause(struct td_finding *x, const struct td_ns_model *ns, int64_t fin)
{
	unsigned long long full = ns->fw2_full, tw = ns->fw2_orphans - ns->fw2_full;

	if (fin <= TD_FW2_TW_MAX_S) {
		char now[96] = "";
		if (full)
			snprintf(now, sizeof(now),
				 " For now %llu are still full orphan sockets (keepalive timer in "
				 "ss).",
				 full);
		rules_cause(x,
			    "Each is kept as a timewait socket for tcp_fin_timeout (%lld s), "
			    "counted in sockstat tw and against tcp_max_tw_buckets; on the peer's "
			    "FIN it becomes a TIME_WAIT for 60 s.%s",
			    (long long)fin, now);
		return;
	}
	rules_cause(x,
		    "With tcp_fin_timeout at %lld s (above 60), an orphaned FIN_WAIT2 stays a full "
		    "orphan socket for its first %lld s: sockstat orphan, counted against the "
		    "host-wide tcp_max_orphans, keepalive timer in ss. Only then does it become a "
		    "timewait socket (sockstat tw, tcp_max_tw_buckets), for another %lld s. Now "
		    "%llu are full orphans and %llu timewait sockets. On the peer's FIN either "
		    "becomes a TIME_WAIT for 60 s.",
		    (long long)fin, (long long)(fin - TD_FW2_TW_MAX_S),
		    (long long)(fin - TD_FW2_TW_MAX_S), full, tw);
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
	fw2_cause(x, ns, fin);
	rules_ev(x, "fin_wait2_orphans", (double)ns->fw2_orphans, "sockets");
	rules_ev(x, "full_orphans", (double)ns->fw2_full, "sockets");
	rules_ev(x, "timewait_sockets", (double)(ns->fw2_orphans - ns->fw2_full), "sockets");
	rules_ev(x, "tcp_fin_timeout", (double)fin, "s");
	rules_remedy(x, "Find the peers that never close: they hold these connections in "
			"CLOSE_WAIT (run tcpdoctor there)");
	if (fin > TD_FW2_TW_MAX_S)
		rules_remedy(x,
			     "net.ipv4.tcp_fin_timeout bounds orphaned FIN_WAIT2 only (not "
			     "TIME_WAIT); at 60 s or less they stay timewait sockets, above it "
			     "(%lld s here) each is a full orphan socket for part of the time",
			     (long long)fin);
	else
		rules_remedy(x, "net.ipv4.tcp_fin_timeout bounds orphaned FIN_WAIT2 only (not "
				"TIME_WAIT); lowering it shortens them");
}

void rules_sockets(const struct td_model *m, const struct td_ns_model *ns,
		   const struct td_limits *lim, struct td_findings *out)
{
	rules_ports(m, ns, lim, out);
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
