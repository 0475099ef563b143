// SPDX-License-Identifier: MIT
/*
 * Aligned plain-text tables. Column widths come from the widest cell, so the table is stored
 * until printed; it is meant for summaries of a few hundred rows, not socket lists.
 */
#include "render/table.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct td_table {
	unsigned ncols;
	char **headers;
	enum td_align *align;
	char ***rows; /* NULL row = rule */
	bool *dim;
	size_t n, cap;
};

struct td_table *table_new(unsigned ncols, const char *const *headers, const enum td_align *align)
{
	struct td_table *t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	t->headers = xcalloc(ncols, sizeof(char *));
	t->align = xcalloc(ncols, sizeof(*t->align));
	for (unsigned i = 0; i < ncols; i++) {
		t->headers[i] = xstrdup(headers[i] ? headers[i] : "");
		t->align[i] = align ? align[i] : TD_LEFT;
	}
	return t;
}

static void push(struct td_table *t, char **row, bool dim)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->rows = xrealloc(t->rows, t->cap * sizeof(*t->rows));
		t->dim = xrealloc(t->dim, t->cap * sizeof(*t->dim));
	}
	t->rows[t->n] = row;
	t->dim[t->n++] = dim;
}

void table_add(struct td_table *t, const char *const *cells, bool dim)
{
	char **row = xcalloc(t->ncols, sizeof(char *));

	for (unsigned i = 0; i < t->ncols; i++)
		row[i] = xstrdup(cells[i] ? cells[i] : "");
	push(t, row, dim);
}

void table_rule(struct td_table *t)
{
	push(t, NULL, false);
}

static void print_row(const struct td_table *t, char *const *cells, const size_t *w, FILE *f)
{
	for (unsigned i = 0; i < t->ncols; i++) {
		int width = (int)w[i];
		bool last = i + 1 == t->ncols;
		if (t->align[i] == TD_RIGHT)
			fprintf(f, "%*s", width, cells[i]);
		else if (last)
			fputs(cells[i], f); /* no trailing blanks */
		else
			fprintf(f, "%-*s", width, cells[i]);
		if (!last)
			fputs("  ", f);
	}
}

void table_print(const struct td_table *t, FILE *f, bool color)
{
	size_t *w = xcalloc(t->ncols, sizeof(size_t)), total = 0;

	for (unsigned i = 0; i < t->ncols; i++) {
		w[i] = strlen(t->headers[i]);
		for (size_t r = 0; r < t->n; r++)
			if (t->rows[r] && strlen(t->rows[r][i]) > w[i])
				w[i] = strlen(t->rows[r][i]);
		total += w[i] + (i ? 2 : 0);
	}
	if (color)
		fputs("\033[1m", f);
	print_row(t, t->headers, w, f);
	fputs(color ? "\033[0m\n" : "\n", f);
	for (size_t r = 0; r < t->n; r++) {
		if (!t->rows[r]) {
			for (size_t i = 0; i < total; i++)
				fputc('-', f);
			fputc('\n', f);
			continue;
		}
		if (color && t->dim[r])
			fputs("\033[2m", f);
		print_row(t, t->rows[r], w, f);
		fputs(color && t->dim[r] ? "\033[0m\n" : "\n", f);
	}
	free(w);
}

void table_free(struct td_table *t)
{
	if (!t)
		return;
	for (size_t r = 0; r < t->n; r++) {
		if (!t->rows[r])
			continue;
		for (unsigned i = 0; i < t->ncols; i++)
			free(t->rows[r][i]);
		free(t->rows[r]);
	}
	for (unsigned i = 0; i < t->ncols; i++)
		free(t->headers[i]);
	free(t->headers);
	free(t->align);
	free(t->rows);
	free(t->dim);
	free(t);
}

char *table_num(unsigned long long n, char *buf, size_t len)
{
	char tmp[32];
	int l = snprintf(tmp, sizeof(tmp), "%llu", n);
	size_t o = 0;

	for (int i = 0; i < l && o + 1 < len; i++) {
		if (i && (l - i) % 3 == 0 && o + 2 < len)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}
