/* SPDX-License-Identifier: MIT */
/*
 * doc/tcp-facts.md inside the binary: the table of its sections (stable anchor, title, the
 * primary source a printed reference names), the text of the document itself (embedded at build
 * time by facts_doc.c), and the formatting of a reference. A reference in code is the string
 * "tcp-facts#ANCHOR" (rules.h, params.h); users see "tcp-facts.md#ANCHOR (SOURCE)" and can
 * follow it with `tcpdoctor explain ANCHOR` or in /usr/share/doc/tcpdoctor/tcp-facts.md.
 *
 * Everything here is read-only data and pure functions: no I/O, no printing. Thread-safe.
 */
#ifndef TD_FACTS_H
#define TD_FACTS_H

#include <stddef.h>

/* Where packages install the document (the .deb and `make install` put doc/ there). */
#define FACTS_DOC_PATH "/usr/share/doc/tcpdoctor/tcp-facts.md"
/* The prefix of every reference string in code. */
#define FACTS_REF_PREFIX "tcp-facts#"

struct td_section {
	const char *anchor; /* "ephemeral-ports": <a id="..."> in the document */
	const char *title;  /* the section's "## " heading, word for word */
	const char *source; /* the primary source a printed reference names (short) */
};

extern const struct td_section facts_sections[];
extern const size_t facts_nsections;

/* The anchor a reference or a user's input names: "tcp-facts#x", "tcp-facts.md#x", "#x" and
 * "x" all give "x" (a pointer into s). NULL for NULL or an empty anchor. Does not check that
 * the anchor exists. */
const char *facts_anchor_of(const char *s);

/* The section an anchor or reference names (any form facts_anchor_of accepts), or NULL. */
const struct td_section *facts_section(const char *s);

/*
 * The printed form of a reference: "tcp-facts.md#ANCHOR (SOURCE)" for a known section, the
 * reference itself otherwise (NULL gives ""). Truncates to len - 1 bytes. Returns buf.
 */
char *facts_ref_text(const char *ref, char *buf, size_t len);

/* The whole embedded document (not NUL-terminated: use len). Can't fail. */
const char *facts_doc(size_t *len);

/*
 * The text of one section of the embedded document: from its "## " heading up to (not
 * including) the next section's anchor line, trailing blank lines dropped. Returns 0 with
 * *text pointing into the document and *len set, or -ENOENT when the anchor is not in it.
 */
int facts_section_text(const char *anchor, const char **text, size_t *len);

#endif
