/* SPDX-License-Identifier: MIT */
/*
 * Names that come from outside (a /run/netns entry, a recorded namespace name, /proc/PID/comm,
 * a file name) are data, not text we can trust: they may hold invalid UTF-8, which breaks JSON
 * (jansson refuses it) and the Prometheus page (one bad label value makes Prometheus drop the
 * whole scrape), and control characters, which a terminal would obey. They are made safe once,
 * where they enter, so that every output (table, JSON, Prometheus, messages) receives valid
 * UTF-8 without control characters. Thread-safe (no state).
 */
#ifndef TD_NAMES_H
#define TD_NAMES_H

#include <stddef.h>

/* Length (1 to 4) of the well-formed UTF-8 character at s (n bytes available), or 0 when the
 * bytes there are not one (stray continuation byte, overlong form, surrogate, above U+10FFFF,
 * cut short). */
size_t names_utf8_char(const unsigned char *s, size_t n);

/* A copy of the n bytes at s (NUL bytes included) where every byte that is a control character
 * (C0, DEL, C1) or not part of well-formed UTF-8 is written as the four characters \xNN.
 * Printable text, backslashes included, is copied unchanged. Returns a malloc'd NUL-terminated
 * string (caller frees); never NULL (aborts on OOM). */
char *names_escape(const char *s, size_t n);

/* The same for a NUL-terminated string. */
char *names_escape_str(const char *s);

/* In place, for fixed-size fields such as a 16-byte comm: every byte names_escape would escape
 * becomes '?', as ps(1) shows them, so the length never grows. */
void names_replace(char *s);

#endif
