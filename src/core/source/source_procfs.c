// SPDX-License-Identifier: MIT
/*
 * /proc/net/tcp{,6}: the fallback source when inet_diag is missing. Reads each file in large
 * blocks and parses complete lines in place, so a million sockets cost a few hundred read()
 * calls and no per-line allocation. The text is the kernel's seq_printf output
 * (net/ipv4/tcp_ipv4.c get_tcp4_sock, get_timewait4_sock, get_openreq4 and their IPv6 twins);
 * the parser maps it to what inet_diag would report for the same socket, so both sources give
 * the same census. Input is hostile: it also comes from recorded files and the fuzzer.
 */
#include "core/source/source_procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/source/record.h"
#include "core/util.h"

/* Timers are printed in clock_t ticks of USER_HZ, which the kernel ABI fixes at 100 on every
 * architecture but alpha; a recorded file must parse the same on any host, so no sysconf(). */
#define PROCFS_MS_PER_TICK 10u

/* Real lines are 150 (tcp, padded) or ~180 (tcp6) bytes. Anything far longer is not a
 * /proc/net/tcp line, and the bound keeps the streaming buffer small. */
#define PROCFS_MAX_LINE 512u

#define PROCFS_BLOCK (256u << 10)

struct procfs_state {
	int family;
	unsigned line; /* lines finished so far */
	const struct td_sink *sink;
	struct td_dump_stats *st;
};

/* A cursor over one line, without its line end. */
struct procfs_cur {
	const char *p, *end;
};

static bool procfs_spaces(struct procfs_cur *c)
{
	const char *s = c->p;

	while (c->p < c->end && *c->p == ' ')
		c->p++;
	return c->p > s;
}

static int procfs_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Between min and max hex digits; stops after max (an IPv6 address is four 8-digit words in a
 * row), so the caller checks the separator that must follow. max <= 16: no overflow. */
static int procfs_hex(struct procfs_cur *c, unsigned min, unsigned max, uint64_t *out)
{
	uint64_t v = 0;
	unsigned n = 0;
	int d;

	while (n < max && c->p < c->end && (d = procfs_hexval(*c->p)) >= 0) {
		v = v << 4 | (unsigned)d;
		c->p++;
		n++;
	}
	if (n < min)
		return -EBADMSG;
	*out = v;
	return 0;
}

static int procfs_dec(struct procfs_cur *c, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	unsigned n = 0;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		unsigned d = (unsigned)(*c->p++ - '0');
		if (v > (max - d) / 10)
			return -EBADMSG;
		v = v * 10 + d;
		n++;
	}
	if (!n)
		return -EBADMSG;
	*out = v;
	return 0;
}

static bool procfs_char(struct procfs_cur *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return false;
	c->p++;
	return true;
}

/* "HHHHHHHH:PPPP" (IPv6: four words). Each word is a __be32 printed as a native u32, so its
 * bytes in memory are the address bytes: copying the native value restores network order. */
static int procfs_addr(struct procfs_cur *c, int family, uint8_t addr[16], uint16_t *port)
{
	unsigned words = family == AF_INET ? 1 : 4;
	uint64_t v;

	memset(addr, 0, 16);
	for (unsigned i = 0; i < words; i++) {
		if (procfs_hex(c, 8, 8, &v))
			return -EBADMSG;
		uint32_t w = (uint32_t)v;
		memcpy(addr + 4 * i, &w, 4);
	}
	if (!procfs_char(c, ':') || procfs_hex(c, 4, 4, &v))
		return -EBADMSG;
	*port = (uint16_t)v;
	return 0;
}

/* Raw columns of one line, as the kernel printed them. */
struct procfs_row {
	uint64_t st, tx, rx, tr, when, retr, uid, probes, inode;
};

static int procfs_columns(struct procfs_cur *c, int family, struct td_sock *sk,
			  struct procfs_row *w)
{
	uint64_t sl;

	procfs_spaces(c);
	if (procfs_dec(c, UINT32_MAX, &sl) || !procfs_char(c, ':') || !procfs_spaces(c))
		return -EBADMSG;
	if (procfs_addr(c, family, sk->src, &sk->sport) || !procfs_spaces(c) ||
	    procfs_addr(c, family, sk->dst, &sk->dport) || !procfs_spaces(c))
		return -EBADMSG;
	if (procfs_hex(c, 2, 2, &w->st) || !procfs_spaces(c) || procfs_hex(c, 8, 8, &w->tx) ||
	    !procfs_char(c, ':') || procfs_hex(c, 8, 8, &w->rx) || !procfs_spaces(c))
		return -EBADMSG;
	/* tm->when is %08lX of a long: up to 16 digits on 64-bit kernels. */
	if (procfs_hex(c, 2, 2, &w->tr) || !procfs_char(c, ':') || procfs_hex(c, 8, 16, &w->when) ||
	    !procfs_spaces(c) || procfs_hex(c, 8, 8, &w->retr) || !procfs_spaces(c))
		return -EBADMSG;
	if (procfs_dec(c, UINT32_MAX, &w->uid) || !procfs_spaces(c) ||
	    procfs_dec(c, UINT32_MAX, &w->probes) || !procfs_spaces(c) ||
	    procfs_dec(c, UINT64_MAX, &w->inode))
		return -EBADMSG;
	/* The rest (refcount, pointer, rto, ...) is not used, but must be separate. */
	if (c->p < c->end && *c->p != ' ')
		return -EBADMSG;
	return 0;
}

/* One socket line into sk, with inet_diag's meaning for every field. */
static int procfs_line(const char *p, const char *end, int family, struct td_sock *sk)
{
	struct procfs_cur c = { p, end };
	struct procfs_row w;

	memset(sk, 0, sizeof(*sk));
	if (procfs_columns(&c, family, sk, &w))
		return -EBADMSG;
	if (w.st == 0 || w.st > TD_SS_KERNEL_NEW_SYN_RECV || w.tr > TD_TIMER_PROBE)
		return -EBADMSG;
	sk->family = (uint8_t)family;
	sk->state = w.st == TD_SS_KERNEL_NEW_SYN_RECV ? TD_SS_SYN_RECV : (uint8_t)w.st;
	sk->timer = (uint8_t)w.tr;
	/* inet_diag reports icsk_retransmits for the retransmit timer (procfs "retrnsmt") but
	 * icsk_probes_out for keepalive and zero-window probes (procfs "timeout"). */
	uint64_t retrans = w.tr == TD_TIMER_KEEPALIVE || w.tr == TD_TIMER_PROBE ? w.probes : w.retr;
	sk->retrans = retrans > UINT8_MAX ? UINT8_MAX : (uint8_t)retrans;
	if (w.tr == TD_TIMER_NONE)
		sk->retrans = 0;
	/* get_openreq4 prints a timer that already fired as a huge unsigned value; inet_diag
	 * clamps it to 0, and so do we. */
	sk->expires_ms = w.tr && w.when <= UINT32_MAX / PROCFS_MS_PER_TICK
				 ? (uint32_t)w.when * PROCFS_MS_PER_TICK
				 : 0;
	/* For LISTEN the kernel prints the accept-queue length as rx_queue, like inet_diag's
	 * rqueue; but tx_queue is write_seq - snd_una (0), not the backlog inet_diag gives as
	 * wqueue. procfs has no backlog, so wqueue differs between the sources for listeners. */
	sk->rqueue = (uint32_t)w.rx;
	sk->wqueue = (uint32_t)w.tx;
	if (sk->state == TD_SS_LISTEN)
		sk->flags |= TD_SK_NO_BACKLOG;
	sk->uid = (uint32_t)w.uid;
	sk->inode = w.inode;
	/* A request socket prints its listener's uid; inet_diag says 0 (sock.h). */
	if (sk->state == TD_SS_SYN_RECV && sk->inode == 0)
		sk->uid = 0;
	return 0;
}

/* Parses every complete line of text; *used gets the bytes consumed. A line end is "\n" or
 * "\r\n". Returns 0, -EBADMSG (ps->line + 1 is the bad line), or the callback's value. */
static int procfs_lines(struct procfs_state *ps, const char *text, size_t len, size_t *used)
{
	const char *p = text, *end = text + len;

	*used = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl;
		struct td_sock sk;
		int r;

		if (!nl)
			return (size_t)(end - p) > PROCFS_MAX_LINE ? -EBADMSG : 0;
		if ((size_t)(nl - p) > PROCFS_MAX_LINE)
			return -EBADMSG;
		if (le > p && le[-1] == '\r')
			le--;
		if (ps->line == 0) {
			struct procfs_cur c = { p, le };
			procfs_spaces(&c);
			if (!procfs_char(&c, 's') || !procfs_char(&c, 'l'))
				return -EBADMSG;
		} else {
			if (procfs_line(p, le, ps->family, &sk))
				return -EBADMSG;
			sk.netns = ps->sink->netns;
			if (!source_sink_wants(ps->sink, &sk)) {
				ps->st->skipped++;
			} else {
				ps->st->sockets++;
				r = ps->sink->fn ? ps->sink->fn(&sk, ps->sink->arg) : 0;
				if (r < 0)
					return r;
			}
		}
		ps->line++;
		p = nl + 1;
		*used = (size_t)(p - text);
	}
	return 0;
}

/* After the last block: anything left is a line without its end, i.e. truncated, and a text
 * without even a header is not a /proc/net/tcp file. */
static int procfs_finish(const struct procfs_state *ps, size_t left)
{
	return left || ps->line == 0 ? -EBADMSG : 0;
}

int procfs_parse(const char *text, size_t len, int family, const struct td_sink *sink,
		 struct td_dump_stats *st, unsigned *bad_line)
{
	struct procfs_state ps = { family, 0, sink, st };
	size_t used;
	int r;

	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	r = procfs_lines(&ps, text, len, &used);
	if (!r)
		r = procfs_finish(&ps, len - used);
	if (r == -EBADMSG && bad_line)
		*bad_line = ps.line + 1;
	return r;
}

/* Reads the whole file: the record keeps it as one chunk. */
static int procfs_slurp(int fd, char **out, size_t *len)
{
	size_t cap = PROCFS_BLOCK, n = 0;
	char *buf = xmalloc(cap);

	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = -errno;
			free(buf);
			return e;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Reads block by block, parsing complete lines and keeping only an unfinished one. */
static int procfs_stream(int fd, struct procfs_state *ps)
{
	char *buf = xmalloc(PROCFS_BLOCK);
	size_t have = 0, used;
	int r = 0;

	for (;;) {
		ssize_t got = read(fd, buf + have, PROCFS_BLOCK - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			break;
		}
		if (got == 0) {
			r = procfs_finish(ps, have);
			break;
		}
		have += (size_t)got;
		r = procfs_lines(ps, buf, have, &used);
		if (r)
			break;
		/* procfs_lines caps an unfinished line at PROCFS_MAX_LINE, so room remains. */
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	free(buf);
	return r;
}

static int procfs_file(const char *path, int family, enum td_chunk type, const struct td_sink *sink,
		       struct td_record *rec, struct td_dump_stats *st)
{
	struct procfs_state ps = { family, 0, sink, st };
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;
	char *text = NULL;
	size_t len = 0;

	if (fd < 0)
		return -errno;
	if (!rec) {
		r = procfs_stream(fd, &ps);
		close(fd);
		return r;
	}
	r = procfs_slurp(fd, &text, &len);
	close(fd);
	if (r)
		return r;
	/* Recorded before parsing, so a file we fail on still reaches the bug report. */
	r = record_write(rec, type, text, len);
	if (!r)
		r = procfs_parse(text, len, family, sink, st, NULL);
	free(text);
	return r;
}

int procfs_dump(const struct td_sink *sink, struct td_record *rec, struct td_dump_stats *st)
{
	static const struct {
		unsigned fam;
		int af;
		const char *path;
		enum td_chunk type;
	} files[] = {
		{ TD_FAM_INET, AF_INET, "/proc/net/tcp", TD_CHUNK_PROC_TCP },
		{ TD_FAM_INET6, AF_INET6, "/proc/net/tcp6", TD_CHUNK_PROC_TCP6 },
	};

	for (size_t i = 0; i < TD_ARRAY_SIZE(files); i++) {
		if (sink->families && !(sink->families & files[i].fam))
			continue;
		int r = procfs_file(files[i].path, files[i].af, files[i].type, sink, rec, st);
		if (r == -ENOENT && files[i].af == AF_INET6)
			continue; /* IPv6 disabled: no tcp6, no IPv6 sockets */
		if (r)
			return r;
	}
	return 0;
}
