// SPDX-License-Identifier: MIT
/*
 * Replay of recorded dumps. Walks the chunks in order: NETNS opens a namespace, META gives its
 * sysctls, NETLINK and PROC_TCP{,6} chunks go to the same parsers a live run uses. A netlink
 * dump that never reached NLMSG_DONE means the file was cut short: that is an error, not a
 * quietly smaller census.
 */
#include "core/source/source_replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/names.h"
#include "core/source/record.h"
#include "core/source/source_netlink.h"
#include "core/source/source_procfs.h"
#include "core/util.h"

/* A recorded namespace name is a /run/netns name or the path given to -N: PATH_MAX at most. */
#define NETNS_NAME_MAX 4096

struct replay {
	const struct td_source_opts *o;
	const struct td_source_cbs *cbs;
	void *arg;
	char *errbuf;
	const char *path;
	struct td_ns_info ns;
	char *name;
	char *meta;
	struct td_dump_stats st;
	struct td_sink sink;
	bool open;	 /* a namespace has begun */
	bool wanted;	 /* and matches -N */
	bool begun;	 /* ns_begin was called */
	bool nl_pending; /* a netlink dump has not reached NLMSG_DONE */
	bool matched_any;
	bool seen_ns; /* any namespace at all: a record without one was cut short */
	unsigned next_idx;
};

static int ns_finish(struct replay *rp, uint64_t off)
{
	int r = 0;

	if (!rp->open)
		return 0;
	if (rp->nl_pending) {
		source_errf(rp->errbuf,
			    "%s: truncated record: the netlink dump of namespace '%s' ends before "
			    "NLMSG_DONE (offset %llu)",
			    rp->path, rp->name, (unsigned long long)off);
		return -EBADMSG;
	}
	if (rp->wanted && !rp->begun && rp->cbs->ns_begin)
		r = rp->cbs->ns_begin(&rp->ns, rp->arg);
	if (r >= 0 && rp->wanted && rp->cbs->ns_end)
		r = rp->cbs->ns_end(&rp->ns, &rp->st, rp->arg);
	free(rp->name);
	free(rp->meta);
	rp->name = rp->meta = NULL;
	rp->open = false;
	return r < 0 ? r : 0;
}

static void ns_start(struct replay *rp, const char *name, size_t len)
{
	const char *want = rp->o->netns;

	/* The name is data from a file: escaped once here (names.h) so that no output, terminal,
	 * JSON or Prometheus, meets control characters or invalid UTF-8. -N matches either the
	 * raw bytes or the escaped form the outputs show. */
	rp->name = names_escape(name, len);
	rp->meta = xstrdup("");
	rp->open = true;
	rp->begun = false;
	rp->nl_pending = false;
	rp->wanted = !want || !strcmp(want, "all") || !strcmp(want, rp->name) ||
		     (strlen(want) == len && !memcmp(want, name, len));
	rp->matched_any |= rp->wanted;
	rp->seen_ns = true;
	memset(&rp->st, 0, sizeof(rp->st));
	rp->ns = (struct td_ns_info){ .name = rp->name, .idx = rp->next_idx, .meta = rp->meta };
	rp->sink = (struct td_sink){ rp->cbs->sock, rp->arg, rp->o->states, rp->o->families,
				     rp->next_idx };
	if (rp->wanted)
		rp->next_idx++;
}

/* Data chunks: ns_begin goes first, once, so it sees the namespace's meta. */
static int data_chunk(struct replay *rp, uint32_t type, const unsigned char *d, size_t len,
		      uint64_t off)
{
	int r;

	if (!rp->open)
		ns_start(rp, "", 0); /* a record without NETNS chunks: one unnamed namespace */
	if (!rp->wanted)
		return 0;
	if (!rp->begun) {
		rp->begun = true;
		if (rp->cbs->ns_begin && (r = rp->cbs->ns_begin(&rp->ns, rp->arg)) < 0)
			return r;
	}
	if (type == TD_CHUNK_CT || type == TD_CHUNK_CT_END) {
		source_errf(rp->errbuf,
			    "%s: a conntrack record (chunk at offset %llu): replay it with "
			    "'tcpdoctor --replay FILE conntrack'",
			    rp->path, (unsigned long long)off);
		return -EBADMSG;
	}
	if (type == TD_CHUNK_NETLINK) {
		rp->ns.used = TD_SRC_NETLINK;
		r = netlink_parse(d, len, &rp->sink, &rp->st);
		if (r >= 0)
			rp->nl_pending = r == 0;
	} else {
		unsigned bad = 0;
		rp->ns.used = TD_SRC_PROCFS;
		r = procfs_parse((const char *)d, len,
				 type == TD_CHUNK_PROC_TCP ? AF_INET : AF_INET6, &rp->sink, &rp->st,
				 &bad);
		if (r == -EBADMSG) {
			source_errf(rp->errbuf,
				    "%s: corrupt /proc/net/tcp%s text at line %u (chunk at "
				    "offset %llu)",
				    rp->path, type == TD_CHUNK_PROC_TCP ? "" : "6", bad,
				    (unsigned long long)off);
			return r;
		}
	}
	if (r == -EBADMSG)
		source_errf(rp->errbuf, "%s: corrupt netlink data in chunk at offset %llu",
			    rp->path, (unsigned long long)off);
	return r < 0 ? r : 0;
}

static int replay_loop(struct replay *rp, struct td_record_reader *rd)
{
	uint32_t type;
	const unsigned char *d;
	size_t len;
	int r;

	while ((r = record_next(rd, &type, &d, &len)) == 1) {
		uint64_t off = rd->offset - 8 - len;
		if (type == TD_CHUNK_NETNS) {
			if (len > NETNS_NAME_MAX) {
				/* a name or a path (-N /proc/PID/ns/net): never this long */
				source_errf(rp->errbuf,
					    "%s: corrupt record: a namespace name of %zu bytes at "
					    "offset %llu (at most %d)",
					    rp->path, len, (unsigned long long)off, NETNS_NAME_MAX);
				return -EBADMSG;
			}
			if ((r = ns_finish(rp, off)) < 0)
				return r;
			ns_start(rp, (const char *)d, len);
		} else if (type == TD_CHUNK_META) {
			if (!rp->open)
				continue; /* file-level meta: tool and kernel version */
			free(rp->meta);
			rp->meta = xstrdup((const char *)d);
			rp->ns.meta = rp->meta;
		} else if ((r = data_chunk(rp, type, d, len, off)) < 0) {
			return r;
		}
	}
	if (r < 0) {
		source_errf(rp->errbuf, "%s: %s at offset %llu", rp->path,
			    r == -EBADMSG ? "truncated or corrupt record" : strerror(-r),
			    (unsigned long long)rd->offset);
		return r;
	}
	return ns_finish(rp, rd->offset);
}

int replay_run(const struct td_source_opts *o, const struct td_source_cbs *cbs, void *arg,
	       char *errbuf)
{
	struct td_record_reader rd;
	/* the file name goes into messages: escaped like any name from outside */
	char *shown = names_escape_str(o->replay);
	struct replay rp = { .o = o, .cbs = cbs, .arg = arg, .errbuf = errbuf, .path = shown };
	int r = record_open(o->replay, &rd);

	if (r) {
		if (r == -EBADMSG)
			source_errf(errbuf,
				    "%s: not a tcpdoctor record (bad magic; expected a file "
				    "written by 'tcpdoctor sockets --record')",
				    shown);
		else if (r == -EINVAL)
			source_errf(errbuf,
				    "cannot read replay file '%s': it is %s, not a regular file "
				    "(a record is a file written by 'tcpdoctor sockets --record')",
				    shown, record_file_kind(rd.mode));
		else
			source_errf(errbuf, "cannot read replay file '%s': %s", shown,
				    strerror(-r));
		free(shown);
		return r;
	}
	r = replay_loop(&rp, &rd);
	if (!r && !rp.seen_ns) {
		source_errf(errbuf,
			    "%s: the record holds no namespace: truncated right after its "
			    "header?",
			    shown);
		r = -EBADMSG;
	}
	free(rp.name);
	free(rp.meta);
	record_reader_close(&rd);
	if (!r && o->netns && strcmp(o->netns, "all") && !rp.matched_any) {
		char *want = names_escape_str(o->netns);
		source_errf(errbuf, "%s: no namespace '%s' in this record", shown, want);
		free(want);
		r = -ENOENT;
	}
	free(shown);
	return r;
}
