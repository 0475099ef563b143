// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor top`: sockets grouped by peer, local port, process, destination (netns, source,
 * destination, port) or namespace, with the states as columns, largest groups first. Every row
 * says which side of its connections this host is: the local port listens (server), is an
 * ephemeral port (client), or neither. To know the listening ports before the sockets stream by,
 * a first dump asks the kernel for LISTEN sockets only (it then walks only the listening hash:
 * cheap); the second dump streams into a group-by table (core/aggregate.c), O(1) per socket.
 *
 * --by process maps inodes to processes with one pass over /proc (core/owners.c). Sockets
 * without an inode (TIME_WAIT, orphans, request sockets: kernel-facts §14) cannot be traced;
 * they are attributed by inference and counted as such: server side to the process listening
 * on the local port, client side to the process holding the most sockets to the same
 * destination from ephemeral ports. Never shown as fact.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "core/aggregate.h"
#include "core/hashmap.h"
#include "core/owners.h"
#include "core/ports.h"
#include "core/util.h"
#include "render/table.h"

struct top_ns {
	char *name;
	uint8_t listen[65536 / 8]; /* listening ports, from the first dump */
};

struct top_run {
	struct td_global *g;
	enum td_group_by by;
	uint32_t states; /* user filter, 0 = all */
	unsigned sort;	 /* state, or TD_SS_COUNT for the total */
	size_t limit;
	bool listen_pass;  /* first dump: LISTEN only */
	struct top_ns *ns; /* by first-dump index */
	size_t nns;
	struct top_ns *cur; /* namespace of the second dump, or NULL if unseen */
	char **names;	    /* second-dump index -> name */
	size_t nnames;
	struct td_port_cfg cfg; /* current namespace's port settings */
	struct td_groups *groups;
	struct td_owners *owners; /* --by process */
	struct td_owners_stats ost;
	struct td_hashmap *listener; /* (first-dump ns, port) -> pid */
	struct td_hashmap *dest_pid; /* dest key with .pid -> owned client sockets */
	struct td_hashmap *pending;  /* dest key -> uint64_t[TD_SS_COUNT] unowned client sockets */
};

struct listener_key {
	uint32_t ns;
	uint32_t port;
};

enum { OPT_SORT = TD_OPT_CMD_BASE, OPT_BY };

static int on_ns_begin(const struct td_ns_info *ns, void *arg)
{
	struct top_run *t = arg;

	if (t->listen_pass) {
		t->ns = xrealloc(t->ns, (t->nns + 1) * sizeof(*t->ns));
		memset(&t->ns[t->nns], 0, sizeof(*t->ns));
		t->ns[t->nns++].name = xstrdup(ns->name);
		return 0;
	}
	t->cur = NULL;
	for (size_t i = 0; i < t->nns; i++)
		if (!strcmp(t->ns[i].name, ns->name))
			t->cur = &t->ns[i];
	t->names = xrealloc(t->names, (t->nnames + 1) * sizeof(*t->names));
	t->names[t->nnames++] = xstrdup(ns->name);
	if (ports_cfg_from_meta(&t->cfg, ns->meta, NULL))
		ports_cfg_default(&t->cfg);
	return 0;
}

static void on_listener(struct top_run *t, const struct td_sock *sk)
{
	struct top_ns *ns = &t->ns[t->nns - 1];
	struct listener_key k = { (uint32_t)(t->nns - 1), sk->sport };
	bool added;

	ns->listen[sk->sport / 8] |= (uint8_t)(1u << (sk->sport % 8));
	if (!t->owners)
		return;
	const struct td_owner_proc *p = owners_lookup(t->owners, sk->inode, NULL);
	int32_t *pid = hashmap_put(t->listener, &k, &added);
	if (added || !*pid)
		*pid = p ? p->pid : 0;
}

static enum td_side side_of(const struct top_run *t, const struct td_sock *sk)
{
	if (sk->state == TD_SS_LISTEN || sk->state == TD_SS_SYN_RECV ||
	    (t->cur && t->cur->listen[sk->sport / 8] & (1u << (sk->sport % 8))))
		return TD_SIDE_SERVER;
	if (sk->dport && ports_is_ephemeral(&t->cfg, sk->sport))
		return TD_SIDE_CLIENT;
	return TD_SIDE_NEITHER;
}

/* --by process: the holder, or an inferred one, or 0. */
static void add_process(struct top_run *t, const struct td_sock *sk, enum td_side side, bool wanted)
{
	struct td_group_key dk;
	unsigned nh = 0;
	const struct td_owner_proc *p = owners_lookup(t->owners, sk->inode, &nh);

	if (p && side == TD_SIDE_CLIENT) {
		groups_key_of(TD_BY_DEST, sk, 0, &dk);
		dk.pid = p->pid;
		(*(uint64_t *)hashmap_put(t->dest_pid, &dk, NULL))++;
	}
	if (!wanted)
		return;
	if (p || sk->inode) { /* an inode we could not map: unreadable or too new */
		groups_add(t->groups, sk, p ? p->pid : 0, side, false, nh > 1);
		return;
	}
	if (side == TD_SIDE_SERVER && t->cur) {
		struct listener_key k = { (uint32_t)(t->cur - t->ns), sk->sport };
		const int32_t *pid = hashmap_get(t->listener, &k);
		groups_add(t->groups, sk, pid ? *pid : 0, side, pid && *pid, false);
	} else if (side == TD_SIDE_CLIENT) {
		groups_key_of(TD_BY_DEST, sk, 0, &dk);
		uint64_t *n = hashmap_put(t->pending, &dk, NULL);
		n[sk->state < TD_SS_COUNT ? sk->state : 0]++;
	} else {
		groups_add(t->groups, sk, 0, side, false, false);
	}
}

static int on_sock(const struct td_sock *sk, void *arg)
{
	struct top_run *t = arg;
	bool wanted = !t->states || (t->states & (1u << sk->state));

	if (t->listen_pass) {
		if (sk->state == TD_SS_LISTEN)
			on_listener(t, sk);
		return 0;
	}
	enum td_side side = side_of(t, sk);
	if (t->by == TD_BY_PROCESS)
		add_process(t, sk, side, wanted);
	else if (wanted)
		groups_add(t->groups, sk, 0, side, false, false);
	return 0;
}

/* Client-side sockets without an owner go to the process holding most sockets to the same
 * destination (ties: the lowest pid). */
static void resolve_pending(struct top_run *t)
{
	struct td_hashmap *best = hashmap_new(sizeof(struct td_group_key), 2 * sizeof(uint64_t));

	for (size_t i = 0; i < hashmap_count(t->dest_pid); i++) {
		struct td_group_key k =
			*(const struct td_group_key *)hashmap_key_at(t->dest_pid, i);
		uint64_t n = *(uint64_t *)hashmap_val_at(t->dest_pid, i), pid = (uint64_t)k.pid;
		k.pid = 0;
		uint64_t *b = hashmap_put(best, &k, NULL); /* b[0] pid, b[1] count */
		if (n > b[1] || (n == b[1] && pid < b[0]))
			b[0] = pid, b[1] = n;
	}
	for (size_t i = 0; i < hashmap_count(t->pending); i++) {
		const struct td_group_key *dk = hashmap_key_at(t->pending, i);
		const uint64_t *n = hashmap_val_at(t->pending, i);
		const uint64_t *b = hashmap_get(best, dk);
		struct td_group_key k = { .pid = b ? (int32_t)b[0] : 0 };
		for (unsigned s = 0; s < TD_SS_COUNT; s++)
			if (n[s])
				groups_add_key(t->groups, &k, s, TD_SIDE_CLIENT, n[s], b != NULL);
	}
	hashmap_free(best);
}

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

/* The key columns: their headers (once, when hdr is non-NULL) and a row's cells. */
static unsigned key_cells(const struct top_run *t, const struct td_group *x, bool show_ns,
			  char buf[4][64], const char **cells, const char **hdr)
{
	unsigned n = 0;
	const struct td_group_key *k = &x->key;

	if (show_ns && t->by != TD_BY_PROCESS && t->by != TD_BY_NETNS) {
		hdr[n] = "NETNS";
		cells[n++] = ns_label(t, k->netns);
	}
	switch (t->by) {
	case TD_BY_PEER:
		hdr[n] = "PEER";
		cells[n++] = sock_addr_str(k->family, k->addr, buf[0], 64);
		break;
	case TD_BY_LPORT:
		snprintf(buf[0], 64, "%u", k->port);
		hdr[n] = "LPORT";
		cells[n++] = buf[0];
		break;
	case TD_BY_PROCESS: {
		const struct td_owner_proc *p = proc_of(t, k->pid);
		snprintf(buf[0], 64, "%d", (int)k->pid);
		hdr[n] = "PID";
		cells[n++] = k->pid ? buf[0] : "-";
		hdr[n] = "COMM";
		cells[n++] = p ? p->comm : "(unknown)";
		break;
	}
	case TD_BY_DEST:
		snprintf(buf[2], 64, "%u", k->port);
		hdr[n] = "SRC";
		cells[n++] = sock_addr_str(k->family, k->src, buf[0], 64);
		hdr[n] = "DST";
		cells[n++] = sock_addr_str(k->family, k->addr, buf[1], 64);
		hdr[n] = "DPORT";
		cells[n++] = buf[2];
		break;
	case TD_BY_NETNS:
	case TD_BY_COUNT:
		hdr[n] = "NETNS";
		cells[n++] = ns_label(t, k->netns);
		break;
	}
	return n;
}

static void print_text(const struct top_run *t, const struct td_group **rows, size_t n)
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
		table_add(tb, cells, x->key.pid == 0 && t->by == TD_BY_PROCESS);
	}
	table_print(tb, stdout, t->g->color);
	table_free(tb);
	if (groups_count(t->groups) > n)
		printf("(%zu more groups; --limit 0 shows all)\n", groups_count(t->groups) - n);
	if (inferred)
		puts("INFERRED: sockets without an inode (TIME_WAIT, orphans, requests) attributed "
		     "by inference, not read:\nserver side to the listener of the local port, "
		     "client "
		     "side to the process with most\nsockets to the same destination.");
	if (t->owners && t->ost.partial)
		printf("Attribution is partial: %s (%u unreadable).\n",
		       owners_partial_reason(&t->ost), t->ost.procs_denied);
}

static json_t *row_json(const struct top_run *t, const struct td_group *x)
{
	json_t *o = json_object(), *st = json_object(), *sides = json_object();
	const struct td_group_key *k = &x->key;
	char a[64], b[64];

	switch (t->by) {
	case TD_BY_PEER:
		json_object_set_new(o, "netns", json_string(ns_label(t, k->netns)));
		json_object_set_new(o, "peer",
				    json_string(sock_addr_str(k->family, k->addr, a, 64)));
		break;
	case TD_BY_LPORT:
		json_object_set_new(o, "netns", json_string(ns_label(t, k->netns)));
		json_object_set_new(o, "lport", json_integer(k->port));
		break;
	case TD_BY_PROCESS: {
		const struct td_owner_proc *p = proc_of(t, k->pid);
		json_object_set_new(o, "pid", k->pid ? json_integer(k->pid) : json_null());
		json_object_set_new(o, "comm", p ? json_string(p->comm) : json_null());
		json_object_set_new(o, "uid", p ? json_integer(p->uid) : json_null());
		break;
	}
	case TD_BY_DEST:
		json_object_set_new(o, "netns", json_string(ns_label(t, k->netns)));
		json_object_set_new(o, "src", json_string(sock_addr_str(k->family, k->src, a, 64)));
		json_object_set_new(o, "dst",
				    json_string(sock_addr_str(k->family, k->addr, b, 64)));
		json_object_set_new(o, "dport", json_integer(k->port));
		break;
	case TD_BY_NETNS:
	case TD_BY_COUNT:
		json_object_set_new(o, "netns", json_string(ns_label(t, k->netns)));
		break;
	}
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
	return o;
}

static void print_json(const struct top_run *t, const struct td_group **rows, size_t n)
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
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(root);
}

static void usage(void)
{
	puts("Usage: tcpdoctor [-N NS|all] top [--by KEY] [--state LIST] [--sort STATE]\n"
	     "                 [--limit N] [-4|-6] [--json]\n"
	     "Groups sockets and shows the largest groups, states as columns, with the side of\n"
	     "each group: server (local port listens), client (ephemeral local port) or "
	     "neither.\n\n"
	     "  -b, --by KEY       peer (remote address, default), lport, process, dest\n"
	     "                     (netns, source, destination, port) or netns\n"
	     "  -s, --state LIST   count only these states (names or groups as in 'sockets')\n"
	     "      --sort STATE   order by one state's count (default: the total)\n"
	     "  -n, --limit N      show N groups (default 20, 0 = all)\n"
	     "  -4, -6             only IPv4 or only IPv6\n"
	     "      --json         {\"by\", \"groups\": [{KEY..., \"side\", \"states\", "
	     "\"total\",\n"
	     "                     \"inferred\"}], \"attribution\" (with --by process)}\n"
	     "--by process reads /proc; sockets without an inode (TIME_WAIT...) are attributed by\n"
	     "inference and counted under INFERRED, never as fact.");
}

static int parse_sort(struct top_run *t, const char *arg)
{
	uint32_t mask = 0;

	if (!strcasecmp(arg, "total")) {
		t->sort = TD_SS_COUNT;
		return 0;
	}
	if (sock_state_parse(arg, &mask) || (mask & (mask - 1)) || !mask)
		return cmd_usage_err(t->g, "--sort '%s': expected one state name or 'total'", arg);
	t->sort = (unsigned)__builtin_ctz(mask);
	return 0;
}

struct top_args {
	struct top_run *t;
	unsigned *families;
};

static int parse_one(struct td_global *g, int c, const char *arg, void *ctx)
{
	struct top_run *t = ((struct top_args *)ctx)->t;
	unsigned *families = ((struct top_args *)ctx)->families;
	const char *bad;
	size_t blen;
	uint64_t v;

	switch (c) {
	case 'b':
		if (groups_by_parse(arg, &t->by))
			return cmd_usage_err(t->g,
					     "--by '%s': expected peer, lport, process, "
					     "dest or netns",
					     arg);
		return 0;
	case 's':
		if (!sock_state_parse_list(arg, &t->states, &bad, &blen))
			return 0;
		return cmd_usage_err(t->g, "unknown state '%.*s'; valid: %s", (int)blen, bad,
				     sock_state_names_help());
	case OPT_SORT:
		return parse_sort(t, arg);
	case 'n':
		if (util_parse_u64(arg, 0, 1000000, &v))
			return cmd_usage_err(t->g, "--limit '%s': expected 0..1000000", arg);
		t->limit = (size_t)v;
		return 0;
	case '4':
		*families |= TD_FAM_INET;
		return 0;
	case '6':
		*families |= TD_FAM_INET6;
		return 0;
	}
	return cmd_getopt_err(g);
}

static int parse_args(int argc, char **argv, struct top_run *t, unsigned *families)
{
	static const struct option opts[] = {
		TD_GLOBAL_LONGOPTS,
		{ "by", required_argument, NULL, 'b' },
		{ "state", required_argument, NULL, 's' },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "limit", required_argument, NULL, 'n' },
		{ 0 },
	};
	struct top_args a = { t, families };

	return cmd_parse_opts(argc, argv, t->g, TD_GLOBAL_SHORTOPTS "b:s:n:46", opts, parse_one, &a,
			      usage, TD_EXIT_USAGE);
}

static int run_dumps(struct top_run *t, unsigned families)
{
	struct td_source_cbs cbs = { on_ns_begin, on_sock, NULL };
	struct td_source_opts o;
	char err[TD_ERRMSG_LEN];
	int r;

	cmd_source_opts(t->g, &o);
	o.families = families;
	o.states = 1u << TD_SS_LISTEN;
	t->listen_pass = true;
	if ((r = source_run(&o, &cbs, t, err)))
		return cmd_source_err(t->g, r, err);
	/* --by process needs every state to infer owners; the others filter in the kernel */
	o.states = t->by == TD_BY_PROCESS ? 0 : t->states;
	t->listen_pass = false;
	if ((r = source_run(&o, &cbs, t, err)))
		return cmd_source_err(t->g, r, err);
	return 0;
}

int cmd_top_main(int argc, char **argv, struct td_global *g)
{
	struct top_run t = { .g = g, .by = TD_BY_PEER, .sort = TD_SS_COUNT, .limit = 20 };
	const struct td_group **rows = NULL;
	unsigned families = 0;
	int r = parse_args(argc, argv, &t, &families);

	if (r)
		return r < 0 ? TD_EXIT_OK : r;
	t.groups = groups_new(t.by);
	if (t.by == TD_BY_PROCESS) {
		if ((r = owners_scan(&t.owners, &t.ost))) {
			const char *via = getenv("TD_OWNERS");
			if (via && !strcmp(via, "bpf"))
				cmd_err(g, "TD_OWNERS=bpf: the BPF owners iterator failed: %s%s",
					strerror(-r),
					r == -ENOTSUP ? " (this build has no BPF support)" : "");
			else
				cmd_err(g, "cannot read /proc: %s", strerror(-r));
			r = TD_EXIT_FAIL;
			goto out;
		}
		t.listener = hashmap_new(sizeof(struct listener_key), sizeof(int32_t));
		t.dest_pid = hashmap_new(sizeof(struct td_group_key), sizeof(uint64_t));
		t.pending =
			hashmap_new(sizeof(struct td_group_key), TD_SS_COUNT * sizeof(uint64_t));
	}
	if ((r = run_dumps(&t, families)))
		goto out;
	if (t.by == TD_BY_PROCESS)
		resolve_pending(&t);
	rows = xcalloc(groups_count(t.groups) + 1, sizeof(*rows));
	size_t n = groups_top(t.groups, t.sort, t.limit, rows);
	if (g->json)
		print_json(&t, rows, n);
	else
		print_text(&t, rows, n);
	r = TD_EXIT_OK;
out:
	free(rows);
	for (size_t i = 0; i < t.nns; i++)
		free(t.ns[i].name);
	free(t.ns);
	for (size_t i = 0; i < t.nnames; i++)
		free(t.names[i]);
	free(t.names);
	groups_free(t.groups);
	owners_free(t.owners);
	hashmap_free(t.listener);
	hashmap_free(t.dest_pid);
	hashmap_free(t.pending);
	return r;
}
