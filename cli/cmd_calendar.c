/*
 * cmd_calendar.c - thiduactl's calendar commands: calendar show (one month, day by day:
 * working or not, and the holiday or make-up Saturday behind it) and deadlines (every
 * report period, due as configured and after the Art. 148 roll). One request each
 * (calendar.show, deadlines); --json prints the daemon's reply as is.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_calendar.h"
#include "proto.h"
#include "table.h"

/* day_note - what a day is, for people: the holiday, the make-up day or the weekend */
static const char *day_note(const json_t *day, char *buf, size_t size)
{
	const char *why = jstr(day, "why"), *name = jstr(day, "name");
	const char *unconfirmed = json_is_false(json_object_get(day, "confirmed"))
				  ? " (chưa xác nhận / unconfirmed)" : "";

	if (!strcmp(why, "holiday"))
		snprintf(buf, size, "%s%s", name, unconfirmed);
	else if (!strcmp(why, "make-up working day"))
		snprintf(buf, size, "làm bù (make-up working day): %s%s", name, unconfirmed);
	else if (!strcmp(why, "weekend"))
		snprintf(buf, size, "cuối tuần (weekend)");
	else if (size)
		buf[0] = '\0';
	return buf;
}

/* cmd_calendar_show - one month of the configured calendar */
static int cmd_calendar_show(int argc, char **argv)
{
	static const char *const hdr[] = { "DATE", "DAY", "STATUS", "NOTE" };
	struct table *t;
	json_t *r, *wh, *day;
	size_t i;
	int rc;

	if (argc != 2)
		return cli_usage_error("calendar show needs one month, e.g. 'calendar show 2024-09'%s", "");
	r = cli_call(json_pack("{s:s,s:s}", "op", OP_CALENDAR_SHOW, "month", argv[1]), NULL, 0, &rc);
	if (!r || cl.json)
		goto out;
	wh = json_object_get(r, "working_hours");
	printf("Tháng (month) %s, %s (UTC%s), giờ làm việc (working hours) %s-%s\n", jstr(r, "month"),
	       jstr(r, "timezone"), jstr(r, "utc_offset"), jstr(wh, "start"), jstr(wh, "end"));
	t = table_new(4, hdr);
	json_array_foreach(json_object_get(r, "days"), i, day) {
		char note[512];
		const char *row[] = { jstr(day, "date"), jstr(day, "weekday"),
				      json_is_true(json_object_get(day, "working")) ? "làm việc" : "nghỉ",
				      day_note(day, note, sizeof(note)) };

		table_add(t, row);
	}
	table_print(t, stdout);
	table_destroy(&t);
	printf("%lld working days (ngày làm việc)\n",
	       (long long)json_integer_value(json_object_get(r, "working_days")));
out:
	json_decref(r);
	return rc;
}

/* cmd_calendar - calendar show YYYY-MM */
int cmd_calendar(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("calendar needs a subcommand: 'calendar show YYYY-MM'%s", "");
	if (!strcmp(argv[1], "show"))
		return cmd_calendar_show(argc - 1, argv + 1);
	return cli_usage_error("calendar: unknown subcommand '%s' (show)", argv[1]);
}

/* cmd_deadlines - when each report period is due, as configured and in effect */
int cmd_deadlines(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "report", required_argument, NULL, 'r' }, { "period", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const hdr[] = { "REPORT", "PERIOD", "DUE (configured)", "EFFECTIVE", "REASON" };
	json_t *req = json_pack("{s:s}", "op", OP_DEADLINES), *r, *dl;
	struct table *t;
	size_t i;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': json_object_set_new(req, "report", json_string(optarg)); break;
		case 'p': json_object_set_new(req, "period", json_string(optarg)); break;
		default: json_decref(req); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		json_decref(req);
		return cli_usage_error("deadlines: unexpected argument '%s'", argv[optind]);
	}
	r = cli_call(req, NULL, 0, &rc);
	if (!r || cl.json)
		goto out;
	t = table_new(5, hdr);
	json_array_foreach(json_object_get(r, "deadlines"), i, dl) {
		const char *row[] = { jstr(dl, "report"), jstr(dl, "period"), jstr(dl, "due_date"),
				      jstr(dl, "effective_date"), jstr(dl, "reason") };

		table_add(t, row);
	}
	table_print(t, stdout);
	printf("%zu deadline%s\n", json_array_size(json_object_get(r, "deadlines")),
	       json_array_size(json_object_get(r, "deadlines")) == 1 ? "" : "s");
	table_destroy(&t);
out:
	json_decref(r);
	return rc;
}
