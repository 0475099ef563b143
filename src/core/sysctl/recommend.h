/* SPDX-License-Identifier: MIT */
/*
 * The policy of `sysctl recommend` and the socket facts of the `sysctl` audit, read from one
 * namespace of the diagnosis model (model.h: the same data doctor uses, gathered in one
 * streaming pass). A recommendation is a key, its current and suggested values, the reason the
 * evidence gives, a reference into tcp-facts.md and, when a program is the cause, what to change
 * in it first. Application fixes come first in the list, then harmful values set back to the
 * kernel's defaults, then what the evidence justifies, then what the profile asks for. Nothing
 * is suggested that the knowledge table (params.h) would warn about, and a key is suggested at
 * most once.
 *
 * Pure: no I/O, no printing. Allocation failure aborts. Thread-safe on distinct outputs.
 */
#ifndef TD_RECOMMEND_H
#define TD_RECOMMEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sysctl/sysctl_cross.h"

struct td_ns_model;
struct td_kenv;
struct td_port_dest;

#define TD_REC_VAL_MAX 512 /* a sysctl value as /proc/sys prints it (reserved-port lists) */

enum td_rec_profile {
	TD_REC_AUTO = 0, /* only what the evidence justifies */
	TD_REC_CLIENT,	 /* also tcp_tw_reuse=1 for outgoing connections */
	TD_REC_SERVER,	 /* also somaxconn >= 4096; never tcp_tw_reuse */
};

enum td_rec_kind {
	TD_REC_APP = 0,	   /* no sysctl fixes it: the application must change (key NULL) */
	TD_REC_RESET,	   /* a harmful value back to this kernel's default */
	TD_REC_NO_DEFAULT, /* a harmful value, but this kernel's default is not known */
	TD_REC_EVIDENCE,   /* a change the namespace's sockets and counters justify */
	TD_REC_PROFILE,	   /* a change the profile asks for */
	TD_REC_KIND_COUNT,
};

struct td_rec {
	enum td_rec_kind kind;
	const char *key;	      /* static; NULL for TD_REC_APP */
	char current[TD_REC_VAL_MAX]; /* "" when there is no key */
	char suggested[32];	      /* "" for TD_REC_APP and TD_REC_NO_DEFAULT */
	char *reason;		      /* owned: the evidence and the effect, no reference */
	const char *ref;	      /* "tcp-facts#ANCHOR", static */
	const char *app_fix;	      /* static: the program change to make first, or NULL */
};

/* What the recommendations were drawn from (the drop-in's header). */
struct td_rec_evidence {
	uint64_t time_wait;    /* TIME_WAIT sockets in the namespace */
	uint32_t top_tw;       /* TIME_WAIT holding ephemeral ports to the busiest destination */
	uint32_t top_capacity; /* ports connect() can use for that destination */
	size_t listeners;      /* listening ports (IPv4 and IPv6 on one port count once) */
	uint64_t sock_tw, listen_overflows, tw_overflow; /* absolute counters */
	bool have_sock_tw, have_listen_overflows, have_tw_overflow;
};

struct td_recs {
	struct td_rec *v;
	size_t n;
	struct td_rec_evidence ev;
};

/* "auto", "client", "server" to a profile. Returns 0 or -EINVAL. */
int recommend_profile_parse(const char *s, enum td_rec_profile *out);
const char *recommend_profile_name(enum td_rec_profile p);
/* "app", "reset", "no-default", "evidence", "profile". Static. */
const char *recommend_kind_name(enum td_rec_kind k);

/* The evidence of one namespace. Can't fail. */
void recommend_evidence(const struct td_ns_model *ns, struct td_rec_evidence *ev);

/*
 * The recommendations for namespace ns, env describing that namespace (its kernel version,
 * ehash and unprivileged port start: what defaults and verdicts depend on). Fills *out (free
 * with recommend_free); out->n is 0 when nothing is justified. Can't fail.
 */
void recommend_run(const struct td_ns_model *ns, const struct td_kenv *env,
		   enum td_rec_profile profile, struct td_recs *out);
/* Frees what recommend_run allocated; accepts a zeroed or NULL out. */
void recommend_free(struct td_recs *out);

/* The facts the audit's cross-key checks read (sysctl_cross.h), from the model: values from the
 * namespace's sysctls, its listening ports, sockstat tw. The strings and listeners live in r
 * (free with recommend_cross_free). Can't fail. */
struct td_rec_cross {
	struct td_cross_facts f;
	struct td_cross_listener *ls;
	char val[6][TD_REC_VAL_MAX];
};
void recommend_cross_facts(const struct td_ns_model *ns, struct td_rec_cross *r);
void recommend_cross_free(struct td_rec_cross *r);

/* A sysctl value of the namespace as /proc/sys printed it (tabs folded), or NULL when the key
 * is absent there. buf holds TD_REC_VAL_MAX bytes. */
const char *recommend_value(const struct td_ns_model *ns, const char *key,
			    char buf[TD_REC_VAL_MAX]);

#endif
