/* SPDX-License-Identifier: MIT */
/*
 * The diagnosis model: everything `doctor` and `check` reason about, gathered per network
 * namespace in one streaming pass over the sockets (census, listeners and their queues, the
 * ephemeral-port table, TIME_WAIT split by side, FIN_WAIT2 orphans, CLOSE_WAIT by owning
 * process), plus the kernel counters taken twice an interval apart and the sysctl values with
 * their verdicts. The rules (rules.h) read it; nothing here judges.
 *
 * Not thread-safe (entering namespaces changes the calling thread's namespace, restored before
 * model_collect returns).
 */
#ifndef TD_MODEL_H
#define TD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/model/census.h"
#include "core/conntrack/conntrack.h"
#include "core/conntrack/ct_census.h"
#include "core/source/owners.h"
#include "core/sysctl/params.h"
#include "core/source/source.h"

struct td_counters;
struct td_ports;
struct td_port_dest;

struct td_listener {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	uint32_t accept_q;    /* connections waiting for accept() */
	uint32_t backlog;     /* the accept queue holds backlog + 1 */
	bool backlog_unknown; /* read from /proc: no backlog there, no queue finding */
	uint32_t syn_recv;    /* request sockets to this port (all of its listeners) */
	pid_t pid;	      /* holder, 0 unknown */
	char comm[16];
};

#define TD_CW_PEERS 3

struct td_cw_peer {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	uint32_t n;
};

/* CLOSE_WAIT held by one process: the peer closed, the program never did. */
struct td_cw_proc {
	pid_t pid; /* 0: sockets no process could be found for */
	char comm[16];
	uint32_t n;
	/* inet_diag's rqueue of a CLOSE_WAIT socket counts the peer's FIN as 1 until the program
	 * reads end-of-stream (kernel-facts §14): the data is rqueue - 1, and rqueue 0 means the
	 * program read EOF and still did not close. */
	uint64_t unread_data;		      /* bytes of data waiting, the FIN not counted */
	uint32_t eof_unread;		      /* sockets whose program never read end-of-stream */
	struct td_cw_peer peers[TD_CW_PEERS]; /* the first peers seen, with counts */
	uint32_t other_peers;		      /* sockets to peers beyond those */
};

/* A sysctl's value in a namespace and the knowledge table's verdict on it. */
struct td_sysctl_val {
	const struct td_param *param;
	char value[128];
	enum td_sev sev; /* worst verdict */
	struct td_verdict v[PARAMS_VERDICTS_MAX];
	size_t nv;
};

/* Distinct ephemeral local ports in use from one source address, whatever the destination:
 * what bind(addr, 0) and bind-before-connect run out of (a bound port is exclusive; connect()
 * shares one across destinations). */
struct td_src_ports {
	uint8_t family;
	uint8_t addr[16];
	uint32_t n; /* distinct ports */
	uint32_t capacity;
	/* Of n, ports whose offset from the range's low end is odd: the parity bind(0) tries first
	 * and connect() takes only once a destination holds all of its own parity (§5). */
	uint32_t bind_parity;
	uint8_t *bitmap; /* 65536 bits; private to model.c */
};

#define TD_SRC_PORTS_MAX 64 /* source addresses tracked per namespace; more are ignored */

/* The namespace's netfilter connection-tracking table: counted as the dump streams past (no
 * entry is kept). present false: no nf_conntrack in this kernel (or a replay, which records no
 * table yet): a state, not an error. */
struct td_ns_ct {
	bool present;
	bool max_ro;	  /* nf_conntrack_max is read-only here: a child namespace, the host's */
	int dump_err;	  /* 0, or the -errno of the ctnetlink dump (census then empty) */
	bool interrupted; /* NLM_F_DUMP_INTR */
	struct td_ct_table table;
	struct td_ct_census census;
	struct td_ct_timeout timeouts[TD_CT_TIMEOUTS];
	bool has_stats;		   /* s1 read */
	bool has_delta;		   /* s0 read an interval before s1 */
	struct td_ct_stats s0, s1; /* summed per-CPU statistics */
	uint64_t s0_ns, s1_ns;	   /* when they were read (CLOCK_MONOTONIC) */
	/* the (protocol, destination port) with the most entries: what a notrack rule names */
	uint8_t top_proto;
	uint16_t top_dport;
	uint64_t top_n;
};

struct td_ns_model {
	char *name;
	uint32_t ino; /* the namespace's inode (live runs; 0 in a replay): matches trace rows */
	enum td_source_kind used;
	bool interrupted;
	struct td_census census;
	struct td_listener *lis;
	size_t nlis, caplis;
	struct td_ports *ports;
	struct td_port_dest *dests; /* by risk, after model_collect */
	struct td_src_ports *src;   /* by source address */
	size_t nsrc;
	unsigned capacity; /* ephemeral ports of this namespace's range */
	size_t ndests;
	uint64_t tw_server; /* TIME_WAIT on a listening port: the server closed first */
	uint64_t tw_client; /* TIME_WAIT on an ephemeral port: the client closed first */
	uint64_t tw_other;
	uint16_t tw_top_port; /* the listening port with the most TIME_WAIT */
	uint64_t tw_top_port_n;
	uint64_t fw2_orphans; /* FIN_WAIT2 that no process holds (orphans) */
	/* Of those, full orphan sockets (not yet timewait): with tcp_fin_timeout above 60 s an
	 * orphaned FIN_WAIT2 stays a real socket, counted in sockstat orphan against
	 * tcp_max_orphans, for the part of the timeout beyond 60 s (kernel-facts §1). */
	uint64_t fw2_full;
	struct td_cw_proc *cw;
	size_t ncw, capcw;
	char *meta; /* "key=value\n" sysctls as the source read them */
	struct td_sysctl_val *sys;
	size_t nsys;
	struct td_counters *c0, *c1; /* NULL when unavailable (replay, no /proc) */
	double interval_s;	     /* between c0 and c1 */
	struct td_ns_ct ct;
	/* private to model.c while collecting */
	uint32_t *tw_by_port, *syn_by_port;
};

/* What a trace saw while doctor ran (doctor --trace): its failure and reset rows, counts exact,
 * each row's namespace by inode (td_ns_model.ino). */
struct td_trace_row;
struct td_trace_agg;
struct td_model_trace {
	double duration_s;
	uint64_t events, lost;
	struct td_trace_row *fail, *rst; /* as trace_agg_rows gives them: most frequent first */
	size_t nfail, nrst;
};

struct td_model {
	struct td_ns_model *ns;
	size_t n;
	bool replay;
	bool have_owners;
	struct td_owners_stats ost;
	uint64_t max_orphans; /* host-wide tcp_max_orphans, 0 unknown */
	uint64_t orphans;     /* host-wide sockstat orphan, from the first namespace */
	struct td_kenv env;
	/* bytes per conntrack entry: the nf_conntrack slab's object size from /proc/slabinfo
	 * (ct_entry_measured), else TD_CT_ENTRY_BYTES */
	uint64_t ct_entry_bytes;
	bool ct_entry_measured;
	struct td_model_trace *trace; /* NULL: no trace ran */
};

/* struct nf_conn's slab object on x86_64 6.18 (measured here in /proc/slabinfo), used when
 * /proc/slabinfo cannot be read (it is root-only). */
#define TD_CT_ENTRY_BYTES 256

struct td_model_opts {
	struct td_source_opts src;
	unsigned interval_ms; /* between the two counter snapshots; 0: one snapshot */
	bool no_owners;	      /* skip the /proc scan */
};

/* Collects the model. Returns 0 and *out (free with model_free), or the -errno of source_run
 * with errbuf (TD_ERRMSG_LEN) explaining; on success errbuf may hold source_run's note. */
int model_collect(const struct td_model_opts *o, struct td_model **out, char *errbuf);
void model_free(struct td_model *m);
/* Gives m the failures and resets a trace counted (doctor --trace). Can't fail. */
void model_trace_attach(struct td_model *m, const struct td_trace_agg *agg, double duration_s,
			uint64_t lost);

/* Delta of a TcpExt/Tcp counter between the two snapshots, or its absolute value (*absolute
 * set) when there is only one. Returns -ENOENT when unknown. */
int model_counter(const struct td_ns_model *ns, const char *section, const char *name,
		  uint64_t *value, bool *absolute);
/* A sockstat gauge ("orphan", "tw") from the latest snapshot; -ENOENT when unknown. */
int model_gauge(const struct td_ns_model *ns, const char *name, uint64_t *value);
/* A sysctl value from the namespace's meta or live read, as an integer; -ENOENT/-EINVAL. */
int model_sysctl_int(const struct td_ns_model *ns, const char *key, int64_t *out);

/* model_ct.c. Reads the current namespace's conntrack table into ct: the first look (again
 * false) takes everything; again takes a second statistics snapshot (s0 <- s1). Can't fail:
 * what could not be read stays unknown. */
void model_ct_collect(struct td_ns_ct *ct, bool again);
/* The nf_conntrack slab's object size from /proc/slabinfo. Returns 0 or -errno. */
int model_ct_entry_bytes(uint64_t *bytes);
/* The same from the text of /proc/slabinfo: 0, -ENOENT (no nf_conntrack line) or -EBADMSG. */
int model_ct_slab_parse(const char *text, size_t len, uint64_t *bytes);
/* The namespace tracks connections: present, and entries now or activity in the statistics. */
bool model_ct_tracking(const struct td_ns_ct *ct);
/* A conntrack timeout in seconds by name ("tcp_time_wait", "udp"); -ENOENT when unknown. */
int model_ct_timeout(const struct td_ns_ct *ct, const char *name, uint64_t *seconds);

#endif
