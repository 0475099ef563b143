// SPDX-License-Identifier: MIT
/*
 * Unit tests for the field tables and their writers: a port destination's fields load by type
 * and offset, usage is one percentage everywhere and undefined (null, "-") without capacity,
 * time to exhaustion is null when never and NOW when full, text and JSON come from one table in
 * one order, and each value kind writes as documented.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <jansson.h>

#include "core/fields.h"
#include "core/model/ports.h"
#include "render/fields.h"
#include "render/table.h"

static struct td_port_dest dest(uint32_t in_use, uint32_t capacity, double exhaust_s)
{
	struct td_port_dest d;

	memset(&d, 0, sizeof(d));
	d.netns = 1;
	d.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", d.src);
	inet_pton(AF_INET, "10.0.0.2", d.dst);
	d.dport = 8080;
	d.in_use = in_use;
	d.capacity = capacity;
	d.n[TD_SS_TIME_WAIT] = in_use;
	d.rate_60s = 1.25;
	d.exhaust_s = exhaust_s;
	d.reuse = TD_REUSE_OFF;
	return d;
}

static const struct td_field *field(const char *key)
{
	const struct td_field *f = fields_find(ports_dest_fields, ports_dest_nfields, key);

	assert_non_null(f);
	return f;
}

static void text_of(const char *key, const struct td_port_dest *d, const void *ctx,
		    const char *want)
{
	struct td_fval v;
	char buf[128];

	fields_get(field(key), d, ctx, &v);
	assert_string_equal(fields_text(&v, buf, sizeof(buf)), want);
}

static void test_usage(void **state)
{
	static const struct {
		uint32_t in_use, capacity;
		const char *text;
		double json; /* < 0: null */
	} cases[] = {
		{ 0, 28232, "0.0", 0 },	  { 7, 28232, "0.0", 100.0 * 7 / 28232 },
		{ 100, 200, "50.0", 50 }, { 200, 200, "100.0", 100 },
		{ 3, 0, "-", -1 }, /* every port reserved: undefined, not 100 */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct td_port_dest d = dest(cases[i].in_use, cases[i].capacity, -1);
		struct td_fval v;
		text_of("usage", &d, NULL, cases[i].text);
		ports_dest_usage(&d, &v);
		json_t *j = fields_json(&v);
		if (cases[i].json < 0)
			assert_true(json_is_null(j));
		else
			assert_float_equal(json_real_value(j), cases[i].json, 1e-9);
		json_decref(j);
	}
}

static void test_kinds(void **state)
{
	const char *names[] = { "", "blue" };
	struct td_port_names nm = { names, 2 };
	struct td_port_dest d = dest(12345, 28232, 0);
	(void)state;

	text_of("netns", &d, &nm, "blue");
	text_of("netns", &d, NULL, "-"); /* no names: "" is "-" in text */
	text_of("src", &d, NULL, "10.0.0.1");
	text_of("dport", &d, NULL, "8080");
	text_of("in_use", &d, NULL, "12,345");
	text_of("close_rate_60s", &d, NULL, "1.2");
	text_of("exhaustion_s", &d, NULL, "NOW");
	text_of("tw_reuse", &d, NULL, "off");
	text_of("loopback", &d, NULL, "no");
	text_of("states", &d, NULL, "12345 TIME_WAIT");
	d.exhaust_s = 12.34;
	text_of("exhaustion_s", &d, NULL, "12.3s");
	d.exhaust_s = 900;
	text_of("exhaustion_s", &d, NULL, "15min");
	d.exhaust_s = -1;
	text_of("exhaustion_s", &d, NULL, "-");
}

/* What a metric exporter reads: numbers, and absent values told apart. */
static void test_number(void **state)
{
	struct td_port_dest d = dest(50, 200, -1);
	struct td_fval v;
	double x = -7;
	(void)state;

	fields_get(field("usage"), &d, NULL, &v);
	assert_int_equal(fields_number(&v, &x), 0);
	assert_float_equal(x, 25, 1e-12);
	fields_get(field("in_use"), &d, NULL, &v);
	assert_int_equal(fields_number(&v, &x), 0);
	assert_float_equal(x, 50, 0);
	fields_get(field("exhaustion_s"), &d, NULL, &v);
	assert_int_equal(fields_number(&v, &x), -ENODATA);
	assert_float_equal(x, 50, 0); /* untouched */
	fields_get(field("tw_reuse"), &d, NULL, &v);
	assert_int_equal(fields_number(&v, &x), -EINVAL);
	assert_null(fields_find(ports_dest_fields, ports_dest_nfields, "nonexistent"));
}

static void test_json_object(void **state)
{
	struct td_port_dest d = dest(10, 0, -1);
	json_t *o = json_object();
	const char *key;
	json_t *val;
	size_t k = 0;
	(void)state;

	fields_json_set(o, ports_dest_fields, ports_dest_nfields, &d, NULL);
	assert_int_equal(json_object_size(o), ports_dest_nfields);
	assert_true(json_is_null(json_object_get(o, "usage")));
	assert_true(json_is_null(json_object_get(o, "exhaustion_s")));
	assert_int_equal(json_integer_value(json_object_get(o, "in_use")), 10);
	assert_string_equal(json_string_value(json_object_get(o, "dst")), "10.0.0.2");
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(o, "states"), "TIME_WAIT")), 10);
	assert_false(json_boolean_value(json_object_get(o, "loopback")));
	/* the members come in the table's order */
	json_object_foreach(o, key, val)
	{
		while (k < ports_dest_nfields && !ports_dest_fields[k].json_key)
			k++;
		assert_string_equal(key, ports_dest_fields[k++].json_key);
	}
	json_decref(o);
}

static void test_table(void **state)
{
	struct td_port_dest d = dest(5, 10, -1);
	struct td_table *t = fields_table_new(ports_dest_fields, ports_dest_nfields);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	(void)state;

	fields_table_add(t, ports_dest_fields, ports_dest_nfields, &d, NULL);
	table_print(t, f, false);
	fclose(f);
	assert_non_null(strstr(out, "NETNS"));
	assert_non_null(strstr(out, "USE%"));
	assert_non_null(strstr(out, "EXHAUSTED IN"));
	assert_null(strstr(out, "preferred")); /* JSON-only fields have no column */
	assert_non_null(strstr(out, "50.0"));
	free(out);
	table_free(t);
}

/* A signed value, and a field this entity does not have: blank in text, no JSON member. */
static void test_int_omit(void **state)
{
	struct td_fval v = { .kind = TD_FV_INT, .i = -42 };
	char buf[32];
	double x = 0;
	(void)state;

	assert_string_equal(fields_text(&v, buf, sizeof(buf)), "-42");
	json_t *j = fields_json(&v);
	assert_int_equal(json_integer_value(j), -42);
	json_decref(j);
	assert_int_equal(fields_number(&v, &x), 0);
	assert_float_equal(x, -42, 0);
	v.kind = TD_FV_OMIT;
	assert_string_equal(fields_text(&v, buf, sizeof(buf)), "");
	assert_int_equal(fields_number(&v, &x), -ENODATA);
	/* a count past INT64_MAX stays positive in JSON */
	v.kind = TD_FV_COUNT;
	v.u = UINT64_MAX;
	j = fields_json(&v);
	assert_int_equal(json_integer_value(j), INT64_MAX);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage),  cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_number), cmocka_unit_test(test_json_object),
		cmocka_unit_test(test_table),  cmocka_unit_test(test_int_omit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
