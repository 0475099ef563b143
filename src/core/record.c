// SPDX-License-Identifier: MIT
/*
 * Reads and writes recorded dumps: a magic, then length-prefixed chunks holding the raw bytes
 * the sources read from the kernel. The reader trusts nothing: every length is bounded and a
 * short read is a corrupt file, never a crash.
 */
#include "core/record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

struct td_record {
	FILE *f;
	int err; /* first write error, reported by record_close */
};

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int record_create(const char *path, struct td_record **out)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct td_record *r;

	if (fd < 0)
		return -errno;
	r = xcalloc(1, sizeof(*r));
	r->f = fdopen(fd, "w");
	if (!r->f) {
		int e = -errno;
		close(fd);
		free(r);
		return e;
	}
	if (fwrite(TD_RECORD_MAGIC, 1, 8, r->f) != 8)
		r->err = -EIO;
	*out = r;
	return r->err;
}

int record_write(struct td_record *r, enum td_chunk type, const void *data, size_t len)
{
	unsigned char hdr[8];

	if (len > TD_RECORD_MAX_CHUNK)
		return -EFBIG;
	if (r->err)
		return r->err;
	put_le32(hdr, (uint32_t)type);
	put_le32(hdr + 4, (uint32_t)len);
	if (fwrite(hdr, 1, 8, r->f) != 8 || (len && fwrite(data, 1, len, r->f) != len))
		r->err = errno ? -errno : -EIO;
	return r->err;
}

int record_close(struct td_record *r)
{
	int err;

	if (!r)
		return 0;
	err = r->err;
	if (fclose(r->f) && !err)
		err = errno ? -errno : -EIO;
	free(r);
	return err;
}

int record_open(const char *path, struct td_record_reader *rd)
{
	char magic[8];

	memset(rd, 0, sizeof(*rd));
	struct stat st;

	rd->f = fopen(path, "re");
	if (!rd->f)
		return -errno;
	if (fstat(fileno(rd->f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(rd->f);
		rd->f = NULL;
		return -EISDIR;
	}
	rd->path = path;
	if (fread(magic, 1, 8, rd->f) != 8 || memcmp(magic, TD_RECORD_MAGIC, 8)) {
		fclose(rd->f);
		rd->f = NULL;
		return -EBADMSG;
	}
	rd->offset = 8;
	return 0;
}

int record_next(struct td_record_reader *rd, uint32_t *type, const unsigned char **data,
		size_t *len)
{
	unsigned char hdr[8];
	size_t n = fread(hdr, 1, 8, rd->f);

	if (n == 0 && feof(rd->f))
		return 0;
	if (n != 8)
		return ferror(rd->f) ? -EIO : -EBADMSG;
	uint32_t t = get_le32(hdr), l = get_le32(hdr + 4);
	if (t < TD_CHUNK_META || t > TD_CHUNK_PROC_TCP6 || l > TD_RECORD_MAX_CHUNK)
		return -EBADMSG;
	if (l + 1 > rd->cap) {
		rd->cap = l + 1;
		rd->buf = xrealloc(rd->buf, rd->cap);
	}
	if (l && fread(rd->buf, 1, l, rd->f) != l)
		return ferror(rd->f) ? -EIO : -EBADMSG;
	rd->buf[l] = '\0'; /* text chunks may be used as strings */
	rd->offset += 8 + (uint64_t)l;
	*type = t;
	*data = rd->buf;
	*len = l;
	return 1;
}

void record_reader_close(struct td_record_reader *rd)
{
	if (rd->f)
		fclose(rd->f);
	free(rd->buf);
	memset(rd, 0, sizeof(*rd));
}
