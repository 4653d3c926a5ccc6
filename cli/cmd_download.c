/*
 * cmd_download.c - thiduactl report file and proposal file: one stored file, chosen by
 * its number in the list, its name or its SHA-256, fetched as the file frame of
 * report.file or proposal.file and written to a path. Nothing is replaced unless
 * --force; the bytes go to a temporary file beside the path, are read back and hashed,
 * and only a file whose SHA-256 and size are the reply's is renamed into place.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_download.h"
#include "proto.h"
#include "sha256.h"
#include "xalloc.h"

/* what one kind of download asks: the op listing the files, the op giving one */
struct source {
	const char *usage;		/* the command with its arguments */
	const char *list_op, *key, *file_op, *file_key;
	const char *holder;		/* the reply member holding "files" */
	int numeric;			/* the key is a number (a proposal) */
};

static const struct source receipt_src = {
	"report file RECEIPT INDEX|NAME|SHA256 -o PATH [--force]", OP_REPORT_RECEIPT, "number", OP_REPORT_FILE, "receipt", "receipt", 0,
};
static const struct source proposal_src = {
	"proposal file ID INDEX|NAME|SHA256 -o PATH [--force]", OP_PROPOSAL_SHOW, "proposal", OP_PROPOSAL_FILE, "proposal", "proposal", 1,
};

/* is_sha256 - 64 lowercase hexadecimal digits */
static int is_sha256(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == 64 && !s[n];
}

/* pick - the SHA-256 of the file that which names in files: its number (1, 2, ... as
 * listed), its name (the latest version's, for a dossier), or its hash; NULL with the
 * files listed on stderr */
static const char *pick(const struct source *src, const char *holder, json_t *files, const char *which)
{
	const char *found = NULL;
	char *end;
	long long n = strtoll(which, &end, 10);
	json_t *f;
	size_t i;

	if (is_sha256(which))
		return which;
	if (*which && !*end && n >= 1 && (size_t)n <= json_array_size(files))
		return jstr(json_array_get(files, (size_t)n - 1), "sha256");
	json_array_foreach(files, i, f)
		if (!strcmp(jstr(f, "name"), which))
			found = jstr(f, "sha256");	/* the last: a dossier's latest version */
	if (found)
		return found;
	if (!json_array_size(files)) {
		fprintf(stderr, "thiduactl: %s %s has no files\n", src->holder, holder);
		return NULL;
	}
	fprintf(stderr, "thiduactl: %s %s has no file '%s'; name one by its number, name or SHA-256:\n", src->holder,
		holder, which);
	json_array_foreach(files, i, f)
		fprintf(stderr, "  %zu  %s  %lld bytes  %s\n", i + 1, jstr(f, "name"),
			(long long)json_integer_value(json_object_get(f, "size")), jstr(f, "sha256"));
	return NULL;
}

/* hash_file - the SHA-256 and size of what fd holds, read from its start; -1 on a read error */
static int hash_file(int fd, char hex[65], size_t *size)
{
	static unsigned char buf[1 << 16];
	struct sha256 c;
	ssize_t n;

	*size = 0;
	sha256_init(&c);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		sha256_update(&c, buf, (size_t)n);
		*size += (size_t)n;
	}
	sha256_final_hex(&c, hex);
	return 0;
}

/* write_all - every byte of data to fd */
static int write_all(int fd, const char *data, size_t size)
{
	while (size) {
		ssize_t n = write(fd, data, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		size -= (size_t)n;
	}
	return 0;
}

/* save - the blob into path through a temporary file beside it, checked against the
 * reply's SHA-256 and size before it is renamed into place; EXIT_OK or the exit code */
static int save(const struct client_blob *blob, json_t *reply, const char *path, int force)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0, size;
	char *tmp = xmalloc(strlen(path) + 16), hex[65];
	mode_t mask = umask(0);
	int fd, rc = EXIT_DAEMON_ERROR;

	umask(mask);
	snprintf(tmp, strlen(path) + 16, "%.*s.%s.XXXXXX", (int)dirlen, path, slash ? slash + 1 : path);
	if ((fd = mkstemp(tmp)) < 0) {
		fprintf(stderr, "thiduactl: cannot create a file in the directory of %s: %s\n", path, strerror(errno));
		free(tmp);
		return EXIT_DAEMON_ERROR;
	}
	if (fchmod(fd, 0666 & ~mask) || write_all(fd, blob->data, blob->size) || fsync(fd)
	    || hash_file(fd, hex, &size)) {
		fprintf(stderr, "thiduactl: cannot write %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	if (strcmp(hex, jstr(reply, "sha256")) || (json_int_t)size != json_integer_value(json_object_get(reply, "size"))) {
		fprintf(stderr, "thiduactl: what was written (%zu bytes, SHA-256 %s) is not the file the daemon named"
			" (%lld bytes, SHA-256 %s); nothing kept: send the command again\n", size, hex,
			(long long)json_integer_value(json_object_get(reply, "size")), jstr(reply, "sha256"));
		goto out;
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, force ? 0 : RENAME_NOREPLACE)) {
		if (errno == EEXIST)
			fprintf(stderr, "thiduactl: %s exists; --force replaces it\n", path);
		else
			fprintf(stderr, "thiduactl: cannot write %s: %s\n", path, strerror(errno));
		goto out;
	}
	rc = EXIT_OK;
out:
	close(fd);
	if (rc != EXIT_OK)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* target - the path to write: path, or within a directory path the file's own name */
static char *target(const char *path, const char *name)
{
	struct stat st;
	size_t n;
	char *t;

	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return xstrdup(path);
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return NULL;
	n = strlen(path) + strlen(name) + 2;
	t = xmalloc(n);
	snprintf(t, n, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", name);
	return t;
}

/* download - SOURCE-KEY INDEX|NAME|SHA256 -o PATH [--force] */
static int download(const struct source *src, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *sha;
	struct client_blob blob = { 0 };
	json_t *req, *r = NULL, *got = NULL;
	int opt, force = 0, rc = EXIT_USAGE;
	long long id = 0;
	char *end, *path = NULL;
	struct stat st;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'f': force = 1; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc - 2 || !out || !*out)
		return cli_usage_error("use '%s': INDEX is the file's number as listed (1, 2, ...)", src->usage);
	if (src->numeric && ((id = strtoll(argv[optind], &end, 10)) < 1 || *end))
		return cli_usage_error("proposal file: '%s' is not a proposal number", argv[optind]);
	if (!force && !lstat(out, &st) && !S_ISDIR(st.st_mode))
		return cli_usage_error("%s exists; --force replaces it", out);
	if (out[strlen(out) - 1] == '/' && (stat(out, &st) || !S_ISDIR(st.st_mode)))
		return cli_usage_error("-o %s: there is no such directory; create it, or name a file", out);
	req = src->numeric ? json_pack("{s:s,s:I}", "op", src->list_op, src->key, (json_int_t)id)
			   : json_pack("{s:s,s:s}", "op", src->list_op, src->key, argv[optind]);
	if (!(r = cli_call_part(req, &rc)))
		goto out;
	rc = EXIT_DAEMON_ERROR;
	if (!(sha = pick(src, argv[optind], json_object_get(json_object_get(r, src->holder), "files"), argv[optind + 1])))
		goto out;
	req = src->numeric ? json_pack("{s:s,s:I,s:s}", "op", src->file_op, src->file_key, (json_int_t)id, "sha256", sha)
			   : json_pack("{s:s,s:s,s:s}", "op", src->file_op, src->file_key, argv[optind], "sha256", sha);
	if (!(got = cli_call_blob(req, &blob, &rc)))
		goto out;
	rc = EXIT_DAEMON_ERROR;
	if (!blob.got) {
		fprintf(stderr, "thiduactl: the daemon's reply carried no file frame; is it older than this thiduactl?\n");
		goto out;
	}
	if (!(path = target(out, jstr(got, "name")))) {
		fprintf(stderr, "thiduactl: the file's name '%s' cannot be used inside %s; give a file path with -o\n",
			jstr(got, "name"), out);
		goto out;
	}
	if (!force && !lstat(path, &st)) {
		fprintf(stderr, "thiduactl: %s exists; --force replaces it\n", path);
		goto out;
	}
	if ((rc = save(&blob, got, path, force)) == EXIT_OK && !cl.json)
		printf("%s  %lld bytes  %s\n", path, (long long)json_integer_value(json_object_get(got, "size")),
		       jstr(got, "sha256"));
out:
	free(path);
	free(blob.data);
	json_decref(r);
	json_decref(got);
	return rc;
}

/* cmd_report - report file RECEIPT INDEX|NAME|SHA256 -o PATH [--force] */
int cmd_report(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "file"))
		return download(&receipt_src, argc - 1, argv + 1);
	return cli_usage_error("report: use '%s'", receipt_src.usage);
}

/* cmd_proposal - proposal file ID INDEX|NAME|SHA256 -o PATH [--force] */
int cmd_proposal(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "file"))
		return download(&proposal_src, argc - 1, argv + 1);
	return cli_usage_error("proposal: use '%s'", proposal_src.usage);
}
