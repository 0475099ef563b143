// SPDX-License-Identifier: MIT
/*
 * The rules that read a trace (doctor --trace, model.h td_model_trace): the programs whose
 * connect() or bind(addr, 0) failed for want of a local port are named, with exact counts, in the
 * port-exhaustion finding of their namespace (one is added when the trace saw the failures and
 * the snapshot, taken after, no longer shows the ports held); and a destination that refused our
 * SYNs (ECONNREFUSED) or reset our connections, while ephemeral ports are fine, gets a
 * peer-rejects finding: the errno is the evidence that TIME_WAIT and port tuning are not the cause.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/rules/catalogue.h"
#include "core/model/model.h"
#include "core/names.h"
#include "core/rules/rules.h"
#include "core/trace/trace.h"

#define PEERS_MAX 64 /* destinations judged per namespace; more are not */

/* connect() found no local port, or bind(addr, 0) none free */
static bool is_exhaustion(const struct td_trace_key *k)
{
	if (k->kind == TD_EV_CONNECT_FAIL)
		return k->err == EADDRNOTAVAIL || k->err == EADDRINUSE;
	return k->kind == TD_EV_BIND_FAIL && k->err == EADDRINUSE && !k->sport;
}

/* the peer answered our SYN with RST, or reset a connection we opened */
static bool is_reject(const struct td_trace_key *k)
{
	if (k->kind == TD_EV_CONNECT_FAIL)
		return k->err == ECONNREFUSED || k->err == ECONNRESET;
	return k->kind == TD_EV_RESET_RECV && k->dport;
}

static void traced_add(struct td_finding *x, const struct td_trace_row *r)
{
	const struct td_trace_key *k = &r->k;
	struct td_traced *t;

	if (x->ntraced == TD_TRACED_MAX)
		return;
	t = &x->traced[x->ntraced++];
	memset(t, 0, sizeof(*t));
	t->pid = k->pid;
	memcpy(t->comm, k->comm, sizeof(t->comm));
	t->comm[sizeof(t->comm) - 1] = '\0';
	t->netns = k->netns;
	t->what = k->kind == TD_EV_RESET_RECV ? "reset" : trace_syscall_name(k->kind);
	t->err = k->kind == TD_EV_RESET_RECV ? ECONNRESET : k->err;
	if (k->kind == TD_EV_BIND_FAIL)
		trace_endpoint_str(k->family, k->saddr, k->sport, t->dst, sizeof(t->dst));
	else
		trace_endpoint_str(k->family, k->daddr, k->dport, t->dst, sizeof(t->dst));
	t->count = r->count;
}

static struct td_finding *find_exhaustion(struct td_findings *out, const char *netns,
					  const char *dst)
{
	struct td_finding *first = NULL;

	for (size_t i = 0; i < out->n; i++) {
		struct td_finding *x = &out->v[i];
		if (strcmp(x->id, "port-exhaustion") || strcmp(x->netns, netns))
			continue;
		if (!first)
			first = x;
		if (x->subject && strstr(x->subject, dst))
			return x;
	}
	return first;
}

/* A port-exhaustion finding from the trace alone: the connects failed while it ran */
static struct td_finding *exhaustion_finding(const struct td_model *m, const struct td_ns_model *ns,
					     const struct td_trace_row *top, uint64_t total,
					     struct td_findings *out)
{
	const struct td_cat_finding *c = catalogue_finding("port-exhaustion");
	struct td_finding *x = rules_add(out, "port-exhaustion", TD_F_CRITICAL, ns->name, NULL);
	char dst[64], *comm;

	trace_endpoint_str(
		top->k.family, top->k.kind == TD_EV_BIND_FAIL ? top->k.saddr : top->k.daddr,
		top->k.kind == TD_EV_BIND_FAIL ? top->k.sport : top->k.dport, dst, sizeof(dst));
	comm = names_escape_str(top->k.comm);
	rules_subject(x, "-> %s", dst);
	rules_title(x,
		    "connect() or bind() failed %llu times for want of a local port during the "
		    "%.1f s trace (most: %s, pid %u, to %s)",
		    (unsigned long long)total, m->trace->duration_s, top->k.pid ? comm : "?",
		    top->k.pid, dst);
	free(comm);
	rules_cause(x,
		    "%s The ports were free again when the sockets were counted after the trace: "
		    "the program holds them in bursts.",
		    c->cause);
	for (size_t i = 0; i < TD_CAT_REMEDIES && c->remedies[i]; i++)
		rules_remedy(x, "%s", c->remedies[i]);
	return x;
}

static void trace_exhaustion(const struct td_model *m, const struct td_ns_model *ns,
			     struct td_findings *out)
{
	const struct td_model_trace *t = m->trace;
	const struct td_trace_row *top = NULL;
	struct td_finding *x;
	uint64_t total = 0;
	char dst[64];

	for (size_t i = 0; i < t->nfail; i++)
		if (t->fail[i].k.netns == ns->ino && is_exhaustion(&t->fail[i].k)) {
			total += t->fail[i].count;
			top = top ? top : &t->fail[i];
		}
	if (!total)
		return;
	trace_endpoint_str(top->k.family, top->k.daddr, top->k.dport, dst, sizeof(dst));
	x = find_exhaustion(out, ns->name, dst);
	if (!x)
		x = exhaustion_finding(m, ns, top, total, out);
	x->sev = TD_F_CRITICAL; /* connects failed: no longer a forecast */
	rules_ev(x, "traced_failures", (double)total, "calls");
	for (size_t i = 0; i < t->nfail; i++)
		if (t->fail[i].k.netns == ns->ino && is_exhaustion(&t->fail[i].k))
			traced_add(x, &t->fail[i]);
}

struct peer {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	uint64_t refused, reset;
};

static struct peer *peer_of(struct peer *p, size_t *n, const struct td_trace_key *k)
{
	for (size_t i = 0; i < *n; i++)
		if (p[i].family == k->family && p[i].port == k->dport &&
		    !memcmp(p[i].addr, k->daddr, sizeof(p[i].addr)))
			return &p[i];
	if (*n == PEERS_MAX)
		return NULL;
	p[*n] = (struct peer){ .family = k->family, .port = k->dport };
	memcpy(p[*n].addr, k->daddr, sizeof(p[*n].addr));
	return &p[(*n)++];
}

static bool same_peer(const struct peer *p, const struct td_trace_key *k)
{
	return is_reject(k) && p->family == k->family && p->port == k->dport &&
	       !memcmp(p->addr, k->daddr, sizeof(p->addr));
}

static void peer_finding(const struct td_model *m, const struct td_ns_model *ns,
			 const struct peer *p, enum td_fsev sev, struct td_findings *out)
{
	const struct td_model_trace *t = m->trace;
	const struct td_cat_finding *c = catalogue_finding("peer-rejects");
	struct td_finding *x = rules_add(out, "peer-rejects", sev, ns->name, NULL);
	char dst[64], what[96];

	trace_endpoint_str(p->family, p->addr, p->port, dst, sizeof(dst));
	rules_subject(x, "%s", dst);
	if (p->refused && p->reset)
		snprintf(what, sizeof(what), "%llu connects refused, %llu connections reset",
			 (unsigned long long)p->refused, (unsigned long long)p->reset);
	else if (p->refused)
		snprintf(what, sizeof(what), "%llu connects refused",
			 (unsigned long long)p->refused);
	else
		snprintf(what, sizeof(what), "%llu connections reset",
			 (unsigned long long)p->reset);
	rules_title(x, "%s rejects us: %s during the %.1f s trace; ephemeral ports are fine", dst,
		    what, t->duration_s);
	rules_cause(x, "%s", c->cause);
	rules_ev(x, "refused", (double)p->refused, "connects");
	rules_ev(x, "reset", (double)p->reset, "connections");
	for (size_t i = 0; i < TD_CAT_REMEDIES && c->remedies[i]; i++)
		rules_remedy(x, "%s", c->remedies[i]);
	for (size_t i = 0; i < t->nfail; i++)
		if (t->fail[i].k.netns == ns->ino && same_peer(p, &t->fail[i].k))
			traced_add(x, &t->fail[i]);
	for (size_t i = 0; i < t->nrst; i++)
		if (t->rst[i].k.netns == ns->ino && same_peer(p, &t->rst[i].k))
			traced_add(x, &t->rst[i]);
}

static void trace_rejects(const struct td_model *m, const struct td_ns_model *ns,
			  const struct td_limits *lim, struct td_findings *out)
{
	const struct td_model_trace *t = m->trace;
	struct peer peers[PEERS_MAX], *p;
	size_t n = 0;

	for (size_t i = 0; i < out->n; i++) /* ports are not fine: that finding says why */
		if (!strcmp(out->v[i].id, "port-exhaustion") && !strcmp(out->v[i].netns, ns->name))
			return;
	for (size_t i = 0; i < t->nfail; i++)
		if (t->fail[i].k.netns == ns->ino && is_reject(&t->fail[i].k) &&
		    (p = peer_of(peers, &n, &t->fail[i].k)))
			p->refused += t->fail[i].count;
	for (size_t i = 0; i < t->nrst; i++)
		if (t->rst[i].k.netns == ns->ino && is_reject(&t->rst[i].k) &&
		    (p = peer_of(peers, &n, &t->rst[i].k)))
			p->reset += t->rst[i].count;
	for (size_t i = 0; i < n; i++) {
		enum td_fsev sev = rules_grade(&lim->l[TD_LIM_PEER_REJECTS],
					       (double)(peers[i].refused + peers[i].reset));
		if (sev != TD_F_OK)
			peer_finding(m, ns, &peers[i], sev, out);
	}
}

void rules_trace(const struct td_model *m, const struct td_ns_model *ns,
		 const struct td_limits *lim, struct td_findings *out)
{
	if (!m->trace || !ns->ino)
		return;
	trace_exhaustion(m, ns, out);
	trace_rejects(m, ns, lim, out);
}
