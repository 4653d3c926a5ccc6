/*
 * cmd_notify.c - thiduactl's notification commands: schedule (what the deadline engine
 * will send to and about a unit, and when, and what is already queued for it) and
 * notifications list|show (the outbox). One request each (schedule, notifications.list,
 * notifications.show); times are printed as the daemon returns them, in the movement's
 * zone; --json prints the daemon's reply as is.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_notify.h"
#include "export.h"
#include "period_text.h"
#include "proto.h"
#include "table.h"

#define CELL_UNITS 3		/* units named in a table cell before "+N more" */

/* jint - an integer member, 0 when missing */
static long long jint(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* jperiod - the period member: a string, or a number written into buf */
static const char *jperiod(const json_t *o, char *buf, size_t size)
{
	const json_t *v = json_object_get(o, "period");

	if (json_is_integer(v))
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, size, "%s", json_string_value(v) ? json_string_value(v) : "");
	return buf;
}

/* units_cell - "to A, B" or "about A, B, C +12 more" from an array of {"unit"} */
static const char *units_cell(const char *prefix, const json_t *list, char *buf, size_t size)
{
	size_t n = json_array_size(list), len;
	int w = snprintf(buf, size, "%s", prefix);

	len = w > 0 ? (size_t)w : 0;
	for (size_t i = 0; i < n && i < CELL_UNITS && len < size; i++) {
		w = snprintf(buf + len, size - len, "%s%s", i ? ", " : " ", jstr(json_array_get(list, i), "unit"));
		len += w > 0 ? (size_t)w : 0;
	}
	if (n > CELL_UNITS && len < size)
		snprintf(buf + len, size - len, " +%zu more (%zu units)", n - CELL_UNITS, n);
	return buf;
}

/* schedule_row - one step to come: about the unit (to = recipients) or reaching it */
static void schedule_row(struct table *t, const json_t *e, int about_others)
{
	char period[64], who[512];
	const char *row[] = { jstr(e, "moment"), jstr(e, "step"), jstr(e, "kind"), jstr(e, "report"),
			      jperiod(e, period, sizeof(period)),
			      about_others ? units_cell("about", json_object_get(e, "about"), who, sizeof(who))
					   : units_cell("to", json_object_get(e, "recipients"), who, sizeof(who)) };

	table_add(t, row);
}

/* print_pending - the messages queued for the unit */
static void print_pending(json_t *list)
{
	static const char *const hdr[] = { "ID", "SEND AFTER", "STEP", "KIND", "REPORT", "PERIOD", "UNITS" };
	struct table *t;
	size_t i;
	json_t *m;

	if (!json_array_size(list))
		return;
	printf("\nĐang chờ gửi (queued):\n");
	t = table_new(7, hdr);
	json_array_foreach(list, i, m) {
		char id[24], units[24], period[64];
		const char *row[] = { id, jstr(m, "send_after"), jstr(m, "step"), jstr(m, "kind"), jstr(m, "report"),
				      jperiod(m, period, sizeof(period)), units };

		snprintf(id, sizeof(id), "%lld", jint(m, "id"));
		snprintf(units, sizeof(units), "%lld", jint(m, "units"));
		table_add(t, row);
	}
	table_print(t, stdout);
	table_destroy(&t);
}

/* cmd_schedule - the steps to come for and about a unit, merged in time order */
int cmd_schedule(int argc, char **argv)
{
	static const struct option opts[] = { { "unit", required_argument, NULL, 'u' }, { NULL, 0, NULL, 0 } };
	static const char *const hdr[] = { "WHEN", "STEP", "KIND", "REPORT", "PERIOD", "TO/ABOUT" };
	json_t *req = json_pack("{s:s}", "op", OP_SCHEDULE), *r, *about, *to;
	size_t i = 0, k = 0;
	struct table *t;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'u') {
			json_decref(req);
			return EXIT_USAGE;
		}
		json_object_set_new(req, "unit", json_string(optarg));
	}
	if (optind < argc || !json_object_get(req, "unit")) {
		json_decref(req);
		return cli_usage_error("schedule needs --unit CODE and nothing else%s", "");
	}
	r = cli_call(req, NULL, 0, &rc);
	if (!r || cl.json)
		goto out;
	about = json_object_get(r, "about");
	to = json_object_get(r, "to");
	printf("%s  %s (now %s)\n", jstr(r, "unit"), jstr(r, "name"), jstr(r, "now"));
	t = table_new(6, hdr);
	/* both lists come sorted by moment; ISO times in one zone sort as text */
	while (i < json_array_size(about) || k < json_array_size(to)) {
		const json_t *a = json_array_get(about, i), *b = json_array_get(to, k);

		if (a && (!b || strcmp(jstr(a, "moment"), jstr(b, "moment")) <= 0)) {
			schedule_row(t, a, 0);
			i++;
		} else {
			schedule_row(t, b, 1);
			k++;
		}
	}
	if (i + k)
		table_print(t, stdout);
	table_destroy(&t);
	printf("%zu step%s to come about its own reports, %zu about other units\n", i, i == 1 ? "" : "s", k);
	print_pending(json_object_get(r, "pending"));
out:
	json_decref(r);
	return rc;
}

static const struct export_label notification_states[] = {
	{ "pending", "chờ gửi" }, { "leased", "đang gửi" }, { "sent", "đã gửi" }, { "spooled", "đã ghi ra thư mục" },
	{ "failed", "gửi lỗi" }, { NULL, NULL },
};

static const struct export_label yes_no[] = { { "true", "có" }, { "false", "không" }, { NULL, NULL } };

/* export_notifications - the outbox rows, for spreadsheets */
static int export_notifications(const json_t *req, const json_t *r)
{
	static const struct export_col cols[] = {
		{ "id", "Số", EX_INT, NULL }, { "recipient", "Gửi đến", EX_TEXT, NULL },
		{ "recipient_name", "Tên đơn vị nhận", EX_TEXT, NULL }, { "kind", "Loại", EX_TEXT, NULL },
		{ "report", "Báo cáo, phong trào", EX_TEXT, NULL }, { "period", "Kỳ", EX_TEXT, NULL },
		{ "step", "Bước", EX_TEXT, NULL }, { "moment", "Thời điểm", EX_TIME, NULL },
		{ "send_after", "Gửi từ lúc", EX_TIME, NULL }, { "state", "Trạng thái", EX_TEXT, notification_states },
		{ "late", "Gửi bù", EX_TEXT, yes_no }, { "channel", "Kênh", EX_TEXT, NULL },
		{ "sent_at", "Gửi lúc", EX_TIME, NULL }, { "attempts", "Số lần gửi", EX_INT, NULL },
		{ "error", "Lỗi", EX_TEXT, NULL }, { "units", "Số đơn vị", EX_INT, NULL },
	};
	char period[96];
	struct export_spec spec = {
		.sheet = "Thông báo", .title = "Thông báo, nhắc hạn đã lập",
		.report = json_string_value(json_object_get(req, "report")), .unit = json_string_value(json_object_get(req, "unit")),
		.cols = cols, .ncols = sizeof(cols) / sizeof(cols[0]), .rows = json_object_get(r, "notifications"),
		.more = json_is_true(json_object_get(r, "more")),
	};

	if (json_object_get(req, "period")) {
		period_words(jstr(req, "period"), period, sizeof(period));
		spec.period = period;
	}
	return export_write(&spec);
}

/* cmd_notifications_list - outbox messages, newest first */
static int cmd_notifications_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' }, { "unit", required_argument, NULL, 'u' },
		{ "report", required_argument, NULL, 'r' }, { "period", required_argument, NULL, 'p' },
		{ "limit", required_argument, NULL, 'l' }, { "before", required_argument, NULL, 'b' },
		{ "csv", no_argument, NULL, 'c' }, { "excel", no_argument, NULL, 'E' }, { "xlsx", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const hdr[] = { "ID", "WHEN", "STATE", "KIND", "TO", "REPORT", "PERIOD", "UNITS", "ERROR" };
	json_t *req = json_pack("{s:s}", "op", OP_NOTIFICATIONS_LIST), *r, *n, *filters;
	struct table *t;
	long long limit;
	char *end;
	size_t i;
	int opt, rc, errors;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': json_object_set_new(req, "state", json_string(optarg)); break;
		case 'u': json_object_set_new(req, "unit", json_string(optarg)); break;
		case 'r': json_object_set_new(req, "report", json_string(optarg)); break;
		case 'p': json_object_set_new(req, "period", json_string(optarg)); break;
		case 'l':
		case 'b':
			errno = 0;
			limit = strtoll(optarg, &end, 10);
			if (errno || end == optarg || *end || limit < 1) {
				json_decref(req);
				return cli_usage_error(opt == 'l' ? "--limit '%s' must be a positive whole number"
						       : "--before '%s' must be a notification id", optarg);
			}
			json_object_set_new(req, opt == 'l' ? "limit" : "before", json_integer(limit));
			break;
		case 'c': export_opt_csv(req, optarg); break;
		case 'E': export_opt_excel(req, optarg); break;
		case 'x':
			if (export_opt_xlsx(req, optarg)) {
				json_decref(req);
				return EXIT_USAGE;
			}
			break;
		default: json_decref(req); return EXIT_USAGE;
		}
	}
	if (optind < argc || export_check()) {
		json_decref(req);
		return optind >= argc ? EXIT_USAGE : cli_usage_error("notifications list: unexpected argument '%s'", argv[optind]);
	}
	filters = json_deep_copy(req);
	r = cli_call(req, NULL, 0, &rc);
	if (r && export_wanted())
		rc = export_notifications(filters, r);
	json_decref(filters);
	if (!r || cl.json || export_wanted())
		goto out;
	/* the error column when a listed message failed: what went wrong, without a show each */
	errors = 0;
	json_array_foreach(json_object_get(r, "notifications"), i, n)
		errors |= *jstr(n, "error") != 0;
	t = table_new(errors ? 9 : 8, hdr);
	json_array_foreach(json_object_get(r, "notifications"), i, n) {
		char id[24], state[48], units[24], period[64];
		/* when it may leave, or when it left (a pending one's sent_at is its last failed try) */
		const char *when = !strcmp(jstr(n, "state"), "pending") || !*jstr(n, "sent_at")
				   ? jstr(n, "send_after") : jstr(n, "sent_at");
		const char *row[] = { id, when, state, jstr(n, "kind"), jstr(n, "recipient"), jstr(n, "report"),
				      jperiod(n, period, sizeof(period)), units, jstr(n, "error") };

		snprintf(id, sizeof(id), "%lld", jint(n, "id"));
		snprintf(state, sizeof(state), "%s%s", jstr(n, "state"),
			 json_is_true(json_object_get(n, "late")) ? " (late)" : "");
		snprintf(units, sizeof(units), "%lld", jint(n, "units"));
		table_add(t, row);
	}
	if (json_array_size(json_object_get(r, "notifications")))
		table_print(t, stdout);
	table_destroy(&t);
	printf("%lld notification%s", jint(r, "count"), jint(r, "count") == 1 ? "" : "s");
	if (json_is_true(json_object_get(r, "more")) && (n = json_array_get(json_object_get(r, "notifications"), i - 1)))
		printf(" (there are more: the next page with --before %lld, or filter)", jint(n, "id"));
	printf("\n");
out:
	json_decref(r);
	return rc;
}

/* kv - one "key: value" line, values aligned */
static void kv(const char *key, const char *value)
{
	printf("%-16s%s\n", key, value);
}

/* cmd_notifications_show - one message and the units it is about */
static int cmd_notifications_show(int argc, char **argv)
{
	static const char *const hdr[] = { "UNIT", "NAME", "DUE", "STATE" };
	json_t *r, *n, *u;
	struct table *t;
	long long id;
	char *end, buf[64];
	size_t i;
	int rc;

	if (argc != 2)
		return cli_usage_error("notifications show needs one notification id, e.g. 'notifications show 12'%s", "");
	errno = 0;
	id = strtoll(argv[1], &end, 10);
	if (errno || end == argv[1] || *end || id < 1)
		return cli_usage_error("'%s' is not a notification id (a positive whole number)", argv[1]);
	r = cli_call(json_pack("{s:s,s:I}", "op", OP_NOTIFICATIONS_SHOW, "notification", (json_int_t)id), NULL, 0, &rc);
	if (!r || cl.json)
		goto out;
	n = json_object_get(r, "notification");
	snprintf(buf, sizeof(buf), "%lld", jint(n, "id"));
	kv("id:", buf);
	printf("%-16s%s  %s\n", "recipient:", jstr(n, "recipient"), jstr(n, "recipient_name"));
	kv("kind:", jstr(n, "kind"));
	kv("report:", jstr(n, "report"));
	kv("period:", jperiod(n, buf, sizeof(buf)));
	kv("step:", jstr(n, "step"));
	kv("moment:", jstr(n, "moment"));
	kv("created_at:", jstr(n, "created_at"));
	kv("send_after:", jstr(n, "send_after"));
	kv("state:", jstr(n, "state"));
	kv("late:", json_is_true(json_object_get(n, "late")) ? "yes (caught up after downtime)" : "no");
	kv("channel:", *jstr(n, "channel") ? jstr(n, "channel") : "-");
	kv("path:", *jstr(n, "path") ? jstr(n, "path") : "-");
	kv("sent_at:", *jstr(n, "sent_at") ? jstr(n, "sent_at") : "-");
	snprintf(buf, sizeof(buf), "%lld", jint(n, "attempts"));
	kv("attempts:", buf);
	kv("error:", *jstr(n, "error") ? jstr(n, "error") : "-");
	kv("dedup_key:", jstr(n, "dedup_key"));
	printf("about %zu unit%s:\n", json_array_size(json_object_get(n, "about")),
	       json_array_size(json_object_get(n, "about")) == 1 ? "" : "s");
	t = table_new(4, hdr);
	json_array_foreach(json_object_get(n, "about"), i, u) {
		const char *row[] = { jstr(u, "unit"), jstr(u, "name"), jstr(u, "due_at"), jstr(u, "state") };

		table_add(t, row);
	}
	table_print(t, stdout);
	table_destroy(&t);
	json_array_foreach(json_object_get(n, "deliveries"), i, u) {
		printf("delivery %lld via %s (%s): %s, %lld attempt%s", jint(u, "id"), jstr(u, "channel"), jstr(u, "kind"),
		       jstr(u, "state"), jint(u, "attempts"), jint(u, "attempts") == 1 ? "" : "s");
		if (json_is_integer(json_object_get(u, "code")))
			printf(", code %lld", jint(u, "code"));
		if (*jstr(u, "answer"))
			printf(", answer: %s", jstr(u, "answer"));
		else if (*jstr(u, "error"))
			printf(", error: %s", jstr(u, "error"));
		if (json_is_integer(json_object_get(u, "fallback")))
			printf("; sent to the unit's e-mail instead (delivery %lld)", jint(u, "fallback"));
		printf("\n");
		if (!strcmp(jstr(u, "state"), "pending"))
			printf("  next attempt:  %s\n", jstr(u, "next_at"));
		if (!strcmp(jstr(u, "state"), "pending") || !strcmp(jstr(u, "state"), "leased"))
			printf("  expires:       %s (given up then)\n", jstr(u, "expires_at"));
	}
out:
	json_decref(r);
	return rc;
}

/* parse_id - a positive notification id argument */
static int parse_id(const char *arg, long long *id)
{
	char *end;

	errno = 0;
	*id = strtoll(arg, &end, 10);
	return errno || end == arg || *end || *id < 1 ? -1 : 0;
}

/* cmd_notifications_retry - a dead letter back to the queue */
static int cmd_notifications_retry(int argc, char **argv)
{
	long long id;
	json_t *r;
	int rc;

	if (argc != 2 || parse_id(argv[1], &id))
		return cli_usage_error("notifications retry needs one notification id%s", "");
	r = cli_call(json_pack("{s:s,s:I}", "op", OP_NOTIFICATIONS_RETRY, "notification", (json_int_t)id), NULL, 0, &rc);
	if (r && !cl.json)
		printf("notification %lld queued again (%lld deliveries)\n", id, jint(r, "requeued"));
	json_decref(r);
	return rc;
}

/* cmd_notify_test - send a test message through a channel and print the server's answer;
 * the delivery runs in a worker, so this watches the notification until it settles */
int cmd_notify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "channel", required_argument, NULL, 'c' }, { "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *channel = NULL, *to = NULL;
	json_t *r, *req;
	long long id;
	int opt, rc, polls;
	char last[16] = "";

	if (argc < 2 || strcmp(argv[1], "test"))
		return cli_usage_error("notify: use 'notify test --channel NAME [--to ADDRESS]'%s", "");
	optind = 0;
	while ((opt = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		if (opt == 'c')
			channel = optarg;
		else if (opt == 't')
			to = optarg;
		else
			return EXIT_USAGE;
	}
	if (!channel)
		return cli_usage_error("notify test needs --channel NAME (and --to ADDRESS for an smtp channel)%s", "");
	req = json_pack("{s:s,s:s}", "op", OP_NOTIFY_TEST, "channel", channel);
	if (to)
		json_object_set_new(req, "to", json_string(to));
	{
		int saved = cl.json;	/* with --json, only the final answer is printed */

		cl.json = 0;
		r = cli_call(req, NULL, 0, &rc);
		cl.json = saved;
	}
	if (!r)
		return rc;
	id = jint(r, "notification");
	json_decref(r);
	/* watch the delivery: the client's --timeout bounds the whole wait */
	polls = (int)(cl.timeout * 10);
	for (int i = 0; i <= polls; i++) {
		last[0] = 0;
		json_t *n, *dl;
		const char *state;
		int saved = cl.json;

		cl.json = 0;
		r = cli_call(json_pack("{s:s,s:I}", "op", OP_NOTIFICATIONS_SHOW, "notification", (json_int_t)id), NULL, 0, &rc);
		cl.json = saved;
		if (!r)
			return rc;
		n = json_object_get(r, "notification");
		dl = json_array_get(json_object_get(n, "deliveries"), 0);
		state = jstr(dl, "state");
		snprintf(last, sizeof(last), "%s", state);
		if (!strcmp(state, "sent") || !strcmp(state, "failed") || (!strcmp(state, "pending") && jint(dl, "attempts") > 0)) {
			if (cl.json) {
				char *text = json_dumps(r, JSON_INDENT(2));

				puts(text);
				free(text);
			} else {
				printf("%s through %s: %s", !strcmp(state, "sent") ? "sent" : !strcmp(state, "failed") ? "FAILED"
				       : "not yet sent (will retry)", jstr(dl, "channel"), state);
				if (json_is_integer(json_object_get(dl, "code")))
					printf(", server answered %lld", jint(dl, "code"));
				if (*jstr(dl, "answer"))
					printf(": %s", jstr(dl, "answer"));
				else if (*jstr(dl, "error"))
					printf(": %s", jstr(dl, "error"));
				printf("\n");
			}
			rc = !strcmp(state, "sent") ? EXIT_OK : EXIT_DAEMON_ERROR;
			json_decref(r);
			return rc;
		}
		json_decref(r);
		usleep(100000);
	}
	if (!strcmp(last, "leased"))	/* a worker has it: the server has not answered yet */
		fprintf(stderr, "thiduactl: channel %s: the server gave no answer within %g seconds (it is slow or not"
			" answering); the worker is still waiting for it, within the channel's timeout:"
			" thiduactl notifications show %lld tells the outcome\n", channel, cl.timeout, id);
	else
		fprintf(stderr, "thiduactl: notification %lld was not handed to a worker within %g seconds: is a mail or"
			" webhook worker running? (thiduactl status lists them)\n", id, cl.timeout);
	return EXIT_DAEMON_ERROR;
}

/* cmd_notifications - notifications list [filters] | notifications show ID */
int cmd_notifications(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("notifications needs a subcommand: 'notifications list' or 'notifications show ID'%s", "");
	if (!strcmp(argv[1], "list"))
		return cmd_notifications_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return cmd_notifications_show(argc - 1, argv + 1);
	if (!strcmp(argv[1], "retry"))
		return cmd_notifications_retry(argc - 1, argv + 1);
	return cli_usage_error("notifications: unknown subcommand '%s' (list, show, retry)", argv[1]);
}

/* cmd_channels - channels list | channels enable NAME */
int cmd_channels(int argc, char **argv)
{
	static const char *const hdr[] = { "NAME", "KIND", "STATE", "SINCE", "REASON", "QUEUED", "LAST ERROR" };
	json_t *r, *c;
	struct table *t;
	size_t i;
	int rc;

	if (argc == 3 && !strcmp(argv[1], "enable")) {
		r = cli_call(json_pack("{s:s,s:s}", "op", OP_CHANNELS_ENABLE, "channel", argv[2]), NULL, 0, &rc);
		if (r && !cl.json)
			printf(json_is_true(json_object_get(r, "was_disabled")) ? "channel %s enabled: its messages go out again\n"
			       : "channel %s was not disabled; nothing changed\n", jstr(r, "channel"));
		json_decref(r);
		return rc;
	}
	if (argc != 2 || strcmp(argv[1], "list"))
		return cli_usage_error("channels: use 'channels list' or 'channels enable NAME'%s", "");
	r = cli_call(json_pack("{s:s}", "op", OP_CHANNELS_LIST), NULL, 0, &rc);
	if (!r || cl.json)
		goto out;
	t = table_new(7, hdr);
	json_array_foreach(json_object_get(r, "channels"), i, c) {
		char queued[48], state[32], err[512];
		const char *row[] = { jstr(c, "name"), jstr(c, "kind"), state, jstr(c, "disabled_at"),
				      !strcmp(jstr(c, "state"), "disabled") ? jstr(c, "reason") : "", queued, err };

		snprintf(state, sizeof(state), "%s%s", jstr(c, "state"), json_is_true(json_object_get(c, "operator")) ? " (operator)" : "");
		snprintf(queued, sizeof(queued), "%lld", jint(c, "queued") + jint(c, "in_flight"));
		snprintf(err, sizeof(err), "%s%s%s", jstr(c, "last_error_at"), *jstr(c, "last_error_at") ? " " : "",
			 jstr(c, "last_error"));
		table_add(t, row);
	}
	table_print(t, stdout);
	table_destroy(&t);
out:
	json_decref(r);
	return rc;
}
