/*
 * backup.c - backup.create, backup.status, backup.read: a consistent copy of the state
 * directory, taken while the daemon serves, as one ustar archive.
 *
 * The daemon is the only process that opens the database, so it takes the copy itself,
 * in slices between the turns of its loop (backup_turn), never stalling requests for
 * more than one slice: first the database with SQLite's online backup API
 * (BACKUP_PAGES pages a turn, into STATE_DIR/backups/.NAME.db; a write the loop commits
 * meanwhile goes through the same connection, and SQLite carries it into the copy), then
 * the files under files/ that the copy names (BACKUP_ROWS rows a turn), and then the
 * archive STATE_DIR/backups/NAME.tar, BACKUP_SLICE bytes a turn:
 *   thidua.db      the copy, as of the moment its last page was copied
 *   audit.key      the key that signs the audit log's head, so the restored head verifies
 *   reply.key      (when there is one) the key of the Reply-To tokens, so replies still work
 *   invite.key     (when there is one) the key of the invitations' tokens (daemon/accounts)
 *   audit.anchor   the anchor as it stood when the backup began (a row the copy holds)
 *   files/ab/...   every file under files/ that the copy names, checked against its name
 *   SHA256SUMS     the SHA-256 of each member above, as sha256sum(1) writes it
 * The archive is flushed and renamed into place whole. The daemon keeps only its latest
 * archive (a new backup.create removes the one before); clients copy it out with
 * backup.read, in chunks, so the daemon writes nowhere but its state directory (it runs
 * under ProtectSystem=strict) and a copy can be fetched over tcp as well as over ipc.
 * restore.c reads the archive back (thiduad --restore).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "b64.h"
#include "backup.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "rq.h"
#include "sha256.h"
#include "statedir.h"
#include "store.h"
#include "tar.h"
#include "thiduad.h"
#include "xalloc.h"

#define BACKUP_DIR "backups"
#define BACKUP_PAGES 1024		/* database pages copied per turn (4 MiB of 4 KiB pages) */
#define BACKUP_SLICE (4 << 20)		/* archive bytes written per turn */
#define BACKUP_CHUNK (1 << 20)		/* bytes per backup.read */
#define BACKUP_ROWS 20000		/* rows of the copy listed per turn */

enum { B_NONE, B_RUNNING, B_DONE, B_FAILED };
enum { P_DATABASE, P_LIST, P_MEMBERS };

static struct backup {
	int state, phase;
	char name[64], principal[72];
	char key[160], anchor[600], reply_key[160], invite_key[160];
	int has_anchor, has_reply_key, has_invite_key;
	char dir[4100], part[4200], snap[4200], final[4200];
	sqlite3 *snapdb;
	sqlite3_backup *bk;
	sqlite3_stmt *list;		/* the copy's files under files/ */
	char **members;			/* thidua.db, audit.key, audit.anchor?, files/...; NULL-ended */
	size_t next, nmembers, cap;
	int out, in;			/* the archive; the member being copied */
	int64_t left, msize;		/* bytes of the member still to copy, of all of it */
	char cur[101];
	struct sha256 whole, member;
	struct buf sums;
	int64_t size, db_bytes, nfiles, started_at, finished_at;
	char sha256[65], error[600];
} bk = { .out = -1, .in = -1 };

/* backup_release - close and free what a backup holds; with drop, remove its files */
static void backup_release(int drop)
{
	if (bk.bk)
		sqlite3_backup_finish(bk.bk);
	bk.bk = NULL;
	sqlite3_finalize(bk.list);
	bk.list = NULL;
	if (bk.snapdb)
		sqlite3_close(bk.snapdb);
	bk.snapdb = NULL;
	if (bk.in >= 0)
		close(bk.in);
	if (bk.out >= 0)
		close(bk.out);
	bk.in = bk.out = -1;
	strv_free(&bk.members);
	bk.nmembers = bk.cap = 0;
	free(bk.sums.p);
	memset(&bk.sums, 0, sizeof(bk.sums));
	if (*bk.snap) {
		char journal[4400];

		unlink(bk.snap);
		snprintf(journal, sizeof(journal), "%s-journal", bk.snap);
		unlink(journal);
	}
	if (drop && *bk.part)
		unlink(bk.part);
}

/* backup_fail - the backup stops here, with the reason kept for backup.status */
static void backup_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void backup_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(bk.error, sizeof(bk.error), fmt, ap);
	va_end(ap);
	log_err("backup %s failed: %s", bk.name, bk.error);
	backup_release(1);
	bk.state = B_FAILED;
}

/* out_write - bytes onto the archive, into its hash; 0, -1 (failed, with the reason) */
static int out_write(const void *data, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(bk.out, (const char *)data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			backup_fail("cannot write %s: %s", bk.part, strerror(errno));
			return -1;
		}
		done += (size_t)n;
	}
	sha256_update(&bk.whole, data, len);
	bk.size += (int64_t)len;
	return 0;
}

/* member_begin - the header of the next member */
static int member_begin(const char *name, int64_t size, unsigned mode)
{
	unsigned char h[TAR_BLOCK];

	if (tar_header(h, name, size, mode, bk.started_at)) {
		backup_fail("the name %s does not fit a ustar header", name);
		return -1;
	}
	xstrlcpy(bk.cur, name, sizeof(bk.cur));
	sha256_init(&bk.member);
	bk.left = bk.msize = size;
	return out_write(h, sizeof(h));
}

/* member_data - content of the current member */
static int member_data(const void *data, size_t len)
{
	sha256_update(&bk.member, data, len);
	bk.left -= (int64_t)len;
	return out_write(data, len);
}

/* member_end - the padding, and the member's line in SHA256SUMS; its hash into hex */
static int member_end(char hex[65])
{
	static const unsigned char zero[TAR_BLOCK];

	sha256_final_hex(&bk.member, hex);
	buf_printf(&bk.sums, "%s  %s\n", hex, bk.cur);
	return out_write(zero, (size_t)tar_padding(bk.msize));
}

/* member_text - a member held in memory, whole */
static int member_text(const char *name, const char *text, unsigned mode)
{
	size_t len = strlen(text);
	char hex[65];

	if (member_begin(name, (int64_t)len, mode) || member_data(text, len))
		return -1;
	return member_end(hex);
}

/* member_add - one more member to write (the array doubles: many thousand files) */
static void member_add(const char *name)
{
	if (bk.nmembers + 2 > bk.cap) {
		bk.cap = bk.cap ? 2 * bk.cap : 64;
		bk.members = xrealloc(bk.members, bk.cap * sizeof(*bk.members));
	}
	bk.members[bk.nmembers++] = xstrdup(name);
	bk.members[bk.nmembers] = NULL;
}

/* step_list - BACKUP_ROWS more of the files under files/ that the copy names; at the
 * end, the archive is opened */
static void step_list(void)
{
	int rc = SQLITE_ROW;

	if (!bk.list && sqlite3_prepare_v2(bk.snapdb, "SELECT sha256 FROM submission_files WHERE data IS NULL"
					  " UNION SELECT sha256 FROM proposal_files WHERE data IS NULL"
					  " UNION SELECT sha256 FROM proposal_batches WHERE data IS NULL"
					  " UNION SELECT sha256 FROM inbox_files WHERE data IS NULL ORDER BY 1",
					  -1, &bk.list, NULL)) {
		backup_fail("cannot list the stored files of the copy: %s", sqlite3_errmsg(bk.snapdb));
		return;
	}
	for (int i = 0; i < BACKUP_ROWS && (rc = sqlite3_step(bk.list)) == SQLITE_ROW; i++) {
		const char *hex = (const char *)sqlite3_column_text(bk.list, 0);
		char name[128];

		if (!hex || strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
			continue;	/* not a name under files/: files.verify reports such a row */
		snprintf(name, sizeof(name), "files/%.2s/%s", hex, hex);
		member_add(name);
		bk.nfiles++;
	}
	if (rc == SQLITE_ROW)
		return;		/* more rows, next turn */
	if (rc != SQLITE_DONE) {
		backup_fail("cannot list the stored files of the copy: %s", sqlite3_errmsg(bk.snapdb));
		return;
	}
	sqlite3_finalize(bk.list);
	bk.list = NULL;
	sqlite3_close(bk.snapdb);
	bk.snapdb = NULL;
	bk.out = open(bk.part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (bk.out < 0) {
		backup_fail("cannot create %s: %s", bk.part, strerror(errno));
		return;
	}
	sha256_init(&bk.whole);
	bk.phase = P_MEMBERS;
}

/* step_database - copy BACKUP_PAGES more pages; at the end, the fixed members */
static void step_database(struct daemon *d)
{
	int rc;

	if (!bk.bk) {
		if (sqlite3_open_v2(bk.snap, &bk.snapdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)) {
			backup_fail("cannot create %s: %s", bk.snap, bk.snapdb ? sqlite3_errmsg(bk.snapdb) : "out of memory");
			return;
		}
		sqlite3_exec(bk.snapdb, "PRAGMA synchronous = OFF", NULL, NULL, NULL);	/* the archive is flushed */
		bk.bk = sqlite3_backup_init(bk.snapdb, "main", store_db(d->store), "main");
		if (!bk.bk) {
			backup_fail("cannot start copying the database: %s", sqlite3_errmsg(bk.snapdb));
			return;
		}
	}
	rc = sqlite3_backup_step(bk.bk, BACKUP_PAGES);
	if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return;		/* more pages, next turn */
	if (rc != SQLITE_DONE) {
		backup_fail("copying the database failed: %s", sqlite3_errstr(rc));
		return;
	}
	sqlite3_backup_finish(bk.bk);
	bk.bk = NULL;
	member_add("thidua.db");
	member_add("audit.key");
	if (bk.has_reply_key)
		member_add("reply.key");
	if (bk.has_invite_key)
		member_add("invite.key");
	if (bk.has_anchor)
		member_add("audit.anchor");
	bk.phase = P_LIST;
}

/* member_open - start the next member: a text one is written whole, a file one opened */
static int member_open(struct daemon *d)
{
	const char *name = bk.members[bk.next++];
	char path[4400];
	struct stat st;

	if (!strcmp(name, "audit.key"))
		return member_text(name, bk.key, 0600);
	if (!strcmp(name, "reply.key"))
		return member_text(name, bk.reply_key, 0600);
	if (!strcmp(name, "invite.key"))
		return member_text(name, bk.invite_key, 0600);
	if (!strcmp(name, "audit.anchor"))
		return member_text(name, bk.anchor, 0640);
	if (!strcmp(name, "thidua.db"))
		xstrlcpy(path, bk.snap, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s/%s", d->state_dir, name);
	bk.in = open(path, O_RDONLY | O_CLOEXEC);
	if (bk.in < 0 || fstat(bk.in, &st)) {
		backup_fail("cannot read %s: %s%s", path, strerror(errno),
			    errno == ENOENT ? " (a stored file is missing: thiduactl files verify names the receipts)" : "");
		return -1;
	}
	if (!strcmp(name, "thidua.db"))
		bk.db_bytes = st.st_size;
	return member_begin(name, st.st_size, 0640);
}

/* member_copy - up to budget bytes of the open member; at its end, check a stored file
 * against the hash its name states. The bytes copied, or -1 */
static int64_t member_copy(int64_t budget)
{
	static char chunk[1 << 20];
	size_t want = (size_t)(bk.left < budget ? bk.left : budget);
	ssize_t n;
	char hex[65];

	if (want > sizeof(chunk))
		want = sizeof(chunk);
	if (want) {
		while ((n = read(bk.in, chunk, want)) < 0 && errno == EINTR)
			;
		if (n <= 0) {
			backup_fail("%s could not be read whole: %s", bk.cur, n < 0 ? strerror(errno) : "it became shorter");
			return -1;
		}
		if (member_data(chunk, (size_t)n))
			return -1;
		want = (size_t)n;
	}
	if (bk.left > 0)
		return (int64_t)want;
	close(bk.in);
	bk.in = -1;
	if (member_end(hex))
		return -1;
	if (!strncmp(bk.cur, "files/", 6) && strcmp(hex, bk.cur + 9)) {
		backup_fail("the stored file %s no longer matches its SHA-256 (it is now %.12s...): thiduactl files verify"
			    " names the receipts whose files to ask for again; no backup was written", bk.cur, hex);
		return -1;
	}
	return (int64_t)want;
}

/* backup_finish - SHA256SUMS, the end blocks, flushed and renamed into place; the audit
 * log records the archive and its hash */
static void backup_finish(struct daemon *d)
{
	static const unsigned char zero[2 * TAR_BLOCK];
	char *sums = bk.sums.p ? xstrdup(bk.sums.p) : xstrdup("");
	int rc = member_text("SHA256SUMS", sums, 0640), dfd;

	free(sums);
	if (rc || out_write(zero, sizeof(zero)))
		return;
	if (fsync(bk.out) || close(bk.out)) {
		bk.out = -1;
		backup_fail("cannot flush %s: %s", bk.part, strerror(errno));
		return;
	}
	bk.out = -1;
	if (rename(bk.part, bk.final)) {
		backup_fail("cannot rename %s to %s: %s", bk.part, bk.final, strerror(errno));
		return;
	}
	if ((dfd = open(bk.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	sha256_final_hex(&bk.whole, bk.sha256);
	backup_release(0);
	bk.state = B_DONE;
	bk.finished_at = clock_now(d);
	log_notice("backup %s: %lld bytes (database %lld bytes, %lld files), sha256 %s", bk.final, (long long)bk.size,
		   (long long)bk.db_bytes, (long long)bk.nfiles, bk.sha256);
	if (store_begin(d->store) == 0) {
		if (audit_append(d, bk.principal, OP_BACKUP_CREATE, bk.name, NULL,
				 json_pack("{s:I,s:I,s:I,s:s}", "size", (json_int_t)bk.size, "database_bytes",
					   (json_int_t)bk.db_bytes, "files", (json_int_t)bk.nfiles, "sha256", bk.sha256)))
			store_rollback(d->store);
		else
			store_commit(d->store);
	}
}

/* backup_turn - one slice of a running backup, between the loop's transactions */
void backup_turn(struct daemon *d)
{
	int64_t budget = BACKUP_SLICE, n;

	if (bk.state != B_RUNNING || store_in_txn(d->store))
		return;
	if (bk.phase == P_DATABASE) {
		step_database(d);
		return;
	}
	if (bk.phase == P_LIST) {
		step_list();
		return;
	}
	while (bk.state == B_RUNNING && budget > 0) {
		if (bk.in < 0) {
			if (!bk.members[bk.next]) {
				backup_finish(d);
				return;
			}
			if (member_open(d))
				return;
			continue;
		}
		if ((n = member_copy(budget)) < 0)
			return;
		budget -= n + TAR_BLOCK / 8;	/* many small files: headers count too */
	}
	/* start writing the slice back now: the flush at the end then has little left to
	 * wait for, instead of the whole archive in one turn */
	if (bk.out >= 0)
		sync_file_range(bk.out, 0, 0, SYNC_FILE_RANGE_WRITE);
}

/* backup_timeout_ms - 0 while a backup runs (its next slice is due at once), else -1 */
long backup_timeout_ms(const struct daemon *d)
{
	(void)d;
	return bk.state == B_RUNNING ? 0 : -1;
}

/* backup_stop - at shutdown: a backup not finished is dropped */
void backup_stop(struct daemon *d)
{
	(void)d;
	if (bk.state == B_RUNNING)
		backup_fail("the daemon stopped before the backup was complete");
}

/* backup_json - the backup as the ops answer it */
static json_t *backup_json(const struct daemon *d)
{
	static const char *const states[] = { "none", "running", "done", "failed" };
	json_t *b = json_pack("{s:s,s:s,s:o,s:I,s:I,s:I}", "name", bk.name, "state", states[bk.state],
			      "started_at", json_time(d, bk.started_at), "size", (json_int_t)bk.size,
			      "database_bytes", (json_int_t)bk.db_bytes, "files", (json_int_t)bk.nfiles);

	if (bk.state == B_RUNNING)
		json_object_set_new(b, "phase", json_string(bk.phase == P_MEMBERS ? "archive" : "database"));
	if (bk.state == B_DONE) {
		json_object_set_new(b, "sha256", json_string(bk.sha256));
		json_object_set_new(b, "finished_at", json_time(d, bk.finished_at));
		json_object_set_new(b, "file", json_string(bk.final));
	}
	if (bk.state == B_FAILED)
		json_object_set_new(b, "error", json_string(bk.error));
	return b;
}

/* clear_dir - remove the archives and copies a previous backup left in backups/ */
static void clear_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;

	if (!dp)
		return;
	while ((e = readdir(dp))) {
		char path[4600];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path))
			log_warn("cannot remove %s: %s", path, strerror(errno));
	}
	closedir(dp);
}

/* op_backup_create - start a backup; the reply names it (backup.status follows it) */
int op_backup_create(struct daemon *d, struct request *rq, json_t *out)
{
	char stamp[32];
	time_t t;
	struct tm tm;

	if (bk.state == B_RUNNING)
		return rq_error(rq, ERR_BACKUP_RUNNING, "backup %s is being written (%s): wait until backup.status says done, then start another",
				bk.name, bk.phase == P_MEMBERS ? "writing the archive" : "copying the database");
	backup_release(1);
	memset(&bk, 0, sizeof(bk));
	bk.in = bk.out = -1;
	snprintf(bk.dir, sizeof(bk.dir), "%s/%s", d->state_dir, BACKUP_DIR);
	if (mkdir(bk.dir, 0750) && errno != EEXIST)
		return rq_error(rq, ERR_INTERNAL, "cannot create %s: %s", bk.dir, strerror(errno));
	clear_dir(bk.dir);
	if (state_read_file(d, "audit.key", bk.key, sizeof(bk.key)) < 0)
		return rq_error(rq, ERR_INTERNAL, "cannot read %s/audit.key: %s", d->state_dir, strerror(errno));
	bk.has_anchor = state_read_file(d, "audit.anchor", bk.anchor, sizeof(bk.anchor)) >= 0;
	/* the key of the Reply-To tokens (replyto.c), so the addresses already sent still work */
	bk.has_reply_key = state_read_file(d, "reply.key", bk.reply_key, sizeof(bk.reply_key)) >= 0;
	/* the key of the invitations (daemon/accounts), so the links already mailed still work */
	bk.has_invite_key = state_read_file(d, "invite.key", bk.invite_key, sizeof(bk.invite_key)) >= 0;
	bk.started_at = clock_now(d);
	t = (time_t)bk.started_at;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(bk.name, sizeof(bk.name), "thidua-%s", stamp);
	snprintf(bk.part, sizeof(bk.part), "%s/.%s.tar.part", bk.dir, bk.name);
	snprintf(bk.snap, sizeof(bk.snap), "%s/.%s.db", bk.dir, bk.name);
	snprintf(bk.final, sizeof(bk.final), "%s/%s.tar", bk.dir, bk.name);
	xstrlcpy(bk.principal, rq_principal(rq), sizeof(bk.principal));
	bk.state = B_RUNNING;
	bk.phase = P_DATABASE;
	log_notice("backup %s started by %s", bk.name, bk.principal);
	json_object_set_new(out, "backup", backup_json(d));
	return 0;
}

/* rq_backup_named - the request's "backup" (optional unless required) names the one kept */
static int rq_backup_named(struct request *rq, int required)
{
	const char *name = rq_str(rq, "backup", required);

	if (!name)
		return rq_failed(rq) ? -1 : 0;
	if (bk.state == B_NONE || strcmp(name, bk.name))
		return rq_error(rq, ERR_UNKNOWN_BACKUP, "there is no backup '%s': the daemon keeps only its latest (%s)", name,
				bk.state == B_NONE ? "none was taken since it started" : bk.name);
	return 0;
}

/* op_backup_status - the latest backup: running (and how far), done, or failed (why) */
int op_backup_status(struct daemon *d, struct request *rq, json_t *out)
{
	if (rq_backup_named(rq, 0))
		return -1;
	json_object_set_new(out, "backup", bk.state == B_NONE ? json_null() : backup_json(d));
	return 0;
}

/* op_backup_read - BACKUP_CHUNK bytes of the finished archive from offset, in base64 */
int op_backup_read(struct daemon *d, struct request *rq, json_t *out)
{
	static unsigned char chunk[BACKUP_CHUNK];
	long long offset;
	ssize_t n;
	int fd;
	char *text;

	(void)d;
	if (rq_backup_named(rq, 1) || rq_int(rq, "offset", 1, 0, INT64_MAX, &offset))
		return -1;
	if (bk.state != B_DONE)
		return rq_error(rq, bk.state == B_RUNNING ? ERR_BACKUP_RUNNING : ERR_BACKUP_FAILED, "backup %s is %s", bk.name,
				bk.state == B_RUNNING ? "still being written: wait until backup.status says done" : "failed: see backup.status");
	if (offset > bk.size)
		return rq_error(rq, ERR_INVALID_FIELD, "'offset' = %lld is past the end of the archive (%lld bytes)", offset,
				(long long)bk.size);
	fd = open(bk.final, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rq_error(rq, ERR_INTERNAL, "cannot read %s: %s", bk.final, strerror(errno));
	while ((n = pread(fd, chunk, sizeof(chunk), (off_t)offset)) < 0 && errno == EINTR)
		;
	close(fd);
	if (n < 0)
		return rq_error(rq, ERR_INTERNAL, "cannot read %s: %s", bk.final, strerror(errno));
	text = b64_encode(chunk, (size_t)n);
	json_object_set_new(out, "backup", json_string(bk.name));
	json_object_set_new(out, "offset", json_integer(offset));
	json_object_set_new(out, "bytes", json_integer(n));
	json_object_set_new(out, "size", json_integer(bk.size));
	json_object_set_new(out, "eof", json_boolean(offset + n >= bk.size));
	json_object_set_new(out, "data", json_string(text));
	free(text);
	return 0;
}
