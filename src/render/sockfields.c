// SPDX-License-Identifier: MIT
/*
 * The socket row field table and the two renderers that walk it. Widths are fixed so rows can
 * be printed as they stream in, in constant memory.
 */
#include "render/sockfields.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

static void t_state(const struct td_sock *sk, char *b, size_t l)
{
	snprintf(b, l, "%s", sock_state_name(sk->state));
}

static void j_state(const struct td_sock *sk, json_t *o)
{
	json_object_set_new(o, "family", json_string(sk->family == AF_INET6 ? "ipv6" : "ipv4"));
	json_object_set_new(o, "state", json_string(sock_state_name(sk->state)));
}

static void t_rq(const struct td_sock *sk, char *b, size_t l)
{
	snprintf(b, l, "%" PRIu32, sk->rqueue);
}

static void j_rq(const struct td_sock *sk, json_t *o)
{
	json_object_set_new(o, "rqueue", json_integer(sk->rqueue));
}

static void t_wq(const struct td_sock *sk, char *b, size_t l)
{
	snprintf(b, l, "%" PRIu32, sk->wqueue);
}

static void j_wq(const struct td_sock *sk, json_t *o)
{
	json_object_set_new(o, "wqueue", json_integer(sk->wqueue));
}

static void endpoint(unsigned fam, const uint8_t *a, uint16_t port, char *b, size_t l)
{
	char addr[64];

	sock_addr_str(fam, a, addr, sizeof(addr));
	snprintf(b, l, fam == AF_INET6 ? "[%s]:%u" : "%s:%u", addr, port);
}

static void t_local(const struct td_sock *sk, char *b, size_t l)
{
	endpoint(sk->family, sk->src, sk->sport, b, l);
}

static void j_local(const struct td_sock *sk, json_t *o)
{
	char addr[64];

	json_object_set_new(o, "src", json_string(sock_addr_str(sk->family, sk->src, addr, 64)));
	json_object_set_new(o, "sport", json_integer(sk->sport));
}

static void t_peer(const struct td_sock *sk, char *b, size_t l)
{
	endpoint(sk->family, sk->dst, sk->dport, b, l);
}

static void j_peer(const struct td_sock *sk, json_t *o)
{
	char addr[64];

	json_object_set_new(o, "dst", json_string(sock_addr_str(sk->family, sk->dst, addr, 64)));
	json_object_set_new(o, "dport", json_integer(sk->dport));
}

static const char *const timer_names[] = { "off", "on", "keepalive", "timewait", "persist" };

static const char *timer_name(unsigned t)
{
	return t < 5 ? timer_names[t] : "unknown";
}

static void t_timer(const struct td_sock *sk, char *b, size_t l)
{
	if (sk->timer == TD_TIMER_NONE)
		snprintf(b, l, "-");
	else
		snprintf(b, l, "%s,%.1fs,%u", timer_name(sk->timer), sk->expires_ms / 1000.0,
			 sk->retrans);
}

static void j_timer(const struct td_sock *sk, json_t *o)
{
	json_object_set_new(o, "timer", json_string(timer_name(sk->timer)));
	json_object_set_new(o, "expires_ms", json_integer(sk->expires_ms));
	json_object_set_new(o, "retrans", json_integer(sk->retrans));
}

static void t_uid(const struct td_sock *sk, char *b, size_t l)
{
	snprintf(b, l, "%" PRIu32, sk->uid);
}

static void j_uid(const struct td_sock *sk, json_t *o)
{
	json_object_set_new(o, "uid", json_integer(sk->uid));
}

static void t_inode(const struct td_sock *sk, char *b, size_t l)
{
	snprintf(b, l, "%" PRIu64, sk->inode);
}

static void j_inode(const struct td_sock *sk, json_t *o)
{
	json_object_set_new(o, "inode", json_integer((json_int_t)sk->inode));
	json_object_set_new(o, "cookie", json_integer((json_int_t)sk->cookie));
}

const struct td_sock_field sockfields[] = {
	{ "State", -11, t_state, j_state },
	{ "Recv-Q", 7, t_rq, j_rq },
	{ "Send-Q", 7, t_wq, j_wq },
	{ "Local Address:Port", -27, t_local, j_local },
	{ "Peer Address:Port", -27, t_peer, j_peer },
	{ "Timer", -22, t_timer, j_timer },
	{ "UID", 6, t_uid, j_uid },
	{ "Inode", 10, t_inode, j_inode },
};
const size_t sockfields_count = sizeof(sockfields) / sizeof(sockfields[0]);

void sockfields_print_header(FILE *f, int netns_width, bool color)
{
	if (color)
		fputs("\033[1m", f);
	if (netns_width)
		fprintf(f, "%-*s ", netns_width, "Netns");
	for (size_t i = 0; i < sockfields_count; i++) {
		int w = sockfields[i].width;
		fprintf(f, i + 1 == sockfields_count ? "%*s" : "%*s ", w, sockfields[i].header);
	}
	fputs(color ? "\033[0m\n" : "\n", f);
}

void sockfields_print_row(FILE *f, const struct td_sock *sk, const char *netns, int netns_width)
{
	char cell[128];

	if (netns_width)
		fprintf(f, "%-*s ", netns_width, netns);
	for (size_t i = 0; i < sockfields_count; i++) {
		sockfields[i].text(sk, cell, sizeof(cell));
		fprintf(f, i + 1 == sockfields_count ? "%*s" : "%*s ", sockfields[i].width, cell);
	}
	fputc('\n', f);
}

int sockfields_print_json(FILE *f, const struct td_sock *sk, const char *netns)
{
	json_t *o = json_object();
	int r;

	json_object_set_new(o, "netns", json_string(netns));
	for (size_t i = 0; i < sockfields_count; i++)
		sockfields[i].json(sk, o);
	r = json_dumpf(o, f, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(o);
	return r;
}
