// SPDX-License-Identifier: MIT
/*
 * Kernel TCP counters: the table of those that matter (kernel-facts §13), strict parsers for the
 * three /proc/net files, a snapshot keeping every value found by (file, section, name) behind a
 * small hash index, and deltas that refuse to underflow. The parsers treat the text as hostile:
 * they walk it with explicit bounds (never relying on a NUL), check every column count and
 * number, and leave the snapshot untouched when they fail.
 */
#include "core/model/counters.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define C_ COUNTERS_COUNTER
#define G_ COUNTERS_GAUGE

/* Meanings follow kernel-facts.md; PAWSTimewait and PAWSOldAck are newer than the sheet (6.15,
 * read from the kernel's commit adding them). */
const struct td_counters_info counters_known[COUNTERS_ID_COUNT] = {
	{ COUNTERS_ACTIVE_OPENS, "ActiveOpens", COUNTERS_SNMP, "Tcp", C_, false,
	  "SYN sent: connect() started a connection",
	  "outgoing connection rate (port use: tcp-facts#ephemeral-ports)" },
	{ COUNTERS_PASSIVE_OPENS, "PassiveOpens", COUNTERS_SNMP, "Tcp", C_, false,
	  "handshake completed: a listener created a child socket", "incoming connection rate" },
	{ COUNTERS_ATTEMPT_FAILS, "AttemptFails", COUNTERS_SNMP, "Tcp", C_, false,
	  "a connection went from SYN_SENT or SYN_RECV to CLOSE",
	  "failed connects: refused port, reset or timed-out handshake" },
	{ COUNTERS_ESTAB_RESETS, "EstabResets", COUNTERS_SNMP, "Tcp", C_, false,
	  "a connection went from ESTABLISHED or CLOSE_WAIT to CLOSE", "connections reset" },
	{ COUNTERS_CURR_ESTAB, "CurrEstab", COUNTERS_SNMP, "Tcp", G_, false,
	  "connections now in ESTABLISHED or CLOSE_WAIT", "load; a CLOSE_WAIT leak counts here" },
	{ COUNTERS_TW, "TW", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "timewait sockets with a timeout > 4 s (armed or expired, version dependent)",
	  "TIME_WAIT churn: short connections closed first on this side" },
	{ COUNTERS_TW_KILLED, "TWKilled", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "timewait sockets with a timeout <= 4 s (armed or expired, version dependent)",
	  "short FIN_WAIT2 timeouts (tcp_fin_timeout)" },
	{ COUNTERS_TW_RECYCLED, "TWRecycled", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "a TIME_WAIT was taken over by connect() (tcp_tw_reuse)",
	  "port reuse under TIME_WAIT pressure" },
	{ COUNTERS_TIME_WAIT_OVERFLOW, "TCPTimeWaitOverflow", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "a TIME_WAIT could not be created: tcp_max_tw_buckets reached, the socket skipped it",
	  "TIME_WAIT bucket table overflow" },
	{ COUNTERS_PAWS_ACTIVE, "PAWSActive", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "a SYN-ACK was rejected by PAWS in SYN_SENT", "timestamp trouble (NAT, reuse)" },
	{ COUNTERS_PAWS_ESTAB, "PAWSEstab", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "segments were rejected by PAWS", "old duplicates or timestamp trouble" },
	{ COUNTERS_PAWS_TIMEWAIT, "PAWSTimewait", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "segments to a TIME_WAIT socket were rejected by PAWS (6.15+)",
	  "old duplicates hitting TIME_WAIT" },
	{ COUNTERS_PAWS_OLD_ACK, "PAWSOldAck", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "ACKs with a too-old timestamp were rejected by PAWS (6.15+)", "timestamp trouble" },
	{ COUNTERS_LISTEN_OVERFLOWS, "ListenOverflows", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "a listener's accept queue was full: a completing handshake or a new SYN was dropped",
	  "application accepts too slowly, or backlog small" },
	{ COUNTERS_LISTEN_DROPS, "ListenDrops", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "a listener dropped a SYN or ACK for any reason (>= ListenOverflows)",
	  "full accept or SYN queue" },
	{ COUNTERS_REQQ_FULL_DO_COOKIES, "TCPReqQFullDoCookies", COUNTERS_NETSTAT, "TcpExt", C_,
	  false, "SYN queue full: a SYN cookie was sent instead", "SYN flood or small backlog" },
	{ COUNTERS_REQQ_FULL_DROP, "TCPReqQFullDrop", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "SYN queue full: a SYN was dropped (no cookies)", "SYN flood with tcp_syncookies=0" },
	{ COUNTERS_SYNCOOKIES_SENT, "SyncookiesSent", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "SYN cookies sent", "SYN queue full" },
	{ COUNTERS_SYNCOOKIES_RECV, "SyncookiesRecv", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "SYN cookies validated", "SYN queue full, clients still getting in" },
	{ COUNTERS_SYNCOOKIES_FAILED, "SyncookiesFailed", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "invalid SYN cookies received", "stray or forged ACKs" },
	{ COUNTERS_ABORT_ON_DATA, "TCPAbortOnData", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "RST on close with SO_LINGER {1, 0}, or data arrived after close",
	  "linger-0 closes: no TIME_WAIT, peer sees ECONNRESET" },
	{ COUNTERS_ABORT_ON_CLOSE, "TCPAbortOnClose", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "RST on close with unread received data", "application closes without reading" },
	{ COUNTERS_ABORT_ON_MEMORY, "TCPAbortOnMemory", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "a socket was reset: too many orphans or tcp_mem[2] reached",
	  "orphan flood or TCP memory pressure" },
	{ COUNTERS_ABORT_ON_TIMEOUT, "TCPAbortOnTimeout", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "the retransmit, SYN or keepalive timer gave up", "dead peers or lossy path" },
	{ COUNTERS_ABORT_ON_LINGER, "TCPAbortOnLinger", COUNTERS_NETSTAT, "TcpExt", C_, false,
	  "a FIN_WAIT2 was reset because TCP_LINGER2 < 0", "applications setting TCP_LINGER2 < 0" },
	{ COUNTERS_SOCK_INUSE, "inuse", COUNTERS_SOCKSTAT, "TCP", G_, false,
	  "TCP sockets in use in this namespace (not TIME_WAIT)", "socket load" },
	{ COUNTERS_SOCK_ORPHAN, "orphan", COUNTERS_SOCKSTAT, "TCP", G_, true,
	  "orphaned sockets, host-wide (global, also inside a namespace)",
	  "orphan build-up toward tcp_max_orphans" },
	{ COUNTERS_SOCK_TW, "tw", COUNTERS_SOCKSTAT, "TCP", G_, false,
	  "timewait sockets in this namespace: TIME_WAIT plus orphaned FIN_WAIT2 (above a "
	  "tcp_fin_timeout of 60 s, only in the second part of their life)",
	  "TIME_WAIT pile-up toward tcp_max_tw_buckets" },
	/* kernel-facts §13 lists alloc as per namespace; on 6.18 it is the protocol's global
	 * sockets_allocated (tests/integration/counters.sh shows it) */
	{ COUNTERS_SOCK_ALLOC, "alloc", COUNTERS_SOCKSTAT, "TCP", G_, true,
	  "TCP sockets allocated, host-wide (global), including orphans", "socket load" },
	{ COUNTERS_SOCK_MEM, "mem", COUNTERS_SOCKSTAT, "TCP", G_, true,
	  "pages of TCP buffer memory, host-wide (global)", "TCP memory toward tcp_mem" },
};

static const char *const src_names[COUNTERS_SRC_COUNT] = { "snmp", "netstat", "sockstat" };
/* The section each file must have for a snapshot to be of any use. */
static const char *const src_required[COUNTERS_SRC_COUNT] = { "Tcp", "TcpExt", "TCP" };

const char *counters_src_name(enum counters_src src)
{
	return (unsigned)src < COUNTERS_SRC_COUNT ? src_names[src] : "?";
}

const struct td_counters_info *counters_info_find(enum counters_src src, const char *section,
						  const char *name)
{
	for (size_t i = 0; i < COUNTERS_ID_COUNT; i++) {
		const struct td_counters_info *k = &counters_known[i];
		if (k->src == src && !strcmp(k->name, name) &&
		    (!section || !strcmp(k->section, section)))
			return k;
	}
	return NULL;
}

struct td_counters *counters_new(void)
{
	return xcalloc(1, sizeof(struct td_counters));
}

void counters_free(struct td_counters *c)
{
	if (!c)
		return;
	free(c->v);
	free(c->index);
	free(c);
}

/* FNV-1a over (src, section, name): cheap and good enough for a few hundred short names. */
static uint32_t key_hash(enum counters_src src, const char *section, const char *name)
{
	uint32_t h = 2166136261u ^ (uint32_t)src;

	for (const char *p = section; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ 0xffu) * 16777619u; /* separator: ("A","BC") differs from ("AB","C") */
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static void index_put(struct td_counters *c, size_t i)
{
	const struct td_counters_entry *e = &c->v[i];
	size_t mask = c->index_cap - 1;
	size_t s = key_hash(e->src, e->section, e->name) & mask;

	while (c->index[s])
		s = (s + 1) & mask;
	c->index[s] = (uint32_t)(i + 1);
}

/* Rebuilds the index for entries [0, c->n), growing it to keep the load under one half. */
static void index_rebuild(struct td_counters *c, size_t want)
{
	size_t cap = c->index_cap ? c->index_cap : 64;

	while (cap < want * 2)
		cap *= 2;
	if (cap != c->index_cap) {
		free(c->index);
		c->index = xcalloc(cap, sizeof(*c->index));
		c->index_cap = cap;
	} else {
		memset(c->index, 0, cap * sizeof(*c->index));
	}
	for (size_t i = 0; i < c->n; i++)
		index_put(c, i);
}

const struct td_counters_entry *counters_get(const struct td_counters *c, enum counters_src src,
					     const char *section, const char *name)
{
	if (!c || !c->index_cap)
		return NULL;
	size_t mask = c->index_cap - 1;
	size_t s = key_hash(src, section, name) & mask;

	for (uint32_t i; (i = c->index[s]); s = (s + 1) & mask) {
		const struct td_counters_entry *e = &c->v[i - 1];
		if (e->src == src && !strcmp(e->section, section) && !strcmp(e->name, name))
			return e;
	}
	return NULL;
}

/* ---- parsing ---- */

struct parse {
	struct td_counters *c;
	enum counters_src src;
	struct td_counters_err *err;
	const char *p, *end; /* what is left of the text */
	unsigned line;	     /* number of the line last returned */
};

/* One line or token: a bounded slice of the text, never NUL-terminated. */
struct slice {
	const char *s;
	size_t n;
};

__attribute__((format(printf, 3, 4))) static int bad(struct parse *ps, unsigned line,
						     const char *fmt, ...)
{
	va_list ap;

	if (ps->err) {
		ps->err->src = ps->src;
		ps->err->line = line;
		va_start(ap, fmt);
		vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

/* Next non-empty line without its LF (or CRLF). Returns 1, 0 at the end, or -EBADMSG for a line
 * too long or holding a NUL or another control character. */
static int next_line(struct parse *ps, struct slice *l)
{
	while (ps->p < ps->end) {
		size_t left = (size_t)(ps->end - ps->p);
		const char *nl = memchr(ps->p, '\n', left);
		size_t n = nl ? (size_t)(nl - ps->p) : left;

		l->s = ps->p;
		ps->p += nl ? n + 1 : n;
		ps->line++;
		if (n > COUNTERS_LINE_MAX)
			return bad(ps, ps->line, "line longer than %d bytes", COUNTERS_LINE_MAX);
		if (n && l->s[n - 1] == '\r')
			n--; /* a sample that went through a CRLF tool: the CR carries nothing */
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)l->s[i] < 0x20 && l->s[i] != '\t')
				return bad(ps, ps->line, "control character 0x%02x at column %zu",
					   (unsigned char)l->s[i], i + 1);
		l->n = n;
		if (n)
			return 1;
	}
	return 0;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Pops the next blank-separated token off *rest. Returns false when none is left. */
static bool next_token(struct slice *rest, struct slice *tok)
{
	while (rest->n && is_blank(*rest->s)) {
		rest->s++;
		rest->n--;
	}
	if (!rest->n)
		return false;
	tok->s = rest->s;
	while (rest->n && !is_blank(*rest->s)) {
		rest->s++;
		rest->n--;
	}
	tok->n = (size_t)(rest->s - tok->s);
	return true;
}

static size_t count_tokens(struct slice rest)
{
	struct slice t;
	size_t n = 0;

	while (next_token(&rest, &t))
		n++;
	return n;
}

/* Names become output (terminal, JSON, metric names): letters, digits, '_', '-', '.'. */
static bool copy_name(char *dst, size_t cap, struct slice t)
{
	if (!t.n || t.n >= cap)
		return false;
	for (size_t i = 0; i < t.n; i++) {
		char ch = t.s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
			return false;
	}
	memcpy(dst, t.s, t.n);
	dst[t.n] = '\0';
	return true;
}

/* Splits "Section: rest" into the section name and the rest. */
static int split_section(struct parse *ps, struct slice line, char *sect, struct slice *rest)
{
	const char *colon = memchr(line.s, ':', line.n);

	if (!colon)
		return bad(ps, ps->line, "no 'Section:' prefix");
	struct slice name = { line.s, (size_t)(colon - line.s) };
	if (!copy_name(sect, COUNTERS_SECTION_MAX, name))
		return bad(ps, ps->line, "bad section name");
	rest->s = colon + 1;
	rest->n = line.n - name.n - 1;
	if (rest->n && !is_blank(*rest->s))
		return bad(ps, ps->line, "no blank after '%s:'", sect);
	return 0;
}

/* A decimal as the kernel prints it: unsigned, or "-N" for the few signed fields. */
static int parse_value(struct slice t, uint64_t *v, bool *neg)
{
	char buf[24];

	if (!t.n || t.n >= sizeof(buf))
		return -ERANGE;
	memcpy(buf, t.s, t.n);
	buf[t.n] = '\0';
	*neg = buf[0] == '-';
	int r = util_parse_u64(buf + *neg, 0, *neg ? (uint64_t)INT64_MAX + 1 : UINT64_MAX, v);
	if (!r && *v == 0)
		*neg = false; /* "-0" is 0 */
	return r;
}

static int add_entry(struct parse *ps, unsigned line, const char *sect, struct slice name,
		     uint64_t v, bool neg)
{
	struct td_counters *c = ps->c;
	struct td_counters_entry e = { .src = ps->src, .value = v, .negative = neg };

	if (!copy_name(e.name, sizeof(e.name), name))
		return bad(ps, line, "bad counter name '%.*s'", (int)(name.n > 40 ? 40 : name.n),
			   name.s);
	memcpy(e.section, sect, sizeof(e.section));
	if (counters_get(c, e.src, e.section, e.name))
		return bad(ps, line, "%s %s appears twice", e.section, e.name);
	if (c->n >= COUNTERS_ENTRIES_MAX)
		return -E2BIG;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n++] = e;
	if (c->n * 2 > c->index_cap)
		index_rebuild(c, c->n);
	else
		index_put(c, c->n - 1);
	return 0;
}

/* snmp and netstat: "Sect: name name ..." followed by "Sect: value value ...". */
static int parse_pairs(struct parse *ps, bool *found)
{
	struct slice hl, vl, hrest, vrest, ht, vt;
	char hsect[COUNTERS_SECTION_MAX], vsect[COUNTERS_SECTION_MAX];
	int r;

	while ((r = next_line(ps, &hl)) > 0) {
		unsigned hline = ps->line;
		if ((r = split_section(ps, hl, hsect, &hrest)))
			return r;
		if ((r = next_line(ps, &vl)) < 0)
			return r;
		if (r == 0)
			return bad(ps, hline + 1, "'%s:' header without a value line", hsect);
		if ((r = split_section(ps, vl, vsect, &vrest)))
			return r;
		if (strcmp(hsect, vsect))
			return bad(ps, ps->line, "values for '%s:' follow the '%s:' header", vsect,
				   hsect);
		size_t nh = count_tokens(hrest), nv = count_tokens(vrest);
		if (nh != nv)
			return bad(ps, ps->line, "'%s:' header has %zu columns but values %zu",
				   hsect, nh, nv);
		while (next_token(&hrest, &ht) && next_token(&vrest, &vt)) {
			uint64_t v;
			bool neg;
			if (parse_value(vt, &v, &neg))
				return bad(ps, ps->line, "%s %.*s: bad value '%.*s'", hsect,
					   (int)(ht.n > 40 ? 40 : ht.n), ht.s,
					   (int)(vt.n > 24 ? 24 : vt.n), vt.s);
			if ((r = add_entry(ps, hline, hsect, ht, v, neg)))
				return r;
		}
		*found |= !strcmp(hsect, src_required[ps->src]);
	}
	return r;
}

/* sockstat: "SECT: name value name value ..." on one line. */
static int parse_sockstat(struct parse *ps, bool *found)
{
	struct slice l, rest, nt, vt;
	char sect[COUNTERS_SECTION_MAX];
	int r;

	while ((r = next_line(ps, &l)) > 0) {
		if ((r = split_section(ps, l, sect, &rest)))
			return r;
		if (count_tokens(rest) % 2)
			return bad(ps, ps->line, "'%s:' has a name without a value", sect);
		while (next_token(&rest, &nt) && next_token(&rest, &vt)) {
			uint64_t v;
			bool neg;
			if (parse_value(vt, &v, &neg))
				return bad(ps, ps->line, "%s %.*s: bad value '%.*s'", sect,
					   (int)(nt.n > 40 ? 40 : nt.n), nt.s,
					   (int)(vt.n > 24 ? 24 : vt.n), vt.s);
			if ((r = add_entry(ps, ps->line, sect, nt, v, neg)))
				return r;
		}
		*found |= !strcmp(sect, src_required[ps->src]);
	}
	return r;
}

int counters_parse(struct td_counters *c, enum counters_src src, const char *text, size_t len,
		   struct td_counters_err *err)
{
	struct parse ps = { c, src, err, text, text + len, 0 };
	size_t n0 = c->n;
	bool found = false;
	int r;

	if ((unsigned)src >= COUNTERS_SRC_COUNT || (!text && len))
		return -EINVAL;
	if (c->have[src])
		return -EEXIST;
	if (err)
		memset(err, 0, sizeof(*err));
	r = src == COUNTERS_SOCKSTAT ? parse_sockstat(&ps, &found) : parse_pairs(&ps, &found);
	if (!r && !found)
		r = bad(&ps, ps.line + 1, "no '%s:' section", src_required[src]);
	if (r) {
		c->n = n0; /* as before the call: drop this file's entries from the index too */
		if (c->index_cap)
			index_rebuild(c, c->n);
		return r;
	}
	c->have[src] = true;
	return 0;
}

/* /proc/thread-self follows the calling thread's namespace after setns(); /proc/self/net is the
 * thread-group leader's, which differs when another thread entered a namespace. */
static int read_one(struct td_counters *c, enum counters_src src, struct td_counters_err *err)
{
	char path[64];
	char *buf = NULL;
	size_t len = 0;
	int r;

	snprintf(path, sizeof(path), "/proc/thread-self/net/%s", src_names[src]);
	r = util_read_file(path, COUNTERS_FILE_MAX, &buf, &len);
	if (r == -ENOENT) { /* kernels before 3.17 have no thread-self */
		snprintf(path, sizeof(path), "/proc/self/net/%s", src_names[src]);
		r = util_read_file(path, COUNTERS_FILE_MAX, &buf, &len);
	}
	if (!r)
		r = counters_parse(c, src, buf, len, err);
	else if (err)
		*err = (struct td_counters_err){ .src = src };
	free(buf);
	return r;
}

int counters_read(struct td_counters **out, struct td_counters_err *err)
{
	struct td_counters *c = counters_new();
	int r = 0;

	for (int s = 0; s < COUNTERS_SRC_COUNT && !r; s++)
		r = read_one(c, (enum counters_src)s, err);
	if (r) {
		counters_free(c);
		return r;
	}
	c->taken_ns = util_now_ns();
	*out = c;
	return 0;
}

int counters_value(const struct td_counters *c, enum counters_id id, uint64_t *out)
{
	if ((unsigned)id >= COUNTERS_ID_COUNT)
		return -EINVAL;
	const struct td_counters_info *k = &counters_known[id];
	const struct td_counters_entry *e = counters_get(c, k->src, k->section, k->name);
	if (!e)
		return -ENOENT;
	if (e->negative)
		return -ERANGE;
	*out = e->value;
	return 0;
}

void counters_delta(const struct td_counters *before, const struct td_counters *after,
		    enum counters_src src, const char *section, const char *name,
		    struct td_counters_delta *d)
{
	const struct td_counters_entry *b = counters_get(before, src, section, name);
	const struct td_counters_entry *a = counters_get(after, src, section, name);

	memset(d, 0, sizeof(*d));
	d->before = b ? b->value : 0;
	d->after = a ? a->value : 0;
	if (!a || !b) {
		d->missing = true;
		return;
	}
	if (!a->negative && !b->negative) {
		d->backwards = a->value < b->value;
		d->delta = d->backwards ? 0 : a->value - b->value;
	} else if (a->negative && b->negative) {
		d->backwards = a->value > b->value; /* -5 after -3 */
		d->delta = d->backwards ? 0 : b->value - a->value;
	} else if (b->negative) { /* -b to +a: grew by a + b, saturating */
		d->delta = a->value > UINT64_MAX - b->value ? UINT64_MAX : a->value + b->value;
	} else {
		d->backwards = true;
	}
	if (before->taken_ns && after->taken_ns > before->taken_ns)
		d->rate = (double)d->delta * 1e9 / (double)(after->taken_ns - before->taken_ns);
}

void counters_delta_known(const struct td_counters *before, const struct td_counters *after,
			  enum counters_id id, struct td_counters_delta *d)
{
	if ((unsigned)id >= COUNTERS_ID_COUNT) {
		*d = (struct td_counters_delta){ .missing = true };
		return;
	}
	const struct td_counters_info *k = &counters_known[id];
	counters_delta(before, after, k->src, k->section, k->name, d);
}
