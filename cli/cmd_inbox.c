/*
 * cmd_inbox.c - thiduactl inbox list [--outcome O] | show ID | accept ID | reject ID --reason R
 * | retry ID: the mail units sent in by replying to a reminder (thidua-mailin,
 * docs/PROTOCOL.md inbox.*), and the receiving office's decision on a held message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_inbox.h"
#include "proto.h"
#include "table.h"

static int inbox_list(int argc, char **argv)
{
	static const char *const hdr[] = { "ID", "RECEIVED", "FROM", "UNIT", "REPORT", "PERIOD", "OUTCOME", "RECEIPT / REASON" };
	json_t *req = json_pack("{s:s}", "op", OP_INBOX_LIST), *r, *m;
	struct table *t;
	size_t i;
	int rc;

	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--outcome") && k + 1 < argc) {
			json_object_set_new(req, "outcome", json_string(argv[++k]));
		} else {
			json_decref(req);
			return cli_usage_error("inbox list: unknown argument '%s' (use --outcome submitted|held|refused|rejected)", argv[k]);
		}
	}
	r = cli_call(req, NULL, 0, &rc);
	if (!r || cl.json)
		goto out;
	t = table_new(8, hdr);
	json_array_foreach(json_object_get(r, "messages"), i, m) {
		char id[24], why[1200];
		const char *row[] = { id, jstr(m, "received_at"), jstr(m, "sender"), jstr(m, "unit"), jstr(m, "report"),
				      jstr(m, "period"), jstr(m, "outcome"), why };

		snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(m, "id")));
		if (*jstr(m, "receipt"))
			snprintf(why, sizeof(why), "%s", jstr(m, "receipt"));
		else if (*jstr(m, "reason"))
			snprintf(why, sizeof(why), "%s: %s", jstr(m, "decided_by"), jstr(m, "reason"));
		else
			snprintf(why, sizeof(why), "%s: %s", jstr(m, "code"), jstr(m, "detail"));
		table_add(t, row);
	}
	table_print(t, stdout);
	table_destroy(&t);
out:
	json_decref(r);
	return rc;
}

static int inbox_show(int argc, char **argv)
{
	json_t *r, *m, *f;
	char *end;
	long long id;
	size_t i;
	int rc;
	static const char *const fields[] = { "received_at", "sender", "return_path", "message_id", "unit", "report",
					      "period", "outcome", "code", "detail", "receipt", "decided_by", "decided_at",
					      "reason", "path", NULL };

	if (argc != 2)
		return cli_usage_error("inbox show needs the message's number (thiduactl inbox list shows them)%s", "");
	id = strtoll(argv[1], &end, 10);
	if (*end || id <= 0)
		return cli_usage_error("inbox show: '%s' is not a message number", argv[1]);
	r = cli_call(json_pack("{s:s,s:I}", "op", OP_INBOX_SHOW, "message", (json_int_t)id), NULL, 0, &rc);
	if (!r || cl.json)
		goto out;
	m = json_object_get(r, "message");
	printf("message %lld\n", (long long)json_integer_value(json_object_get(m, "id")));
	for (const char *const *k = fields; *k; k++)
		if (*jstr(m, *k))
			printf("  %-12s %s\n", *k, jstr(m, *k));
	printf("  %-12s %s\n", "automatic", json_is_true(json_object_get(m, "automatic")) ? "yes (not answered)" : "no");
	json_array_foreach(json_object_get(m, "files"), i, f)
		printf("  file         %s\n", json_string_value(f) ? json_string_value(f) : "");
	if (*jstr(m, "note"))
		printf("  note:\n%s\n", jstr(m, "note"));
out:
	json_decref(r);
	return rc;
}

/* inbox_act - inbox accept ID | reject ID --reason R | retry ID */
static int inbox_act(const char *what, int argc, char **argv)
{
	const char *reason = NULL;
	long long id = 0;
	json_t *req, *r, *rc_;
	char op[32];
	int rc;

	for (int k = 1; k < argc; k++) {
		char *end;

		if (!strcmp(argv[k], "--reason") && k + 1 < argc && !strcmp(what, "reject")) {
			reason = argv[++k];
		} else if (!id && (id = strtoll(argv[k], &end, 10)) > 0 && !*end) {
			continue;
		} else {
			return cli_usage_error(!strcmp(what, "reject") ? "inbox reject: unexpected '%s' (use 'inbox reject ID --reason TEXT')"
					       : "inbox accept/retry: unexpected '%s' (use 'inbox accept ID' or 'inbox retry ID')", argv[k]);
		}
	}
	if (id <= 0)
		return cli_usage_error("inbox %s needs the message's number (thiduactl inbox list --outcome held shows them)", what);
	snprintf(op, sizeof(op), "inbox.%s", what);
	req = json_pack("{s:s,s:I}", "op", op, "message", (json_int_t)id);
	if (reason)
		json_object_set_new(req, "reason", json_string(reason));
	r = cli_call(req, NULL, 0, &rc);
	if (!r || cl.json)
		goto out;
	rc_ = json_object_get(r, "receipt");
	printf("message %lld: %s", id, jstr(r, "outcome"));
	if (rc_)
		printf(", receipt %s (%s)", jstr(rc_, "number"), json_is_true(json_object_get(rc_, "on_time")) ? "on time" : "late");
	else if (json_object_get(r, "error"))
		printf(": %s", jstr(json_object_get(r, "error"), "message"));
	putchar('\n');
out:
	json_decref(r);
	return rc;
}

int cmd_inbox(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return inbox_list(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return inbox_show(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "accept") || !strcmp(argv[1], "reject") || !strcmp(argv[1], "retry")))
		return inbox_act(argv[1], argc - 1, argv + 1);
	return cli_usage_error("inbox: use 'inbox list [--outcome O]', 'inbox show ID', 'inbox accept ID',"
			       " 'inbox reject ID --reason TEXT' or 'inbox retry ID'%s", "");
}
