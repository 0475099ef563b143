// SPDX-License-Identifier: MIT
/*
 * A reader thread and a ring of CT_RECV_SLOTS buffers between it and the caller, under one
 * mutex and condition variable: about 1,300 hand-overs for a table of 250,000 entries, each a
 * few microseconds, against milliseconds of kernel and parsing work they let overlap. The
 * reader only walks message headers (type and length) to see where the dump ends; every byte
 * is still checked by the consumer's parser.
 */
#include "core/conntrack/ct_recv.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <linux/netlink.h>

#include "core/util.h"

#define CT_RECV_SLOTS 4

struct ring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	void *buf[CT_RECV_SLOTS];
	size_t len[CT_RECV_SLOTS];
	int err[CT_RECV_SLOTS];
	bool last[CT_RECV_SLOTS];
	unsigned head, tail; /* buffers filled, buffers consumed */
	bool stop;
	int fd;
	size_t buflen;
};

/* Whether buf ends the dump: NLMSG_DONE or NLMSG_ERROR in it, or a header that does not fit. */
static bool ends(const void *buf, size_t len)
{
	size_t off = 0;

	while (len - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *h = (const void *)((const char *)buf + off);
		size_t step = ((size_t)h->nlmsg_len + 3) & ~(size_t)3;
		if (h->nlmsg_len < sizeof(*h) || step > len - off)
			return true;
		if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
			return true;
		off += step;
	}
	return off != len;
}

/* One recv into slot s; returns whether it was the last. */
static bool fill(struct ring *g, unsigned s)
{
	ssize_t n = recv(g->fd, g->buf[s], g->buflen, 0);

	g->err[s] = n < 0 ? -errno : n == 0 ? -EBADMSG : 0;
	g->len[s] = n > 0 ? (size_t)n : 0;
	g->last[s] = n <= 0 || ends(g->buf[s], (size_t)n);
	return g->last[s];
}

static void *reader(void *arg)
{
	struct ring *g = arg;

	for (bool last = false; !last;) {
		pthread_mutex_lock(&g->mu);
		while (g->head - g->tail == CT_RECV_SLOTS && !g->stop)
			pthread_cond_wait(&g->cv, &g->mu);
		bool stop = g->stop;
		unsigned s = g->head % CT_RECV_SLOTS;
		pthread_mutex_unlock(&g->mu);
		if (stop)
			break;
		last = fill(g, s); /* slot s is the reader's until head moves past it */
		pthread_mutex_lock(&g->mu);
		g->head++;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
	}
	return NULL;
}

static int consume_all(struct ring *g, ct_recv_fn consume, void *ctx)
{
	int r = 0;

	for (bool last = false; !r && !last;) {
		pthread_mutex_lock(&g->mu);
		while (g->head == g->tail)
			pthread_cond_wait(&g->cv, &g->mu);
		unsigned s = g->tail % CT_RECV_SLOTS;
		pthread_mutex_unlock(&g->mu);
		r = g->err[s] ? g->err[s] : consume(g->buf[s], g->len[s], ctx);
		last = g->last[s];
		pthread_mutex_lock(&g->mu);
		g->tail++;
		g->stop = r != 0 || last;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
	}
	/* a last buffer that did not complete the dump for the parser: it says why */
	return r ? r : -EBADMSG;
}

/* Without a thread: receive and consume in turn. */
static int inline_loop(struct ring *g, ct_recv_fn consume, void *ctx)
{
	int r = 0;

	while (!r) {
		bool last = fill(g, 0);
		r = g->err[0] ? g->err[0] : consume(g->buf[0], g->len[0], ctx);
		if (!r && last)
			r = -EBADMSG;
	}
	return r;
}

int ct_recv_dump(int fd, size_t buflen, ct_recv_fn consume, void *ctx)
{
	struct ring g = { .fd = fd, .buflen = buflen };
	pthread_t t;
	int r;

	for (int i = 0; i < CT_RECV_SLOTS; i++)
		g.buf[i] = xmalloc(buflen);
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	if (pthread_create(&t, NULL, reader, &g)) {
		r = inline_loop(&g, consume, ctx);
	} else {
		r = consume_all(&g, consume, ctx);
		pthread_join(t, NULL);
	}
	pthread_cond_destroy(&g.cv);
	pthread_mutex_destroy(&g.mu);
	for (int i = 0; i < CT_RECV_SLOTS; i++)
		free(g.buf[i]);
	return r > 0 ? 0 : r;
}
