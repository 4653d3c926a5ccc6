/*
 * cli.h - what every thiduactl command module shares: the client (endpoint, timeout,
 * --json), one request/reply helper that prints errors and raw JSON, usage errors and
 * reading the files a command sends.
 */
#ifndef THIDUA_CLI_H
#define THIDUA_CLI_H

#include <jansson.h>
#include <stddef.h>

#include "client.h"

#define DEFAULT_ENDPOINT "ipc:///var/lib/thidua/api.sock"

extern struct client cl;	/* set up by main() from the global options */

/* cli_call - send req (stolen) with files; with --json prints the reply as is. Returns
 * the reply when it is ok (caller owns it), else NULL with the error printed and *rc set
 * to the exit code (EXIT_DAEMON_ERROR, EXIT_UNREACHABLE, ...). Adds a fresh "id" unless
 * req already has one. */
json_t *cli_call(json_t *req, const struct client_file *files, size_t nfiles, int *rc);

/* cli_call_blob - cli_call for a reply that carries a file frame, kept in *blob (the
 * caller frees blob->data, also on failure) */
json_t *cli_call_blob(json_t *req, struct client_blob *blob, int *rc);

/* cli_call_part - cli_call for one part of a command that makes several requests: errors
 * are printed, but --json does not print the reply (the command prints what it made) */
json_t *cli_call_part(json_t *req, int *rc);

/* cli_error_map - when set, the daemon's error message and list go through it before they
 * are printed (a new string the caller frees): an import from a workbook says sheet and cell */
extern char *(*cli_error_map)(const char *text, void *ctx);
extern void *cli_error_ctx;

/* jtext - a member as text: a string as it is, a number or boolean written into buf,
 * null or missing as "" */
const char *jtext(const json_t *o, const char *key, char *buf, size_t size);

/* jpred - text, or for a row read under a successor (its "predecessor" member: the code of
 * the unit that closed into it) "text (trước: CODE)" written into buf */
const char *jpred(const json_t *o, const char *text, char *buf, size_t size);

/* jstr - a string member of o, or "" (never NULL) */
const char *jstr(const json_t *o, const char *key);

/* cli_usage_error - "thiduactl: " fmt (one %s: arg) and a hint on stderr; EXIT_USAGE */
int cli_usage_error(const char *fmt, const char *arg);

/* cli_read_file - a whole regular file (at most 1 GiB) into a new buffer the caller
 * frees; NULL with the reason, naming the file, on stderr */
char *cli_read_file(const char *path, size_t *size);

/* an option of a command: its value becomes the request's member field (a flag: true);
 * with field NULL it is the command's own flag, reported in the bits of cli_options */
struct cli_opt {
	const char *name;	/* --name */
	const char *field;
	int flag;		/* 1: takes no value */
	int (*each)(json_t *req, const char *value);	/* instead of field: adds the value itself; -1 refuses it */
};

/* cli_options - parse argv[1..] against opts (ended by a NULL name) into req; bit i of
 * *own is set for opts[i] with no field. Returns the index of the first operand, or -1
 * when an option is unknown or lacks its value (getopt said which) */
int cli_options(int argc, char **argv, const struct cli_opt *opts, json_t *req, unsigned *own);

/* the files a command sends, all read before anything is sent: one bad path sends nothing */
struct cli_files {
	struct client_file *files;
	char **bufs;
	size_t n;
};

/* cli_files_read - read the n paths; their base names become req's "files" (when n > 0).
 * -1 with the reason, naming the file, on stderr. cli_files_free in both cases */
int cli_files_read(struct cli_files *f, int n, char **paths, json_t *req);
void cli_files_free(struct cli_files *f);

/* cli_base_name - the part of path after its last '/' (points into path) */
const char *cli_base_name(const char *path);

#endif
