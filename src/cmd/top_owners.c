// SPDX-License-Identifier: MIT
/*
 * `top --by process`'s attribution (top_owners.h): the owners thread, the records it looks up,
 * and the end of the run, where the looked-up and the inferred holders become groups. A record
 * is 16 bytes (and a client-side one 48 more for its destination), kept in blocks that never
 * move (top_blocks.h: the owners thread reads them while the main thread appends), so 100,000
 * sockets hold 1.6 to 4 MB until the run ends.
 */
#include "cmd/top_owners.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/top_blocks.h"
#include "core/hashmap.h"
#include "core/util.h"

/* A socket with an inode, waiting for its holder. */
struct held {
	uint64_t inode;
	int32_t proc; /* written by the lookup: the holder's index in the table, -1 for none */
	uint8_t state, side, wanted;
	uint8_t shared; /* written by the lookup: several processes hold it */
};

#define PUBLISH_RECS 1024 /* hand records to the owners thread this many at a time */

struct listener_key {
	uint32_t ns;
	uint32_t port;
};

struct listener {
	struct listener_key k;
	uint64_t inode;
};

/* A client-side socket with an inode: its destination, in case sockets without an inode to the
 * same one need an owner inferred (known only when the dump ends). */
struct client {
	struct td_group_key k; /* TD_BY_DEST */
	uint32_t rec;	       /* its record */
};

struct top_owners {
	/* the owners thread's; the main thread reads them after joining it */
	struct td_owners *owners;
	struct td_owners_stats st;
	int scan_rc;
	/* shared, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t published; /* records the owners thread may look up */
	bool finished;	  /* no more records come */
	/* the main thread's */
	bool threaded, joined;
	pthread_t thr;
	struct top_blocks held; /* struct held; .first is set before the first publish */
	struct listener *lis;
	size_t nlis;
	struct top_blocks cli;	    /* struct client */
	struct td_hashmap *pending; /* TD_BY_DEST key -> uint64_t[TD_SS_COUNT], client side
				     * without an inode */
	struct td_hashmap *srv;	    /* struct listener_key -> uint64_t[TD_SS_COUNT] */
	uint64_t none[TD_SIDE_COUNT][TD_SS_COUNT]; /* without inode and without a guess: pid 0 */
};

/* Looks up the next n records, from the cursor on. */
static void lookup(const struct td_owners *o, struct top_blocks_cur *cur, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct held *h = top_blocks_next(cur, sizeof(*h));
		unsigned nh = 0;
		const struct td_owner_proc *p = owners_lookup(o, h->inode, &nh);
		h->proc = p ? (int32_t)owners_proc_index(o, p) : -1;
		h->shared = nh > 1;
	}
}

static void *owners_thread(void *arg)
{
	struct top_owners *a = arg;
	struct top_blocks_cur cur = { 0 };
	size_t done = 0;

	a->scan_rc = owners_scan(&a->owners, &a->st);
	if (a->scan_rc)
		return NULL; /* the main thread reports it after joining */
	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (a->published == done && !a->finished)
			pthread_cond_wait(&a->cv, &a->mu);
		size_t n = a->published;
		bool fin = a->finished; /* read with n: then n is the last count */
		if (n && !cur.blk)
			cur = top_blocks_begin(&a->held);
		pthread_mutex_unlock(&a->mu);
		lookup(a->owners, &cur, n - done);
		done = n;
		if (fin)
			return NULL;
		pthread_mutex_lock(&a->mu);
	}
}

static bool want_thread(void)
{
	const char *v = getenv("TD_OWNERS_THREAD");

	return !v || strcmp(v, "0");
}

int top_owners_start(struct top_owners **out)
{
	struct top_owners *a = xcalloc(1, sizeof(*a));
	int r;

	*out = NULL;
	top_blocks_init(&a->held, sizeof(struct held));
	top_blocks_init(&a->cli, sizeof(struct client));
	a->pending = hashmap_new(sizeof(struct td_group_key), TD_SS_COUNT * sizeof(uint64_t));
	a->srv = hashmap_new(sizeof(struct listener_key), TD_SS_COUNT * sizeof(uint64_t));
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	if (want_thread()) {
		/* Signals stay with the main thread: the scan cannot be interrupted, the dump can. */
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		a->threaded = !pthread_create(&a->thr, NULL, owners_thread, a);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	/* without a thread (not wanted, or none to be had) the table comes first */
	if (!a->threaded && (r = owners_scan(&a->owners, &a->st))) {
		top_owners_free(a);
		return r;
	}
	*out = a;
	return 0;
}

void top_owners_listener(struct top_owners *a, uint32_t ns, uint16_t port, uint64_t inode)
{
	a->lis = xrealloc(a->lis, (a->nlis + 1) * sizeof(*a->lis));
	a->lis[a->nlis++] = (struct listener){ { ns, port }, inode };
}

static void publish(struct top_owners *a, bool finished)
{
	pthread_mutex_lock(&a->mu);
	a->published = a->held.n;
	a->finished = finished;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

static void hold(struct top_owners *a, const struct td_sock *sk, enum td_side side, bool wanted)
{
	if (side == TD_SIDE_CLIENT) {
		struct client *c = top_blocks_push(&a->cli);
		groups_key_of(TD_BY_DEST, sk, 0, &c->k);
		c->rec = (uint32_t)a->held.n;
	}
	*(struct held *)top_blocks_push(&a->held) = (struct held){
		.inode = sk->inode,
		.state = sk->state < TD_SS_COUNT ? sk->state : TD_SS_UNKNOWN,
		.side = (uint8_t)side,
		.wanted = wanted,
	};
	if (a->held.n % PUBLISH_RECS == 0 && a->threaded)
		publish(a, false);
}

void top_owners_sock(struct top_owners *a, const struct td_sock *sk, enum td_side side, long ns,
		     bool wanted)
{
	unsigned s = sk->state < TD_SS_COUNT ? sk->state : TD_SS_UNKNOWN;

	if (sk->inode) {
		hold(a, sk, side, wanted);
		return;
	}
	if (!wanted)
		return;
	if (side == TD_SIDE_SERVER && ns >= 0) {
		struct listener_key k = { (uint32_t)ns, sk->sport };
		((uint64_t *)hashmap_put(a->srv, &k, NULL))[s]++;
	} else if (side == TD_SIDE_CLIENT) {
		struct td_group_key k;
		groups_key_of(TD_BY_DEST, sk, 0, &k);
		((uint64_t *)hashmap_put(a->pending, &k, NULL))[s]++;
	} else {
		a->none[side][s]++;
	}
}

/* Waits for the owners thread (or does its work here); returns the scan's result. */
static int finish_lookups(struct top_owners *a)
{
	if (a->threaded && !a->joined) {
		publish(a, true);
		pthread_join(a->thr, NULL);
		a->joined = true;
	}
	if (a->scan_rc)
		return a->scan_rc;
	if (!a->threaded && a->held.n) {
		struct top_blocks_cur cur = top_blocks_begin(&a->held);
		lookup(a->owners, &cur, a->held.n);
	}
	return 0;
}

static int32_t pid_at(const struct td_owners *o, long proc)
{
	return proc >= 0 ? (int32_t)owners_proc(o, (size_t)proc)->pid : 0;
}

/* Server side without an inode: the process listening on the local port (the first listener on
 * it with a known holder, in dump order). */
static void add_server_side(struct top_owners *a, struct td_groups *g)
{
	struct td_hashmap *pids = hashmap_new(sizeof(struct listener_key), sizeof(int32_t));
	bool added;

	for (size_t i = 0; i < a->nlis; i++) {
		const struct td_owner_proc *p = owners_lookup(a->owners, a->lis[i].inode, NULL);
		int32_t *pid = hashmap_put(pids, &a->lis[i].k, &added);
		if (added || !*pid)
			*pid = p ? p->pid : 0;
	}
	for (size_t i = 0; i < hashmap_count(a->srv); i++) {
		const int32_t *pid = hashmap_get(pids, hashmap_key_at(a->srv, i));
		const uint64_t *n = hashmap_val_at(a->srv, i);
		struct td_group_key k = { .pid = pid ? *pid : 0 };
		for (unsigned s = 0; s < TD_SS_COUNT; s++)
			if (n[s])
				groups_add_key(g, &k, s, TD_SIDE_SERVER, n[s], k.pid != 0);
	}
	hashmap_free(pids);
}

/* The owned client-side sockets to destinations in pending, per (destination, holder). */
static struct td_hashmap *count_owned(const struct top_owners *a)
{
	struct td_hashmap *owned = hashmap_new(2 * sizeof(uint32_t), sizeof(uint64_t));
	struct top_blocks_cur hc = top_blocks_begin(&a->held), cc = top_blocks_begin(&a->cli);
	const struct held *h = NULL;
	size_t next = 0; /* index of the record after h */

	for (size_t i = 0; i < a->cli.n; i++) {
		const struct client *c = top_blocks_next(&cc, sizeof(*c));
		while (next <= c->rec)
			h = top_blocks_next(&hc, sizeof(*h)), next++;
		long d = h->proc >= 0 ? hashmap_index(a->pending, &c->k) : -1;
		if (d >= 0) {
			uint32_t dp[2] = { (uint32_t)d, (uint32_t)h->proc };
			(*(uint64_t *)hashmap_put(owned, dp, NULL))++;
		}
	}
	return owned;
}

/* Client side without an inode: the process holding most sockets to the same destination
 * (ties: the lowest pid). */
static void add_client_side(struct top_owners *a, struct td_groups *g)
{
	size_t nd = hashmap_count(a->pending);

	if (!nd)
		return; /* and no destination to count sockets to */
	struct td_hashmap *owned = count_owned(a);
	int32_t *best = xcalloc(nd, sizeof(*best));
	uint64_t *most = xcalloc(nd, sizeof(*most));
	for (size_t i = 0; i < hashmap_count(owned); i++) {
		const uint32_t *dp = hashmap_key_at(owned, i); /* dest, proc */
		uint64_t n = *(const uint64_t *)hashmap_val_at(owned, i);
		int32_t pid = pid_at(a->owners, dp[1]);
		if (n > most[dp[0]] || (n == most[dp[0]] && pid < best[dp[0]]))
			best[dp[0]] = pid, most[dp[0]] = n;
	}
	for (size_t i = 0; i < nd; i++) {
		const uint64_t *n = hashmap_val_at(a->pending, i);
		struct td_group_key k = { .pid = best[i] };
		for (unsigned s = 0; s < TD_SS_COUNT; s++)
			if (n[s])
				groups_add_key(g, &k, s, TD_SIDE_CLIENT, n[s], most[i] != 0);
	}
	free(best);
	free(most);
	hashmap_free(owned);
}

/* Sockets with an inode: counted per holder (index 0: none found), then added per group. */
static void add_held(struct top_owners *a, struct td_groups *g)
{
	size_t np = owners_nprocs(a->owners) + 1, cell = TD_SIDE_COUNT * TD_SS_COUNT;
	uint64_t *n = xcalloc(np * cell, sizeof(*n)), *shared = xcalloc(np, sizeof(*shared));
	struct top_blocks_cur cur = top_blocks_begin(&a->held);

	for (size_t i = 0; i < a->held.n; i++) {
		const struct held *h = top_blocks_next(&cur, sizeof(*h));
		if (!h->wanted)
			continue;
		n[(size_t)(h->proc + 1) * cell + h->side * TD_SS_COUNT + h->state]++;
		shared[h->proc + 1] += h->shared;
	}
	for (size_t i = 0; i < np; i++) {
		struct td_group_key k = { .pid = pid_at(a->owners, (long)i - 1) };
		for (unsigned side = 0; side < TD_SIDE_COUNT; side++)
			for (unsigned s = 0; s < TD_SS_COUNT; s++)
				if (n[i * cell + side * TD_SS_COUNT + s])
					groups_add_key(g, &k, s, (enum td_side)side,
						       n[i * cell + side * TD_SS_COUNT + s], false);
		if (shared[i])
			groups_add_shared(g, &k, shared[i]);
	}
	free(n);
	free(shared);
}

int top_owners_end(struct top_owners *a, struct td_groups *g, const struct td_owners **owners,
		   struct td_owners_stats *st)
{
	int r = finish_lookups(a);

	if (r)
		return r;
	add_held(a, g);
	add_server_side(a, g);
	add_client_side(a, g);
	for (unsigned side = 0; side < TD_SIDE_COUNT; side++) {
		struct td_group_key k = { .pid = 0 };
		for (unsigned s = 0; s < TD_SS_COUNT; s++)
			if (a->none[side][s])
				groups_add_key(g, &k, s, (enum td_side)side, a->none[side][s],
					       false);
	}
	*owners = a->owners;
	*st = a->st;
	return 0;
}

void top_owners_free(struct top_owners *a)
{
	if (!a)
		return;
	if (a->threaded && !a->joined) {
		publish(a, true);
		pthread_join(a->thr, NULL);
	}
	top_blocks_free(&a->held);
	top_blocks_free(&a->cli);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	owners_free(a->owners);
	free(a->lis);
	hashmap_free(a->pending);
	hashmap_free(a->srv);
	free(a);
}
