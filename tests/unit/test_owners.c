// SPDX-License-Identifier: MIT
/* Unit tests for src/core/source/owners.c: a fake /proc tree with every kind of entry (exact counts,
 * malformed links, a process gone before its fd dir is read, a socket shared after fork and one
 * dup()ed), then the real /proc with a child holding known sockets, a socket shared with it,
 * a zombie, and children exiting while we scan. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/types.h>

#include "bpf/owners.h"
#include "core/source/owners.h"
#include "core/source/owners_build.h"
#include "core/util.h"

static char root[64];

static void mk(const char *rel, int dir)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(dir ? mkdir(p, 0755) : 0, 0);
}

static void lnk(const char *rel, const char *target)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static void put(const char *rel, const char *text)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_fake_proc(void **state)
{
	struct td_owners *o;
	struct td_owners_stats st;
	unsigned nh = 99;
	(void)state;

	snprintf(root, sizeof(root), "/tmp/td-owners-XXXXXX");
	assert_non_null(mkdtemp(root));
	mk("100", 1), mk("100/fd", 1), put("100/comm", "alpha\n");
	lnk("100/fd/0", "socket:[1111]");
	lnk("100/fd/1", "pipe:[5]");
	lnk("100/fd/2", "socket:[2222]");
	lnk("100/fd/3", "socket:[2222]"); /* dup(): one holder */
	mk("200", 1), mk("200/fd", 1);
	put("200/comm", "\x1b[31mbe\xfft\n"); /* prctl(PR_SET_NAME) takes any bytes */
	lnk("200/fd/5", "socket:[1111]");     /* shared after fork */
	lnk("200/fd/6", "socket:[3333]");
	mk("300", 1); /* exited: no fd dir any more */
	mk("400", 1), mk("400/fd", 1), put("400/comm", "nosock\n");
	lnk("400/fd/0", "socket:[]");
	lnk("400/fd/1", "socket:[12x]");
	lnk("400/fd/2", "socket:[99999999999999999999999]");
	lnk("400/fd/3", "socket:4444");
	lnk("400/fd/4", "anon_inode:[eventpoll]");
	mk("500", 1), mk("500/fd", 1);					 /* no fds at all */
	mk("12a", 1), mk("12a/fd", 1), lnk("12a/fd/0", "socket:[7777]"); /* not a pid */
	mk("0123456789", 1), mk("0123456789/fd", 1), lnk("0123456789/fd/0", "socket:[8888]");
	lnk("self", "100");

	int dfd = open(root, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(owners_scan_at(dfd, &o, &st), 0);
	close(dfd);

	assert_int_equal(st.procs, 5);
	assert_int_equal(st.procs_gone, 1);
	assert_int_equal(st.procs_denied, 0);
	assert_int_equal(st.procs_with_sockets, 2);
	assert_int_equal(st.fds, 4 + 2 + 5);
	assert_int_equal(st.socket_fds, 5);
	assert_int_equal(st.fds_gone, 0);
	assert_int_equal(st.inodes, 3);
	assert_int_equal(st.shared_inodes, 1);
	assert_int_equal(st.partial, TD_OWNERS_COMPLETE);
	assert_string_equal(owners_partial_reason(&st), "");

	assert_int_equal(owners_nprocs(o), 2);
	const struct td_owner_proc *p = owners_lookup(o, 2222, &nh);
	assert_non_null(p);
	assert_int_equal(p->pid, 100);
	assert_string_equal(p->comm, "alpha");
	assert_int_equal(p->nfds, 4);
	assert_int_equal(p->nsockets, 3);
	assert_int_equal(p->uid, geteuid());
	assert_int_equal(nh, 1);
	p = owners_lookup(o, 3333, &nh);
	assert_non_null(p);
	assert_int_equal(p->pid, 200);
	assert_string_equal(p->comm, "?[31mbe?t"); /* as ps shows it: no ESC, valid UTF-8 */
	assert_int_equal(p->nfds, 2);
	assert_int_equal(nh, 1);
	/* the shared one: first process scanned, two holders */
	p = owners_lookup(o, 1111, &nh);
	assert_ptr_equal(p, owners_proc(o, 0));
	assert_int_equal(owners_proc_index(o, p), 0);
	assert_int_equal(nh, 2);
	for (uint64_t ino = 0; ino < 10000; ino += 1111) {
		if (ino == 1111 || ino == 2222 || ino == 3333)
			continue;
		assert_null(owners_lookup(o, ino, &nh));
		assert_int_equal(nh, 0);
	}
	owners_free(o);
	owners_free(NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static uint64_t inode_of(int fd)
{
	struct stat sb;

	assert_int_equal(fstat(fd, &sb), 0);
	return sb.st_ino;
}

/* A child named td-owner-kid: 3 TCP sockets and a unix socketpair of its own, the shared
 * socket inherited, one pipe to report its inodes and one to wait on. */
static pid_t spawn_holder(int rep[2], int go[2], uint64_t ino[5])
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0), dup2(null, 1), dup2(null, 2);
		close(null);
		close(rep[0]), close(go[1]);
		prctl(PR_SET_NAME, "td-owner-kid");
		int s[5];
		for (int i = 0; i < 3; i++)
			s[i] = socket(AF_INET, SOCK_STREAM, 0);
		socketpair(AF_UNIX, SOCK_STREAM, 0, &s[3]);
		uint64_t v[5];
		for (int i = 0; i < 5; i++) {
			struct stat sb;
			fstat(s[i], &sb);
			v[i] = sb.st_ino;
		}
		if (write(rep[1], v, sizeof(v)) != sizeof(v))
			_exit(1);
		char c;
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	assert_int_equal(read(rep[0], ino, 5 * sizeof(uint64_t)), 5 * sizeof(uint64_t));
	return pid;
}

static void test_real_proc(void **state)
{
	int rep[2], go[2];
	uint64_t ino[5];
	struct td_owners *o;
	struct td_owners_stats st;
	unsigned nh;
	(void)state;

	int shared = socket(AF_INET6, SOCK_STREAM, 0);
	assert_true(shared >= 0);
	assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid_t kid = spawn_holder(rep, go, ino);
	pid_t zombie = fork();
	if (zombie == 0) {
		int z = socket(AF_INET, SOCK_STREAM, 0);
		(void)z;
		_exit(0);
	}
	assert_int_equal(waitid(P_PID, (id_t)zombie, NULL, WEXITED | WNOWAIT), 0);

	assert_int_equal(owners_scan(&o, &st), 0);
	for (int i = 0; i < 5; i++) {
		const struct td_owner_proc *p = owners_lookup(o, ino[i], &nh);
		assert_non_null(p);
		assert_int_equal(p->pid, kid);
		assert_string_equal(p->comm, "td-owner-kid");
		assert_int_equal(nh, 1);
	}
	const struct td_owner_proc *p = owners_lookup(o, ino[0], NULL);
	/* its 5 own sockets + the shared one it inherited (this process holds no other) */
	assert_int_equal(p->nsockets, 6);
	const struct td_owner_proc *q = owners_lookup(o, inode_of(shared), &nh);
	assert_non_null(q);
	assert_int_equal(nh, 2);
	assert_int_equal(q->pid, getpid() < kid ? getpid() : kid);
	for (size_t i = 0; i < owners_nprocs(o); i++)
		assert_int_not_equal(owners_proc(o, i)->pid, zombie);
	/* Partial exactly when some process could not be read; the reason names the cause. Even
	 * root can be denied (this sandbox denies other processes' fd links to root). */
	assert_int_equal(st.partial == TD_OWNERS_COMPLETE, st.procs_denied == 0);
	if (st.procs_denied)
		assert_int_equal(st.partial,
				 geteuid() == 0 ? TD_OWNERS_DENIED : TD_OWNERS_NOT_ROOT);
	assert_int_equal(*owners_partial_reason(&st) == '\0', st.procs_denied == 0);
	owners_free(o);

	assert_int_equal(write(go[1], "x", 1), 1);
	assert_int_equal(waitpid(kid, NULL, 0), kid);
	assert_int_equal(waitpid(zombie, NULL, 0), zombie);
	close(rep[0]), close(rep[1]), close(go[0]), close(go[1]), close(shared);
}

/* Processes exiting during the scan are skipped, never fatal, and never leave a stale entry
 * that points to the wrong process. */
static void test_churn(void **state)
{
	(void)state;
	for (int round = 0; round < 20; round++) {
		pid_t kids[20];
		for (int i = 0; i < 20; i++) {
			kids[i] = fork();
			assert_true(kids[i] >= 0);
			if (kids[i] == 0) {
				int s = socket(AF_INET, SOCK_STREAM, 0);
				(void)s;
				usleep(1000 * (unsigned)(i % 3));
				_exit(0);
			}
		}
		struct td_owners *o;
		struct td_owners_stats st;
		assert_int_equal(owners_scan(&o, &st), 0);
		assert_true(st.procs >= st.procs_with_sockets + st.procs_gone);
		owners_free(o);
		for (int i = 0; i < 20; i++)
			assert_int_equal(waitpid(kids[i], NULL, 0), kids[i]);
	}
}

/* Without root, another user's process is unreadable: counted, partial, reason "not root". */
static void test_not_root(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		struct td_owners *o;
		struct td_owners_stats st;
		/* our parent is root and holds sockets (cmocka's process) */
		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (owners_scan(&o, &st))
			_exit(11);
		if (owners_lookup(o, 0, NULL) != NULL)
			_exit(12);
		int ok = st.procs_denied > 0 && st.partial == TD_OWNERS_NOT_ROOT &&
			 strstr(owners_partial_reason(&st), "not running as root");
		/* the first unreadable process is named: one of another user (EPERM to signal) */
		ok = ok && st.denied_pids[0] > 0 && kill(st.denied_pids[0], 0) == -1 &&
		     errno == EPERM;
		owners_free(o);
		_exit(ok ? 0 : 13);
	}
	int ws;
	assert_int_equal(waitpid(kid, &ws, 0), kid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
}

static void test_bad_root(void **state)
{
	struct td_owners *o = NULL;
	(void)state;
	assert_int_equal(owners_scan_at(-1, &o, NULL), -EBADF);
	assert_null(o);
	struct td_owners_stats st = { .procs_denied = 3, .partial = TD_OWNERS_NOT_ROOT };
	assert_non_null(strstr(owners_partial_reason(&st), "not running as root"));
	char buf[64];
	struct td_owners_stats one = { .procs_denied = 1, .denied_pids = { 1 } };
	assert_string_equal(owners_denied_pids(&one, buf, sizeof(buf)), "pid 1");
	struct td_owners_stats six = { .procs_denied = 6, .denied_pids = { 1, 7, 9, 12 } };
	assert_string_equal(owners_denied_pids(&six, buf, sizeof(buf)), "pids 1, 7, 9, 12, ...");
	struct td_owners_stats four = { .procs_denied = 4, .denied_pids = { 1, 7, 9, 12 } };
	assert_string_equal(owners_denied_pids(&four, buf, sizeof(buf)), "pids 1, 7, 9, 12");
	/* a buffer too small is cut, never overrun */
	assert_string_equal(owners_denied_pids(&six, buf, 8), "pids 1,");
}

/* The BPF iterator's records, fed in blocks cut anywhere, build the same kind of table. */
static size_t rec_task(uint8_t *b, uint32_t pid, uint32_t uid, const char *comm)
{
	struct td_orec_task t = { .kind = TD_OREC_TASK, .pid = pid, .uid = uid };

	memcpy(t.comm, comm, strnlen(comm, sizeof(t.comm) - 1));
	memcpy(b, &t, sizeof(t));
	return sizeof(t);
}

static size_t rec(uint8_t *b, uint32_t kind, uint32_t a, uint64_t v)
{
	struct td_orec r = { kind, a, v };

	memcpy(b, &r, sizeof(r));
	return sizeof(r);
}

static void test_reader(void **state)
{
	(void)state;
	uint8_t b[512];
	size_t n = 0;

	n += rec_task(b + n, 10, 0, "srv");
	n += rec(b + n, TD_OREC_SOCK, 3, 100);
	n += rec(b + n, TD_OREC_SOCK, 4, 101);
	n += rec(b + n, TD_OREC_SOCK, 5, 101); /* dup()ed: one inode, one holder */
	n += rec(b + n, TD_OREC_END, 10, 9);
	n += rec_task(b + n, 11, 1000, "cli\x1b[31m");
	n += rec(b + n, TD_OREC_SOCK, 3, 100); /* shared after fork */
	n += rec(b + n, TD_OREC_END, 11, 4);
	n += rec_task(b + n, 12, 0, "nosock");
	n += rec(b + n, TD_OREC_END, 12, 2);
	for (size_t block = 1; block <= n; block += 7) {
		struct td_owners_stats st = { 0 };
		struct td_owners_reader rd;
		uint8_t buf[512];
		size_t have = 0;

		owners_reader_init(&rd, &st, 11);
		for (size_t pos = 0; pos < n;) {
			size_t k = n - pos < block ? n - pos : block;
			memcpy(buf + have, b + pos, k);
			have += k;
			pos += k;
			long used = owners_reader_feed(&rd, buf, have);
			assert_true(used >= 0);
			memmove(buf, buf + used, have - (size_t)used);
			have -= (size_t)used;
		}
		assert_int_equal(have, 0);
		struct td_owners *o = owners_build_finish(&rd.b);
		assert_true(rd.self_seen);
		assert_int_equal(owners_nprocs(o), 2);
		unsigned holders;
		const struct td_owner_proc *p = owners_lookup(o, 100, &holders);
		assert_non_null(p);
		assert_int_equal(p->pid, 10);
		assert_int_equal(holders, 2);
		assert_int_equal(p->nsockets, 3);
		assert_int_equal(p->nfds, 9);
		assert_string_equal(p->comm, "srv");
		p = owners_lookup(o, 101, &holders);
		assert_int_equal(p->pid, 10);
		assert_int_equal(holders, 1);
		p = owners_proc(o, 1);
		assert_int_equal(p->pid, 11);
		assert_int_equal(p->uid, 1000);
		assert_string_equal(p->comm, "cli?[31m");
		assert_int_equal(st.procs, 3);
		assert_int_equal(st.procs_with_sockets, 2);
		assert_int_equal(st.fds, 15);
		assert_int_equal(st.socket_fds, 4);
		assert_int_equal(st.inodes, 2);
		assert_int_equal(st.shared_inodes, 1);
		owners_free(o);
	}
	/* a record of no known kind, or a socket before any process: refused */
	struct td_owners_stats st = { 0 };
	struct td_owners_reader rd;
	owners_reader_init(&rd, &st, 1);
	n = rec(b, TD_OREC_SOCK, 3, 100);
	assert_int_equal(owners_reader_feed(&rd, b, n), -EPROTO);
	n = rec_task(b, 10, 0, "x");
	n += rec(b + n, 77, 0, 0);
	assert_int_equal(owners_reader_feed(&rd, b, n), -EPROTO);
	owners_free(owners_build_finish(&rd.b));
}

/* The inode table grows past its first size (and past a presized one) without losing an entry:
 * 3 processes, 40,000 inodes each in scattered order, every 4th one also held by the process
 * before, a dup()ed fd per 10; inode 0 (no socket's) is counted as a socket fd but never found. */
enum { GROW_PROCS = 3, GROW_PER = 40000 };

static uint64_t grow_inode(uint32_t p, uint32_t i)
{
	/* a multiplicative scatter: neighbours in a run land far apart in the table */
	return 1 + (uint64_t)(p * GROW_PER + i) * 2654435761u % 4000000007u;
}

static void grow_feed(struct td_owners_reader *rd, uint32_t p)
{
	uint8_t b[sizeof(struct td_orec_task)];
	size_t n = rec_task(b, 100 + p, 0, "grow");

	assert_int_equal(owners_reader_feed(rd, b, n), (long)n);
	for (uint32_t i = 0; i < GROW_PER; i++) {
		n = rec(b, TD_OREC_SOCK, i, grow_inode(p, i));
		assert_int_equal(owners_reader_feed(rd, b, n), (long)n);
		if (i % 10 == 0) /* a dup()ed fd: the same inode again */
			assert_int_equal(owners_reader_feed(rd, b, n), (long)n);
		if (p + 1 < GROW_PROCS && i % 4 == 0) { /* the next process's, shared */
			n = rec(b, TD_OREC_SOCK, i, grow_inode(p + 1, i));
			assert_int_equal(owners_reader_feed(rd, b, n), (long)n);
		}
	}
	n = rec(b, TD_OREC_SOCK, 0, 0);
	assert_int_equal(owners_reader_feed(rd, b, n), (long)n);
	n = rec(b, TD_OREC_END, 100 + p, GROW_PER);
	assert_int_equal(owners_reader_feed(rd, b, n), (long)n);
}

static void test_table_grows(void **state)
{
	(void)state;
	for (int presized = 0; presized < 2; presized++) {
		struct td_owners_stats st = { 0 };
		struct td_owners_reader rd;
		owners_reader_init(&rd, &st, 100);
		if (presized)
			owners_build_presize(&rd.b);
		for (uint32_t p = 0; p < GROW_PROCS; p++)
			grow_feed(&rd, p);
		struct td_owners *o = owners_build_finish(&rd.b);
		assert_int_equal(st.inodes, GROW_PROCS * GROW_PER);
		assert_int_equal(st.shared_inodes, (GROW_PROCS - 1) * GROW_PER / 4);
		assert_int_equal(owners_proc(o, 0)->nsockets,
				 GROW_PER + GROW_PER / 10 + GROW_PER / 4 + 1);
		for (uint32_t p = 0; p < GROW_PROCS; p++)
			for (uint32_t i = 0; i < GROW_PER; i++) {
				unsigned nh;
				const struct td_owner_proc *q =
					owners_lookup(o, grow_inode(p, i), &nh);
				bool shared =
					p > 0 && i % 4 == 0; /* first held by the process before */
				assert_non_null(q);
				assert_int_equal(q->pid, 100 + p - shared);
				assert_int_equal(nh, shared ? 2 : 1);
			}
		assert_null(owners_lookup(o, 0, NULL));
		assert_null(owners_lookup(o, 4000000008u, NULL));
		owners_free(o);
	}
}

/* The iterator and the /proc scan agree on a child holding known sockets (not on this process,
 * whose fds differ between the two scans: a BPF link and iterator here, /proc fds there). */
static void test_bpf_agrees(void **state)
{
	(void)state;
	struct td_owners *a = NULL;
	struct td_owners_stats sa;
	struct stat sk[5];
	int fds[5], go[2], ready[2];
	char c;

	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	for (int i = 0; i < 5; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(fds[i] >= 0);
		assert_int_equal(fstat(fds[i], &sk[i]), 0);
	}
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) { /* holds the sockets (shared with the parent) until told */
		prctl(PR_SET_NAME, "td-bpf-agree");
		ssize_t w = write(ready[1], "r", 1);
		ssize_t rd = read(go[0], &c, 1);
		_exit(w == 1 && rd >= 0 ? 0 : 1);
	}
	for (int i = 0; i < 5; i++)
		close(fds[i]); /* the child alone holds them now */
	assert_int_equal(read(ready[0], &c, 1), 1);
	int r = owners_scan_bpf(&a, &sa);
#ifdef TD_HAVE_BPF
	assert_int_equal(r, 0); /* make check runs as root with the BPF toolchain installed */
	assert_int_equal(sa.via, TD_OWNERS_VIA_BPF);
	struct td_owners *b = NULL;
	struct td_owners_stats sb;
	int pfd = open("/proc", O_RDONLY | O_DIRECTORY);
	assert_int_equal(owners_scan_at(pfd, &b, &sb), 0);
	close(pfd);
	for (int i = 0; i < 5; i++) {
		unsigned ha, hb;
		const struct td_owner_proc *pa = owners_lookup(a, sk[i].st_ino, &ha);
		const struct td_owner_proc *pb = owners_lookup(b, sk[i].st_ino, &hb);
		assert_non_null(pa);
		assert_non_null(pb);
		assert_int_equal(pa->pid, child);
		assert_int_equal(pb->pid, child);
		assert_int_equal(ha, 1);
		assert_int_equal(hb, 1);
		assert_string_equal(pa->comm, "td-bpf-agree");
		assert_string_equal(pb->comm, "td-bpf-agree");
		assert_int_equal(pa->uid, pb->uid);
		assert_int_equal(pa->nsockets, 5);
		assert_int_equal(pb->nsockets, 5);
		assert_int_equal(pa->nfds, pb->nfds);
	}
	owners_free(b);
#else
	assert_int_equal(r, -ENOTSUP);
#endif
	owners_free(a);
	assert_int_equal(write(go[1], "g", 1), 1);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	for (int i = 0; i < 2; i++) {
		close(go[i]);
		close(ready[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fake_proc),   cmocka_unit_test(test_real_proc),
		cmocka_unit_test(test_churn),	    cmocka_unit_test(test_not_root),
		cmocka_unit_test(test_bad_root),    cmocka_unit_test(test_reader),
		cmocka_unit_test(test_table_grows), cmocka_unit_test(test_bpf_agrees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
