// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor states`: the census of TCP sockets by state, IPv4, IPv6 and total, per namespace
 * and summed. It is the netstat | awk one-liner done right: one kernel dump with no extensions,
 * counted as it streams by, TIME_WAIT and timewait FIN_WAIT2 kept apart, request sockets counted
 * as SYN_RECV, and a warning when the kernel says the dump was disturbed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "core/model/census.h"
#include "core/util.h"
#include "core/bpf_common.h"
#include "core/source/census_bpf.h"
#include "render/census.h"

struct ns_census {
	char *name;
	struct td_census c;
	bool interrupted;
	enum td_source_kind used;
};

struct states_run {
	struct ns_census *v;
	size_t n, cap;
	bool bpf_may;		   /* no source, record, replay or family asked for; TD_BPF not 0 */
	bool bpf_always;	   /* TD_BPF=1: whatever the namespace's size */
	bool bpf_tried;		   /* census_bpf_open was called (once) */
	struct td_bpf_census *bpf; /* the loaded census iterator, or NULL */
};

/* Below this many TCP sockets in a namespace (sockstat's inuse + tw) the dump is quicker than
 * loading the census iterator (about 40 ms and 10 MiB of BTF for libbpf). */
#define STATES_BPF_MIN_SOCKETS 50000

/* TCP sockets in the current namespace as /proc/net/sockstat counts them (inuse + tw), or 0.
 * The line: "TCP: inuse N orphan N tw N alloc N mem N". */
static uint64_t sockstat_tcp(void)
{
	char *buf, *line, *save, *w;
	size_t len;
	uint64_t n = 0, v;

	if (util_read_file("/proc/net/sockstat", 4096, &buf, &len))
		return 0;
	if ((line = strstr(buf, "\nTCP: ")) != NULL) {
		line[strcspn(line + 1, "\n") + 1] = '\0';
		for (w = strtok_r(line + 6, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			bool want = !strcmp(w, "inuse") || !strcmp(w, "tw");
			if ((w = strtok_r(NULL, " ", &save)) == NULL)
				break;
			if (want && util_parse_u64(w, 0, UINT32_MAX, &v) == 0)
				n += v;
		}
	}
	free(buf);
	return n;
}

/* Counts the namespace with the census iterator when that is worth it; TD_NS_COUNTED then. */
static int count_bpf(struct states_run *s, struct ns_census *x)
{
	if (!s->bpf_may || (!s->bpf_always && sockstat_tcp() < STATES_BPF_MIN_SOCKETS))
		return 0;
	if (!s->bpf_tried) {
		s->bpf_tried = true;
		if (census_bpf_open(&s->bpf))
			s->bpf = NULL; /* no BPF here: dump every namespace */
	}
	if (!s->bpf || census_bpf_count(s->bpf, &x->c))
		return 0; /* the dump counts it instead */
	x->used = TD_SRC_BPF;
	return TD_NS_COUNTED;
}

static int on_ns_begin(const struct td_ns_info *ns, void *arg)
{
	struct states_run *s = arg;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = (struct ns_census){ .name = xstrdup(ns->name) };
	return count_bpf(s, &s->v[s->n - 1]);
}

static int on_sock(const struct td_sock *sk, void *arg)
{
	struct states_run *s = arg;

	census_add(&s->v[s->n - 1].c, sk);
	return 0;
}

static int on_ns_end(const struct td_ns_info *ns, const struct td_dump_stats *st, void *arg)
{
	struct states_run *s = arg;

	s->v[s->n - 1].interrupted = st->interrupted;
	if (s->v[s->n - 1].used != TD_SRC_BPF)
		s->v[s->n - 1].used = ns->used;
	return 0;
}

static const char *source_name(enum td_source_kind k)
{
	return k == TD_SRC_PROCFS    ? "procfs"
	       : k == TD_SRC_NETLINK ? "netlink"
	       : k == TD_SRC_BPF     ? "bpf"
				     : "replay";
}

static const char *ns_label(const char *name)
{
	return *name ? name : "(current)";
}

static void print_json(const struct states_run *s, const struct td_census *total, bool per_ns)
{
	json_t *o = render_census_json(total);
	bool intr = false;

	for (size_t i = 0; i < s->n; i++)
		intr |= s->v[i].interrupted;
	json_object_set_new(o, "interrupted", json_boolean(intr));
	if (per_ns) {
		json_t *a = json_array();
		for (size_t i = 0; i < s->n; i++) {
			json_t *n = render_census_json(&s->v[i].c);
			json_object_set_new(n, "name", json_string(s->v[i].name));
			json_object_set_new(n, "source", json_string(source_name(s->v[i].used)));
			json_object_set_new(n, "interrupted", json_boolean(s->v[i].interrupted));
			json_array_append_new(a, n);
		}
		json_object_set_new(o, "netns", a);
	} else if (s->n) {
		json_object_set_new(o, "source", json_string(source_name(s->v[0].used)));
	}
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

static void print_text(const struct states_run *s, const struct td_census *total, bool per_ns,
		       bool color)
{
	if (!per_ns) {
		render_census_table(stdout, total, color);
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		printf("%sNetwork namespace %s%s (%s)\n", color ? "\033[1m" : "",
		       ns_label(s->v[i].name), color ? "\033[0m" : "", source_name(s->v[i].used));
		render_census_table(stdout, &s->v[i].c, color);
		fputc('\n', stdout);
	}
	printf("%sAll %zu namespaces%s\n", color ? "\033[1m" : "", s->n, color ? "\033[0m" : "");
	render_census_table(stdout, total, color);
}

static int on_opt(struct td_global *g, int c, const char *arg, void *ctx)
{
	unsigned *families = ctx;

	(void)arg;
	if (c == '4')
		*families |= TD_FAM_INET;
	else if (c == '6')
		*families |= TD_FAM_INET6;
	else
		return cmd_getopt_err(g);
	return 0;
}

static int states_main(int argc, char **argv, struct td_global *g)
{
	struct td_source_cbs cbs = { on_ns_begin, on_sock, on_ns_end };
	struct td_source_opts o;
	struct states_run s = { 0 };
	struct td_census total = { 0 };
	char err[TD_ERRMSG_LEN];
	unsigned families = 0;
	int r = cmd_parse(&cmd_states, argc, argv, g, &families);

	if (r)
		return r;
	cmd_source_opts(g, &o);
	o.families = families;
	/* Counted in the kernel where BPF works and the namespace is large (the same numbers, no
	 * message per socket); the dump otherwise, or when a source, a record, a replay or one
	 * family is asked for. TD_BPF=0 never, TD_BPF=1 always. */
	s.bpf_may = o.kind == TD_SRC_AUTO && !o.replay && !o.record && !families &&
		    bpf_mode() != TD_BPF_OFF;
	s.bpf_always = bpf_mode() == TD_BPF_ALWAYS;
	r = source_run(&o, &cbs, &s, err);
	if (r) {
		r = cmd_source_err(g, r, err);
		goto out;
	}
	if (*err)
		cmd_err(g, "%s", err);
	for (size_t i = 0; i < s.n; i++) {
		census_merge(&total, &s.v[i].c);
		if (s.v[i].interrupted)
			cmd_err(g,
				"note: the kernel flagged the dump of %s as interrupted (sockets "
				"changed during it); counts may be off by a few",
				ns_label(s.v[i].name));
	}
	bool all = g->netns && !strcmp(g->netns, "all");
	/* JSON keeps a stable shape for scripts whenever -N is given; text only splits by
	 * namespace when there is more than one to show. */
	if (g->json)
		print_json(&s, &total, g->netns != NULL || s.n > 1);
	else
		print_text(&s, &total, all || s.n > 1, g->color);
	r = TD_EXIT_OK;
out:
	census_bpf_close(s.bpf);
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i].name);
	free(s.v);
	return r;
}

static const struct td_cmd_opt states_opts[] = {
	{ NULL, '4', NULL, "only IPv4 sockets", '4' },
	{ NULL, '6', NULL, "only IPv6 sockets", '6' },
	{ 0 },
};

const struct td_cmd_entry cmd_states = {
	.name = "states",
	.summary = "Census of TCP sockets by state, IPv4, IPv6 and total",
	.usage = "tcpdoctor [-N NS|all] states [-4|-6] [--json]",
	.about = "Counts TCP sockets by state (IPv4, IPv6, total), per namespace with -N all.",
	.opts = states_opts,
	.more = "\nWith --json: {\"states\": {NAME: n, ...}, \"total\": n, \"ipv4\": {...}, "
		"\"ipv6\": {...}},\nwith -N a \"netns\" array.",
	.on_opt = on_opt,
	.run = states_main,
};
