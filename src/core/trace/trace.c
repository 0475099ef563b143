// SPDX-License-Identifier: MIT
/*
 * The aggregation behind `trace`: events from the BPF programs become rows counted by program,
 * namespace, errno and endpoints. Each event is counted once, in the row its key names, so the
 * totals are exact. CLOSE_WAIT is followed per socket: the peer's FIN opens a stay, the
 * program's close ends it, and what is still open when the rows are taken gives the age of the
 * oldest (a leak shows as a growing age and count). Needs no BPF.
 */
#include "core/trace/trace.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/hashmap.h"
#include "core/util.h"

/* A socket that entered CLOSE_WAIT: its row and when */
struct cw_stay {
	size_t row; /* index in rows */
	uint64_t since_ns;
	bool open;
};

struct row_val {
	uint64_t count, cw_open, cw_longest_ns;
	/* what the kernel counted in its own rows (trace_agg_kernel_*): totals, replaced at each
	 * reading */
	uint64_t k_count, k_left, k_longest_ns, k_oldest_since;
};

/* A connection by its 4-tuple (closers) */
struct tuple_key {
	uint32_t netns;
	uint8_t family, pad;
	uint16_t sport, dport, pad2;
	uint8_t saddr[16], daddr[16];
};

struct td_trace_agg {
	struct td_hashmap *rows;    /* struct td_trace_key -> struct row_val */
	struct td_hashmap *cw;	    /* socket address (u64) -> struct cw_stay */
	struct td_hashmap *closers; /* struct tuple_key -> struct td_trace_closer, or NULL */
	uint64_t events, folded, cw_untracked;
	size_t rows_max, rows_spare, cw_max;
	uint64_t k_events; /* the kernel rows' events, at the last reading */
};

struct td_trace_agg *trace_agg_new_bounded(size_t rows_max, size_t rows_spare, size_t cw_max)
{
	struct td_trace_agg *t = xcalloc(1, sizeof(*t));

	t->rows = hashmap_new(sizeof(struct td_trace_key), sizeof(struct row_val));
	t->cw = hashmap_new(sizeof(uint64_t), sizeof(struct cw_stay));
	t->rows_max = rows_max;
	t->rows_spare = rows_spare;
	t->cw_max = cw_max;
	return t;
}

struct td_trace_agg *trace_agg_new(void)
{
	return trace_agg_new_bounded(TD_TRACE_ROWS_MAX, TD_TRACE_ROWS_SPARE, TD_TRACE_CW_MAX);
}

uint64_t trace_agg_folded(const struct td_trace_agg *t)
{
	return t->folded;
}

uint64_t trace_agg_cw_untracked(const struct td_trace_agg *t)
{
	return t->cw_untracked;
}

void trace_agg_free(struct td_trace_agg *t)
{
	if (!t)
		return;
	hashmap_free(t->rows);
	hashmap_free(t->cw);
	hashmap_free(t->closers);
	free(t);
}

uint64_t trace_agg_events(const struct td_trace_agg *t)
{
	return t->events + t->k_events;
}

static void tuple_of(struct tuple_key *k, uint32_t netns, uint8_t family, const uint8_t *saddr,
		     uint16_t sport, const uint8_t *daddr, uint16_t dport)
{
	size_t alen = family == AF_INET ? 4 : 16;

	memset(k, 0, sizeof(*k));
	k->netns = netns;
	k->family = family;
	k->sport = sport;
	k->dport = dport;
	memcpy(k->saddr, saddr, alen);
	memcpy(k->daddr, daddr, alen);
}

void trace_agg_keep_closers(struct td_trace_agg *t)
{
	if (!t->closers)
		t->closers = hashmap_new(sizeof(struct tuple_key), sizeof(struct td_trace_closer));
}

const struct td_trace_closer *trace_agg_closer(const struct td_trace_agg *t, uint32_t netns,
					       uint8_t family, const uint8_t saddr[16],
					       uint16_t sport, const uint8_t daddr[16],
					       uint16_t dport)
{
	struct tuple_key k;

	if (!t->closers)
		return NULL;
	tuple_of(&k, netns, family, saddr, sport, daddr, dport);
	return hashmap_get(t->closers, &k);
}

size_t trace_agg_closers(const struct td_trace_agg *t)
{
	return t->closers ? hashmap_count(t->closers) : 0;
}

static void keep_closer(struct td_trace_agg *t, const struct td_trace_event *e)
{
	struct td_trace_closer *c;
	struct tuple_key k;

	if (!t->closers || !e->pid)
		return;
	tuple_of(&k, e->netns, e->family, e->saddr, e->sport, e->daddr, e->dport);
	if (hashmap_count(t->closers) >= TD_TRACE_CLOSERS_MAX && !hashmap_get(t->closers, &k))
		return; /* bounded: the oldest kept, the rest stay inferred */
	c = hashmap_put(t->closers, &k, NULL);
	c->pid = e->pid;
	memcpy(c->comm, e->comm, sizeof(c->comm));
	c->comm[sizeof(c->comm) - 1] = '\0';
}

static enum td_trace_section kind_section(uint8_t kind)
{
	switch (kind) {
	case TD_EV_CONNECT_FAIL:
	case TD_EV_BIND_FAIL:
		return TD_TRACE_FAILURES;
	case TD_EV_RESET_RECV:
	case TD_EV_RESET_SENT:
		return TD_TRACE_RESETS;
	case TD_EV_CLOSE_LOCAL:
	case TD_EV_CLOSE_PEER:
		return TD_TRACE_CLOSES;
	case TD_TRACE_KIND_CW:
		return TD_TRACE_CLOSE_WAIT;
	}
	return TD_TRACE_SECTIONS;
}

/* The key an event is counted under (see struct td_trace_key for which fields are kept) */
static void event_key(const struct td_trace_event *e, uint8_t kind, struct td_trace_key *k)
{
	memset(k, 0, sizeof(*k));
	k->kind = kind;
	k->netns = e->netns;
	k->pid = e->pid;
	k->family = e->family;
	memcpy(k->comm, e->comm, sizeof(k->comm));
	k->comm[sizeof(k->comm) - 1] = '\0';
	memcpy(k->saddr, e->saddr, sizeof(k->saddr));
	memcpy(k->daddr, e->daddr, sizeof(k->daddr));
	if (e->family == AF_INET) { /* only the first 4 bytes mean anything */
		memset(k->saddr + 4, 0, 12);
		memset(k->daddr + 4, 0, 12);
	}
	switch (kind) {
	case TD_EV_CONNECT_FAIL:
		k->err = e->err;
		k->dport = e->dport;
		break;
	case TD_EV_BIND_FAIL:
		k->err = e->err;
		k->sport = e->sport;
		memset(k->daddr, 0, sizeof(k->daddr));
		break;
	default:
		k->detail = kind == TD_EV_RESET_SENT ? e->detail : 0;
		if (e->role == TD_ROLE_ACCEPTED || e->role == TD_ROLE_BOUND)
			k->sport = e->sport;
		else
			k->dport = e->dport;
		break;
	}
}

/* A full table: a new key loses its program, then its endpoints (see TD_TRACE_ROWS_MAX). */
static void fold_key(struct td_trace_agg *t, struct td_trace_key *k)
{
	size_t n = hashmap_count(t->rows);

	if (n < t->rows_max || hashmap_get(t->rows, k))
		return;
	t->folded++;
	k->pid = 0;
	memset(k->comm, 0, sizeof(k->comm));
	if (n < t->rows_max + t->rows_spare || hashmap_get(t->rows, k))
		return;
	k->sport = k->dport = 0;
	memset(k->saddr, 0, sizeof(k->saddr));
	memset(k->daddr, 0, sizeof(k->daddr));
}

static struct row_val *count_row(struct td_trace_agg *t, const struct td_trace_event *e,
				 uint8_t kind, size_t *idx)
{
	struct td_trace_key k;
	struct row_val *v;

	event_key(e, kind, &k);
	fold_key(t, &k);
	v = hashmap_put(t->rows, &k, NULL);
	v->count++;
	if (idx)
		*idx = (size_t)hashmap_index(t->rows, &k);
	return v;
}

static void cw_leave(struct td_trace_agg *t, const struct td_trace_event *e)
{
	struct cw_stay *s = hashmap_get(t->cw, &e->sk);
	struct row_val *v;

	if (!s || !s->open)
		return; /* entered before the trace began */
	s->open = false;
	v = hashmap_val_at(t->rows, s->row);
	v->cw_open--;
	if (e->ts_ns > s->since_ns && e->ts_ns - s->since_ns > v->cw_longest_ns)
		v->cw_longest_ns = e->ts_ns - s->since_ns;
}

/* The CLOSE_WAIT stays map is full: keep only the open stays (the ones that ended are done).
 * Returns whether a new socket has room now. */
static bool cw_compact(struct td_trace_agg *t)
{
	struct td_hashmap *m = hashmap_new(sizeof(uint64_t), sizeof(struct cw_stay));

	for (size_t i = 0, n = hashmap_count(t->cw); i < n; i++) {
		const struct cw_stay *s = hashmap_val_at(t->cw, i);
		if (s->open)
			*(struct cw_stay *)hashmap_put(m, hashmap_key_at(t->cw, i), NULL) = *s;
	}
	hashmap_free(t->cw);
	t->cw = m;
	return hashmap_count(m) < t->cw_max;
}

/* A socket entered CLOSE_WAIT (counted in row idx, whose value is v): follow its stay. */
static void cw_enter(struct td_trace_agg *t, const struct td_trace_event *e, size_t idx,
		     struct row_val *v)
{
	struct cw_stay *s = hashmap_get(t->cw, &e->sk);

	if (!s && hashmap_count(t->cw) >= t->cw_max && !cw_compact(t)) {
		t->cw_untracked++; /* counted, not aged */
		return;
	}
	s = hashmap_put(t->cw, &e->sk, NULL);
	if (s->open) { /* the socket's address came back without our seeing it leave */
		struct row_val *old = hashmap_val_at(t->rows, s->row);
		old->cw_open--;
	}
	v->cw_open++;
	*s = (struct cw_stay){ .row = idx, .since_ns = e->ts_ns, .open = true };
}

int trace_agg_add(struct td_trace_agg *t, const struct td_trace_event *e)
{
	struct row_val *v;
	size_t idx;

	if (e->kind == TD_EV_CW_LEAVE) {
		t->events++;
		cw_leave(t, e);
		return 0;
	}
	if (kind_section(e->kind) == TD_TRACE_SECTIONS || e->kind == TD_TRACE_KIND_CW)
		return -EINVAL;
	t->events++;
	count_row(t, e, e->kind, NULL);
	if (e->kind == TD_EV_CLOSE_LOCAL)
		keep_closer(t, e);
	if (e->kind != TD_EV_CLOSE_PEER)
		return 0;
	v = count_row(t, e, TD_TRACE_KIND_CW, &idx);
	cw_enter(t, e, idx, v);
	return 0;
}

void trace_agg_kernel_begin(struct td_trace_agg *t)
{
	for (size_t i = 0, n = hashmap_count(t->rows); i < n; i++) {
		struct row_val *v = hashmap_val_at(t->rows, i);

		v->k_count = v->k_left = v->k_longest_ns = 0;
	}
	t->k_events = 0;
}

void trace_agg_kernel_stays_begin(struct td_trace_agg *t)
{
	for (size_t i = 0, n = hashmap_count(t->rows); i < n; i++)
		((struct row_val *)hashmap_val_at(t->rows, i))->k_oldest_since = 0;
}

void trace_agg_kernel_row(struct td_trace_agg *t, const struct td_trace_event *e, uint64_t count,
			  uint64_t left, uint64_t longest_ns)
{
	struct td_trace_key k;
	struct row_val *v;

	if (e->kind != TD_EV_CLOSE_LOCAL && e->kind != TD_EV_CLOSE_PEER)
		return;
	event_key(e, e->kind, &k);
	v = hashmap_put(t->rows, &k, NULL);
	v->k_count += count;
	t->k_events += count;
	if (e->kind != TD_EV_CLOSE_PEER)
		return;
	event_key(e, TD_TRACE_KIND_CW, &k);
	v = hashmap_put(t->rows, &k, NULL);
	v->k_count += count;
	v->k_left += left;
	if (longest_ns > v->k_longest_ns)
		v->k_longest_ns = longest_ns;
	t->k_events += left;
}

void trace_agg_kernel_stay(struct td_trace_agg *t, const struct td_trace_event *e,
			   uint64_t since_ns)
{
	struct td_trace_key k;
	struct row_val *v;

	event_key(e, TD_TRACE_KIND_CW, &k);
	v = hashmap_get(t->rows, &k);
	if (v && since_ns && (!v->k_oldest_since || since_ns < v->k_oldest_since))
		v->k_oldest_since = since_ns;
}

static int row_cmp(const void *a, const void *b)
{
	const struct td_trace_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return memcmp(&x->k, &y->k, sizeof(x->k));
}

struct td_trace_row *trace_agg_rows(const struct td_trace_agg *t, enum td_trace_section sec,
				    uint64_t now_ns, size_t *n)
{
	size_t nrows = hashmap_count(t->rows), m = 0;
	struct td_trace_row *out = xcalloc(nrows ? nrows : 1, sizeof(*out));
	/* row index -> place in out, for the CLOSE_WAIT ages */
	size_t *at = xcalloc(nrows ? nrows : 1, sizeof(*at));

	*n = 0;
	for (size_t i = 0; i < nrows; i++) {
		const struct td_trace_key *k = hashmap_key_at(t->rows, i);
		const struct row_val *v = hashmap_val_at(t->rows, i);

		if (kind_section(k->kind) != sec || !(v->count + v->k_count))
			continue;
		out[m] = (struct td_trace_row){ .k = *k,
						.count = v->count + v->k_count,
						.cw_open = v->cw_open,
						.cw_longest_ns = v->cw_longest_ns };
		if (v->k_count > v->k_left) /* a reading between two CPUs' counts: never below 0 */
			out[m].cw_open += v->k_count - v->k_left;
		if (v->k_longest_ns > out[m].cw_longest_ns)
			out[m].cw_longest_ns = v->k_longest_ns;
		if (v->k_count > v->k_left && v->k_oldest_since && now_ns > v->k_oldest_since)
			out[m].cw_oldest_ns = now_ns - v->k_oldest_since;
		at[i] = m++;
	}
	if (sec == TD_TRACE_CLOSE_WAIT) {
		for (size_t i = 0, ns = hashmap_count(t->cw); i < ns; i++) {
			const struct cw_stay *s = hashmap_val_at(t->cw, i);
			struct td_trace_row *r;

			if (!s->open)
				continue;
			r = &out[at[s->row]];
			if (now_ns > s->since_ns && now_ns - s->since_ns > r->cw_oldest_ns)
				r->cw_oldest_ns = now_ns - s->since_ns;
		}
	}
	free(at);
	if (!m) {
		free(out);
		return NULL;
	}
	qsort(out, m, sizeof(*out), row_cmp);
	*n = m;
	return out;
}

const char *trace_section_name(enum td_trace_section s)
{
	static const char *const names[] = { "failures", "resets", "closes", "close_wait" };

	return s < TD_TRACE_SECTIONS ? names[s] : NULL;
}

const char *trace_syscall_name(uint8_t kind)
{
	return kind == TD_EV_CONNECT_FAIL ? "connect" : kind == TD_EV_BIND_FAIL ? "bind" : NULL;
}

const char *trace_reset_dir(uint8_t kind)
{
	return kind == TD_EV_RESET_RECV ? "received" : kind == TD_EV_RESET_SENT ? "sent" : NULL;
}

const char *trace_reset_cause(uint8_t kind, uint8_t detail)
{
	static const char *const causes[TD_RST_MAX] = {
		[TD_RST_OTHER] = "other",	 [TD_RST_LINGER0] = "linger0",
		[TD_RST_UNREAD] = "unread-data", [TD_RST_MEMORY] = "memory",
		[TD_RST_TIMEOUT] = "timeout",	 [TD_RST_REPLY] = "reply",
	};

	if (kind == TD_EV_RESET_RECV)
		return "peer";
	if (kind != TD_EV_RESET_SENT)
		return NULL;
	return detail < TD_RST_MAX ? causes[detail] : "other";
}

const char *trace_close_first(uint8_t kind)
{
	return kind == TD_EV_CLOSE_LOCAL ? "local" : kind == TD_EV_CLOSE_PEER ? "peer" : NULL;
}

char *trace_endpoint_str(uint8_t family, const uint8_t addr[16], uint16_t port, char *buf,
			 size_t len)
{
	char a[64];

	trace_addr_str(family, addr, a, sizeof(a));
	if (!port)
		snprintf(buf, len, "%s", *a ? a : "*");
	else if (family == AF_INET6 && *a)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", *a ? a : "*", port);
	return buf;
}

char *trace_addr_str(uint8_t family, const uint8_t addr[16], char *buf, size_t len)
{
	static const uint8_t zero[16];

	buf[0] = '\0';
	if (!memcmp(addr, zero, family == AF_INET ? 4 : 16) ||
	    !inet_ntop(family == AF_INET ? AF_INET : AF_INET6, addr, buf, (socklen_t)len))
		buf[0] = '\0';
	return buf;
}
