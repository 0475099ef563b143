// SPDX-License-Identifier: MIT
/*
 * The lab's server. The listening sockets are made in the server namespace by the controlling
 * thread (a socket keeps the namespace it was created in, so the server thread itself never
 * needs setns). The thread runs a non-blocking epoll loop: accept everything, answer each read
 * with "OK\n", then act as the scenario says. An eventfd wakes it to stop; every socket it ever
 * accepted is tracked in an fd-indexed table so none outlives the scenario, leaked ones
 * included.
 */
#include "lab/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/source/netns.h"
#include "core/util.h"

#define TAG_LISTEN (1ull << 32)
#define TAG_STOP   (1ull << 33)

static int listen_on(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	a.sin_addr.s_addr = htonl(LAB_SERVER_ADDR);
	/* somaxconn is 4096 in a fresh namespace (kernel-facts §7): ask for all of it so the
	 * accept queue never is what a scenario measures */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4096)) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int make_listeners(struct lab_server *s, const struct lab_env *env)
{
	int saved = netns_save(), r = 0;

	if (saved < 0)
		return saved;
	r = lab_env_enter(env, LAB_SERVER);
	for (unsigned i = 0; i < s->nports && !r; i++) {
		int fd = listen_on((uint16_t)(LAB_PORT_BASE + i));
		if (fd < 0)
			r = fd;
		else
			s->lfd[i] = fd;
	}
	int rr = netns_restore(saved);
	return r ? r : rr;
}

static void conn_close(struct lab_server *s, int fd)
{
	if ((size_t)fd < s->open_cap)
		s->open[fd] = 0;
	close(fd);
}

static void on_accept(struct lab_server *s, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				s->errors++;
			return;
		}
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)fd };
		if ((size_t)fd >= s->open_cap || epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			s->errors++;
			close(fd);
			continue;
		}
		s->open[fd] = 1;
		s->accepted++;
	}
}

static void on_data(struct lab_server *s, int fd)
{
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* the client closed first (EOF), or reset (linger0) */
		conn_close(s, fd);
		return;
	}
	if (write(fd, "OK\n", 3) != 3) {
		s->errors++;
		conn_close(s, fd);
		return;
	}
	if (s->close == LAB_CLOSE_SERVER) {
		conn_close(s, fd);
	} else if (s->close == LAB_CLOSE_LEAK) {
		/* out of the loop but still open: after the client's FIN it sits in CLOSE_WAIT,
		 * exactly what a forgotten close() does */
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
		s->leaked++;
	}
}

static void *server_main(void *arg)
{
	struct lab_server *s = arg;
	struct epoll_event evs[64];

	for (;;) {
		int n = epoll_wait(s->epfd, evs, (int)TD_ARRAY_SIZE(evs), 1000);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;
			if (d & TAG_STOP)
				return NULL;
			if (d & TAG_LISTEN)
				on_accept(s, (int)(uint32_t)d);
			else
				on_data(s, (int)d);
		}
	}
	return NULL;
}

static int server_setup(struct lab_server *s, const struct lab_env *env)
{
	struct rlimit rl;
	int r;

	s->open_cap = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1u << 22)
			      ? (size_t)rl.rlim_cur
			      : 1024;
	s->open = xcalloc(s->open_cap, 1);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->epfd < 0 || s->stopfd < 0)
		return -errno;
	r = make_listeners(s, env);
	if (r)
		return r;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_STOP };
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->stopfd, &ev))
		return -errno;
	for (unsigned i = 0; i < s->nports; i++) {
		ev.data.u64 = TAG_LISTEN | (uint32_t)s->lfd[i];
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd[i], &ev))
			return -errno;
	}
	return 0;
}

int lab_server_start(struct lab_server *s, const struct lab_env *env, enum lab_close close,
		     unsigned nports)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->close = close;
	s->nports = nports > LAB_MAX_DPORTS ? LAB_MAX_DPORTS : nports;
	s->epfd = s->stopfd = -1;
	for (unsigned i = 0; i < LAB_MAX_DPORTS; i++)
		s->lfd[i] = -1;
	r = server_setup(s, env);
	if (!r) {
		r = -pthread_create(&s->thread, NULL, server_main, s);
		s->running = !r;
	}
	if (r)
		lab_server_stop(s);
	return r;
}

void lab_server_stop(struct lab_server *s)
{
	if (s->running) {
		uint64_t one = 1;
		if (write(s->stopfd, &one, sizeof(one)) == sizeof(one))
			pthread_join(s->thread, NULL);
		else
			pthread_cancel(s->thread), pthread_join(s->thread, NULL);
		s->running = false;
	}
	for (unsigned i = 0; i < LAB_MAX_DPORTS; i++)
		if (s->lfd[i] >= 0)
			close(s->lfd[i]), s->lfd[i] = -1;
	for (size_t fd = 0; s->open && fd < s->open_cap; fd++)
		if (s->open[fd])
			close((int)fd);
	free(s->open);
	s->open = NULL;
	if (s->epfd >= 0)
		close(s->epfd), s->epfd = -1;
	if (s->stopfd >= 0)
		close(s->stopfd), s->stopfd = -1;
}
