/* SPDX-License-Identifier: MIT */
/*
 * Reading sysctl.conf/sysctl.d files into a td_sysctl_set (see sysctl.h): one file, a directory,
 * or the system's files in systemd-sysctl order inside an optional root. Only regular files are
 * read (a FIFO or a device is an error finding, never waited on); with a root, every path
 * resolves inside it. Nothing prints; not thread-safe per set.
 */
#ifndef TD_SYSCTL_FILES_H
#define TD_SYSCTL_FILES_H

struct td_sysctl_set;

/* Reads and parses one file. An unreadable, oversized or non-regular file (a FIFO, a device:
 * opened without blocking, never read) becomes an error finding naming it. Returns 0, or
 * -errno when the file could not be read (the finding is added too): -EINVAL when it is not a
 * regular file, -EFBIG when it is over SYSCTL_FILE_MAX. */
int sysctl_parse_file(struct td_sysctl_set *s, const char *path);

/* The same for path inside root (NULL or "": none), resolved as sysctl_system_files does; the
 * file is named root + path in findings. */
int sysctl_parse_file_in(struct td_sysctl_set *s, const char *root, const char *path);

/* Parses every "*.conf" in dir in name order (one directory overrides by name order). */
int sysctl_parse_dir(struct td_sysctl_set *s, const char *dir);

/*
 * The system's files in systemd-sysctl order inside root (NULL or "" for "/"): *.conf from
 * /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d (a name in an earlier
 * directory masks the same name in later ones; a link to /dev/null masks it), sorted by name,
 * then /etc/sysctl.conf unless one of those already is it (Debian links 99-sysctl.conf to it).
 * Paths are as seen inside root (read them with sysctl_parse_file_in): like systemd-sysctl
 * --root, every symlink (absolute ones included) and ".." resolve inside root, so nothing in
 * the image can reach the host's files (needs openat2, Linux 5.6).
 * Returns 0 and a NULL-terminated vector (free with sysctl_paths_free), or -errno.
 */
int sysctl_system_files(const char *root, char ***out);
void sysctl_paths_free(char **v);

#endif
