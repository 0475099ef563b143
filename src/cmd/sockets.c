// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor sockets`: lists TCP sockets with filters on state, ports and addresses, as a table
 * or one JSON object per line, printed as the dump streams in (constant memory, whatever the
 * number of sockets). The state filter runs in the kernel; `--record FILE` saves the raw dump
 * (all states, so a replay can answer any question) for `--replay`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd/cmd.h"
#include "core/util.h"
#include "render/sockfields.h"

struct addr_filter {
	bool on;
	unsigned family, prefix;
	uint8_t addr[16];
};

struct port_filter {
	bool on;
	uint16_t lo, hi;
};

struct sockets_run {
	const struct td_global *g;
	uint32_t states; /* applied here too: replay and record read every state */
	struct port_filter sport, dport;
	struct addr_filter src, dst;
	const char *ns_name;
	int netns_width;
	uint64_t shown;
	bool header_done;
};

enum { OPT_STATE = TD_OPT_CMD_BASE, OPT_SPORT, OPT_DPORT, OPT_SRC, OPT_DST, OPT_RECORD };

static bool addr_ok(const struct addr_filter *f, const struct td_sock *sk, const uint8_t *a)
{
	if (!f->on)
		return true;
	return f->family == sk->family && sock_addr_match(a, f->addr, f->prefix);
}

static bool port_ok(const struct port_filter *f, uint16_t p)
{
	return !f->on || (p >= f->lo && p <= f->hi);
}

static int on_ns_begin(const struct td_ns_info *ns, void *arg)
{
	struct sockets_run *s = arg;

	s->ns_name = ns->name;
	return 0;
}

static int on_sock(const struct td_sock *sk, void *arg)
{
	struct sockets_run *s = arg;

	if (s->states && !(s->states & (1u << sk->state)))
		return 0;
	if (!port_ok(&s->sport, sk->sport) || !port_ok(&s->dport, sk->dport) ||
	    !addr_ok(&s->src, sk, sk->src) || !addr_ok(&s->dst, sk, sk->dst))
		return 0;
	if (s->g->json) {
		sockfields_print_json(stdout, sk, s->ns_name);
	} else {
		if (!s->header_done) {
			sockfields_print_header(stdout, s->netns_width, s->g->color);
			s->header_done = true;
		}
		sockfields_print_row(stdout, sk, *s->ns_name ? s->ns_name : "-", s->netns_width);
	}
	s->shown++;
	return ferror(stdout) ? -EIO : 0;
}

static int parse_port(const struct td_global *g, const char *opt, const char *arg,
		      struct port_filter *f)
{
	char lo[8] = "", *dash = strchr(arg, '-');
	uint64_t a, b;

	if (dash && (size_t)(dash - arg) < sizeof(lo)) {
		memcpy(lo, arg, (size_t)(dash - arg));
		if (util_parse_u64(lo, 0, 65535, &a) || util_parse_u64(dash + 1, 0, 65535, &b) ||
		    a > b)
			return cmd_usage_err(g, "%s '%s': expected PORT or LOW-HIGH, 0..65535", opt,
					     arg);
	} else if (util_parse_u64(arg, 0, 65535, &a)) {
		return cmd_usage_err(g, "%s '%s': expected PORT or LOW-HIGH, 0..65535", opt, arg);
	} else {
		b = a;
	}
	*f = (struct port_filter){ true, (uint16_t)a, (uint16_t)b };
	return 0;
}

static int parse_addr(const struct td_global *g, const char *opt, const char *arg,
		      struct addr_filter *f)
{
	if (sock_addr_parse(arg, &f->family, f->addr, &f->prefix))
		return cmd_usage_err(g,
				     "%s '%s': expected an IPv4 or IPv6 address, optionally "
				     "with /PREFIX",
				     opt, arg);
	f->on = true;
	return 0;
}

static int parse_state(struct td_global *g, const char *arg, uint32_t *mask)
{
	const char *bad;
	size_t n;

	if (!sock_state_parse_list(arg, mask, &bad, &n))
		return 0;
	return cmd_usage_err(g, "unknown state '%.*s'; valid: %s", (int)n, bad,
			     sock_state_names_help());
}

struct sockets_args {
	struct sockets_run *s;
	struct td_source_opts *o;
};

static int on_opt(struct td_global *g, int c, const char *arg, void *ctx)
{
	struct sockets_args *a = ctx;

	switch (c) {
	case 's':
		return parse_state(g, arg, &a->s->states);
	case OPT_SPORT:
		return parse_port(g, "--sport", arg, &a->s->sport);
	case OPT_DPORT:
		return parse_port(g, "--dport", arg, &a->s->dport);
	case OPT_SRC:
		return parse_addr(g, "--src", arg, &a->s->src);
	case OPT_DST:
		return parse_addr(g, "--dst", arg, &a->s->dst);
	case OPT_RECORD:
		a->o->record = arg;
		return 0;
	case '4':
		a->o->families |= TD_FAM_INET;
		return 0;
	case '6':
		a->o->families |= TD_FAM_INET6;
		return 0;
	}
	return cmd_getopt_err(g);
}

static int parse_args(int argc, char **argv, struct td_global *g, struct sockets_run *s,
		      struct td_source_opts *o)
{
	struct sockets_args a = { s, o };
	int r = cmd_parse(&cmd_sockets, argc, argv, g, &a);

	if (!r && o->record && g->replay)
		return cmd_usage_err(g, "--record and --replay do not go together");
	return r;
}

static int sockets_main(int argc, char **argv, struct td_global *g)
{
	struct td_source_cbs cbs = { on_ns_begin, on_sock, NULL };
	struct sockets_run s = { .g = g };
	struct td_source_opts o = { 0 };
	char err[TD_ERRMSG_LEN];
	int r = parse_args(argc, argv, g, &s, &o);

	if (r)
		return r;
	const char *record = o.record;
	unsigned families = o.families;
	cmd_source_opts(g, &o);
	o.record = record;
	o.families = families;
	/* Recording keeps every state; otherwise the kernel filters for us. */
	o.states = record ? 0 : s.states;
	s.netns_width = g->netns && !strcmp(g->netns, "all") ? 12 : 0;
	r = source_run(&o, &cbs, &s, err);
	if (r)
		return cmd_source_err(g, r, err);
	if (*err)
		cmd_err(g, "%s", err);
	if (!g->json && !s.header_done)
		sockfields_print_header(stdout, s.netns_width, g->color);
	if (fflush(stdout) || ferror(stdout)) {
		cmd_err(g, "writing output: %s", strerror(errno));
		return TD_EXIT_FAIL;
	}
	return TD_EXIT_OK;
}

static const struct td_cmd_opt sockets_opts[] = {
	{ "state", 's', "LIST",
	  "states or groups, comma-separated: established, syn-sent,\n"
	  "syn-recv, fin-wait-1, fin-wait-2, time-wait, close, close-wait,\n"
	  "last-ack, listen, closing; connected, synchronized, bucket,\n"
	  "big, all (as ss defines them)",
	  's' },
	{ "sport", 0, "P[-Q]", "local port or range", OPT_SPORT },
	{ "dport", 0, "P[-Q]", "remote port or range", OPT_DPORT },
	{ "src", 0, "ADDR[/N]", "local address or prefix", OPT_SRC },
	{ "dst", 0, "ADDR[/N]", "remote address or prefix", OPT_DST },
	{ NULL, '4', NULL, "only IPv4", '4' },
	{ NULL, '6', NULL, "only IPv6", '6' },
	{ "record", 0, "FILE", "also save the raw dump (every state) for --replay", OPT_RECORD },
	{ 0 },
};

const struct td_cmd_entry cmd_sockets = {
	.name = "sockets",
	.summary = "List sockets with filters; --record saves the raw dump",
	.usage = "tcpdoctor [-N NS|all] sockets [FILTERS] [--json] [--record FILE]",
	.about = "Lists TCP sockets as the kernel reports them, streaming.",
	.opts = sockets_opts,
	.more = "\nWith --json: one JSON object per line.",
	.on_opt = on_opt,
	.run = sockets_main,
};
