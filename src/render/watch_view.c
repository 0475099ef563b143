// SPDX-License-Identifier: MIT
/*
 * Builds the lines of the watch screen (layout in watch_view.h). Kept apart from curses so the
 * exact text can be unit-tested and printed by --once; the curses side only adds attributes.
 * Numbers are printed without thousands separators so that scripts reading --once frames can
 * take them as they are.
 */
#include "render/watch_view.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/model/history.h"
#include "core/model/model.h"
#include "core/model/ports.h"
#include "core/rules/rules.h"
#include "core/util.h"
#include "render/fields.h"

#define SPARK_LEVELS 8
#define SPARK_MAX    512 /* samples a sparkline can show, whatever the width */
#define DEST_W	     40	 /* "src -> dst:port" column */

static const char *const spark_utf8[SPARK_LEVELS] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
static const char spark_ascii[SPARK_LEVELS + 1] = "_.-:=+*#";

const char *watch_sort_name(enum td_wsort s)
{
	static const char *const names[TD_WSORT_COUNT] = { "usage", "TIME_WAIT", "rate" };

	return s < TD_WSORT_COUNT ? names[s] : "?";
}

size_t watch_truncate(char *s, size_t width)
{
	size_t cols = 0, i = 0;

	while (s[i]) {
		/* a code point starts at any byte that is not a continuation byte (10xxxxxx) */
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (cols == width)
				break;
			cols++;
		}
		i++;
	}
	s[i] = '\0';
	return cols;
}

size_t watch_sparkline(char *buf, size_t len, const uint64_t *vals, size_t n, bool utf8)
{
	uint64_t max = 0;
	size_t o = 0, glyphs = 0;

	if (!len)
		return 0;
	for (size_t i = 0; i < n; i++)
		max = vals[i] > max ? vals[i] : max;
	for (size_t i = 0; i < n; i++) {
		unsigned lv = history_level(vals[i], max, SPARK_LEVELS);
		const char *g = utf8 ? spark_utf8[lv] : (const char[]){ spark_ascii[lv], 0 };
		size_t gl = strlen(g);
		if (o + gl > len - 1)
			break;
		memcpy(buf + o, g, gl);
		o += gl;
		glyphs++;
	}
	buf[o] = '\0';
	return glyphs;
}

/* For sorting only: a destination without capacity sorts as full, as ports_cmp_risk does. */
static double dest_usage(const struct td_port_dest *d)
{
	return d->capacity ? (double)d->in_use / d->capacity : 1.0;
}

static int cmp_num(double a, double b)
{
	return a > b ? -1 : a < b ? 1 : 0; /* larger first */
}

static int dest_cmp(const void *pa, const void *pb, void *arg)
{
	const struct td_port_dest *a = *(const struct td_port_dest *const *)pa;
	const struct td_port_dest *b = *(const struct td_port_dest *const *)pb;
	enum td_wsort s = *(const enum td_wsort *)arg;
	int c = 0;

	if (s == TD_WSORT_USAGE)
		c = cmp_num(dest_usage(a), dest_usage(b));
	else if (s == TD_WSORT_TW)
		c = cmp_num(a->n[TD_SS_TIME_WAIT], b->n[TD_SS_TIME_WAIT]);
	else
		c = cmp_num(a->rate, b->rate);
	if (!c)
		c = cmp_num(a->in_use, b->in_use);
	if (!c)
		c = a->netns < b->netns ? -1 : a->netns > b->netns;
	if (!c)
		c = a->dport < b->dport ? -1 : a->dport > b->dport;
	if (!c)
		c = memcmp(a->dst, b->dst, 16);
	if (!c)
		c = memcmp(a->src, b->src, 16);
	return c;
}

void watch_sort_dests(const struct td_port_dest **v, size_t n, enum td_wsort s)
{
	if (n > 1)
		qsort_r(v, n, sizeof(*v), dest_cmp, &s);
}

void watch_frame_free(struct td_wframe *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].text);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

/* Appends one line cut to the width; lines past the height are dropped. */
__attribute__((format(printf, 4, 5))) static void add(struct td_wframe *f, const struct td_wview *v,
						      enum td_wkind k, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (v->height && f->n >= v->height)
		return;
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	watch_truncate(s, v->width);
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 48;
		f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	f->v[f->n].text = s;
	f->v[f->n++].kind = k;
}

static const char *ns_label(const struct td_ns_model *ns)
{
	return *ns->name ? ns->name : "current";
}

static bool total_view(const struct td_wview *v, const struct td_model *m)
{
	return v->ns < 0 || (size_t)v->ns >= m->n;
}

static void title(struct td_wframe *f, const struct td_wview *v, const struct td_model *m)
{
	char ns[128];

	if (!m)
		snprintf(ns, sizeof(ns), "-");
	else if (total_view(v, m) && m->n != 1)
		snprintf(ns, sizeof(ns), "total of %zu", m->n);
	else
		snprintf(ns, sizeof(ns), "%s", ns_label(&m->ns[total_view(v, m) ? 0 : v->ns]));
	add(f, v, TD_WL_TITLE, "tcpdoctor watch  netns: %s  every %g s  sample %lu%s  ?: help", ns,
	    v->interval_ms / 1000.0, v->sample, v->paused ? "  [PAUSED]" : "");
}

static void states(struct td_wframe *f, const struct td_wview *v, const struct td_census *c,
		   const struct td_rates *r)
{
	char rate[32];

	add(f, v, TD_WL_HEAD, "%-12s %10s %9s", "STATE", "SOCKETS", "PER S");
	for (unsigned s = 1; s < TD_SS_COUNT; s++) {
		if (r->dt_s > 0)
			snprintf(rate, sizeof(rate), "%+.1f", r->state[s]);
		else
			snprintf(rate, sizeof(rate), "-");
		add(f, v, TD_WL_TEXT, "%-12s %10llu %9s", sock_state_name(s),
		    (unsigned long long)census_state_total(c, s), rate);
	}
	add(f, v, TD_WL_TEXT, "%-12s %10llu", "TOTAL",
	    (unsigned long long)census_state_total(c, TD_SS_COUNT));
	if (r->dt_s <= 0)
		add(f, v, TD_WL_TEXT,
		    "TIME_WAIT created -/s  expired -/s  (rates from the second "
		    "sample on)");
	else if (!r->have_counters)
		add(f, v, TD_WL_TEXT, "TIME_WAIT created -/s  expired -/s  (no kernel counters)");
	else
		add(f, v, TD_WL_TEXT,
		    "TIME_WAIT created %.1f/s  expired %.1f/s  connects %.1f/s  accepts %.1f/s",
		    r->tw_created, r->tw_expired, r->active_opens, r->passive_opens);
}

/* The conntrack table of the namespaces shown, when any of them tracks connections. */
static void conntrack_line(struct td_wframe *f, const struct td_wview *v, const struct td_model *m)
{
	uint64_t count = 0, max = 0, tw = 0, unrep = 0;
	bool any = false;

	for (size_t i = 0; i < m->n; i++) {
		const struct td_ns_ct *ct = &m->ns[i].ct;
		if ((!total_view(v, m) && (size_t)v->ns != i) || !model_ct_tracking(ct))
			continue;
		any = true;
		count += ct->table.count;
		max = ct->table.max; /* the host's: the same in every namespace */
		tw += ct->census.tcp_state[TD_CT_TCP_TIME_WAIT];
		unrep += ct->census.unreplied;
	}
	if (!any)
		return;
	if (max)
		add(f, v, TD_WL_TEXT,
		    "conntrack %llu of nf_conntrack_max %llu (%.1f%%)  TIME_WAIT %llu  unreplied "
		    "%llu",
		    (unsigned long long)count, (unsigned long long)max,
		    100.0 * (double)count / (double)max, (unsigned long long)tw,
		    (unsigned long long)unrep);
	else
		add(f, v, TD_WL_TEXT, "conntrack %llu  TIME_WAIT %llu  unreplied %llu",
		    (unsigned long long)count, (unsigned long long)tw, (unsigned long long)unrep);
}

static void spark(struct td_wframe *f, const struct td_wview *v, const struct td_history *h,
		  unsigned state)
{
	uint64_t vals[SPARK_MAX], max = 0;
	char tail[64], glyphs[SPARK_MAX * 4 + 1];
	size_t n = h ? history_series(h, state, SPARK_MAX, vals) : 0;

	for (size_t i = 0; i < n; i++)
		max = vals[i] > max ? vals[i] : max;
	int tl = snprintf(tail, sizeof(tail), "  now %llu  max %llu",
			  (unsigned long long)(n ? vals[n - 1] : 0), (unsigned long long)max);
	/* the newest samples that fit between the 11-column label and the tail */
	size_t room = v->width > 11u + (unsigned)tl ? v->width - 11u - (unsigned)tl : 1;
	size_t k = n < room ? n : room;
	watch_sparkline(glyphs, sizeof(glyphs), vals + (n - k), k, v->utf8);
	add(f, v, TD_WL_TEXT, "%-10s %s%s", sock_state_name(state), glyphs, tail);
}

static size_t collect_dests(const struct td_wview *v, const struct td_model *m,
			    const struct td_port_dest ***out)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < m->n; i++)
		if (total_view(v, m) || (size_t)v->ns == i)
			n += m->ns[i].ndests;
	*out = xcalloc(n ? n : 1, sizeof(**out));
	for (size_t i = 0; i < m->n; i++)
		if (total_view(v, m) || (size_t)v->ns == i)
			for (size_t j = 0; j < m->ns[i].ndests; j++)
				(*out)[k++] = &m->ns[i].dests[j];
	return n;
}

static void dests(struct td_wframe *f, const struct td_wview *v, const struct td_model *m)
{
	const struct td_port_dest **d;
	size_t n = collect_dests(v, m, &d);
	bool nscol = total_view(v, m) && m->n > 1;
	char ep[128], src[64], dst[64], pct[16];

	watch_sort_dests(d, n, v->sort);
	add(f, v, TD_WL_HEAD, "TOP DESTINATIONS  sort: %s  (%zu)", watch_sort_name(v->sort), n);
	add(f, v, TD_WL_HEAD, "%-*s%-*s %7s %8s %6s %9s %8s", nscol ? 13 : 0, nscol ? "NETNS" : "",
	    DEST_W, "SOURCE -> DESTINATION", "IN USE", "CAPACITY", "USE%", "TIME_WAIT", "CLOSE/S");
	for (size_t i = 0; i < n && i < v->max_dests; i++) {
		const struct td_port_dest *x = d[i];
		const char *nsn = x->netns < m->n ? ns_label(&m->ns[x->netns]) : "?";
		sock_addr_str(x->family, x->src, src, sizeof(src));
		sock_addr_str(x->family, x->dst, dst, sizeof(dst));
		snprintf(ep, sizeof(ep), x->family == AF_INET6 ? "%s -> [%s]:%u" : "%s -> %s:%u",
			 src, dst, x->dport);
		struct td_fval u;
		ports_dest_usage(x, &u); /* "-" without capacity, as ports shows it */
		fields_text(&u, pct, sizeof(pct) - 1);
		if (u.kind != TD_FV_NULL)
			strcat(pct, "%");
		add(f, v, TD_WL_TEXT, "%-*.12s%s%-*s %7u %8u %6s %9u %8.1f", nscol ? 12 : 0,
		    nscol ? nsn : "", nscol ? " " : "", DEST_W, ep, x->in_use, x->capacity, pct,
		    x->n[TD_SS_TIME_WAIT], x->rate);
	}
	if (!n)
		add(f, v, TD_WL_TEXT, "  none: no connection holds an ephemeral port");
	free(d);
}

static enum td_wkind sev_kind(enum td_fsev s)
{
	return s == TD_F_CRITICAL  ? TD_WL_CRIT
	       : s == TD_F_WARNING ? TD_WL_WARN
	       : s == TD_F_INFO	   ? TD_WL_INFO
				   : TD_WL_TEXT;
}

static void findings(struct td_wframe *f, const struct td_wview *v, const struct td_model *m,
		     const struct td_findings *fs)
{
	const char *only = total_view(v, m) ? NULL : m->ns[v->ns].name;
	bool nsmark = total_view(v, m) && m->n > 1;
	size_t cnt[4] = { 0 }, shown = 0;
	char sev[16];

	for (size_t i = 0; fs && i < fs->n; i++)
		if (!only || !strcmp(fs->v[i].netns, only))
			cnt[fs->v[i].sev & 3]++;
	add(f, v, TD_WL_HEAD, "FINDINGS  %zu critical, %zu warning, %zu info", cnt[TD_F_CRITICAL],
	    cnt[TD_F_WARNING], cnt[TD_F_INFO]);
	/* rules_evaluate sorted them worst first */
	for (size_t i = 0; fs && i < fs->n; i++) {
		const struct td_finding *x = &fs->v[i];
		if (only && strcmp(x->netns, only))
			continue;
		snprintf(sev, sizeof(sev), "%s", rules_sev_name(x->sev));
		for (char *p = sev; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		add(f, v, sev_kind(x->sev), "%-8s %s%s%s%s", sev, x->title ? x->title : x->id,
		    nsmark ? " [" : "", nsmark ? (*x->netns ? x->netns : "current") : "",
		    nsmark ? "]" : "");
		shown++;
	}
	if (!shown)
		add(f, v, TD_WL_TEXT, "  nothing found");
}

static void help(struct td_wframe *f, const struct td_wview *v)
{
	static const char *const lines[] = {
		"KEYS",
		"  p      pause or resume sampling (the screen keeps the last sample)",
		"  s      sort destinations: usage -> TIME_WAIT -> rate",
		"  n / N  next / previous namespace with -N all (total, then each one)",
		"  ?      this help; any key returns",
		"  q      quit (also Ctrl-C)",
		"",
		"COLUMNS",
		"  PER S      net change of the count per second since the previous sample",
		"  created    timewait sockets armed per second (TcpExt TW + TWKilled)",
		"  expired    created minus the change in TIME_WAIT and orphaned FIN_WAIT2",
		"             (includes takeovers by tcp_tw_reuse and early kills)",
		"  connects   Tcp ActiveOpens per second; accepts: PassiveOpens",
		"  USE%       ports in use of what connect() can give to that destination",
		"  CLOSE/S    closes per second read from TIME_WAIT timers (60 s and 10 s)",
	};

	for (size_t i = 0; i < TD_ARRAY_SIZE(lines); i++)
		add(f, v, i == 0 || i == 7 ? TD_WL_HEAD : TD_WL_TEXT, "%s", lines[i]);
}

void watch_frame_build(struct td_wframe *f, const struct td_wview *v, const struct td_model *m,
		       const struct td_findings *fs, const struct td_history *h)
{
	struct td_census total = { 0 };
	struct td_rates r;

	watch_frame_free(f);
	title(f, v, m);
	if (v->help) {
		help(f, v);
		return;
	}
	if (!m) {
		add(f, v, TD_WL_TEXT, "taking the first sample...");
		return;
	}
	for (size_t i = 0; i < m->n; i++)
		if (total_view(v, m) || (size_t)v->ns == i)
			census_merge(&total, &m->ns[i].census);
	if (h)
		history_last_rates(h, &r);
	else
		memset(&r, 0, sizeof(r));
	states(f, v, &total, &r);
	conntrack_line(f, v, m);
	spark(f, v, h, TD_SS_TIME_WAIT);
	spark(f, v, h, TD_SS_CLOSE_WAIT);
	add(f, v, TD_WL_TEXT, "%s", "");
	dests(f, v, m);
	add(f, v, TD_WL_TEXT, "%s", "");
	findings(f, v, m, fs);
}
