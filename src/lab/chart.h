/* SPDX-License-Identifier: MIT */
/*
 * The lab's chart: one SVG of small multiples, a panel per scenario, with TIME_WAIT on the
 * client and on the server, CLOSE_WAIT on the server, and the client's cumulative failures
 * over time, all panels on the same axes so they compare at a glance.
 */
#ifndef TD_LAB_CHART_H
#define TD_LAB_CHART_H

#include <stddef.h>
#include <stdio.h>

struct lab_result;

/* Writes the SVG document to f. Returns 0 or -EIO when a write failed. */
int lab_chart_write(FILE *f, const struct lab_result *res, size_t n);

#endif
