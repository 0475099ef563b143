// SPDX-License-Identifier: MIT
/*
 * Record and replay of conntrack reads (ct_record.h). The writer is a td_ct_io tap, so the live
 * code path records exactly what it parses. The replay trusts nothing: chunk headers are
 * checked, the sysctl lines of a namespace are gathered until its first dump or stats chunk, a
 * namespace must end with CT_END, and every error names the file and the chunk's offset.
 */
#include "core/conntrack/ct_record.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/names.h"
#include "core/source/record.h"
#include "core/util.h"

#define CT_NAME_MAX   4096
#define CT_SYSCTL_MAX (64u << 10)

int ct_record_tap(void *arg, enum td_ct_raw kind, const void *buf, size_t len)
{
	struct td_ct_rec_tap *t = arg;
	unsigned char *c;
	int r;

	if (len > TD_RECORD_MAX_CHUNK - 2)
		return -EFBIG;
	c = xmalloc(len + 2);
	c[0] = (unsigned char)t->pass;
	c[1] = (unsigned char)kind;
	memcpy(c + 2, buf, len);
	r = record_write(t->rec, TD_CHUNK_CT, c, len + 2);
	free(c);
	return r;
}

int ct_record_meta(struct td_record *rec, bool netns, bool interval)
{
	char m[96];
	int n = snprintf(m, sizeof(m), "recorded_by=conntrack\nnetns=%d\ninterval=%d\n", netns,
			 interval);

	return record_write(rec, TD_CHUNK_META, m, (size_t)n);
}

int ct_record_end(struct td_record *rec, int dump_err, bool interrupted)
{
	char m[64];
	int n = snprintf(m, sizeof(m), "dump_err=%d\ninterrupted=%d\n", -dump_err, interrupted);

	return record_write(rec, TD_CHUNK_CT_END, m, (size_t)n);
}

struct ct_replay {
	const struct td_ct_replay_cbs *cbs;
	void *arg;
	const char *path;
	char *err;
	size_t errlen;
	bool open;	  /* a namespace is open */
	bool sysctl_done; /* its sysctls were handed over */
	char *sysctl;
	size_t nsysctl;
	struct td_ct_stats stats[2];
	bool has_stats[2];
	struct td_ct_dump_stats st;
};

static int fail(struct ct_replay *rp, uint64_t off, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(rp->err, rp->errlen, "%s: %s (chunk at offset %llu)", rp->path, what,
		 (unsigned long long)off);
	return -EBADMSG;
}

static int flush_sysctls(struct ct_replay *rp)
{
	struct td_ct_io io = { .sysctl_text = rp->sysctl ? rp->sysctl : "",
			       .sysctl_len = rp->nsysctl };

	if (rp->sysctl_done)
		return 0;
	rp->sysctl_done = true;
	return rp->cbs->sysctls ? rp->cbs->sysctls(rp->arg, &io) : 0;
}

/* "key=N" in a short text chunk, or -1. */
static long long kv(const unsigned char *d, size_t len, const char *key)
{
	char buf[128], *p;
	uint64_t v;
	size_t kl = strlen(key);

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, d, len);
	buf[len] = '\0';
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			char *e = p + kl + 1 + strcspn(p + kl + 1, "\n");
			char c = *e;
			*e = '\0';
			int r = util_parse_u64(p + kl + 1, 0, 4095, &v);
			*e = c;
			return r ? -1 : (long long)v;
		}
	}
	return -1;
}

static int ct_chunk(struct ct_replay *rp, const unsigned char *d, size_t len, uint64_t off)
{
	unsigned pass, kind;
	int r = 0;

	if (!rp->open)
		return fail(rp, off, "conntrack data before any namespace");
	if (len < 2 || d[0] > 1 || d[1] > TD_CT_RAW_SYSCTL)
		return fail(rp, off, "corrupt conntrack chunk header");
	pass = d[0];
	kind = d[1];
	d += 2;
	len -= 2;
	if (kind == TD_CT_RAW_SYSCTL) {
		if (rp->sysctl_done || rp->nsysctl + len > CT_SYSCTL_MAX || memchr(d, '\0', len))
			return fail(rp, off, "misplaced or corrupt sysctl line");
		rp->sysctl = xrealloc(rp->sysctl, rp->nsysctl + len + 1);
		memcpy(rp->sysctl + rp->nsysctl, d, len);
		rp->nsysctl += len;
		rp->sysctl[rp->nsysctl] = '\0';
		return 0;
	}
	if (pass == 1 && (r = flush_sysctls(rp)) < 0)
		return r;
	/* netlink parsers want the 4-byte alignment recv() gives; the payload sits 2 bytes in */
	void *al = xmalloc(len ? len : 1);
	memcpy(al, d, len);
	if (kind == TD_CT_RAW_DUMP) {
		r = conntrack_parse(al, len, rp->cbs->entry, rp->arg, &rp->st);
		free(al);
		/* a kernel error inside the dump ends it; CT_END carries it */
		return r == -EBADMSG ? fail(rp, off, "corrupt ctnetlink dump data") : 0;
	}
	r = kind == TD_CT_RAW_STATS ? conntrack_stats_parse(al, len, &rp->stats[pass])
				    : conntrack_stats_parse_proc(al, len, &rp->stats[pass]);
	free(al);
	if (r == -EBADMSG)
		return fail(rp, off, "corrupt conntrack statistics");
	rp->has_stats[pass] = true;
	return 0;
}

static int ns_end(struct ct_replay *rp, const unsigned char *d, size_t len, uint64_t off)
{
	long long de = kv(d, len, "dump_err"), in = kv(d, len, "interrupted");
	int r;

	if (!rp->open || de < 0 || in < 0 || in > 1)
		return fail(rp, off, "corrupt end of namespace");
	if ((r = flush_sysctls(rp)) < 0)
		return r;
	rp->st.interrupted = rp->st.interrupted || in;
	for (unsigned p = 0; p < 2 && rp->cbs->stats; p++)
		if (rp->has_stats[p] && (r = rp->cbs->stats(rp->arg, p, &rp->stats[p])) < 0)
			return r;
	if (rp->cbs->ns_end && (r = rp->cbs->ns_end(rp->arg, -(int)de, &rp->st)) < 0)
		return r;
	rp->open = false;
	return 0;
}

static int ns_begin(struct ct_replay *rp, const unsigned char *d, size_t len, uint64_t off)
{
	char *raw, *name;
	int r;

	if (rp->open)
		return fail(rp, off, "a namespace starts before the previous one ended");
	if (len > CT_NAME_MAX)
		return fail(rp, off, "a namespace name of %zu bytes", len);
	raw = xmalloc(len + 1);
	memcpy(raw, d, len);
	raw[len] = '\0';
	name = names_escape_str(raw);
	free(raw);
	free(rp->sysctl);
	rp->sysctl = NULL;
	rp->nsysctl = 0;
	rp->sysctl_done = false;
	memset(rp->stats, 0, sizeof(rp->stats));
	memset(rp->has_stats, 0, sizeof(rp->has_stats));
	memset(&rp->st, 0, sizeof(rp->st));
	rp->open = true;
	r = rp->cbs->ns_begin ? rp->cbs->ns_begin(rp->arg, name) : 0;
	free(name);
	return r;
}

static int replay_loop(struct ct_replay *rp, struct td_record_reader *rd, bool *netns,
		       bool *interval)
{
	uint32_t type;
	const unsigned char *d;
	size_t len;
	bool meta = false;
	int r;

	while ((r = record_next(rd, &type, &d, &len)) == 1) {
		uint64_t off = rd->offset - 8 - len;
		if (!meta) {
			long long n = type == TD_CHUNK_META ? kv(d, len, "netns") : -1;
			long long i = type == TD_CHUNK_META ? kv(d, len, "interval") : -1;
			if (n < 0 || i < 0 || len < 21 || memcmp(d, "recorded_by=conntrack", 21))
				return fail(rp, off,
					    "not a conntrack record (write one with 'tcpdoctor "
					    "conntrack --record FILE')");
			*netns = n != 0;
			*interval = i != 0;
			meta = true;
		} else if (type == TD_CHUNK_NETNS) {
			r = ns_begin(rp, d, len, off);
		} else if (type == TD_CHUNK_CT) {
			r = ct_chunk(rp, d, len, off);
		} else if (type == TD_CHUNK_CT_END) {
			r = ns_end(rp, d, len, off);
		} else {
			return fail(rp, off, "unexpected chunk type %u in a conntrack record",
				    type);
		}
		if (r < 0)
			return r;
	}
	if (r < 0) {
		snprintf(rp->err, rp->errlen, "%s: %s at offset %llu", rp->path,
			 r == -EBADMSG ? "truncated or corrupt record" : strerror(-r),
			 (unsigned long long)rd->offset);
		return r;
	}
	if (!meta || rp->open)
		return fail(rp, rd->offset, "the record ends %s",
			    meta ? "inside a namespace (truncated?)" : "before its header");
	return 0;
}

int ct_record_replay(const char *path, const struct td_ct_replay_cbs *cbs, void *arg, bool *netns,
		     bool *interval, char *err, size_t errlen)
{
	struct td_record_reader rd;
	char *shown = names_escape_str(path);
	struct ct_replay rp = {
		.cbs = cbs, .arg = arg, .path = shown, .err = err, .errlen = errlen
	};
	int r = record_open(path, &rd);

	*netns = *interval = false;
	err[0] = '\0';
	if (r) {
		if (r == -EBADMSG)
			snprintf(err, errlen, "%s: not a tcpdoctor record (bad magic)", shown);
		else if (r == -EINVAL)
			snprintf(err, errlen, "%s: it is %s, not a regular file", shown,
				 record_file_kind(rd.mode));
		else
			snprintf(err, errlen, "cannot read replay file '%s': %s", shown,
				 strerror(-r));
		free(shown);
		return r;
	}
	r = replay_loop(&rp, &rd, netns, interval);
	if (r < 0 && !err[0])
		snprintf(err, errlen, "%s: %s", shown, strerror(-r));
	free(rp.sysctl);
	record_reader_close(&rd);
	free(shown);
	return r;
}
