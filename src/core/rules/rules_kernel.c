// SPDX-License-Identifier: MIT
/*
 * Rules on the kernel's counters and settings: TIME_WAIT bucket overflow, accept-queue
 * overflows and SYN-queue drops seen by the counters over the interval, orphan pressure, and the
 * knowledge table's verdicts on this namespace's sysctls (with the cross-key check that
 * tcp_timestamps=0 disables tcp_tw_reuse). Counters are deltas over doctor's interval; with a
 * single snapshot (no interval) they are totals since the namespace started and rate info only.
 */
#include <stdio.h>
#include <string.h>

#include "core/model/model.h"
#include "core/rules/rules.h"

/* A counter's severity: rising now is sev; a total with no interval only informs. */
static bool counter(const struct td_ns_model *ns, const char *name, uint64_t *v, bool *abs)
{
	return model_counter(ns, "TcpExt", name, v, abs) == 0 && *v > 0;
}

static void counter_ev(struct td_finding *x, const struct td_ns_model *ns, const char *key,
		       uint64_t v, bool abs)
{
	rules_ev(x, key, (double)v, abs ? "total" : "in interval");
	if (!abs && ns->interval_s > 0)
		rules_ev(x, "interval", ns->interval_s, "s");
}

static void rule_tw_overflow(const struct td_ns_model *ns, const struct td_limits *lim,
			     struct td_findings *out)
{
	uint64_t v, tw = 0;
	bool abs;
	int64_t max = 0;
	bool have_max = model_sysctl_int(ns, "net.ipv4.tcp_max_tw_buckets", &max) == 0 && max > 0;

	if (counter(ns, "TCPTimeWaitOverflow", &v, &abs)) {
		struct td_finding *x =
			rules_add(out, "time-wait-overflow", abs ? TD_F_WARNING : TD_F_CRITICAL,
				  ns->name, NULL);
		rules_subject(x, "tcp_max_tw_buckets");
		rules_title(x,
			    "TIME_WAIT bucket table overflowed %llu times%s: closing sockets "
			    "skipped TIME_WAIT",
			    (unsigned long long)v,
			    abs ? " since the namespace started" : " just now");
		char at[48] = "";
		if (have_max)
			snprintf(at, sizeof(at), " (%lld here)", (long long)max);
		rules_cause(x,
			    "At tcp_max_tw_buckets%s a closing socket gets no TIME_WAIT: old "
			    "duplicates can be accepted and a lost last ACK is answered with RST. "
			    "Kernels since 4.11 log nothing about it.",
			    at);
		counter_ev(x, ns, "TCPTimeWaitOverflow", v, abs);
		rules_remedy(x, "Make fewer TIME_WAIT: keep-alive and pooling on the side that "
				"closes first");
		rules_remedy(x, "Raise net.ipv4.tcp_max_tw_buckets back to its default (half the "
				"TCP hash size); never lower it");
	}
	if (have_max && model_gauge(ns, "tw", &tw) == 0) {
		double pct = 100.0 * (double)tw / (double)max;
		enum td_fsev sev = rules_grade(&lim->l[TD_LIM_TW_BUCKETS], pct);
		if (sev == TD_F_OK)
			return;
		struct td_finding *x = rules_add(out, "time-wait-buckets", sev, ns->name, NULL);
		rules_subject(x, "tcp_max_tw_buckets");
		rules_title(x, "%llu timewait sockets of tcp_max_tw_buckets %lld (%.0f%%)",
			    (unsigned long long)tw, (long long)max, pct);
		rules_cause(x, "sockstat tw counts TIME_WAIT and the orphaned FIN_WAIT2 kept as "
			       "timewait sockets; at the limit closing sockets skip TIME_WAIT.");
		rules_ev(x, "tw", (double)tw, "sockets");
		rules_ev(x, "tcp_max_tw_buckets", (double)max, "");
		rules_remedy(x, "Reduce TIME_WAIT at its source (connection reuse) or raise the "
				"limit; do not lower it");
	}
}

void rules_syn_schedule(unsigned retries, unsigned linear, struct td_syn_schedule *s)
{
	const double rto_max = 120; /* TCP_RTO_MAX */
	double rto = 1, now = 0;    /* TCP_TIMEOUT_INIT */
	unsigned backoff = 0;

	if (retries < 1)
		retries = 1;
	/* tcp_model_timeout(): linear_backoff_thresh = ilog2(120 / 1) = 6 */
	double limit = retries <= 6 ? (double)((2u << retries) - 1) : 127.0 + (retries - 6) * 120.0;
	memset(s, 0, sizeof(*s));
	for (;;) {
		now += rto;
		if (s->n && (s->n >= retries + linear || now >= limit))
			break;
		if (s->n < TD_SYN_AT_MAX)
			s->at[s->n] = now;
		s->n++;
		if (++backoff > linear)
			rto = rto * 2 > rto_max ? rto_max : rto * 2;
	}
	s->give_up = now;
}

void rules_syn_text(const struct td_syn_schedule *s, char *b, size_t len)
{
	size_t o = (size_t)snprintf(b, len, "resends its SYN after ");
	unsigned shown = s->n < TD_SYN_AT_MAX ? s->n : TD_SYN_AT_MAX;

	for (unsigned i = 0; i < shown && o < len; i++)
		o += (size_t)snprintf(b + o, len - o, "%s%.0f",
				      i == 0				? ""
				      : i + 1 == shown && shown == s->n ? " and "
									: ", ",
				      s->at[i]);
	if (o < len)
		snprintf(b + o, len - o, "%s s and connect() fails after about %.0f s",
			 shown < s->n ? ", ..." : "", s->give_up);
}

/* "a Linux client with this namespace's settings (...) resends ..." */
static void syn_clients(const struct td_ns_model *ns, char *b, size_t len)
{
	int64_t retries = 6, linear = 0;
	bool have_linear = model_sysctl_int(ns, "net.ipv4.tcp_syn_linear_timeouts", &linear) == 0;
	struct td_syn_schedule s;
	char t[200], set[96];

	model_sysctl_int(ns, "net.ipv4.tcp_syn_retries", &retries);
	if (retries < 1 || retries > 127)
		retries = 6;
	if (linear < 0 || linear > 127)
		linear = 0;
	rules_syn_schedule((unsigned)retries, (unsigned)linear, &s);
	rules_syn_text(&s, t, sizeof(t));
	if (have_linear)
		snprintf(set, sizeof(set), "tcp_syn_retries=%lld, tcp_syn_linear_timeouts=%lld",
			 (long long)retries, (long long)linear);
	else
		snprintf(set, sizeof(set), "tcp_syn_retries=%lld, no linear timeouts before 6.5",
			 (long long)retries);
	snprintf(b, len, "a Linux client with this namespace's settings (%s) %s", set, t);
}

static void rule_listen_overflow(const struct td_ns_model *ns, struct td_findings *out)
{
	char clients[400];
	uint64_t v, d = 0;
	bool abs, abs2;

	if (!counter(ns, "ListenOverflows", &v, &abs))
		return;
	model_counter(ns, "TcpExt", "ListenDrops", &d, &abs2);
	struct td_finding *x =
		rules_add(out, "listen-overflows", abs ? TD_F_INFO : TD_F_CRITICAL, ns->name, NULL);
	rules_subject(x, "ListenOverflows");
	rules_title(x, "Accept queues overflowed %llu times%s", (unsigned long long)v,
		    abs ? " since the namespace started" : " during the interval");
	syn_clients(ns, clients, sizeof(clients));
	rules_cause(x,
		    "A listener's accept queue was full. ListenOverflows counts two kinds of "
		    "drop: a connection completing its handshake (tcp_abort_on_overflow=0, the "
		    "default, retries the SYN-ACK later; 1 resets it) and a new SYN (the client "
		    "stays in SYN_SENT: %s).",
		    clients);
	counter_ev(x, ns, "ListenOverflows", v, abs);
	rules_ev(x, "ListenDrops", (double)d, abs ? "total" : "in interval");
	rules_remedy(x, "Find the listener with a full queue (tcpdoctor sockets --state listen: "
			"Recv-Q is the queue, Send-Q the backlog) and make it accept faster");
	rules_remedy(x, "Ask listen() for a larger backlog (capped by net.core.somaxconn)");
}

static void rule_syn(const struct td_ns_model *ns, struct td_findings *out)
{
	uint64_t v;
	bool abs;
	char clients[400];

	if (counter(ns, "TCPReqQFullDrop", &v, &abs)) {
		struct td_finding *x = rules_add(out, "syn-drops", abs ? TD_F_INFO : TD_F_CRITICAL,
						 ns->name, NULL);
		rules_subject(x, "TCPReqQFullDrop");
		rules_title(x, "SYNs dropped because a SYN queue was full: %llu%s",
			    (unsigned long long)v, abs ? " since the namespace started" : "");
		syn_clients(ns, clients, sizeof(clients));
		rules_cause(x,
			    "With tcp_syncookies=0 (or cookies impossible) a full SYN queue drops "
			    "new SYNs; %s.",
			    clients);
		counter_ev(x, ns, "TCPReqQFullDrop", v, abs);
		rules_remedy(x, "Set net.ipv4.tcp_syncookies=1 (the default)");
		rules_remedy(x, "A larger listen() backlog enlarges the SYN queue; "
				"tcp_max_syn_backlog matters only with syncookies off");
	}
	if (counter(ns, "TCPReqQFullDoCookies", &v, &abs)) {
		struct td_finding *x = rules_add(out, "syn-cookies", abs ? TD_F_INFO : TD_F_WARNING,
						 ns->name, NULL);
		rules_subject(x, "TCPReqQFullDoCookies");
		rules_title(x, "SYN queue full, answered with SYN cookies %llu times%s",
			    (unsigned long long)v, abs ? " since the namespace started" : "");
		rules_cause(x, "A SYN flood or a burst larger than the listener's backlog; cookie "
			       "connections get a coarse MSS and, without timestamps, lose SACK, "
			       "window scaling and ECN.");
		counter_ev(x, ns, "TCPReqQFullDoCookies", v, abs);
		rules_remedy(x, "If this is legitimate load, ask listen() for a larger backlog");
	}
}

static void rule_orphans(const struct td_model *m, const struct td_ns_model *ns,
			 const struct td_limits *lim, struct td_findings *out)
{
	uint64_t v;
	bool abs;

	/* orphans are host-wide: judge them once, with the first namespace */
	if (ns == &m->ns[0] && m->max_orphans && m->orphans) {
		double pct = 100.0 * (double)m->orphans / (double)m->max_orphans;
		enum td_fsev sev = rules_grade(&lim->l[TD_LIM_ORPHANS], pct);
		if (sev != TD_F_OK) {
			struct td_finding *x = rules_add(out, "orphans", sev, ns->name, NULL);
			rules_subject(x, "tcp_max_orphans");
			rules_title(x, "%llu orphaned sockets of tcp_max_orphans %llu (%.0f%%)",
				    (unsigned long long)m->orphans,
				    (unsigned long long)m->max_orphans, pct);
			rules_cause(x, "Past tcp_max_orphans the kernel resets orphans ('too many "
				       "orphaned sockets'); each can hold ~64 KB.");
			rules_ev(x, "orphans", (double)m->orphans, "sockets");
			rules_remedy(x, "Find what leaves orphans: closes with unsent data to slow "
					"peers (FIN_WAIT1), or peers that never close while "
					"tcp_fin_timeout is above 60 s (FIN_WAIT2); do not lower "
					"tcp_max_orphans");
		}
	}
	if (counter(ns, "TCPAbortOnMemory", &v, &abs)) {
		struct td_finding *x = rules_add(
			out, "abort-on-memory", abs ? TD_F_WARNING : TD_F_CRITICAL, ns->name, NULL);
		rules_subject(x, "TCPAbortOnMemory");
		rules_title(x, "Connections reset for lack of orphan slots or TCP memory: %llu",
			    (unsigned long long)v);
		rules_cause(x, "The orphan limit or tcp_mem[2] was reached ('too many orphaned "
			       "sockets' / 'out of memory -- consider tuning tcp_mem').");
		counter_ev(x, ns, "TCPAbortOnMemory", v, abs);
		rules_remedy(x, "Check tcp_mem (pages, min <= pressure <= max) and what holds "
				"orphans; do not lower tcp_max_orphans");
	}
}

static void rule_sysctls(const struct td_model *m, const struct td_ns_model *ns,
			 struct td_findings *out)
{
	char def[64];

	for (size_t i = 0; i < ns->nsys; i++) {
		const struct td_sysctl_val *sv = &ns->sys[i];
		enum td_fsev sev = rules_sev_of_sysctl(sv->sev);
		if (sev == TD_F_OK)
			continue;
		const struct td_verdict *v = &sv->v[0];
		for (size_t j = 1; j < sv->nv; j++)
			if (sv->v[j].sev > v->sev)
				v = &sv->v[j];
		struct td_finding *x = rules_add(out, "sysctl", sev, ns->name, v->ref);
		rules_subject(x, "%s", sv->param->key);
		rules_title(x, "%s = %s: %s", sv->param->key, sv->value, v->message);
		rules_cause(x, "%s", v->reason ? v->reason : sv->param->meaning);
		if (params_default(sv->param, &m->env, def, sizeof(def)) == 0)
			rules_remedy(x,
				     "Set it back to this kernel's default: sysctl -w %s=\"%s\", "
				     "and remove the line from /etc/sysctl.conf or sysctl.d "
				     "(tcpdoctor sysctl lint finds it)",
				     sv->param->key, def);
	}
	int64_t ts, reuse;
	if (model_sysctl_int(ns, "net.ipv4.tcp_timestamps", &ts) == 0 && ts == 0 &&
	    model_sysctl_int(ns, "net.ipv4.tcp_tw_reuse", &reuse) == 0 && reuse != 0) {
		struct td_finding *x =
			rules_add(out, "tw-reuse-without-timestamps", TD_F_WARNING, ns->name, NULL);
		rules_subject(x, "net.ipv4.tcp_timestamps");
		rules_title(x, "tcp_tw_reuse=%lld does nothing: tcp_timestamps is 0",
			    (long long)reuse);
		rules_cause(x, "connect() takes over a TIME_WAIT only when timestamps were "
			       "negotiated; without them PAWS is gone too.");
		rules_remedy(x, "sysctl -w net.ipv4.tcp_timestamps=1 (the default)");
	}
}

void rules_kernel(const struct td_model *m, const struct td_ns_model *ns,
		  const struct td_limits *lim, struct td_findings *out)
{
	rule_tw_overflow(ns, lim, out);
	rule_listen_overflow(ns, out);
	rule_syn(ns, out);
	rule_orphans(m, ns, lim, out);
	rule_sysctls(m, ns, out);
	if (ns == &m->ns[0] && !m->replay && m->have_owners &&
	    m->ost.partial != TD_OWNERS_COMPLETE) {
		struct td_finding *x =
			rules_add(out, "attribution-partial", TD_F_INFO, ns->name, NULL);
		char pids[64];
		rules_title(x, "Process attribution is partial: %u process%s unreadable (%s): %s",
			    m->ost.procs_denied, m->ost.procs_denied == 1 ? "" : "es",
			    owners_denied_pids(&m->ost, pids, sizeof(pids)),
			    owners_partial_reason(&m->ost));
		rules_ev(x, "procs_denied", m->ost.procs_denied, "processes");
	}
}
