/* SPDX-License-Identifier: MIT */
/*
 * What the rule unit tests share: a model of one namespace with a record's "key=value" sysctls,
 * its evaluation (which fails the test when a rule dropped a remedy past TD_REMEDIES_MAX: a
 * finding's last remedies must never vanish silently), and look-ups of a finding by id and of an
 * evidence value by key. Include after <cmocka.h>.
 */
#ifndef TD_TESTS_RULECHECK_H
#define TD_TESTS_RULECHECK_H

#include <string.h>

#include "core/model/model.h"
#include "core/rules/rules.h"
#include "core/util.h"

static inline struct td_model *rc_model(const char *meta)
{
	struct td_model *m = xcalloc(1, sizeof(*m));

	m->n = 1;
	m->ns = xcalloc(1, sizeof(*m->ns));
	m->ns[0].name = xstrdup("");
	m->ns[0].meta = xstrdup(meta);
	return m;
}

static inline void rc_eval(struct td_model *m, const struct td_limits *lim, struct td_findings *f)
{
	memset(f, 0, sizeof(*f));
	rules_evaluate(m, lim, f);
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].nrem_dropped)
			fail_msg("%s: %zu remedies past TD_REMEDIES_MAX dropped", f->v[i].id,
				 f->v[i].nrem_dropped);
}

/* The first finding with this id, or NULL. */
static inline const struct td_finding *rc_find(const struct td_findings *f, const char *id)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].id, id))
			return &f->v[i];
	return NULL;
}

/* The evidence of x under key, or NULL. */
static inline const struct td_evidence *rc_evidence(const struct td_finding *x, const char *key)
{
	for (size_t i = 0; i < x->nev; i++)
		if (!strcmp(x->ev[i].key, key))
			return &x->ev[i];
	return NULL;
}

#endif
