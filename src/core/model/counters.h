/* SPDX-License-Identifier: MIT */
/*
 * Kernel TCP counters: /proc/net/snmp (`Tcp:`), /proc/net/netstat (`TcpExt:`) and
 * /proc/net/sockstat (`TCP:`) of the calling thread's network namespace, parsed into a snapshot
 * that keeps every counter by (file, section, name) so new kernels' counters survive, with
 * direct accessors for the ones kernel-facts §13 names, a table explaining those, and deltas
 * between two snapshots that say when a counter went backwards instead of underflowing.
 *
 * The text parsers take (text, len) and need no kernel, so they are unit-tested and fuzzed.
 * Nothing here prints, exits or keeps global state; a snapshot belongs to one thread at a time.
 */
#ifndef TD_COUNTERS_H
#define TD_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Which /proc/net file a value came from. */
enum counters_src {
	COUNTERS_SNMP = 0, /* /proc/net/snmp: "Tcp:", "Ip:", "Udp:"... header/value line pairs */
	COUNTERS_NETSTAT,  /* /proc/net/netstat: "TcpExt:", "IpExt:", "MPTcpExt:"... pairs */
	COUNTERS_SOCKSTAT, /* /proc/net/sockstat: "TCP: inuse N orphan N tw N alloc N mem N" */
	COUNTERS_SRC_COUNT,
};

enum counters_kind {
	COUNTERS_COUNTER = 0, /* only grows while the namespace lives: show the delta */
	COUNTERS_GAUGE,	      /* a current level (CurrEstab, sockstat): show the value */
};

/* The counters the tool reasons about (kernel-facts §13, §4, §7, §8, §11, §12). */
enum counters_id {
	/* /proc/net/snmp Tcp: */
	COUNTERS_ACTIVE_OPENS = 0,
	COUNTERS_PASSIVE_OPENS,
	COUNTERS_ATTEMPT_FAILS,
	COUNTERS_ESTAB_RESETS,
	COUNTERS_CURR_ESTAB, /* gauge */
	/* /proc/net/netstat TcpExt: */
	COUNTERS_TW,
	COUNTERS_TW_KILLED,
	COUNTERS_TW_RECYCLED,
	COUNTERS_TIME_WAIT_OVERFLOW,
	COUNTERS_PAWS_ACTIVE,
	COUNTERS_PAWS_ESTAB,
	COUNTERS_PAWS_TIMEWAIT,
	COUNTERS_PAWS_OLD_ACK,
	COUNTERS_LISTEN_OVERFLOWS,
	COUNTERS_LISTEN_DROPS,
	COUNTERS_REQQ_FULL_DO_COOKIES,
	COUNTERS_REQQ_FULL_DROP,
	COUNTERS_SYNCOOKIES_SENT,
	COUNTERS_SYNCOOKIES_RECV,
	COUNTERS_SYNCOOKIES_FAILED,
	COUNTERS_ABORT_ON_DATA,
	COUNTERS_ABORT_ON_CLOSE,
	COUNTERS_ABORT_ON_MEMORY,
	COUNTERS_ABORT_ON_TIMEOUT,
	COUNTERS_ABORT_ON_LINGER,
	/* /proc/net/sockstat TCP: (all gauges) */
	COUNTERS_SOCK_INUSE,
	COUNTERS_SOCK_ORPHAN,
	COUNTERS_SOCK_TW,
	COUNTERS_SOCK_ALLOC,
	COUNTERS_SOCK_MEM,
	COUNTERS_ID_COUNT,
};

/* What one known counter means, in kernel-facts' words. Static, read-only. */
struct td_counters_info {
	enum counters_id id;
	const char *name; /* as the kernel spells it: "ListenOverflows", "tw" */
	enum counters_src src;
	const char *section; /* "Tcp", "TcpExt" or "TCP" (sockstat) */
	enum counters_kind kind;
	bool global; /* host-wide even inside a child namespace (sockstat orphan, mem, alloc) */
	const char *meaning; /* one line */
	const char *signals; /* the incident it points at, one short phrase */
};

/* The table, indexed by enum counters_id (counters_known[i].id == i). */
extern const struct td_counters_info counters_known[COUNTERS_ID_COUNT];

/* Looks a known counter up by kernel name ("TWRecycled"; sockstat names "inuse", "tw"... are
 * matched only with src COUNTERS_SOCKSTAT). Returns the entry or NULL. */
const struct td_counters_info *counters_info_find(enum counters_src src, const char *section,
						  const char *name);

/* Limits that hostile input hits first. */
#define COUNTERS_SECTION_MAX 32	   /* bytes with the NUL: "TcpExt" */
#define COUNTERS_NAME_MAX    64	   /* bytes with the NUL: "TCPReqQFullDoCookies" */
#define COUNTERS_LINE_MAX    65536 /* a longer line is -EBADMSG (TcpExt's header is ~3 KiB) */
#define COUNTERS_ENTRIES_MAX 8192  /* per snapshot, all files together (6.18: ~450) */
#define COUNTERS_FILE_MAX    (1u << 20)

/* One value of a snapshot. */
struct td_counters_entry {
	enum counters_src src;
	char section[COUNTERS_SECTION_MAX];
	char name[COUNTERS_NAME_MAX];
	uint64_t value; /* magnitude */
	bool negative;	/* the kernel printed "-N" (Tcp MaxConn is -1): value holds N */
};

/* A snapshot. Entries keep file order; look-ups go through a hash index. */
struct td_counters {
	struct td_counters_entry *v;
	size_t n, cap;
	uint32_t *index; /* open addressing over v, index_cap slots, 0 = empty, else i + 1 */
	size_t index_cap;
	uint64_t taken_ns; /* util_now_ns() when counters_read() finished; 0 for parsed text */
	bool have[COUNTERS_SRC_COUNT]; /* which files were parsed into it */
};

/* Where a parse failed. */
struct td_counters_err {
	enum counters_src src;
	unsigned line; /* 1-based line of the text; one past the last line for "missing" */
	char msg[128]; /* "header has 15 columns but values 14", ... */
};

/* An empty snapshot. Never NULL (aborts on OOM). Free with counters_free(). */
struct td_counters *counters_new(void);
/* Frees a snapshot; accepts NULL. */
void counters_free(struct td_counters *c);

/*
 * Parses one file's text (not NUL-terminated; len bytes) into c. Accepts LF or CRLF line ends
 * and a missing final newline. Requires the section that matters: "Tcp" in snmp, "TcpExt" in
 * netstat, "TCP" in sockstat. Returns 0, or -EBADMSG with *err (may be NULL) naming the line:
 * header and value lines that differ in prefix or column count, a non-numeric or overflowing
 * value, a name too long, a line longer than COUNTERS_LINE_MAX, a header without values, a
 * duplicate name, the required section missing, or a NUL byte. -EEXIST when that file was
 * already parsed into c; -E2BIG past COUNTERS_ENTRIES_MAX. On error c is as before the call.
 * Never reads outside [text, text + len).
 */
int counters_parse(struct td_counters *c, enum counters_src src, const char *text, size_t len,
		   struct td_counters_err *err);

/*
 * Reads /proc/thread-self/net/{snmp,netstat,sockstat}: those of the calling thread's network
 * namespace, so enter a namespace (netns_enter) before calling. Returns 0 and *out (caller
 * frees), or -errno from open/read (-ENOENT, -EACCES), -EBADMSG with *err (may be NULL) set.
 */
int counters_read(struct td_counters **out, struct td_counters_err *err);

/* The value of (src, section, name). Returns the entry, or NULL when c lacks it. */
const struct td_counters_entry *counters_get(const struct td_counters *c, enum counters_src src,
					     const char *section, const char *name);

/* The value of a known counter: 0 and *out, or -ENOENT when this kernel (or file) lacks it.
 * A negative value also gives -ERANGE (none of the known counters can be negative). */
int counters_value(const struct td_counters *c, enum counters_id id, uint64_t *out);

/* How a value moved between two snapshots. */
struct td_counters_delta {
	uint64_t before, after;
	uint64_t delta; /* after - before when it grew or stayed; 0 when it went backwards */
	bool backwards; /* after < before: a counter was reset (namespace recreated, module
			       reloaded) or a gauge fell; delta is then 0, never an underflow */
	bool missing;	/* absent from one of the snapshots: nothing else is meaningful */
	double rate;	/* delta per second over the snapshots' interval; 0 without one */
};

/*
 * Compares one value between before and after (either may lack it: then d->missing). For a
 * gauge, backwards is normal and means it fell by before - after. Can't fail.
 */
void counters_delta(const struct td_counters *before, const struct td_counters *after,
		    enum counters_src src, const char *section, const char *name,
		    struct td_counters_delta *d);

/* The same for a known counter. Can't fail. */
void counters_delta_known(const struct td_counters *before, const struct td_counters *after,
			  enum counters_id id, struct td_counters_delta *d);

/* "snmp", "netstat", "sockstat". */
const char *counters_src_name(enum counters_src src);

#endif
