/* SPDX-License-Identifier: MIT */
/*
 * One-line verdicts for lab results: what the numbers of a run mean, in kernel-facts.md's
 * terms (§3 reuse, §4 bucket overflow, §5 ports, §6 timestamps, §11 linger). Each verdict reads
 * the measurements, so a run that does not behave as expected says what it saw instead of
 * repeating the textbook. Pure functions, thread-safe.
 */
#ifndef TD_LAB_VERDICT_H
#define TD_LAB_VERDICT_H

#include <stddef.h>

struct lab_result;

/* Writes the verdict for res (res->sc set, measurements filled) into buf. Can't fail; the
 * text is truncated to len. */
void lab_verdict(const struct lab_result *res, char *buf, size_t len);

#endif
