// SPDX-License-Identifier: MIT
/*
 * The findings engine: thresholds, the finding builders the rule files use, evaluation over every
 * namespace of a model, and a stable order (worst first). The rules themselves live in
 * rules_sockets.c (what the socket tables show), rules_kernel.c (counters and sysctls) and
 * rules_conntrack.c (the netfilter connection-tracking table).
 */
#include "core/rules/rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/rules/catalogue.h"
#include "core/model/model.h"
#include "core/sock.h"
#include "core/util.h"

void rules_limits_default(struct td_limits *lim)
{
	static const struct td_limit defs[TD_LIM_STATE_FIRST] = {
		[TD_LIM_PORT_USAGE] = { "port_usage",
					"% of a destination's ports in use (reusable TIME_WAIT "
					"excluded)",
					50, 90 },
		[TD_LIM_EXHAUST_S] = { "exhaust_s",
				       "seconds until connect() fails (lower is worse)", 600, 60 },
		[TD_LIM_RANGE_USAGE] = { "range_usage",
					 "% of the ephemeral range in use from one source address",
					 70, 95 },
		[TD_LIM_TW_DEST] = { "tw_dest", "client TIME_WAIT to one destination", 5000, 0 },
		[TD_LIM_TW_SERVER] = { "tw_server", "server-side TIME_WAIT (info)", 1000, 0 },
		[TD_LIM_CW_PROC] = { "close_wait_proc", "CLOSE_WAIT held by one process", 10,
				     1000 },
		[TD_LIM_ACCEPT_Q] = { "accept_queue", "% of a listener's accept queue in use", 80,
				      100 },
		[TD_LIM_ORPHANS] = { "orphans", "% of tcp_max_orphans", 50, 90 },
		[TD_LIM_FW2_ORPHANS] = { "fin_wait2_orphans", "FIN_WAIT2 no process holds", 1000,
					 0 },
		[TD_LIM_TW_BUCKETS] = { "tw_buckets", "% of tcp_max_tw_buckets", 80, 100 },
		[TD_LIM_CT_USAGE] = { "conntrack_usage",
				      "% of nf_conntrack_max in use in a namespace", 75, 90 },
		[TD_LIM_CT_DROPS] = { "conntrack_drops",
				      "conntrack drop + early_drop + insert_failed in the interval",
				      1, 100 },
		[TD_LIM_CT_TW] = { "conntrack_time_wait",
				   "% of conntrack entries in TCP TIME_WAIT (at least 100)", 50,
				   0 },
		[TD_LIM_CT_UNREPLIED] = { "conntrack_unreplied",
					  "% of conntrack entries never answered (at least 100)",
					  50, 0 },
		[TD_LIM_CT_CHAIN] = { "conntrack_chain",
				      "average conntrack hash chain at a full table "
				      "(2*max/buckets)",
				      16, 0 },
		[TD_LIM_PEER_REJECTS] = { "peer_rejects",
					  "refused connects + resets from one destination in a "
					  "trace (doctor --trace)",
					  1, 100 },
	};
	static const char *const st[11] = { "established", "syn_sent",	"syn_recv", "fin_wait1",
					    "fin_wait2",   "time_wait", "close",    "close_wait",
					    "last_ack",	   "listen",	"closing" };
	memset(lim, 0, sizeof(*lim));
	for (int i = 0; i < TD_LIM_STATE_FIRST; i++)
		lim->l[i] = defs[i];
	for (int i = 0; i < 11; i++)
		lim->l[TD_LIM_STATE_FIRST + i] =
			(struct td_limit){ st[i], "sockets in this state (all namespaces)", 0, 0 };
}

struct td_limit *rules_limit_find(struct td_limits *lim, const char *name)
{
	char n[40];
	size_t i;

	for (i = 0; name[i] && i + 1 < sizeof(n); i++)
		n[i] = name[i] == '-' ? '_' : name[i];
	n[i] = '\0';
	for (i = 0; i < TD_LIM_COUNT; i++)
		if (!strcasecmp(lim->l[i].name, n))
			return &lim->l[i];
	return NULL;
}

enum td_fsev rules_grade(const struct td_limit *l, double v)
{
	if (l->crit > 0 && v >= l->crit)
		return TD_F_CRITICAL;
	if (l->warn > 0 && v >= l->warn)
		return TD_F_WARNING;
	return TD_F_OK;
}

struct td_finding *rules_add(struct td_findings *f, const char *id, enum td_fsev sev,
			     const char *netns, const char *ref)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	struct td_finding *x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	x->id = id;
	x->sev = sev;
	x->netns = xstrdup(netns ? netns : "");
	x->ref = ref ? ref : catalogue_ref(id);
	return x;
}

#define SETTER(fn, field)                                                                          \
	void fn(struct td_finding *x, const char *fmt, ...)                                        \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		free(x->field);                                                                    \
		x->field = xvasprintf(fmt, ap);                                                    \
		va_end(ap);                                                                        \
	}
SETTER(rules_subject, subject)
SETTER(rules_title, title)
SETTER(rules_cause, cause)

void rules_remedy(struct td_finding *x, const char *fmt, ...)
{
	va_list ap;

	if (x->nrem == TD_REMEDIES_MAX) {
		x->nrem_dropped++; /* never silently: the rule tests fail on it */
		return;
	}
	va_start(ap, fmt);
	x->remedies[x->nrem++] = xvasprintf(fmt, ap);
	va_end(ap);
}

void rules_ev(struct td_finding *x, const char *key, double value, const char *unit)
{
	if (x->nev < TD_EVIDENCE_MAX)
		x->ev[x->nev++] = (struct td_evidence){ key, value, unit };
}

/* Thresholds on state totals over every namespace: what `check --warn time_wait=N` asks. */
static void state_limits(const struct td_model *m, const struct td_limits *lim,
			 struct td_findings *out)
{
	struct td_census all = { 0 };

	for (size_t i = 0; i < m->n; i++)
		census_merge(&all, &m->ns[i].census);
	for (unsigned s = 1; s < TD_SS_COUNT; s++) {
		const struct td_limit *l = &lim->l[TD_LIM_STATE_FIRST + s - 1];
		double n = (double)census_state_total(&all, s);
		enum td_fsev sev = rules_grade(l, n);
		if (sev == TD_F_OK)
			continue;
		struct td_finding *x = rules_add(out, "state-threshold", sev, "", NULL);
		rules_subject(x, "%s", sock_state_name(s));
		rules_title(x, "%.0f sockets in %s (threshold %s %.0f)", n, sock_state_name(s),
			    sev == TD_F_CRITICAL ? "critical" : "warning",
			    sev == TD_F_CRITICAL ? l->crit : l->warn);
		rules_ev(x, l->name, n, "sockets");
	}
}

static int cmp_finding(const void *a, const void *b)
{
	const struct td_finding *x = a, *y = b;
	int c;

	if (x->sev != y->sev)
		return x->sev > y->sev ? -1 : 1;
	if ((c = strcmp(x->netns, y->netns)))
		return c;
	if ((c = strcmp(x->id, y->id)))
		return c;
	return strcmp(x->subject ? x->subject : "", y->subject ? y->subject : "");
}

void rules_evaluate(const struct td_model *m, const struct td_limits *lim, struct td_findings *out)
{
	for (size_t i = 0; i < m->n; i++) {
		rules_sockets(m, &m->ns[i], lim, out);
		rules_kernel(m, &m->ns[i], lim, out);
		rules_conntrack(m, &m->ns[i], lim, out);
		rules_trace(m, &m->ns[i], lim, out);
	}
	state_limits(m, lim, out);
	if (out->n > 1) /* qsort(NULL, 0) is undefined behaviour */
		qsort(out->v, out->n, sizeof(*out->v), cmp_finding);
}

enum td_fsev rules_worst(const struct td_findings *f)
{
	enum td_fsev w = TD_F_OK;

	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].sev > w)
			w = f->v[i].sev;
	return w;
}

const char *rules_sev_name(enum td_fsev s)
{
	static const char *const n[] = { "ok", "info", "warning", "critical" };
	return s <= TD_F_CRITICAL ? n[s] : "unknown";
}

void rules_findings_free(struct td_findings *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		struct td_finding *x = &f->v[i];
		free(x->netns);
		free(x->subject);
		free(x->title);
		free(x->cause);
		for (size_t j = 0; j < x->nrem; j++)
			free(x->remedies[j]);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

enum td_fsev rules_sev_of_sysctl(enum td_sev s)
{
	return s >= TD_SEV_HARMFUL ? TD_F_WARNING : s == TD_SEV_WARN ? TD_F_INFO : TD_F_OK;
}
