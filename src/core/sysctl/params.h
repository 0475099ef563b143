/* SPDX-License-Identifier: MIT */
/*
 * The sysctl knowledge table: for every key kernel-facts.md discusses and every key the blog
 * snippets people paste set, whether it is per network namespace or global, the shape of its
 * value, its default on a given kernel, the versions where it appeared, changed meaning or
 * vanished, and the rules that judge a value (ok / info / note / warn / harmful / error) with a
 * one-sentence reason and a reference. The table is read-only data; judging needs a small
 * description of the running kernel (struct td_kenv) so that tests can pin it.
 *
 * Everything here is pure: no I/O, no printing, no mutable state. Thread-safe.
 */
#ifndef TD_PARAMS_H
#define TD_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A kernel version as one comparable number: PARAMS_KV(4, 18). */
#define PARAMS_KV(maj, min) ((unsigned)(maj)*1000u + (unsigned)(min))

/* Severity of a verdict or finding, in rising order. The words printed are those of
 * params_sev_name(): "ok", "info", "note", "warn", "harmful", "error". */
enum td_sev {
	TD_SEV_OK = 0, /* nothing to say (audit only; lint never reports it) */
	TD_SEV_INFO,   /* true and worth knowing, changes nothing */
	TD_SEV_NOTE,   /* works, but not for the reason people set it, or rarely matters */
	TD_SEV_WARN,   /* questionable: has a cost or a trap */
	TD_SEV_HARMFUL,
	TD_SEV_ERROR, /* the line cannot work: syntax, unknown key, value the kernel rejects */
};

enum td_pscope {
	TD_SCOPE_NETNS = 0, /* each network namespace has its own value */
	TD_SCOPE_GLOBAL,    /* one value for the host; absent or read-only in child namespaces */
};

enum td_pshape {
	TD_SHAPE_INT = 0,  /* one integer */
	TD_SHAPE_CHOICE,   /* one integer from a documented set (0/1/2 switches) */
	TD_SHAPE_TRIPLE,   /* three integers: min pressure max, or min default max */
	TD_SHAPE_RANGE,	   /* two ports: low high */
	TD_SHAPE_PORTLIST, /* "8080,9000-9010" or empty */
	TD_SHAPE_STRING,   /* a word (congestion control name) */
};

/* How the default on a given kernel is found. */
enum td_pdef {
	TD_DEF_FIXED = 0,  /* compiled in: defaults[] by version */
	TD_DEF_EHASH_HALF, /* half the TCP established-hash size */
	TD_DEF_EHASH_128,  /* max(128, ehash size / 128): tcp_max_syn_backlog */
	TD_DEF_MEMORY,	   /* computed from free memory at boot: not reproducible */
	TD_DEF_INHERITED,  /* a new namespace copies the initial namespace's value */
};

/* What the judge needs to know about the running kernel. Fill with sysctl_kenv_read() or by
 * hand in tests. A zero field means "unknown" and disables the rules that need it. */
struct td_kenv {
	unsigned kver;		    /* PARAMS_KV(major, minor) */
	uint64_t ehash;		    /* TCP ehash buckets (net.ipv4.tcp_ehash_entries) */
	uint64_t phys_pages;	    /* RAM in pages */
	uint64_t unpriv_port_start; /* ip_unprivileged_port_start; 0 also when unknown */
};

/* A compiled-in default valid from a version on (entries in rising order). */
struct td_pdefault {
	unsigned since; /* PARAMS_KV, 0 = always */
	const char *value;
};

enum td_rop {
	TD_ROP_EQ = 0,
	TD_ROP_NE,
	TD_ROP_LT,
	TD_ROP_GT,
	TD_ROP_BELOW_DEFAULT, /* lower than this kernel's default (needs a known default) */
	TD_ROP_ABOVE_DEFAULT,
	TD_ROP_NOT_DEFAULT,
};

/* A declarative rule on the (first) integer of a value. The first that matches wins. */
struct td_rule {
	enum td_rop op;
	int64_t arg;
	enum td_sev sev;
	const char *message; /* short verdict: "harmful: lowers TIME_WAIT protection" */
	const char *reason;  /* one sentence: why */
	const char *ref;     /* "tcp-facts#tw-buckets": a section of doc/tcp-facts.md (facts.h) */
};

/* One judgement of a value. Strings are static (from the table). */
struct td_verdict {
	enum td_sev sev;
	const char *message;
	const char *reason;
	const char *ref;
	unsigned kv; /* the version the message is about ("removed in"), 0 = none */
};

/* Room for the verdicts of one value (a port range can earn several). */
#define PARAMS_VERDICTS_MAX 4

struct td_param;
/* Extra, shape-specific judgement (ranges, triples). Appends to v[*n] up to
 * PARAMS_VERDICTS_MAX. vals holds the parsed integers. */
typedef void (*td_pcheck_fn)(const struct td_param *p, const struct td_kenv *env,
			     const int64_t *vals, size_t nvals, struct td_verdict *v, size_t *n);

struct td_param {
	const char *key; /* dotted form: "net.ipv4.tcp_tw_reuse" */
	enum td_pscope scope;
	enum td_pshape shape;
	bool enforced;	  /* the kernel rejects each integer outside [min, max] */
	int64_t min, max; /* for CHOICE: the documented values are min..max */
	unsigned added;	  /* PARAMS_KV, 0 = older than any kernel we care about */
	unsigned removed; /* PARAMS_KV, 0 = still there */
	enum td_pdef defkind;
	struct td_pdefault defaults[3];
	const char *history; /* versions where it appeared, changed meaning, vanished */
	const char *meaning; /* one sentence: what it really does */
	const char *ref;
	const struct td_rule *rules;
	size_t nrules;
	td_pcheck_fn check;
};

/* The table (params_data.c). */
extern const struct td_param params_table[];
extern const size_t params_count;

/* "ok", "info", "note", "warn", "harmful", "error". Can't fail. */
const char *params_sev_name(enum td_sev s);

/* Finds a key in dotted form. Returns the entry or NULL. */
const struct td_param *params_find(const char *key);

/*
 * Normalises a key as systemd-sysctl and procps do: when the first separator is '/', '/'
 * separates and '.' is part of a name (net/ipv4/conf/eth0.1/rp_filter); otherwise '.'
 * separates and '/' is part of a name. Writes the dotted form ("net.ipv4.conf.eth0/1.rp_filter")
 * to dotted and the /proc/sys-relative path ("net/ipv4/conf/eth0.1/rp_filter") to path, either
 * may be NULL. Returns 0, -EINVAL (empty, a leading/trailing/double separator, whitespace or a
 * control byte) or -ENAMETOOLONG (longer than len - 1).
 */
int params_key_normalize(const char *key, char *dotted, char *path, size_t len);

/*
 * This kernel's default for p into buf ("32768 60999"). Returns 0, -ENODATA when it depends on
 * boot-time memory (tcp_mem) or on what env does not know, -ENOENT when the key does not exist
 * on env->kver, -ENOSPC when buf is too small.
 */
int params_default(const struct td_param *p, const struct td_kenv *env, char *buf, size_t len);

/*
 * Parses value by p's shape into vals (up to 3 integers, *nvals of them; none for PORTLIST and
 * STRING). Whitespace between numbers may be spaces or tabs. Returns 0, or -EINVAL with a
 * static explanation in *why ("expects two numbers: low high").
 */
int params_parse_value(const struct td_param *p, const char *value, int64_t *vals, size_t *nvals,
		       const char **why);

/*
 * Judges value for p on the kernel env describes: existence on env->kver (removed, not yet
 * added), shape and enforced range (error), then the table's rules, then "same as the default"
 * (info) or nothing (TD_SEV_OK). Fills v[0 .. *n-1] (at least one entry, PARAMS_VERDICTS_MAX at
 * most), sorted by nothing in particular. Returns the highest severity. Can't fail.
 */
enum td_sev params_judge(const struct td_param *p, const struct td_kenv *env, const char *value,
			 struct td_verdict *v, size_t *n);

/* Levenshtein distance between a and b, or limit + 1 when it exceeds limit (cheap bail-out).
 * Can't fail; strings longer than 255 bytes are compared on their first 255. */
unsigned params_edit_distance(const char *a, const char *b, unsigned limit);

/* The table key closest to key within distance limit, or NULL. */
const struct td_param *params_suggest(const char *key, unsigned limit, unsigned *dist);

#endif
