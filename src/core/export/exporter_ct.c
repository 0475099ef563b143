// SPDX-License-Identifier: MIT
/*
 * Conntrack metric families from two tables: one row per family of the table and its entries
 * (name, help, how to read it), one per statistic (the field and what it counts). Namespaces
 * without conntrack get no sample; the entry counts also need the ctnetlink dump to have
 * worked (it needs CAP_NET_ADMIN), the table's size and the statistics do not.
 */
#include "core/export/exporter_ct.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/export/exporter.h"
#include "core/model/model.h"
#include "core/util.h"

enum ct_kind { CT_TABLE, CT_CENSUS, CT_PROTO, CT_STATE };

struct ct_def {
	const char *name, *help;
	enum ct_kind kind;
	size_t off; /* CT_TABLE: of the value in struct td_ct_table; CT_CENSUS: in td_ct_census */
	size_t has; /* CT_TABLE: of its has_ flag */
};

#define TABLE(f)  CT_TABLE, offsetof(struct td_ct_table, f), offsetof(struct td_ct_table, has_##f)
#define CENSUS(f) CT_CENSUS, offsetof(struct td_ct_census, f), 0

static const struct ct_def defs[] = {
	{ "tcpdoctor_conntrack_entries",
	  "Connection tracking entries in the namespace (nf_conntrack_count; node_exporter "
	  "node_nf_conntrack_entries); no sample where the kernel has no conntrack",
	  TABLE(count) },
	{ "tcpdoctor_conntrack_entries_limit",
	  "nf_conntrack_max: the host's limit, which each namespace's own count may reach "
	  "(node_exporter node_nf_conntrack_entries_limit)",
	  TABLE(max) },
	{ "tcpdoctor_conntrack_buckets",
	  "nf_conntrack_buckets: the host's conntrack hash table size", TABLE(buckets) },
	{ "tcpdoctor_conntrack_protocol_entries",
	  "Connection tracking entries by protocol, from a ctnetlink dump", CT_PROTO, 0, 0 },
	{ "tcpdoctor_conntrack_tcp_state_entries",
	  "TCP connection tracking entries by conntrack state (TIME_WAIT lasts "
	  "nf_conntrack_tcp_timeout_time_wait, 120 s by default)",
	  CT_STATE, 0, 0 },
	{ "tcpdoctor_conntrack_unreplied_entries",
	  "Connection tracking entries that never saw a reply (UNREPLIED)", CENSUS(unreplied) },
	{ "tcpdoctor_conntrack_assured_entries",
	  "Connection tracking entries marked ASSURED (not evicted to make room)",
	  CENSUS(assured) },
};

/* The statistics, as tcpdoctor_conntrack_stat_FIELD_total. */
static const struct {
	const char *field, *text;
	size_t off;
} stats[] = {
#define S(f, t)                                                                                    \
	{                                                                                          \
#f, t, offsetof(struct td_ct_stats, f)                                             \
	}
	S(found, "lookups that found an entry"),
	S(invalid, "packets conntrack could not track"),
	S(insert, "entries inserted"),
	S(insert_failed, "entries that could not be inserted, their packet dropped"),
	S(drop, "new flows dropped because the table was full"),
	S(early_drop, "entries evicted to make room for new flows"),
	S(error, "packets with errors (ICMP errors that matched no flow)"),
	S(search_restart, "lookups restarted because the table changed under them"),
	S(clash_resolve, "insertion clashes resolved"),
	S(chaintoolong, "insertions refused because the hash chain was too long"),
#undef S
};

static uint64_t u64_at(const void *base, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

static struct td_exporter_sample *ns_sample(struct td_exporter_family *f, double v, const char *ns)
{
	struct td_exporter_sample *s = exporter_sample_new(f, v);

	exporter_label_str(s, "netns", ns);
	return s;
}

/* tcp, udp, icmp and icmpv6 always (0 is a value), any other protocol when it has entries. */
static void by_proto(const struct td_ns_ct *ct, const char *ns, struct td_exporter_family *f)
{
	char num[8];

	for (unsigned p = 0; p < 256; p++) {
		bool common = p == IPPROTO_TCP || p == IPPROTO_UDP || p == IPPROTO_ICMP ||
			      p == IPPROTO_ICMPV6;
		if (!common && !ct->census.proto[p])
			continue;
		const char *nm = conntrack_proto_name(p);
		snprintf(num, sizeof(num), "%u", p);
		exporter_label_str(ns_sample(f, (double)ct->census.proto[p], ns), "protocol",
				   nm ? nm : num);
	}
}

static void by_state(const struct td_ns_ct *ct, const char *ns, struct td_exporter_family *f)
{
	for (unsigned st = 1; st < TD_CT_TCP_COUNT; st++)
		exporter_label_str(ns_sample(f, (double)ct->census.tcp_state[st], ns), "state",
				   conntrack_tcp_state_name(st));
}

static void one(const struct ct_def *d, const struct td_ns_ct *ct, const char *ns,
		struct td_exporter_family *f)
{
	bool census = ct->present && !ct->dump_err;

	switch (d->kind) {
	case CT_TABLE:
		if (ct->present && *((const bool *)((const char *)&ct->table + d->has)))
			ns_sample(f, (double)u64_at(&ct->table, d->off), ns);
		break;
	case CT_CENSUS:
		if (census)
			ns_sample(f, (double)u64_at(&ct->census, d->off), ns);
		break;
	case CT_PROTO:
		if (census)
			by_proto(ct, ns, f);
		break;
	case CT_STATE:
		if (census)
			by_state(ct, ns, f);
		break;
	}
}

void exporter_ct_build(const struct td_model *m, struct td_metrics *out)
{
	for (size_t k = 0; k < TD_ARRAY_SIZE(defs); k++) {
		struct td_exporter_family *f = exporter_family_new(
			out, xstrdup(defs[k].name), xstrdup(defs[k].help), EXPORTER_GAUGE);
		for (size_t i = 0; m && i < m->n; i++)
			one(&defs[k], &m->ns[i].ct, m->ns[i].name, f);
	}
	for (size_t k = 0; k < TD_ARRAY_SIZE(stats); k++) {
		struct td_exporter_family *f = exporter_family_new(
			out, xasprintf("tcpdoctor_conntrack_stat_%s_total", stats[k].field),
			xasprintf("Conntrack statistic %s, summed over CPUs (conntrack -S; "
				  "node_exporter node_nf_conntrack_stat_%s): %s",
				  stats[k].field, stats[k].field, stats[k].text),
			EXPORTER_COUNTER);
		for (size_t i = 0; m && i < m->n; i++) {
			const struct td_ns_ct *ct = &m->ns[i].ct;
			if (ct->present && ct->has_stats)
				ns_sample(f, (double)u64_at(&ct->s1, stats[k].off), m->ns[i].name);
		}
	}
}
