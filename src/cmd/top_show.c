// SPDX-License-Identifier: MIT
/*
 * `top`'s output: the key columns of a group come from one field table per --by (core/fields.h),
 * walked by the text table and by the JSON rows alike; then the states, the side and the notes
 * that say which counts were inferred, exact (--trace) or not attributed (a replay).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "cmd/top.h"
#include "cmd/top_trace.h"
#include "core/fields.h"
#include "core/util.h"
#include "render/fields.h"
#include "render/table.h"

static const char *ns_label(const struct top_run *t, unsigned idx)
{
	const char *n = idx < t->nnames ? t->names[idx] : "?";

	return *n ? n : "-";
}

static const struct td_owner_proc *proc_of(const struct top_run *t, int pid)
{
	for (size_t i = 0; t->owners && pid && i < owners_nprocs(t->owners); i++)
		if (owners_proc(t->owners, i)->pid == pid)
			return owners_proc(t->owners, i);
	return NULL;
}

static const char *side_label(const struct td_group *x)
{
	int n = 0, last = 0;

	for (int s = 0; s < TD_SIDE_COUNT; s++)
		if (x->side[s])
			n++, last = s;
	return n > 1 ? "mixed" : groups_side_name((enum td_side)last);
}

/* The key fields of a group, one table per --by (core/fields.h): the text columns and the JSON
 * members both walk them. The getters' context is the run (namespace names, owners). */
static void k_netns(const void *o, const void *ctx, struct td_fval *v)
{
	v->kind = TD_FV_STR;
	v->s = ns_label(ctx, ((const struct td_group *)o)->key.netns);
}

static void k_addr(const struct td_group_key *k, const uint8_t *a, struct td_fval *v)
{
	v->kind = TD_FV_STR;
	v->s = sock_addr_str(k->family, a, v->buf, sizeof(v->buf));
}

static void k_peer(const void *o, const void *ctx, struct td_fval *v)
{
	(void)ctx;
	k_addr(&((const struct td_group *)o)->key, ((const struct td_group *)o)->key.addr, v);
}

static void k_src(const void *o, const void *ctx, struct td_fval *v)
{
	(void)ctx;
	k_addr(&((const struct td_group *)o)->key, ((const struct td_group *)o)->key.src, v);
}

/* pid 0 (and the process fields of an unknown pid) are absent: "-", null */
static void k_pid(const void *o, const void *ctx, struct td_fval *v)
{
	int32_t pid = ((const struct td_group *)o)->key.pid;

	(void)ctx;
	v->kind = pid ? TD_FV_UINT : TD_FV_NULL;
	v->u = (uint64_t)pid;
}

static void k_comm(const void *o, const void *ctx, struct td_fval *v)
{
	const struct top_run *t = ctx;
	const struct td_owner_proc *p = proc_of(t, ((const struct td_group *)o)->key.pid);

	v->s = p ? p->comm : top_trace_comm(t->trace, ((const struct td_group *)o)->key.pid);
	v->kind = v->s ? TD_FV_STR : TD_FV_NULL;
}

static void k_uid(const void *o, const void *ctx, struct td_fval *v)
{
	const struct td_owner_proc *p = proc_of(ctx, ((const struct td_group *)o)->key.pid);

	v->kind = p ? TD_FV_UINT : TD_FV_NULL;
	v->u = p ? p->uid : 0;
}

#define KEY_OFF(m) (offsetof(struct td_group, key) + offsetof(struct td_group_key, m))
#define K_NETNS                                                                                    \
	{                                                                                          \
		"netns", "NETNS", -1, TD_FT_FN, 0, k_netns                                         \
	}

static const struct td_field key_peer[] = { K_NETNS, { "peer", "PEER", -1, TD_FT_FN, 0, k_peer } };
static const struct td_field key_lport[] = {
	K_NETNS, { "lport", "LPORT", -1, TD_FT_U16, KEY_OFF(port), NULL }
};
static const struct td_field key_process[] = {
	{ "pid", "PID", -1, TD_FT_FN, 0, k_pid },
	{ "comm", "COMM", -1, TD_FT_FN, 0, k_comm },
	{ "uid", NULL, 0, TD_FT_FN, 0, k_uid },
};
static const struct td_field key_dest[] = {
	K_NETNS,
	{ "src", "SRC", -1, TD_FT_FN, 0, k_src },
	{ "dst", "DST", -1, TD_FT_FN, 0, k_peer },
	{ "dport", "DPORT", -1, TD_FT_U16, KEY_OFF(port), NULL },
};
static const struct td_field key_netns[] = { K_NETNS };

/* The key fields of t->by; *text_from skips the NETNS column when one namespace is shown. */
static const struct td_field *key_fields(const struct top_run *t, bool show_ns, size_t *n,
					 size_t *text_from)
{
	static const struct {
		const struct td_field *f;
		size_t n;
	} tab[TD_BY_COUNT] = {
		[TD_BY_PEER] = { key_peer, TD_ARRAY_SIZE(key_peer) },
		[TD_BY_LPORT] = { key_lport, TD_ARRAY_SIZE(key_lport) },
		[TD_BY_PROCESS] = { key_process, TD_ARRAY_SIZE(key_process) },
		[TD_BY_DEST] = { key_dest, TD_ARRAY_SIZE(key_dest) },
		[TD_BY_NETNS] = { key_netns, TD_ARRAY_SIZE(key_netns) },
	};
	enum td_group_by by = t->by < TD_BY_COUNT ? t->by : TD_BY_NETNS;

	*n = tab[by].n;
	*text_from = !show_ns && by != TD_BY_PROCESS && by != TD_BY_NETNS; /* NETNS first */
	return tab[by].f;
}

/* The key columns: their headers (once, when hdr is non-NULL) and a row's cells. */
static unsigned key_cells(const struct top_run *t, const struct td_group *x, bool show_ns,
			  char buf[4][64], const char **cells, const char **hdr)
{
	size_t nf, from;
	const struct td_field *f = key_fields(t, show_ns, &nf, &from);
	unsigned n = 0;

	for (size_t i = from; i < nf && n < 4; i++) {
		struct td_fval v;
		if (!f[i].header)
			continue;
		fields_get(&f[i], x, t, &v);
		hdr[n] = f[i].header;
		cells[n] = fields_text(&v, buf[n], 64);
		n++;
	}
	return n;
}

/* What the table leaves out, and how its owners were found. */
static void print_notes(const struct top_run *t, size_t n, uint64_t inferred)
{
	if (groups_count(t->groups) > n)
		printf("(%zu more groups; --limit 0 shows all)\n", groups_count(t->groups) - n);
	if (inferred)
		puts("INFERRED: sockets without an inode (TIME_WAIT, orphans, requests) attributed "
		     "by inference, not read:\nserver side to the listener of the local port, "
		     "client side to the process with most\nsockets to the same destination.");
	if (t->trace)
		puts("EXACT: sockets without an inode (TIME_WAIT...) whose connection the trace saw "
		     "this\nprocess close first: attributed exactly, from its close().");
	if (t->owners && t->ost.partial) {
		char pids[64];
		printf("Attribution is partial: %s (%u unreadable: %s).\n",
		       owners_partial_reason(&t->ost), t->ost.procs_denied,
		       owners_denied_pids(&t->ost, pids, sizeof(pids)));
	}
	if (t->by == TD_BY_PROCESS && t->g->replay)
		puts("Not attributed: a record holds sockets, not processes (replayed).");
}

void top_print_text(const struct top_run *t, const struct td_group **rows, size_t n)
{
	const char *hdr[24], *cells[24];
	enum td_align al[24];
	char kb[4][64], nums[TD_SS_COUNT + 2][32];
	uint32_t cols = t->states;
	uint64_t inferred = 0;
	bool show_ns = t->nnames > 1 || t->g->netns;

	for (size_t i = 0; !t->states && i < n; i++)
		for (unsigned s = 1; s < TD_SS_COUNT; s++)
			cols |= rows[i]->n[s] ? 1u << s : 0;
	for (size_t i = 0; i < n; i++)
		inferred += rows[i]->inferred;
	if (!n) {
		puts("No sockets.");
		return;
	}
	struct td_group zero = { 0 };
	unsigned nk = key_cells(t, &zero, show_ns, kb, cells, hdr), nc = nk;
	for (unsigned i = 0; i < nk; i++)
		al[i] = TD_LEFT;
	hdr[nc] = "SIDE", al[nc++] = TD_LEFT;
	for (unsigned s = 1; s < TD_SS_COUNT; s++)
		if (cols & (1u << s))
			hdr[nc] = sock_state_name(s), al[nc++] = TD_RIGHT;
	hdr[nc] = "TOTAL", al[nc++] = TD_RIGHT;
	if (inferred)
		hdr[nc] = "INFERRED", al[nc++] = TD_RIGHT;
	if (t->trace)
		hdr[nc] = "EXACT", al[nc++] = TD_RIGHT;
	struct td_table *tb = table_new(nc, hdr, al);
	for (size_t i = 0; i < n; i++) {
		const struct td_group *x = rows[i];
		unsigned c = key_cells(t, x, show_ns, kb, cells, hdr), m = 0;
		cells[c++] = side_label(x);
		for (unsigned s = 1; s < TD_SS_COUNT; s++)
			if (cols & (1u << s))
				cells[c++] = table_num(x->n[s], nums[m++], 32);
		cells[c++] = table_num(x->total, nums[m++], 32);
		if (inferred)
			cells[c++] = table_num(x->inferred, nums[m++], 32);
		if (t->trace)
			cells[c++] =
				table_num(top_trace_exact(t->trace, x->key.pid), nums[m++], 32);
		table_add(tb, cells, x->key.pid == 0 && t->by == TD_BY_PROCESS);
	}
	table_print(tb, stdout, t->g->color);
	table_free(tb);
	print_notes(t, n, inferred);
}

static json_t *row_json(const struct top_run *t, const struct td_group *x)
{
	json_t *o = json_object(), *st = json_object(), *sides = json_object();
	size_t nf, from;
	const struct td_field *f = key_fields(t, true, &nf, &from);

	fields_json_set(o, f, nf, x, t);
	json_object_set_new(o, "side", json_string(side_label(x)));
	for (int s = 0; s < TD_SIDE_COUNT; s++)
		json_object_set_new(sides, groups_side_name((enum td_side)s),
				    json_integer((json_int_t)x->side[s]));
	json_object_set_new(o, "sides", sides);
	for (unsigned s = 1; s < TD_SS_COUNT; s++)
		if (x->n[s])
			json_object_set_new(st, sock_state_name(s),
					    json_integer((json_int_t)x->n[s]));
	json_object_set_new(o, "states", st);
	json_object_set_new(o, "total", json_integer((json_int_t)x->total));
	json_object_set_new(o, "inferred", json_integer((json_int_t)x->inferred));
	json_object_set_new(o, "shared", json_integer((json_int_t)x->shared));
	if (t->trace)
		json_object_set_new(
			o, "exact",
			json_integer((json_int_t)top_trace_exact(t->trace, x->key.pid)));
	return o;
}

void top_print_json(const struct top_run *t, const struct td_group **rows, size_t n)
{
	json_t *root = json_object(), *a = json_array();

	json_object_set_new(root, "by", json_string(groups_by_name(t->by)));
	json_object_set_new(
		root, "sort",
		json_string(t->sort < TD_SS_COUNT ? sock_state_name(t->sort) : "total"));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, row_json(t, rows[i]));
	json_object_set_new(root, "groups", a);
	json_object_set_new(root, "groups_total",
			    json_integer((json_int_t)groups_count(t->groups)));
	if (t->owners)
		json_object_set_new(root, "attribution",
				    json_pack("{s:b, s:s, s:i, s:i, s:s}", "partial",
					      t->ost.partial != TD_OWNERS_COMPLETE, "reason",
					      owners_partial_reason(&t->ost), "processes_denied",
					      (int)t->ost.procs_denied, "processes_gone",
					      (int)t->ost.procs_gone, "via",
					      t->ost.via == TD_OWNERS_VIA_BPF ? "bpf" : "proc"));
	else if (t->by == TD_BY_PROCESS)
		json_object_set_new(root, "attribution",
				    json_pack("{s:b, s:s, s:s}", "partial", 1, "reason",
					      "a record holds sockets, not processes", "via",
					      "none"));
	if (t->trace)
		json_object_set_new(root, "trace", top_trace_json(t->trace));
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(root);
}
