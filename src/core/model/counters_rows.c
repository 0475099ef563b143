// SPDX-License-Identifier: MIT
/*
 * The rows of `counters` and their field tables (counters_rows.h). A counter that went
 * backwards (the namespace was recreated) reads "reset" in text with the two values in its
 * meaning, and delta 0 with "backwards": true in JSON; a gauge that fell has a negative delta.
 */
#include "core/model/counters_rows.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

/* Counters before gauges; within each, the ones that moved (or went backwards) first. */
static int row_cmp(const struct td_counters_row *x, const struct td_counters_row *y)
{
	bool mx = x->d.delta || x->d.backwards, my = y->d.delta || y->d.backwards;

	if (x->kind != y->kind)
		return x->kind == COUNTERS_COUNTER ? -1 : 1;
	return my - mx;
}

/* A stable insertion sort: rows keep the table's order within each group. */
static void rows_sort(struct td_counters_row *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct td_counters_row t = v[i];
		size_t j = i;
		for (; j > 0 && row_cmp(&v[j - 1], &t) > 0; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

static bool is_tcp(const struct td_counters_entry *e)
{
	return (e->src == COUNTERS_SNMP && !strcmp(e->section, "Tcp")) ||
	       (e->src == COUNTERS_NETSTAT && !strcmp(e->section, "TcpExt"));
}

size_t counters_rows(const struct td_counters *before, const struct td_counters *after, bool all,
		     struct td_counters_row **out)
{
	size_t n = 0, cap = COUNTERS_ID_COUNT + (all ? after->n : 0);
	struct td_counters_row *v = xcalloc(cap ? cap : 1, sizeof(*v));

	for (size_t i = 0; i < COUNTERS_ID_COUNT; i++) {
		const struct td_counters_info *k = &counters_known[i];
		const struct td_counters_entry *e =
			counters_get(after, k->src, k->section, k->name);
		struct td_counters_row r = {
			.name = k->name,
			.section = k->section,
			.meaning = k->meaning,
			.src = k->src,
			.kind = k->kind,
		};
		counters_delta_known(before, after, k->id, &r.d);
		if (!e || r.d.missing)
			continue; /* not on this kernel: counters_missing() lists it */
		r.value = e->value;
		r.negative = e->negative;
		v[n++] = r;
	}
	for (size_t i = 0; all && i < after->n; i++) {
		const struct td_counters_entry *e = &after->v[i];
		if (!is_tcp(e) || counters_info_find(e->src, e->section, e->name))
			continue;
		struct td_counters_row r = {
			.name = e->name,
			.section = e->section,
			.src = e->src,
			.kind = COUNTERS_COUNTER,
			.value = e->value,
			.negative = e->negative,
		};
		counters_delta(before, after, e->src, e->section, e->name, &r.d);
		if (r.d.missing || (!r.d.delta && !r.d.backwards))
			continue;
		v[n++] = r;
	}
	rows_sort(v, n);
	*out = v;
	return n;
}

size_t counters_missing(const struct td_counters *before, const struct td_counters *after,
			const char **names)
{
	size_t n = 0;

	for (size_t i = 0; i < COUNTERS_ID_COUNT; i++) {
		struct td_counters_delta d;
		counters_delta_known(before, after, (enum counters_id)i, &d);
		if (d.missing)
			names[n++] = counters_known[i].name;
	}
	return n;
}

#define ROW(obj) ((const struct td_counters_row *)(obj))

static int64_t clamp(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

static void get_str(struct td_fval *v, const char *s)
{
	v->kind = TD_FV_STR;
	v->s = s;
}

static void get_name(const void *obj, const void *ctx, struct td_fval *v)
{
	(void)ctx;
	get_str(v, ROW(obj)->name);
}

static void get_section(const void *obj, const void *ctx, struct td_fval *v)
{
	(void)ctx;
	get_str(v, ROW(obj)->section);
}

static void get_file(const void *obj, const void *ctx, struct td_fval *v)
{
	(void)ctx;
	get_str(v, counters_src_name(ROW(obj)->src));
}

/* Text: sockstat's short names ("tw", "mem") get their file. */
static void get_label(const void *obj, const void *ctx, struct td_fval *v)
{
	const struct td_counters_row *r = ROW(obj);

	(void)ctx;
	snprintf(v->buf, sizeof(v->buf), "%s%s", r->src == COUNTERS_SOCKSTAT ? "sockstat " : "",
		 r->name);
	get_str(v, v->buf);
}

/* JSON: signed; a gauge that fell is negative, a counter that went backwards 0. */
static void get_delta(const void *obj, const void *ctx, struct td_fval *v)
{
	const struct td_counters_row *r = ROW(obj);

	(void)ctx;
	v->kind = TD_FV_INT;
	if (!r->d.backwards)
		v->i = clamp(r->d.delta);
	else if (r->kind == COUNTERS_GAUGE)
		v->i = -clamp(r->d.before - r->d.after);
}

/* Text: the delta, or "reset" when the counter went backwards. */
static void get_delta_text(const void *obj, const void *ctx, struct td_fval *v)
{
	const struct td_counters_row *r = ROW(obj);

	(void)ctx;
	if (r->d.backwards)
		get_str(v, "reset");
	else {
		v->kind = TD_FV_UINT;
		v->u = r->d.delta;
	}
}

/* Text: no rate for a counter that went backwards ("-"). */
static void get_rate_text(const void *obj, const void *ctx, struct td_fval *v)
{
	(void)ctx;
	if (ROW(obj)->d.backwards)
		return;
	v->kind = TD_FV_REAL;
	v->decimals = 1;
	v->d = ROW(obj)->d.rate;
}

static void get_value(const void *obj, const void *ctx, struct td_fval *v)
{
	const struct td_counters_row *r = ROW(obj);

	(void)ctx;
	v->kind = TD_FV_INT;
	v->i = r->negative ? -clamp(r->value) : clamp(r->value);
}

static void get_kind(const void *obj, const void *ctx, struct td_fval *v)
{
	(void)ctx;
	get_str(v, ROW(obj)->kind == COUNTERS_GAUGE ? "gauge" : "counter");
}

static void get_meaning(const void *obj, const void *ctx, struct td_fval *v)
{
	(void)ctx;
	if (ROW(obj)->meaning)
		get_str(v, ROW(obj)->meaning);
}

/* Text: what a counter going backwards means, with both values. */
static void get_meaning_text(const void *obj, const void *ctx, struct td_fval *v)
{
	const struct td_counters_row *r = ROW(obj);

	if (!r->d.backwards) {
		get_meaning(obj, ctx, v);
		return;
	}
	snprintf(v->buf, sizeof(v->buf),
		 "went backwards (%" PRIu64 " -> %" PRIu64
		 "): counters reset, was the namespace recreated?",
		 r->d.before, r->d.after);
	get_str(v, v->buf);
}

/* JSON: only a counter can go backwards; a gauge's fall is its negative delta. */
static void get_backwards(const void *obj, const void *ctx, struct td_fval *v)
{
	(void)ctx;
	if (ROW(obj)->kind == COUNTERS_GAUGE) {
		v->kind = TD_FV_OMIT;
		return;
	}
	v->kind = TD_FV_BOOL;
	v->b = ROW(obj)->d.backwards;
}

static void get_blank(const void *obj, const void *ctx, struct td_fval *v)
{
	(void)obj;
	(void)ctx;
	v->kind = TD_FV_OMIT;
}

const struct td_field counters_row_fields[] = {
	{ NULL, "counter", -22, TD_FT_FN, 0, get_label },
	{ "name", NULL, 0, TD_FT_FN, 0, get_name },
	{ "section", NULL, 0, TD_FT_FN, 0, get_section },
	{ "file", NULL, 0, TD_FT_FN, 0, get_file },
	{ "delta", NULL, 0, TD_FT_FN, 0, get_delta },
	{ NULL, "delta", 11, TD_FT_FN, 0, get_delta_text },
	{ "rate", NULL, 0, TD_FT_RATE, offsetof(struct td_counters_row, d.rate), NULL },
	{ NULL, "per s", 9, TD_FT_FN, 0, get_rate_text },
	{ "value", NULL, 0, TD_FT_FN, 0, get_value },
	{ "kind", NULL, 0, TD_FT_FN, 0, get_kind },
	{ "meaning", NULL, 0, TD_FT_FN, 0, get_meaning },
	{ NULL, "meaning", 0, TD_FT_FN, 0, get_meaning_text },
	{ "backwards", NULL, 0, TD_FT_FN, 0, get_backwards },
};
const size_t counters_row_nfields = TD_ARRAY_SIZE(counters_row_fields);

const struct td_field counters_gauge_fields[] = {
	{ NULL, "gauge", -22, TD_FT_FN, 0, get_label },
	{ NULL, "now", 11, TD_FT_FN, 0, get_value }, /* a gauge's level, with its sign */
	{ NULL, "", 9, TD_FT_FN, 0, get_blank },
	{ NULL, "meaning", 0, TD_FT_FN, 0, get_meaning },
};
const size_t counters_gauge_nfields = TD_ARRAY_SIZE(counters_gauge_fields);
