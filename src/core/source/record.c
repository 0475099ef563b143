// SPDX-License-Identifier: MIT
/*
 * Reads and writes recorded dumps: a magic, then length-prefixed chunks holding the raw bytes
 * the sources read from the kernel. The reader trusts nothing: every length is bounded and a
 * short read is a corrupt file, never a crash.
 */
#include "core/source/record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
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
	/* O_NONBLOCK: a FIFO nobody reads would block open() forever; it fails with ENXIO
	 * instead. A pipe with a reader (`--record >(gzip >x)`) then gets blocking writes back. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0600);
	struct td_record *r;

	if (fd < 0)
		return -errno;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
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

int record_error(const struct td_record *r)
{
	return r ? r->err : 0;
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
	struct stat st;
	int fd;

	memset(rd, 0, sizeof(*rd));
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer forever. Only a regular
	 * file is a record; anything else is refused before a byte is read. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int e = -errno;
		close(fd);
		return e;
	}
	rd->mode = st.st_mode;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	rd->f = fdopen(fd, "r");
	if (!rd->f) {
		int e = -errno;
		close(fd);
		return e;
	}
	rd->path = path;
	rd->size = (uint64_t)st.st_size;
	if (fread(magic, 1, 8, rd->f) != 8 || memcmp(magic, TD_RECORD_MAGIC, 8)) {
		fclose(rd->f);
		rd->f = NULL;
		return -EBADMSG;
	}
	rd->offset = 8;
	return 0;
}

const char *record_file_kind(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	}
	return "not a regular file";
}

/* True when a chunk of l bytes fits in what is left of the file. The size is taken again when
 * it seems not to: the file may still be growing (a record being written). */
static bool chunk_fits(struct td_record_reader *rd, uint32_t l)
{
	struct stat st;
	uint64_t after_hdr = rd->offset + 8;

	if (after_hdr <= rd->size && l <= rd->size - after_hdr)
		return true;
	if (fstat(fileno(rd->f), &st))
		return false;
	rd->size = (uint64_t)st.st_size;
	return after_hdr <= rd->size && l <= rd->size - after_hdr;
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
	if (t < TD_CHUNK_META || t > TD_CHUNK_CT_END || l > TD_RECORD_MAX_CHUNK)
		return -EBADMSG;
	/* A lying length in a small file must not allocate up to 256 MiB before the short read
	 * tells: check it against the bytes actually left first. */
	if (!chunk_fits(rd, l))
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
