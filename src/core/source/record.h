/* SPDX-License-Identifier: MIT */
/*
 * Recorded dumps (`sockets --record FILE`, global `--replay FILE`). A record keeps the raw bytes
 * each source read from the kernel (netlink replies exactly as recv() returned them, or the
 * text of /proc/net/tcp{,6}), so replay runs the very same parsers as a live run.
 *
 * File format (all integers little-endian):
 *   magic  "TDREC001" (8 bytes)
 *   chunk* { u32 type; u32 length; u8 data[length]; }
 * Chunk types: META ("key=value\n" lines), NETNS (name of the namespace the following chunks
 * belong to), NETLINK (one recv() buffer of inet_diag messages), PROC_TCP / PROC_TCP6 (file text);
 * a `conntrack --record` file has CT chunks (ct_record.h: a pass byte, a kind byte, then the raw
 * ctnetlink buffer, /proc text or sysctl line) and one CT_END per namespace.
 * A chunk is at most TD_RECORD_MAX_CHUNK bytes; anything else is a corrupt file.
 */
#ifndef TD_RECORD_H
#define TD_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TD_RECORD_MAGIC	    "TDREC001"
#define TD_RECORD_MAX_CHUNK (256u << 20)

enum td_chunk {
	TD_CHUNK_META = 1,
	TD_CHUNK_NETNS = 2,
	TD_CHUNK_NETLINK = 3,
	TD_CHUNK_PROC_TCP = 4,
	TD_CHUNK_PROC_TCP6 = 5,
	TD_CHUNK_CT = 6,
	TD_CHUNK_CT_END = 7,
};

struct td_record; /* writer */

/* Creates path (mode 0600, truncating) and writes the magic. Returns 0 and *out, or -errno:
 * -ENXIO for a FIFO that no process reads (never blocks waiting for one). */
int record_create(const char *path, struct td_record **out);
/* Appends one chunk. Returns 0 or -errno (-EFBIG over TD_RECORD_MAX_CHUNK). */
int record_write(struct td_record *r, enum td_chunk type, const void *data, size_t len);
/* The first write error so far (0 or -errno): tells a failed write to the record apart from a
 * failed dump when record_write's error came back through a source. Accepts NULL. */
int record_error(const struct td_record *r);
/* Flushes and closes; returns 0 or -errno of the first failed write. Accepts NULL. */
int record_close(struct td_record *r);

struct td_record_reader {
	FILE *f;
	const char *path;
	uint64_t offset; /* of the chunk being read, for error messages */
	uint64_t size;	 /* of the file, as last seen: no chunk may claim more */
	unsigned mode;	 /* st_mode, also set when record_open refuses the file */
	unsigned char *buf;
	size_t cap;
};

/* Opens a record for reading and checks the magic. Returns 0, -errno, -EISDIR, -EINVAL (not a
 * regular file: a FIFO, a device, a socket; rd->mode says which, record_file_kind names it;
 * never blocks), or -EBADMSG (not a tcpdoctor record). */
int record_open(const char *path, struct td_record_reader *rd);
/* "a FIFO", "a character device"...: what st_mode names, for messages. Static string. */
const char *record_file_kind(unsigned mode);
/* Reads the next chunk: returns 1 with *type, *data (valid until the next call), *len;
 * 0 at a clean end of file; -EBADMSG on a truncated or corrupt chunk (a length beyond the end
 * of the file is refused before anything is allocated); -errno on I/O error. */
int record_next(struct td_record_reader *rd, uint32_t *type, const unsigned char **data,
		size_t *len);
void record_reader_close(struct td_record_reader *rd);

#endif
