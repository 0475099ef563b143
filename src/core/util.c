// SPDX-License-Identifier: MIT
/*
 * The strict number parsers every user- or file-supplied number goes through, the aborting
 * allocators, and small file/time helpers.
 */
#include "core/util.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	uint64_t mag;
	bool neg = s && *s == '-';
	int r = util_parse_u64(neg ? s + 1 : s, 0, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &mag);

	if (r)
		return r;
	int64_t v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int util_parse_seconds(const char *s, unsigned max_s, uint64_t *out_ms)
{
	char whole[24];
	const char *dot;
	uint64_t sec, ms = 0;
	size_t n;

	if (!s || !*s)
		return -EINVAL;
	dot = strchr(s, '.');
	n = dot ? (size_t)(dot - s) : strlen(s);
	if (n == 0 || n >= sizeof(whole))
		return n == 0 && dot ? -EINVAL : (n ? -ERANGE : -EINVAL);
	memcpy(whole, s, n);
	whole[n] = '\0';
	int r = util_parse_u64(whole, 0, max_s, &sec);
	if (r)
		return r;
	if (dot) {
		const char *f = dot + 1;
		unsigned scale = 100;
		if (!*f)
			return -EINVAL;
		for (; *f; f++) {
			if (!isdigit((unsigned char)*f))
				return -EINVAL;
			ms += (uint64_t)(*f - '0') * scale;
			scale /= 10;
		}
	}
	ms += sec * 1000;
	if (ms == 0 || ms > (uint64_t)max_s * 1000)
		return -ERANGE;
	*out_ms = ms;
	return 0;
}

static void oom(size_t n)
{
	fprintf(stderr, "tcpdoctor: out of memory (%zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		oom(strlen(s));
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *p;

	if (vasprintf(&p, fmt, ap) < 0)
		oom(0);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

int util_read_fd(int fd, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	int ret = 0;

	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max) {
				ret = -EFBIG;
				break;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!ret && n > max)
		ret = -EFBIG;
	if (ret) {
		free(buf);
		return ret;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

int util_read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return util_read_fd(fd, max, out, len);
}

uint64_t util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void util_sleep_until(uint64_t deadline_ns)
{
	uint64_t now = util_now_ns();

	if (now >= deadline_ns)
		return;
	uint64_t d = deadline_ns - now;
	struct timespec ts = { (time_t)(d / 1000000000u), (long)(d % 1000000000u) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void util_sleep_ms(uint64_t ms)
{
	util_sleep_until(util_now_ns() + ms * 1000000u);
}

#define BIG_ALIGN (2 * 1024 * 1024) /* a huge page backs only an aligned 2 MiB */

static size_t big_len(size_t len)
{
	return (len + BIG_ALIGN - 1) & ~(size_t)(BIG_ALIGN - 1);
}

void *util_big_zalloc(size_t len)
{
	if (len < BIG_ALIGN)
		return xcalloc(1, len ? len : 1);
	size_t n = big_len(len), over = n + BIG_ALIGN;
	char *p = mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		oom(over);
	char *a = (char *)(((uintptr_t)p + BIG_ALIGN - 1) & ~(uintptr_t)(BIG_ALIGN - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + n < p + over)
		munmap(a + n, (size_t)(p + over - (a + n)));
	(void)madvise(a, n, MADV_HUGEPAGE); /* a hint: without THP these are ordinary pages */
	return a;
}

void util_big_free(void *p, size_t len)
{
	if (!p)
		return;
	if (len < BIG_ALIGN)
		free(p);
	else
		munmap(p, big_len(len));
}
