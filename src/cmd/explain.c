// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor explain ID|KEY|ERROR|ANCHOR`: what a finding id, a sysctl key, an error message
 * pasted from a log (or an errno number or name) or a section of doc/tcp-facts.md means, read
 * from the same tables the rules, lint and the renderers use (catalogue.h, params.h, facts.h),
 * so the explanation cannot drift from what the other commands print. Nothing here reads the
 * system: the same input gives the same answer on every host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/explain.h"
#include "core/rules/catalogue.h"
#include "core/rules/facts.h"
#include "core/sysctl/params.h"
#include "core/rules/rules.h"
#include "core/util.h"

#define WIDTH	  100
#define MATCH_MAX 16

enum list_kind { LIST_NONE, LIST_ALL, LIST_FINDINGS, LIST_KEYS, LIST_ERRORS, LIST_SECTIONS };

struct explain_args {
	bool list, all;
};

/* Prints text wrapped at WIDTH, the first line at indent, the others at hang. */
static void para_hang(int indent, int hang, const char *text)
{
	const char *p = text;
	int col = 0;
	bool first = true;

	while (*p) {
		size_t wl = strcspn(p, " ");
		if (col && col + 1 + (int)wl > WIDTH) {
			putchar('\n');
			col = 0;
		}
		if (!col) {
			col = printf("%*s", first ? indent : hang, "");
			first = false;
		} else {
			col += printf(" ");
		}
		col += (int)fwrite(p, 1, wl, stdout);
		p += wl;
		while (*p == ' ')
			p++;
	}
	putchar('\n');
}

static void para(int indent, const char *text)
{
	para_hang(indent, indent, text);
}

static void print_ref(const char *ref, const char *see_also)
{
	char b[300];
	const char *a = facts_anchor_of(ref);

	printf("\nReference\n  %s\n", facts_ref_text(ref, b, sizeof(b)));
	if (see_also) {
		char *s = xstrdup(see_also), *save = NULL;
		fputs("  see also:", stdout);
		for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save))
			printf(" tcp-facts.md#%s", t);
		putchar('\n');
		free(s);
	}
	printf("  read it: tcpdoctor explain %s, or %s\n", a ? a : "", FACTS_DOC_PATH);
}

/* --- findings --- */

static void finding_text(const struct td_cat_finding *f)
{
	struct td_limits lim;

	rules_limits_default(&lim);
	printf("%s: %s\n  (finding of doctor, check, watch and serve)\n\nWhat it means\n", f->id,
	       f->title);
	para(2, f->cause);
	puts("\nWhen it fires");
	para(2, f->tell);
	if (f->limits) {
		char *s = xstrdup(f->limits), *save = NULL;
		puts("  thresholds (tcpdoctor check --warn/--crit NAME=N; 0 = off):");
		for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			const struct td_limit *l = rules_limit_find(&lim, t);
			if (l)
				printf("    %-18s warn %-6g crit %-6g %s\n", l->name, l->warn,
				       l->crit, l->help);
		}
		free(s);
	}
	puts("\nWhat to do");
	for (size_t i = 0; i < TD_CAT_REMEDIES && f->remedies[i]; i++) {
		char b[600];
		snprintf(b, sizeof(b), "%zu. %s", i + 1, f->remedies[i]);
		para_hang(2, 5, b);
	}
	printf("\nWhere to look\n");
	para(2, f->checks);
	print_ref(f->ref, f->see_also);
}

/* --- sysctl keys --- */

static void key_text(const struct td_param *p)
{
	char b[400], v[16];

	printf("%s\n", p->key);
	para(2, p->meaning);
	printf("  scope:   %s\n",
	       p->scope == TD_SCOPE_GLOBAL
		       ? "global: one value for the host; absent or read-only in child namespaces"
		       : "per network namespace");
	explain_shape(p, b, sizeof(b));
	printf("  value:   %s\n", b);
	explain_default(p, b, sizeof(b));
	printf("  default: %s\n", b);
	if (p->added)
		printf("  exists:  since Linux %s\n", explain_kv(p->added, v, sizeof(v)));
	if (p->removed)
		printf("  exists:  no longer: removed in Linux %s\n",
		       explain_kv(p->removed, v, sizeof(v)));
	snprintf(b, sizeof(b), "history: %s", p->history);
	para_hang(2, 11, b);
	if (p->nrules || p->check)
		puts("\nVerdicts (tcpdoctor sysctl lint, sysctl audit and doctor's sysctl "
		     "finding)");
	for (size_t i = 0; i < p->nrules; i++) {
		const struct td_rule *r = &p->rules[i];
		char when[40], ref[300];
		explain_rule_when(r, when, sizeof(when));
		printf("  %s: %s: %s\n", when, params_sev_name(r->sev), r->message);
		snprintf(b, sizeof(b), "%s [%s]", r->reason,
			 facts_ref_text(r->ref, ref, sizeof(ref)));
		para(6, b);
	}
	if (explain_check_words(p))
		printf("  %s the value's parts: %s\n", p->nrules ? "and checks" : "checks of",
		       explain_check_words(p));
	puts("\nWhere to look\n  tcpdoctor sysctl (this host's value and verdict); tcpdoctor "
	     "sysctl lint (files)");
	print_ref(p->ref, NULL);
}

/* --- errors --- */

static void error_text(const struct td_cat_error *e)
{
	if (e->name)
		printf("%s (errno %d): %s\n", e->name, e->errnum, e->message);
	else
		printf("Kernel or tool message: %s\n", e->message);
	para(2, e->summary);
	puts("\nPossible causes, how to tell them apart, and what checks each");
	for (size_t i = 0; i < TD_CAT_CAUSES && e->causes[i].cause; i++) {
		char b[600];
		snprintf(b, sizeof(b), "%zu. %s", i + 1, e->causes[i].cause);
		para_hang(2, 5, b);
		snprintf(b, sizeof(b), "tell: %s", e->causes[i].tell);
		para_hang(5, 11, b);
		snprintf(b, sizeof(b), "check: %s", e->causes[i].check);
		para_hang(5, 12, b);
	}
	print_ref(e->ref, NULL);
}

/* --- sections --- */

static void section_text(const struct td_section *s)
{
	const char *t;
	size_t n;

	if (facts_section_text(s->anchor, &t, &n) == 0) {
		fwrite(t, 1, n, stdout);
		putchar('\n');
	} else {
		printf("## %s\n", s->title);
	}
	char b[400];
	snprintf(b, sizeof(b), "(tcp-facts.md#%s; primary source: %s; the whole document: %s)",
		 s->anchor, s->source, FACTS_DOC_PATH);
	putchar('\n');
	para(0, b);
}

static void match_text(const struct td_cat_match *m)
{
	switch (m->kind) {
	case TD_CAT_FINDING:
		finding_text(m->u.finding);
		break;
	case TD_CAT_KEY:
		key_text(m->u.key);
		break;
	case TD_CAT_ERROR:
		error_text(m->u.error);
		break;
	case TD_CAT_SECTION:
		section_text(m->u.section);
		break;
	}
}

/* Every entry of kind k (or of every kind) into m. */
static size_t all_entries(struct td_cat_match *m, size_t max, enum list_kind k)
{
	size_t n = 0;

	for (size_t i = 0;
	     (k == LIST_ALL || k == LIST_FINDINGS) && i < catalogue_nfindings && n < max; i++)
		m[n++] = (struct td_cat_match){ TD_CAT_FINDING,
						{ .finding = &catalogue_findings[i] } };
	for (size_t i = 0; (k == LIST_ALL || k == LIST_KEYS) && i < params_count && n < max; i++)
		m[n++] = (struct td_cat_match){ TD_CAT_KEY, { .key = &params_table[i] } };
	for (size_t i = 0; (k == LIST_ALL || k == LIST_ERRORS) && i < catalogue_nerrors && n < max;
	     i++)
		m[n++] = (struct td_cat_match){ TD_CAT_ERROR, { .error = &catalogue_errors[i] } };
	for (size_t i = 0; (k == LIST_ALL || k == LIST_SECTIONS) && i < facts_nsections && n < max;
	     i++)
		m[n++] = (struct td_cat_match){ TD_CAT_SECTION, { .section = &facts_sections[i] } };
	return n;
}

static const char *match_name(const struct td_cat_match *m)
{
	switch (m->kind) {
	case TD_CAT_FINDING:
		return m->u.finding->id;
	case TD_CAT_KEY:
		return m->u.key->key;
	case TD_CAT_ERROR:
		return m->u.error->name ? m->u.error->name : m->u.error->message;
	case TD_CAT_SECTION:
		return m->u.section->anchor;
	}
	return "";
}

static void print_matches(const struct td_global *g, const char *input,
			  const struct td_cat_match *m, size_t n, bool names)
{
	if (g->json) {
		json_t *o = json_object(), *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, names ? json_string(match_name(&m[i]))
						       : explain_match_json(&m[i]));
		json_object_set_new(o, "input", input ? json_string(input) : json_null());
		json_object_set_new(o, names ? "names" : "matches", a);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (names) {
			puts(match_name(&m[i]));
			continue;
		}
		if (i)
			puts("\n--------\n");
		match_text(&m[i]);
	}
}

static int on_opt(struct td_global *g, int c, const char *arg, void *ctx)
{
	struct explain_args *a = ctx;

	(void)arg;
	switch (c) {
	case 'l':
		a->list = true;
		return 0;
	case 'a':
		a->all = true;
		return 0;
	}
	return cmd_getopt_err(g);
}

static int list_kind(const struct td_global *g, const char *w, enum list_kind *k)
{
	static const char *const names[] = { "findings", "keys", "errors", "sections" };

	/* "findings" or "finding" */
	for (size_t i = 0; i < TD_ARRAY_SIZE(names); i++)
		if (!strcmp(w, names[i]) ||
		    (strlen(w) + 1 == strlen(names[i]) && !strncmp(w, names[i], strlen(w)))) {
			*k = (enum list_kind)(LIST_FINDINGS + i);
			return 0;
		}
	return cmd_usage_err(g, "--list '%s': expected findings, keys, errors or sections", w);
}

static int not_found(const struct td_global *g, const char *input)
{
	const char *s[5];
	size_t n = catalogue_suggest(input, s, TD_ARRAY_SIZE(s));

	cmd_err(g, "nothing known about '%s'", input);
	if (n) {
		fputs("Closest:", stderr);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %s", s[i]);
		fputc('\n', stderr);
	}
	fputs("Try 'tcpdoctor explain --list' for every name.\n", stderr);
	return TD_EXIT_FAIL;
}

static int explain_main(int argc, char **argv, struct td_global *g)
{
	struct explain_args a = { 0 };
	struct td_cat_match m[256];
	enum list_kind k = LIST_ALL;
	int r;

	if ((r = cmd_parse(&cmd_explain, argc, argv, g, &a)))
		return r;
	argc = g->nargs;
	argv = g->args;
	if (a.list || a.all) {
		if (argc > (a.list ? 1 : 0))
			return cmd_usage_err(g, "unexpected argument '%s'", argv[0]);
		if (a.list && argc > 0 && (r = list_kind(g, argv[0], &k)))
			return r;
		print_matches(g, NULL, m, all_entries(m, TD_ARRAY_SIZE(m), k), a.list);
		return TD_EXIT_OK;
	}
	if (argc == 0)
		return cmd_usage_err(g, "what should be explained? A finding id, a sysctl key, an "
					"error message or a section");
	/* a message pasted without quotes arrives as several words */
	size_t len = 0;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *input = xmalloc(len);
	input[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(input, " ");
		strcat(input, argv[i]);
	}
	size_t n = catalogue_resolve(input, m, MATCH_MAX);
	if (n)
		print_matches(g, input, m, n, false);
	else
		r = not_found(g, input);
	free(input);
	return n ? TD_EXIT_OK : r;
}

static const struct td_cmd_opt explain_opts[] = {
	{ "list", 'l', NULL, "print the names of one kind (or all), one per line", 'l' },
	{ "all", 'a', NULL, "explain every entry of every kind", 'a' },
	{ 0 },
};

const struct td_cmd_entry cmd_explain = {
	.name = "explain",
	.summary = "What a finding id, sysctl key or error message means; causes, sources",
	.usage = "tcpdoctor explain [--json] ID|KEY|ERROR|ANCHOR...\n"
		 "tcpdoctor explain --list [findings|keys|errors|sections]\n"
		 "tcpdoctor explain --all [--json]",
	.about =
		"Explains, from the tables the other commands use:\n"
		"  a finding id        port-exhaustion, close-wait-leak, ... (cause, remedies,\n"
		"                      thresholds, the commands that show the evidence)\n"
		"  a sysctl key        tcp_tw_reuse, net.ipv4.tcp_tw_reuse, net/ipv4/tcp_tw_reuse\n"
		"                      (value, default per kernel version, namespace scope, verdicts)\n"
		"  an error message    \"Cannot assign requested address\", 99, EADDRNOTAVAIL,\n"
		"                      \"nf_conntrack: table full\" (causes, how to tell them apart,\n"
		"                      the command that checks each)\n"
		"  a section           ephemeral-ports, tcp-facts.md#time-wait (the text of\n"
		"                      doc/tcp-facts.md, also in " FACTS_DOC_PATH ")\n"
		"Several words are joined into one message. Exit status: 0 explained, 1 nothing\n"
		"matches (the closest names are suggested), 2 usage.",
	.opts = explain_opts,
	.more = "\nWith --json: {\"input\", \"matches\": [{\"kind\": "
		"\"finding\"|\"key\"|\"error\"|\"section\", ...}]}",
	.flags = TD_CMD_ARGS,
	.on_opt = on_opt,
	.run = explain_main,
};
