// SPDX-License-Identifier: MIT
/*
 * Unit tests for the finding catalogue, the error table and the section table
 * (src/core/catalogue*.c, facts*.c) against the sources and the document they describe: every
 * id the rules pass to rules_add() has a catalogue entry (found by reading src/core/rules*.c),
 * every anchor any table names (findings, errors, sysctl keys and their verdicts) is a section
 * of the embedded doc/tcp-facts.md, the section table and the document agree both ways (anchor
 * and heading), the embedded copy is the file in the tree, every test the document cites exists,
 * thresholds named exist, and nothing says "kernel-facts". Runs from the top of the tree
 * (tests/run-all does) or with TD_ROOT set.
 */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/catalogue.h"
#include "core/facts.h"
#include "core/params.h"
#include "core/rules.h"
#include "core/util.h"

static char *read_tree_file(const char *rel, size_t *len)
{
	const char *root = getenv("TD_ROOT");
	char path[512];
	char *buf = NULL;

	snprintf(path, sizeof(path), "%s/%s", root && *root ? root : ".", rel);
	int r = util_read_file(path, 1 << 22, &buf, len);
	if (r)
		fail_msg("cannot read %s: %s", path, strerror(-r));
	return buf;
}

static void assert_anchor(const char *ref, const char *what)
{
	if (!ref)
		return;
	if (strncmp(ref, FACTS_REF_PREFIX, strlen(FACTS_REF_PREFIX)))
		fail_msg("%s: reference '%s' is not tcp-facts#ANCHOR", what, ref);
	const struct td_section *s = facts_section(ref);
	const char *t;
	size_t n;
	if (!s)
		fail_msg("%s: reference '%s' names no section of the table", what, ref);
	if (facts_section_text(s->anchor, &t, &n))
		fail_msg("%s: anchor '%s' is not in doc/tcp-facts.md", what, s->anchor);
}

static void assert_words_anchors(const char *list, const char *what)
{
	char *s = xstrdup(list ? list : ""), *save = NULL, ref[128];

	for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		snprintf(ref, sizeof(ref), FACTS_REF_PREFIX "%s", t);
		assert_anchor(ref, what);
	}
	free(s);
}

/* Every string literal passed as the id of rules_add() in the rule files has an entry. */
static void test_rule_ids_in_catalogue(void **state)
{
	static const char *const files[] = {
		"src/core/rules.c",	  "src/core/rules_sockets.c",	"src/core/rules_kernel.c",
		"src/core/rules_ports.c", "src/core/rules_conntrack.c", "src/core/rules_trace.c"
	};
	size_t calls = 0;

	(void)state;
	for (size_t f = 0; f < TD_ARRAY_SIZE(files); f++) {
		size_t len;
		char *src = read_tree_file(files[f], &len);
		for (char *p = src; (p = strstr(p, "rules_add(")); p++) {
			char *q = strchr(p, ',');
			/* the declaration in rules.c has no literal id */
			if (!q || !(q = strchr(q, '"')) || q > strchr(p, ')'))
				continue;
			char *e = strchr(q + 1, '"');
			assert_non_null(e);
			char id[64];
			snprintf(id, sizeof(id), "%.*s", (int)(e - q - 1), q + 1);
			if (!catalogue_finding(id))
				fail_msg("%s: rules_add id '%s' has no catalogue entry", files[f],
					 id);
			calls++;
		}
		free(src);
	}
	/* the scan found the rules (19 calls when this test was written) */
	assert_true(calls >= 19);
}

static void test_catalogue_entries(void **state)
{
	struct td_limits lim;

	(void)state;
	rules_limits_default(&lim);
	for (size_t i = 0; i < catalogue_nfindings; i++) {
		const struct td_cat_finding *f = &catalogue_findings[i];
		assert_ptr_equal(catalogue_finding(f->id), f); /* ids unique */
		assert_non_null(f->title);
		assert_non_null(f->cause);
		assert_non_null(f->tell);
		assert_non_null(f->remedies[0]);
		assert_non_null(f->checks);
		assert_non_null(f->ref);
		assert_anchor(f->ref, f->id);
		assert_words_anchors(f->see_also, f->id);
		assert_string_equal(catalogue_ref(f->id), f->ref);
		char *s = xstrdup(f->limits ? f->limits : ""), *save = NULL;
		for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save))
			if (!rules_limit_find(&lim, t))
				fail_msg("%s: threshold '%s' does not exist", f->id, t);
		free(s);
	}
	assert_null(catalogue_finding("no-such-finding"));
	assert_null(catalogue_ref("no-such-finding"));
}

static void test_error_entries(void **state)
{
	(void)state;
	assert_true(catalogue_nerrors >= 12);
	for (size_t i = 0; i < catalogue_nerrors; i++) {
		const struct td_cat_error *e = &catalogue_errors[i];
		assert_non_null(e->message);
		assert_non_null(e->summary);
		assert_non_null(e->causes[0].cause);
		for (size_t c = 0; c < TD_CAT_CAUSES && e->causes[c].cause; c++) {
			assert_non_null(e->causes[c].tell);
			assert_non_null(e->causes[c].check);
		}
		assert_anchor(e->ref, e->message);
		/* an errno entry's message is this libc's strerror() of its number */
		if (e->name)
			assert_string_equal(strerror(e->errnum), e->message);
	}
}

/* Every key's reference and every verdict's reference is a section. */
static void test_params_refs(void **state)
{
	(void)state;
	for (size_t i = 0; i < params_count; i++) {
		const struct td_param *p = &params_table[i];
		assert_non_null(p->ref);
		assert_anchor(p->ref, p->key);
		for (size_t r = 0; r < p->nrules; r++)
			assert_anchor(p->rules[r].ref, p->key);
	}
}

/* The section table and the document agree both ways; the embedded copy is the file. */
static void test_sections_match_doc(void **state)
{
	size_t len, dl;
	char *file = read_tree_file("doc/tcp-facts.md", &len);
	const char *doc = facts_doc(&dl);

	(void)state;
	assert_int_equal(dl, len);
	assert_memory_equal(doc, file, len);
	for (size_t i = 0; i < facts_nsections; i++) {
		const struct td_section *s = &facts_sections[i];
		const char *t;
		size_t n;
		char head[200];
		assert_ptr_equal(facts_section(s->anchor), s);
		if (facts_section_text(s->anchor, &t, &n))
			fail_msg("anchor '%s' missing from doc/tcp-facts.md", s->anchor);
		int hl = snprintf(head, sizeof(head), "## %s\n", s->title);
		if ((size_t)hl > n || memcmp(t, head, (size_t)hl))
			fail_msg("section '%s': heading is not '## %s'", s->anchor, s->title);
		assert_non_null(s->source);
		assert_true(strlen(s->source) < 60); /* the ref line stays one line */
	}
	/* every <a id> of the document is in the table */
	size_t anchors = 0;
	for (const char *p = file; (p = strstr(p, "<a id=\"")); p++) {
		char a[64];
		assert_int_equal(sscanf(p, "<a id=\"%63[^\"]\"", a), 1);
		if (!facts_section(a))
			fail_msg("doc anchor '%s' is not in facts_sections", a);
		anchors++;
	}
	assert_int_equal(anchors, facts_nsections);
	/* the anchors other helpers write refs to */
	static const char *const fixed[] = { "time-wait",    "fin-wait2",     "tw-recycle",
					     "tw-reuse",     "tw-buckets",    "ephemeral-ports",
					     "timestamps",   "listen-queues", "orphans",
					     "memory",	     "keepalive",     "linger",
					     "netns-scope",  "counters",      "inet-diag",
					     "sysctl-files", "conntrack" };
	for (size_t i = 0; i < TD_ARRAY_SIZE(fixed); i++)
		if (!facts_section(fixed[i]))
			fail_msg("fixed anchor '%s' missing", fixed[i]);
	/* every test the document cites exists */
	for (const char *p = file; (p = strstr(p, "tests/")); p++) {
		char rel[128];
		size_t l;
		if (sscanf(p, "%127[a-z_/.]", rel) != 1)
			continue;
		l = strlen(rel);
		while (l && rel[l - 1] == '.')
			rel[--l] = '\0';
		if (l < 4 || strcmp(rel + l - 3, ".sh"))
			continue;
		char *t = read_tree_file(rel, &l);
		free(t);
	}
	assert_null(strstr(file, "kernel-facts"));
	free(file);
}

static void test_section_text_and_refs(void **state)
{
	const char *t;
	size_t n;
	char b[200];

	(void)state;
	assert_int_equal(facts_section_text("time-wait", &t, &n), 0);
	assert_true(n > 100);
	assert_memory_equal(t, "## TIME_WAIT", 12);
	/* the text stops before the next section's anchor */
	assert_null(memmem(t, n, "<a id=", 6));
	assert_int_equal(facts_section_text("nope", &t, &n), -ENOENT);
	assert_int_equal(facts_section_text("", &t, &n), -ENOENT);
	/* the last section ends at the end of the document */
	assert_int_equal(facts_section_text("errors", &t, &n), 0);
	assert_true(t[n - 1] != '\n');

	assert_string_equal(facts_anchor_of("tcp-facts#tw-reuse"), "tw-reuse");
	assert_string_equal(facts_anchor_of("tcp-facts.md#tw-reuse"), "tw-reuse");
	assert_string_equal(facts_anchor_of("tw-reuse"), "tw-reuse");
	assert_null(facts_anchor_of("tcp-facts#"));
	assert_null(facts_anchor_of(NULL));
	assert_string_equal(facts_ref_text("tcp-facts#tw-reuse", b, sizeof(b)),
			    "tcp-facts.md#tw-reuse (net/ipv4/tcp_ipv4.c tcp_twsk_unique())");
	assert_string_equal(facts_ref_text("RFC 9293", b, sizeof(b)), "RFC 9293");
	assert_string_equal(facts_ref_text(NULL, b, sizeof(b)), "");
	assert_string_equal(facts_ref_text("tcp-facts#tw-reuse", b, 10), "tcp-facts");
}

static bool resolves_to(const char *input, enum td_cat_kind kind, const void *entry)
{
	struct td_cat_match m[16];
	size_t n = catalogue_resolve(input, m, 16);

	for (size_t i = 0; i < n; i++)
		if (m[i].kind == kind && m[i].u.finding == entry)
			return true;
	return false;
}

/* Every name --list prints, and every message, finds its own entry. */
static void test_every_entry_resolves(void **state)
{
	char num[16];

	(void)state;
	for (size_t i = 0; i < catalogue_nfindings; i++)
		assert_true(resolves_to(catalogue_findings[i].id, TD_CAT_FINDING,
					&catalogue_findings[i]));
	for (size_t i = 0; i < params_count; i++)
		assert_true(resolves_to(params_table[i].key, TD_CAT_KEY, &params_table[i]));
	for (size_t i = 0; i < facts_nsections; i++)
		assert_true(
			resolves_to(facts_sections[i].anchor, TD_CAT_SECTION, &facts_sections[i]));
	for (size_t i = 0; i < catalogue_nerrors; i++) {
		const struct td_cat_error *e = &catalogue_errors[i];
		if (!resolves_to(e->message, TD_CAT_ERROR, e))
			fail_msg("message '%s' does not find its entry", e->message);
		if (!e->name)
			continue;
		assert_true(resolves_to(e->name, TD_CAT_ERROR, e));
		snprintf(num, sizeof(num), "%d", e->errnum);
		assert_true(resolves_to(num, TD_CAT_ERROR, e));
	}
	struct td_cat_match m[4];
	assert_int_equal(catalogue_resolve("", m, 4), 0);
	assert_int_equal(catalogue_resolve("  \"  ", m, 4), 0);
	assert_int_equal(catalogue_resolve("4095", m, 4), 0);
	assert_int_equal(catalogue_resolve(NULL, m, 4), 0);
	/* at most max matches */
	assert_int_equal(catalogue_resolve("connection", m, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_ids_in_catalogue),
		cmocka_unit_test(test_catalogue_entries),
		cmocka_unit_test(test_error_entries),
		cmocka_unit_test(test_params_refs),
		cmocka_unit_test(test_sections_match_doc),
		cmocka_unit_test(test_section_text_and_refs),
		cmocka_unit_test(test_every_entry_resolves),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
