// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor lab conntrack-full`'s output: the probes of each phase side by side (before the
 * fill, with the table full, with the notrack rule), the statistics' change over the
 * full-table probes, and the two TIME_WAIT timeouts' entries over time. Text and JSON read the
 * same result; the JSON keeps every measured number so a test can assert them.
 */
#include "cmd/lab_ct.h"

#include <stdio.h>

#include "lab/ct_full.h"

static const char *const phase_key[LAB_CT_PHASES] = { "before", "full", "notrack" };

static const char *mark(int8_t v)
{
	return v < 0 ? "-" : v ? "ok" : "FAIL";
}

static void print_probes(const struct lab_ct_result *r)
{
	printf("  %-16s %7s %7s %7s\n", "FLOW", "BEFORE", "FULL", "NOTRACK");
	for (int p = 0; p < LAB_CT_PROBES; p++)
		printf("  %-16s %7s %7s %7s\n", lab_ct_probe_name((enum lab_ct_probe)p),
		       mark(r->probe[LAB_CT_BEFORE][p]), mark(r->probe[LAB_CT_FULL][p]),
		       mark(r->probe[LAB_CT_NOTRACK][p]));
}

static unsigned long long d(uint64_t a, uint64_t b)
{
	return (unsigned long long)(a - b);
}

void lab_ct_print_text(const struct lab_ct_result *r, const char *ns_name, bool color)
{
	const char *b = color ? "\033[1m" : "", *e = color ? "\033[0m" : "";
	const struct td_ct_stats *s0 = &r->st[LAB_CT_BEFORE], *s1 = &r->st[LAB_CT_FULL];

	printf("%s%s%s: %s tracks connections; nf_conntrack_max %llu (the host's), buckets %llu\n",
	       b, LAB_CT_FULL_NAME, e, ns_name, (unsigned long long)r->max,
	       (unsigned long long)r->buckets);
	printf("  fill: %llu ASSURED UDP flows in %.1f s; count %llu/%llu; tcpdoctor dumped %llu, "
	       "%llu assured\n",
	       (unsigned long long)r->fill.flows, r->fill.ms / 1000,
	       (unsigned long long)r->count_full, (unsigned long long)r->max,
	       (unsigned long long)r->dumped, (unsigned long long)r->assured);
	print_probes(r);
	if (!r->nt_conns) { /* interrupted before the remedies */
		printf("  interrupted after %.1f s\n", r->elapsed_s);
		return;
	}
	printf("  over the full-table probes: drop +%llu, early_drop +%llu, insert_failed +%llu\n",
	       d(s1->drop, s0->drop), d(s1->early_drop, s0->early_drop),
	       d(s1->insert_failed, s0->insert_failed));
	printf("  remedy notrack (tcp port %d, raw priority): %u/%u new connects in the full table "
	       "(count %llu)\n",
	       LAB_CT_PORT_NEW, r->nt_ok, r->nt_conns, (unsigned long long)r->count_notrack);
	printf("  remedy nf_conntrack_tcp_timeout_time_wait, %u short connections each:\n",
	       r->tw_conns);
	printf("  %10s %9s %9s %11s\n", "TIMEOUT", "OK", "TW-NOW", "TW-LATER");
	for (int i = 0; i < 2; i++)
		printf("  %8u s %9u %9llu %11llu\n", r->tw_timeout_s[i], r->tw_ok[i],
		       (unsigned long long)r->tw_now[i], (unsigned long long)r->tw_later[i]);
	printf("  (TW-LATER: %.1f s after the last connection)\n", r->tw_wait_s);
	if (r->interrupted)
		printf("  interrupted\n");
	else
		printf("  %s\n", r->verdict);
}

static json_t *stats_json(const struct td_ct_stats *s)
{
	return json_pack("{s:I, s:I, s:I}", "drop", (json_int_t)s->drop, "early_drop",
			 (json_int_t)s->early_drop, "insert_failed", (json_int_t)s->insert_failed);
}

static json_t *probes_json(const struct lab_ct_result *r)
{
	json_t *o = json_object();

	for (int ph = 0; ph < LAB_CT_PHASES; ph++) {
		json_t *p = json_object();
		for (int i = 0; i < LAB_CT_PROBES; i++) {
			int8_t v = r->probe[ph][i];
			json_object_set_new(p, lab_ct_probe_name((enum lab_ct_probe)i),
					    v < 0 ? json_null() : json_boolean(v));
		}
		json_object_set_new(o, phase_key[ph], p);
	}
	return o;
}

static json_t *tw_json(const struct lab_ct_result *r)
{
	json_t *a = json_array();

	for (int i = 0; i < 2; i++)
		json_array_append_new(a, json_pack("{s:i, s:i, s:I, s:I}", "timeout_s",
						   (int)r->tw_timeout_s[i], "succeeded",
						   (int)r->tw_ok[i], "time_wait_now",
						   (json_int_t)r->tw_now[i], "time_wait_later",
						   (json_int_t)r->tw_later[i]));
	return json_pack("{s:i, s:f, s:o}", "connects", (int)r->tw_conns, "later_s", r->tw_wait_s,
			 "runs", a);
}

json_t *lab_ct_json(const struct lab_ct_result *r)
{
	const struct td_ct_stats *s0 = &r->st[LAB_CT_BEFORE], *s1 = &r->st[LAB_CT_FULL];
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(LAB_CT_FULL_NAME));
	json_object_set_new(o, "max", json_integer((json_int_t)r->max));
	json_object_set_new(o, "buckets", json_integer((json_int_t)r->buckets));
	json_object_set_new(o, "count_before", json_integer((json_int_t)r->count_before));
	json_object_set_new(o, "fill",
			    json_pack("{s:I, s:I, s:I, s:f}", "flows", (json_int_t)r->fill.flows,
				      "sent", (json_int_t)r->fill.sent, "refused",
				      (json_int_t)r->fill.eperm, "ms", r->fill.ms));
	json_object_set_new(o, "touched", json_integer((json_int_t)r->touched));
	json_object_set_new(o, "count_full", json_integer((json_int_t)r->count_full));
	json_object_set_new(o, "dumped", json_integer((json_int_t)r->dumped));
	json_object_set_new(o, "assured", json_integer((json_int_t)r->assured));
	json_object_set_new(o, "probes", probes_json(r));
	json_object_set_new(o, "stats",
			    json_pack("{s:o, s:o, s:o}", "before_probes", stats_json(s0),
				      "after_probes", stats_json(s1), "after_notrack",
				      stats_json(&r->st[LAB_CT_NOTRACK])));
	json_object_set_new(o, "delta",
			    json_pack("{s:I, s:I, s:I}", "drop", (json_int_t)(s1->drop - s0->drop),
				      "early_drop", (json_int_t)(s1->early_drop - s0->early_drop),
				      "insert_failed",
				      (json_int_t)(s1->insert_failed - s0->insert_failed)));
	json_object_set_new(o, "notrack",
			    json_pack("{s:i, s:i, s:i, s:I}", "port", LAB_CT_PORT_NEW, "connects",
				      (int)r->nt_conns, "succeeded", (int)r->nt_ok, "count_after",
				      (json_int_t)r->count_notrack));
	json_object_set_new(o, "time_wait", tw_json(r));
	json_object_set_new(o, "elapsed_s", json_real(r->elapsed_s));
	json_object_set_new(o, "interrupted", json_boolean(r->interrupted));
	json_object_set_new(o, "verdict", r->interrupted ? json_null() : json_string(r->verdict));
	return o;
}
