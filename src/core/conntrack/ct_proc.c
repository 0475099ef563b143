// SPDX-License-Identifier: MIT
/*
 * The procfs side of conntrack: the table's size and timeouts from /proc/sys/net/netfilter
 * (or from the sysctl lines of a record, for --replay), and the per-CPU statistics of
 * /proc/net/stat/nf_conntrack, the fallback when ctnetlink is not there. Every number goes
 * through the strict parser; a column is found by its header's name.
 */
#include "core/conntrack/conntrack.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Column names of /proc/net/stat/nf_conntrack and where each goes. */
static uint64_t *proc_column(struct td_ct_stats *s, const char *name, size_t len)
{
	static const struct {
		const char *name;
		size_t off;
	} cols[] = {
		{ "found", offsetof(struct td_ct_stats, found) },
		{ "invalid", offsetof(struct td_ct_stats, invalid) },
		{ "insert", offsetof(struct td_ct_stats, insert) },
		{ "insert_failed", offsetof(struct td_ct_stats, insert_failed) },
		{ "drop", offsetof(struct td_ct_stats, drop) },
		{ "early_drop", offsetof(struct td_ct_stats, early_drop) },
		{ "icmp_error", offsetof(struct td_ct_stats, error) },
		{ "search_restart", offsetof(struct td_ct_stats, search_restart) },
		{ "clashres", offsetof(struct td_ct_stats, clash_resolve) },
		/* 5.16+ prints chaintoolong under this header (it was delete_list) */
		{ "chainlength", offsetof(struct td_ct_stats, chaintoolong) },
	};
	for (size_t i = 0; i < TD_ARRAY_SIZE(cols); i++)
		if (strlen(cols[i].name) == len && !memcmp(cols[i].name, name, len))
			return (uint64_t *)((char *)s + cols[i].off);
	return NULL;
}

#define CT_PROC_COLS 64

int conntrack_stats_parse_proc(const char *text, size_t len, struct td_ct_stats *sum)
{
	uint64_t *dst[CT_PROC_COLS];
	size_t ncols = 0, i = 0;
	struct td_ct_stats acc = *sum;

	/* header: column names separated by blanks */
	while (i < len && text[i] != '\n') {
		while (i < len && (text[i] == ' ' || text[i] == '\t'))
			i++;
		size_t start = i;
		while (i < len && text[i] != ' ' && text[i] != '\t' && text[i] != '\n')
			i++;
		if (i == start)
			break;
		if (ncols == CT_PROC_COLS)
			return -EBADMSG;
		dst[ncols++] = proc_column(&acc, text + start, i - start);
	}
	if (i >= len || ncols == 0)
		return -EBADMSG;
	i++;
	while (i < len) {
		size_t col = 0;
		while (i < len && text[i] != '\n') {
			char word[24];
			size_t start = i, n;
			uint64_t v = 0;
			while (i < len && text[i] != ' ' && text[i] != '\t' && text[i] != '\n')
				i++;
			n = i - start;
			if (n == 0 || n >= sizeof(word) || col >= ncols)
				return -EBADMSG;
			memcpy(word, text + start, n);
			word[n] = '\0';
			for (size_t k = 0; k < n; k++) {
				int c = word[k];
				int d = c >= '0' && c <= '9'   ? c - '0'
					: c >= 'a' && c <= 'f' ? c - 'a' + 10
					: c >= 'A' && c <= 'F' ? c - 'A' + 10
							       : -1;
				if (d < 0 || v >> 60)
					return -EBADMSG;
				v = v << 4 | (uint64_t)d;
			}
			if (dst[col])
				*dst[col] += v;
			col++;
			while (i < len && (text[i] == ' ' || text[i] == '\t'))
				i++;
		}
		if (col != ncols)
			return -EBADMSG;
		acc.cpus++;
		i++;
	}
	*sum = acc;
	return 0;
}

/* The value of "name=" in recorded "name=value\n" lines, or -ENOENT. */
static int recorded_value(const struct td_ct_io *io, const char *name, uint64_t *out)
{
	const char *p = io->sysctl_text, *end = p + io->sysctl_len;
	size_t nl = strlen(name);

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t l = eol ? (size_t)(eol - p) : (size_t)(end - p);
		char v[32];
		if (l > nl && !memcmp(p, name, nl) && p[nl] == '=' && l - nl - 1 < sizeof(v)) {
			memcpy(v, p + nl + 1, l - nl - 1);
			v[l - nl - 1] = '\0';
			return util_parse_u64(v, 0, UINT64_MAX, out) ? -EBADMSG : 0;
		}
		p += l + 1;
	}
	return -ENOENT;
}

static int read_u64(const char *name, uint64_t *out, const struct td_ct_io *io)
{
	char path[128], *text;
	size_t len;
	int r;

	if (io && io->sysctl_text)
		return recorded_value(io, name, out);
	snprintf(path, sizeof(path), "/proc/sys/net/netfilter/nf_conntrack_%s", name);
	r = util_read_file(path, 64, &text, &len);
	if (r)
		return r;
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	r = util_parse_u64(text, 0, UINT64_MAX, out);
	free(text);
	if (!r && io && io->tap) {
		char line[160];
		int n = snprintf(line, sizeof(line), "%s=%" PRIu64 "\n", name, *out);
		r = io->tap(io->arg, TD_CT_RAW_SYSCTL, line, (size_t)n);
	}
	return r;
}

int conntrack_table_read_io(struct td_ct_table *t, const struct td_ct_io *io)
{
	memset(t, 0, sizeof(*t));
	t->has_count = read_u64("count", &t->count, io) == 0;
	t->has_max = read_u64("max", &t->max, io) == 0;
	t->has_buckets = read_u64("buckets", &t->buckets, io) == 0;
	return t->has_count ? 0 : -ENOENT;
}

int conntrack_table_read(struct td_ct_table *t)
{
	return conntrack_table_read_io(t, NULL);
}

void conntrack_timeouts_read(struct td_ct_timeout out[TD_CT_TIMEOUTS])
{
	conntrack_timeouts_read_io(out, NULL);
}

void conntrack_timeouts_read_io(struct td_ct_timeout out[TD_CT_TIMEOUTS], const struct td_ct_io *io)
{
	static const char *const names[TD_CT_TIMEOUTS][2] = {
		{ "tcp_syn_sent", "tcp_timeout_syn_sent" },
		{ "tcp_syn_recv", "tcp_timeout_syn_recv" },
		{ "tcp_established", "tcp_timeout_established" },
		{ "tcp_fin_wait", "tcp_timeout_fin_wait" },
		{ "tcp_close_wait", "tcp_timeout_close_wait" },
		{ "tcp_last_ack", "tcp_timeout_last_ack" },
		{ "tcp_time_wait", "tcp_timeout_time_wait" },
		{ "tcp_close", "tcp_timeout_close" },
		{ "tcp_max_retrans", "tcp_timeout_max_retrans" },
		{ "tcp_unacknowledged", "tcp_timeout_unacknowledged" },
		{ "udp", "udp_timeout" },
		{ "udp_stream", "udp_timeout_stream" },
		{ "icmp", "icmp_timeout" },
		{ "icmpv6", "icmpv6_timeout" },
		{ "generic", "generic_timeout" },
	};
	for (size_t i = 0; i < TD_CT_TIMEOUTS; i++) {
		out[i] = (struct td_ct_timeout){ .name = names[i][0] };
		snprintf(out[i].key, sizeof(out[i].key), "net.netfilter.nf_conntrack_%s",
			 names[i][1]);
		out[i].known = read_u64(names[i][1], &out[i].seconds, io) == 0;
	}
}
