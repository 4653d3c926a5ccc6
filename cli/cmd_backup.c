/*
 * cmd_backup.c - thiduactl backup: the daemon writes an archive of its state directory
 * (backup.create), thiduactl waits until it is done (backup.status), copies it out in
 * chunks (backup.read) to FILE, or to DIR/NAME.tar, checks the whole copy against the
 * SHA-256 the daemon computed, and flushes and renames it into place. With --keep N the
 * oldest archives of DIR beyond the newest N are removed (their names sort by time).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "cli.h"
#include "cmd_backup.h"
#include "proto.h"
#include "sha256.h"
#include "xalloc.h"

/* wait_done - poll backup.status until the backup is done or failed; its object, or NULL */
static json_t *wait_done(const char *name, int *rc)
{
	long ms = 20;

	for (;;) {
		json_t *r = cli_call_part(json_pack("{s:s,s:s}", "op", OP_BACKUP_STATUS, "backup", name), rc);
		json_t *b = r ? json_object_get(r, "backup") : NULL;
		struct timespec ts;

		if (!r)
			return NULL;
		if (!strcmp(jstr(b, "state"), "done")) {
			json_incref(b);
			json_decref(r);
			return b;
		}
		if (strcmp(jstr(b, "state"), "running")) {
			fprintf(stderr, "thiduactl: backup %s failed: %s\n", name, jstr(b, "error"));
			json_decref(r);
			*rc = EXIT_DAEMON_ERROR;
			return NULL;
		}
		json_decref(r);
		ts.tv_sec = ms / 1000;		/* waiting for the daemon's work, not for a moment */
		ts.tv_nsec = (ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		if (ms < 500)
			ms *= 2;
	}
}

/* fetch - the archive into path (through path.part), checked against sha256 */
static int fetch(const char *name, const char *path, long long size, const char *sha256)
{
	char *tmp = xasprintf("%s.part", path), got[65], *slash, *dir;
	struct sha256 c;
	long long offset = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640), rc = EXIT_DAEMON_ERROR, dfd;

	if (fd < 0) {
		fprintf(stderr, "thiduactl: cannot create %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return EXIT_USAGE;
	}
	sha256_init(&c);
	while (offset < size) {
		json_t *r = cli_call_part(json_pack("{s:s,s:s,s:I}", "op", OP_BACKUP_READ, "backup", name, "offset", (json_int_t)offset), &rc);
		unsigned char *data;
		size_t len = 0;

		if (!r)
			goto fail;
		data = b64_decode(jstr(r, "data"), &len);
		json_decref(r);
		if (!data || len == 0) {
			fprintf(stderr, "thiduactl: the daemon sent no data for %s at byte %lld\n", name, offset);
			free(data);
			rc = EXIT_DAEMON_ERROR;
			goto fail;
		}
		sha256_update(&c, data, len);
		if (write(fd, data, len) != (ssize_t)len) {
			fprintf(stderr, "thiduactl: cannot write %s: %s\n", tmp, strerror(errno));
			free(data);
			rc = EXIT_USAGE;
			goto fail;
		}
		free(data);
		offset += (long long)len;
	}
	sha256_final_hex(&c, got);
	if (strcmp(got, sha256)) {
		fprintf(stderr, "thiduactl: the copy of %s hashes to %s, not %s as the daemon wrote it: not kept\n", name, got, sha256);
		rc = EXIT_DAEMON_ERROR;
		goto fail;
	}
	if (fsync(fd) || close(fd)) {
		fd = -1;
		fprintf(stderr, "thiduactl: cannot write %s: %s\n", tmp, strerror(errno));
		rc = EXIT_USAGE;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path)) {
		fprintf(stderr, "thiduactl: cannot rename %s to %s: %s\n", tmp, path, strerror(errno));
		rc = EXIT_USAGE;
		goto fail;
	}
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = 0;
	if ((dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dir);
	free(tmp);
	return EXIT_OK;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* prune - keep the newest keep archives thidua-*.tar of dir, remove the others */
static int prune(const char *dir, long keep)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n, len;
	int rc = EXIT_OK;

	if (!dp) {
		fprintf(stderr, "thiduactl: cannot read %s: %s\n", dir, strerror(errno));
		return EXIT_USAGE;
	}
	while ((e = readdir(dp)))
		if (!strncmp(e->d_name, "thidua-", 7) && (len = strlen(e->d_name)) > 11 && !strcmp(e->d_name + len - 4, ".tar"))
			names = strv_append(names, e->d_name);
	closedir(dp);
	n = strv_len(names);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i + (size_t)keep < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);

		if (unlink(path)) {
			fprintf(stderr, "thiduactl: cannot remove %s: %s\n", path, strerror(errno));
			rc = EXIT_USAGE;
		} else if (!cl.json) {
			printf("removed %s (keeping the newest %ld)\n", path, keep);
		}
		free(path);
	}
	strv_free(&names);
	return rc;
}

/* cmd_backup - backup FILE | backup --dir DIR [--keep N] */
int cmd_backup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "keep", required_argument, NULL, 'k' }, { NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *file = NULL, *name;
	char *path = NULL, *end;
	long keep = 0;
	json_t *r, *b = NULL;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 'k':
			keep = strtol(optarg, &end, 10);
			if (*end || keep < 1 || keep > 100000)
				return cli_usage_error("--keep '%s' must be a number of archives, 1 or more", optarg);
			break;
		default: return cli_usage_error("backup: use 'backup FILE' or 'backup --dir DIR [--keep N]'%s", "");
		}
	}
	if (optind < argc)
		file = argv[optind++];
	if (optind < argc || !!file == !!dir)
		return cli_usage_error("backup: give either FILE or --dir DIR (got '%s')", optind < argc ? argv[optind] : file ? file : "neither");
	if (keep && !dir)
		return cli_usage_error("backup: --keep needs --dir DIR, the directory whose archives it prunes%s", "");
	if (dir && access(dir, W_OK)) {
		fprintf(stderr, "thiduactl: cannot write into %s: %s\n", dir, strerror(errno));
		return EXIT_USAGE;
	}
	r = cli_call_part(json_pack("{s:s}", "op", OP_BACKUP_CREATE), &rc);
	if (!r)
		return rc;
	name = jstr(json_object_get(r, "backup"), "name");
	b = wait_done(name, &rc);
	if (!b)
		goto out;
	path = file ? xstrdup(file) : xasprintf("%s/%s.tar", dir, name);
	rc = fetch(name, path, (long long)json_integer_value(json_object_get(b, "size")), jstr(b, "sha256"));
	if (rc)
		goto out;
	json_object_set_new(b, "copy", json_string(path));
	if (cl.json) {
		char *text = json_dumps(b, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		puts(text);
		free(text);
	} else {
		printf("backup %s: %lld bytes (database %lld bytes, %lld stored files) written to %s\nsha256 %s\n", name,
		       (long long)json_integer_value(json_object_get(b, "size")),
		       (long long)json_integer_value(json_object_get(b, "database_bytes")),
		       (long long)json_integer_value(json_object_get(b, "files")), path, jstr(b, "sha256"));
	}
	if (keep)
		rc = prune(dir, keep);
out:
	free(path);
	json_decref(b);
	json_decref(r);
	return rc;
}
