// SPDX-License-Identifier: MIT
/*
 * Rules on a namespace's netfilter connection-tracking table (model.h: struct td_ns_ct): the
 * table full or near it (every new flow of any protocol is dropped there), drops and early
 * drops rising, TCP TIME_WAIT or never-answered entries filling it, and a hash table small for
 * the limit. A namespace without conntrack, or whose table nothing uses, gets no finding.
 * Remedies come in one order: reuse connections, do not track what needs no tracking, shorten
 * the timeouts that are safe to shorten, raise nf_conntrack_max with the buckets (on the host:
 * a child namespace cannot). Every sentence agrees with doc/tcp-facts.md#conntrack.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/model/model.h"
#include "core/rules/rules.h"

/* The summed statistics to judge: their change over the interval, or totals (abs). */
struct ct_moves {
	uint64_t drop, early_drop, insert_failed, chaintoolong;
	bool abs;
	double interval_s;
};

static uint64_t up(uint64_t a, uint64_t b)
{
	return b >= a ? b - a : 0;
}

static void moves(const struct td_ns_ct *ct, struct ct_moves *mv)
{
	const struct td_ct_stats *a = &ct->s0, *b = &ct->s1;

	memset(mv, 0, sizeof(*mv));
	if (!ct->has_delta) {
		*mv = (struct ct_moves){ b->drop,	  b->early_drop, b->insert_failed,
					 b->chaintoolong, true,		 0 };
		return;
	}
	mv->drop = up(a->drop, b->drop);
	mv->early_drop = up(a->early_drop, b->early_drop);
	mv->insert_failed = up(a->insert_failed, b->insert_failed);
	mv->chaintoolong = up(a->chaintoolong, b->chaintoolong);
	mv->interval_s = (double)(ct->s1_ns - ct->s0_ns) / 1e9;
}

static double usage_pct(const struct td_ns_ct *ct)
{
	return ct->table.has_max && ct->table.max
		       ? 100.0 * (double)ct->table.count / (double)ct->table.max
		       : 0;
}

static unsigned long long timeout_or(const struct td_ns_ct *ct, const char *name,
				     unsigned long long dflt)
{
	uint64_t v;

	return model_ct_timeout(ct, name, &v) ? dflt : (unsigned long long)v;
}

/* "ip netns exec NAME " before a command for a named namespace ("NS" when the name would need
 * shell quoting), nothing for the current one. */
static const char *ns_where(const struct td_ns_model *ns, char *b, size_t len)
{
	const char *n = ns->name;
	bool plain =
		strlen(n) < 64 && strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					    "0123456789._-") == strlen(n);

	if (!*n)
		return "";
	snprintf(b, len, "ip netns exec %s ", plain ? n : "NS");
	return b;
}

static void remedy_reuse(struct td_finding *x, const struct td_ns_ct *ct)
{
	rules_remedy(x,
		     "Reuse connections (keep-alive, a connection pool): every short TCP "
		     "connection keeps its conntrack entry in TIME_WAIT for "
		     "nf_conntrack_tcp_timeout_time_wait (%llu s here) after it closes",
		     timeout_or(ct, "tcp_time_wait", 120));
}

/* The exact nftables rules that stop tracking the busiest (protocol, port). */
static void remedy_notrack(struct td_finding *x, const struct td_ns_model *ns)
{
	const struct td_ns_ct *ct = &ns->ct;
	const char *pr = ct->top_proto == IPPROTO_UDP ? "udp" : "tcp";
	char port[16] = "PORT", who[96] = "";

	if (ct->top_n && (ct->top_proto == IPPROTO_TCP || ct->top_proto == IPPROTO_UDP)) {
		snprintf(port, sizeof(port), "%u", ct->top_dport);
		snprintf(who, sizeof(who), " (here %s/%u holds the most: %llu entries)", pr,
			 ct->top_dport, (unsigned long long)ct->top_n);
	}
	char wb[96];
	const char *w = ns_where(ns, wb, sizeof(wb));
	rules_remedy(x,
		     "Do not track what needs no tracking: for high-rate local flows%s, skip "
		     "conntrack in chains at raw priority (before conntrack): %snft add table inet "
		     "tdnotrack; %snft add chain inet tdnotrack pre '{ type filter hook prerouting "
		     "priority raw; }'; %snft add chain inet tdnotrack out '{ type filter hook "
		     "output priority raw; }'; then for each of pre and out: %snft add rule inet "
		     "tdnotrack CHAIN %s dport %s notrack, and the same with %s sport %s. "
		     "Untracked packets match 'ct state untracked', not established: accept them "
		     "where the ruleset filters on ct state; NAT does not apply to them",
		     who, w, w, w, w, pr, port, pr, port);
}

static void remedy_tw_timeout(struct td_finding *x, const struct td_ns_model *ns)
{
	char wb[96];

	rules_remedy(x,
		     "Shorten conntrack's TIME_WAIT: unlike TCP's 60 s it is a sysctl, per "
		     "namespace: %ssysctl -w net.netfilter.nf_conntrack_tcp_timeout_time_wait=30 "
		     "(%llu s here, 120 by default); a late segment of a closed connection then "
		     "finds no entry",
		     ns_where(ns, wb, sizeof(wb)), timeout_or(&ns->ct, "tcp_time_wait", 120));
}

static void remedy_unreplied_timeouts(struct td_finding *x, const struct td_ns_model *ns)
{
	char wb[96];

	rules_remedy(x,
		     "Shorten the timeouts of unanswered flows, per namespace: %ssysctl -w "
		     "net.netfilter.nf_conntrack_udp_timeout=10 (%llu s here, 30 by default) and "
		     "net.netfilter.nf_conntrack_tcp_timeout_syn_sent=30 (%llu s here, 120 by "
		     "default)",
		     ns_where(ns, wb, sizeof(wb)), timeout_or(&ns->ct, "udp", 30),
		     timeout_or(&ns->ct, "tcp_syn_sent", 120));
}

static void mib(char *b, size_t len, double bytes)
{
	snprintf(b, len, "%.0f MiB", bytes / (1024.0 * 1024.0));
}

/* Raise the limit with the buckets, what it costs, and who may do it. */
static void remedy_raise(struct td_finding *x, const struct td_model *m,
			 const struct td_ns_model *ns)
{
	const struct td_ct_table *t = &ns->ct.table;
	unsigned long long max = t->max ? t->max : 262144, nmax = 2 * max;
	char e[32], h[32], src[96];

	mib(e, sizeof(e), (double)nmax * (double)m->ct_entry_bytes);
	mib(h, sizeof(h), (double)nmax * 8.0);
	if (m->ct_entry_measured)
		snprintf(src, sizeof(src), "%llu-byte nf_conntrack slab objects, /proc/slabinfo",
			 (unsigned long long)m->ct_entry_bytes);
	else
		snprintf(src, sizeof(src), "about %llu bytes an entry",
			 (unsigned long long)m->ct_entry_bytes);
	rules_remedy(x,
		     "%sRaise the limit with the hash table on the host: sysctl -w "
		     "net.netfilter.nf_conntrack_max=%llu net.netfilter.nf_conntrack_buckets=%llu "
		     "(buckets are writable only in the host's namespace; max equal to buckets "
		     "keeps chains at 2 entries on average, each entry being hashed twice). A full "
		     "table then holds %s of entries (%s) and the buckets take %s (8 bytes each)",
		     ns->ct.max_ro ? "This namespace cannot: nf_conntrack_max is read-only in a "
				     "child namespace and the host's value applies to each "
				     "namespace's own count. "
				   : "",
		     nmax, nmax, e, src, h);
}

static void table_ev(struct td_finding *x, const struct td_ns_ct *ct)
{
	rules_ev(x, "entries", (double)ct->table.count, "entries");
	if (ct->table.has_max)
		rules_ev(x, "nf_conntrack_max", (double)ct->table.max, "entries");
}

static void rule_full(const struct td_model *m, const struct td_ns_model *ns,
		      const struct td_limits *lim, struct td_findings *out)
{
	const struct td_ns_ct *ct = &ns->ct;
	double pct = usage_pct(ct);
	enum td_fsev sev = rules_grade(&lim->l[TD_LIM_CT_USAGE], pct);

	if (!ct->table.has_max || !ct->table.max || sev == TD_F_OK)
		return;
	bool full = ct->table.count >= ct->table.max;
	struct td_finding *x = rules_add(out, "conntrack-full", sev, ns->name, NULL);
	rules_subject(x, "nf_conntrack_max");
	rules_title(x,
		    "Connection tracking table %s: %llu entries of nf_conntrack_max %llu (%.0f%%)",
		    full ? "full, new flows are dropped" : "nearly full",
		    (unsigned long long)ct->table.count, (unsigned long long)ct->table.max, pct);
	rules_cause(x,
		    "Every new flow of any protocol here needs a conntrack entry. %s the kernel "
		    "first evicts entries that are not ASSURED, then logs 'nf_conntrack: table "
		    "full, dropping packet' and drops the first packet of new flows: new TCP "
		    "connects (inbound ssh too) time out, ping gets no reply and DNS queries go "
		    "unanswered, while established flows go on. The count is this namespace's; "
		    "the limit is the host's.",
		    full ? "At the limit" : "At nf_conntrack_max");
	table_ev(x, ct);
	rules_ev(x, "usage", pct, "%");
	rules_ev(x, "time_wait", (double)ct->census.tcp_state[TD_CT_TCP_TIME_WAIT], "entries");
	rules_ev(x, "unreplied", (double)ct->census.unreplied, "entries");
	remedy_reuse(x, ct);
	remedy_notrack(x, ns);
	remedy_tw_timeout(x, ns);
	remedy_raise(x, m, ns);
}

static void rule_drops(const struct td_model *m, const struct td_ns_model *ns,
		       const struct td_limits *lim, struct td_findings *out)
{
	struct ct_moves mv;

	if (!ns->ct.has_stats)
		return;
	moves(&ns->ct, &mv);
	uint64_t sum = mv.drop + mv.early_drop + mv.insert_failed;
	enum td_fsev sev = rules_grade(&lim->l[TD_LIM_CT_DROPS], (double)sum);
	if (sev == TD_F_OK)
		return;
	if (mv.abs)
		sev = TD_F_INFO; /* totals since the namespace started: history, not now */
	struct td_finding *x = rules_add(out, "conntrack-drops", sev, ns->name, NULL);
	rules_subject(x, "nf_conntrack");
	rules_title(x,
		    "Connection tracking dropped or evicted %llu flows%s (drop %llu, "
		    "early_drop %llu, insert_failed %llu)",
		    (unsigned long long)sum, mv.abs ? " since the namespace started" : " just now",
		    (unsigned long long)mv.drop, (unsigned long long)mv.early_drop,
		    (unsigned long long)mv.insert_failed);
	rules_cause(x, "drop counts new flows refused because the table was full and nothing "
		       "could be evicted; early_drop counts entries evicted to make room (not "
		       "ASSURED, or TCP closing); insert_failed counts new entries that could not "
		       "be added (a clash with another packet of the same flow, or a hash chain "
		       "too long), their packet dropped.");
	const char *unit = mv.abs ? "total" : "in interval";
	rules_ev(x, "drop", (double)mv.drop, unit);
	rules_ev(x, "early_drop", (double)mv.early_drop, unit);
	rules_ev(x, "insert_failed", (double)mv.insert_failed, unit);
	if (!mv.abs)
		rules_ev(x, "interval", mv.interval_s, "s");
	table_ev(x, &ns->ct);
	remedy_reuse(x, &ns->ct);
	remedy_notrack(x, ns);
	remedy_tw_timeout(x, ns);
	remedy_raise(x, m, ns);
}

/* A share of the table: info while the table has room, a warning once it is filling. */
static enum td_fsev share_sev(const struct td_ns_ct *ct, const struct td_limit *l,
			      const struct td_limits *lim, uint64_t n, double *pct)
{
	*pct = ct->census.entries ? 100.0 * (double)n / (double)ct->census.entries : 0;
	if (n < TD_CT_MIN_ENTRIES || rules_grade(l, *pct) == TD_F_OK)
		return TD_F_OK;
	return rules_grade(&lim->l[TD_LIM_CT_USAGE], usage_pct(ct)) != TD_F_OK ? TD_F_WARNING
									       : TD_F_INFO;
}

static void rule_time_wait(const struct td_model *m, const struct td_ns_model *ns,
			   const struct td_limits *lim, struct td_findings *out)
{
	const struct td_ns_ct *ct = &ns->ct;
	uint64_t tw = ct->census.tcp_state[TD_CT_TCP_TIME_WAIT];
	double pct;
	enum td_fsev sev = share_sev(ct, &lim->l[TD_LIM_CT_TW], lim, tw, &pct);

	if (sev == TD_F_OK)
		return;
	unsigned long long to = timeout_or(ct, "tcp_time_wait", 120);
	struct td_finding *x = rules_add(out, "conntrack-time-wait", sev, ns->name, NULL);
	rules_subject(x, "nf_conntrack_tcp_timeout_time_wait");
	rules_title(x,
		    "%llu of %llu conntrack entries (%.0f%%) are closed TCP connections in "
		    "TIME_WAIT",
		    (unsigned long long)tw, (unsigned long long)ct->census.entries, pct);
	rules_cause(x,
		    "Short connections: each closed TCP connection holds its conntrack slot for "
		    "nf_conntrack_tcp_timeout_time_wait, %llu s here (120 s by default, twice "
		    "TCP's 60 s, and unlike TCP's a sysctl, per namespace), so a rate of R "
		    "connections a second keeps about R x %llu entries.",
		    to, to);
	rules_ev(x, "time_wait", (double)tw, "entries");
	rules_ev(x, "dumped", (double)ct->census.entries, "entries");
	rules_ev(x, "share", pct, "%");
	rules_ev(x, "timeout_time_wait", (double)to, "s");
	rules_ev(x, "usage", usage_pct(ct), "%");
	table_ev(x, ct);
	remedy_reuse(x, ct);
	remedy_notrack(x, ns);
	remedy_tw_timeout(x, ns);
	remedy_raise(x, m, ns);
}

static void rule_unreplied(const struct td_model *m, const struct td_ns_model *ns,
			   const struct td_limits *lim, struct td_findings *out)
{
	const struct td_ns_ct *ct = &ns->ct;
	double pct;
	enum td_fsev sev =
		share_sev(ct, &lim->l[TD_LIM_CT_UNREPLIED], lim, ct->census.unreplied, &pct);

	if (sev == TD_F_OK)
		return;
	struct td_finding *x = rules_add(out, "conntrack-unreplied", sev, ns->name, NULL);
	rules_subject(x, "UNREPLIED");
	rules_title(x, "%llu of %llu conntrack entries (%.0f%%) never saw a reply",
		    (unsigned long long)ct->census.unreplied,
		    (unsigned long long)ct->census.entries, pct);
	rules_cause(x,
		    "Flows that got no answer: a scan, a flood, or an upstream that is down "
		    "(UDP to a closed port, SYNs nobody answers). Each holds its slot until its "
		    "timeout: nf_conntrack_udp_timeout %llu s, nf_conntrack_tcp_timeout_syn_sent "
		    "%llu s here. They are not ASSURED, so a full table evicts them first.",
		    timeout_or(ct, "udp", 30), timeout_or(ct, "tcp_syn_sent", 120));
	rules_ev(x, "unreplied", (double)ct->census.unreplied, "entries");
	rules_ev(x, "dumped", (double)ct->census.entries, "entries");
	rules_ev(x, "share", pct, "%");
	rules_ev(x, "usage", usage_pct(ct), "%");
	table_ev(x, ct);
	rules_remedy(x,
		     "Find who sends them and whether anyone should answer: tcpdoctor%s%s "
		     "conntrack --by dst (or --by src, --by dport)",
		     *ns->name ? " -N " : "", ns->name);
	remedy_notrack(x, ns);
	remedy_unreplied_timeouts(x, ns);
	remedy_raise(x, m, ns);
}

static void rule_hash(const struct td_model *m, const struct td_ns_model *ns,
		      const struct td_limits *lim, struct td_findings *out)
{
	const struct td_ct_table *t = &ns->ct.table;
	struct ct_moves mv;

	if (!t->has_max || !t->has_buckets || !t->buckets)
		return;
	moves(&ns->ct, &mv);
	double chain = 2.0 * (double)t->max / (double)t->buckets;
	enum td_fsev sev = rules_grade(&lim->l[TD_LIM_CT_CHAIN], chain);
	bool too_long = ns->ct.has_stats && !mv.abs && mv.chaintoolong;
	if (too_long)
		sev = TD_F_WARNING;
	if (sev == TD_F_OK)
		return;
	struct td_finding *x = rules_add(out, "conntrack-hash", sev, ns->name, NULL);
	rules_subject(x, "nf_conntrack_buckets");
	rules_title(x,
		    "Conntrack hash table small for the limit: %llu buckets for "
		    "nf_conntrack_max %llu, chains of %.1f entries on average when full%s",
		    (unsigned long long)t->buckets, (unsigned long long)t->max, chain,
		    too_long ? "; insertions refused for chains too long" : "");
	rules_cause(x, "Each entry is hashed twice (original and reply direction), so a full "
		       "table averages 2 x max / buckets entries a chain, walked for every packet "
		       "of a new flow; since 5.15 an insertion into a chain past a limit (drawn "
		       "between 50 and 79 entries in current kernels) is refused and counted as "
		       "chaintoolong.");
	rules_ev(x, "buckets", (double)t->buckets, "");
	rules_ev(x, "nf_conntrack_max", (double)t->max, "entries");
	rules_ev(x, "chain_when_full", chain, "entries");
	rules_ev(x, "chain_now", 2.0 * (double)t->count / (double)t->buckets, "entries");
	if (ns->ct.has_stats)
		rules_ev(x, "chaintoolong", (double)mv.chaintoolong,
			 mv.abs ? "total" : "in interval");
	char h[32];
	mib(h, sizeof(h), (double)t->max * 8.0);
	rules_remedy(x,
		     "Size the hash table to the limit on the host (the only namespace where "
		     "buckets are writable): sysctl -w net.netfilter.nf_conntrack_buckets=%llu "
		     "(%s, 8 bytes a bucket)",
		     (unsigned long long)t->max, h);
	(void)m;
}

void rules_conntrack(const struct td_model *m, const struct td_ns_model *ns,
		     const struct td_limits *lim, struct td_findings *out)
{
	if (!model_ct_tracking(&ns->ct))
		return;
	rule_full(m, ns, lim, out);
	rule_drops(m, ns, lim, out);
	rule_time_wait(m, ns, lim, out);
	rule_unreplied(m, ns, lim, out);
	rule_hash(m, ns, lim, out);
}
