/* SPDX-License-Identifier: MIT */
/*
 * The record the trace BPF programs (trace.bpf.c) send to user space (core/trace/trace_bpf.c) through
 * the ring buffer, and the rows they count in a map instead (closes and CLOSE_WAIT stays, the
 * events every connection has), shared by both sides: fixed-size, no pointers to follow,
 * addresses in network order and ports in host order. Included after vmlinux.h on the BPF side
 * and after <linux/types.h> in user space.
 */
#ifndef TD_BPF_TRACE_H
#define TD_BPF_TRACE_H

enum td_trace_kind {
	TD_EV_CONNECT_FAIL = 1, /* err: what connect() returned or the socket's error later */
	TD_EV_BIND_FAIL,	/* err: what bind() returned; saddr/sport: the address asked for */
	TD_EV_RESET_RECV,  /* an RST ended a connection past SYN_SENT (ECONNRESET on our side) */
	TD_EV_RESET_SENT,  /* we sent an RST on a socket: detail says why */
	TD_EV_CLOSE_LOCAL, /* ESTABLISHED -> FIN_WAIT1: this side sent the first FIN */
	TD_EV_CLOSE_PEER,  /* ESTABLISHED -> CLOSE_WAIT: the peer's FIN came first */
	TD_EV_CW_LEAVE,	   /* CLOSE_WAIT -> LAST_ACK or CLOSE: the program closed at last */
	TD_EV_KIND_MAX,
};

/* Why we sent an RST (TD_EV_RESET_SENT) */
enum td_trace_rst {
	TD_RST_OTHER = 0,
	TD_RST_LINGER0, /* close() with SO_LINGER {1, 0} */
	TD_RST_UNREAD,	/* close() with unread received data */
	TD_RST_MEMORY,	/* an orphan dropped for lack of memory */
	TD_RST_TIMEOUT, /* keepalive or user timeout */
	TD_RST_REPLY,	/* the answer to a segment the socket could not take */
	TD_RST_MAX,
};

/* What we know of the socket's side (ports: who is the server) */
enum td_trace_role {
	TD_ROLE_UNKNOWN = 0,
	TD_ROLE_CONNECTED, /* we saw connect(): the peer's port is the service */
	TD_ROLE_ACCEPTED,  /* we saw accept(): our port is the service */
	TD_ROLE_BOUND,	   /* no owner seen, but our port was bound (bind(), a listener's child),
			    * not picked by connect(): our port is the service */
};

#define TD_TRACE_COMM_LEN 16

struct td_trace_event {
	__u64 sk;    /* the socket's kernel address: pairs CLOSE_WAIT entry and exit */
	__u64 ts_ns; /* CLOCK_MONOTONIC; TD_EV_CLOSE_PEER and TD_EV_CW_LEAVE only, else 0 */
	__u32 pid;   /* thread-group id (the process) */
	__u32 netns; /* inode number of the network namespace */
	__s32 err;   /* positive errno (failures) */
	__u8 kind;   /* enum td_trace_kind */
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 detail; /* enum td_trace_rst for TD_EV_RESET_SENT */
	__u8 role;   /* enum td_trace_role */
	__u16 sport; /* local port */
	__u16 dport; /* peer port */
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[TD_TRACE_COMM_LEN];
};

/*
 * A row of closes counted in the kernel (map `closes`, per CPU): the fields of the record that key
 * it (core/trace/trace.h struct td_trace_key), the port kept being the service's (sport of an
 * accepted socket, dport of the rest; the other 0), IPv4 addresses in the first 4 bytes and the
 * rest zero. kind: TD_EV_CLOSE_LOCAL or TD_EV_CLOSE_PEER (whose row also counts the CLOSE_WAIT
 * stays it opened and those that ended).
 */
struct td_trace_close_key {
	__u32 netns;
	__u32 pid;
	__u8 kind;
	__u8 family;
	__u16 sport;
	__u16 dport;
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[TD_TRACE_COMM_LEN];
};

struct td_trace_close_val {
	__u64 count;	  /* events (CLOSE_PEER: stays opened) */
	__u64 left;	  /* CLOSE_PEER: stays that ended (TD_EV_CW_LEAVE) */
	__u64 longest_ns; /* CLOSE_PEER: the longest of those */
};

/* What the programs keep of a socket (map `owners`, by its address): who owns it, its endpoints
 * as they were at SYN_SENT or accept(), and its CLOSE_WAIT stay if one is open and counted in a
 * row (cw_since not 0): user space reads those for the age of the oldest. */
struct td_trace_owner {
	__u64 cookie; /* the socket's cookie: the entry is that socket's (trace.bpf.c owner_get) */
	__u32 pid;
	__u32 flags;  /* SK_PENDING, SK_REPORTED (trace.bpf.c): changed with atomic operations */
	__u8 role;    /* enum td_trace_role */
	__u8 stashed; /* the endpoints below were saved */
	__u16 sport, dport;
	__u8 saddr[16];
	char comm[TD_TRACE_COMM_LEN];
	__u64 cw_since;		      /* CLOCK_MONOTONIC entry into CLOSE_WAIT, 0: none open */
	struct td_trace_close_key cw; /* the row that stay is counted in */
};

/* Rows at most: a close whose row finds the map full is sent as a record instead */
#define TD_TRACE_CLOSE_ROWS 16384

#endif
