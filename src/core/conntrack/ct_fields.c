// SPDX-License-Identifier: MIT
/*
 * The fields of a conntrack group (ct_census.h: struct td_ct_group_row), defined once for the
 * `conntrack` command's text table and JSON rows: the key as --by writes it, then the entries
 * and how many of them are in TCP TIME_WAIT, UNREPLIED and ASSURED.
 */
#include "core/conntrack/ct_census.h"

#include <stddef.h>

#include "core/fields.h"

static void get_key(const void *obj, const void *ctx, struct td_fval *v)
{
	const struct td_ct_group_row *r = obj;
	const enum td_ct_by *by = ctx;

	v->kind = TD_FV_STR;
	v->s = ct_key_str(by ? *by : TD_CT_BY_DPORT, r->key, v->buf, sizeof(v->buf));
}

#define COUNT(key, hdr, f)                                                                         \
	{                                                                                          \
		key, hdr, 9, TD_FT_COUNT64, offsetof(struct td_ct_group_row, g.f), NULL            \
	}

const struct td_field ct_group_fields[] = {
	{ "key", "KEY", -20, TD_FT_FN, 0, get_key }, COUNT("entries", "ENTRIES", entries),
	COUNT("time_wait", "TIME_WAIT", time_wait),  COUNT("unreplied", "UNREPLIED", unreplied),
	COUNT("assured", "ASSURED", assured),
};
const size_t ct_group_fields_n = sizeof(ct_group_fields) / sizeof(ct_group_fields[0]);
