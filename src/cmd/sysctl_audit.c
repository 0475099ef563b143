// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor sysctl` (audit) and `tcpdoctor sysctl recommend`. Both gather the same evidence
 * from one namespace: every key of the knowledge table read from /proc/sys, the listening
 * sockets (port and backlog), TIME_WAIT sockets grouped by destination, and the counters that
 * show trouble (sockstat tw, ListenOverflows, TCPTimeWaitOverflow). The audit prints each
 * value with this kernel's default and the verdict, then the cross-key findings; recommend
 * turns the same evidence into a drop-in that changes only what the evidence justifies.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <sys/socket.h>

#include <jansson.h>

#include "cmd/sysctl.h"
#include "core/counters.h"
#include "core/facts.h"
#include "core/source.h"
#include "core/sysctl_apply.h"
#include "core/sysctl_cross.h"
#include "core/util.h"

#define VAL_MAX 512

struct tw_dest {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
};

struct evidence {
	struct td_kenv env;
	char (*val)[VAL_MAX]; /* per params_table row; "" when absent */
	bool *present;
	struct td_cross_listener *ls;
	size_t nls;
	struct tw_dest *tw;
	size_t ntw, captw;
	uint64_t sock_tw, listen_overflows, tw_overflow;
	bool have_tw, have_lo, have_two;
	bool socks_ok;
	bool child; /* a child network namespace: some defaults are the host's */
};

static int on_sock(const struct td_sock *sk, void *arg)
{
	struct evidence *e = arg;

	if (sk->state == TD_SS_LISTEN) {
		for (size_t i = 0; i < e->nls; i++)
			if (e->ls[i].port == sk->sport)
				return 0; /* IPv4 and IPv6 listeners on one port count once */
		e->ls = xrealloc(e->ls, (e->nls + 1) * sizeof(*e->ls));
		e->ls[e->nls++] = (struct td_cross_listener){ sk->sport, sk->wqueue };
	} else if (sk->state == TD_SS_TIME_WAIT) {
		if (e->ntw == e->captw) {
			e->captw = e->captw ? e->captw * 2 : 256;
			e->tw = xrealloc(e->tw, e->captw * sizeof(*e->tw));
		}
		struct tw_dest *d = &e->tw[e->ntw++];
		memset(d, 0, sizeof(*d));
		d->family = sk->family;
		memcpy(d->addr, sk->dst, 16);
		d->port = sk->dport;
	}
	return 0;
}

static const char *val(const struct evidence *e, const char *key)
{
	for (size_t i = 0; i < params_count; i++)
		if (!strcmp(params_table[i].key, key))
			return e->present[i] ? e->val[i] : NULL;
	return NULL;
}

/* Reads everything in the namespace. Prints and returns an exit code on failure, else 0. */
static int gather(const struct td_global *g, struct evidence *e)
{
	struct td_source_opts o;
	struct td_source_cbs cbs = { NULL, on_sock, NULL };
	struct td_counters *c = NULL;
	char err[TD_ERRMSG_LEN] = "";
	int saved, r;

	memset(e, 0, sizeof(*e));
	e->val = xcalloc(params_count, sizeof(*e->val));
	e->present = xcalloc(params_count, sizeof(*e->present));
	cmd_source_opts(g, &o);
	o.states = (1u << TD_SS_LISTEN) | (1u << TD_SS_TIME_WAIT);
	r = source_run(&o, &cbs, e, err);
	e->socks_ok = !r;
	if (r)
		cmd_err(g, "note: sockets not read (%s); socket checks skipped",
			*err ? err : strerror(-r));
	if (sysctl_enter(g, &saved))
		return TD_EXIT_FAIL;
	sysctl_kenv_read(SYSCTL_PROCROOT, &e->env);
	e->child = sysctl_in_child_netns(SYSCTL_PROCROOT);
	for (size_t i = 0; i < params_count; i++) {
		char path[SYSCTL_KEY_MAX];
		if (params_key_normalize(params_table[i].key, NULL, path, sizeof(path)))
			continue;
		e->present[i] = !sysctl_read(SYSCTL_PROCROOT, path, e->val[i], VAL_MAX);
	}
	if (!counters_read(&c, NULL)) {
		e->have_tw = !counters_value(c, COUNTERS_SOCK_TW, &e->sock_tw);
		e->have_lo = !counters_value(c, COUNTERS_LISTEN_OVERFLOWS, &e->listen_overflows);
		e->have_two = !counters_value(c, COUNTERS_TIME_WAIT_OVERFLOW, &e->tw_overflow);
	}
	counters_free(c);
	sysctl_leave(saved);
	return 0;
}

static void evidence_free(struct evidence *e)
{
	free(e->val);
	free(e->present);
	free(e->ls);
	free(e->tw);
}

static void cross(struct td_sysctl_set *s, const struct evidence *e)
{
	struct td_cross_facts f = {
		.timestamps = val(e, "net.ipv4.tcp_timestamps"),
		.tw_reuse = val(e, "net.ipv4.tcp_tw_reuse"),
		.port_range = val(e, "net.ipv4.ip_local_port_range"),
		.reserved_ports = val(e, "net.ipv4.ip_local_reserved_ports"),
		.somaxconn = val(e, "net.core.somaxconn"),
		.max_tw = val(e, "net.ipv4.tcp_max_tw_buckets"),
		.listeners = e->ls,
		.nlisteners = e->socks_ok ? e->nls : 0,
		.tw_count = e->sock_tw,
		.have_tw = e->have_tw,
	};
	sysctl_cross_check(s, &f);
}

/* What the DEFAULT column says when the table has no number for this kernel. */
static const char *default_words(const struct td_param *p, bool child)
{
	switch (p->defkind) {
	case TD_DEF_INHERITED:
		/* a new namespace copies the initial namespace's value when it is created */
		if (child)
			return "(as the host)";
		return p->shape == TD_SHAPE_STRING ? "(kernel build)" : "(sized at boot)";
	case TD_DEF_MEMORY:
		return "(sized at boot)";
	default:
		return "(varies)";
	}
}

static void print_row_text(const struct td_param *p, const char *v, const char *def,
			   const struct td_verdict *vd, size_t n)
{
	printf("%-34s %-22s %-22s %-7s %s\n", p->key, v, def, params_sev_name(vd[0].sev),
	       vd[0].message);
	for (size_t i = 1; i < n; i++)
		printf("%-34s %-22s %-22s %-7s %s\n", "", "", "", params_sev_name(vd[i].sev),
		       vd[i].message);
}

int sysctl_cmd_audit(const struct td_global *g, const struct sysctl_args *a)
{
	struct evidence e;
	struct td_sysctl_set *s;
	json_t *rows = json_array();
	enum td_sev worst = TD_SEV_OK;
	int r;

	if (a->nargs)
		return cmd_usage_err(g, "unexpected argument '%s'", a->args[0]);
	if ((r = gather(g, &e))) {
		json_decref(rows);
		evidence_free(&e);
		return r;
	}
	if (!g->json)
		printf("%-34s %-22s %-22s %-7s %s\n", "KEY", "VALUE", "DEFAULT", "VERDICT", "WHY");
	for (size_t i = 0; i < params_count; i++) {
		const struct td_param *p = &params_table[i];
		struct td_verdict vd[PARAMS_VERDICTS_MAX];
		char def[128];
		size_t n;
		if (!e.present[i])
			continue; /* removed keys, and global ones in a child namespace */
		if (params_default(p, &e.env, def, sizeof(def)))
			snprintf(def, sizeof(def), "%s", default_words(p, e.child));
		struct td_kenv env = e.env;
		env.kver = 0; /* present: judge the value, not the key's existence */
		enum td_sev w = params_judge(p, &env, e.val[i], vd, &n);
		if (w == TD_SEV_INFO && n == 1 && sysctl_apply_same(e.val[i], def)) {
			/* the audit shows defaults as ok: only departures are news */
			w = vd[0].sev = TD_SEV_OK;
			vd[0].message = "default";
		}
		if (w > worst)
			worst = w;
		if (!g->json) {
			print_row_text(p, e.val[i], def, vd, n);
			continue;
		}
		json_t *row = json_object();
		json_object_set_new(row, "key", json_string(p->key));
		json_object_set_new(row, "value", json_string(e.val[i]));
		json_object_set_new(row, "default", json_string(def));
		json_object_set_new(row, "scope", json_string(p->scope ? "global" : "netns"));
		json_object_set_new(row, "severity", json_string(params_sev_name(w)));
		json_t *vs = json_array();
		for (size_t k = 0; k < n; k++) {
			json_t *j = json_object();
			json_object_set_new(j, "severity", json_string(params_sev_name(vd[k].sev)));
			json_object_set_new(j, "message", json_string(vd[k].message));
			json_object_set_new(j, "reason", json_string(vd[k].reason));
			json_object_set_new(j, "reference", json_string(vd[k].ref));
			json_array_append_new(vs, j);
		}
		json_object_set_new(row, "verdicts", vs);
		json_array_append_new(rows, row);
	}
	s = td_sysctl_set_new();
	cross(s, &e);
	if (g->json) {
		json_t *o = json_object();
		json_object_set_new(o, "netns", json_string(g->netns ? g->netns : ""));
		json_object_set_new(o, "params", rows);
		json_object_set_new(o, "findings", sysctl_findings_json(s));
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
	} else {
		json_decref(rows);
		if (s->nfnd)
			puts("\nAcross keys and sockets:");
		sysctl_print_findings(g, s, false);
	}
	if (sysctl_worst(s) > worst)
		worst = sysctl_worst(s);
	td_sysctl_set_free(s);
	evidence_free(&e);
	return worst >= TD_SEV_HARMFUL ? TD_EXIT_FAIL : TD_EXIT_OK;
}

/* --- recommend --- */

static int cmp_dest(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct tw_dest));
}

/* The destination with the most TIME_WAIT sockets (client side: tcp-facts#ephemeral-ports). */
static size_t top_dest(struct evidence *e, struct tw_dest *top)
{
	size_t best = 0;

	if (e->ntw > 1)
		qsort(e->tw, e->ntw, sizeof(*e->tw), cmp_dest);
	for (size_t i = 0; i < e->ntw;) {
		size_t j = i;
		while (j < e->ntw && !cmp_dest(&e->tw[i], &e->tw[j]))
			j++;
		if (j - i > best) {
			best = j - i;
			*top = e->tw[i];
		}
		i = j;
	}
	return best;
}

struct rec {
	FILE *f;
	const struct evidence *e;
	unsigned n;
};

/* Emits "key = value" with its reason, unless the knowledge table warns about it here (the tool
 * never recommends a value its own lint would warn about). */
static void emit(struct rec *r, const char *key, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void emit(struct rec *r, const char *key, const char *value, const char *fmt, ...)
{
	const struct td_param *p = params_find(key);
	struct td_verdict vd[PARAMS_VERDICTS_MAX];
	struct td_kenv env = r->e->env;
	size_t n;
	va_list ap;

	env.kver = 0;
	if (!p || params_judge(p, &env, value, vd, &n) >= TD_SEV_WARN)
		return;
	fputs("\n# ", r->f);
	va_start(ap, fmt);
	vfprintf(r->f, fmt, ap);
	va_end(ap);
	fprintf(r->f, "\n%s = %s\n", key, value);
	r->n++;
}

static void rec_harmful(struct rec *r)
{
	const struct evidence *e = r->e;

	for (size_t i = 0; i < params_count; i++) {
		const struct td_param *p = &params_table[i];
		struct td_verdict vd[PARAMS_VERDICTS_MAX];
		struct td_kenv env = e->env;
		char def[128];
		size_t n;
		env.kver = 0;
		if (!e->present[i] || params_judge(p, &env, e->val[i], vd, &n) < TD_SEV_HARMFUL)
			continue;
		for (size_t k = 0; k < n; k++) {
			char ref[300];
			if (vd[k].sev < TD_SEV_HARMFUL)
				continue;
			facts_ref_text(vd[k].ref, ref, sizeof(ref));
			if (params_default(p, &e->env, def, sizeof(def)))
				fprintf(r->f,
					"\n# %s = %s is harmful: %s. %s [%s]\n# No safe value is "
					"known here: set it back to the kernel's own.\n",
					p->key, e->val[i], vd[k].message, vd[k].reason, ref);
			else
				emit(r, p->key, def,
				     "Now %s: %s. %s [%s] Back to this kernel's default.",
				     e->val[i], vd[k].message, vd[k].reason, ref);
			break;
		}
	}
}

static void rec_evidence(struct rec *r, struct evidence *e, const char *profile, size_t ntop,
			 const struct tw_dest *topp)
{
	const char *ts = val(e, "net.ipv4.tcp_timestamps"),
		   *reuse = val(e, "net.ipv4.tcp_tw_reuse");
	const char *range = val(e, "net.ipv4.ip_local_port_range");
	const char *smax = val(e, "net.core.somaxconn");
	unsigned lo = 0, hi = 0;
	struct tw_dest top = *topp;
	bool client = strcmp(profile, "server") != 0;

	if (range)
		sscanf(range, "%u %u", &lo, &hi);
	bool busy = hi > lo && ntop * 2 > (size_t)(hi - lo + 1);
	if (client && ts && strcmp(ts, "0") && reuse && strcmp(reuse, "1") &&
	    (busy || !strcmp(profile, "client"))) {
		char a[64] = "?";
		inet_ntop(top.family, top.addr, a, sizeof(a));
		if (busy)
			emit(r, "net.ipv4.tcp_tw_reuse", "1",
			     "%zu TIME_WAIT sockets to %s port %u hold %zu of the %u ephemeral "
			     "ports "
			     "for that destination (tcp-facts#ephemeral-ports). Reuse lets "
			     "connect() take "
			     "over a "
			     "TIME_WAIT with timestamps, outgoing only (tcp-facts#tw-reuse). Fix "
			     "the application "
			     "first: "
			     "keep connections open, or let the server close first.",
			     ntop, a, top.port, ntop, hi - lo + 1);
		else
			emit(r, "net.ipv4.tcp_tw_reuse", "1",
			     "Profile client: connect() may take over TIME_WAIT sockets with "
			     "timestamps "
			     "after tcp_tw_reuse_delay; outgoing connections only "
			     "(tcp-facts#tw-reuse).");
	}
	bool capped = false;
	int64_t m = 0;
	if (smax && !util_parse_i64(smax, 0, INT32_MAX, &m))
		for (size_t i = 0; i < e->nls; i++)
			capped |= (int64_t)e->ls[i].backlog == m;
	if (e->have_lo && e->listen_overflows && capped && m > 0 && m < 65536) {
		char v[24];
		snprintf(v, sizeof(v), "%" PRId64, m * 2);
		emit(r, "net.core.somaxconn", v,
		     "ListenOverflows = %" PRIu64 " and a listener's backlog equals somaxconn "
		     "(%" PRId64 "): the accept queue is capped. somaxconn only caps; the "
		     "application must also ask for the larger backlog in listen() "
		     "(tcp-facts#listen-queues).",
		     e->listen_overflows, m);
	} else if (e->have_lo && e->listen_overflows) {
		fprintf(r->f,
			"\n# ListenOverflows = %" PRIu64 " but no listener is capped by "
			"somaxconn: the application accepts too slowly or asks for a small "
			"backlog; no sysctl fixes that (tcp-facts#listen-queues).\n",
			e->listen_overflows);
	}
	if (e->have_two && e->tw_overflow)
		fprintf(r->f,
			"\n# TCPTimeWaitOverflow = %" PRIu64 ": closing sockets skipped "
			"TIME_WAIT. Reduce connection churn (pooling, keep-alive); never lower "
			"tcp_max_tw_buckets (tcp-facts#tw-buckets).\n",
			e->tw_overflow);
	if (!strcmp(profile, "server") && smax && m < 4096)
		emit(r, "net.core.somaxconn", "4096",
		     "Profile server: somaxconn below 4096 (the default since 5.4) caps every "
		     "listen() backlog (tcp-facts#listen-queues).");
}

int sysctl_cmd_recommend(const struct td_global *g, const struct sysctl_args *a)
{
	struct evidence e;
	char *text = NULL;
	size_t len = 0;
	struct rec r = { 0 };
	struct tw_dest top = { 0 };
	size_t ntop;
	int rc;

	if ((rc = gather(g, &e))) {
		evidence_free(&e);
		return rc;
	}
	ntop = top_dest(&e, &top);
	r.f = open_memstream(&text, &len);
	r.e = &e;
	if (!r.f)
		abort();
	fprintf(r.f,
		"# tcpdoctor sysctl recommend: profile %s, network namespace %s, Linux %u.%u\n"
		"# Evidence: %zu TIME_WAIT (most to one destination: %zu), %zu listeners, "
		"sockstat tw %" PRIu64 ", ListenOverflows %" PRIu64 ", TCPTimeWaitOverflow %" PRIu64
		"\n# Only changes this evidence or the profile justifies; each line says why.\n",
		a->profile, g->netns ? g->netns : "current", e.env.kver / 1000, e.env.kver % 1000,
		e.ntw, ntop, e.nls, e.sock_tw, e.listen_overflows, e.tw_overflow);
	rec_harmful(&r);
	rec_evidence(&r, &e, a->profile, ntop, &top);
	if (!r.n)
		fputs("\n# No change is justified by this host's evidence.\n", r.f);
	fclose(r.f);
	fputs(text, stdout);
	free(text);
	evidence_free(&e);
	return TD_EXIT_OK;
}
