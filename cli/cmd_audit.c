/*
 * cmd_audit.c - the integrity commands: thiduactl audit list [filters], audit verify (exit
 * 1 when the chain is broken, naming the first row altered or removed) and files verify
 * (exit 1 when a stored file no longer matches its SHA-256, naming the receipts affected).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_audit.h"
#include "export.h"
#include "proto.h"
#include "table.h"

/* export_audit - the audit rows, for spreadsheets (the detail as JSON text) */
static int export_audit(const json_t *req, const json_t *list)
{
	static const struct export_col cols[] = {
		{ "seq", "Số thứ tự", EX_INT, NULL }, { "at", "Thời điểm", EX_TIME, NULL },
		{ "principal", "Người thực hiện", EX_TEXT, NULL }, { "op", "Thao tác", EX_TEXT, NULL },
		{ "unit", "Đơn vị", EX_TEXT, NULL }, { "object", "Đối tượng", EX_TEXT, NULL },
		{ "detail", "Chi tiết", EX_JSON, NULL }, { "hash", "Mã băm (SHA-256)", EX_TEXT, NULL },
	};
	char period[160];
	struct export_spec spec = {
		.sheet = "Nhật ký", .title = "Nhật ký thao tác (audit)",
		.report = json_string_value(json_object_get(req, "principal")), .unit = json_string_value(json_object_get(req, "unit")),
		.cols = cols, .ncols = sizeof(cols) / sizeof(cols[0]), .rows = list,
	};

	if (json_object_get(req, "since") || json_object_get(req, "until")) {
		snprintf(period, sizeof(period), "từ %s đến %s", *jstr(req, "since") ? jstr(req, "since") : "đầu",
			 *jstr(req, "until") ? jstr(req, "until") : "nay");
		spec.period = period;
	}
	return export_write(&spec);
}

static int audit_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "unit", required_argument, NULL, 'u' }, { "principal", required_argument, NULL, 'p' },
		{ "object", required_argument, NULL, 'o' }, { "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 't' }, { "limit", required_argument, NULL, 'l' },
		{ "before", required_argument, NULL, 'b' },
		{ "csv", no_argument, NULL, 'c' }, { "excel", no_argument, NULL, 'E' }, { "xlsx", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const hdr[] = { "SEQ", "AT", "PRINCIPAL", "OP", "UNIT", "OBJECT" };
	json_t *req = json_pack("{s:s}", "op", OP_AUDIT_LIST), *r, *row, *filters;
	int opt, rc;
	size_t i;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char *key = opt == 'u' ? "unit" : opt == 'p' ? "principal" : opt == 'o' ? "object"
				  : opt == 's' ? "since" : opt == 't' ? "until" : NULL;

		if (opt == 'c' || opt == 'E' || opt == 'x') {
			if (opt == 'c' ? export_opt_csv(req, optarg) : opt == 'E' ? export_opt_excel(req, optarg)
			    : export_opt_xlsx(req, optarg)) {
				json_decref(req);
				return EXIT_USAGE;
			}
		} else if (opt == 'l' || opt == 'b') {
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
	if (optind < argc || export_check()) {
		json_decref(req);
		return optind >= argc ? EXIT_USAGE : cli_usage_error("audit list: unexpected argument '%s'", argv[optind]);
	}
	filters = json_deep_copy(req);
	r = cli_call(req, NULL, 0, &rc);
	if (r && export_wanted()) {
		rc = export_audit(filters, json_object_get(r, "rows"));
	} else if (r && !cl.json) {
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
	json_decref(filters);
	json_decref(r);
	return rc;
}

static int audit_verify(void)
{
	json_t *r;
	int rc;

	r = cli_call(json_pack("{s:s}", "op", OP_AUDIT_VERIFY), NULL, 0, &rc);
	if (!r)
		return rc;
	if (json_is_true(json_object_get(r, "valid"))) {
		json_t *anchor = json_object_get(r, "anchor");
		char where[64] = "not anchored yet";

		if (json_is_object(anchor))
			snprintf(where, sizeof(where), "anchored at row %lld",
				 (long long)json_integer_value(json_object_get(anchor, "row")));
		if (!cl.json)
			printf("audit log intact: %lld rows, every link checked%s; %s\n",
			       (long long)json_integer_value(json_object_get(r, "rows")),
			       json_integer_value(json_object_get(r, "legacy_rows")) ? " (the oldest in the former hash)" : "",
			       where);
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

/* files_verify - every stored file against its hash; the ones that differ, and whose */
static int files_verify(void)
{
	static const char *const hdr[] = { "RECEIPT", "FILE", "STORED", "PROBLEM" };
	json_t *r, *row;
	int rc;
	size_t i;

	r = cli_call(json_pack("{s:s}", "op", OP_FILES_VERIFY), NULL, 0, &rc);
	if (!r)
		return rc;
	if (json_is_true(json_object_get(r, "valid"))) {
		if (!cl.json)
			printf("stored files intact: %lld files (%lld in the database, %lld under files/), every SHA-256 checked\n",
			       (long long)json_integer_value(json_object_get(r, "files")),
			       (long long)json_integer_value(json_object_get(r, "database")),
			       (long long)json_integer_value(json_object_get(r, "under_files")));
		json_decref(r);
		return rc;
	}
	if (!cl.json) {
		struct table *t = table_new(4, hdr);
		json_t *receipts = json_object_get(r, "receipts");

		json_array_foreach(json_object_get(r, "bad"), i, row) {
			char ref[64];
			const char *cells[4];

			if (json_object_get(row, "receipt"))
				snprintf(ref, sizeof(ref), "%s", jstr(row, "receipt"));
			else if (json_object_get(row, "proposal"))
				snprintf(ref, sizeof(ref), "proposal %lld v%lld",
					 (long long)json_integer_value(json_object_get(row, "proposal")),
					 (long long)json_integer_value(json_object_get(row, "version")));
			else
				snprintf(ref, sizeof(ref), "import batch %lld",
					 (long long)json_integer_value(json_object_get(row, "batch")));
			cells[0] = ref;
			cells[1] = jstr(row, "name");
			cells[2] = jstr(row, "where");
			cells[3] = jstr(row, "problem");
			table_add(t, cells);
		}
		printf("STORED FILES DAMAGED: %lld of %lld no longer match their SHA-256\n",
		       (long long)json_integer_value(json_object_get(r, "bad_count")),
		       (long long)json_integer_value(json_object_get(r, "files")));
		table_print(t, stdout);
		table_destroy(&t);
		if (json_array_size(receipts)) {
			printf("receipts affected (ask their units to submit the files again):");
			json_array_foreach(receipts, i, row)
				printf(" %s", json_string_value(row));
			printf("\n");
		}
	}
	json_decref(r);
	return EXIT_DAEMON_ERROR;
}

/* cmd_files - files verify */
int cmd_files(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "verify"))
		return files_verify();
	return cli_usage_error("files: use 'files verify'%s", "");
}
