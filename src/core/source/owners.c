// SPDX-License-Identifier: MIT
/*
 * The one pass over /proc that maps socket inodes to processes. Cost is dominated by the kernel:
 * one getdents64 batch per directory and one readlinkat per fd, each resolved relative to an
 * open directory fd so no path is walked from the root; everything that is not "socket:[N]" is
 * dropped after an 8-byte compare. comm and uid are read only for processes that hold a socket.
 */
#include "core/source/owners.h"

#include <dirent.h>
#include <linux/types.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpf/owners.h"
#include "core/bpf_common.h"
#include "core/hashmap.h"
#include "core/names.h"
#include "core/source/owners_build.h"
#include "core/util.h"

/*
 * The inode table: open addressing with linear probing over a power-of-two array of slots that
 * hold the inode itself (a socket's inode is never 0: 0 marks an empty slot), so a lookup reads
 * one cache line where a general hash table reads a slot and then its entry. The array is
 * sized once for every open file on the host (/proc/sys/fs/file-nr) when the scan starts, so it
 * rarely grows, and comes from util_big_zalloc (huge pages when it is large: the page faults of
 * a growing table cost more than its inserts in a VM).
 */
struct owner_slot {
	uint64_t inode;
	uint32_t first;	   /* index into procs of the first holder */
	uint32_t last;	   /* last holder seen: dup()ed fds in one process count once */
	uint32_t nholders; /* distinct processes */
	uint32_t pad;
};

struct td_owners {
	struct owner_slot *slots;
	size_t mask;   /* slots - 1 */
	size_t ninode; /* slots used */
	struct td_owner_proc *procs;
	size_t nprocs, cap;
};

#define OWNERS_MIN_SLOTS 64u

static struct owner_slot *slot_of(const struct td_owners *o, uint64_t inode)
{
	for (size_t i = hashmap_hash_u64(inode) & o->mask;; i = (i + 1) & o->mask)
		if (o->slots[i].inode == inode || !o->slots[i].inode)
			return &o->slots[i];
}

/* Room for n inodes at a load of at most 3/4. */
static void owners_reserve(struct td_owners *o, size_t n)
{
	size_t want = OWNERS_MIN_SLOTS;

	while (want / 4 * 3 < n)
		want *= 2;
	if (o->slots && want <= o->mask + 1)
		return;
	struct owner_slot *old = o->slots;
	size_t oldn = old ? o->mask + 1 : 0;
	o->slots = util_big_zalloc(want * sizeof(*o->slots));
	o->mask = want - 1;
	for (size_t i = 0; i < oldn; i++)
		if (old[i].inode)
			*slot_of(o, old[i].inode) = old[i];
	util_big_free(old, oldn * sizeof(*old));
}

/* Scan state for one pass over /proc. */
struct scan {
	struct td_owners_build b;
	struct td_owners_stats *st;
	int procfd;
	char *buf; /* getdents64 buffer */
	size_t buflen;
};

#define DENTS_BUF (64 * 1024)

/* Parses the inode out of a link target "socket:[12345]" of length n; 0 if it is not one. */
static uint64_t socket_inode(const char *t, size_t n)
{
	uint64_t v = 0;

	if (n < 10 || memcmp(t, "socket:[", 8) || t[n - 1] != ']')
		return 0;
	for (size_t i = 8; i < n - 1; i++) {
		if (t[i] < '0' || t[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(t[i] - '0');
	}
	return v;
}

static void read_comm(int procfd, pid_t pid, char comm[16])
{
	char path[32];
	int fd;
	ssize_t n = -1;

	snprintf(path, sizeof(path), "%d/comm", (int)pid);
	fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, comm, 15);
		close(fd);
	}
	if (n < 0)
		n = 0;
	comm[n] = '\0';
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
	/* any process may name itself (prctl PR_SET_NAME) with escape sequences or invalid
	 * UTF-8: '?' for those bytes, as ps does, so every output can show it as is */
	names_replace(comm);
}

/* Open files on the whole host (the first field of /proc/sys/fs/file-nr), 0 if unknown. */
static uint64_t host_open_files(void)
{
	char *buf;
	size_t len;
	uint64_t n = 0;

	if (util_read_file("/proc/sys/fs/file-nr", 64, &buf, &len))
		return 0;
	for (const char *p = buf; *p >= '0' && *p <= '9' && n < UINT64_MAX / 10; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	free(buf);
	return n;
}

/* Sizing for more than a million inodes up front would cost more memory than it saves time. */
#define OWNERS_PRESIZE_MAX (1u << 20)

void owners_build_presize(struct td_owners_build *b)
{
	uint64_t n = host_open_files();

	owners_reserve(b->o, n < OWNERS_PRESIZE_MAX ? (size_t)n : OWNERS_PRESIZE_MAX);
}

void owners_build_init(struct td_owners_build *b, struct td_owners_stats *st)
{
	b->o = xcalloc(1, sizeof(*b->o));
	owners_reserve(b->o, 0);
	b->st = st;
	b->cur = -1;
}

void owners_build_socket(struct td_owners_build *b, pid_t pid, uint64_t inode)
{
	struct td_owners *o = b->o;

	if (b->cur < 0) {
		if (o->nprocs == o->cap) {
			o->cap = o->cap ? o->cap * 2 : 64;
			o->procs = xrealloc(o->procs, o->cap * sizeof(*o->procs));
		}
		b->cur = (long)o->nprocs++;
		o->procs[b->cur] = (struct td_owner_proc){ .pid = pid };
	}
	o->procs[b->cur].nsockets++;
	if (!inode)
		return; /* not a socket's (a hostile record): nothing to look up by */
	if ((o->ninode + 1) * 4 > (o->mask + 1) * 3)
		owners_reserve(o, 2 * (o->ninode + 1));
	struct owner_slot *e = slot_of(o, inode);
	if (!e->inode) {
		*e = (struct owner_slot){ inode, (uint32_t)b->cur, (uint32_t)b->cur, 1, 0 };
		o->ninode++;
	} else if (e->last != (uint32_t)b->cur) {
		e->last = (uint32_t)b->cur;
		if (++e->nholders == 2)
			b->st->shared_inodes++;
	}
}

struct td_owner_proc *owners_build_cur(struct td_owners_build *b)
{
	return b->cur >= 0 ? &b->o->procs[b->cur] : NULL;
}

struct td_owners *owners_build_finish(struct td_owners_build *b)
{
	b->st->inodes = b->o->ninode;
	return b->o;
}

void owners_reader_init(struct td_owners_reader *rd, struct td_owners_stats *st, pid_t self)
{
	*rd = (struct td_owners_reader){ .self = self };
	owners_build_init(&rd->b, st);
}

static void reader_task(struct td_owners_reader *rd, const struct td_orec_task *t)
{
	rd->pid = (pid_t)t->pid;
	rd->self_seen |= rd->pid == rd->self;
	rd->uid = t->uid;
	memcpy(rd->comm, t->comm, sizeof(rd->comm));
	rd->comm[sizeof(rd->comm) - 1] = '\0';
	names_replace(rd->comm); /* as read_comm() does for /proc/PID/comm */
	rd->b.st->procs++;
	owners_build_proc(&rd->b);
}

static void reader_end(struct td_owners_reader *rd, uint64_t nfds)
{
	struct td_owner_proc *p = owners_build_cur(&rd->b);

	rd->b.st->fds += nfds;
	if (!p)
		return;
	p->nfds = nfds > UINT32_MAX ? UINT32_MAX : (uint32_t)nfds;
	p->uid = rd->uid;
	memcpy(p->comm, rd->comm, sizeof(p->comm));
	rd->b.st->procs_with_sockets++;
}

long owners_reader_feed(struct td_owners_reader *rd, const void *buf, size_t len)
{
	const char *c = buf;
	size_t off = 0;

	while (len - off >= sizeof(struct td_orec)) {
		struct td_orec r;
		memcpy(&r, c + off, sizeof(r));
		if (r.kind == TD_OREC_TASK) {
			struct td_orec_task t;
			if (len - off < sizeof(t))
				break;
			memcpy(&t, c + off, sizeof(t));
			reader_task(rd, &t);
			off += sizeof(t);
			continue;
		}
		if ((r.kind != TD_OREC_SOCK && r.kind != TD_OREC_END) || rd->pid <= 0)
			return -EPROTO;
		off += sizeof(r);
		if (r.kind == TD_OREC_SOCK) {
			rd->b.st->socket_fds++;
			owners_build_socket(&rd->b, rd->pid, r.b);
		} else {
			reader_end(rd, r.b);
		}
	}
	return (long)off;
}

/* Reads every fd link of one process. Returns the number of fds read; *gone when the process
 * exited under us, *denied when its links may not be read (then the rest is not tried). */
static uint32_t scan_fds(struct scan *s, int fdd, pid_t pid, bool *gone, bool *denied)
{
	uint32_t nfds = 0;
	char link[64];

	for (;;) {
		ssize_t n = getdents64(fdd, s->buf, s->buflen);
		if (n <= 0) {
			*gone = n < 0;
			break;
		}
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(s->buf + off);
			off += d->d_reclen;
			if (d->d_name[0] == '.')
				continue;
			ssize_t len = readlinkat(fdd, d->d_name, link, sizeof(link));
			if (len < 0 && (errno == EACCES || errno == EPERM)) {
				/* The directory may be listable while the links are not
				 * (ptrace access check, an LSM): same for every fd. */
				*denied = true;
				goto out;
			}
			if (len < 0) {
				s->st->fds_gone++; /* closed since the listing */
				continue;
			}
			nfds++;
			uint64_t ino = socket_inode(link, (size_t)len);
			if (ino) {
				s->st->socket_fds++;
				owners_build_socket(&s->b, pid, ino);
			}
		}
	}
out:
	s->st->fds += nfds;
	return nfds;
}

static void note_denied(struct td_owners_stats *st, pid_t pid)
{
	if (st->procs_denied < TD_OWNERS_DENIED_SHOWN)
		st->denied_pids[st->procs_denied] = (int32_t)pid;
	st->procs_denied++;
}

static void scan_proc(struct scan *s, pid_t pid)
{
	char path[32];
	struct stat sb;
	bool gone = false, denied = false;

	s->st->procs++;
	snprintf(path, sizeof(path), "%d/fd", (int)pid);
	int fdd = openat(s->procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fdd < 0) {
		if (errno == EACCES || errno == EPERM)
			note_denied(s->st, pid);
		else
			s->st->procs_gone++; /* ENOENT, ESRCH: exited since the listing */
		return;
	}
	owners_build_proc(&s->b);
	uint32_t nfds = scan_fds(s, fdd, pid, &gone, &denied);
	if (denied)
		note_denied(s->st, pid);
	else if (gone)
		s->st->procs_gone++;
	struct td_owner_proc *p = owners_build_cur(&s->b);
	if (p) {
		p->nfds = nfds;
		p->uid = fstat(fdd, &sb) == 0 ? sb.st_uid : (uid_t)-1;
		read_comm(s->procfd, pid, p->comm);
		s->st->procs_with_sockets++;
	}
	close(fdd);
}

int owners_scan_at(int proc_dirfd, struct td_owners **out, struct td_owners_stats *st_out)
{
	struct td_owners_stats st = { 0 };
	struct scan s = { .st = &st, .procfd = proc_dirfd, .buflen = DENTS_BUF };
	int r = 0;
	/* Our own fd on the directory, so its read offset is ours and the caller's is untouched. */
	int dfd = openat(proc_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return -errno;
	owners_build_init(&s.b, &st);
	owners_build_presize(&s.b);
	s.buf = xmalloc(DENTS_BUF);
	char *pbuf = xmalloc(DENTS_BUF);
	for (;;) {
		ssize_t n = getdents64(dfd, pbuf, DENTS_BUF);
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(pbuf + off);
			off += d->d_reclen;
			uint64_t pid; /* pid_max is at most 2^22; a pid has no leading zero */
			if (d->d_name[0] != '0' && !util_parse_u64(d->d_name, 1, INT32_MAX, &pid))
				scan_proc(&s, (pid_t)pid);
		}
	}
	free(pbuf);
	free(s.buf);
	close(dfd);
	struct td_owners *o = owners_build_finish(&s.b);
	if (r) {
		owners_free(o);
		return r;
	}
	if (st.procs_denied)
		st.partial = geteuid() == 0 ? TD_OWNERS_DENIED : TD_OWNERS_NOT_ROOT;
	if (st_out)
		*st_out = st;
	*out = o;
	return 0;
}

/* Below this many open files on the host a /proc scan is as quick as the iterator, and needs no
 * BPF. Measured on 6.18 (2 cores, a VM): the light skeleton loads in about 2 ms and a readlink
 * costs 3-4 us; `top --by process` took 16 ms either way with 400 open files, and 16 ms (BPF)
 * against 24 ms (/proc) with 2,400. */
#define OWNERS_BPF_MIN_FILES 1000

int owners_scan(struct td_owners **out, struct td_owners_stats *st)
{
	const char *via = getenv("TD_OWNERS");
	bool want_bpf = via			   ? !strcmp(via, "bpf")
			: bpf_mode() == TD_BPF_OFF ? false
						   : host_open_files() >= OWNERS_BPF_MIN_FILES;

	if (want_bpf) {
		int r = owners_scan_bpf(out, st);
		if (r == 0 || (via && !strcmp(via, "bpf")))
			return r;
	}
	int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	int r = owners_scan_at(fd, out, st);
	close(fd);
	return r;
}

void owners_free(struct td_owners *o)
{
	if (!o)
		return;
	util_big_free(o->slots, (o->mask + 1) * sizeof(*o->slots));
	free(o->procs);
	free(o);
}

const struct td_owner_proc *owners_lookup(const struct td_owners *o, uint64_t inode,
					  unsigned *nholders)
{
	const struct owner_slot *e = inode ? slot_of(o, inode) : NULL;

	if (e && !e->inode)
		e = NULL;

	if (nholders)
		*nholders = e ? e->nholders : 0;
	return e ? &o->procs[e->first] : NULL;
}

size_t owners_nprocs(const struct td_owners *o)
{
	return o->nprocs;
}

const struct td_owner_proc *owners_proc(const struct td_owners *o, size_t i)
{
	return &o->procs[i];
}

size_t owners_proc_index(const struct td_owners *o, const struct td_owner_proc *p)
{
	return (size_t)(p - o->procs);
}

char *owners_denied_pids(const struct td_owners_stats *st, char *buf, size_t n)
{
	size_t o = 0, shown = st->procs_denied < TD_OWNERS_DENIED_SHOWN ? st->procs_denied
									: TD_OWNERS_DENIED_SHOWN;

	buf[0] = '\0';
	for (size_t i = 0; i < shown && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%d",
				      i		  ? ", "
				      : shown > 1 ? "pids "
						  : "pid ",
				      (int)st->denied_pids[i]);
	if (st->procs_denied > shown && o < n)
		snprintf(buf + o, n - o, ", ...");
	return buf;
}

const char *owners_partial_reason(const struct td_owners_stats *st)
{
	switch (st->partial) {
	case TD_OWNERS_NOT_ROOT:
		return "not running as root: other users' processes cannot be read, their "
		       "sockets stay unattributed";
	case TD_OWNERS_DENIED:
		return "some processes could not be read although running as root (hidepid on "
		       "/proc, a security module, or a container without CAP_SYS_PTRACE over them)";
	case TD_OWNERS_COMPLETE:
		break;
	}
	return "";
}
