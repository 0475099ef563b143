// SPDX-License-Identifier: MIT
/*
 * What `sysctl recommend` suggests and why, from one namespace of the model: harmful values
 * back to the kernel's default, tcp_tw_reuse when TIME_WAIT holds most of one destination's
 * ephemeral ports (tcp-facts#ephemeral-ports), somaxconn when ListenOverflows meets a listener
 * capped by it (tcp-facts#listen-queues), and the cases no sysctl fixes said as such. It reads
 * the model's per-destination counts, so nothing holds a socket list.
 */
#include "core/sysctl/recommend.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/model.h"
#include "core/sysctl/params.h"
#include "core/model/ports.h"
#include "core/source/source.h"
#include "core/util.h"

int recommend_profile_parse(const char *s, enum td_rec_profile *out)
{
	static const char *const names[] = { "auto", "client", "server" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*out = (enum td_rec_profile)i;
			return 0;
		}
	return -EINVAL;
}

const char *recommend_profile_name(enum td_rec_profile p)
{
	return p == TD_REC_CLIENT ? "client" : p == TD_REC_SERVER ? "server" : "auto";
}

const char *recommend_kind_name(enum td_rec_kind k)
{
	static const char *const names[TD_REC_KIND_COUNT] = { "app", "reset", "no-default",
							      "evidence", "profile" };

	return k < TD_REC_KIND_COUNT ? names[k] : "unknown";
}

const char *recommend_value(const struct td_ns_model *ns, const char *key, char buf[TD_REC_VAL_MAX])
{
	size_t o = 0;

	if (source_meta_get(ns->meta, key, buf, TD_REC_VAL_MAX))
		return NULL;
	/* blanks folded to one space, as sysctl_read gives them */
	for (size_t i = 0; buf[i]; i++) {
		if (buf[i] == ' ' && (o == 0 || buf[o - 1] == ' '))
			continue;
		buf[o++] = buf[i];
	}
	while (o && buf[o - 1] == ' ')
		o--;
	buf[o] = '\0';
	return buf;
}

/* Listening ports, IPv4 and IPv6 listeners on one port once; *ls is allocated (may be NULL). */
static size_t listening_ports(const struct td_ns_model *ns, struct td_cross_listener **ls)
{
	size_t n = 0;

	*ls = NULL;
	for (size_t i = 0; i < ns->nlis; i++) {
		size_t k = 0;
		while (k < n && (*ls)[k].port != ns->lis[i].port)
			k++;
		if (k < n)
			continue;
		*ls = xrealloc(*ls, (n + 1) * sizeof(**ls));
		(*ls)[n++] = (struct td_cross_listener){ ns->lis[i].port, ns->lis[i].backlog };
	}
	return n;
}

void recommend_evidence(const struct td_ns_model *ns, struct td_rec_evidence *ev)
{
	struct td_cross_listener *ls;
	bool abs;

	memset(ev, 0, sizeof(*ev));
	ev->time_wait = census_state_total(&ns->census, TD_SS_TIME_WAIT);
	/* the model's destinations are the client side's (ports.h): what connect() runs out of */
	for (size_t i = 0; i < ns->ndests; i++)
		if (ns->dests[i].n[TD_SS_TIME_WAIT] > ev->top_tw) {
			ev->top_tw = ns->dests[i].n[TD_SS_TIME_WAIT];
			ev->top_capacity = ns->dests[i].capacity;
		}
	ev->listeners = listening_ports(ns, &ls);
	free(ls);
	ev->have_sock_tw = !model_gauge(ns, "tw", &ev->sock_tw);
	ev->have_listen_overflows =
		!model_counter(ns, "TcpExt", "ListenOverflows", &ev->listen_overflows, &abs);
	ev->have_tw_overflow =
		!model_counter(ns, "TcpExt", "TCPTimeWaitOverflow", &ev->tw_overflow, &abs);
}

void recommend_cross_facts(const struct td_ns_model *ns, struct td_rec_cross *r)
{
	struct td_rec_evidence ev;

	memset(r, 0, sizeof(*r));
	recommend_evidence(ns, &ev);
	r->f.timestamps = recommend_value(ns, "net.ipv4.tcp_timestamps", r->val[0]);
	r->f.tw_reuse = recommend_value(ns, "net.ipv4.tcp_tw_reuse", r->val[1]);
	r->f.port_range = recommend_value(ns, "net.ipv4.ip_local_port_range", r->val[2]);
	r->f.reserved_ports = recommend_value(ns, "net.ipv4.ip_local_reserved_ports", r->val[3]);
	r->f.somaxconn = recommend_value(ns, "net.core.somaxconn", r->val[4]);
	r->f.max_tw = recommend_value(ns, "net.ipv4.tcp_max_tw_buckets", r->val[5]);
	r->f.nlisteners = listening_ports(ns, &r->ls);
	r->f.listeners = r->ls;
	r->f.tw_count = ev.sock_tw;
	r->f.have_tw = ev.have_sock_tw;
}

void recommend_cross_free(struct td_rec_cross *r)
{
	if (r)
		free(r->ls);
}

/* --- the policy --- */

struct ctx {
	const struct td_ns_model *ns;
	const struct td_kenv *env;
	struct td_recs *out;
};

static struct td_rec *push(struct ctx *c, enum td_rec_kind kind, const char *key,
			   const char *suggested, const char *ref, const char *app_fix,
			   const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Adds a recommendation unless the knowledge table warns about the suggested value here (the
 * tool never suggests what its own lint would warn about) or the key is suggested already with
 * a value at least as large (one line per key in the drop-in). */
static struct td_rec *push(struct ctx *c, enum td_rec_kind kind, const char *key,
			   const char *suggested, const char *ref, const char *app_fix,
			   const char *fmt, ...)
{
	struct td_recs *o = c->out;
	struct td_rec *r = NULL;
	va_list ap;

	if (key && *suggested) {
		const struct td_param *p = params_find(key);
		struct td_verdict vd[PARAMS_VERDICTS_MAX];
		struct td_kenv env = *c->env;
		size_t n;
		env.kver = 0; /* the key is present: judge the value, not its existence */
		if (!p || params_judge(p, &env, suggested, vd, &n) >= TD_SEV_WARN)
			return NULL;
	}
	for (size_t i = 0; key && i < o->n; i++) {
		if (!o->v[i].key || strcmp(o->v[i].key, key))
			continue;
		int64_t had = 0, want = 0;
		if (util_parse_i64(o->v[i].suggested, INT64_MIN, INT64_MAX, &had) ||
		    util_parse_i64(suggested, INT64_MIN, INT64_MAX, &want) || want <= had)
			return NULL;
		r = &o->v[i];
		free(r->reason);
		break;
	}
	if (!r) {
		o->v = xrealloc(o->v, (o->n + 1) * sizeof(*o->v));
		r = &o->v[o->n++];
	}
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->key = key;
	r->ref = ref;
	r->app_fix = app_fix;
	snprintf(r->suggested, sizeof(r->suggested), "%s", suggested);
	if (key)
		recommend_value(c->ns, key, r->current);
	va_start(ap, fmt);
	r->reason = xvasprintf(fmt, ap);
	va_end(ap);
	return r;
}

/* Every harmful value, back to this kernel's default when it is known. */
static void rec_harmful(struct ctx *c)
{
	char val[TD_REC_VAL_MAX], def[128];

	for (size_t i = 0; i < params_count; i++) {
		const struct td_param *p = &params_table[i];
		struct td_verdict vd[PARAMS_VERDICTS_MAX];
		struct td_kenv env = *c->env;
		size_t n, k = 0;
		env.kver = 0;
		if (!recommend_value(c->ns, p->key, val) ||
		    params_judge(p, &env, val, vd, &n) < TD_SEV_HARMFUL)
			continue;
		while (vd[k].sev < TD_SEV_HARMFUL)
			k++;
		if (params_default(p, c->env, def, sizeof(def)))
			push(c, TD_REC_NO_DEFAULT, p->key, "", vd[k].ref, NULL,
			     "%s = %s is harmful: %s. %s No safe value is known here: set it back "
			     "to the kernel's own.",
			     p->key, val, vd[k].message, vd[k].reason);
		else
			push(c, TD_REC_RESET, p->key, def, vd[k].ref, NULL,
			     "Now %s: %s. %s Back to this kernel's default.", val, vd[k].message,
			     vd[k].reason);
	}
}

static bool is_value(const char *v, const char *want)
{
	return v && !strcmp(v, want);
}

/* tcp_tw_reuse=1 when TIME_WAIT holds more than half of one destination's ports, or the
 * profile is client; never when timestamps are off (reuse needs them) or reuse is 1 already. */
static void rec_tw_reuse(struct ctx *c, enum td_rec_profile profile,
			 const struct td_rec_evidence *ev)
{
	char ts[TD_REC_VAL_MAX], reuse[TD_REC_VAL_MAX];
	const char *t = recommend_value(c->ns, "net.ipv4.tcp_timestamps", ts);
	const char *u = recommend_value(c->ns, "net.ipv4.tcp_tw_reuse", reuse);
	bool busy = ev->top_capacity && (uint64_t)ev->top_tw * 2 > ev->top_capacity;
	const struct td_port_dest *d = NULL;
	char a[64] = "?";

	if (profile == TD_REC_SERVER || !t || is_value(t, "0") || !u || is_value(u, "1"))
		return;
	if (!busy) {
		if (profile == TD_REC_CLIENT)
			push(c, TD_REC_PROFILE, "net.ipv4.tcp_tw_reuse", "1", "tcp-facts#tw-reuse",
			     NULL,
			     "Profile client: connect() may take over TIME_WAIT sockets with "
			     "timestamps after tcp_tw_reuse_delay; outgoing connections only.");
		return;
	}
	for (size_t i = 0; i < c->ns->ndests && !d; i++)
		if (c->ns->dests[i].n[TD_SS_TIME_WAIT] == ev->top_tw)
			d = &c->ns->dests[i];
	sock_addr_str(d->family, d->dst, a, sizeof(a));
	push(c, TD_REC_EVIDENCE, "net.ipv4.tcp_tw_reuse", "1", "tcp-facts#tw-reuse",
	     "keep connections open, or let the server close first",
	     "%" PRIu32 " TIME_WAIT sockets to %s port %u hold %" PRIu32 " of the %" PRIu32
	     " ephemeral ports for that destination. Reuse lets connect() take over a "
	     "TIME_WAIT with timestamps, outgoing only.",
	     ev->top_tw, a, d->dport, ev->top_tw, ev->top_capacity);
}

/* somaxconn doubled when ListenOverflows meets a listener it caps; the case no sysctl fixes;
 * TIME_WAIT overflow; and the server profile's floor of 4096. */
static void rec_listen(struct ctx *c, enum td_rec_profile profile, const struct td_rec_evidence *ev)
{
	char buf[TD_REC_VAL_MAX], v[24];
	const char *smax = recommend_value(c->ns, "net.core.somaxconn", buf);
	int64_t m = 0;
	bool capped = false, lo = ev->have_listen_overflows && ev->listen_overflows;

	if (smax && !util_parse_i64(smax, 0, INT32_MAX, &m))
		for (size_t i = 0; i < c->ns->nlis; i++)
			capped |= (int64_t)c->ns->lis[i].backlog == m;
	if (lo && capped && m > 0 && m < 65536) {
		snprintf(v, sizeof(v), "%" PRId64, m * 2);
		push(c, TD_REC_EVIDENCE, "net.core.somaxconn", v, "tcp-facts#listen-queues",
		     "ask for the larger backlog in listen(); somaxconn only caps it",
		     "ListenOverflows = %" PRIu64 " and a listener's backlog equals somaxconn "
		     "(%" PRId64 "): the accept queue is capped.",
		     ev->listen_overflows, m);
	} else if (lo) {
		push(c, TD_REC_APP, NULL, "", "tcp-facts#listen-queues",
		     "accept faster, or ask for a larger backlog in listen()",
		     "ListenOverflows = %" PRIu64 " but no listener is capped by somaxconn: the "
		     "application accepts too slowly or asks for a small backlog; no sysctl fixes "
		     "that.",
		     ev->listen_overflows);
	}
	if (ev->have_tw_overflow && ev->tw_overflow)
		push(c, TD_REC_APP, NULL, "", "tcp-facts#tw-buckets",
		     "reduce connection churn (pooling, keep-alive)",
		     "TCPTimeWaitOverflow = %" PRIu64 ": closing sockets skipped TIME_WAIT. Reduce "
		     "connection churn (pooling, keep-alive); never lower tcp_max_tw_buckets.",
		     ev->tw_overflow);
	if (profile == TD_REC_SERVER && smax && m < 4096)
		push(c, TD_REC_PROFILE, "net.core.somaxconn", "4096", "tcp-facts#listen-queues",
		     NULL,
		     "Profile server: somaxconn below 4096 (the default since 5.4) caps every "
		     "listen() backlog.");
}

/* Application fixes first, then by kind; stable within a kind (insertion sort: a handful). */
static void order(struct td_recs *o)
{
	for (size_t i = 1; i < o->n; i++) {
		struct td_rec t = o->v[i];
		size_t j = i;
		for (; j > 0 && o->v[j - 1].kind > t.kind; j--)
			o->v[j] = o->v[j - 1];
		o->v[j] = t;
	}
}

void recommend_run(const struct td_ns_model *ns, const struct td_kenv *env,
		   enum td_rec_profile profile, struct td_recs *out)
{
	struct ctx c = { ns, env, out };

	memset(out, 0, sizeof(*out));
	recommend_evidence(ns, &out->ev);
	rec_harmful(&c);
	rec_tw_reuse(&c, profile, &out->ev);
	rec_listen(&c, profile, &out->ev);
	order(out);
}

void recommend_free(struct td_recs *out)
{
	if (!out)
		return;
	for (size_t i = 0; i < out->n; i++)
		free(out->v[i].reason);
	free(out->v);
	out->v = NULL;
	out->n = 0;
}
