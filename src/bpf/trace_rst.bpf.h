/* SPDX-License-Identifier: MIT */
/*
 * tcpdoctor trace, the kernel half: resets received and sent, each a record charged to the
 * socket's owner (or, for a reset our close() sent, to its caller) with the reason the kernel
 * gives (enum sk_rst_reason, 6.10+) or, before, what the socket shows. Included once, by
 * trace.bpf.c, after the socket and owner helpers it uses.
 */
#ifndef TD_TRACE_RST_BPF_H
#define TD_TRACE_RST_BPF_H

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(td_receive_reset, struct sock *sk)
{
	struct td_trace_event *e;

	if (noop)
		return 0;
	/* an RST to our SYN is a refused connect, counted as such */
	if (sk->__sk_common.skc_state == TS_SYN_SENT || !netns_wanted(sk_netns(true, sk)))
		return 0;
	e = ev_new(TD_EV_RESET_RECV);
	if (!e)
		return 0;
	fill_sk(true, e, sk);
	ev_owner(e, sk, false);
	ev_submit(e);
	return 0;
}

static __always_inline __u8 rst_reason(const struct sock *sk, const void *skb, int reason)
{
	if (skb)
		return TD_RST_REPLY;
	if (bpf_core_enum_value_exists(enum sk_rst_reason, SK_RST_REASON_TCP_ABORT_ON_CLOSE)) {
		if (reason ==
		    bpf_core_enum_value(enum sk_rst_reason, SK_RST_REASON_TCP_ABORT_ON_CLOSE))
			return TD_RST_UNREAD;
		if (reason ==
		    bpf_core_enum_value(enum sk_rst_reason, SK_RST_REASON_TCP_ABORT_ON_MEMORY))
			return TD_RST_MEMORY;
		if (reason ==
		    bpf_core_enum_value(enum sk_rst_reason, SK_RST_REASON_TCP_KEEPALIVE_TIMEOUT))
			return TD_RST_TIMEOUT;
	}
	/* tcp_close(): SO_LINGER {1, 0} disconnects, which sends the RST */
	if ((sk->__sk_common.skc_flags &
	     (1UL << bpf_core_enum_value(enum sock_flags, SOCK_LINGER))) &&
	    !sk->sk_lingertime)
		return TD_RST_LINGER0;
	return TD_RST_OTHER;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(td_send_reset, const struct sock *sk, const struct sk_buff *skb, int reason)
{
	struct td_trace_event *e;

	if (noop)
		return 0;
	/* no socket: the answer to a segment for no socket (nothing listens), the peer's story */
	if (!sk || !netns_wanted(sk_netns(true, sk)))
		return 0;
	e = ev_new(TD_EV_RESET_SENT);
	if (!e)
		return 0;
	fill_sk(true, e, sk);
	ev_unstash(true, e, sk);
	e->detail = rst_reason(sk, skb, reason);
	/* linger-0 and unread data: sent by close(), whose caller is the one to name; the rest
	 * (timers, replies) run in softirq: the owner we recorded */
	ev_owner(e, sk, e->detail == TD_RST_LINGER0 || e->detail == TD_RST_UNREAD);
	ev_submit(e);
	return 0;
}

#endif
