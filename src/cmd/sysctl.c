// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor sysctl`: kernel facts instead of blog folklore. Without a subcommand it audits the
 * live kernel (or the -N namespace); `lint` checks sysctl.conf/sysctl.d files, `recommend`
 * writes a drop-in justified by this host's evidence, `apply` and `rollback` change a
 * namespace's values with a backup, all or nothing. This file parses the command line, runs
 * lint and prints findings; audit and recommend are in sysctl_audit.c, apply and rollback in
 * sysctl_run.c.
 */
#include "cmd/sysctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/names.h"
#include "core/rules/facts.h"
#include "core/source/netns.h"
#include "core/sysctl/recommend.h"
#include "core/sysctl/sysctl_files.h"
#include "core/util.h"

enum { OPT_ROOT = TD_OPT_CMD_BASE, OPT_PROFILE, OPT_DRY_RUN, OPT_BACKUP_DIR };

static int on_opt(struct td_global *g, int c, const char *arg, void *ctx)
{
	struct cmd_sysctl_args *a = ctx;

	switch (c) {
	case OPT_ROOT:
		a->root = arg;
		return 0;
	case OPT_PROFILE:
		if (recommend_profile_parse(arg, &(enum td_rec_profile){ 0 }))
			return cmd_usage_err(g, "--profile '%s': expected client, server or auto",
					     arg);
		a->profile = arg;
		return 0;
	case OPT_DRY_RUN:
		a->dry_run = true;
		return 0;
	case 'v':
		a->verbose = true;
		return 0;
	case OPT_BACKUP_DIR:
		if (!*arg)
			return cmd_usage_err(g, "--backup-dir needs a directory");
		a->backup_dir = arg;
		return 0;
	}
	return cmd_getopt_err(g);
}

static int parse_args(int argc, char **argv, struct td_global *g, struct cmd_sysctl_args *a)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->profile = "auto";
	a->backup_dir = CMD_SYSCTL_BACKUP_DIR;
	if ((r = cmd_parse(&cmd_sysctl, argc, argv, g, a)))
		return r;
	if (g->netns && !strcmp(g->netns, "all"))
		return cmd_usage_err(g, "-N all is not supported here: name one namespace");
	if (g->replay)
		return cmd_usage_err(g, "--replay does not apply to sysctl");
	a->sub = g->nargs > 0 ? g->args[0] : NULL;
	a->args = g->args + (a->sub != NULL);
	a->nargs = (size_t)g->nargs - (a->sub != NULL);
	return 0;
}

int cmd_sysctl_enter(const struct td_global *g, int *saved)
{
	struct td_netns ns;
	int r;

	*saved = -1;
	if (!g->netns)
		return 0;
	r = netns_open(g->netns, &ns);
	if (r) {
		cmd_err(g, "namespace '%s': %s", g->netns, strerror(-r));
		return r;
	}
	*saved = netns_save();
	if (*saved < 0) {
		r = *saved;
		cmd_err(g, "cannot remember the current namespace: %s", strerror(-r));
	} else if ((r = netns_enter(&ns))) {
		cmd_err(g, "entering namespace '%s': %s%s", g->netns, strerror(-r),
			r == -EPERM ? " (needs root)" : "");
		netns_restore(*saved);
		*saved = -1;
	}
	netns_free_one(&ns);
	return r;
}

void cmd_sysctl_leave(int saved)
{
	if (saved >= 0)
		netns_restore(saved);
}

const char *cmd_sysctl_file_name(const struct td_sysctl_set *s, unsigned file)
{
	return file < s->nfiles ? s->files[file] : "-";
}

/* JSON needs UTF-8; a hostile file need not be. Invalid bytes become U+FFFD. */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *t;
	size_t o = 0;

	if (!s)
		return json_null();
	if ((j = json_string(s)))
		return j;
	t = xmalloc(strlen(s) * 3 + 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80) {
			t[o++] = (char)*p;
		} else {
			memcpy(t + o, "\xef\xbf\xbd", 3);
			o += 3;
		}
	}
	t[o] = '\0';
	j = json_string(t);
	free(t);
	return j ? j : json_null();
}

/* Text output goes to terminals: what comes from a file (its name, keys, values) is written as
 * names_escape writes every name from outside, control bytes (C0, DEL, C1) and invalid UTF-8
 * as \xNN, so that no byte of it can reach the terminal as a control. */
static void put_safe(const char *s)
{
	char *e = names_escape_str(s);

	fputs(e, stdout);
	free(e);
}

json_t *cmd_sysctl_findings_json(const struct td_sysctl_set *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->nfnd; i++) {
		const struct td_sysctl_finding *f = &s->fnd[i];
		json_t *j = json_object();
		json_object_set_new(
			j, "file",
			jstr(f->file == SYSCTL_NO_FILE ? NULL : cmd_sysctl_file_name(s, f->file)));
		json_object_set_new(j, "line", json_integer(f->line));
		json_object_set_new(j, "key", jstr(f->key));
		json_object_set_new(j, "value", jstr(f->value));
		json_object_set_new(j, "severity", json_string(params_sev_name(f->sev)));
		json_object_set_new(j, "message", jstr(f->message));
		json_object_set_new(j, "reason", jstr(f->reason));
		json_object_set_new(j, "reference", jstr(f->ref));
		json_array_append_new(a, j);
	}
	return a;
}

void cmd_sysctl_print_findings(const struct td_global *g, const struct td_sysctl_set *s,
			       bool effective)
{
	if (g->json) {
		json_t *o = json_object(), *e = json_array();
		json_object_set_new(o, "findings", cmd_sysctl_findings_json(s));
		for (size_t i = 0; effective && i < s->neff; i++) {
			const struct td_sysctl_effective *x = &s->eff[i];
			json_t *j = json_object();
			json_object_set_new(j, "key", jstr(x->key));
			json_object_set_new(j, "value", jstr(x->value));
			json_object_set_new(j, "file", jstr(cmd_sysctl_file_name(s, x->file)));
			json_object_set_new(j, "line", json_integer(x->line));
			json_array_append_new(e, j);
		}
		if (effective)
			json_object_set_new(o, "effective", e);
		else
			json_decref(e);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
		return;
	}
	for (size_t i = 0; i < s->nfnd; i++) {
		const struct td_sysctl_finding *f = &s->fnd[i];
		const char *bold = g->color && f->sev >= TD_SEV_HARMFUL ? "\033[1;31m" : "";
		/* findings about the live kernel (cross-key checks) have no file:line */
		if (f->file != SYSCTL_NO_FILE) {
			put_safe(cmd_sysctl_file_name(s, f->file));
			printf(":%u: ", f->line);
		}
		printf("%s%s%s: ", bold, params_sev_name(f->sev), *bold ? "\033[0m" : "");
		if (f->key) {
			put_safe(f->key);
			fputs(" = ", stdout);
			put_safe(f->value ? f->value : "");
			fputs(": ", stdout);
		}
		put_safe(f->message);
		putchar('\n');
		char ref[300];
		if (f->reason || f->ref)
			printf("    %s%s%s%s\n", f->reason ? f->reason : "", f->ref ? " [" : "",
			       facts_ref_text(f->ref, ref, sizeof(ref)), f->ref ? "]" : "");
	}
	if (effective && s->neff) {
		printf("%sEffective values (the last line read wins):\n", s->nfnd ? "\n" : "");
		for (size_t i = 0; i < s->neff; i++) {
			const struct td_sysctl_effective *x = &s->eff[i];
			fputs("  ", stdout);
			put_safe(x->key);
			fputs(" = ", stdout);
			put_safe(x->value);
			fputs("    (", stdout);
			put_safe(cmd_sysctl_file_name(s, x->file));
			printf(":%u", x->line);
			if (x->overridden)
				printf(", overrides %u earlier line%s", x->overridden,
				       x->overridden > 1 ? "s" : "");
			puts(")");
		}
	}
}

int cmd_sysctl_exit_code(const struct td_sysctl_set *s)
{
	return sysctl_worst(s) >= TD_SEV_HARMFUL ? TD_EXIT_FAIL : TD_EXIT_OK;
}

/* Parses the arguments of lint (files or directories) or the system's files into s. */
static int lint_load(const struct td_global *g, const struct cmd_sysctl_args *a,
		     struct td_sysctl_set *s)
{
	char **files = NULL;
	int r;

	if (a->nargs) {
		for (size_t i = 0; i < a->nargs; i++) {
			struct stat st;
			size_t before = s->nfiles;
			if (!stat(a->args[i], &st) && S_ISDIR(st.st_mode)) {
				r = sysctl_parse_dir(s, a->args[i]);
				if (!r && s->nfiles == before && !g->json) {
					put_safe(a->args[i]);
					puts(": no *.conf file in this directory (lint reads those, as "
					     "systemd-sysctl does)");
				}
			} else {
				r = sysctl_parse_file(s, a->args[i]);
			}
			if (r && r != -ENOENT && r != -EACCES && r != -EFBIG && r != -EISDIR &&
			    r != -EINVAL)
				cmd_err(g, "%s: %s", a->args[i], strerror(-r));
		}
		return 0;
	}
	r = sysctl_system_files(a->root, &files);
	if (r) {
		cmd_err(g, "listing the system's sysctl files: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; files[i]; i++)
		sysctl_parse_file_in(s, a->root, files[i]);
	if (!files[0] && !g->json)
		puts("No sysctl files found.");
	sysctl_paths_free(files);
	return 0;
}

static int cmd_lint(const struct td_global *g, const struct cmd_sysctl_args *a)
{
	struct td_sysctl_set *s = td_sysctl_set_new();
	struct td_kenv env;
	struct td_lint_opts lo = { .env = &env,
				   .procroot = CMD_SYSCTL_PROCROOT,
				   .verbose = a->verbose };
	int saved, r;

	if (lint_load(g, a, s)) {
		td_sysctl_set_free(s);
		return TD_EXIT_FAIL;
	}
	/* existence and defaults are those of the namespace the files are meant for */
	if (cmd_sysctl_enter(g, &saved)) {
		td_sysctl_set_free(s);
		return TD_EXIT_FAIL;
	}
	sysctl_kenv_read(CMD_SYSCTL_PROCROOT, &env);
	lo.child_ns = sysctl_in_child_netns(CMD_SYSCTL_PROCROOT);
	sysctl_lint(s, &lo);
	cmd_sysctl_leave(saved);
	cmd_sysctl_print_findings(g, s, true);
	/* say that files were read, where nothing else would be printed */
	if (!g->json && !s->nfnd && !s->neff && s->nfiles) {
		fputs("No setting in ", stdout);
		if (s->nfiles == 1)
			put_safe(cmd_sysctl_file_name(s, 0));
		else
			printf("the %zu files read", s->nfiles);
		puts(": only comments and blank lines.");
	}
	r = cmd_sysctl_exit_code(s);
	td_sysctl_set_free(s);
	return r;
}

static int sysctl_main(int argc, char **argv, struct td_global *g)
{
	struct cmd_sysctl_args a;
	int r = parse_args(argc, argv, g, &a);

	if (r)
		return r;
	if (!a.sub)
		return cmd_sysctl_audit(g, &a);
	if (!strcmp(a.sub, "lint"))
		return cmd_lint(g, &a);
	if (!strcmp(a.sub, "recommend"))
		return a.nargs ? cmd_usage_err(g, "recommend takes no file")
			       : cmd_sysctl_recommend(g, &a);
	if (!strcmp(a.sub, "apply")) {
		if (a.nargs != 1)
			return cmd_usage_err(g, "apply needs exactly one FILE");
		return cmd_sysctl_apply(g, &a);
	}
	if (!strcmp(a.sub, "rollback"))
		return a.nargs ? cmd_usage_err(g, "rollback takes no argument")
			       : cmd_sysctl_rollback(g, &a);
	return cmd_usage_err(
		g, "unknown subcommand '%s': expected lint, recommend, apply or rollback", a.sub);
}

static const struct td_cmd_opt sysctl_opts[] = {
	{ "root", 0, "DIR", "lint: the system's files inside DIR (links resolve inside it)",
	  OPT_ROOT },
	{ "verbose", 'v', NULL,
	  "lint: one line per key tcpdoctor does not judge (default: one\nline per file)", 'v' },
	{ "profile", 0, "P",
	  "recommend: client, server or auto (default: auto); with --json\n"
	  "{\"evidence\", \"recommendations\": [{\"kind\", \"key\", \"current\",\n"
	  "\"suggested\", \"reason\", \"application_fix\", \"reference\"}]}",
	  OPT_PROFILE },
	{ "dry-run", 0, NULL, "apply: show what would change, change nothing", OPT_DRY_RUN },
	{ "backup-dir", 0, "DIR", "apply/rollback: where backups live (default /var/lib/tcpdoctor)",
	  OPT_BACKUP_DIR },
	{ 0 },
};

const struct td_cmd_entry cmd_sysctl = {
	.name = "sysctl",
	.summary = "Audit, lint, recommend, apply and roll back TCP sysctls",
	.usage = "tcpdoctor [-N NS] sysctl [--json]                      audit the live kernel\n"
		 "tcpdoctor sysctl lint [-v] [--root DIR] [FILE|DIR]...   check sysctl files\n"
		 "tcpdoctor [-N NS] sysctl recommend [--profile client|server|auto]\n"
		 "tcpdoctor [-N NS] sysctl apply FILE [--dry-run] [--backup-dir DIR]\n"
		 "tcpdoctor [-N NS] sysctl rollback [--backup-dir DIR]",
	.about =
		"\nlint without FILE reads the system's files in systemd-sysctl order (/etc/sysctl.d,\n"
		"/run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d, then /etc/sysctl.conf) and\n"
		"shows the effective value of each key and the file:line that sets it.\n"
		"Exit status: 0 fine, 1 something is an error or harmful (or apply failed), 2 usage.",
	.opts = sysctl_opts,
	.more = "\nWith --json: {\"findings\": [{\"file\", \"line\", \"key\", \"value\",\n"
		"\"severity\", \"message\", \"reason\", \"reference\"}], ...}\n"
		"-N NS: a namespace name under /run/netns or a path (not 'all'); apply/rollback then\n"
		"refuse every host-wide key.",
	.flags = TD_CMD_ARGS,
	.on_opt = on_opt,
	.run = sysctl_main,
};
