// SPDX-License-Identifier: MIT
/*
 * Builds and removes the lab's two namespaces and the veth between them.
 *
 * Why netlink (libmnl) and not fork/exec of `ip`: the project already links libmnl, the six
 * requests are short, errors come back as errno values rather than text to parse, and the lab
 * then works without iproute2 installed. The veth is created from a netlink socket opened inside
 * the client namespace with its peer sent straight to the server namespace (IFLA_NET_NS_FD), so
 * no interface ever appears in the caller's namespace and nothing there needs cleaning up; each
 * end dies with its namespace. Interface indexes are chosen at creation (2 on both sides, lo is
 * always 1 in a fresh namespace) so no lookup by name is needed.
 */
#include "lab/env.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "core/source/netns.h"
#include "core/util.h"

#define RUN_NETNS     "/run/netns"
#define LAB_IFINDEX   2
#define LAB_PREFIX    30
#define LAB_IF_CLIENT "td-lab-c"
#define LAB_IF_SERVER "td-lab-s"
/* requests here are < 200 bytes; replies are one ack (MNL_SOCKET_BUFFER_SIZE is not constant) */
#define LAB_NL_BUF 8192

void lab_env_init(struct lab_env *e)
{
	memset(e, 0, sizeof(*e));
	for (int i = 0; i < LAB_SIDES; i++)
		e->fd[i] = -1;
}

/* Sends one request and waits for its acknowledgement. Returns 0 or the kernel's -errno. */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[LAB_NL_BUF];
	unsigned seq = (unsigned)time(NULL), portid = mnl_socket_get_portid(nl);
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if (mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL) < 0)
		return -errno;
	return 0;
}

static int nl_link_up(struct mnl_socket *nl, int ifindex)
{
	char buf[LAB_NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	nlh->nlmsg_type = RTM_NEWLINK;
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	return nl_talk(nl, nlh);
}

static int nl_addr_add(struct mnl_socket *nl, int ifindex, uint32_t addr)
{
	char buf[LAB_NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	uint32_t a = htonl(addr);

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = LAB_PREFIX;
	ifa->ifa_index = (unsigned)ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, a);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, a);
	return nl_talk(nl, nlh);
}

static int oper_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_OPERSTATE && !mnl_attr_validate(a, MNL_TYPE_U8))
		*(int *)data = mnl_attr_get_u8(a);
	return MNL_CB_OK;
}

static int oper_msg(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct ifinfomsg), oper_attr, data);
}

/* The link's RFC 2863 operational state (IF_OPER_*), or -errno. */
static int nl_operstate(struct mnl_socket *nl, int ifindex)
{
	char buf[LAB_NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	unsigned seq = (unsigned)time(NULL) + 1, portid = mnl_socket_get_portid(nl);
	int state = -ENODATA;
	ssize_t n;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0 || mnl_cb_run(buf, (size_t)n, seq, portid, oper_msg, &state) < 0)
		return -errno;
	return state;
}

/*
 * Waits (at most 3 s) until both veth ends are operationally up. Until the kernel's linkwatch
 * has processed the carrier change, the device still has the noop qdisc, which drops every
 * packet: the first SYN would be lost and cost a 1 s retransmission, which a measurement must
 * not include. Linkwatch may defer that work by up to a second.
 */
static int wait_oper_up(struct mnl_socket *nl[LAB_SIDES])
{
	for (int i = 0; i < 300; i++) {
		int c = nl_operstate(nl[LAB_CLIENT], LAB_IFINDEX);
		int s = nl_operstate(nl[LAB_SERVER], LAB_IFINDEX);
		if (c < 0 || s < 0)
			return c < 0 ? c : s;
		if (c == IF_OPER_UP && s == IF_OPER_UP)
			return 0;
		util_sleep_ms(10);
	}
	return -ETIMEDOUT;
}

/* The client end stays in nl's namespace, the peer goes to the namespace peer_ns_fd. */
static int nl_veth_add(struct mnl_socket *nl, int peer_ns_fd)
{
	char buf[LAB_NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	struct nlattr *linkinfo, *data, *peer;
	struct ifinfomsg *pifm;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = LAB_IFINDEX;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, LAB_IF_CLIENT);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* VETH_INFO_PEER carries an ifinfomsg header before its own attributes */
	pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	pifm->ifi_index = LAB_IFINDEX;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, LAB_IF_SERVER);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_ns_fd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nl_talk(nl, nlh);
}

/* A new namespace, bound to /run/netns/NAME as `ip netns add` does, and an fd on it. The
 * calling thread is back in its own namespace on return, also on error. */
static int make_ns(struct lab_env *e, enum lab_side side)
{
	int saved = netns_save(), fd, r = 0;

	if (saved < 0)
		return saved;
	if (unshare(CLONE_NEWNET)) {
		r = -errno;
		goto out;
	}
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	e->fd[side] = fd;
	if (mkdir(RUN_NETNS, 0755) && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	int mp = open(e->path[side], O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (mp < 0) {
		r = -errno;
		goto out;
	}
	close(mp);
	if (mount("/proc/thread-self/ns/net", e->path[side], "none", MS_BIND, NULL)) {
		r = -errno;
		unlink(e->path[side]);
		goto out;
	}
	e->mounted[side] = true;
out : {
	int rr = netns_restore(saved);
	return r ? r : rr;
}
}

/* Opens a netlink socket inside one namespace (sockets keep the namespace they were made in). */
static int nl_open_in(const struct lab_env *e, enum lab_side side, struct mnl_socket **out)
{
	int saved = netns_save(), r = 0;

	if (saved < 0)
		return saved;
	if (setns(e->fd[side], CLONE_NEWNET)) {
		r = -errno;
	} else {
		*out = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
		if (!*out)
			r = -errno;
		else if (mnl_socket_bind(*out, 0, MNL_SOCKET_AUTOPID) < 0)
			r = -errno;
	}
	int rr = netns_restore(saved);
	if (!r && rr)
		r = rr;
	if (r && *out) {
		mnl_socket_close(*out);
		*out = NULL;
	}
	return r;
}

static int wire(const struct lab_env *e, const char **step)
{
	struct mnl_socket *nl[LAB_SIDES] = { NULL, NULL };
	int r;

	*step = "open netlink";
	r = nl_open_in(e, LAB_CLIENT, &nl[LAB_CLIENT]);
	if (!r)
		r = nl_open_in(e, LAB_SERVER, &nl[LAB_SERVER]);
	if (r)
		goto out;
	*step = "create veth pair";
	r = nl_veth_add(nl[LAB_CLIENT], e->fd[LAB_SERVER]);
	for (int s = 0; s < LAB_SIDES && !r; s++) {
		*step = "add address";
		r = nl_addr_add(nl[s], LAB_IFINDEX,
				s == LAB_CLIENT ? LAB_CLIENT_ADDR : LAB_SERVER_ADDR);
		*step = "set links up";
		if (!r)
			r = nl_link_up(nl[s], 1);
		if (!r)
			r = nl_link_up(nl[s], LAB_IFINDEX);
	}
	if (!r) {
		*step = "wait for the veth to come up";
		r = wait_oper_up(nl);
	}
out:
	for (int s = 0; s < LAB_SIDES; s++)
		if (nl[s])
			mnl_socket_close(nl[s]);
	return r;
}

int lab_env_create(struct lab_env *e, char *err, size_t errlen)
{
	const char *step = "create namespace";
	int r = 0;

	for (int s = 0; s < LAB_SIDES; s++) {
		snprintf(e->name[s], sizeof(e->name[s]), "td-lab-%c-%ld",
			 s == LAB_CLIENT ? 'c' : 's', (long)getpid());
		snprintf(e->path[s], sizeof(e->path[s]), RUN_NETNS "/%s", e->name[s]);
	}
	for (int s = 0; s < LAB_SIDES && !r; s++) {
		r = make_ns(e, (enum lab_side)s);
		if (r)
			snprintf(err, errlen, "cannot create namespace %s: %s", e->name[s],
				 strerror(-r));
	}
	if (r)
		return r;
	r = wire(e, &step);
	if (r)
		snprintf(err, errlen, "%s in %s/%s: %s", step, e->name[0], e->name[1],
			 strerror(-r));
	return r;
}

/* Runs the open() of a /proc/sys file inside one namespace: the file then keeps that
 * namespace's table, whoever reads or writes it later. */
static int open_sysctl(const struct lab_env *e, enum lab_side side, const char *key, int flags)
{
	char path[160];
	int saved, fd, r;

	if (snprintf(path, sizeof(path), "/proc/sys/%s", key) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	saved = netns_save();
	if (saved < 0)
		return saved;
	if (setns(e->fd[side], CLONE_NEWNET)) {
		r = -errno;
		netns_restore(saved);
		return r;
	}
	fd = open(path, flags | O_CLOEXEC);
	r = fd < 0 ? -errno : fd;
	int rr = netns_restore(saved);
	if (rr) {
		/* never leave this thread in the lab's namespace */
		if (fd >= 0)
			close(fd);
		return rr;
	}
	return r;
}

int lab_env_sysctl_write(const struct lab_env *e, enum lab_side side, const char *key,
			 const char *value)
{
	int fd = open_sysctl(e, side, key, O_WRONLY);
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = write(fd, value, len);
	int r = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	close(fd);
	return r;
}

int lab_env_sysctl_read(const struct lab_env *e, enum lab_side side, const char *key, char *buf,
			size_t len)
{
	int fd = open_sysctl(e, side, key, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	if (len == 0) {
		close(fd);
		return -EINVAL;
	}
	n = read(fd, buf, len - 1);
	int r = n < 0 ? -errno : 0;
	close(fd);
	if (r)
		return r;
	buf[n] = '\0';
	for (char *p = buf; *p; p++)
		if (*p == '\t')
			*p = ' ';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int lab_env_enter(const struct lab_env *e, enum lab_side side)
{
	if (e->fd[side] < 0)
		return -EBADF;
	return setns(e->fd[side], CLONE_NEWNET) ? -errno : 0;
}

void lab_env_destroy(struct lab_env *e)
{
	for (int s = 0; s < LAB_SIDES; s++) {
		if (e->mounted[s]) {
			/* MNT_DETACH like `ip netns del`: a reader that still has the file open
			 * (an `ip netns exec` shell) must not make removal fail */
			umount2(e->path[s], MNT_DETACH);
			unlink(e->path[s]);
			e->mounted[s] = false;
		}
		if (e->fd[s] >= 0) {
			close(e->fd[s]);
			e->fd[s] = -1;
		}
	}
}
