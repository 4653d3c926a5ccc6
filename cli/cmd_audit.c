/*
 * cmd_audit.c - thiduactl audit list [filters] and audit verify (exit 1 when the chain is
 * broken, naming the first row altered or removed).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_audit.h"
#include "table.h"

static int audit_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "unit", required_argument, NULL, 'u' }, { "principal", required_argument, NULL, 'p' },
		{ "object", required_argument, NULL, 'o' }, { "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 't' }, { "limit", required_argument, NULL, 'l' },
		{ "before", required_argument, NULL, 'b' }, { NULL, 0, NULL, 0 },
	};
	static const char *const hdr[] = { "SEQ", "AT", "PRINCIPAL", "OP", "UNIT", "OBJECT" };
	json_t *req = json_pack("{s:s}", "op", "audit.list"), *r, *row;
	int opt, rc;
	size_t i;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char *key = opt == 'u' ? "unit" : opt == 'p' ? "principal" : opt == 'o' ? "object"
				  : opt == 's' ? "since" : opt == 't' ? "until" : NULL;

		if (opt == 'l' || opt == 'b') {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (*end || n < 1) {
				json_decref(req);
				return cli_usage_error(opt == 'l' ? "--limit '%s' must be a positive whole number"
						       : "--before '%s' must be the seq of a row", optarg);
			}
			json_object_set_new(req, opt == 'l' ? "limit" : "before", json_integer(n));
		} else if (key) {
			json_object_set_new(req, key, json_string(optarg));
		} else {
			json_decref(req);
			return EXIT_USAGE;
		}
	}
	r = cli_call(req, NULL, 0, &rc);
	if (r && !cl.json) {
		struct table *t = table_new(6, hdr);

		json_array_foreach(json_object_get(r, "rows"), i, row) {
			char seq[32];
			const char *cells[6];

			snprintf(seq, sizeof(seq), "%lld", (long long)json_integer_value(json_object_get(row, "seq")));
			cells[0] = seq;
			cells[1] = jstr(row, "at");
			cells[2] = jstr(row, "principal");
			cells[3] = jstr(row, "op");
			cells[4] = jstr(row, "unit");
			cells[5] = jstr(row, "object");
			table_add(t, cells);
		}
		table_print(t, stdout);
		table_destroy(&t);
		if (json_is_true(json_object_get(r, "more")) && (row = json_array_get(json_object_get(r, "rows"), i - 1)))
			printf("(there are more: the next page with --before %lld)\n",
			       (long long)json_integer_value(json_object_get(row, "seq")));
	}
	json_decref(r);
	return rc;
}

static int audit_verify(void)
{
	json_t *r;
	int rc;

	r = cli_call(json_pack("{s:s}", "op", "audit.verify"), NULL, 0, &rc);
	if (!r)
		return rc;
	if (json_is_true(json_object_get(r, "valid"))) {
		if (!cl.json)
			printf("audit log intact: %lld rows, every link checked\n",
			       (long long)json_integer_value(json_object_get(r, "rows")));
	} else {
		if (!cl.json)
			printf("AUDIT LOG BROKEN at row %lld: %s\n", (long long)json_integer_value(json_object_get(r, "first_bad")),
			       jstr(r, "reason"));
		rc = EXIT_DAEMON_ERROR;
	}
	json_decref(r);
	return rc;
}

/* cmd_audit - audit list | audit verify */
int cmd_audit(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return audit_list(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "verify"))
		return audit_verify();
	return cli_usage_error("audit: use 'audit list [--unit CODE] [--principal NAME] [--object OBJ] [--since TIME] [--until TIME]' or 'audit verify'%s", "");
}
