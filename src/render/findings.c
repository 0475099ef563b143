// SPDX-License-Identifier: MIT
/*
 * Findings rendering. The text report is for a person at 3 a.m.: worst first, a title that says
 * what and where, numbers, why in one or two sentences, and what to do, application fixes first.
 * Long lines are wrapped to the terminal width (100 when not a terminal).
 */
#include "render/findings.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/rules/facts.h"
#include "core/model/model.h"
#include "core/names.h"
#include "core/model/ports.h"
#include "core/util.h"
#include "render/census.h"
#include "render/table.h"

static const char *sev_color(enum td_fsev s)
{
	switch (s) {
	case TD_F_CRITICAL:
		return "\033[1;31m";
	case TD_F_WARNING:
		return "\033[1;33m";
	case TD_F_INFO:
		return "\033[36m";
	default:
		return "\033[32m";
	}
}

static int term_width(void)
{
	struct winsize w;

	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) && w.ws_col >= 40)
		return w.ws_col > 120 ? 120 : w.ws_col;
	return 100;
}

/* Prints text wrapped at width, the first line after `first` (already printed, of length
 * used), the following ones indented by indent spaces. */
static void wrap(FILE *f, const char *text, int used, int indent, int width)
{
	const char *p = text;
	int col = used;

	while (*p) {
		size_t wl = strcspn(p, " ");
		if (col > indent && col + 1 + (int)wl > width) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, wl, f);
		col += (int)wl;
		p += wl;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
}

/* A number as evidence shows it: thousands separators for counts, the sign kept (a gauge can
 * fall), and identifiers such as a pid as they are written elsewhere (no separators). */
static void num(char *b, size_t l, const char *key, double v)
{
	if (!strcmp(key, "pid") || !strcmp(key, "port"))
		snprintf(b, l, "%.0f", v);
	else if (v == floor(v) && fabs(v) < 1e15) {
		if (v < 0 && l > 1) {
			b[0] = '-';
			table_num((unsigned long long)-v, b + 1, l - 1);
		} else {
			table_num((unsigned long long)v, b, l);
		}
	} else
		snprintf(b, l, "%.1f", v);
}

static void evidence_line(FILE *f, const struct td_finding *x, int width)
{
	char line[1024], n[32];
	size_t o = 0;

	for (size_t i = 0; i < x->nev && o < sizeof(line); i++) {
		const struct td_evidence *e = &x->ev[i];
		num(n, sizeof(n), e->key, e->value);
		o += (size_t)snprintf(
			line + o, sizeof(line) - o, "%s%s %s%s%s", i ? " · " : "", e->key, n,
			*e->unit && *e->unit != '%' && *e->unit != '/' ? " " : "", e->unit);
	}
	fputs("  numbers: ", f);
	wrap(f, line, 11, 11, width);
}

/* "ref: tcp-facts.md#ANCHOR (primary source); tcpdoctor explain ID": the section of
 * doc/tcp-facts.md (installed in /usr/share/doc/tcpdoctor, built into the binary) and how to read
 * it here and now. */
static void ref_line(FILE *f, const struct td_finding *x, int width)
{
	char ref[300], line[400];

	if (!x->ref)
		return;
	snprintf(line, sizeof(line), "%s; tcpdoctor explain %s",
		 facts_ref_text(x->ref, ref, sizeof(ref)), x->id);
	fputs("  ref: ", f);
	wrap(f, line, 7, 7, width);
}

/* doctor --trace: "seen: 6 x connect() ECONNREFUSED by curl (pid 812) to 10.0.0.5:443" */
static void traced_lines(FILE *f, const struct td_finding *x, int width)
{
	for (size_t i = 0; i < x->ntraced; i++) {
		const struct td_traced *t = &x->traced[i];
		char line[300], pid[16], *comm = names_escape_str(t->comm);
		const char *e = t->err > 0 ? strerrorname_np(t->err) : NULL;

		snprintf(pid, sizeof(pid), "%u", t->pid);
		snprintf(line, sizeof(line), "%llu x %s%s %s by %s (pid %s) %s %s",
			 (unsigned long long)t->count, t->what,
			 strcmp(t->what, "reset") ? "()" : "", e ? e : "", t->pid ? comm : "?",
			 t->pid ? pid : "?", strcmp(t->what, "bind") ? "to" : "on", t->dst);
		free(comm);
		fputs(i ? "        " : "  seen: ", f);
		wrap(f, line, 8, 8, width);
	}
}

static void print_finding(FILE *f, const struct td_finding *x, bool color, int width, bool multi_ns)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "%-8s ", rules_sev_name(x->sev));

	for (char *p = head; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	fprintf(f, "%s%s%s", color ? sev_color(x->sev) : "", head, color ? "\033[0m" : "");
	char title[600];
	snprintf(title, sizeof(title), "%s%s%s%s", x->title ? x->title : x->id,
		 multi_ns ? " [netns " : "", multi_ns ? (*x->netns ? x->netns : "current") : "",
		 multi_ns ? "]" : "");
	wrap(f, title, n, n, width);
	if (x->sev == TD_F_INFO && !x->nrem) {
		if (x->cause) {
			fputs("  why: ", f);
			wrap(f, x->cause, 7, 7, width);
		}
		return;
	}
	if (x->nev)
		evidence_line(f, x, width);
	traced_lines(f, x, width);
	if (x->cause) {
		fputs("  why: ", f);
		wrap(f, x->cause, 7, 7, width);
	}
	for (size_t i = 0; i < x->nrem; i++) {
		char pre[16];
		int k = snprintf(pre, sizeof(pre), "  %s %zu. ", i ? "   " : "fix", i + 1);
		fputs(pre, f);
		wrap(f, x->remedies[i], k, k, width);
	}
	ref_line(f, x, width);
}

static void header(FILE *f, const struct td_model *m, bool color)
{
	struct td_census all = { 0 };
	char b[32];

	for (size_t i = 0; i < m->n; i++)
		census_merge(&all, &m->ns[i].census);
	uint64_t total = census_state_total(&all, TD_SS_COUNT);
	fprintf(f, "%stcpdoctor%s: %s socket%s", color ? "\033[1m" : "", color ? "\033[0m" : "",
		table_num(total, b, sizeof(b)), total == 1 ? "" : "s");
	if (m->n > 1)
		fprintf(f, " in %zu namespaces", m->n);
	const char *sep = " (";
	for (unsigned s = 1; s < TD_SS_COUNT; s++) {
		uint64_t n = census_state_total(&all, s);
		if (!n)
			continue;
		fprintf(f, "%s%s %s", sep, sock_state_name(s), table_num(n, b, sizeof(b)));
		sep = ", ";
	}
	fputs(*sep == ',' ? ")" : "", f);
	if (m->n && m->ns[0].interval_s > 0)
		fprintf(f, "; counters over %.1f s", m->ns[0].interval_s);
	if (m->trace)
		fprintf(f, "; traced %.1f s: %llu events, %llu lost", m->trace->duration_s,
			(unsigned long long)m->trace->events, (unsigned long long)m->trace->lost);
	else if (m->replay)
		fputs("; replayed, no counters", f);
	fputs("\n\n", f);
}

void render_findings_text(FILE *f, const struct td_model *m, const struct td_findings *fs,
			  bool color, bool verbose)
{
	int width = term_width();
	size_t cnt[4] = { 0 };

	header(f, m, color);
	for (size_t i = 0; i < fs->n; i++) {
		cnt[fs->v[i].sev]++;
		if (fs->v[i].sev == TD_F_INFO && !verbose && i >= 12)
			continue;
		print_finding(f, &fs->v[i], color, width, m->n > 1);
		fputc('\n', f);
	}
	enum td_fsev w = rules_worst(fs);
	if (w <= TD_F_INFO)
		fprintf(f, "%sOK%s: nothing wrong found", color ? sev_color(TD_F_OK) : "",
			color ? "\033[0m" : "");
	else
		fprintf(f, "%s%s%s", color ? sev_color(w) : "",
			w == TD_F_CRITICAL ? "CRITICAL" : "WARNING", color ? "\033[0m" : "");
	fprintf(f, ": %zu critical, %zu warning%s, %zu info\n", cnt[TD_F_CRITICAL],
		cnt[TD_F_WARNING], cnt[TD_F_WARNING] == 1 ? "" : "s", cnt[TD_F_INFO]);
}

/* doctor --trace: [{"pid", "comm", "call", "errno", "dst", "count"}], counts exact */
static json_t *traced_json(const struct td_finding *x)
{
	json_t *a = json_array();

	for (size_t i = 0; i < x->ntraced; i++) {
		const struct td_traced *t = &x->traced[i];
		const char *e = t->err > 0 ? strerrorname_np(t->err) : NULL;
		json_t *o = json_object();
		char *comm = names_escape_str(t->comm);

		json_object_set_new(o, "pid", t->pid ? json_integer(t->pid) : json_null());
		json_object_set_new(o, "comm", t->pid ? json_string(comm) : json_null());
		json_object_set_new(o, "call", json_string(t->what));
		json_object_set_new(o, "errno", e ? json_string(e) : json_null());
		json_object_set_new(o, "dst", json_string(t->dst));
		json_object_set_new(o, "count", json_integer((json_int_t)t->count));
		json_array_append_new(a, o);
		free(comm);
	}
	return a;
}

static json_t *finding_json(const struct td_finding *x)
{
	json_t *o = json_object(), *ev = json_object(), *un = json_object(), *rem = json_array();

	json_object_set_new(o, "id", json_string(x->id));
	json_object_set_new(o, "severity", json_string(rules_sev_name(x->sev)));
	json_object_set_new(o, "netns", json_string(x->netns));
	json_object_set_new(o, "subject", x->subject ? json_string(x->subject) : json_null());
	json_object_set_new(o, "title", json_string(x->title ? x->title : x->id));
	json_object_set_new(o, "cause", x->cause ? json_string(x->cause) : json_null());
	for (size_t i = 0; i < x->nev; i++) {
		const struct td_evidence *e = &x->ev[i];
		json_object_set_new(ev, e->key,
				    e->value == floor(e->value) && fabs(e->value) < 9e15
					    ? json_integer((json_int_t)e->value)
					    : json_real(e->value));
		json_object_set_new(un, e->key, json_string(e->unit));
	}
	json_object_set_new(o, "evidence", ev);
	json_object_set_new(o, "units", un);
	for (size_t i = 0; i < x->nrem; i++)
		json_array_append_new(rem, json_string(x->remedies[i]));
	json_object_set_new(o, "remedies", rem);
	if (x->ntraced)
		json_object_set_new(o, "traced", traced_json(x));
	json_object_set_new(o, "ref", x->ref ? json_string(x->ref) : json_null());
	const struct td_section *sec = facts_section(x->ref);
	json_object_set_new(o, "ref_source", sec ? json_string(sec->source) : json_null());
	return o;
}

/* A namespace's conntrack table as doctor saw it: {"present": false} when there is none. */
static json_t *conntrack_json(const struct td_ns_ct *ct)
{
	static const char *const sn[] = { "found",	   "invalid",	     "insert",
					  "insert_failed", "drop",	     "early_drop",
					  "error",	   "search_restart", "clash_resolve",
					  "chaintoolong" };
	json_t *o = json_object();

	json_object_set_new(o, "present", json_boolean(ct->present));
	if (!ct->present)
		return o;
	json_object_set_new(o, "tracking", json_boolean(model_ct_tracking(ct)));
	json_object_set_new(o, "count", json_integer((json_int_t)ct->table.count));
	json_object_set_new(o, "max",
			    ct->table.has_max ? json_integer((json_int_t)ct->table.max)
					      : json_null());
	json_object_set_new(o, "buckets",
			    ct->table.has_buckets ? json_integer((json_int_t)ct->table.buckets)
						  : json_null());
	json_object_set_new(o, "dumped",
			    ct->dump_err ? json_null()
					 : json_integer((json_int_t)ct->census.entries));
	if (ct->dump_err) /* -EPERM without CAP_NET_ADMIN: the count still shows */
		json_object_set_new(o, "dump_error", json_string(strerror(-ct->dump_err)));
	json_object_set_new(o, "unreplied", json_integer((json_int_t)ct->census.unreplied));
	json_object_set_new(o, "assured", json_integer((json_int_t)ct->census.assured));
	json_t *ts = json_object();
	for (unsigned s = 1; s < TD_CT_TCP_COUNT; s++)
		if (ct->census.tcp_state[s])
			json_object_set_new(ts, conntrack_tcp_state_name(s),
					    json_integer((json_int_t)ct->census.tcp_state[s]));
	json_object_set_new(o, "tcp_states", ts);
	if (ct->has_stats) {
		const struct td_ct_stats *x = &ct->s0, *y = &ct->s1;
		const uint64_t a[] = { x->found,	 x->invalid,	    x->insert,
				       x->insert_failed, x->drop,	    x->early_drop,
				       x->error,	 x->search_restart, x->clash_resolve,
				       x->chaintoolong };
		const uint64_t b[] = { y->found,	 y->invalid,	    y->insert,
				       y->insert_failed, y->drop,	    y->early_drop,
				       y->error,	 y->search_restart, y->clash_resolve,
				       y->chaintoolong };
		json_t *st = json_object(), *d = json_object();
		for (size_t k = 0; k < TD_ARRAY_SIZE(sn); k++) {
			json_object_set_new(st, sn[k], json_integer((json_int_t)b[k]));
			json_object_set_new(
				d, sn[k],
				json_integer((json_int_t)(b[k] >= a[k] ? b[k] - a[k] : 0)));
		}
		json_object_set_new(o, "stats", st);
		if (ct->has_delta)
			json_object_set_new(o, "stats_delta", d);
		else
			json_decref(d);
	}
	return o;
}

json_t *render_findings_json(const struct td_model *m, const struct td_findings *fs, int exit_code)
{
	json_t *o = json_object(), *ns = json_array(), *arr = json_array();
	static const char *const status[] = { "ok", "warning", "critical", "unknown" };

	json_object_set_new(o, "status", json_string(status[exit_code & 3]));
	json_object_set_new(o, "exit", json_integer(exit_code));
	for (size_t i = 0; i < m->n; i++) {
		json_t *n = render_census_json(&m->ns[i].census);
		json_object_set_new(n, "name", json_string(m->ns[i].name));
		json_object_set_new(n, "interval_s", json_real(m->ns[i].interval_s));
		json_object_set_new(n, "conntrack", conntrack_json(&m->ns[i].ct));
		json_array_append_new(ns, n);
	}
	json_object_set_new(o, "netns", ns);
	for (size_t i = 0; i < fs->n; i++)
		json_array_append_new(arr, finding_json(&fs->v[i]));
	json_object_set_new(o, "findings", arr);
	if (m->trace) /* doctor --trace: how long it ran and whether every event was counted */
		json_object_set_new(o, "trace",
				    json_pack("{s:f, s:I, s:I}", "duration_s", m->trace->duration_s,
					      "events", (json_int_t)m->trace->events, "lost",
					      (json_int_t)m->trace->lost));
	return o;
}

static void perf_threshold(FILE *f, double v)
{
	if (v > 0)
		fprintf(f, "%.0f", v);
}

/* The conntrack table of the namespace nearest its limit, among those that track connections
 * (none: no perfdata, so hosts without a firewall keep a stable list). */
static void perf_conntrack(FILE *f, const struct td_model *m, const struct td_limits *lim)
{
	const struct td_ct_table *w = NULL;
	double worst = -1;

	for (size_t i = 0; i < m->n; i++) {
		const struct td_ns_ct *ct = &m->ns[i].ct;
		if (!model_ct_tracking(ct) || !ct->table.has_count || !ct->table.max)
			continue;
		double u = 100.0 * (double)ct->table.count / (double)ct->table.max;
		if (u > worst) {
			worst = u;
			w = &ct->table;
		}
	}
	if (!w)
		return;
	fprintf(f, " 'conntrack_usage'=%.1f%%;", worst);
	perf_threshold(f, lim->l[TD_LIM_CT_USAGE].warn);
	fputc(';', f);
	perf_threshold(f, lim->l[TD_LIM_CT_USAGE].crit);
	fprintf(f, ";0;100 'conntrack_entries'=%llu;;;0;%llu", (unsigned long long)w->count,
		(unsigned long long)w->max);
}

void render_nagios(FILE *f, const struct td_model *m, const struct td_findings *fs,
		   const struct td_limits *lim, int status, bool verbose)
{
	static const char *const word[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	struct td_census all = { 0 };
	size_t shown = 0, counted = 0;
	char low[32];

	for (size_t i = 0; i < m->n; i++)
		census_merge(&all, &m->ns[i].census);
	fprintf(f, "TCPDOCTOR %s - ", word[status & 3]);
	for (size_t i = 0; i < fs->n; i++) {
		if (fs->v[i].sev < TD_F_WARNING)
			continue;
		if (!counted++)
			fputs(fs->v[i].title ? fs->v[i].title : fs->v[i].id, f);
	}
	if (counted > 1)
		fprintf(f, "; %zu more", counted - 1);
	uint64_t total = census_state_total(&all, TD_SS_COUNT);
	if (!counted)
		fprintf(f, "%llu socket%s, nothing wrong found", (unsigned long long)total,
			total == 1 ? "" : "s");
	fputs(" |", f);
	/* perfdata: 'label'=value[UOM];warn;crit;min;max (plugin guidelines) */
	for (unsigned s = 1; s < TD_SS_COUNT; s++) {
		const struct td_limit *l = &lim->l[TD_LIM_STATE_FIRST + s - 1];
		snprintf(low, sizeof(low), "%s", l->name);
		fprintf(f, " '%s'=%llu;", low, (unsigned long long)census_state_total(&all, s));
		perf_threshold(f, l->warn);
		fputc(';', f);
		perf_threshold(f, l->crit);
		fputs(";0;", f);
	}
	double worst = 0;
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = 0; j < m->ns[i].ndests; j++) {
			const struct td_port_dest *d = &m->ns[i].dests[j];
			/* as rules_ports.c grades it: reusable TIME_WAIT do not block connect() */
			uint32_t r = d->reuse == TD_REUSE_ACTIVE ? d->reusable : 0;
			double u = d->capacity ? 100.0 * (d->in_use - r) / d->capacity : 0;
			worst = u > worst ? u : worst;
		}
	fprintf(f, " 'port_usage'=%.1f%%;", worst);
	perf_threshold(f, lim->l[TD_LIM_PORT_USAGE].warn);
	fputc(';', f);
	perf_threshold(f, lim->l[TD_LIM_PORT_USAGE].crit);
	fputs(";0;100", f);
	perf_conntrack(f, m, lim);
	fputc('\n', f);
	if (!verbose)
		return;
	for (size_t i = 0; i < fs->n; i++) {
		if (fs->v[i].sev < TD_F_WARNING || !shown++)
			continue;
		fprintf(f, "%s: %s\n", rules_sev_name(fs->v[i].sev),
			fs->v[i].title ? fs->v[i].title : fs->v[i].id);
	}
}
