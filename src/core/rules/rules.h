/* SPDX-License-Identifier: MIT */
/*
 * Findings: what is wrong, with a stable id, a severity, evidence as numbers, the cause in words
 * that agree with doc/tcp-facts.md, and remedies ordered application-first. rules_evaluate()
 * reads a model (model.h) and thresholds; nothing here touches the kernel or prints.
 */
#ifndef TD_RULES_H
#define TD_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sysctl/params.h"

struct td_model;

enum td_fsev {
	TD_F_OK = 0,
	TD_F_INFO,
	TD_F_WARNING,
	TD_F_CRITICAL,
};

#define TD_EVIDENCE_MAX 16
#define TD_REMEDIES_MAX 10

struct td_evidence {
	const char *key; /* static: "in_use", "close_rate_per_s" */
	double value;
	const char *unit; /* static: "sockets", "ports", "%", "/s", "s", "bytes", "" */
};

/* One row of a trace (doctor --trace) a finding cites: who failed or was reset, how often,
 * to where. */
#define TD_TRACED_MAX 8
struct td_traced {
	uint32_t pid;	  /* 0: not known */
	char comm[16];	  /* raw: escape before showing */
	uint32_t netns;	  /* namespace inode */
	const char *what; /* static: "connect", "bind", "reset" */
	int err;	  /* positive errno, 0 for a reset */
	char dst[64]; /* "127.0.0.1:5000", "[fd00::1]:80", "127.0.0.1" (bind: the address asked) */
	uint64_t count;
};

struct td_finding {
	const char *id; /* static, stable: "port-exhaustion", "close-wait-leak", ... */
	enum td_fsev sev;
	char *netns;   /* namespace name ("" for the current one) */
	char *subject; /* what it is about: a destination, a process, a listener, a key */
	char *title;   /* one line */
	char *cause;   /* one or two sentences */
	struct td_evidence ev[TD_EVIDENCE_MAX];
	size_t nev;
	char *remedies[TD_REMEDIES_MAX]; /* application fixes first, then sysctls */
	size_t nrem;
	size_t nrem_dropped; /* remedies past TD_REMEDIES_MAX: a bug the rule tests catch */
	const char *ref;     /* static: "tcp-facts#ephemeral-ports" (facts.h) */
	struct td_traced traced[TD_TRACED_MAX]; /* doctor --trace: the programs, most first */
	size_t ntraced;
};

struct td_findings {
	struct td_finding *v;
	size_t n, cap;
};

/* A threshold pair on one metric; a value >= crit is critical, >= warn a warning. */
struct td_limit {
	const char *name; /* as given to check --warn NAME=N */
	const char *help;
	double warn, crit;
};

/* Every threshold the rules use, by name (state names count sockets in that state). */
enum td_limit_id {
	TD_LIM_PORT_USAGE = 0, /* % of a destination's ephemeral ports in use, less reusable TW */
	TD_LIM_EXHAUST_S,      /* seconds to exhaustion: smaller is worse */
	TD_LIM_RANGE_USAGE,    /* % of the range in use from one source address, any destination */
	TD_LIM_TW_DEST,	       /* client TIME_WAIT to one destination */
	TD_LIM_TW_SERVER,      /* server-side TIME_WAIT (info only) */
	TD_LIM_CW_PROC,	       /* CLOSE_WAIT held by one process */
	TD_LIM_ACCEPT_Q,       /* % of a listener's accept queue in use */
	TD_LIM_ORPHANS,	       /* % of tcp_max_orphans */
	TD_LIM_FW2_ORPHANS,    /* FIN_WAIT2 orphans */
	TD_LIM_TW_BUCKETS,     /* % of tcp_max_tw_buckets */
	TD_LIM_CT_USAGE,       /* % of nf_conntrack_max in use in a namespace */
	TD_LIM_CT_DROPS,       /* conntrack drop + early_drop + insert_failed over the interval */
	TD_LIM_CT_TW,	       /* % of conntrack entries in TCP TIME_WAIT */
	TD_LIM_CT_UNREPLIED,   /* % of conntrack entries that never saw a reply */
	TD_LIM_CT_CHAIN,       /* average hash chain at a full table: 2 * max / buckets */
	TD_LIM_PEER_REJECTS,   /* refused connects + resets from one destination in a trace */
	TD_LIM_STATE_FIRST,    /* then one per TCP state, off (0) by default */
	TD_LIM_COUNT = TD_LIM_STATE_FIRST + 11,
};

struct td_limits {
	struct td_limit l[TD_LIM_COUNT];
};

/* The defaults doctor uses. Can't fail. */
void rules_limits_default(struct td_limits *lim);
/* Finds a limit by name ("port_usage", "time_wait", "close-wait"...). NULL if none. */
struct td_limit *rules_limit_find(struct td_limits *lim, const char *name);

/* Evaluates every rule on m. Appends to out (which the caller zero-initialises and frees with
 * rules_findings_free), sorted by severity (worst first), then by namespace and id. Can't fail. */
void rules_evaluate(const struct td_model *m, const struct td_limits *lim, struct td_findings *out);

/* The worst severity (TD_F_OK when empty). */
enum td_fsev rules_worst(const struct td_findings *f);
/* "ok", "info", "warning", "critical". */
const char *rules_sev_name(enum td_fsev s);

/* The one mapping from a sysctl verdict's severity (params.h) to a finding's: harmful and error
 * warn, warn is info, anything milder is no finding (TD_F_OK). */
enum td_fsev rules_sev_of_sysctl(enum td_sev s);
void rules_findings_free(struct td_findings *f);

/* For the rule files: a new finding in f (zeroed but for id, sev, netns, ref), and builders.
 * A NULL ref takes the id's reference from the catalogue (catalogue.h). */
struct td_finding *rules_add(struct td_findings *f, const char *id, enum td_fsev sev,
			     const char *netns, const char *ref);
void rules_subject(struct td_finding *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rules_title(struct td_finding *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rules_cause(struct td_finding *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rules_remedy(struct td_finding *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rules_ev(struct td_finding *x, const char *key, double value, const char *unit);
/* The severity a value earns against a limit (higher is worse). */
enum td_fsev rules_grade(const struct td_limit *l, double value);

/*
 * When a Linux client resends an unanswered SYN (net/ipv4/tcp_timer.c, 6.5+): the RTO starts at
 * 1 s and stays there for the first `linear` retransmits (tcp_syn_linear_timeouts; 0 before 6.5),
 * then doubles up to 120 s. connect() gives up at the first timer past retries + linear resends,
 * or past ((2 << retries) - 1) s (tcp_model_timeout; 127 s + 120 s per retry above 6), whichever
 * comes first: 6 and 4 resend after 1 2 3 4 5 7 11 19 35 67 s and fail at 131 s (133.6 s measured:
 * timer slack), 2 and 4 after 1 2 3 4 5 s and fail at 7 s (measured 7.1). at[] holds the first
 * TD_SYN_AT_MAX resend times in seconds after the first SYN; n counts them all. Can't fail.
 */
#define TD_SYN_AT_MAX 12
struct td_syn_schedule {
	unsigned n;		  /* resends before connect() fails */
	double at[TD_SYN_AT_MAX]; /* the first of them, s after the first SYN */
	double give_up;		  /* connect() fails with ETIMEDOUT, s after the first SYN */
};
void rules_syn_schedule(unsigned retries, unsigned linear, struct td_syn_schedule *s);
/* "resends its SYN after 1, 3 and 7 s and connect() fails after about 15 s" into b. */
void rules_syn_text(const struct td_syn_schedule *s, char *b, size_t len);

/* Entries of a kind (TIME_WAIT, UNREPLIED) below which their share of the table is not judged. */
#define TD_CT_MIN_ENTRIES 100

/* The rule groups (rules_sockets.c, rules_ports.c, rules_kernel.c, rules_conntrack.c). */
struct td_ns_model;
void rules_ports(const struct td_model *m, const struct td_ns_model *ns,
		 const struct td_limits *lim, struct td_findings *out);
void rules_sockets(const struct td_model *m, const struct td_ns_model *ns,
		   const struct td_limits *lim, struct td_findings *out);
void rules_kernel(const struct td_model *m, const struct td_ns_model *ns,
		  const struct td_limits *lim, struct td_findings *out);
void rules_conntrack(const struct td_model *m, const struct td_ns_model *ns,
		     const struct td_limits *lim, struct td_findings *out);
/* rules_trace.c: what a trace saw (m->trace, doctor --trace): names the programs behind a
 * port-exhaustion finding (adding one when the trace saw EADDRNOTAVAIL and the snapshot did not),
 * and peer-rejects for a destination that refused or reset us while ports were fine. Runs after
 * the other groups of the namespace (it reads their findings in out). */
void rules_trace(const struct td_model *m, const struct td_ns_model *ns,
		 const struct td_limits *lim, struct td_findings *out);

#endif
