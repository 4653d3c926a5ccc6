/*
 * cli.c - helpers shared by thiduactl's command modules (see cli.h). Owns the one
 * client the process uses.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "xalloc.h"

struct client cl = { .endpoint = DEFAULT_ENDPOINT, .timeout = 10 };

/* cli_usage_error - print a usage problem; the exit code for it */
int cli_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "thiduactl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(thiduactl --help lists the commands)\n");
	return EXIT_USAGE;
}

/* cli_options - getopt_long over a table that says where each value goes */
int cli_options(int argc, char **argv, const struct cli_opt *opts, json_t *req, unsigned *own)
{
	struct option lo[33];
	size_t n = 0;
	int opt;

	while (opts[n].name && n < 32) {
		lo[n] = (struct option){ opts[n].name, opts[n].flag ? no_argument : required_argument, NULL, (int)n + 1 };
		n++;
	}
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	if (own)
		*own = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		const struct cli_opt *o;

		if (opt < 1 || opt > (int)n)
			return -1;
		o = &opts[opt - 1];
		if (o->each) {
			if (o->each(req, optarg))
				return -1;
		} else if (!o->field) {
			if (own)
				*own |= 1u << (opt - 1);
		} else {
			json_object_set_new(req, o->field, o->flag ? json_true() : json_string(optarg));
		}
	}
	return optind;
}

/* cli_files_read - every file into memory before anything is sent */
int cli_files_read(struct cli_files *f, int n, char **paths, json_t *req)
{
	json_t *names = json_array();

	f->n = n > 0 ? (size_t)n : 0;
	f->files = xcalloc(f->n + 1, sizeof(*f->files));
	f->bufs = xcalloc(f->n + 1, sizeof(*f->bufs));
	for (size_t i = 0; i < f->n; i++) {
		size_t size = 0;

		f->bufs[i] = cli_read_file(paths[i], &size);
		if (!f->bufs[i]) {
			json_decref(names);
			return -1;
		}
		f->files[i] = (struct client_file){ cli_base_name(paths[i]), f->bufs[i], size };
		json_array_append_new(names, json_string(f->files[i].name));
	}
	if (f->n)
		json_object_set_new(req, "files", names);
	else
		json_decref(names);
	return 0;
}

void cli_files_free(struct cli_files *f)
{
	for (size_t i = 0; f->bufs && i < f->n; i++)
		free(f->bufs[i]);
	free(f->bufs);
	free(f->files);
	*f = (struct cli_files){ NULL, NULL, 0 };
}

/* jtext - a member as text: a string as it is, a number or boolean written into buf,
 * null or missing as "" */
const char *jtext(const json_t *o, const char *key, char *buf, size_t size)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, size, "%.15g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
	else if (size)
		buf[0] = '\0';
	return buf;
}

const char *jpred(const json_t *o, const char *text, char *buf, size_t size)
{
	const char *pred = json_string_value(json_object_get(o, "predecessor"));

	if (!pred || !*pred)
		return text;
	snprintf(buf, size, "%s (trước: %s)", text, pred);
	return buf;
}

/* jstr - a string member or "" */
const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

char *(*cli_error_map)(const char *text, void *ctx);
void *cli_error_ctx;

/* map_errors - the error's message and list through cli_error_map */
static void map_errors(json_t *reply)
{
	json_t *err = json_object_get(reply, "error"), *e;
	size_t i;
	char *text;

	if (json_is_string(json_object_get(err, "message"))) {
		text = cli_error_map(jstr(err, "message"), cli_error_ctx);
		json_object_set_new(err, "message", json_string(text));
		free(text);
	}
	json_array_foreach(json_object_get(err, "errors"), i, e) {
		if (json_is_string(e)) {
			text = cli_error_map(json_string_value(e), cli_error_ctx);
			json_string_set(e, text);
			free(text);
		}
	}
}

/* call - one request; prints errors and JSON; returns the reply on success */
static json_t *call(json_t *req, const struct client_file *files, size_t nfiles, struct client_blob *blob, int *rc)
{
	json_t *reply;
	char id[64];

	if (!json_object_get(req, "id")) {
		client_new_id(id, sizeof(id));
		json_object_set_new(req, "id", json_string(id));
	}
	if (cl.as && !json_object_get(req, "as"))	/* --as NAME: act as that principal */
		json_object_set_new(req, "as", json_string(cl.as));
	reply = client_call_blob(&cl, req, files, nfiles, blob, rc);
	if (!reply)
		return NULL;
	if (cli_error_map && !json_is_true(json_object_get(reply, "ok")))
		map_errors(reply);
	if (cl.json) {
		char *text = json_dumps(reply, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		puts(text);
		free(text);
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		json_t *err = json_object_get(reply, "error");
		json_t *list = json_object_get(err, "errors");
		size_t i;
		json_t *e;

		if (!cl.json) {
			fprintf(stderr, "thiduactl: %s\n", jstr(err, "message"));
			json_array_foreach(list, i, e)
				fprintf(stderr, "  %s\n", json_string_value(e));
		}
		json_decref(reply);
		*rc = EXIT_DAEMON_ERROR;
		return NULL;
	}
	*rc = EXIT_OK;
	return reply;
}

/* cli_call - see cli.h */
json_t *cli_call(json_t *req, const struct client_file *files, size_t nfiles, int *rc)
{
	return call(req, files, nfiles, NULL, rc);
}

/* cli_call_blob - see cli.h */
json_t *cli_call_blob(json_t *req, struct client_blob *blob, int *rc)
{
	return call(req, NULL, 0, blob, rc);
}

/* cli_read_file - a whole file into memory (at most 1 GiB) */
char *cli_read_file(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	char *buf;

	if (!fp) {
		fprintf(stderr, "thiduactl: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) || !S_ISREG(st.st_mode) || st.st_size > (1L << 30)) {
		fprintf(stderr, "thiduactl: %s is not a regular file of at most 1 GiB\n", path);
		fclose(fp);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	*size = fread(buf, 1, (size_t)st.st_size, fp);
	if (ferror(fp)) {
		/* a short read would send (and a receipt would vouch for) a truncated file */
		fprintf(stderr, "thiduactl: cannot read %s: %s\n", path, strerror(errno));
		fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	return buf;
}

/* cli_base_name - the file name without its directories */
const char *cli_base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* cli_call_part - see cli.h */
json_t *cli_call_part(json_t *req, int *rc)
{
	int json = cl.json;
	json_t *r;

	cl.json = 0;
	r = cli_call(req, NULL, 0, rc);
	cl.json = json;
	return r;
}
