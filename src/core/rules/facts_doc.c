// SPDX-License-Identifier: MIT
/*
 * doc/tcp-facts.md, embedded as read-only bytes at build time so that `tcpdoctor explain` prints
 * the document the references point into, whatever is installed. The assembler's .incbin reads
 * the file (relative to the top of the tree, where make runs), so no generated source is needed;
 * the Makefile names the document as a prerequisite of this object so an edit rebuilds it.
 */
#include "core/rules/facts.h"

__asm__(".pushsection .rodata\n"
	".balign 16\n"
	"td_facts_md_start:\n"
	".incbin \"doc/tcp-facts.md\"\n"
	"td_facts_md_end:\n"
	".byte 0\n"
	".popsection\n");

extern const char td_facts_md_start[] __asm__("td_facts_md_start");
extern const char td_facts_md_end[] __asm__("td_facts_md_end");

const char *facts_doc(size_t *len)
{
	*len = (size_t)(td_facts_md_end - td_facts_md_start);
	return td_facts_md_start;
}
