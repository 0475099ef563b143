// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor ports`: ephemeral-port headroom per destination (netns, source IP, destination IP,
 * destination port), the unit in which connect() runs out of ports (kernel-facts §5). One dump
 * of every state streams into the ports model (core/model/ports.c) together with each namespace's
 * port range, reserved ports and tw_reuse/timestamps settings; the result is sorted by risk:
 * how full, how fast connections close (read from the TIME_WAIT timers, no sampling), when
 * connect() would fail at that rate, and whether tcp_tw_reuse can help there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "core/model/ports.h"
#include "core/util.h"
#include "core/fields.h"
#include "render/fields.h"
#include "render/table.h"

struct ns_seen {
	char *name;
	struct td_port_cfg cfg;
};

struct ports_run {
	const struct td_global *g;
	struct td_ports *t;
	struct ns_seen *ns;
	size_t nns;
};

enum { OPT_LIMIT = TD_OPT_CMD_BASE };

static int on_ns_begin(const struct td_ns_info *ns, void *arg)
{
	struct ports_run *p = arg;
	const char *bad = NULL;

	if (ns->idx >= p->nns) {
		p->ns = xrealloc(p->ns, (ns->idx + 1) * sizeof(*p->ns));
		memset(p->ns + p->nns, 0, (ns->idx + 1 - p->nns) * sizeof(*p->ns));
		p->nns = ns->idx + 1;
	}
	free(p->ns[ns->idx].name);
	p->ns[ns->idx].name = xstrdup(ns->name);
	if (ports_cfg_from_meta(&p->ns[ns->idx].cfg, ns->meta, &bad))
		cmd_err(p->g, "namespace %s: cannot parse %s; assuming kernel defaults",
			*ns->name ? ns->name : "(current)", bad);
	return ports_set_cfg(p->t, ns->idx, &p->ns[ns->idx].cfg);
}

static int on_sock(const struct td_sock *sk, void *arg)
{
	ports_add(((struct ports_run *)arg)->t, sk);
	return 0;
}

static const char *ns_name(const struct ports_run *p, unsigned idx)
{
	return idx < p->nns && p->ns[idx].name ? p->ns[idx].name : "";
}

static const char *reuse_advice(enum td_reuse r)
{
	switch (r) {
	case TD_REUSE_ACTIVE:
		return "connect() takes over TIME_WAIT older than the reuse delay";
	case TD_REUSE_OFF:
		return "tcp_tw_reuse=0: 1 (or 2 for loopback) would let connect() reuse TIME_WAIT";
	case TD_REUSE_LOOPBACK_ONLY:
		return "tcp_tw_reuse=2 covers loopback only: 1 would help this destination";
	case TD_REUSE_NO_TIMESTAMPS:
		return "tcp_timestamps=0 disables tcp_tw_reuse: turn timestamps back on";
	case TD_REUSE_UNKNOWN:
		break;
	}
	return "settings unknown";
}

/* What holds the riskiest destination's ports, and what can free each kind. */
static void print_top(const struct td_port_dest *d)
{
	struct td_fval v = { .kind = TD_FV_STATES, .states = d->n };
	char held[256];

	fields_text(&v, held, sizeof(held));
	printf("\nTop destination: %u of %u ports held (%s).\n", d->in_use, d->capacity, held);
	if (d->n[TD_SS_TIME_WAIT])
		printf("TIME_WAIT: %s.\n", reuse_advice(d->reuse));
	if (d->n[TD_SS_FIN_WAIT2])
		puts("FIN_WAIT2: closed here, not yet by the peer; tcp_tw_reuse never takes these "
		     "over, tcp_fin_timeout bounds the orphaned ones.");
}

/* The namespace names by index, for the destination fields' getters (free names.names). */
static struct td_port_names ns_names(const struct ports_run *p)
{
	const char **v = xcalloc(p->nns + 1, sizeof(*v));

	for (size_t i = 0; i < p->nns; i++)
		v[i] = ns_name(p, (unsigned)i);
	return (struct td_port_names){ v, p->nns };
}

static void print_json(const struct ports_run *p, const struct td_port_dest *v, size_t n)
{
	json_t *root = json_object(), *a = json_array(), *nsa = json_array();
	struct td_port_names nm = ns_names(p);

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		fields_json_set(o, ports_dest_fields, ports_dest_nfields, &v[i], &nm);
		json_array_append_new(a, o);
	}
	free((void *)nm.names);
	json_object_set_new(root, "destinations", a);
	for (size_t i = 0; i < p->nns; i++) {
		const struct td_port_cfg *c = &p->ns[i].cfg;
		if (!p->ns[i].name)
			continue;
		json_array_append_new(nsa, json_pack("{s:s, s:[i,i], s:i, s:i, s:i, s:i}", "name",
						     p->ns[i].name, "ip_local_port_range", c->low,
						     c->high, "capacity", ports_capacity(c),
						     "tcp_tw_reuse", c->tw_reuse, "tcp_timestamps",
						     c->timestamps, "tcp_tw_reuse_delay_ms",
						     c->tw_reuse_delay_ms));
	}
	json_object_set_new(root, "namespaces", nsa);
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(root);
}

static void print_text(const struct ports_run *p, const struct td_port_dest *v, size_t n,
		       size_t shown, bool color)
{
	struct td_table *t = fields_table_new(ports_dest_fields, ports_dest_nfields);
	struct td_port_names nm = ns_names(p);
	bool parity_note = false;

	for (size_t i = 0; i < shown; i++) {
		fields_table_add(t, ports_dest_fields, ports_dest_nfields, &v[i], &nm);
		parity_note |= v[i].in_use > v[i].preferred;
	}
	free((void *)nm.names);
	if (shown)
		table_print(t, stdout, color);
	else
		puts("No destination uses ephemeral ports.");
	table_free(t);
	if (shown < n)
		printf("(%zu more destinations; --limit 0 shows all)\n", n - shown);
	if (shown && v[0].in_use)
		print_top(&v[0]);
	if (parity_note)
		puts("Past half the range connect() also takes the ports of the other parity, "
		     "which bind(0) prefers, and each search walks further.");
	if (shown)
		puts("CLOSE/s counts TIME_WAIT by age (closes of the last 60 s; RECENT/s the last "
		     "10 s): a lower bound, reused or killed TIME_WAIT and closes still in "
		     "FIN_WAIT2 are not seen.");
}

static int on_opt(struct td_global *g, int c, const char *arg, void *ctx)
{
	size_t *limit = ctx;
	uint64_t v;

	if (c != 'n')
		return cmd_getopt_err(g);
	if (util_parse_u64(arg, 0, 1000000, &v))
		return cmd_usage_err(g, "--limit '%s': expected 0..1000000", arg);
	*limit = (size_t)v;
	return 0;
}

static int ports_main(int argc, char **argv, struct td_global *g)
{
	struct td_source_cbs cbs = { on_ns_begin, on_sock, NULL };
	struct ports_run p = { .g = g };
	struct td_source_opts o;
	struct td_port_dest *v = NULL;
	char err[TD_ERRMSG_LEN];
	size_t limit = 20, n = 0;
	int r = cmd_parse(&cmd_ports, argc, argv, g, &limit);

	if (r)
		return r;
	p.t = ports_new();
	cmd_source_opts(g, &o);
	r = source_run(&o, &cbs, &p, err);
	if (r) {
		r = cmd_source_err(g, r, err);
		goto out;
	}
	ports_result(p.t, &v, &n);
	if (g->json)
		print_json(&p, v, limit && limit < n ? limit : n);
	else
		print_text(&p, v, n, limit && limit < n ? limit : n, g->color);
	r = TD_EXIT_OK;
out:
	free(v);
	for (size_t i = 0; i < p.nns; i++)
		free(p.ns[i].name);
	free(p.ns);
	ports_free(p.t);
	return r;
}

static const struct td_cmd_opt ports_opts[] = {
	{ "limit", 'n', "N", "show the N riskiest destinations (default 20, 0 = all)", 'n' },
	{ 0 },
};

const struct td_cmd_entry cmd_ports = {
	.name = "ports",
	.summary = "Ephemeral-port headroom per destination, time to exhaustion",
	.usage = "tcpdoctor [-N NS|all] ports [--limit N] [--json]",
	.about =
		"Ephemeral-port headroom per destination (netns, source IP, destination IP, port):\n"
		"ports in use / capacity, close rate from TIME_WAIT timers, time to exhaustion,\n"
		"and whether tcp_tw_reuse can help. Sorted by risk.",
	.opts = ports_opts,
	.more = "\nWith --json: {\"destinations\": [{\"src\", \"dst\", \"dport\", \"in_use\", "
		"\"capacity\", ...}],\n\"namespaces\": [...]}; exhaustion_s is null when never.",
	.on_opt = on_opt,
	.run = ports_main,
};
