// SPDX-License-Identifier: MIT
/*
 * Making outside names safe for every output: a UTF-8 validator (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) and two ways to neutralise what it rejects, \xNN escapes
 * where a string may grow, '?' where it may not. Control characters go too, C1 included (U+009B
 * is CSI to some terminals).
 */
#include "core/names.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

size_t names_utf8_char(const unsigned char *s, size_t n)
{
	unsigned c = s[0], lo = 0x80, hi = 0xBF;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* the second byte's range rules out overlong forms, surrogates and > U+10FFFF */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

/* Length of the safe character at s, or 0 if its first byte must be neutralised. */
static size_t safe_char(const unsigned char *s, size_t n)
{
	size_t len = names_utf8_char(s, n);

	if (len == 1 && (s[0] < 0x20 || s[0] == 0x7F))
		return 0;
	if (len == 2 && s[0] == 0xC2 && s[1] < 0xA0)
		return 0; /* C1 controls U+0080..U+009F */
	return len;
}

char *names_escape(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = xmalloc(4 * n + 1), *p = out;

	for (size_t i = 0; i < n;) {
		size_t len = safe_char(u + i, n - i);
		if (!len) {
			p += sprintf(p, "\\x%02x", u[i]);
			i++;
			continue;
		}
		memcpy(p, u + i, len);
		p += len;
		i += len;
	}
	*p = '\0';
	return out;
}

char *names_escape_str(const char *s)
{
	return names_escape(s, strlen(s));
}

void names_replace(char *s)
{
	unsigned char *u = (unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t len = safe_char(u + i, n - i);
		if (!len) {
			u[i++] = '?';
			continue;
		}
		i += len;
	}
}
