/* SPDX-License-Identifier: MIT */
/*
 * The finding catalogue and the error table: one entry per finding id the rules emit (title,
 * cause, remedies, the reference into doc/tcp-facts.md, the thresholds it uses, the commands
 * that show its evidence) and one per error message users paste from logs (errno name and
 * number, the message, its possible causes, how to tell them apart, which command checks each).
 * The rules take each finding's reference from here, and `check --help`, the exporter and
 * `explain` print from here, so the words cannot drift apart. catalogue_resolve() finds what a
 * user's input names: a finding id, a sysctl key, a section of the document, an errno or a
 * message.
 *
 * Read-only data and pure functions: no I/O, no printing, no state. Thread-safe.
 */
#ifndef TD_CATALOGUE_H
#define TD_CATALOGUE_H

#include <stddef.h>

struct td_param;
struct td_section;

#define TD_CAT_REMEDIES 6
#define TD_CAT_CAUSES	6

struct td_cat_finding {
	const char *id;	   /* as rules_add() emits it: "port-exhaustion" */
	const char *title; /* one line, without numbers */
	const char *cause; /* what it means and why, two or three sentences */
	const char *tell;  /* what tcpdoctor measures and when the finding fires */
	const char *remedies[TD_CAT_REMEDIES]; /* NULL-terminated; application fixes first */
	const char *ref;		       /* "tcp-facts#ephemeral-ports" */
	const char *see_also;		       /* further anchors, space separated, or NULL */
	const char *limits; /* thresholds it uses (check --warn NAME=N), space separated */
	const char *checks; /* the commands that show its evidence */
};

struct td_cat_cause {
	const char *cause; /* one possible cause */
	const char *tell;  /* how to tell it from the others */
	const char *check; /* the tcpdoctor command (or other tool) that checks it */
};

struct td_cat_error {
	const char *name;     /* "EADDRNOTAVAIL"; NULL for a kernel log message */
	int errnum;	      /* this machine's errno value, 0 for a log message */
	const char *message;  /* the text as strerror() or the kernel prints it */
	const char *match[3]; /* further texts that identify it (NULL-terminated) */
	const char *summary;  /* one sentence: what happened */
	struct td_cat_cause causes[TD_CAT_CAUSES]; /* up to the first NULL cause */
	const char *ref;			   /* "tcp-facts#ephemeral-ports" */
};

extern const struct td_cat_finding catalogue_findings[];
extern const size_t catalogue_nfindings;
extern const struct td_cat_error catalogue_errors[];
extern const size_t catalogue_nerrors;

/* The entry of a finding id, or NULL. */
const struct td_cat_finding *catalogue_finding(const char *id);
/* The reference of a finding id ("tcp-facts#..."), or NULL when the id is unknown. */
const char *catalogue_ref(const char *id);

/* The sysctl key input names: dotted or with '/' (a /proc/sys/ path too), with or without the
 * "net.ipv4." / "net.core." / "net.netfilter." prefix. NULL if the table has no such key. */
const struct td_param *catalogue_key(const char *input);

enum td_cat_kind {
	TD_CAT_FINDING = 1,
	TD_CAT_KEY,
	TD_CAT_SECTION,
	TD_CAT_ERROR,
};

struct td_cat_match {
	enum td_cat_kind kind;
	union {
		const struct td_cat_finding *finding;
		const struct td_param *key;
		const struct td_section *section;
		const struct td_cat_error *error;
	} u;
};

/*
 * What input names, into m[0 .. return-1] (at most max): a finding id, a sysctl key and a
 * section anchor (all that match exactly: "orphans" is both a finding and a section); failing
 * those, errors by errno number ("99"), errno name ("EADDRNOTAVAIL", any case) or message (a
 * known message found in the input, or the input, at least 4 characters, found in a message;
 * case-insensitive). Returns 0 when nothing matches. Can't fail.
 */
size_t catalogue_resolve(const char *input, struct td_cat_match *m, size_t max);

/* Up to max names (finding ids, keys, anchors, errno names) closest to input by edit distance,
 * best first, into out. Returns how many. Can't fail. */
size_t catalogue_suggest(const char *input, const char **out, size_t max);

#endif
