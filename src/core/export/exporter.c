// SPDX-License-Identifier: MIT
/*
 * Builds the exporter's metric families from a model. Tables list every family with its
 * name, help, type and getter, in the order they are published (the conntrack ones in
 * exporter_ct.c, between the port and the findings families); the kernel counters follow,
 * named and explained by counters_known. Label sets are bounded: namespaces, two families,
 * eleven states, the top N destinations, the finding ids, conntrack's protocols and states.
 */
#include "core/export/exporter.h"

#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/model/counters.h"
#include "core/export/exporter_ct.h"
#include "core/model/model.h"
#include "core/model/ports.h"
#include "core/rules/rules.h"
#include "core/util.h"

/* A destination with the namespace it belongs to, for the top-N selection across them all. */
struct dest_ref {
	const struct td_port_dest *d;
	const struct td_ns_model *ns;
};

struct ctx {
	const struct td_exporter_input *in;
	struct dest_ref *top;
	size_t ntop;
};

struct def {
	const char *name;
	const char *help;
	enum exporter_type type;
	void (*get)(const struct ctx *c, const struct def *d, struct td_exporter_family *f);
	/* for get_dest: the destination's field (ports_dest_fields, the one definition every
	 * renderer of a destination reads), and the state taken from a set of states */
	const char *field;
	unsigned state;
};

static struct td_exporter_sample *sample(struct td_exporter_family *f, double value)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 16;
		f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	struct td_exporter_sample *s = &f->v[f->n++];
	memset(s, 0, sizeof(*s));
	s->value = value;
	return s;
}

static void label(struct td_exporter_sample *s, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void label(struct td_exporter_sample *s, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *v;

	if (s->nlabels == EXPORTER_LABELS_MAX)
		abort(); /* a table bug, not input */
	va_start(ap, fmt);
	v = xvasprintf(fmt, ap);
	va_end(ap);
	s->lname[s->nlabels] = name;
	s->lval[s->nlabels++] = v;
}

static void get_build_info(const struct ctx *c, const struct def *d, struct td_exporter_family *f)
{
	(void)d;
	label(sample(f, 1), "version", "%s", c->in->version ? c->in->version : "unknown");
}

static void get_duration(const struct ctx *c, const struct def *d, struct td_exporter_family *f)
{
	(void)d;
	sample(f, c->in->duration_s);
}

static void get_error(const struct ctx *c, const struct def *d, struct td_exporter_family *f)
{
	(void)d;
	sample(f, c->in->m ? 0 : 1);
}

static void get_collections(const struct ctx *c, const struct def *d, struct td_exporter_family *f)
{
	(void)d;
	sample(f, (double)c->in->collections);
}

static void get_errors(const struct ctx *c, const struct def *d, struct td_exporter_family *f)
{
	(void)d;
	sample(f, (double)c->in->errors);
}

static void get_timestamp(const struct ctx *c, const struct def *d, struct td_exporter_family *f)
{
	(void)d;
	sample(f, c->in->timestamp_s);
}

static void get_sockets(const struct ctx *c, const struct def *d, struct td_exporter_family *f)
{
	static const char *const fam[TD_FI_COUNT] = { "ipv4", "ipv6" };
	const struct td_model *m = c->in->m;

	(void)d;
	for (size_t i = 0; m && i < m->n; i++)
		for (int fi = 0; fi < TD_FI_COUNT; fi++)
			for (unsigned st = 1; st < TD_SS_COUNT; st++) {
				struct td_exporter_sample *s =
					sample(f, (double)m->ns[i].census.n[fi][st]);
				label(s, "netns", "%s", m->ns[i].name);
				label(s, "family", "%s", fam[fi]);
				label(s, "state", "%s", sock_state_name(st));
			}
}

static void get_interrupted(const struct ctx *c, const struct def *d, struct td_exporter_family *f)
{
	const struct td_model *m = c->in->m;

	(void)d;
	for (size_t i = 0; m && i < m->n; i++)
		label(sample(f, m->ns[i].interrupted), "netns", "%s", m->ns[i].name);
}

static void get_ndests(const struct ctx *c, const struct def *d, struct td_exporter_family *f)
{
	const struct td_model *m = c->in->m;

	(void)d;
	for (size_t i = 0; m && i < m->n; i++)
		label(sample(f, (double)m->ns[i].ndests), "netns", "%s", m->ns[i].name);
}

static void get_dest(const struct ctx *c, const struct def *d, struct td_exporter_family *f)
{
	const struct td_field *fd = fields_find(ports_dest_fields, ports_dest_nfields, d->field);
	char a[64];

	for (size_t i = 0; fd && i < c->ntop; i++) {
		const struct td_port_dest *x = c->top[i].d;
		struct td_fval v;
		double val;
		fields_get(fd, x, NULL, &v);
		if (v.kind == TD_FV_STATES)
			val = (double)v.states[d->state];
		else if (fields_number(&v, &val))
			val = INFINITY; /* no exhaustion time: never at this rate */
		struct td_exporter_sample *s = sample(f, val);
		label(s, "netns", "%s", c->top[i].ns->name);
		label(s, "src", "%s", sock_addr_str(x->family, x->src, a, sizeof(a)));
		label(s, "dst", "%s", sock_addr_str(x->family, x->dst, a, sizeof(a)));
		label(s, "dport", "%u", x->dport);
	}
}

static void get_findings(const struct ctx *c, const struct def *d, struct td_exporter_family *f)
{
	const struct td_findings *fs = c->in->fs;

	(void)d;
	for (size_t i = 0; fs && i < fs->n; i++) {
		const struct td_finding *x = &fs->v[i];
		const char *sev = rules_sev_name(x->sev);
		size_t k;
		/* findings are few (tens): a linear look-up keeps their first-seen order */
		for (k = 0; k < f->n; k++)
			if (!strcmp(f->v[k].lval[0], x->netns ? x->netns : "") &&
			    !strcmp(f->v[k].lval[1], x->id) && !strcmp(f->v[k].lval[2], sev))
				break;
		if (k < f->n) {
			f->v[k].value++;
			continue;
		}
		struct td_exporter_sample *s = sample(f, 1);
		label(s, "netns", "%s", x->netns ? x->netns : "");
		label(s, "id", "%s", x->id);
		label(s, "severity", "%s", sev);
	}
}

static void get_worst(const struct ctx *c, const struct def *d, struct td_exporter_family *f)
{
	(void)d;
	if (c->in->fs)
		sample(f, (double)rules_worst(c->in->fs));
}

/* The published families, in order. Units in names follow the Prometheus conventions. */
static const struct def defs[] = {
	{ "tcpdoctor_build_info", "tcpdoctor's version (always 1)", EXPORTER_GAUGE, get_build_info,
	  NULL, 0 },
	{ "tcpdoctor_scrape_duration_seconds",
	  "How long the collection behind this page took (sockets, /proc, rules)", EXPORTER_GAUGE,
	  get_duration, NULL, 0 },
	{ "tcpdoctor_scrape_error", "1 when the collection behind this page failed, else 0",
	  EXPORTER_GAUGE, get_error, NULL, 0 },
	{ "tcpdoctor_collections_total",
	  "Collections made since the exporter started (scrapes inside --min-interval share one)",
	  EXPORTER_COUNTER, get_collections, NULL, 0 },
	{ "tcpdoctor_collection_errors_total", "Collections that failed since the exporter started",
	  EXPORTER_COUNTER, get_errors, NULL, 0 },
	{ "tcpdoctor_last_collection_timestamp_seconds",
	  "When the collection behind this page finished, Unix time", EXPORTER_GAUGE, get_timestamp,
	  NULL, 0 },
	{ "tcpdoctor_sockets",
	  "TCP sockets by network namespace, family and state, as inet_diag reports them "
	  "(orphaned FIN_WAIT2 apart from TIME_WAIT, request sockets as SYN_RECV)",
	  EXPORTER_GAUGE, get_sockets, NULL, 0 },
	{ "tcpdoctor_dump_interrupted",
	  "1 when the kernel flagged the socket dump as interrupted (NLM_F_DUMP_INTR): counts may "
	  "miss or repeat sockets that changed during it",
	  EXPORTER_GAUGE, get_interrupted, NULL, 0 },
	{ "tcpdoctor_port_destinations",
	  "Destinations (source IP, destination IP, destination port) holding ephemeral ports; "
	  "only the --top riskiest get tcpdoctor_port_dest_* series",
	  EXPORTER_GAUGE, get_ndests, NULL, 0 },
	{ "tcpdoctor_port_dest_in_use_ports",
	  "Ephemeral ports held to one destination (any state, client side)", EXPORTER_GAUGE,
	  get_dest, "in_use", 0 },
	{ "tcpdoctor_port_dest_capacity_ports",
	  "Ephemeral ports connect() can use per destination (ip_local_port_range, even span, "
	  "minus reserved)",
	  EXPORTER_GAUGE, get_dest, "capacity", 0 },
	{ "tcpdoctor_port_dest_time_wait_sockets",
	  "Client-side TIME_WAIT sockets to one destination (each holds its port for 60 s)",
	  EXPORTER_GAUGE, get_dest, "states", TD_SS_TIME_WAIT },
	{ "tcpdoctor_port_dest_close_rate_per_second",
	  "Connections to one destination closed per second, from TIME_WAIT timers (larger of the "
	  "60 s and 10 s windows; a lower bound)",
	  EXPORTER_GAUGE, get_dest, "close_rate", 0 },
	{ "tcpdoctor_port_dest_exhaustion_seconds",
	  "Seconds until connect() to one destination fails with EADDRNOTAVAIL at the current "
	  "close rate; 0 exhausted now, +Inf never at this rate",
	  EXPORTER_GAUGE, get_dest, "exhaustion_s", 0 },
};

/* After the conntrack families (exporter_ct.c). */
static const struct def defs_tail[] = {
	{ "tcpdoctor_findings",
	  "Findings of the doctor rules by namespace, id and severity (count); counter rules judge "
	  "the time since the previous collection; tcpdoctor explain ID says what an id means",
	  EXPORTER_GAUGE, get_findings, NULL, 0 },
	{ "tcpdoctor_findings_worst_severity",
	  "Worst finding: 0 ok, 1 info, 2 warning, 3 critical (doctor exits 0, 0, 1, 2)",
	  EXPORTER_GAUGE, get_worst, NULL, 0 },
};

/* Takes ownership of name and help. */
static struct td_exporter_family *family(struct td_metrics *out, char *name, char *help,
					 enum exporter_type type)
{
	if (out->n == out->cap) {
		out->cap = out->cap ? 2 * out->cap : 64;
		out->v = xrealloc(out->v, out->cap * sizeof(*out->v));
	}
	struct td_exporter_family *f = &out->v[out->n++];
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->help = help;
	f->type = type;
	return f;
}

static void family_free(struct td_exporter_family *f)
{
	for (size_t i = 0; i < f->n; i++)
		for (size_t k = 0; k < f->v[i].nlabels; k++)
			free(f->v[i].lval[k]);
	free(f->v);
	free(f->name);
	free(f->help);
}

/* Drops the last family if it got no sample: a counter this kernel lacks. */
static void family_close(struct td_metrics *out)
{
	if (out->n && !out->v[out->n - 1].n)
		family_free(&out->v[--out->n]);
}

static const struct td_counters *latest(const struct td_ns_model *ns)
{
	return ns->c1 ? ns->c1 : ns->c0;
}

/* The kernel's CamelCase as Prometheus' snake_case, acronyms kept whole:
 * "TCPReqQFullDoCookies" -> "tcp_req_q_full_do_cookies", "PAWSActive" -> "paws_active". */
static void snake(char *out, size_t len, const char *s)
{
	size_t o = 0;

	for (size_t i = 0; s[i] && o + 2 < len; i++) {
		bool up = isupper((unsigned char)s[i]);
		if (up && i > 0 &&
		    (islower((unsigned char)s[i - 1]) || isdigit((unsigned char)s[i - 1]) ||
		     (isupper((unsigned char)s[i - 1]) && islower((unsigned char)s[i + 1]))))
			out[o++] = '_';
		out[o++] = (char)tolower((unsigned char)s[i]);
	}
	out[o] = '\0';
}

/*
 * One family per known counter, named from the kernel's own name so it can be looked up in
 * snmp_counter.rst (TcpExt ListenOverflows -> tcpdoctor_tcpext_listen_overflows_total), with
 * that name at the start of its help. sockstat values are gauges in sockets (mem in pages);
 * the host-wide ones (orphan, alloc, mem) carry no netns label and come from the first
 * namespace, because every namespace shows the same number.
 */
static void build_kernel(const struct td_model *m, struct td_metrics *out)
{
	for (size_t id = 0; m && id < COUNTERS_ID_COUNT; id++) {
		const struct td_counters_info *ci = &counters_known[id];
		char sec[COUNTERS_SECTION_MAX], nm[2 * COUNTERS_NAME_MAX];
		snake(nm, sizeof(nm), ci->name);
		snprintf(sec, sizeof(sec), "%s", ci->section);
		for (char *p = sec; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		bool counter = ci->kind == COUNTERS_COUNTER;
		char *name =
			ci->src == COUNTERS_SOCKSTAT
				? xasprintf("tcpdoctor_sockstat_%s_%s", nm,
					    strcmp(ci->name, "mem") ? "sockets" : "pages")
				: xasprintf("tcpdoctor_%s_%s%s", sec, nm, counter ? "_total" : "");
		char *help = xasprintf("%s %s %s: %s", counters_src_name(ci->src), ci->section,
				       ci->name, ci->meaning);
		struct td_exporter_family *f =
			family(out, name, help, counter ? EXPORTER_COUNTER : EXPORTER_GAUGE);
		for (size_t i = 0; i < m->n; i++) {
			const struct td_counters *c = latest(&m->ns[i]);
			uint64_t v;
			if (!c || counters_value(c, (enum counters_id)id, &v))
				continue;
			struct td_exporter_sample *s = sample(f, (double)v);
			if (ci->global)
				break;
			label(s, "netns", "%s", m->ns[i].name);
		}
		family_close(out);
	}
}

static int cmp_ref(const void *a, const void *b)
{
	return ports_cmp_risk(((const struct dest_ref *)a)->d, ((const struct dest_ref *)b)->d);
}

/* The in->top riskiest destinations over every namespace. */
static void select_top(const struct td_exporter_input *in, struct ctx *c)
{
	const struct td_model *m = in->m;
	size_t n = 0, k = 0;

	for (size_t i = 0; m && i < m->n; i++)
		n += m->ns[i].ndests;
	if (!n || !in->top)
		return;
	c->top = xcalloc(n, sizeof(*c->top));
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = 0; j < m->ns[i].ndests; j++)
			c->top[k++] = (struct dest_ref){ &m->ns[i].dests[j], &m->ns[i] };
	qsort(c->top, n, sizeof(*c->top), cmp_ref);
	c->ntop = n < in->top ? n : in->top;
}

static void build_defs(const struct ctx *c, const struct def *t, size_t n, struct td_metrics *out)
{
	for (size_t i = 0; i < n; i++) {
		struct td_exporter_family *f =
			family(out, xstrdup(t[i].name), xstrdup(t[i].help), t[i].type);
		t[i].get(c, &t[i], f); /* kept when empty: HELP and TYPE document it */
	}
}

struct td_exporter_family *exporter_family_new(struct td_metrics *out, char *name, char *help,
					       enum exporter_type type)
{
	return family(out, name, help, type);
}

struct td_exporter_sample *exporter_sample_new(struct td_exporter_family *f, double value)
{
	return sample(f, value);
}

void exporter_label_str(struct td_exporter_sample *s, const char *name, const char *value)
{
	label(s, name, "%s", value);
}

void exporter_build(const struct td_exporter_input *in, struct td_metrics *out)
{
	struct ctx c = { .in = in };

	select_top(in, &c);
	build_defs(&c, defs, TD_ARRAY_SIZE(defs), out);
	exporter_ct_build(in->m, out);
	build_defs(&c, defs_tail, TD_ARRAY_SIZE(defs_tail), out);
	build_kernel(in->m, out);
	free(c.top);
}

void exporter_metrics_free(struct td_metrics *out)
{
	for (size_t i = 0; i < out->n; i++)
		family_free(&out->v[i]);
	free(out->v);
	memset(out, 0, sizeof(*out));
}

static void carry_ct(struct td_exporter_carry *carry, size_t k, struct td_ns_ct *ct)
{
	if (!carry->v[k].has_ct || !ct->has_stats || ct->has_delta)
		return;
	ct->s0 = carry->v[k].ct;
	ct->s0_ns = carry->v[k].ct_ns;
	ct->has_delta = true;
	carry->v[k].has_ct = false;
}

void exporter_carry_apply(struct td_exporter_carry *carry, struct td_model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct td_ns_model *ns = &m->ns[i];
		for (size_t k = 0; k < carry->n; k++) {
			if (strcmp(carry->v[k].name, ns->name))
				continue;
			carry_ct(carry, k, &ns->ct);
			if (!carry->v[k].c || !ns->c0 || ns->c1)
				break;
			ns->c1 = ns->c0;
			ns->c0 = carry->v[k].c;
			carry->v[k].c = NULL;
			ns->interval_s = (double)(ns->c1->taken_ns - ns->c0->taken_ns) / 1e9;
			break;
		}
	}
}

void exporter_carry_keep(struct td_exporter_carry *carry, struct td_model *m)
{
	exporter_carry_free(carry);
	carry->v = xcalloc(m->n ? m->n : 1, sizeof(*carry->v));
	for (size_t i = 0; i < m->n; i++) {
		struct td_ns_model *ns = &m->ns[i];
		struct td_counters **lp = ns->c1 ? &ns->c1 : &ns->c0;
		if (!*lp && !ns->ct.has_stats)
			continue;
		carry->v[carry->n].name = xstrdup(ns->name);
		carry->v[carry->n].has_ct = ns->ct.has_stats;
		carry->v[carry->n].ct = ns->ct.s1;
		carry->v[carry->n].ct_ns = ns->ct.s1_ns;
		carry->v[carry->n++].c = *lp;
		*lp = NULL;
	}
}

void exporter_carry_free(struct td_exporter_carry *carry)
{
	for (size_t i = 0; i < carry->n; i++) {
		free(carry->v[i].name);
		counters_free(carry->v[i].c);
	}
	free(carry->v);
	carry->v = NULL;
	carry->n = 0;
}
