/* SPDX-License-Identifier: MIT */
/*
 * The columns of a socket row, defined once: header and fixed width for the text table, and a
 * text and a JSON callback per column (a column may set several JSON members: "Local
 * Address:Port" sets "src" and "sport"). `sockets` walks this table for both renderers, row by
 * row as the sockets stream in. Entities whose fields are mostly plain values use the typed
 * tables of core/fields.h instead (port destinations, top's group keys).
 */
#ifndef TD_RENDER_SOCKFIELDS_H
#define TD_RENDER_SOCKFIELDS_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "core/sock.h"

struct td_sock_field {
	const char *header;
	int width; /* minimum text width; negative = left-aligned */
	/* Text cell into buf. */
	void (*text)(const struct td_sock *sk, char *buf, size_t len);
	/* Sets this field's JSON member(s) on obj. */
	void (*json)(const struct td_sock *sk, json_t *obj);
};

extern const struct td_sock_field sockfields[];
extern const size_t sockfields_count;

/* Prints the header line of the sockets table (with a Netns column when netns_width > 0). */
void sockfields_print_header(FILE *f, int netns_width, bool color);
/* Prints one socket as a table row. */
void sockfields_print_row(FILE *f, const struct td_sock *sk, const char *netns, int netns_width);
/* Prints one socket as a JSON object on one line; netns (may be "") is the "netns" member. */
int sockfields_print_json(FILE *f, const struct td_sock *sk, const char *netns);

#endif
