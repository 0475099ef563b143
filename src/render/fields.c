// SPDX-License-Identifier: MIT
/*
 * Text and JSON writers per value kind, and the walks over a field table (render/fields.h).
 */
#include "render/fields.h"

#include <inttypes.h>
#include <stdio.h>

#include "core/sock.h"
#include "render/table.h"

#define FIELDS_MAX 32 /* columns of one table */

char *fields_text(const struct td_fval *v, char *buf, size_t len)
{
	switch (v->kind) {
	case TD_FV_UINT:
		snprintf(buf, len, "%" PRIu64, v->u);
		break;
	case TD_FV_INT:
		snprintf(buf, len, "%" PRId64, v->i);
		break;
	case TD_FV_OMIT:
		buf[0] = '\0';
		break;
	case TD_FV_COUNT:
		table_num(v->u, buf, len);
		break;
	case TD_FV_REAL:
		snprintf(buf, len, "%.*f", v->decimals, v->d);
		break;
	case TD_FV_BOOL:
		snprintf(buf, len, "%s", v->b ? "yes" : "no");
		break;
	case TD_FV_STR:
		snprintf(buf, len, "%s", v->s && *v->s ? v->s : "-");
		break;
	case TD_FV_SECONDS:
		if (v->d == 0)
			snprintf(buf, len, "NOW");
		else if (v->d < 600)
			snprintf(buf, len, "%.1fs", v->d);
		else
			snprintf(buf, len, "%.0fmin", v->d / 60);
		break;
	case TD_FV_STATES: {
		size_t o = 0;
		buf[0] = '\0';
		for (unsigned s = 1; s < TD_SS_COUNT && o < len; s++)
			if (v->states[s])
				o += (size_t)snprintf(buf + o, len - o, "%s%" PRIu32 " %s",
						      o ? ", " : "", v->states[s],
						      sock_state_name(s));
		if (!o)
			snprintf(buf, len, "-");
		break;
	}
	case TD_FV_NULL:
	default:
		snprintf(buf, len, "-");
		break;
	}
	return buf;
}

json_t *fields_json(const struct td_fval *v)
{
	json_t *o;

	switch (v->kind) {
	case TD_FV_UINT:
	case TD_FV_COUNT:
		return json_integer(v->u > INT64_MAX ? INT64_MAX : (json_int_t)v->u);
	case TD_FV_INT:
		return json_integer((json_int_t)v->i);
	case TD_FV_REAL:
	case TD_FV_SECONDS:
		return json_real(v->d);
	case TD_FV_BOOL:
		return json_boolean(v->b);
	case TD_FV_STR:
		return json_string(v->s ? v->s : "");
	case TD_FV_STATES:
		o = json_object();
		for (unsigned s = 1; s < TD_SS_COUNT; s++)
			if (v->states[s])
				json_object_set_new(o, sock_state_name(s),
						    json_integer(v->states[s]));
		return o;
	case TD_FV_NULL:
	default:
		return json_null();
	}
}

struct td_table *fields_table_new(const struct td_field *f, size_t n)
{
	const char *hdr[FIELDS_MAX];
	enum td_align al[FIELDS_MAX];
	unsigned k = 0;

	for (size_t i = 0; i < n && k < FIELDS_MAX; i++)
		if (f[i].header) {
			hdr[k] = f[i].header;
			al[k++] = f[i].width < 0 ? TD_LEFT : TD_RIGHT;
		}
	return table_new(k, hdr, al);
}

void fields_table_add(struct td_table *t, const struct td_field *f, size_t n, const void *obj,
		      const void *ctx)
{
	char cells[FIELDS_MAX][128];
	const char *cp[FIELDS_MAX];
	unsigned k = 0;

	for (size_t i = 0; i < n && k < FIELDS_MAX; i++) {
		struct td_fval v;
		if (!f[i].header)
			continue;
		fields_get(&f[i], obj, ctx, &v);
		cp[k] = fields_text(&v, cells[k], sizeof(cells[k]));
		k++;
	}
	table_add(t, cp, false);
}

/* The text fields of f from i on: is i the last one? */
static bool last_text_field(const struct td_field *f, size_t n, size_t i)
{
	for (size_t k = i + 1; k < n; k++)
		if (f[k].header)
			return false;
	return true;
}

static void line_cell(FILE *out, const struct td_field *f, size_t n, size_t i, const char *text)
{
	int w = f[i].width < 0 ? -f[i].width : f[i].width;

	if (last_text_field(f, n, i))
		fputs(text, out);
	else if (f[i].width < 0)
		fprintf(out, "%-*s  ", w, text);
	else
		fprintf(out, "%*s  ", w, text);
}

void fields_line_header(FILE *out, const struct td_field *f, size_t n, bool color)
{
	fputs(color ? "\033[1m  " : "  ", out);
	for (size_t i = 0; i < n; i++)
		if (f[i].header)
			line_cell(out, f, n, i, f[i].header);
	fputs(color ? "\033[0m\n" : "\n", out);
}

void fields_line(FILE *out, const struct td_field *f, size_t n, const void *obj, const void *ctx)
{
	fputs("  ", out);
	for (size_t i = 0; i < n; i++) {
		struct td_fval v;
		char cell[256];
		if (!f[i].header)
			continue;
		fields_get(&f[i], obj, ctx, &v);
		line_cell(out, f, n, i, fields_text(&v, cell, sizeof(cell)));
	}
	fputc('\n', out);
}

void fields_json_set(json_t *o, const struct td_field *f, size_t n, const void *obj,
		     const void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		struct td_fval v;
		if (!f[i].json_key)
			continue;
		fields_get(&f[i], obj, ctx, &v);
		if (v.kind != TD_FV_OMIT)
			json_object_set_new(o, f[i].json_key, fields_json(&v));
	}
}
