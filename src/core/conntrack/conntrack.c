// SPDX-License-Identifier: MIT
/*
 * ctnetlink: one IPCTNL_MSG_CT_GET dump per call, parsed buffer by buffer as recv() returns it
 * so memory stays flat whatever the table size, and one IPCTNL_MSG_CT_GET_STATS_CPU dump summed
 * over CPUs. libmnl validates attribute lengths; the walk over messages is ours so that a
 * message flagged NLM_F_DUMP_INTR is counted rather than ending the parse (mnl_cb_run stops
 * there). The next buffer is received while one is parsed (ct_recv.c). Size, timeouts and the
 * statistics' procfs fallback are read in ct_proc.c.
 */
#include "core/conntrack/conntrack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "core/conntrack/ct_recv.h"
#include "core/util.h"

/* A recv() buffer: the kernel sizes dump skbs from the largest buffer passed, capped at 32 KiB
 * (as for inet_diag in source_netlink.c); 64 KiB always holds one. */
#define CT_RECV_LEN  (64u << 10)
#define CT_MAX_ERRNO 4095

static const char *const tcp_state_names[TD_CT_TCP_COUNT] = {
	"NONE",	      "SYN_SENT", "SYN_RECV",  "ESTABLISHED", "FIN_WAIT",
	"CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE",	      "SYN_SENT2",
};

/* The timeout sysctl for each TCP conntrack state (net/netfilter/nf_conntrack_proto_tcp.c). */
static const char *const tcp_timeouts[TD_CT_TCP_COUNT] = {
	NULL,		"tcp_syn_sent",	  "tcp_syn_recv", "tcp_established",
	"tcp_fin_wait", "tcp_close_wait", "tcp_last_ack", "tcp_time_wait",
	"tcp_close",	"tcp_syn_sent",
};

const char *conntrack_tcp_state_name(unsigned state)
{
	return state < TD_CT_TCP_COUNT ? tcp_state_names[state] : "NONE";
}

const char *conntrack_tcp_timeout_name(unsigned state)
{
	return state < TD_CT_TCP_COUNT ? tcp_timeouts[state] : NULL;
}

const char *conntrack_proto_name(unsigned proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_GRE:
		return "gre";
	case IPPROTO_DCCP:
		return "dccp";
	case IPPROTO_UDPLITE:
		return "udplite";
	default:
		return NULL;
	}
}

/* Attribute tables: tb[type] for types up to max, unknown types ignored. */
struct ct_attrs {
	const struct nlattr **tb;
	unsigned max;
};

static int attr_collect(const struct nlattr *a, void *data)
{
	struct ct_attrs *t = data;
	unsigned type = mnl_attr_get_type(a);

	if (type <= t->max)
		t->tb[type] = a;
	return MNL_CB_OK;
}

/* Collects the attributes nested in a (or those after a message's header). -EBADMSG when
 * libmnl finds a length that does not fit. */
static int nested(const struct nlattr *a, const struct nlattr **tb, unsigned max)
{
	struct ct_attrs t = { tb, max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
		return -EBADMSG;
	return mnl_attr_parse_nested(a, attr_collect, &t) < 0 ? -EBADMSG : 0;
}

static int want(const struct nlattr *a, enum mnl_attr_data_type type)
{
	return a && mnl_attr_validate(a, type) < 0 ? -EBADMSG : 0;
}

static int parse_ip(const struct nlattr *a, struct td_ct *ct)
{
	const struct nlattr *tb[CTA_IP_MAX + 1];

	if (nested(a, tb, CTA_IP_MAX))
		return -EBADMSG;
	if (tb[CTA_IP_V4_SRC] || tb[CTA_IP_V4_DST]) {
		if (want(tb[CTA_IP_V4_SRC], MNL_TYPE_U32) || want(tb[CTA_IP_V4_DST], MNL_TYPE_U32))
			return -EBADMSG;
		ct->family = AF_INET;
		if (tb[CTA_IP_V4_SRC])
			memcpy(ct->src, mnl_attr_get_payload(tb[CTA_IP_V4_SRC]), 4);
		if (tb[CTA_IP_V4_DST])
			memcpy(ct->dst, mnl_attr_get_payload(tb[CTA_IP_V4_DST]), 4);
	} else if (tb[CTA_IP_V6_SRC] || tb[CTA_IP_V6_DST]) {
		for (int i = CTA_IP_V6_SRC; i <= CTA_IP_V6_DST; i++)
			if (tb[i] && mnl_attr_get_payload_len(tb[i]) != 16)
				return -EBADMSG;
		ct->family = AF_INET6;
		if (tb[CTA_IP_V6_SRC])
			memcpy(ct->src, mnl_attr_get_payload(tb[CTA_IP_V6_SRC]), 16);
		if (tb[CTA_IP_V6_DST])
			memcpy(ct->dst, mnl_attr_get_payload(tb[CTA_IP_V6_DST]), 16);
	}
	return 0;
}

static uint16_t be16_attr(const struct nlattr *a)
{
	return ntohs(mnl_attr_get_u16(a));
}

static int parse_proto(const struct nlattr *a, struct td_ct *ct)
{
	const struct nlattr *tb[CTA_PROTO_MAX + 1];

	if (nested(a, tb, CTA_PROTO_MAX) || want(tb[CTA_PROTO_NUM], MNL_TYPE_U8) ||
	    want(tb[CTA_PROTO_SRC_PORT], MNL_TYPE_U16) ||
	    want(tb[CTA_PROTO_DST_PORT], MNL_TYPE_U16))
		return -EBADMSG;
	if (tb[CTA_PROTO_NUM])
		ct->proto = mnl_attr_get_u8(tb[CTA_PROTO_NUM]);
	if (tb[CTA_PROTO_SRC_PORT])
		ct->sport = be16_attr(tb[CTA_PROTO_SRC_PORT]);
	if (tb[CTA_PROTO_DST_PORT])
		ct->dport = be16_attr(tb[CTA_PROTO_DST_PORT]);
	return 0;
}

static int parse_tuple(const struct nlattr *a, struct td_ct *ct)
{
	const struct nlattr *tb[CTA_TUPLE_MAX + 1];

	if (nested(a, tb, CTA_TUPLE_MAX) || want(tb[CTA_TUPLE_ZONE], MNL_TYPE_U16))
		return -EBADMSG;
	if (tb[CTA_TUPLE_IP] && parse_ip(tb[CTA_TUPLE_IP], ct))
		return -EBADMSG;
	if (tb[CTA_TUPLE_PROTO] && parse_proto(tb[CTA_TUPLE_PROTO], ct))
		return -EBADMSG;
	if (tb[CTA_TUPLE_ZONE])
		ct->zone = be16_attr(tb[CTA_TUPLE_ZONE]);
	return 0;
}

static int parse_protoinfo(const struct nlattr *a, struct td_ct *ct)
{
	const struct nlattr *tb[CTA_PROTOINFO_MAX + 1], *tcp[CTA_PROTOINFO_TCP_MAX + 1];

	if (nested(a, tb, CTA_PROTOINFO_MAX))
		return -EBADMSG;
	if (!tb[CTA_PROTOINFO_TCP])
		return 0;
	if (nested(tb[CTA_PROTOINFO_TCP], tcp, CTA_PROTOINFO_TCP_MAX) ||
	    want(tcp[CTA_PROTOINFO_TCP_STATE], MNL_TYPE_U8))
		return -EBADMSG;
	if (tcp[CTA_PROTOINFO_TCP_STATE]) {
		uint8_t s = mnl_attr_get_u8(tcp[CTA_PROTOINFO_TCP_STATE]);
		ct->tcp_state = s < TD_CT_TCP_COUNT ? s : TD_CT_TCP_NONE;
	}
	return 0;
}

/* Fills ct from one CT_NEW message (its nfgenmsg and attributes). */
static int parse_entry(const struct nlmsghdr *nlh, struct td_ct *ct)
{
	const struct nlattr *tb[CTA_MAX + 1] = { 0 };
	struct ct_attrs t = { tb, CTA_MAX };
	const struct nfgenmsg *nfg;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nfg)))
		return -EBADMSG;
	nfg = mnl_nlmsg_get_payload(nlh);
	memset(ct, 0, sizeof(*ct));
	ct->family = nfg->nfgen_family;
	if (mnl_attr_parse(nlh, sizeof(*nfg), attr_collect, &t) < 0)
		return -EBADMSG;
	if (!tb[CTA_TUPLE_ORIG] || parse_tuple(tb[CTA_TUPLE_ORIG], ct))
		return -EBADMSG;
	if (want(tb[CTA_STATUS], MNL_TYPE_U32) || want(tb[CTA_TIMEOUT], MNL_TYPE_U32) ||
	    want(tb[CTA_MARK], MNL_TYPE_U32) || want(tb[CTA_ZONE], MNL_TYPE_U16))
		return -EBADMSG;
	if (tb[CTA_PROTOINFO] && parse_protoinfo(tb[CTA_PROTOINFO], ct))
		return -EBADMSG;
	if (tb[CTA_STATUS]) {
		uint32_t status = ntohl(mnl_attr_get_u32(tb[CTA_STATUS]));
		ct->assured = status & IPS_ASSURED;
		ct->unreplied = !(status & IPS_SEEN_REPLY);
	}
	if (tb[CTA_TIMEOUT])
		ct->timeout_s = ntohl(mnl_attr_get_u32(tb[CTA_TIMEOUT]));
	if (tb[CTA_MARK])
		ct->mark = ntohl(mnl_attr_get_u32(tb[CTA_MARK]));
	if (tb[CTA_ZONE])
		ct->zone = be16_attr(tb[CTA_ZONE]);
	if (ct->family != AF_INET && ct->family != AF_INET6)
		return -EBADMSG;
	return 0;
}

/* The errno of an NLMSG_ERROR message; 0 for an ACK, -EBADMSG when it is malformed. */
static int nlmsg_error(const struct nlmsghdr *nlh)
{
	struct nlmsgerr e;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(e)))
		return -EBADMSG;
	memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
	if (e.error < 0 && e.error >= -CT_MAX_ERRNO)
		return e.error;
	return e.error == 0 ? 0 : -EBADMSG;
}

/* Walks the messages of one buffer; calls each(nlh, ctx) for messages of type msgtype. The
 * walk is ours, not mnl_nlmsg_ok/next: those cast nlmsg_len to int, so a hostile length of 2^31
 * or more passes the check and the next step jumps out of the buffer (found by the fuzzer). A
 * message must also fit with its padding, as the kernel always pads it, so that libmnl's
 * attribute walk, which runs to the aligned end, stays inside the buffer. */
static int walk(const void *buf, size_t len, uint16_t msgtype,
		int (*each)(const struct nlmsghdr *nlh, void *ctx), void *ctx, bool *intr,
		uint64_t *skipped)
{
	size_t off = 0;

	if ((uintptr_t)buf % 4)
		return -EINVAL; /* netlink buffers are 4-byte aligned; callers copy others */
	while (len - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const void *)((const char *)buf + off);
		/* not NLMSG_ALIGN: its 32-bit mask turns a length of 2^32 - 1 into 0 (a loop that
		 * never ends, also found by the fuzzer) */
		size_t step = ((size_t)nlh->nlmsg_len + 3) & ~(size_t)3;
		if (nlh->nlmsg_len < sizeof(*nlh) || step > len - off)
			return -EBADMSG;
		off += step;
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR && intr)
			*intr = true;
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			int e = nlmsg_error(nlh);
			if (e)
				return e;
			continue;
		}
		if (nlh->nlmsg_type == NLMSG_NOOP)
			continue;
		if (nlh->nlmsg_type != msgtype) {
			if (skipped)
				(*skipped)++;
			continue;
		}
		int r = each(nlh, ctx);
		if (r < 0)
			return r;
	}
	return off == len ? 0 : -EBADMSG; /* bytes left that do not form a message */
}

struct entry_ctx {
	td_ct_fn fn;
	void *arg;
	struct td_ct_dump_stats *st;
};

static int on_entry(const struct nlmsghdr *nlh, void *ctx)
{
	struct entry_ctx *c = ctx;
	struct td_ct ct;
	int r = parse_entry(nlh, &ct);

	if (r)
		return r;
	c->st->entries++;
	return c->fn(&ct, c->arg);
}

int conntrack_parse(const void *buf, size_t len, td_ct_fn fn, void *arg,
		    struct td_ct_dump_stats *st)
{
	struct entry_ctx c = { fn, arg, st };

	return walk(buf, len, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW, on_entry, &c,
		    &st->interrupted, &st->skipped);
}

static int on_stats(const struct nlmsghdr *nlh, void *ctx)
{
	const struct nlattr *tb[CTA_STATS_MAX + 1] = { 0 };
	struct ct_attrs t = { tb, CTA_STATS_MAX };
	struct td_ct_stats *s = ctx;
	uint64_t *dst[CTA_STATS_MAX + 1] = {
		[CTA_STATS_FOUND] = &s->found,
		[CTA_STATS_INVALID] = &s->invalid,
		[CTA_STATS_INSERT] = &s->insert,
		[CTA_STATS_INSERT_FAILED] = &s->insert_failed,
		[CTA_STATS_DROP] = &s->drop,
		[CTA_STATS_EARLY_DROP] = &s->early_drop,
		[CTA_STATS_ERROR] = &s->error,
		[CTA_STATS_SEARCH_RESTART] = &s->search_restart,
		[CTA_STATS_CLASH_RESOLVE] = &s->clash_resolve,
		[CTA_STATS_CHAIN_TOOLONG] = &s->chaintoolong,
	};

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)) ||
	    mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_collect, &t) < 0)
		return -EBADMSG;
	for (unsigned i = 0; i <= CTA_STATS_MAX; i++) {
		if (!tb[i] || !dst[i])
			continue;
		if (mnl_attr_validate(tb[i], MNL_TYPE_U32) < 0)
			return -EBADMSG;
		*dst[i] += ntohl(mnl_attr_get_u32(tb[i]));
	}
	s->cpus++;
	return 0;
}

int conntrack_stats_parse(const void *buf, size_t len, struct td_ct_stats *sum)
{
	return walk(buf, len, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET_STATS_CPU, on_stats,
		    sum, NULL, NULL);
}

struct request {
	uint8_t msg;
	int (*parse)(const void *, size_t, void *);
	void *ctx;
	const struct td_ct_io *io;
};

static int consume(const void *buf, size_t len, void *arg)
{
	const struct request *q = arg;
	int r = 0;

	if (q->io && q->io->tap)
		r = q->io->tap(q->io->arg,
			       q->msg == IPCTNL_MSG_CT_GET ? TD_CT_RAW_DUMP : TD_CT_RAW_STATS, buf,
			       len);
	return r ? r : q->parse(buf, len, q->ctx);
}

/* Sends a dump request of type msg and feeds every reply buffer to parse(buf, len, ctx),
 * receiving the next while parse works (ct_recv.h). */
static int ct_request(uint8_t msg, int (*parse)(const void *, size_t, void *), void *ctx,
		      const struct td_ct_io *io)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct request q = { msg, parse, ctx, io };
	char buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg))];
	int r;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NFNL_SUBSYS_CTNETLINK << 8 | msg;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	r = ct_recv_dump(mnl_socket_get_fd(nl), CT_RECV_LEN, consume, &q);
out:
	mnl_socket_close(nl);
	return r;
}

struct dump_ctx {
	td_ct_fn fn;
	void *arg;
	struct td_ct_dump_stats *st;
};

static int dump_parse(const void *buf, size_t len, void *ctx)
{
	struct dump_ctx *d = ctx;

	return conntrack_parse(buf, len, d->fn, d->arg, d->st);
}

int conntrack_dump_io(td_ct_fn fn, void *arg, struct td_ct_dump_stats *st,
		      const struct td_ct_io *io)
{
	struct dump_ctx d = { fn, arg, st };

	return ct_request(IPCTNL_MSG_CT_GET, dump_parse, &d, io);
}

int conntrack_dump(td_ct_fn fn, void *arg, struct td_ct_dump_stats *st)
{
	return conntrack_dump_io(fn, arg, st, NULL);
}

static int stats_parse(const void *buf, size_t len, void *ctx)
{
	return conntrack_stats_parse(buf, len, ctx);
}

int conntrack_stats_read(struct td_ct_stats *sum)
{
	return conntrack_stats_read_io(sum, NULL);
}

int conntrack_stats_read_io(struct td_ct_stats *sum, const struct td_ct_io *io)
{
	struct td_ct_stats s = { 0 };
	int r = ct_request(IPCTNL_MSG_CT_GET_STATS_CPU, stats_parse, &s, io);

	if (r == 0) {
		*sum = s;
		return 0;
	}
	if (r == -EBADMSG)
		return r;
	/* no ctnetlink: the procfs view of the same counters */
	char *text;
	size_t len;
	int pr = util_read_file("/proc/net/stat/nf_conntrack", 1u << 20, &text, &len);
	if (pr)
		return pr == -ENOENT ? -ENOENT : r;
	if (io && io->tap && (pr = io->tap(io->arg, TD_CT_RAW_STATS_PROC, text, len))) {
		free(text);
		return pr;
	}
	memset(&s, 0, sizeof(s));
	pr = conntrack_stats_parse_proc(text, len, &s);
	free(text);
	if (!pr)
		*sum = s;
	return pr;
}
