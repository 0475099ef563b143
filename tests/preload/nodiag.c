// SPDX-License-Identifier: MIT
/*
 * LD_PRELOAD shim for tests: socket(AF_NETLINK, ..., NETLINK_SOCK_DIAG) fails with
 * EPROTONOSUPPORT, as on a kernel built without inet_diag, so the real binary's automatic
 * fallback to /proc/net/tcp can be tested. Every other socket() goes to libc. Built by
 * tests/integration/fallback.sh (a shared object, so not in tests/helpers).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/netlink.h>
#include <sys/socket.h>

int socket(int domain, int type, int protocol)
{
	static int (*real)(int, int, int);

	if (domain == AF_NETLINK && protocol == NETLINK_SOCK_DIAG) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	if (!real)
		real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	return real(domain, type, protocol);
}
