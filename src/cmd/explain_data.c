// SPDX-License-Identifier: MIT
/*
 * The words and the JSON of `tcpdoctor explain`: how a sysctl key's value shape, default per
 * kernel version and verdict conditions read, and one JSON object per kind of entry (finding,
 * key, error, section), all built from the catalogue, the params table and the section table.
 */
#include "cmd/explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rules/catalogue.h"
#include "core/rules/facts.h"
#include "core/sysctl/params.h"
#include "core/rules/rules.h"
#include "core/util.h"

static json_t *words_json(const char *list)
{
	json_t *a = json_array();
	char *s = xstrdup(list ? list : ""), *save = NULL;

	for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save))
		json_array_append_new(a, json_string(t));
	free(s);
	return a;
}

static json_t *ref_json(json_t *o, const char *ref)
{
	const struct td_section *s = facts_section(ref);

	json_object_set_new(o, "ref", ref ? json_string(ref) : json_null());
	json_object_set_new(o, "ref_source", s ? json_string(s->source) : json_null());
	return o;
}

static json_t *finding_json(const struct td_cat_finding *f)
{
	json_t *o = json_object(), *rem = json_array(), *th = json_array();
	struct td_limits lim;
	char *s = xstrdup(f->limits ? f->limits : ""), *save = NULL;

	rules_limits_default(&lim);
	json_object_set_new(o, "kind", json_string("finding"));
	json_object_set_new(o, "id", json_string(f->id));
	json_object_set_new(o, "title", json_string(f->title));
	json_object_set_new(o, "cause", json_string(f->cause));
	json_object_set_new(o, "fires", json_string(f->tell));
	for (size_t i = 0; i < TD_CAT_REMEDIES && f->remedies[i]; i++)
		json_array_append_new(rem, json_string(f->remedies[i]));
	json_object_set_new(o, "remedies", rem);
	for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		const struct td_limit *l = rules_limit_find(&lim, t);
		if (l)
			json_array_append_new(th, json_pack("{s:s, s:f, s:f, s:s}", "name", l->name,
							    "warn", l->warn, "crit", l->crit,
							    "help", l->help));
	}
	free(s);
	json_object_set_new(o, "thresholds", th);
	json_object_set_new(o, "checks", json_string(f->checks));
	json_object_set_new(o, "see_also", words_json(f->see_also));
	return ref_json(o, f->ref);
}

const char *explain_kv(unsigned kv, char *b, size_t l)
{
	snprintf(b, l, "%u.%u", kv / 1000, kv % 1000);
	return b;
}

void explain_shape(const struct td_param *p, char *b, size_t l)
{
	static const char *const shapes[] = {
		[TD_SHAPE_INT] = "one integer",
		[TD_SHAPE_CHOICE] = "one integer",
		[TD_SHAPE_TRIPLE] = "three integers",
		[TD_SHAPE_RANGE] = "two port numbers: low high",
		[TD_SHAPE_PORTLIST] =
			"ports and ranges, comma-separated (8080,9000-9010), or empty",
		[TD_SHAPE_STRING] = "a word",
	};
	int n = snprintf(b, l, "%s", shapes[p->shape]);

	if (p->shape == TD_SHAPE_CHOICE)
		snprintf(b + n, l - (size_t)n, " from %lld to %lld", (long long)p->min,
			 (long long)p->max);
	else if (p->enforced)
		snprintf(b + n, l - (size_t)n, "; the kernel rejects values outside %lld..%lld",
			 (long long)p->min, (long long)p->max);
}

void explain_default(const struct td_param *p, char *b, size_t l)
{
	char v[16];
	size_t o = 0;

	switch (p->defkind) {
	case TD_DEF_EHASH_HALF:
		snprintf(b, l, "half the TCP established-hash size (tcp_ehash_entries / 2)");
		return;
	case TD_DEF_EHASH_128:
		snprintf(b, l, "the larger of 128 and the established-hash size / 128");
		return;
	case TD_DEF_MEMORY:
		snprintf(b, l, "computed from the memory at boot");
		return;
	case TD_DEF_INHERITED:
		snprintf(b, l,
			 "copied from the initial namespace's value when a namespace is made");
		return;
	case TD_DEF_FIXED:
		break;
	}
	b[0] = '\0';
	for (size_t i = 0; i < TD_ARRAY_SIZE(p->defaults) && p->defaults[i].value && o < l; i++) {
		const char *val = *p->defaults[i].value ? p->defaults[i].value : "(empty)";
		bool more = i + 1 < TD_ARRAY_SIZE(p->defaults) && p->defaults[i + 1].value;
		o += (size_t)snprintf(b + o, l - o, "%s%s", o ? ", " : "", val);
		if (p->defaults[i].since && o < l)
			o += (size_t)snprintf(b + o, l - o, " from %s",
					      explain_kv(p->defaults[i].since, v, sizeof(v)));
		if (more && o < l)
			o += (size_t)snprintf(b + o, l - o, " before %s",
					      explain_kv(p->defaults[i + 1].since, v, sizeof(v)));
	}
}

void explain_rule_when(const struct td_rule *r, char *b, size_t l)
{
	long long a = (long long)r->arg;

	switch (r->op) {
	case TD_ROP_EQ:
		snprintf(b, l, "= %lld", a);
		break;
	case TD_ROP_NE:
		snprintf(b, l, "not %lld", a);
		break;
	case TD_ROP_LT:
		snprintf(b, l, "< %lld", a);
		break;
	case TD_ROP_GT:
		snprintf(b, l, "> %lld", a);
		break;
	case TD_ROP_BELOW_DEFAULT:
		snprintf(b, l, "below the default");
		break;
	case TD_ROP_ABOVE_DEFAULT:
		snprintf(b, l, "above the default");
		break;
	case TD_ROP_NOT_DEFAULT:
		snprintf(b, l, "not the default");
		break;
	}
}

static json_t *key_json(const struct td_param *p)
{
	json_t *o = json_object(), *defs = json_array(), *rules = json_array();
	char b[400], v[16];

	json_object_set_new(o, "kind", json_string("key"));
	json_object_set_new(o, "key", json_string(p->key));
	json_object_set_new(o, "meaning", json_string(p->meaning));
	json_object_set_new(o, "scope",
			    json_string(p->scope == TD_SCOPE_GLOBAL ? "global" : "netns"));
	explain_shape(p, b, sizeof(b));
	json_object_set_new(o, "value", json_string(b));
	explain_default(p, b, sizeof(b));
	json_object_set_new(o, "default", json_string(b));
	for (size_t i = 0;
	     p->defkind == TD_DEF_FIXED && i < TD_ARRAY_SIZE(p->defaults) && p->defaults[i].value;
	     i++)
		json_array_append_new(
			defs, json_pack("{s:s?, s:s}", "since",
					p->defaults[i].since
						? explain_kv(p->defaults[i].since, v, sizeof(v))
						: NULL,
					"value", p->defaults[i].value));
	json_object_set_new(o, "defaults", defs);
	json_object_set_new(o, "added",
			    p->added ? json_string(explain_kv(p->added, v, sizeof(v)))
				     : json_null());
	json_object_set_new(o, "removed",
			    p->removed ? json_string(explain_kv(p->removed, v, sizeof(v)))
				       : json_null());
	json_object_set_new(o, "history", json_string(p->history));
	for (size_t i = 0; i < p->nrules; i++) {
		const struct td_rule *r = &p->rules[i];
		explain_rule_when(r, b, sizeof(b));
		json_array_append_new(rules,
				      json_pack("{s:s, s:s, s:s, s:s, s:s?}", "when", b, "severity",
						params_sev_name(r->sev), "message", r->message,
						"reason", r->reason, "ref", r->ref));
	}
	json_object_set_new(o, "verdicts", rules);
	return ref_json(o, p->ref);
}

static json_t *error_json(const struct td_cat_error *e)
{
	json_t *o = json_object(), *c = json_array();

	json_object_set_new(o, "kind", json_string("error"));
	json_object_set_new(o, "name", e->name ? json_string(e->name) : json_null());
	json_object_set_new(o, "errno", e->errnum ? json_integer(e->errnum) : json_null());
	json_object_set_new(o, "message", json_string(e->message));
	json_object_set_new(o, "summary", json_string(e->summary));
	for (size_t i = 0; i < TD_CAT_CAUSES && e->causes[i].cause; i++)
		json_array_append_new(c, json_pack("{s:s, s:s, s:s}", "cause", e->causes[i].cause,
						   "tell", e->causes[i].tell, "check",
						   e->causes[i].check));
	json_object_set_new(o, "causes", c);
	return ref_json(o, e->ref);
}

static json_t *section_json(const struct td_section *s)
{
	json_t *o = json_object();
	const char *t;
	size_t n;

	json_object_set_new(o, "kind", json_string("section"));
	json_object_set_new(o, "anchor", json_string(s->anchor));
	json_object_set_new(o, "title", json_string(s->title));
	json_object_set_new(o, "source", json_string(s->source));
	json_object_set_new(o, "text",
			    facts_section_text(s->anchor, &t, &n) == 0 ? json_stringn(t, n)
								       : json_null());
	return o;
}

json_t *explain_match_json(const struct td_cat_match *m)
{
	switch (m->kind) {
	case TD_CAT_FINDING:
		return finding_json(m->u.finding);
	case TD_CAT_KEY:
		return key_json(m->u.key);
	case TD_CAT_ERROR:
		return error_json(m->u.error);
	case TD_CAT_SECTION:
		return section_json(m->u.section);
	}
	return json_null();
}

const char *explain_check_words(const struct td_param *p)
{
	if (!p->check)
		return NULL;
	if (p->shape == TD_SHAPE_RANGE)
		return "the ends' order, ip_unprivileged_port_start, their parity, and a low end "
		       "below 32768 (overlap with service ports)";
	if (p->defkind == TD_DEF_MEMORY)
		return "min <= pressure <= max, and max against this host's RAM";
	return "min <= default <= max";
}
