// SPDX-License-Identifier: MIT
/*
 * Census rendering. Every state is always listed, zeros included, so scripts and eyes find the
 * same rows in the same order every time.
 */
#include "render/census.h"

#include "render/table.h"

void render_census_table(FILE *f, const struct td_census *c, bool color)
{
	static const char *const hdr[] = { "State", "IPv4", "IPv6", "Total" };
	static const enum td_align al[] = { TD_LEFT, TD_RIGHT, TD_RIGHT, TD_RIGHT };
	struct td_table *t = table_new(4, hdr, al);
	char a[32], b[32], tot[32];

	for (unsigned s = TD_SS_ESTABLISHED; s < TD_SS_COUNT; s++) {
		uint64_t n = census_state_total(c, s);
		const char *row[] = { sock_state_name(s), table_num(c->n[TD_FI_INET][s], a, 32),
				      table_num(c->n[TD_FI_INET6][s], b, 32),
				      table_num(n, tot, 32) };
		table_add(t, row, n == 0);
	}
	table_rule(t);
	const char *row[] = { "Total", table_num(census_family_total(c, TD_FI_INET), a, 32),
			      table_num(census_family_total(c, TD_FI_INET6), b, 32),
			      table_num(census_state_total(c, TD_SS_COUNT), tot, 32) };
	table_add(t, row, false);
	table_print(t, f, color);
	table_free(t);
}

static json_t *states_obj(const struct td_census *c, int fam)
{
	json_t *o = json_object();

	for (unsigned s = TD_SS_ESTABLISHED; s < TD_SS_COUNT; s++) {
		uint64_t n = fam < 0 ? census_state_total(c, s) : c->n[fam][s];
		json_object_set_new(o, sock_state_name(s), json_integer((json_int_t)n));
	}
	return o;
}

static json_t *family_obj(const struct td_census *c, enum td_fam_idx f)
{
	json_t *o = json_object();

	json_object_set_new(o, "states", states_obj(c, (int)f));
	json_object_set_new(o, "total", json_integer((json_int_t)census_family_total(c, f)));
	return o;
}

json_t *render_census_json(const struct td_census *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "states", states_obj(c, -1));
	json_object_set_new(o, "total",
			    json_integer((json_int_t)census_state_total(c, TD_SS_COUNT)));
	json_object_set_new(o, "ipv4", family_obj(c, TD_FI_INET));
	json_object_set_new(o, "ipv6", family_obj(c, TD_FI_INET6));
	return o;
}
