// SPDX-License-Identifier: MIT
/*
 * tcpdoctor trace: the kernel half. Tracepoints only (no kprobes, no fentry/fexit trampolines,
 * which some kernels refuse with EPERM even to root) report failed connect()/bind() with the
 * errno and resets received and sent as struct td_trace_event records in a ring buffer; who closed
 * first and CLOSE_WAIT stays, which every connection has, are counted here in rows (map `closes`)
 * that user space reads. connect(), bind() and accept() are seen as they
 * return, from their own syscall tracepoints where tracefs gives their ids (the loader finds
 * them), else from the raw sys_exit tracepoint, which every syscall of the system passes. Every
 * connect() is pending from SYN_SENT (entered by its caller) until the connection is
 * established: a failure the kernel reports later (an RST, SYNs unanswered, non-blocking or not)
 * is charged to that caller when the socket's error is set (sock:inet_sk_error_report). Events
 * in softirq context (an RST, the peer's FIN) are charged to the socket's owner from the same
 * socket-keyed map, not to whoever happens to be on the CPU. What a connection costs is kept to
 * lookups and writes in place, none taking a lock (issue 14, bench/trace): its owner entry is the
 * one a destroyed socket at the same address left (owner_set), told apart by the socket's cookie
 * so that no program runs as a socket is destroyed, the first FIN and the CLOSE_WAIT stay add to
 * per-CPU counters, and a successful connect() is not looked at again. What cannot
 * be counted so (no owner known, a full map) is sent as a record, counted in user space as
 * before; records the ring buffer cannot take are counted in `lost`, exactly. The syscall side
 * (what connect(), bind() and accept() returned) is in trace_sys.bpf.h, the resets in
 * trace_rst.bpf.h.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/trace.h"

#define AF_INET	     2
#define AF_INET6     10
#define IPPROTO_TCP  6
#define EINTR	     4
#define EINPROGRESS  115
#define EALREADY     114
#define EISCONN	     106
#define ERESTART_MIN 512 /* ERESTARTSYS and friends: the syscall is restarted, not failed */
#define ERESTART_MAX 530

/* TCP states (include/net/tcp_states.h) */
#define TS_ESTABLISHED 1
#define TS_SYN_SENT    2
#define TS_SYN_RECV    3
#define TS_FIN_WAIT1   4
#define TS_CLOSE       7
#define TS_CLOSE_WAIT  8
#define TS_LAST_ACK    9

/* The syscalls watched at their exit, and where the saved registers keep the syscall number */
#if defined(__TARGET_ARCH_x86)
#define NR_CONNECT 42
#define NR_ACCEPT  43
#define NR_BIND	   49
#define NR_ACCEPT4 288
/* plain loads: regs is a BTF pointer (tp_btf, bpf_task_pt_regs), no helper call needed */
#define SYSCALL_NR(regs)   ((regs)->orig_ax)
#define SYSCALL_ARG1(regs) ((regs)->di)
#define SYSCALL_ARG2(regs) ((regs)->si)
#elif defined(__TARGET_ARCH_arm64)
#define NR_BIND		   200
#define NR_ACCEPT	   202
#define NR_CONNECT	   203
#define NR_ACCEPT4	   242
#define SYSCALL_NR(regs)   ((regs)->syscallno)
#define SYSCALL_ARG1(regs) ((regs)->orig_x0) /* x0 holds the return value by now */
#define SYSCALL_ARG2(regs) ((regs)->regs[1])
#else
#error "trace.bpf.c: syscall numbers for this architecture are missing"
#endif

#define RINGBUF_SIZE (8 << 20) /* 80,000 events */

#define SK_PENDING  1 /* SYN_SENT, not yet established: a failure comes from the error report */
#define SK_REPORTED 2 /* that failure was counted: a later connect() returning it is not new */
#define SK_LIVE	    4 /* the entry is written (cleared while owner_set writes it over) */

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile __u32 filter_netns = 0; /* 0: every namespace */
/* bench/trace's floor (TD_TRACE_NOOP): every program returns at once; the rest is not verified */
const volatile bool noop = false;
__u64 lost = 0;
/* 1: a first close is sent as a record, with its 4-tuple (top --trace's closers), not counted
 * in a row; user space sets it before the first close it wants */
__u32 closer_records = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RINGBUF_SIZE);
} events SEC(".maps");

/* Not LRU: an entry evicted while its CLOSE_WAIT stay is open would leave the stay open in its
 * row for ever. Entries of destroyed sockets stay, their cookie no longer the address's socket's
 * (owner_get), and are taken over by the next socket at the same address; past 65,536 addresses
 * a new socket has no owner (pid unknown, its stay followed from records) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct td_trace_owner);
} owners SEC(".maps");

/* Closes and CLOSE_WAIT stays counted by row, per CPU: after a row's first close, counting one is
 * a lookup without a lock, where a record would take the ring buffer's */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TD_TRACE_CLOSE_ROWS);
	__type(key, struct td_trace_close_key);
	__type(value, struct td_trace_close_val);
} closes SEC(".maps");

/*
 * Socket fields are read directly where sk is the tracepoint's own (BTF-typed) argument, d
 * true: plain loads the verifier allows. A socket found from a file descriptor (sys_exit) is a
 * plain address and needs bpf_probe_read_kernel (BPF_CORE_READ), d false. d is a constant at
 * every call, so only one of the two paths is compiled in.
 */
#define SKR(d, sk, field) ((d) ? (sk)->field : BPF_CORE_READ(sk, field))

static __always_inline void sk_copy(bool d, void *dst, __u32 n, const void *src)
{
	if (d && n == 4)
		__builtin_memcpy(dst, src, 4);
	else if (d)
		__builtin_memcpy(dst, src, 16);
	else
		bpf_probe_read_kernel(dst, n, src);
}

static __always_inline __u32 sk_netns(bool d, const struct sock *sk)
{
	return d ? sk->__sk_common.skc_net.net->ns.inum
		 : BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

static __always_inline bool sk_is_tcp(bool d, const struct sock *sk)
{
	__u16 fam = SKR(d, sk, __sk_common.skc_family);

	return (fam == AF_INET || fam == AF_INET6) && SKR(d, sk, sk_protocol) == IPPROTO_TCP;
}

static __always_inline bool netns_wanted(__u32 ns)
{
	return !filter_netns || ns == filter_netns;
}

/* The socket's own addresses; the peer's too unless the caller fills them from elsewhere */
static __always_inline void fill_sk(bool d, struct td_trace_event *e, const struct sock *sk)
{
	e->sk = (__u64)sk;
	/* only CLOSE_WAIT stays are timed: a clock read costs (a VM's clock source more so) */
	if (e->kind == TD_EV_CLOSE_PEER || e->kind == TD_EV_CW_LEAVE)
		e->ts_ns = bpf_ktime_get_ns();
	e->netns = sk_netns(d, sk);
	e->family = SKR(d, sk, __sk_common.skc_family);
	e->sport = SKR(d, sk, __sk_common.skc_num);
	/* a closed socket gave its port back (tcp_set_state to CLOSE) but keeps inet_sport */
	if (!e->sport)
		e->sport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	e->dport = bpf_ntohs(SKR(d, sk, __sk_common.skc_dport));
	if (e->family == AF_INET) {
		sk_copy(d, e->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		sk_copy(d, e->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		sk_copy(d, e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		sk_copy(d, e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

static __always_inline struct td_trace_event *ev_new(__u8 kind)
{
	struct td_trace_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

/* The socket's cookie: 0 until someone asks for one (sock_gen_cookie), then unique to it for its
 * life. A socket made at the address of a destroyed one starts again at 0. */
static __always_inline __u64 sk_cookie(bool d, const struct sock *sk)
{
	return d ? (__u64)sk->__sk_common.skc_cookie.counter
		 : (__u64)BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

/*
 * The entry of a socket we saw begin (SYN_SENT, accept()), or NULL. The entry a destroyed socket
 * left stays for the next socket at that address to take over without a lock: it is this
 * socket's only if it holds this socket's cookie, given to it as it began (owner_set), which no
 * other socket has. (So no program runs as a socket is destroyed, twice a connection.)
 */
static __always_inline struct td_trace_owner *owner_get(bool d, const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct td_trace_owner *o = bpf_map_lookup_elem(&owners, &key);

	if (!o || !(o->flags & SK_LIVE) || !o->cookie || o->cookie != sk_cookie(d, sk))
		return NULL;
	return o;
}

/* A socket whose connect() failed may have given its address back before the event (the failure
 * resets the source address): take what was saved as it entered SYN_SENT, or was accepted. */
static __always_inline void ev_unstash(bool d, struct td_trace_event *e, const struct sock *sk)
{
	struct td_trace_owner *o = owner_get(d, sk);
	__u32 *a = (__u32 *)e->saddr;

	if (!o || !o->stashed)
		return;
	if (!e->sport)
		e->sport = o->sport;
	if (!e->dport)
		e->dport = o->dport;
	if (!(a[0] | a[1] | a[2] | a[3]))
		__builtin_memcpy(e->saddr, o->saddr, sizeof(e->saddr));
}

/* Queues e without waking the reader, who polls every 200 ms anyway, unless a quarter of the
 * ring is waiting: a wakeup per event would cost more than the event */
static __always_inline void ev_submit(struct td_trace_event *e)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(e, avail > RINGBUF_SIZE / 4 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/*
 * The side of a socket whose start we did not see (accepted before the trace, or not yet): its
 * port's bind bucket says whether connect() picked the port (__inet_hash_connect marks the
 * bucket fastreuse -1) or it was bound, by bind() or as a listener's child, which shares the
 * listener's bucket. A bound port is the service's: rows key on it, one row for the service
 * rather than one per connection.
 */
static __always_inline __u8 role_unseen(const struct sock *sk)
{
	const struct inet_connection_sock *icsk = (const struct inet_connection_sock *)sk;
	const struct inet_bind_bucket *tb = BPF_CORE_READ(icsk, icsk_bind_hash);

	return tb && BPF_CORE_READ(tb, fastreuse) >= 0 ? TD_ROLE_BOUND : TD_ROLE_UNKNOWN;
}

/* Charges e to the socket's owner if known, else to the current process */
static __always_inline void ev_owner(struct td_trace_event *e, const struct sock *sk, bool current)
{
	struct td_trace_owner *o = owner_get(true, sk);

	e->role = o ? o->role : role_unseen(sk);
	if (o && !current) {
		e->pid = o->pid;
		__builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
		return;
	}
	if (!current)
		return; /* softirq with no owner known: pid 0 says "unknown" */
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/* Saves the socket's endpoints into its owner entry, keeping what was saved where the socket
 * has already given it back (a port released as it closed, a source address reset) */
static __always_inline void stash_endpoints(bool d, struct td_trace_owner *o, const struct sock *sk)
{
	__u16 sport = SKR(d, sk, __sk_common.skc_num);
	__u16 dport = bpf_ntohs(SKR(d, sk, __sk_common.skc_dport));
	__u8 a[16] = {};
	__u32 *w = (__u32 *)a;

	if (SKR(d, sk, __sk_common.skc_family) == AF_INET)
		sk_copy(d, a, 4, &sk->__sk_common.skc_rcv_saddr);
	else
		sk_copy(d, a, 16, &sk->__sk_common.skc_v6_rcv_saddr);
	if (sport)
		o->sport = sport;
	if (dport)
		o->dport = dport;
	if (w[0] | w[1] | w[2] | w[3])
		__builtin_memcpy(o->saddr, a, sizeof(a));
	o->stashed = 1;
}

/*
 * Records the caller as the owner of the socket whose cookie is given. A connection's socket
 * usually takes the address of one destroyed a moment ago, whose entry is still there: it is
 * written over in place, which takes no lock (adding or deleting an entry takes the map's, with
 * interrupts off), marked not live while it is written. A new address adds an entry, if the map
 * has room.
 */
static __always_inline void owner_set(bool d, const struct sock *sk, __u64 cookie, __u32 flags,
				      __u8 role, bool stash)
{
	__u64 key = (__u64)sk;
	struct td_trace_owner *o = bpf_map_lookup_elem(&owners, &key), n;

	if (!o) {
		__builtin_memset(&n, 0, sizeof(n));
		o = &n;
	} else {
		__sync_fetch_and_and(&o->flags, 0);
		o->cw_since = 0;
		o->stashed = 0;
		o->sport = o->dport = 0;
		__builtin_memset(o->saddr, 0, sizeof(o->saddr));
	}
	o->cookie = cookie;
	o->role = role;
	o->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	if (stash)
		stash_endpoints(d, o, sk);
	if (o == &n) {
		n.flags = flags | SK_LIVE;
		bpf_map_update_elem(&owners, &key, &n, BPF_ANY);
	} else {
		__sync_fetch_and_or(&o->flags, flags | SK_LIVE); /* after the rest, as a barrier */
	}
}

#include "bpf/trace_sys.bpf.h"

/*
 * connect(), bind(), accept() and accept4() as they return, from their own syscall tracepoints
 * (syscalls:sys_exit_*), which the loader attaches by the ids tracefs gives: other syscalls do
 * not run a program. The arguments are still in the saved user registers.
 */
static __always_inline struct pt_regs *user_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

SEC("tracepoint/syscalls/sys_exit_connect")
int td_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;

	if (noop)
		return 0;
	if (!is_failure(ctx->ret)) /* nearly every call: leave before finding the registers */
		return 0;
	regs = user_regs();
	connect_exit(SYSCALL_ARG1(regs), (const void *)SYSCALL_ARG2(regs), ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_bind")
int td_exit_bind(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;

	if (noop)
		return 0;
	if (ctx->ret >= 0)
		return 0;
	regs = user_regs();
	bind_exit(SYSCALL_ARG1(regs), (const void *)SYSCALL_ARG2(regs), ctx->ret);
	return 0;
}

/* attached to sys_exit_accept and sys_exit_accept4 */
SEC("tracepoint/syscalls/sys_exit_accept")
int td_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	if (noop)
		return 0;
	accept_exit(ctx->ret);
	return 0;
}

/*
 * The same from the raw syscall exit, where tracefs is missing (a BTF tracepoint:
 * fentry/fexit trampolines are not available everywhere, this is). Every syscall of the system
 * passes here; all but these four leave at the first comparison.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(td_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = SYSCALL_NR(regs);

	if (noop)
		return 0;
	if (nr == NR_CONNECT)
		connect_exit(SYSCALL_ARG1(regs), (const void *)SYSCALL_ARG2(regs), ret);
	else if (nr == NR_BIND)
		bind_exit(SYSCALL_ARG1(regs), (const void *)SYSCALL_ARG2(regs), ret);
	else if (nr == NR_ACCEPT || nr == NR_ACCEPT4)
		accept_exit(ret);
	return 0;
}

/* The socket's error is set: a pending connect has failed (its errno is sk_err) */
SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(td_error_report, const struct sock *sk)
{
	if (noop)
		return 0;
	pending_fail(true, sk);
	return 0;
}

#include "bpf/trace_rst.bpf.h"

/* SYN_SENT is entered in connect(), by its caller: the owner from the start (a blocking connect
 * that fails has no other moment), and the connect is pending until it is established. The
 * endpoints saved then serve a failure after which the socket has given them back. */
static __always_inline void connect_start(const struct sock *sk)
{
	if (sk_is_tcp(true, sk) && netns_wanted(sk_netns(true, sk)))
		owner_set(true, sk, bpf_get_socket_cookie((void *)sk), SK_PENDING,
			  TD_ROLE_CONNECTED, true);
}

static __always_inline void connect_done(const struct sock *sk)
{
	struct td_trace_owner *o = owner_get(true, sk);

	if (o && (o->flags & SK_PENDING))
		__sync_fetch_and_and(&o->flags, ~(__u32)SK_PENDING);
}

/* The row a close of sk is counted in (struct td_trace_close_key), without its pid and comm */
static __always_inline void close_key(struct td_trace_close_key *k, const struct sock *sk,
				      __u8 kind, __u32 netns, __u8 role)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->kind = kind;
	k->netns = netns;
	k->family = sk->__sk_common.skc_family;
	if (role == TD_ROLE_ACCEPTED || role == TD_ROLE_BOUND)
		k->sport = sk->__sk_common.skc_num;
	else
		k->dport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (k->family == AF_INET) {
		__builtin_memcpy(k->saddr, &sk->__sk_common.skc_rcv_saddr, 4);
		__builtin_memcpy(k->daddr, &sk->__sk_common.skc_daddr, 4);
	} else {
		__builtin_memcpy(k->saddr, &sk->__sk_common.skc_v6_rcv_saddr, 16);
		__builtin_memcpy(k->daddr, &sk->__sk_common.skc_v6_daddr, 16);
	}
}

/* The counters of row k, made at its first close; NULL when the map is full */
static __always_inline struct td_trace_close_val *close_row(const struct td_trace_close_key *k)
{
	struct td_trace_close_val *v = bpf_map_lookup_elem(&closes, k), zero = {};

	if (v)
		return v;
	bpf_map_update_elem(&closes, k, &zero, BPF_NOEXIST); /* another CPU may have made it */
	return bpf_map_lookup_elem(&closes, k);
}

/*
 * Counts a close in its row rather than sending a record: ESTABLISHED -> FIN_WAIT1 (close() or
 * shutdown(), its caller the closer), -> CLOSE_WAIT (the peer's FIN, in softirq: charged to the
 * owner, whose entry then keeps the stay), CLOSE_WAIT -> LAST_ACK or CLOSE (a stay counted here
 * ends). False when it cannot be (no owner known, the map full, a stay that began as a record):
 * the caller sends the record, counted in user space as before.
 */
static __always_inline bool close_count(const struct sock *sk, __u8 kind, __u32 netns)
{
	struct td_trace_owner *o = owner_get(true, sk);
	struct td_trace_close_key k;
	struct td_trace_close_val *v;
	__u64 now;

	if (kind == TD_EV_CW_LEAVE) {
		if (!o || !o->cw_since || !(v = bpf_map_lookup_elem(&closes, &o->cw)))
			return false;
		now = bpf_ktime_get_ns();
		__sync_fetch_and_add(&v->left, 1);
		if (now > o->cw_since && now - o->cw_since > v->longest_ns)
			v->longest_ns = now - o->cw_since;
		o->cw_since = 0;
		return true;
	}
	if (kind == TD_EV_CLOSE_PEER && !o)
		return false;
	close_key(&k, sk, kind, netns, o ? o->role : role_unseen(sk));
	if (kind == TD_EV_CLOSE_LOCAL) {
		k.pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(k.comm, sizeof(k.comm));
	} else {
		k.pid = o->pid;
		__builtin_memcpy(k.comm, o->comm, sizeof(k.comm));
	}
	if (!(v = close_row(&k)))
		return false;
	__sync_fetch_and_add(&v->count, 1);
	if (kind == TD_EV_CLOSE_PEER) {
		__builtin_memcpy(&o->cw, &k, sizeof(k));
		o->cw_since = bpf_ktime_get_ns();
	}
	return true;
}

/* Ten transitions a connection, most of them of no interest: they leave at the comparisons. A
 * connection a listener made (LISTEN -> SYN_RECV, in softirq) gets its cookie here, for accept()
 * to give to its owner entry (accept_exit, where no helper can make one). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(td_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct td_trace_event *e;
	__u32 netns;
	__u8 kind;

	if (noop)
		return 0;
	if (newstate == TS_SYN_SENT) {
		connect_start(sk);
		return 0;
	}
	if (newstate == TS_SYN_RECV) {
		if (sk_is_tcp(true, sk) && netns_wanted(sk_netns(true, sk)))
			bpf_get_socket_cookie((void *)sk);
		return 0;
	}
	if (oldstate == TS_SYN_SENT) {
		if (newstate == TS_ESTABLISHED)
			connect_done(sk);
		return 0;
	}
	if (oldstate == TS_ESTABLISHED && newstate == TS_FIN_WAIT1)
		kind = TD_EV_CLOSE_LOCAL;
	else if (oldstate == TS_ESTABLISHED && newstate == TS_CLOSE_WAIT)
		kind = TD_EV_CLOSE_PEER;
	else if (oldstate == TS_CLOSE_WAIT && (newstate == TS_LAST_ACK || newstate == TS_CLOSE))
		kind = TD_EV_CW_LEAVE;
	else
		return 0;
	if (!sk_is_tcp(true, sk) || !netns_wanted(netns = sk_netns(true, sk)))
		return 0;
	if ((kind != TD_EV_CLOSE_LOCAL || !closer_records) && close_count(sk, kind, netns))
		return 0;
	e = ev_new(kind);
	if (!e)
		return 0;
	fill_sk(true, e, sk);
	/* FIN_WAIT1 comes from close()/shutdown(): the caller is the closer. The peer's FIN and
	 * an RST in CLOSE_WAIT arrive in softirq: the owner we recorded */
	ev_owner(e, sk, kind == TD_EV_CLOSE_LOCAL);
	ev_submit(e);
	return 0;
}
