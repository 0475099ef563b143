/* SPDX-License-Identifier: MIT */
/*
 * The fields of a socket row, defined once: header and width for the text table, JSON keys for
 * --json, and how to get each from a struct td_sock. The `sockets` list (and any later command
 * that lists sockets) walks this table for both renderers.
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

/* Prints the header line of the sockets table (with a NETNS column when with_netns). */
void sockfields_print_header(FILE *f, int netns_width, bool color);
/* Prints one socket as a table row. */
void sockfields_print_row(FILE *f, const struct td_sock *sk, const char *netns, int netns_width);
/* Prints one socket as a JSON object on one line; netns (may be "") is the "netns" member. */
int sockfields_print_json(FILE *f, const struct td_sock *sk, const char *netns);

#endif
