// SPDX-License-Identifier: MIT
/*
 * nftables rulesets for the lab. Why the nft program and not nf_tables netlink by hand through
 * libmnl as env.c does for links: a ruleset is a batch of a table, chains and rules whose
 * expressions (payload loads, comparisons, ct, notrack) each have their own attribute layout,
 * which nft's parser gets right and documents; libnftables is not packaged where the lab runs,
 * and the lab already needs nftables to make a namespace track connections (a ct expression is
 * what registers conntrack's hooks there).
 */
#include "lab/nft.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const nft_paths[] = { "/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft",
					 "/usr/local/sbin/nft", "/bin/nft" };

static const char *find_nft(void)
{
	for (size_t i = 0; i < sizeof(nft_paths) / sizeof(nft_paths[0]); i++)
		if (!access(nft_paths[i], X_OK))
			return nft_paths[i];
	return NULL;
}

/* The child: stdin from in, stdout and stderr to out, into the namespace, exec nft. Only
 * async-signal-safe calls after fork. */
static void child(int ns_fd, int in, int out, const char *nft)
{
	char *const argv[] = { (char *)"nft", (char *)"-f", (char *)"-", NULL };
	char *const envp[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };

	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	if (setns(ns_fd, CLONE_NEWNET))
		_exit(125);
	execve(nft, argv, envp);
	_exit(127);
}

static void first_line(char *s)
{
	s[strcspn(s, "\n")] = '\0';
}

int lab_nft_apply(int ns_fd, const char *ruleset, char *err, size_t errlen)
{
	const char *nft = find_nft();
	int in[2], out[2], status, r = 0;
	char msg[512];
	ssize_t n;
	size_t len = strlen(ruleset), got = 0;
	pid_t pid;

	if (!nft) {
		snprintf(err, errlen, "no nft program: install nftables");
		return -ENOENT;
	}
	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(out, O_CLOEXEC)) {
		r = -errno;
		close(in[0]);
		close(in[1]);
		return r;
	}
	pid = fork();
	if (pid == 0)
		child(ns_fd, in[0], out[1], nft);
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		r = -errno;
		close(in[1]);
		close(out[0]);
		snprintf(err, errlen, "fork: %s", strerror(-r));
		return r;
	}
	/* rulesets here are a few hundred bytes: the pipe takes them whole */
	n = write(in[1], ruleset, len);
	close(in[1]);
	while (got + 1 < sizeof(msg) && (n = read(out[0], msg + got, sizeof(msg) - 1 - got)) > 0)
		got += (size_t)n;
	msg[got] = '\0';
	close(out[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	first_line(msg);
	snprintf(err, errlen, "nft -f -: %s",
		 *msg						   ? msg
		 : WIFEXITED(status) && WEXITSTATUS(status) == 125 ? "could not enter the namespace"
								   : "failed");
	return -EINVAL;
}
