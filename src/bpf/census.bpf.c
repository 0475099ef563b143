// SPDX-License-Identifier: MIT
/*
 * The TCP census counted in the kernel: an iter/tcp program (it walks the listening and the
 * established hash of the namespace the iterator was created in, TIME_WAIT and request sockets
 * included) adds each socket to a counter by family and state and returns nothing per socket,
 * so user space reads a few hundred bytes instead of a netlink message per socket. The states
 * are the ones inet_diag reports: a timewait socket's substate (an orphaned FIN_WAIT2 lives as a
 * timewait socket) and SYN_RECV for request sockets.
 */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "bpf/census.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define AF_INET_	  2
#define AF_INET6_	  10
#define TCP_SYN_RECV_	  3
#define TCP_TIME_WAIT_	  6
#define TCP_NEW_SYN_RECV_ 12

/* [0] IPv4, [1] IPv6; the iterator runs for one reader at a time */
__u64 counts[2][TD_CENSUS_STATES];
__u64 other_family;

SEC("iter/tcp")
int td_census(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;

	if (!skc)
		return 0;
	unsigned int state = skc->skc_state;
	if (state == TCP_TIME_WAIT_) {
		struct tcp_timewait_sock *tw = bpf_skc_to_tcp_timewait_sock(skc);
		if (tw)
			state = tw->tw_sk.tw_substate;
	} else if (state == TCP_NEW_SYN_RECV_) {
		state = TCP_SYN_RECV_;
	}
	if (state >= TD_CENSUS_STATES)
		state = 0;
	if (skc->skc_family == AF_INET_)
		counts[0][state]++;
	else if (skc->skc_family == AF_INET6_)
		counts[1][state]++;
	else
		other_family++;
	return 0;
}
