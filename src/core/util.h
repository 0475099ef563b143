/* SPDX-License-Identifier: MIT */
/*
 * Small helpers shared by every module: the one strict number parser that all numbers from
 * users and files go through, and allocators that abort on out-of-memory so call sites stay
 * clean (tmux's x-allocators). Thread-safe; no state.
 */
#ifndef TD_UTIL_H
#define TD_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define TD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Parses a whole decimal string (no sign, no spaces, no trailing junk) into *out and checks
 * min <= value <= max. Returns 0, -EINVAL (not a number), or -ERANGE (out of range/overflow).
 * *out is untouched on error. */
int util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Same for a signed decimal, optional leading '-'. */
int util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Parses a duration in seconds: a decimal with optional fraction ("0.5", "2"), range
 * (0, max_s]. Returns milliseconds in *out_ms; 0, -EINVAL or -ERANGE. */
int util_parse_seconds(const char *s, unsigned max_s, uint64_t *out_ms);

/* Abort with a message on OOM. Never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* asprintf and vasprintf that abort on failure. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* len bytes of zeroed memory for a large array: from 2 MiB up, an anonymous mapping aligned on
 * 2 MiB and marked MADV_HUGEPAGE, so the kernel may back it with huge pages (a page fault costs
 * 10-20 us in a VM; an array of 8 MiB in 4 KiB pages takes 2,048 of them); below, xcalloc.
 * Aborts on failure. Free with util_big_free and the same len. */
void *util_big_zalloc(size_t len);
void util_big_free(void *p, size_t len);

/* Reads a whole (small) file into a NUL-terminated buffer, at most max bytes.
 * Returns 0 and *out (caller frees) with *len, or -errno (-EFBIG when larger than max). */
int util_read_file(const char *path, size_t max, char **out, size_t *len);
/* The same from an open descriptor, which it closes in every case. */
int util_read_fd(int fd, size_t max, char **out, size_t *len);

/* Monotonic clock in nanoseconds. */
uint64_t util_now_ns(void);

/* Sleeps until the monotonic clock reaches deadline_ns (at once if past), or for ms
 * milliseconds, resuming after signals. */
void util_sleep_until(uint64_t deadline_ns);
void util_sleep_ms(uint64_t ms);

#endif
