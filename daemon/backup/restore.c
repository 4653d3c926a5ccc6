/*
 * restore.c - thiduad --restore ARCHIVE --state-dir DIR: a backup (backup.c) back into a
 * state directory, verified before anything may run on it.
 *
 * DIR must be new or empty: a restore never writes over a state directory. The archive's
 * members are written out while their SHA-256 is computed, then checked against
 * SHA256SUMS: a member changed, added or missing refuses the archive, naming the member.
 * Then the restored state is verified as the daemon would: SQLite's integrity check; the
 * audit log walked with the key the backup carries (audit.key), its signed head checked,
 * the anchor taken when the backup began checked against the rows, and a fresh anchor
 * written at the restored head (audit_init); every stored file hashed again against its
 * receipt (files.verify). Any failure empties DIR again (and removes it, if the restore
 * made it) and names what is wrong.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "blobs_verify.h"
#include "log.h"
#include "registry.h"
#include "restore.h"
#include "sha256.h"
#include "statedir.h"
#include "store.h"
#include "tar.h"
#include "thiduad.h"
#include "units.h"
#include "xalloc.h"

#define SUMS_MAX (64 << 20)	/* SHA256SUMS: a line per member, ~140 bytes each */

/* dir_ready - DIR new (made) or empty; -1 with why */
static int dir_ready(const char *dir, int *made, char *why, size_t whysize)
{
	DIR *dp = opendir(dir);
	struct dirent *e;

	*made = 0;
	if (!dp && errno == ENOENT) {
		if (mkdir(dir, 0750)) {
			snprintf(why, whysize, "cannot create %s: %s", dir, strerror(errno));
			return -1;
		}
		*made = 1;
		return 0;
	}
	if (!dp) {
		snprintf(why, whysize, "cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(dp))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(why, whysize, "%s is not empty (it holds %s): restore into a new or empty directory;"
				 " a restore never writes over a state directory", dir, e->d_name);
			closedir(dp);
			return -1;
		}
	}
	closedir(dp);
	return 0;
}

/* remove_entry - nftw: everything under the directory, not the directory itself */
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (ftw->level == 0)
		return 0;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT)
		log_warn("cannot remove %s: %s", path, strerror(errno));
	return 0;
}

/* member_name_ok - only the names a backup writes: nothing can land outside DIR */
static int member_name_ok(const char *name)
{
	static const char hex[] = "0123456789abcdef";

	if (!strcmp(name, "thidua.db") || !strcmp(name, "audit.key") || !strcmp(name, "audit.anchor")
	    || !strcmp(name, "reply.key") || !strcmp(name, "invite.key") || !strcmp(name, "SHA256SUMS"))
		return 1;
	return strlen(name) == 73 && !strncmp(name, "files/", 6) && name[8] == '/' && !strncmp(name + 6, name + 9, 2)
	       && strspn(name + 9, hex) == 64;
}

/* read_full - exactly n bytes; 0, or -1 at the end of the file or an error */
static int read_full(FILE *fp, void *buf, size_t n)
{
	return fread(buf, 1, n, fp) == n ? 0 : -1;
}

/* extract - the members into DIR, their hashes into got (name -> hex), SHA256SUMS into
 * sums. 0, -1 with why */
static int extract(const char *archive, const char *dir, json_t *got, char **sums, char *why, size_t whysize)
{
	static char chunk[1 << 20];
	unsigned char block[TAR_BLOCK];
	FILE *fp = fopen(archive, "rb");
	char name[101], path[4400], hex[65];
	int64_t size;
	int r, rc = -1, fd = -1;

	if (!fp) {
		snprintf(why, whysize, "cannot open %s: %s", archive, strerror(errno));
		return -1;
	}
	for (;;) {
		struct sha256 c;
		int64_t left;

		if (read_full(fp, block, sizeof(block))) {
			snprintf(why, whysize, "%s ends without the end of a tar archive: it is truncated", archive);
			goto out;
		}
		if ((r = tar_parse(block, name, &size, why, whysize)) < 0)
			goto out;
		if (r == 0)
			break;
		if (!member_name_ok(name)) {
			snprintf(why, whysize, "member \"%s\" is not part of a thidua backup: the archive was not made by thiduactl backup", name);
			goto out;
		}
		if (json_object_get(got, name) || (!strcmp(name, "SHA256SUMS") && *sums)) {
			snprintf(why, whysize, "member %s appears twice in the archive", name);
			goto out;
		}
		if (!strcmp(name, "SHA256SUMS")) {
			if (size > SUMS_MAX) {
				snprintf(why, whysize, "SHA256SUMS is %lld bytes, more than any backup writes", (long long)size);
				goto out;
			}
			*sums = xmalloc((size_t)size + 1);
			if (read_full(fp, *sums, (size_t)size)) {
				snprintf(why, whysize, "%s ends inside SHA256SUMS: it is truncated", archive);
				goto out;
			}
			(*sums)[size] = 0;
		} else {
			if (!strncmp(name, "files/", 6)) {
				snprintf(path, sizeof(path), "%s/files", dir);
				mkdir(path, 0750);
				snprintf(path, sizeof(path), "%s/%.8s", dir, name);
				mkdir(path, 0750);
			}
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, !strcmp(name, "audit.key") || !strcmp(name, "reply.key") || !strcmp(name, "invite.key") ? 0600 : 0640);
			if (fd < 0) {
				snprintf(why, whysize, "cannot create %s: %s", path, strerror(errno));
				goto out;
			}
			sha256_init(&c);
			for (left = size; left > 0;) {
				size_t n = left < (int64_t)sizeof(chunk) ? (size_t)left : sizeof(chunk);

				if (read_full(fp, chunk, n)) {
					snprintf(why, whysize, "%s ends inside member %s: it is truncated", archive, name);
					goto out;
				}
				sha256_update(&c, chunk, n);
				if (write(fd, chunk, n) != (ssize_t)n) {
					snprintf(why, whysize, "cannot write %s: %s", path, strerror(errno));
					goto out;
				}
				left -= (int64_t)n;
			}
			if (close(fd)) {
				fd = -1;
				snprintf(why, whysize, "cannot write %s: %s", path, strerror(errno));
				goto out;
			}
			fd = -1;
			sha256_final_hex(&c, hex);
			json_object_set_new(got, name, json_string(hex));
		}
		if (fseeko(fp, (off_t)tar_padding(size), SEEK_CUR)) {
			snprintf(why, whysize, "cannot read %s: %s", archive, strerror(errno));
			goto out;
		}
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	fclose(fp);
	return rc;
}

/* check_sums - every member against its line of SHA256SUMS, and the other way round */
static int check_sums(json_t *got, char *sums, char *why, size_t whysize)
{
	json_t *listed = json_object();
	const char *name;
	json_t *v;
	int rc = -1;

	if (!sums) {
		snprintf(why, whysize, "the archive has no SHA256SUMS: it is not a whole thidua backup");
		goto out;
	}
	for (char *line = strtok(sums, "\n"); line; line = strtok(NULL, "\n")) {
		const char *want = line, *member = line + 66;
		const char *have;

		if (strlen(line) < 67 || strspn(line, "0123456789abcdef") != 64 || strncmp(line + 64, "  ", 2)) {
			snprintf(why, whysize, "SHA256SUMS has a line not in the form \"SHA-256  NAME\": the archive is damaged");
			goto out;
		}
		line[64] = 0;
		have = json_string_value(json_object_get(got, member));
		if (!have) {
			snprintf(why, whysize, "SHA256SUMS names %s, which the archive lacks: it is not whole", member);
			goto out;
		}
		if (strcmp(have, want)) {
			snprintf(why, whysize, "member %s does not match its SHA-256 in SHA256SUMS (its content hashes to %.12s...,"
				 " the backup wrote %.12s...): the archive was changed or damaged", member, have, want);
			goto out;
		}
		json_object_set_new(listed, member, json_true());
	}
	json_object_foreach(got, name, v) {
		if (!json_object_get(listed, name)) {
			snprintf(why, whysize, "member %s is not in SHA256SUMS: the archive was changed", name);
			goto out;
		}
	}
	if (!json_object_get(got, "thidua.db") || !json_object_get(got, "audit.key")) {
		snprintf(why, whysize, "the archive lacks %s", json_object_get(got, "thidua.db") ? "audit.key" : "thidua.db");
		goto out;
	}
	rc = 0;
out:
	json_decref(listed);
	return rc;
}

/* integrity - SQLite's integrity check of the restored database, on its own connection */
static int integrity(const char *path, char *why, size_t whysize)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL)
	    || sqlite3_prepare_v2(db, "PRAGMA integrity_check(5)", -1, &s, NULL)) {
		snprintf(why, whysize, "the database %s cannot be opened: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	if (sqlite3_step(s) != SQLITE_ROW) {
		snprintf(why, whysize, "the database %s fails SQLite's integrity check: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (strcmp((const char *)sqlite3_column_text(s, 0), "ok")) {
		snprintf(why, whysize, "the database %s fails SQLite's integrity check: %s", path,
			 (const char *)sqlite3_column_text(s, 0));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

/* verify - the restored state as the daemon checks it; the figures into summary */
static int verify(struct daemon *d, char *why, size_t whysize, char *summary, size_t sumsize)
{
	json_t *audit = json_object(), *files = json_object(), *bad;
	char err[1024];
	int rc = -1;

	if (integrity(d->db_path, why, whysize))
		goto out;
	if (!(d->store = store_open(d->db_path, err, sizeof(err)))) {
		snprintf(why, whysize, "%s", err);
		goto out;
	}
	if (audit_init(d, err, sizeof(err))) {
		snprintf(why, whysize, "%s", err);
		goto out;
	}
	op_audit_verify(d, NULL, audit);
	if (!json_is_true(json_object_get(audit, "valid"))) {
		snprintf(why, whysize, "the audit log does not verify at row %lld: %s", 
			 (long long)json_integer_value(json_object_get(audit, "first_bad")),
			 json_string_value(json_object_get(audit, "reason")));
		goto out;
	}
	op_files_verify(d, NULL, files);
	if (!json_is_true(json_object_get(files, "valid"))) {
		bad = json_array_get(json_object_get(files, "bad"), 0);
		snprintf(why, whysize, "%lld stored files do not match their SHA-256; the first: \"%s\" (%s%s%s) is %s",
			 (long long)json_integer_value(json_object_get(files, "bad_count")),
			 json_string_value(json_object_get(bad, "name")), json_string_value(json_object_get(bad, "where")),
			 json_object_get(bad, "receipt") ? ", receipt " : "",
			 json_object_get(bad, "receipt") ? json_string_value(json_object_get(bad, "receipt")) : "",
			 json_string_value(json_object_get(bad, "problem")));
		goto out;
	}
	snprintf(summary, sumsize, "audit log of %lld rows verified and anchored at its head; %lld stored files verified"
		 " (%lld under files/, %lld bytes)", (long long)json_integer_value(json_object_get(audit, "rows")),
		 (long long)json_integer_value(json_object_get(files, "files")),
		 (long long)json_integer_value(json_object_get(files, "under_files")),
		 (long long)json_integer_value(json_object_get(files, "bytes")));
	rc = 0;
out:
	json_decref(audit);
	json_decref(files);
	return rc;
}

/* restore_run - the whole restore; the process's exit code (0, or 1 with the reason on
 * stderr and DIR as it was found) */
int restore_run(struct daemon *d, const char *archive, const char *dir)
{
	json_t *got = json_object();
	char why[8192] = "", summary[512] = "", err[1024], *sums = NULL;
	int made = 0, rc = 1, fd;

	if (dir_ready(dir, &made, why, sizeof(why))) {
		fprintf(stderr, "thiduad: refusing to restore %s: %s\n", archive, why);
		goto done;
	}
	d->state_dir = xstrdup(dir);
	d->db_path = xasprintf("%s/thidua.db", dir);
	if (state_lock(d, err, sizeof(err))) {
		fprintf(stderr, "thiduad: %s\n", err);
		goto done;
	}
	if (extract(archive, dir, got, &sums, why, sizeof(why)) || check_sums(got, sums, why, sizeof(why))
	    || verify(d, why, sizeof(why), summary, sizeof(summary))) {
		store_close(&d->store);
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		if (made)
			rmdir(dir);
		fprintf(stderr, "thiduad: refusing to restore %s: %s; nothing was restored (%s is %s)\n", archive, why, dir,
			made ? "removed again" : "empty again");
		goto done;
	}
	store_close(&d->store);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (syncfs(fd))
			log_warn("flushing %s failed: %s", dir, strerror(errno));
		close(fd);
	}
	printf("restored %s into %s: %s\nstart thiduad with --state-dir %s\n", archive, dir, summary, dir);
	rc = 0;
done:
	json_decref(got);
	free(sums);
	daemon_free(d);
	return rc;
}
