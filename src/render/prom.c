// SPDX-License-Identifier: MIT
/*
 * The Prometheus text format, by hand: it is a few lines of printf with two escaping rules, and
 * libprom or a client library would bring a registry and threads the exporter does not need.
 * Values are printed with the shortest precision that reads back to the same double, so
 * integers stay integers and +Inf/NaN use the format's spellings.
 */
#include "render/prom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/export/exporter.h"
#include "core/names.h"
#include "core/util.h"

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? 2 * b->cap : 4096;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* HELP text escapes backslash and newline; label values also the double quote. The page must
 * be valid UTF-8 (one bad label value and Prometheus drops the whole scrape): bytes that are
 * not well-formed UTF-8 become U+FFFD. Names are escaped where they enter (names.h); this is
 * the last line of defence for anything else. */
static void escaped(struct buf *b, const char *s, int quote)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t len = names_utf8_char(u + i, n - i);
		if (!len) {
			puts_(b, "\xEF\xBF\xBD");
			i++;
		} else if (s[i] == '\\') {
			puts_(b, "\\\\");
			i++;
		} else if (s[i] == '\n') {
			puts_(b, "\\n");
			i++;
		} else if (quote && s[i] == '"') {
			puts_(b, "\\\"");
			i++;
		} else {
			put(b, s + i, len);
			i += len;
		}
	}
}

static void value(struct buf *b, double v)
{
	char s[40];

	if (isnan(v))
		snprintf(s, sizeof(s), "NaN");
	else if (isinf(v))
		snprintf(s, sizeof(s), v > 0 ? "+Inf" : "-Inf");
	else {
		snprintf(s, sizeof(s), "%.15g", v);
		if (strtod(s, NULL) != v)
			snprintf(s, sizeof(s), "%.17g", v);
	}
	puts_(b, s);
}

static void sample(struct buf *b, const char *name, const struct td_exporter_sample *s)
{
	puts_(b, name);
	if (s->nlabels) {
		put(b, "{", 1);
		for (size_t i = 0; i < s->nlabels; i++) {
			if (i)
				put(b, ",", 1);
			puts_(b, s->lname[i]);
			put(b, "=\"", 2);
			escaped(b, s->lval[i], 1);
			put(b, "\"", 1);
		}
		put(b, "}", 1);
	}
	put(b, " ", 1);
	value(b, s->value);
	put(b, "\n", 1);
}

char *render_prom(const struct td_metrics *m, size_t *len)
{
	struct buf b = { 0 };

	put(&b, "", 0);
	for (size_t i = 0; i < m->n; i++) {
		const struct td_exporter_family *f = &m->v[i];
		puts_(&b, "# HELP ");
		puts_(&b, f->name);
		put(&b, " ", 1);
		escaped(&b, f->help, 0);
		puts_(&b, "\n# TYPE ");
		puts_(&b, f->name);
		puts_(&b, f->type == EXPORTER_COUNTER ? " counter\n" : " gauge\n");
		for (size_t k = 0; k < f->n; k++)
			sample(&b, f->name, &f->v[k]);
	}
	*len = b.len;
	return b.p;
}
