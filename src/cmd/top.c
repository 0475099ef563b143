// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor top`: sockets grouped by peer, local port, process, destination (netns, source,
 * destination, port) or namespace, with the states as columns, largest groups first. Every row
 * says which side of its connections this host is: the local port listens (server), is an
 * ephemeral port (client), or neither. To know the listening ports before the sockets stream by,
 * a first dump asks the kernel for LISTEN sockets only (it then walks only the listening hash:
 * cheap); the second dump streams into a group-by table (core/model/groups.c), O(1) per socket.
 *
 * --by process maps inodes to processes with one pass over /proc or a BPF iterator
 * (core/source/owners.c), built in a second thread while the dumps stream (top_owners.c). Sockets
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
#include <sys/stat.h>

#include <jansson.h>

#include "cmd/top.h"
#include "cmd/top_owners.h"
#include "cmd/top_trace.h"
#include "cmd/trace_use.h"
#include "core/util.h"

enum { OPT_SORT = TD_OPT_CMD_BASE, OPT_BY, OPT_TRACE };

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
	struct stat st; /* the source entered the namespace: the trace names it by inode */
	t->cur_ino = stat("/proc/thread-self/ns/net", &st) ? 0 : (uint32_t)st.st_ino;
	if (ports_cfg_from_meta(&t->cfg, ns->meta, NULL))
		ports_cfg_default(&t->cfg);
	return 0;
}

static void on_listener(struct top_run *t, const struct td_sock *sk)
{
	struct top_ns *ns = &t->ns[t->nns - 1];

	ns->listen[sk->sport / 8] |= (uint8_t)(1u << (sk->sport % 8));
	if (t->att)
		top_owners_listener(t->att, (uint32_t)(t->nns - 1), sk->sport, sk->inode);
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

/* --by process: the holder, or an inferred one, or 0 (top_owners.c), unless --trace saw who
 * closed it. */
static void add_process(struct top_run *t, const struct td_sock *sk, enum td_side side, bool wanted)
{
	int closer;

	if (!sk->inode && wanted && top_trace_owner(t->trace, t->cur_ino, sk, &closer)) {
		groups_add(t->groups, sk, closer, side, false, false);
		return;
	}
	top_owners_sock(t->att, sk, side, t->cur ? t->cur - t->ns : -1, wanted);
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
	if (t->att)
		add_process(t, sk, side, wanted);
	else if (wanted)
		groups_add(t->groups, sk, 0, side, false, false);
	return 0;
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
	case OPT_TRACE:
		return trace_use_parse(g, arg, &t->trace_ms, TD_EXIT_USAGE);
	}
	return cmd_getopt_err(g);
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

static void owners_err(const struct td_global *g, int r)
{
	const char *via = getenv("TD_OWNERS");

	if (via && !strcmp(via, "bpf"))
		cmd_err(g, "TD_OWNERS=bpf: the BPF owners iterator failed: %s%s", strerror(-r),
			r == -ENOTSUP ? " (this build has no BPF support)" : "");
	else
		cmd_err(g, "cannot read /proc: %s", strerror(-r));
}

static int top_main(int argc, char **argv, struct td_global *g)
{
	struct top_run t = { .g = g, .by = TD_BY_PEER, .sort = TD_SS_COUNT, .limit = 20 };
	const struct td_group **rows = NULL;
	unsigned families = 0;
	struct top_args a = { &t, &families };
	int r = cmd_parse(&cmd_top, argc, argv, g, &a);

	if (r)
		return r;
	if (t.trace_ms && t.by != TD_BY_PROCESS)
		return cmd_usage_err(g, "--trace: only with --by process (it finds owners)");
	if (t.trace_ms && (r = top_trace_collect(g, t.trace_ms, &t.trace)))
		return r;
	t.groups = groups_new(t.by);
	/* A record holds sockets, not processes: the live /proc would name whoever holds the same
	 * inode number today, so a replay attributes nothing (and says so) */
	if (t.by == TD_BY_PROCESS && !g->replay && (r = top_owners_start(&t.att)))
		goto owners_failed;
	if ((r = run_dumps(&t, families)))
		goto out;
	if (t.att && (r = top_owners_end(t.att, t.groups, &t.owners, &t.ost)))
		goto owners_failed;
	rows = xcalloc(groups_count(t.groups) + 1, sizeof(*rows));
	size_t n = groups_top(t.groups, t.sort, t.limit, rows);
	if (g->json)
		top_print_json(&t, rows, n);
	else
		top_print_text(&t, rows, n);
	r = TD_EXIT_OK;
	goto out;
owners_failed:
	owners_err(g, r);
	r = TD_EXIT_FAIL;
out:
	free(rows);
	for (size_t i = 0; i < t.nns; i++)
		free(t.ns[i].name);
	free(t.ns);
	for (size_t i = 0; i < t.nnames; i++)
		free(t.names[i]);
	free(t.names);
	groups_free(t.groups);
	top_owners_free(t.att);
	top_trace_free(t.trace);
	return r;
}

static const struct td_cmd_opt top_opts[] = {
	{ "by", 'b', "KEY",
	  "peer (remote address, default), lport, process, dest\n"
	  "(netns, source, destination, port) or netns",
	  'b' },
	{ "state", 's', "LIST", "count only these states (names or groups as in 'sockets')", 's' },
	{ "sort", 0, "STATE", "order by one state's count (default: the total)", OPT_SORT },
	{ "limit", 'n', "N", "show N groups (default 20, 0 = all)", 'n' },
	{ NULL, '4', NULL, "only IPv4", '4' },
	{ NULL, '6', NULL, "only IPv6", '6' },
	{ "trace", 0, "S",
	  "--by process: trace S seconds first (BPF, root); TIME_WAIT of\nconnections a process "
	  "closed meanwhile count as EXACT",
	  OPT_TRACE },
	{ 0 },
};

const struct td_cmd_entry cmd_top = {
	.name = "top",
	.summary = "Group sockets by peer, port, process, destination or netns",
	.usage = "tcpdoctor [-N NS|all] top [--by KEY] [--state LIST] [--sort STATE]\n"
		 "          [--limit N] [-4|-6] [--trace S] [--json]",
	.about =
		"Groups sockets and shows the largest groups, states as columns, with the side of\n"
		"each group: server (local port listens), client (ephemeral local port) or neither.",
	.opts = top_opts,
	.more = "\nWith --json: {\"by\", \"groups\": [{KEY..., \"side\", \"states\", \"total\",\n"
		"\"inferred\"}], \"attribution\" (with --by process)}\n"
		"--by process reads /proc; sockets without an inode (TIME_WAIT...) are attributed by\n"
		"inference and counted under INFERRED, never as fact.",
	.on_opt = parse_one,
	.run = top_main,
};
