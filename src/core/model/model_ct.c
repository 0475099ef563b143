// SPDX-License-Identifier: MIT
/*
 * The model's look at a namespace's connection-tracking table: size and limit, the census of a
 * ctnetlink dump counted as it streams past (nothing per entry is kept: a group table by
 * destination port keeps one counter per port, to name the port a notrack rule would cover),
 * the timeouts, and the summed per-CPU statistics twice an interval apart. Also the size of one
 * entry for the memory a larger nf_conntrack_max costs, from the nf_conntrack slab.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/model/model.h"
#include "core/util.h"

struct dump_ctx {
	struct td_ns_ct *ct;
	struct td_ct_groups *by_port;
};

static int on_entry(const struct td_ct *e, void *arg)
{
	struct dump_ctx *d = arg;

	ct_census_add(&d->ct->census, e);
	if (e->sport || e->dport)
		ct_groups_add(d->by_port, e, 0);
	return 0;
}

static void read_stats(struct td_ns_ct *ct)
{
	struct td_ct_stats s = { 0 };

	if (conntrack_stats_read(&s))
		return;
	if (ct->has_stats) {
		ct->s0 = ct->s1;
		ct->s0_ns = ct->s1_ns;
		ct->has_delta = true;
	}
	ct->s1 = s;
	ct->s1_ns = util_now_ns();
	ct->has_stats = true;
}

void model_ct_collect(struct td_ns_ct *ct, bool again)
{
	struct td_ct_dump_stats st = { 0 };
	struct stat sb;
	size_t top;

	if (again) {
		if (ct->present)
			read_stats(ct);
		return;
	}
	memset(ct, 0, sizeof(*ct));
	ct->present = conntrack_table_read(&ct->table) == 0;
	if (!ct->present)
		return;
	ct->max_ro =
		stat("/proc/sys/net/netfilter/nf_conntrack_max", &sb) == 0 && !(sb.st_mode & 0222);
	conntrack_timeouts_read(ct->timeouts);
	read_stats(ct);
	struct dump_ctx d = { ct, ct_groups_new(TD_CT_BY_DPORT) };
	ct->dump_err = conntrack_dump(on_entry, &d, &st);
	ct->interrupted = st.interrupted;
	if (!ct->dump_err && ct_groups_top(d.by_port, 1, &top) == 1) {
		const struct td_ct_key *k = ct_groups_key(d.by_port, top);
		ct->top_proto = k->proto;
		ct->top_dport = k->port;
		ct->top_n = ct_groups_val(d.by_port, top)->entries;
	}
	ct_groups_free(d.by_port);
}

int model_ct_slab_parse(const char *text, size_t len, uint64_t *bytes)
{
	static const char name[] = "nf_conntrack ";
	size_t at = 0;

	/* "name <active_objs> <num_objs> <objsize> <objperslab> ..." (slabinfo 2.1) */
	while (at < len) {
		const char *line = text + at, *nl = memchr(line, '\n', len - at);
		size_t n = nl ? (size_t)(nl - line) : len - at;
		at += n + 1;
		if (n <= sizeof(name) - 1 || memcmp(line, name, sizeof(name) - 1))
			continue;
		const char *p = line + sizeof(name) - 1, *end = line + n;
		char tok[24];
		for (int field = 0; field < 3; field++) {
			while (p < end && *p == ' ')
				p++;
			size_t k = 0;
			while (p < end && *p != ' ' && k + 1 < sizeof(tok))
				tok[k++] = *p++;
			tok[k] = '\0';
			if (p < end && *p != ' ')
				return -EBADMSG; /* a field longer than any number */
			if (!k || (field == 2 && util_parse_u64(tok, 1, 1u << 20, bytes)))
				return -EBADMSG;
		}
		return 0;
	}
	return -ENOENT;
}

int model_ct_entry_bytes(uint64_t *bytes)
{
	char *text;
	size_t len;
	int r = util_read_file("/proc/slabinfo", 1 << 22, &text, &len);

	if (r)
		return r;
	r = model_ct_slab_parse(text, len, bytes);
	free(text);
	return r;
}

bool model_ct_tracking(const struct td_ns_ct *ct)
{
	const struct td_ct_stats *s = &ct->s1;

	return ct->present && (ct->table.count || ct->census.entries || s->found || s->insert ||
			       s->invalid || s->drop || s->early_drop || s->insert_failed);
}

int model_ct_timeout(const struct td_ns_ct *ct, const char *name, uint64_t *seconds)
{
	for (size_t i = 0; ct->present && name && i < TD_CT_TIMEOUTS; i++)
		if (ct->timeouts[i].name && !strcmp(ct->timeouts[i].name, name) &&
		    ct->timeouts[i].known) {
			*seconds = ct->timeouts[i].seconds;
			return 0;
		}
	return -ENOENT;
}
