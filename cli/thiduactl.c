/*
 * thiduactl.c - the command line client: every operator action is one request on the
 * daemon's api socket. Tables for people by default, the daemon's JSON with --json.
 *
 * Exit codes: 0 success; 1 the daemon answered with an error; 2 usage; 3 the daemon
 * could not be reached within the timeout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client.h"
#include "table.h"
#include "utf8.h"
#include "xalloc.h"

#define DEFAULT_ENDPOINT "ipc:///var/lib/thidua/api.sock"

static struct client cl = { .endpoint = DEFAULT_ENDPOINT, .timeout = 10 };

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: thiduactl [-e ENDPOINT] [--json] [--timeout SECONDS] COMMAND ...\n"
		"\n"
		"commands:\n"
		"  status                         the daemon, its clock and its units\n"
		"  units list [--level L] [--kind K] [--under CODE] [--at DATE] [--all]\n"
		"  units show CODE [--at DATE]\n"
		"  units import FILE.csv          add units (all or nothing)\n"
		"  clock show | set TIME | advance DURATION   (set/advance: test daemons only)\n"
		"  config reload                  reload the configuration file (like SIGHUP)\n"
		"\n"
		"ENDPOINT defaults to $THIDUA_ENDPOINT or " DEFAULT_ENDPOINT ".\n"
		"TIME is 2024-11-10T09:00:00+07:00 or a date; DURATION is 90m, 36h, 3d, 1w.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "thiduactl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(thiduactl --help lists the commands)\n");
	return EXIT_USAGE;
}

/* str - a string member or "" */
static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* call - one request; prints errors and JSON; returns the reply on success */
static json_t *call(json_t *req, const struct client_file *files, size_t nfiles, int *rc)
{
	json_t *reply;
	char id[64];

	if (!json_object_get(req, "id")) {
		client_new_id(id, sizeof(id));
		json_object_set_new(req, "id", json_string(id));
	}
	reply = client_call(&cl, req, files, nfiles, rc);
	if (!reply)
		return NULL;
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
			fprintf(stderr, "thiduactl: %s\n", str(err, "message"));
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

/* cmd_status - the daemon at a glance */
static int cmd_status(int argc, char **argv)
{
	json_t *r, *clock, *by;
	const char *k;
	json_t *v;
	int rc;

	(void)argv;
	if (argc > 1)
		return usage_error("status takes no arguments (got '%s')", argv[1]);
	r = call(json_pack("{s:s}", "op", "status"), NULL, 0, &rc);
	if (!r || cl.json)
		goto out;
	clock = json_object_get(r, "clock");
	printf("thiduad %s, up %llds\n", str(r, "version"),
	       (long long)json_integer_value(json_object_get(r, "uptime_seconds")));
	if (*str(r, "movement"))
		printf("movement:  %s\n", str(r, "movement"));
	printf("config:    %s\n", str(r, "config"));
	printf("database:  %s\n", str(r, "database"));
	printf("api:       %s\n", str(r, "api"));
	printf("clock:     %s %s%s\n", str(clock, "now"), str(clock, "timezone"),
	       json_is_true(json_object_get(clock, "fake")) ? " (fake clock: test mode)" : "");
	by = json_object_get(json_object_get(r, "units"), "active_by_level");
	printf("units:    ");
	json_object_foreach(by, k, v)
		printf(" %s %lld", k, (long long)json_integer_value(v));
	printf("\n");
out:
	json_decref(r);
	return rc;
}

/* print_units - a table of units */
static void print_units(json_t *units)
{
	static const char *const hdr[] = { "CODE", "NAME", "LEVEL", "PARENT", "KIND" };
	struct table *t = table_new(5, hdr);
	size_t i;
	json_t *u;

	json_array_foreach(units, i, u) {
		const char *row[] = { str(u, "code"), str(u, "name"), str(u, "level"), str(u, "parent"), str(u, "kind") };

		table_add(t, row);
	}
	table_print(t, stdout);
	table_destroy(&t);
}

static int cmd_units_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "level", required_argument, NULL, 'l' }, { "kind", required_argument, NULL, 'k' },
		{ "under", required_argument, NULL, 'u' }, { "at", required_argument, NULL, 'a' },
		{ "all", no_argument, NULL, 'A' }, { NULL, 0, NULL, 0 },
	};
	json_t *req = json_pack("{s:s}", "op", "units.list"), *r;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': json_object_set_new(req, "level", json_string(optarg)); break;
		case 'k': json_object_set_new(req, "kind", json_string(optarg)); break;
		case 'u': json_object_set_new(req, "under", json_string(optarg)); break;
		case 'a': json_object_set_new(req, "at", json_string(optarg)); break;
		case 'A': json_object_set_new(req, "all", json_true()); break;
		default: json_decref(req); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		json_decref(req);
		return usage_error("units list: unexpected argument '%s'", argv[optind]);
	}
	r = call(req, NULL, 0, &rc);
	if (r && !cl.json) {
		print_units(json_object_get(r, "units"));
		printf("%lld units active on %s\n", (long long)json_integer_value(json_object_get(r, "count")),
		       str(r, "at"));
	}
	json_decref(r);
	return rc;
}

/* join - a JSON array of strings as "a, b" */
static void print_list(const char *label, json_t *a)
{
	size_t i;
	json_t *v;

	if (!json_array_size(a))
		return;
	printf("%-14s", label);
	json_array_foreach(a, i, v)
		printf("%s%s", i ? ", " : "", json_string_value(v));
	printf("\n");
}

static int cmd_units_show(int argc, char **argv)
{
	static const struct option opts[] = { { "at", required_argument, NULL, 'a' }, { NULL, 0, NULL, 0 } };
	json_t *req = json_pack("{s:s}", "op", "units.show"), *r, *u;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'a') {
			json_decref(req);
			return EXIT_USAGE;
		}
		json_object_set_new(req, "at", json_string(optarg));
	}
	if (optind != argc - 1) {
		json_decref(req);
		return usage_error("units show needs one unit code%s", "");
	}
	json_object_set_new(req, "code", json_string(argv[optind]));
	r = call(req, NULL, 0, &rc);
	if (r && !cl.json) {
		u = json_object_get(r, "unit");
		printf("%-14s%s\n", "code", str(u, "code"));
		printf("%-14s%s\n", "name", str(u, "name"));
		printf("%-14s%s (%s)%s\n", "level", str(u, "level"), str(u, "level_name"),
		       json_is_true(json_object_get(u, "attached")) ? ", attached to its parent" : "");
		printf("%-14s%s\n", "kind", str(u, "kind"));
		if (*str(u, "parent"))
			printf("%-14s%s\n", "parent", str(u, "parent"));
		printf("%-14s%s to %s%s\n", "active", *str(u, "active_from") ? str(u, "active_from") : "always",
		       *str(u, "active_to") ? str(u, "active_to") : "now",
		       json_is_true(json_object_get(u, "active")) ? "" : " (not active on that date)");
		print_list("successors", json_object_get(u, "successors"));
		print_list("predecessors", json_object_get(u, "predecessors"));
		print_list("emails", json_object_get(u, "emails"));
		print_list("chats", json_object_get(u, "chats"));
		print_list("children", json_object_get(u, "children"));
		printf("%-14s%s\n", "declared at", str(u, "source"));
	}
	json_decref(r);
	return rc;
}

/* read_file - a whole file into memory (at most 1 GiB) */
static char *read_file(const char *path, size_t *size)
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
	fclose(fp);
	return buf;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int cmd_units_import(int argc, char **argv)
{
	struct client_file f;
	size_t size = 0;
	char *data;
	json_t *r;
	int rc;

	if (argc != 2)
		return usage_error("units import needs one CSV file%s", "");
	data = read_file(argv[1], &size);
	if (!data)
		return EXIT_USAGE;
	f = (struct client_file){ base_name(argv[1]), data, size };
	r = call(json_pack("{s:s,s:s}", "op", "units.import", "filename", base_name(argv[1])), &f, 1, &rc);
	if (r && !cl.json)
		printf("imported %lld units from %s\n", (long long)json_integer_value(json_object_get(r, "imported")),
		       argv[1]);
	json_decref(r);
	free(data);
	return rc;
}

static int cmd_units(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("units needs a subcommand: list, show or import%s", "");
	if (!strcmp(argv[1], "list"))
		return cmd_units_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return cmd_units_show(argc - 1, argv + 1);
	if (!strcmp(argv[1], "import"))
		return cmd_units_import(argc - 1, argv + 1);
	return usage_error("units: unknown subcommand '%s' (list, show, import)", argv[1]);
}

static int cmd_clock(int argc, char **argv)
{
	json_t *req, *r;
	int rc;

	if (argc < 2 || !strcmp(argv[1], "show")) {
		if (argc > 2)
			return usage_error("clock show takes no arguments%s", "");
		req = json_pack("{s:s}", "op", "clock.show");
	} else if (!strcmp(argv[1], "set") && argc == 3) {
		req = json_pack("{s:s,s:s}", "op", "clock.set", "to", argv[2]);
	} else if (!strcmp(argv[1], "advance") && argc == 3) {
		req = json_pack("{s:s,s:s}", "op", "clock.advance", "by", argv[2]);
	} else {
		return usage_error("clock: use 'clock show', 'clock set TIME' or 'clock advance DURATION'%s", "");
	}
	r = call(req, NULL, 0, &rc);
	if (r && !cl.json)
		printf("%s%s\n", str(r, "now"), json_is_true(json_object_get(r, "fake")) ? " (fake clock)" : "");
	json_decref(r);
	return rc;
}

static int cmd_config(int argc, char **argv)
{
	json_t *r;
	int rc;

	if (argc != 2 || strcmp(argv[1], "reload"))
		return usage_error("config: use 'config reload'%s", "");
	r = call(json_pack("{s:s}", "op", "config.reload"), NULL, 0, &rc);
	if (r && !cl.json)
		printf("configuration reloaded: %s, %lld units\n", str(r, "config"),
		       (long long)json_integer_value(json_object_get(r, "units")));
	json_decref(r);
	return rc;
}

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "status", cmd_status },
	{ "units", cmd_units },
	{ "clock", cmd_clock },
	{ "config", cmd_config },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, 'e' }, { "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' }, { "as", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *env = getenv("THIDUA_ENDPOINT");
	int opt;

	if (env && *env)
		cl.endpoint = env;
	while ((opt = getopt_long(argc, argv, "+e:jt:h", opts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'e': cl.endpoint = optarg; break;
		case 'j': cl.json = 1; break;
		case 'a': cl.as = optarg; break;
		case 't':
			cl.timeout = strtod(optarg, &end);
			if (*end || cl.timeout <= 0 || cl.timeout > 3600)
				return usage_error("--timeout '%s' must be a number of seconds between 0 and 3600", optarg);
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++)
		if (!utf8_valid_str(argv[i]))
			return usage_error("argument '%s' is not valid UTF-8", argv[i]);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			return commands[i].fn(argc - optind, argv + optind);
	return usage_error("unknown command '%s'", argv[optind]);
}
