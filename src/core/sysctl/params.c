// SPDX-License-Identifier: MIT
/*
 * The logic around the sysctl knowledge table (the data is in params_data.c): key
 * normalisation as systemd-sysctl and procps do it, this kernel's default for a key, strict
 * parsing of a value by its shape, the judge that turns a value into verdicts, and the
 * did-you-mean distance. Pure functions; no I/O.
 */
#include "core/sysctl/params.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

const char *params_sev_name(enum td_sev s)
{
	static const char *const names[] = { "ok", "info", "note", "warn", "harmful", "error" };

	return (unsigned)s < TD_ARRAY_SIZE(names) ? names[s] : "?";
}

const struct td_param *params_find(const char *key)
{
	for (size_t i = 0; i < params_count; i++)
		if (!strcmp(params_table[i].key, key))
			return &params_table[i];
	return NULL;
}

int params_key_normalize(const char *key, char *dotted, char *path, size_t len)
{
	size_t n = strlen(key);
	size_t sep = strcspn(key, "./");
	char s = key[sep] == '/' ? '/' : '.';

	if (n == 0 || key[0] == s || key[n - 1] == s)
		return -EINVAL;
	if (n >= len)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)key[i];
		if (c <= ' ' || c == 0x7f || (c == (unsigned char)s && key[i + 1] == s))
			return -EINVAL;
		/* the dotted form uses '.' between names and '/' inside one, the path the other
		 * way round: swap the two characters in whichever form the key is not written in */
		char swapped = c == '.' ? '/' : c == '/' ? '.' : (char)c;
		if (dotted)
			dotted[i] = s == '/' ? swapped : (char)c;
		if (path)
			path[i] = s == '.' ? swapped : (char)c;
	}
	if (dotted)
		dotted[n] = '\0';
	if (path)
		path[n] = '\0';
	return 0;
}

static const char *fixed_default(const struct td_param *p, unsigned kver)
{
	const char *v = NULL;

	for (size_t i = 0; i < TD_ARRAY_SIZE(p->defaults) && p->defaults[i].value; i++)
		if (!kver || p->defaults[i].since <= kver)
			v = p->defaults[i].value;
	return v;
}

static bool exists_on(const struct td_param *p, unsigned kver)
{
	if (!kver)
		return true;
	if (p->added && kver < p->added)
		return false;
	return !(p->removed && kver >= p->removed);
}

int params_default(const struct td_param *p, const struct td_kenv *env, char *buf, size_t len)
{
	uint64_t v;
	int n;

	if (!exists_on(p, env->kver))
		return -ENOENT;
	switch (p->defkind) {
	case TD_DEF_FIXED:
	case TD_DEF_INHERITED: {
		const char *d = fixed_default(p, env->kver);
		if (!d)
			return -ENODATA;
		n = snprintf(buf, len, "%s", d);
		break;
	}
	case TD_DEF_EHASH_HALF:
	case TD_DEF_EHASH_128:
		if (!env->ehash)
			return -ENODATA;
		v = p->defkind == TD_DEF_EHASH_HALF ? env->ehash / 2 : env->ehash / 128;
		if (p->defkind == TD_DEF_EHASH_128 && v < 128)
			v = 128;
		n = snprintf(buf, len, "%" PRIu64, v);
		break;
	default:
		return -ENODATA;
	}
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* Splits value into up to max integers separated by blanks. Returns how many, or -1 on junk. */
static int split_ints(const char *value, int64_t *vals, size_t max, int64_t lo, int64_t hi,
		      const char **why)
{
	char tok[32];
	size_t n = 0;
	const char *s = value;

	for (;;) {
		s += strspn(s, " \t");
		if (!*s)
			break;
		size_t l = strcspn(s, " \t");
		if (n == max) {
			*why = "too many numbers";
			return -1;
		}
		if (l >= sizeof(tok)) {
			*why = "not a decimal number";
			return -1;
		}
		memcpy(tok, s, l);
		tok[l] = '\0';
		int r = util_parse_i64(tok, INT64_MIN, INT64_MAX, &vals[n]);
		if (r == -ERANGE || (!r && (vals[n] < lo || vals[n] > hi))) {
			*why = "number out of range";
			return -1;
		}
		if (r) {
			*why = "not a decimal number";
			return -1;
		}
		n++;
		s += l;
	}
	return (int)n;
}

static int parse_portlist(const char *value, const char **why)
{
	const char *s = value;

	*why = "expects a port list such as 8080,9000-9010";
	while (*s) {
		uint64_t a, b;
		char tok[16];
		size_t l = strcspn(s, ",");
		const char *dash = memchr(s, '-', l);
		size_t la = dash ? (size_t)(dash - s) : l;

		if (la == 0 || la >= sizeof(tok))
			return -EINVAL;
		memcpy(tok, s, la);
		tok[la] = '\0';
		if (util_parse_u64(tok, 0, 65535, &a))
			return -EINVAL;
		if (dash) {
			size_t lb = l - la - 1;
			if (lb == 0 || lb >= sizeof(tok))
				return -EINVAL;
			memcpy(tok, dash + 1, lb);
			tok[lb] = '\0';
			if (util_parse_u64(tok, 0, 65535, &b) || b < a)
				return -EINVAL;
		}
		s += l;
		if (*s == ',' && !*++s)
			return -EINVAL;
	}
	return 0;
}

int params_parse_value(const struct td_param *p, const char *value, int64_t *vals, size_t *nvals,
		       const char **why)
{
	static const size_t want[] = { [TD_SHAPE_INT] = 1,
				       [TD_SHAPE_CHOICE] = 1,
				       [TD_SHAPE_TRIPLE] = 3,
				       [TD_SHAPE_RANGE] = 2 };
	static const char *const shape_why[] = {
		[TD_SHAPE_INT] = "expects one integer",
		[TD_SHAPE_CHOICE] = "expects one integer",
		[TD_SHAPE_TRIPLE] = "expects three integers: min pressure/default max",
		[TD_SHAPE_RANGE] = "expects two port numbers: low high",
	};
	int64_t hi;
	int n;

	*nvals = 0;
	if (p->shape == TD_SHAPE_PORTLIST)
		return parse_portlist(value, why);
	if (p->shape == TD_SHAPE_STRING) {
		*why = "expects one word";
		if (!*value || value[strcspn(value, " \t")])
			return -EINVAL;
		return 0;
	}
	/* most keys are C ints; triples are longs (tcp_mem), and an enforced maximum above
	 * INT32_MAX marks an unsigned key (tcp_notsent_lowat) */
	hi = p->shape == TD_SHAPE_TRIPLE	 ? INT64_MAX
	     : p->enforced && p->max > INT32_MAX ? p->max
						 : INT32_MAX;
	n = split_ints(value, vals, want[p->shape], INT32_MIN, hi, why);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n != want[p->shape]) {
		*why = shape_why[p->shape];
		return -EINVAL;
	}
	*nvals = (size_t)n;
	return 0;
}

static void add(struct td_verdict *v, size_t *n, enum td_sev sev, const char *msg, const char *why,
		const char *ref)
{
	if (*n < PARAMS_VERDICTS_MAX)
		v[(*n)++] = (struct td_verdict){ sev, msg, why, ref, 0 };
}

static bool rule_matches(const struct td_rule *r, int64_t x, bool have_def, int64_t def)
{
	switch (r->op) {
	case TD_ROP_EQ:
		return x == r->arg;
	case TD_ROP_NE:
		return x != r->arg;
	case TD_ROP_LT:
		return x < r->arg;
	case TD_ROP_GT:
		return x > r->arg;
	case TD_ROP_BELOW_DEFAULT:
		return have_def && x < def;
	case TD_ROP_ABOVE_DEFAULT:
		return have_def && x > def;
	case TD_ROP_NOT_DEFAULT:
		return have_def && x != def;
	}
	return false;
}

/* Existence and shape: the checks that make a line an error. Returns true when judged. */
static bool judge_form(const struct td_param *p, const struct td_kenv *env, const char *value,
		       int64_t *vals, size_t *nvals, struct td_verdict *v, size_t *n)
{
	const char *why = NULL;

	if (env->kver && p->removed && env->kver >= p->removed) {
		add(v, n, TD_SEV_ERROR, "removed from the kernel in", p->history, p->ref);
		v[*n - 1].kv = p->removed;
		return true;
	}
	if (env->kver && p->added && env->kver < p->added) {
		add(v, n, TD_SEV_ERROR, "only added to the kernel in", p->history, p->ref);
		v[*n - 1].kv = p->added;
		return true;
	}
	if (params_parse_value(p, value, vals, nvals, &why)) {
		add(v, n, TD_SEV_ERROR, "invalid value: the kernel rejects it or misreads it", why,
		    "DOC ip-sysctl");
		return true;
	}
	for (size_t i = 0; p->enforced && i < *nvals; i++) {
		if (vals[i] < p->min || vals[i] > p->max) {
			add(v, n, TD_SEV_ERROR, "out of range: the kernel rejects this value",
			    p->meaning, p->ref);
			return true;
		}
	}
	return false;
}

enum td_sev params_judge(const struct td_param *p, const struct td_kenv *env, const char *value,
			 struct td_verdict *v, size_t *n)
{
	int64_t vals[3] = { 0 }, def[3] = { 0 };
	size_t nvals = 0, ndef = 0;
	char dbuf[128];
	const char *why;
	bool have_def = false;
	enum td_sev worst = TD_SEV_OK;

	*n = 0;
	if (!judge_form(p, env, value, vals, &nvals, v, n)) {
		if (!params_default(p, env, dbuf, sizeof(dbuf)))
			have_def = !params_parse_value(p, dbuf, def, &ndef, &why);
		if (p->shape == TD_SHAPE_CHOICE && !p->enforced &&
		    (vals[0] < p->min || vals[0] > p->max))
			add(v, n, TD_SEV_WARN, "not a documented value: the kernel stores it as is",
			    p->meaning, p->ref);
		for (size_t i = 0; nvals && i < p->nrules; i++) {
			const struct td_rule *r = &p->rules[i];
			if (rule_matches(r, vals[0], have_def && ndef, def[0])) {
				add(v, n, r->sev, r->message, r->reason, r->ref);
				break;
			}
		}
		if (p->check)
			p->check(p, env, vals, nvals, v, n);
		if (*n == 0 && have_def) {
			bool same =
				nvals ? nvals == ndef && !memcmp(vals, def, nvals * sizeof(*vals))
				      : !strcmp(value, dbuf);
			if (same)
				add(v, n, TD_SEV_INFO,
				    "same as this kernel's default: the line changes nothing",
				    p->meaning, p->ref);
		}
	}
	if (*n == 0)
		add(v, n, TD_SEV_OK, "no known problem", p->meaning, p->ref);
	for (size_t i = 0; i < *n; i++)
		if (v[i].sev > worst)
			worst = v[i].sev;
	return worst;
}

unsigned params_edit_distance(const char *a, const char *b, unsigned limit)
{
	unsigned row[256];
	size_t la = strnlen(a, 255), lb = strnlen(b, 255);

	if ((la > lb ? la - lb : lb - la) > limit)
		return limit + 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0], best;
		row[0] = (unsigned)i;
		best = row[0];
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned m = diag + cost;
			if (up + 1 < m)
				m = up + 1;
			if (row[j - 1] + 1 < m)
				m = row[j - 1] + 1;
			row[j] = m;
			diag = up;
			if (m < best)
				best = m;
		}
		if (best > limit)
			return limit + 1;
	}
	return row[lb] > limit ? limit + 1 : row[lb];
}

const struct td_param *params_suggest(const char *key, unsigned limit, unsigned *dist)
{
	const struct td_param *best = NULL;
	unsigned bd = limit + 1;

	for (size_t i = 0; i < params_count; i++) {
		unsigned d = params_edit_distance(key, params_table[i].key, limit);
		if (d < bd) {
			bd = d;
			best = &params_table[i];
		}
	}
	if (dist)
		*dist = bd;
	return best;
}
