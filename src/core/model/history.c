// SPDX-License-Identifier: MIT
/*
 * Sample rings and rates for `watch` (see history.h for what created/expired mean and why they
 * are estimates). A ring is a fixed array written round-robin, so a long-running watch keeps
 * constant memory; the set keeps one ring per namespace name so that a namespace keeps its
 * sparkline while others come and go under -N all.
 */
#include "core/model/history.h"

#include <stdlib.h>
#include <string.h>

#include "core/model/census.h"
#include "core/model/counters.h"
#include "core/model/model.h"
#include "core/util.h"

struct td_history {
	struct td_sample *v;
	size_t cap, len, head; /* head: where the next sample goes */
};

struct hist_ns {
	char *name;
	struct td_history *h;
};

struct td_history_set {
	size_t cap;
	struct td_history *total;
	struct hist_ns *ns;
	size_t n;
};

static const enum counters_id hist_counter_ids[TD_HC_COUNT] = {
	[TD_HC_ACTIVE_OPENS] = COUNTERS_ACTIVE_OPENS,
	[TD_HC_PASSIVE_OPENS] = COUNTERS_PASSIVE_OPENS,
	[TD_HC_TW] = COUNTERS_TW,
	[TD_HC_TW_KILLED] = COUNTERS_TW_KILLED,
};

void history_sample_of_ns(const struct td_ns_model *ns, uint64_t t_ns, struct td_sample *s)
{
	const struct td_counters *c = ns->c1 ? ns->c1 : ns->c0;

	memset(s, 0, sizeof(*s));
	s->t_ns = t_ns;
	for (unsigned st = 0; st < TD_SS_COUNT; st++)
		s->n[st] = census_state_total(&ns->census, st);
	s->fw2_orphans = ns->fw2_orphans;
	s->have_counters = c != NULL;
	for (unsigned i = 0; c && i < TD_HC_COUNT; i++)
		if (counters_value(c, hist_counter_ids[i], &s->c[i]))
			s->have_counters = false;
}

void history_sample_add(struct td_sample *a, const struct td_sample *b)
{
	for (unsigned st = 0; st < TD_SS_COUNT; st++)
		a->n[st] += b->n[st];
	a->fw2_orphans += b->fw2_orphans;
	a->have_counters = a->have_counters && b->have_counters;
	for (unsigned i = 0; i < TD_HC_COUNT; i++)
		a->c[i] += b->c[i];
}

static double per_s(uint64_t before, uint64_t after, double dt)
{
	return ((double)after - (double)before) / dt;
}

void history_rates(const struct td_sample *prev, const struct td_sample *cur, struct td_rates *r)
{
	memset(r, 0, sizeof(*r));
	if (cur->t_ns <= prev->t_ns)
		return;
	double dt = (double)(cur->t_ns - prev->t_ns) / 1e9;
	r->dt_s = dt;
	for (unsigned st = 1; st < TD_SS_COUNT; st++)
		r->state[st] = per_s(prev->n[st], cur->n[st], dt);
	r->have_counters = prev->have_counters && cur->have_counters;
	for (unsigned i = 0; r->have_counters && i < TD_HC_COUNT; i++)
		if (cur->c[i] < prev->c[i])
			r->have_counters = false; /* a reset: a recreated namespace, not negative */
	if (!r->have_counters)
		return;
	r->active_opens = per_s(prev->c[TD_HC_ACTIVE_OPENS], cur->c[TD_HC_ACTIVE_OPENS], dt);
	r->passive_opens = per_s(prev->c[TD_HC_PASSIVE_OPENS], cur->c[TD_HC_PASSIVE_OPENS], dt);
	double created = (double)(cur->c[TD_HC_TW] - prev->c[TD_HC_TW]) +
			 (double)(cur->c[TD_HC_TW_KILLED] - prev->c[TD_HC_TW_KILLED]);
	double change = ((double)cur->n[TD_SS_TIME_WAIT] + (double)cur->fw2_orphans) -
			((double)prev->n[TD_SS_TIME_WAIT] + (double)prev->fw2_orphans);
	double expired = created - change;
	r->tw_created = created / dt;
	/* a dump is not a snapshot: a sample can see a socket the counters have not yet */
	r->tw_expired = expired > 0 ? expired / dt : 0;
}

struct td_history *history_new(size_t cap)
{
	struct td_history *h = xcalloc(1, sizeof(*h));

	h->cap = cap ? cap : 1;
	h->v = xcalloc(h->cap, sizeof(*h->v));
	return h;
}

void history_free(struct td_history *h)
{
	if (!h)
		return;
	free(h->v);
	free(h);
}

void history_push(struct td_history *h, const struct td_sample *s)
{
	h->v[h->head] = *s;
	h->head = (h->head + 1) % h->cap;
	if (h->len < h->cap)
		h->len++;
}

size_t history_len(const struct td_history *h)
{
	return h->len;
}

const struct td_sample *history_at(const struct td_history *h, size_t i)
{
	if (i >= h->len)
		return NULL;
	/* the oldest sits at head once the ring has wrapped, at 0 before */
	size_t oldest = h->len < h->cap ? 0 : h->head;
	return &h->v[(oldest + i) % h->cap];
}

void history_last_rates(const struct td_history *h, struct td_rates *r)
{
	if (h->len < 2) {
		memset(r, 0, sizeof(*r));
		return;
	}
	history_rates(history_at(h, h->len - 2), history_at(h, h->len - 1), r);
}

size_t history_series(const struct td_history *h, unsigned state, size_t max, uint64_t *out)
{
	size_t n = h->len < max ? h->len : max;

	for (size_t i = 0; i < n; i++) {
		const struct td_sample *s = history_at(h, h->len - n + i);
		out[i] = state < TD_SS_COUNT ? s->n[state] : s->n[TD_SS_TIME_WAIT] + s->fw2_orphans;
	}
	return n;
}

unsigned history_level(uint64_t v, uint64_t max, unsigned levels)
{
	if (levels < 2 || v == 0)
		return 0;
	if (v >= max)
		return levels - 1;
	/* ceil(v * (levels - 1) / max), in 128 bits: v * (levels - 1) can pass 2^64 */
	unsigned __int128 num = (unsigned __int128)v * (levels - 1);
	return (unsigned)((num + max - 1) / max);
}

struct td_history_set *history_set_new(size_t cap)
{
	struct td_history_set *hs = xcalloc(1, sizeof(*hs));

	hs->cap = cap;
	hs->total = history_new(cap);
	return hs;
}

void history_set_free(struct td_history_set *hs)
{
	if (!hs)
		return;
	for (size_t i = 0; i < hs->n; i++) {
		free(hs->ns[i].name);
		history_free(hs->ns[i].h);
	}
	free(hs->ns);
	history_free(hs->total);
	free(hs);
}

static struct td_history *set_take(struct hist_ns *old, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (old[i].h && !strcmp(old[i].name, name)) {
			struct td_history *h = old[i].h;
			old[i].h = NULL;
			return h;
		}
	return NULL;
}

void history_set_update(struct td_history_set *hs, const struct td_model *m, uint64_t t_ns)
{
	struct hist_ns *old = hs->ns;
	size_t nold = hs->n;
	struct td_sample total = { .t_ns = t_ns, .have_counters = m->n > 0 };

	/* rebuilt in the model's order, reusing the ring of every name seen before */
	hs->ns = xcalloc(m->n ? m->n : 1, sizeof(*hs->ns));
	hs->n = m->n;
	for (size_t i = 0; i < m->n; i++) {
		struct td_sample s;
		struct td_history *h = set_take(old, nold, m->ns[i].name);
		hs->ns[i].name = xstrdup(m->ns[i].name);
		hs->ns[i].h = h ? h : history_new(hs->cap);
		history_sample_of_ns(&m->ns[i], t_ns, &s);
		history_push(hs->ns[i].h, &s);
		history_sample_add(&total, &s);
	}
	for (size_t i = 0; i < nold; i++) {
		free(old[i].name);
		history_free(old[i].h);
	}
	free(old);
	history_push(hs->total, &total);
}

const struct td_history *history_set_total(const struct td_history_set *hs)
{
	return hs->total;
}

const struct td_history *history_set_find(const struct td_history_set *hs, const char *name)
{
	for (size_t i = 0; i < hs->n; i++)
		if (!strcmp(hs->ns[i].name, name))
			return hs->ns[i].h;
	return NULL;
}
