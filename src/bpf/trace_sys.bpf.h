/* SPDX-License-Identifier: MIT */
/*
 * tcpdoctor trace, the kernel half: what connect(), bind() and accept() did, read as they return
 * (the syscall exit programs in trace.bpf.c call these). A failed connect() or bind() becomes a
 * record with the address the caller asked for; a connect() still in progress stays pending
 * until the socket's error says how it ended; an accepted socket gets its owner. Included once,
 * by trace.bpf.c, after the maps and the socket helpers it uses.
 */
#ifndef TD_TRACE_SYS_BPF_H
#define TD_TRACE_SYS_BPF_H

/* The address a connect() or bind() was given, copied from the caller's memory (the socket
 * may have cleared its own copy on failure) */
static __always_inline void fill_uaddr(struct td_trace_event *e, const void *ua)
{
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} a;

	__builtin_memset(&a, 0, sizeof(a));
	if (bpf_probe_read_user(&a, sizeof(a.in6), ua) && bpf_probe_read_user(&a, sizeof(a.in), ua))
		return;
	if (a.in.sin_family == AF_INET) {
		e->family = AF_INET;
		e->dport = bpf_ntohs(a.in.sin_port);
		__builtin_memset(e->daddr, 0, sizeof(e->daddr));
		__builtin_memcpy(e->daddr, &a.in.sin_addr, 4);
	} else if (a.in.sin_family == AF_INET6) {
		e->family = AF_INET6;
		e->dport = bpf_ntohs(a.in6.sin6_port);
		__builtin_memcpy(e->daddr, &a.in6.sin6_addr, 16);
	}
}

static __always_inline bool is_failure(long ret)
{
	return ret < 0 && ret != -EINPROGRESS && ret != -EALREADY && ret != -EISCONN &&
	       ret != -EINTR && !(ret <= -ERESTART_MIN && ret >= -ERESTART_MAX);
}

/* The TCP socket behind the calling process's descriptor fd, or NULL */
static __always_inline struct sock *fd_sock(long fd)
{
	/* the task's descriptor table by plain loads (BTF pointers), the rest by reads */
	struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;
	struct file *f = NULL;
	struct socket *so;
	struct sock *sk;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), fdt->fd + fd);
	if (!f)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	/* a socket's file and the socket point at each other; any other file's private data
	 * does not point back */
	if (!so || BPF_CORE_READ(so, file) != f)
		return NULL;
	sk = BPF_CORE_READ(so, sk);
	return sk && sk_is_tcp(false, sk) ? sk : NULL;
}

/* A pending connect has failed (an RST to the SYN, SYNs unanswered, an ICMP error): charge it to
 * its caller, once. The socket keeps SK_REPORTED so that connect() handing the same error back
 * (a blocking connect, or a second call) is not counted again. */
static __always_inline void pending_fail(bool d, const struct sock *sk)
{
	struct td_trace_event *e;
	struct td_trace_owner *o;
	__u32 old;

	o = owner_get(d, sk);
	if (!o || !(o->flags & SK_PENDING))
		return;
	old = __sync_fetch_and_and(&o->flags, ~(__u32)SK_PENDING);
	if (!(old & SK_PENDING))
		return;
	__sync_fetch_and_or(&o->flags, (__u32)SK_REPORTED);
	e = ev_new(TD_EV_CONNECT_FAIL);
	if (!e)
		return;
	fill_sk(d, e, sk);
	e->err = SKR(d, sk, sk_err);
	e->pid = o->pid;
	e->role = o->role;
	__builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
	ev_submit(e);
}

/* connect() returned ret. A success, or EINPROGRESS, needs nothing: SYN_SENT recorded the caller
 * and the failure, if one comes, is counted as the socket's error is set. What fails here is what
 * failed before the SYN left (no route, no port) or the error report counted already. */
static __always_inline void connect_exit(long fd, const void *uaddr, long ret)
{
	struct td_trace_event *e;
	struct td_trace_owner *o;
	struct sock *sk;

	if (!is_failure(ret))
		return;
	sk = fd_sock(fd);
	if (!sk || !netns_wanted(sk_netns(false, sk)))
		return;
	o = owner_get(false, sk);
	if (o && (o->flags & SK_REPORTED)) {
		/* connect() handing back the error we already counted */
		__sync_fetch_and_and(&o->flags, ~(__u32)SK_REPORTED);
		return;
	}
	if (o) /* failed before the SYN left (no port): no error report will follow */
		__sync_fetch_and_and(&o->flags, ~(__u32)SK_PENDING);
	e = ev_new(TD_EV_CONNECT_FAIL);
	if (!e)
		return;
	fill_sk(false, e, sk);
	fill_uaddr(e, uaddr);
	ev_unstash(false, e, sk);
	e->err = -ret;
	e->role = TD_ROLE_CONNECTED;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	ev_submit(e);
}

static __always_inline void bind_exit(long fd, const void *uaddr, long ret)
{
	struct td_trace_event *e;
	struct sock *sk;

	if (ret >= 0 || ret == -EINTR || (ret <= -ERESTART_MIN && ret >= -ERESTART_MAX))
		return;
	sk = fd_sock(fd);
	if (!sk || !netns_wanted(sk_netns(false, sk)))
		return;
	e = ev_new(TD_EV_BIND_FAIL);
	if (!e)
		return;
	fill_sk(false, e, sk);
	fill_uaddr(e, uaddr);
	/* the address asked for is ours, not a peer's */
	e->sport = e->dport;
	__builtin_memcpy(e->saddr, e->daddr, sizeof(e->saddr));
	e->dport = 0;
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	e->err = -ret;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	ev_submit(e);
}

/* accept() returned the descriptor of a connection: its caller owns it, the server's side. Its
 * cookie was made as the listener made it (td_set_state); one that arrived before the trace
 * began has none, and no owner. */
static __always_inline void accept_exit(long ret)
{
	struct sock *sk;
	__u64 cookie;

	if (ret < 0)
		return;
	sk = fd_sock(ret);
	if (sk && netns_wanted(sk_netns(false, sk)) && (cookie = sk_cookie(false, sk)))
		owner_set(false, sk, cookie, 0, TD_ROLE_ACCEPTED, false);
}

#endif
