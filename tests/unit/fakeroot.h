/* SPDX-License-Identifier: MIT */
/*
 * What the file-reading unit tests share: a temporary directory standing for /proc/sys or a
 * system root, files and directories created in it (parents made as needed, a mode each), a
 * file read back, and the tree removed. Include after <cmocka.h>; static inline, so a test
 * that uses part of it compiles without warnings.
 */
#ifndef TD_TESTS_FAKEROOT_H
#define TD_TESTS_FAKEROOT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"

/* A new empty directory /tmp/td-test-NAME-XXXXXX (caller frees the string). */
static inline char *fakeroot_new(const char *name)
{
	char *root = xasprintf("/tmp/td-test-%s-XXXXXX", name);

	assert_non_null(mkdtemp(root));
	return root;
}

/* Creates root/rel and its parent directories: a file holding text with mode, or a directory
 * when text is NULL. */
static inline void fakeroot_put(const char *root, const char *rel, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", root, rel);

	for (char *c = path + strlen(root) + 1; *c; c++)
		if (*c == '/') {
			*c = '\0';
			mkdir(path, 0755);
			*c = '/';
		}
	if (text) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
		assert_int_equal(chmod(path, mode), 0);
	} else {
		mkdir(path, 0755);
	}
	free(path);
}

/* The text of root/rel (caller frees). */
static inline char *fakeroot_get(const char *root, const char *rel)
{
	char *path = xasprintf("%s/%s", root, rel), *text = NULL;
	size_t len;

	assert_int_equal(util_read_file(path, 1 << 20, &text, &len), 0);
	free(path);
	return text;
}

static inline void fakeroot_rm(const char *root)
{
	char *cmd = xasprintf("rm -rf '%s'", root);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

#endif
