// SPDX-License-Identifier: MIT
/*
 * The fields of a port destination (ports.h), defined once for `ports` (text and JSON), and for
 * whatever else shows destinations (the exporter, doctor's evidence, watch): one name, one unit,
 * one meaning. Usage is a percentage of the capacity, undefined (null, "-") when the capacity
 * is 0.
 */
#include "core/model/ports.h"

#include <stddef.h>

#include "core/fields.h"
#include "core/sock.h"

void ports_dest_usage(const struct td_port_dest *d, struct td_fval *v)
{
	fields_pct(d->in_use, d->capacity, v);
}

static void get_netns(const void *obj, const void *ctx, struct td_fval *v)
{
	const struct td_port_dest *d = obj;
	const struct td_port_names *nm = ctx;

	v->kind = TD_FV_STR;
	v->s = nm && d->netns < nm->n && nm->names[d->netns] ? nm->names[d->netns] : "";
}

static void get_addr(const struct td_port_dest *d, const uint8_t *a, struct td_fval *v)
{
	v->kind = TD_FV_STR;
	v->s = sock_addr_str(d->family, a, v->buf, sizeof(v->buf));
}

static void get_src(const void *obj, const void *ctx, struct td_fval *v)
{
	(void)ctx;
	get_addr(obj, ((const struct td_port_dest *)obj)->src, v);
}

static void get_dst(const void *obj, const void *ctx, struct td_fval *v)
{
	(void)ctx;
	get_addr(obj, ((const struct td_port_dest *)obj)->dst, v);
}

static void get_usage(const void *obj, const void *ctx, struct td_fval *v)
{
	(void)ctx;
	ports_dest_usage(obj, v);
}

static void get_states(const void *obj, const void *ctx, struct td_fval *v)
{
	(void)ctx;
	v->kind = TD_FV_STATES;
	v->states = ((const struct td_port_dest *)obj)->n;
}

static void get_exhaust(const void *obj, const void *ctx, struct td_fval *v)
{
	const struct td_port_dest *d = obj;

	(void)ctx;
	/* negative: the steady state stays below capacity, connect() never fails at this rate */
	v->kind = d->exhaust_s < 0 ? TD_FV_NULL : TD_FV_SECONDS;
	v->d = d->exhaust_s;
}

static void get_reuse(const void *obj, const void *ctx, struct td_fval *v)
{
	(void)ctx;
	v->kind = TD_FV_STR;
	v->s = ports_reuse_name(((const struct td_port_dest *)obj)->reuse);
}

#define OFF(m) offsetof(struct td_port_dest, m)

const struct td_field ports_dest_fields[] = {
	{ "netns", "NETNS", -1, TD_FT_FN, 0, get_netns },
	{ "src", "SRC", -1, TD_FT_FN, 0, get_src },
	{ "dst", "DST", -1, TD_FT_FN, 0, get_dst },
	{ "dport", "DPORT", 5, TD_FT_U16, OFF(dport), NULL },
	{ "in_use", "IN_USE", 6, TD_FT_COUNT32, OFF(in_use), NULL },
	{ "capacity", "CAPACITY", 8, TD_FT_COUNT32, OFF(capacity), NULL },
	{ "usage", "USE%", 5, TD_FT_FN, 0, get_usage },
	{ "preferred_parity_ports", NULL, 0, TD_FT_U32, OFF(preferred), NULL },
	{ "states", NULL, 0, TD_FT_FN, 0, get_states },
	{ "closed_60s", NULL, 0, TD_FT_U32, OFF(closed_60s), NULL },
	{ "closed_10s", NULL, 0, TD_FT_U32, OFF(closed_recent), NULL },
	{ "close_rate_60s", "CLOSE/s", 7, TD_FT_RATE, OFF(rate_60s), NULL },
	{ "close_rate_10s", "RECENT/s", 8, TD_FT_RATE, OFF(rate_recent), NULL },
	{ "close_rate", NULL, 0, TD_FT_RATE, OFF(rate), NULL },
	{ "exhaustion_s", "EXHAUSTED IN", 12, TD_FT_FN, 0, get_exhaust },
	{ "loopback", NULL, 0, TD_FT_BOOL, OFF(loopback), NULL },
	{ "tw_reuse", "TW_REUSE", -8, TD_FT_FN, 0, get_reuse },
	{ "tw_reusable", NULL, 0, TD_FT_U32, OFF(reusable), NULL },
};
const size_t ports_dest_nfields = sizeof(ports_dest_fields) / sizeof(ports_dest_fields[0]);
