// SPDX-License-Identifier: MIT
/*
 * The socket source dispatcher: decides which namespaces to visit (current, one, or all), enters
 * each, picks the kernel source (inet_diag, or /proc/net/tcp when inet_diag is unavailable),
 * records what it read when asked, and restores the caller's namespace. Replay lives in
 * source_replay.c; both end in the same parsers.
 */
#include "core/source/source.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>

#include "core/names.h"
#include "core/source/netns.h"
#include "core/sysctl/params.h"
#include "core/source/record.h"
#include "core/source/source_netlink.h"
#include "core/source/source_procfs.h"
#include "core/source/source_replay.h"
#include "core/util.h"

/* Every namespace visited gets its sysctls read into "key=value" meta: each key of the knowledge
 * table (params.h) that exists here. Commands that need them (ports, doctor) read them from
 * there, and a recorded dump keeps them, so a replay judges the same values. About 40 small
 * files: well under a millisecond. */
void source_errf(char *errbuf, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, TD_ERRMSG_LEN, fmt, ap);
	va_end(ap);
}

static void meta_append(char **out, size_t *n, size_t *cap, const char *key, const char *path)
{
	char full[300], *val;
	size_t len;

	snprintf(full, sizeof(full), "/proc/sys/%s", path);
	if (util_read_file(full, 4096, &val, &len))
		return;
	/* one line: tabs and newlines (port ranges, tcp_mem) become spaces */
	for (size_t j = 0; j < len; j++)
		if (val[j] == '\t' || val[j] == '\n' || val[j] == '\r')
			val[j] = ' ';
	while (len && val[len - 1] == ' ')
		val[--len] = '\0';
	size_t need = strlen(key) + len + 3;
	if (*n + need >= *cap) {
		*cap = (*n + need) * 2;
		*out = xrealloc(*out, *cap);
	}
	*n += (size_t)snprintf(*out + *n, *cap - *n, "%s=%s\n", key, val);
	free(val);
}

/* "key=value\n" for each knowledge-table key readable in the current namespace. */
static char *read_meta(void)
{
	size_t cap = 4096, n = 0;
	char *out = xmalloc(cap);
	char path[256];

	out[0] = '\0';
	for (size_t i = 0; i < params_count; i++) {
		if (params_key_normalize(params_table[i].key, NULL, path, sizeof(path)))
			continue;
		meta_append(&out, &n, &cap, params_table[i].key, path);
	}
	return out;
}

int source_meta_get(const char *meta, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);

	for (const char *p = meta; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t line = nl ? (size_t)(nl - p) : strlen(p);
		if (line > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			size_t v = line - klen - 1;
			if (!len)
				return -ENOSPC;
			if (v >= len)
				v = len - 1;
			memcpy(buf, p + klen + 1, v);
			buf[v] = '\0';
			return 0;
		}
		p += line + (nl ? 1 : 0);
	}
	return -ENOENT;
}

static bool no_inet_diag(int r)
{
	return r == -EPROTONOSUPPORT || r == -ENOENT || r == -EOPNOTSUPP;
}

/* Dumps the current namespace with the requested kernel source. */
static int dump_one(const struct td_source_opts *o, const struct td_source_cbs *cbs, void *arg,
		    struct td_record *rec, struct td_ns_info *ns, char *errbuf)
{
	struct td_dump_stats st = { 0 };
	struct td_sink sink = { cbs->sock, arg, o->states, o->families, ns->idx };
	char *meta = read_meta();
	int r = 0;

	ns->meta = meta;
	if (rec) {
		r = record_write(rec, TD_CHUNK_NETNS, ns->name, strlen(ns->name));
		if (!r)
			r = record_write(rec, TD_CHUNK_META, meta, strlen(meta));
		if (r) {
			source_errf(errbuf, "cannot write record '%s': %s", o->record,
				    strerror(-r));
			goto out;
		}
	}
	if (cbs->ns_begin && (r = cbs->ns_begin(ns, arg)) < 0)
		goto out;
	bool counted = cbs->ns_begin && r == TD_NS_COUNTED;
	if (o->visit_only || counted) {
		r = 0;
	} else if (o->kind != TD_SRC_PROCFS) {
		ns->used = TD_SRC_NETLINK;
		r = netlink_dump(&sink, rec, &st);
		if (r < 0 && o->kind == TD_SRC_AUTO && no_inet_diag(r) && st.sockets == 0) {
			memset(&st, 0, sizeof(st));
			r = 1; /* fall through to procfs */
		} else if (r < 0) {
			if (r == -EBADMSG)
				source_errf(errbuf, "malformed inet_diag reply from the kernel");
			else
				source_errf(errbuf, "inet_diag dump failed: %s", strerror(-r));
		}
	}
	if (!o->visit_only && !counted && (o->kind == TD_SRC_PROCFS || r == 1)) {
		ns->used = TD_SRC_PROCFS;
		r = procfs_dump(&sink, rec, &st);
		if (r < 0)
			source_errf(errbuf, "reading /proc/net/tcp failed: %s", strerror(-r));
	}
	/* The sources pass record_write's error up as their own: say it was the write. */
	if (r < 0 && record_error(rec))
		source_errf(errbuf, "cannot write record '%s': %s", o->record,
			    strerror(-record_error(rec)));
	if (r >= 0 && cbs->ns_end)
		r = cbs->ns_end(ns, &st, arg);
out:
	ns->meta = NULL;
	free(meta);
	return r < 0 ? r : 0;
}

/* Appends ", NAME" (or "NAME" first) to a list of skipped names, as far as it fits. */
static void name_append(char *buf, size_t len, const char *name)
{
	size_t n = strlen(buf);

	if (n < len)
		snprintf(buf + n, len - n, "%s'%s'", n ? ", " : "", name);
}

/* The note on what -N all skipped: entries of /run/netns that are not (or no longer) network
 * namespaces, by name, and how many it could not enter without CAP_SYS_ADMIN. */
static void skip_note(char *errbuf, const struct td_netns_list *l, const char *gone, unsigned ngone,
		      unsigned eperm, unsigned idx)
{
	char names[TD_ERRMSG_LEN / 2] = "";
	int n = 0;

	if (!errbuf)
		return;
	for (size_t i = 0; i < l->nstale; i++)
		name_append(names, sizeof(names), l->stale[i]);
	if (*gone) {
		size_t k = strlen(names);
		snprintf(names + k, sizeof(names) - k, "%s%s", k ? ", " : "", gone);
	}
	if (l->nstale + ngone)
		n = snprintf(errbuf, TD_ERRMSG_LEN,
			     "note: skipped %s in /run/netns: not a network namespace (a stale "
			     "entry whose mount is gone, or one being deleted)",
			     names);
	if (eperm && n >= 0 && n < TD_ERRMSG_LEN)
		snprintf(errbuf + n, (size_t)(TD_ERRMSG_LEN - n),
			 "%snote: %u of %zu network namespaces were skipped: entering them needs "
			 "root (CAP_SYS_ADMIN); the figures cover the other %u",
			 n ? "; " : "", eperm, l->n, idx);
}

static int run_list(const struct td_source_opts *o, const struct td_source_cbs *cbs, void *arg,
		    struct td_record *rec, const struct td_netns_list *l, char *errbuf)
{
	int saved = netns_save(), r = 0;

	if (saved < 0) {
		source_errf(errbuf, "cannot open the current network namespace: %s",
			    strerror(-saved));
		return saved;
	}
	bool all = o->netns && !strcmp(o->netns, "all");
	unsigned idx = 0, skipped = 0, ngone = 0;
	char gone[TD_ERRMSG_LEN / 2] = "";
	for (size_t i = 0; i < l->n && r == 0; i++) {
		struct td_ns_info ns = { .name = l->v[i].name, .idx = idx };
		r = netns_enter(&l->v[i]);
		if (r == -EPERM && all) {
			/* without CAP_SYS_ADMIN, -N all still shows what it can see */
			skipped++;
			r = 0;
			continue;
		}
		if (r == -EINVAL && all) {
			/* vanished or replaced between the listing and now, like a process that
			 * exits during the scan: the others still count */
			name_append(gone, sizeof(gone), ns.name);
			ngone++;
			r = 0;
			continue;
		}
		if (r) {
			source_errf(errbuf, "cannot enter network namespace '%s': %s%s", ns.name,
				    strerror(-r),
				    r == -EPERM
					    ? " (entering a namespace needs root: CAP_SYS_ADMIN)"
					    : "");
			break;
		}
		r = dump_one(o, cbs, arg, rec, &ns, errbuf);
		idx++;
	}
	if (!r)
		skip_note(errbuf, l, gone, ngone, skipped, idx);
	int rr = netns_restore(saved);
	if (!r && rr) {
		source_errf(errbuf, "cannot return to the original namespace: %s", strerror(-rr));
		r = rr;
	}
	return r;
}

static int open_netns(const char *spec, struct td_netns_list *l, char *errbuf)
{
	struct td_netns one;
	int r;

	if (!strcmp(spec, "all")) {
		unsigned skipped;
		r = netns_list_all(l, &skipped);
		if (r)
			source_errf(errbuf, "cannot list network namespaces: %s", strerror(-r));
		return r;
	}
	r = netns_open(spec, &one);
	if (r) {
		bool denied = r == -EACCES || r == -EPERM;
		char *shown = names_escape_str(spec); /* a name may come from a script's glob */
		if (r == -ENOENT)
			source_errf(errbuf,
				    "no network namespace '%s' (not in /run/netns, not a path; see "
				    "'ip netns list')",
				    shown);
		else if (r == -EINVAL)
			source_errf(errbuf, "'%s' is not a network namespace file", shown);
		else
			source_errf(errbuf, "cannot open network namespace '%s': %s%s%s%s", shown,
				    strerror(-r), denied ? " (" : "",
				    denied ? netns_denied_hint() : "", denied ? ")" : "");
		free(shown);
		return r;
	}
	l->v = xmalloc(sizeof(*l->v));
	l->v[0] = one;
	l->n = 1;
	return 0;
}

static int write_header_meta(struct td_record *rec)
{
	struct utsname u;
	char buf[512];

	uname(&u);
	int n = snprintf(buf, sizeof(buf), "tool=tcpdoctor\nkernel=%s\ntime_unix=%lld\n", u.release,
			 (long long)time(NULL));
	return record_write(rec, TD_CHUNK_META, buf, (size_t)n);
}

int source_run(const struct td_source_opts *o, const struct td_source_cbs *cbs, void *arg,
	       char *errbuf)
{
	struct td_record *rec = NULL;
	struct td_netns_list l = { 0 };
	int r;

	if (errbuf)
		errbuf[0] = '\0';
	if (o->replay)
		return replay_run(o, cbs, arg, errbuf);
	if (o->netns && (r = open_netns(o->netns, &l, errbuf)))
		return r;
	if (o->record) {
		r = record_create(o->record, &rec);
		if (!r)
			r = write_header_meta(rec);
		if (r) {
			source_errf(
				errbuf, "cannot write record '%s': %s", o->record,
				r == -ENXIO
					? "a FIFO that no process is reading (start the reader first)"
					: strerror(-r));
			goto out;
		}
	}
	if (l.n) {
		r = run_list(o, cbs, arg, rec, &l, errbuf);
	} else {
		struct td_ns_info ns = { .name = "", .idx = 0 };
		r = dump_one(o, cbs, arg, rec, &ns, errbuf);
	}
	if (rec) {
		int rc = record_close(rec);
		rec = NULL;
		if (!r && rc) {
			source_errf(errbuf, "cannot write record '%s': %s", o->record,
				    strerror(-rc));
			r = rc;
		}
	}
out:
	record_close(rec);
	netns_list_free(&l);
	return r;
}
