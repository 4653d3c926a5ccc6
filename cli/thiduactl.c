/*
 * thiduactl.c - the command line client: every operator action is one request on the
 * daemon's api socket. Tables for people by default, the daemon's JSON with --json.
 *
 * Exit codes: 0 success; 1 the daemon answered with an error; 2 usage; 3 the daemon
 * could not be reached within the timeout.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "cmd_audit.h"
#include "cmd_backup.h"
#include "cmd_calendar.h"
#include "cmd_download.h"
#include "cmd_keys.h"
#include "cmd_inbox.h"
#include "cmd_principals.h"
#include "cmd_notify.h"
#include "cmd_zalo.h"
#include "cmd_proposals.h"
#include "cmd_reports.h"
#include "cmd_summary.h"
#include "import_file.h"
#include "proto.h"
#include "table.h"
#include "utf8.h"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: thiduactl [-e ENDPOINT] [--json] [--timeout SECONDS] [--as NAME] [--server-key KEY --key FILE] COMMAND ...\n"
		"\n"
		"commands:\n"
		"  status                         the daemon, its clock and its units\n"
		"  units list [--level L] [--kind K] [--under CODE] [--at DATE] [--all]\n"
		"  units show CODE [--at DATE]    (or --codes A,B,...: several units in one request)\n"
		"  units import [--sheet NAME] FILE.csv|FILE.xlsx   add units (all or nothing)\n"
		"  clock show | set TIME | advance DURATION   (set/advance: test daemons only)\n"
		"  config reload                  reload the configuration file (like SIGHUP)\n"
		"  reports                        the report types, their receivers and schedules\n"
		"  submit --unit CODE --report TYPE --period P [--note TEXT] [--request-id ID] FILE...\n"
		"  receipt NUMBER                 show a receipt (BN-2024-000123) again\n"
		"  report file RECEIPT INDEX|NAME|SHA256 -o PATH [--force]\n"
		"                                 write one file of a receipt to PATH (a directory: its own name),\n"
		"                                 checked against its SHA-256; an existing file only with --force\n"
		"  obligations [list] [--unit CODE] [--under CODE] [--report TYPE] [--period P] [--state S]\n"
		"              [--with-files] [EXPORT]   (--with-files: each row's receipt files too)\n"
		"  review accept|return|waive --unit CODE --report TYPE --period P [--reason TEXT]\n"
		"                                 (return and waive need --reason)\n"
		"  completeness --report TYPE --period P [--under CODE] [EXPORT]\n"
		"  calendar show YYYY-MM          the month's working days, days off and make-up Saturdays\n"
		"  deadlines [--report TYPE] [--period P]   due dates as configured and after the roll\n"
		"  schedule --unit CODE           what will be sent to and about a unit, and when\n"
		"  notifications list [--state S] [--unit CODE] [--report TYPE] [--period P] [--limit N] [--before ID]\n"
		"                     [EXPORT]\n"
		"  notifications show ID          one notification, the units it is about, its deliveries\n"
		"  notifications retry ID         send a failed notification again\n"
		"  inbox list [--outcome O]       mail units sent by replying to a reminder (submitted, held, refused)\n"
		"  inbox show ID                  one such message: sender, outcome, files, note, raw file\n"
		"  inbox accept ID                the receiving office takes a held message: it becomes the submission\n"
		"  inbox reject ID --reason TEXT  the receiving office turns a held message away; the sender reads why\n"
		"  inbox retry ID                 run a waiting message again (after a config change, an unlock, a return)\n"
		"  principals invite NAME         a one-time link to set a password for the web page, mailed to its unit\n"
		"  principals passwd NAME         set a password (asked twice; one line from stdin when not a terminal)\n"
		"  principals lock|unlock NAME    a locked principal cannot log in; its sessions end\n"
		"  principals list                every principal: password set, locked, failed logins, last login\n"
		"  notify test --channel NAME [--to ADDRESS]   a real test message; prints the server's answer\n"
		"  channels list                  each channel: enabled or disabled (since, why), queue, last error\n"
		"  channels enable NAME           a disabled channel sends again\n"
		"  zalo authorize --channel NAME --redirect-uri URI   a Zalo OA's first authorisation (PKCE):\n"
		"                                 prints the page to open; then --redirect URL (or --code CODE)\n"
		"                                 exchanges the code and stores the tokens in the daemon\n"
		"  audit list [--unit CODE] [--principal NAME] [--object OBJ] [--since TIME] [--until TIME]\n"
		"             [--limit N] [--before SEQ] [EXPORT]\n"
		"  audit verify                   walk the hash chain; name the first row altered or removed\n"
		"  files verify                   hash every stored file again; name the receipts of those changed\n"
		"  backup FILE | backup --dir DIR [--keep N]\n"
		"                                 an archive of the database and its files, taken while serving;\n"
		"                                 --keep prunes DIR to the newest N (restore: thiduad --restore)\n"
		"  keys generate NAME [--dir DIR] a CURVE key pair: NAME.key (0600) and NAME.pub\n"
		"  propose --programme P --year Y --unit CODE [--level N] [--nominee CODE] [--name NAME]\n"
		"          [--hamlet CODE] [--score C=V ...] [--note TEXT] [--submit] [FILE...]\n"
		"                                 a proposal for a title or award (a draft unless --submit)\n"
		"  proposals list [--programme P] [--year Y] [--stage N|UNIT] [--state S] [--under CODE]\n"
		"                 [--batch N] [--limit N] [--after ID] [EXPORT]\n"
		"  proposals show ID              a proposal: its path, scores, dossier and history\n"
		"  proposal file ID INDEX|NAME|SHA256 -o PATH [--force]\n"
		"                                 write one file of a proposal's dossier to PATH, as report file\n"
		"  proposals submit ID [--score C=V ...] [--note TEXT] [FILE...]   submit, or correct and resubmit\n"
		"  proposals import --programme P --year Y --unit CODE [--level N] [--hamlet CODE] [--draft]\n"
		"                 [--sheet NAME] FILE.csv|FILE.xlsx\n"
		"                                 many nominees at once (all or nothing)\n"
		"  decide approve|return|reject|score ID [--reason TEXT] [--score C=V ...] [--decision-no N]\n"
		"         [--decision-date DATE]  (or --batch N instead of ID: every proposal of an import)\n"
		"  withdraw ID [--reason TEXT]    the proposer takes a proposal back\n"
		"  titles list [--programme P] [--nominee X] [--under CODE] [--valid-at DATE] [--level N]\n"
		"              [--limit N] [--after ID] [EXPORT]\n"
		"  summary --report TYPE --period P --docx FILE [--under CODE] [--template DIR] [--place NAME]\n"
		"          [--authority TEXT] [--position TEXT] [--signer NAME]\n"
		"                                 draft a summary report (BC-TONGHOP) as a Word document\n"
		"\n"
		"EXPORT is --csv (RFC 4180 UTF-8, for programs), --csv --excel (with a byte-order mark, ';' and\n"
		"decimal commas, for Excel in the vi-VN locale) and/or --xlsx FILE (an Excel workbook).\n"
		"Imports take a CSV file or an Excel workbook (.xlsx: its first visible sheet, or --sheet NAME).\n"
		"\n"
		"Over tcp the daemon is reached with CURVE: --server-key (its public key, or a file) and\n"
		"--key (your NAME.key from 'keys generate'); also $THIDUA_SERVER_KEY and $THIDUA_KEY.\n"
		"ENDPOINT defaults to $THIDUA_ENDPOINT or " DEFAULT_ENDPOINT ".\n"
		"--as NAME acts as a principal of the configuration (recorded in the audit log);\n"
		"without it the local administrator acts.\n"
		"TIME is 2024-11-10T09:00:00+07:00 or a date; DURATION is 90m, 36h, 3d, 1w.\n");
}

/* print_status_delivery - the workers connected and the channels disabled */
static void print_status_delivery(json_t *r)
{
	json_t *w;
	size_t i;

	if (!json_array_size(json_object_get(r, "workers")))
		printf("workers:   none connected\n");
	else
		printf("workers:   %zu connected\n", json_array_size(json_object_get(r, "workers")));
	json_array_foreach(json_object_get(r, "workers"), i, w)
		printf("  %s (%s, pid %lld): %lld of %lld jobs in hand\n", jstr(w, "name"), jstr(w, "kind"),
		       (long long)json_integer_value(json_object_get(w, "pid")),
		       (long long)json_integer_value(json_object_get(w, "inflight")),
		       (long long)json_integer_value(json_object_get(w, "capacity")));
	json_array_foreach(json_object_get(r, "disabled_channels"), i, w)
		printf("%s%s (%s) disabled since %s: %s\n", i ? "           " : "DISABLED:  ", jstr(w, "name"), jstr(w, "kind"),
		       jstr(w, "disabled_at"), jstr(w, "reason"));
	if (json_array_size(json_object_get(r, "disabled_channels")))
		printf("           (thiduactl channels list; thiduactl channels enable NAME)\n");
}

/* cmd_status - the daemon at a glance */
static int cmd_status(int argc, char **argv)
{
	json_t *r, *clock, *by;
	const char *k;
	json_t *v;
	size_t i;
	int rc;

	(void)argv;
	if (argc > 1)
		return cli_usage_error("status takes no arguments (got '%s')", argv[1]);
	r = cli_call(json_pack("{s:s}", "op", OP_STATUS), NULL, 0, &rc);
	if (!r || cl.json)
		goto out;
	clock = json_object_get(r, "clock");
	printf("thiduad %s, up %llds\n", jstr(r, "version"),
	       (long long)json_integer_value(json_object_get(r, "uptime_seconds")));
	if (*jstr(r, "movement"))
		printf("movement:  %s\n", jstr(r, "movement"));
	printf("config:    %s\n", jstr(r, "config"));
	printf("database:  %s\n", jstr(r, "database"));
	printf("api:       %s\n", jstr(r, "api"));
	printf("clock:     %s %s%s\n", jstr(clock, "now"), jstr(clock, "timezone"),
	       json_is_true(json_object_get(clock, "fake")) ? " (fake clock: test mode)" : "");
	by = json_object_get(json_object_get(r, "units"), "active_by_level");
	printf("units:    ");
	json_object_foreach(by, k, v) {
		json_int_t a = json_integer_value(json_object_get(json_object_get(json_object_get(r, "units"),
										  "attached_by_level"), k));

		printf(" %s %lld", k, (long long)json_integer_value(v));
		if (a)	/* attached offices and enterprises: no district is left when only they are */
			printf(" (%lld attached)", (long long)a);
	}
	printf("\n");
	json_array_foreach(json_object_get(r, "calendar_unconfirmed"), i, v)
		printf("warning:   %s\n", jstr(v, "warning"));
	print_status_delivery(r);
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
		const char *row[] = { jstr(u, "code"), jstr(u, "name"), jstr(u, "level"), jstr(u, "parent"), jstr(u, "kind") };

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
	json_t *req = json_pack("{s:s}", "op", OP_UNITS_LIST), *r;
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
		return cli_usage_error("units list: unexpected argument '%s'", argv[optind]);
	}
	r = cli_call(req, NULL, 0, &rc);
	if (r && !cl.json) {
		print_units(json_object_get(r, "units"));
		printf("%lld units active on %s\n", (long long)json_integer_value(json_object_get(r, "count")),
		       jstr(r, "at"));
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

/* print_unit - one unit, full form */
static void print_unit(json_t *u)
{
	printf("%-14s%s\n", "code", jstr(u, "code"));
	printf("%-14s%s\n", "name", jstr(u, "name"));
	printf("%-14s%s (%s)%s\n", "level", jstr(u, "level"), jstr(u, "level_name"),
	       json_is_true(json_object_get(u, "attached")) ? ", attached to its parent" : "");
	printf("%-14s%s\n", "kind", jstr(u, "kind"));
	if (*jstr(u, "parent"))
		printf("%-14s%s\n", "parent", jstr(u, "parent"));
	printf("%-14s%s to %s%s\n", "active", *jstr(u, "active_from") ? jstr(u, "active_from") : "always",
	       *jstr(u, "active_to") ? jstr(u, "active_to") : "now",
	       json_is_true(json_object_get(u, "active")) ? "" : " (not active on that date)");
	print_list("successors", json_object_get(u, "successors"));
	print_list("predecessors", json_object_get(u, "predecessors"));
	print_list("emails", json_object_get(u, "emails"));
	print_list("chats", json_object_get(u, "chats"));
	print_list("children", json_object_get(u, "children"));
	printf("%-14s%s\n", "declared at", jstr(u, "source"));
}

/* add_codes - the comma-separated codes of --codes onto the array codes; -1 for an empty one */
static int add_codes(json_t *codes, const char *list)
{
	const char *p = list;

	for (;;) {
		size_t n = strcspn(p, ",");

		if (!n)
			return -1;
		json_array_append_new(codes, json_stringn(p, n));
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

/* cmd_units_show - one unit (CODE), or several in one request (--codes A,B,...) */
static int cmd_units_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, 'a' }, { "codes", required_argument, NULL, 'c' }, { NULL, 0, NULL, 0 },
	};
	json_t *req = json_pack("{s:s}", "op", OP_UNITS_SHOW), *codes = json_array(), *r, *u;
	int opt, rc;
	size_t i;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'a') {
			json_object_set_new(req, "at", json_string(optarg));
		} else if (opt != 'c' || add_codes(codes, optarg)) {
			json_decref(req);
			json_decref(codes);
			return opt == 'c' ? cli_usage_error("units show --codes: '%s' has an empty code; write A,B,C", optarg)
					  : EXIT_USAGE;
		}
	}
	if (json_array_size(codes) ? optind != argc : optind != argc - 1) {
		json_decref(req);
		json_decref(codes);
		return cli_usage_error("units show needs one unit code, or --codes A,B,... and no code%s", "");
	}
	if (json_array_size(codes)) {
		json_object_set_new(req, "codes", codes);
	} else {
		json_object_set_new(req, "code", json_string(argv[optind]));
		json_decref(codes);
	}
	r = cli_call(req, NULL, 0, &rc);
	if (r && !cl.json && json_object_get(r, "units")) {
		json_array_foreach(json_object_get(r, "units"), i, u) {
			if (i)
				printf("\n");
			print_unit(u);
		}
	} else if (r && !cl.json) {
		print_unit(json_object_get(r, "unit"));
	}
	json_decref(r);
	return rc;
}

static int cmd_units_import(int argc, char **argv)
{
	static const struct cli_opt opts[] = { IMPORT_CLI_OPTS, { NULL, NULL, 0, NULL } };
	struct import_file f;
	json_t *r;
	int rc, first = cli_options(argc, argv, opts, NULL, NULL);

	if (first < 0)
		return EXIT_USAGE;
	if (first != argc - 1)
		return cli_usage_error("units import needs one file: CSV, or an Excel workbook (.xlsx) [--sheet NAME]%s", "");
	argv += first - 1;
	if ((rc = import_file_read(&f, argv[1])) == EXIT_OK) {
		r = cli_call(json_pack("{s:s,s:s}", "op", OP_UNITS_IMPORT, "filename", f.f.name), &f.f, 1, &rc);
		if (r && !cl.json)
			printf("imported %lld units from %s%s%s%s\n", (long long)json_integer_value(json_object_get(r, "imported")),
			       argv[1], f.xlsx ? ", sheet '" : "", f.xlsx ? f.sheet.name : "", f.xlsx ? "'" : "");
		json_decref(r);
	}
	import_file_free(&f);
	return rc;
}

static int cmd_units(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("units needs a subcommand: list, show or import%s", "");
	if (!strcmp(argv[1], "list"))
		return cmd_units_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return cmd_units_show(argc - 1, argv + 1);
	if (!strcmp(argv[1], "import"))
		return cmd_units_import(argc - 1, argv + 1);
	return cli_usage_error("units: unknown subcommand '%s' (list, show, import)", argv[1]);
}

static int cmd_clock(int argc, char **argv)
{
	json_t *req, *r;
	int rc;

	if (argc < 2 || !strcmp(argv[1], "show")) {
		if (argc > 2)
			return cli_usage_error("clock show takes no arguments%s", "");
		req = json_pack("{s:s}", "op", OP_CLOCK_SHOW);
	} else if (!strcmp(argv[1], "set") && argc == 3) {
		req = json_pack("{s:s,s:s}", "op", OP_CLOCK_SET, "to", argv[2]);
	} else if (!strcmp(argv[1], "advance") && argc == 3) {
		req = json_pack("{s:s,s:s}", "op", OP_CLOCK_ADVANCE, "by", argv[2]);
	} else {
		return cli_usage_error("clock: use 'clock show', 'clock set TIME' or 'clock advance DURATION'%s", "");
	}
	r = cli_call(req, NULL, 0, &rc);
	if (r && !cl.json)
		printf("%s%s\n", jstr(r, "now"), json_is_true(json_object_get(r, "fake")) ? " (fake clock)" : "");
	json_decref(r);
	return rc;
}

static int cmd_config(int argc, char **argv)
{
	json_t *r;
	int rc;

	if (argc != 2 || strcmp(argv[1], "reload"))
		return cli_usage_error("config: use 'config reload'%s", "");
	r = cli_call(json_pack("{s:s}", "op", OP_CONFIG_RELOAD), NULL, 0, &rc);
	if (r && !cl.json)
		printf("configuration reloaded: %s, %lld units\n", jstr(r, "config"),
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
	{ "reports", cmd_reports },
	{ "submit", cmd_submit },
	{ "receipt", cmd_receipt },
	{ "report", cmd_report },
	{ "proposal", cmd_proposal },
	{ "obligations", cmd_obligations },
	{ "review", cmd_review },
	{ "completeness", cmd_completeness },
	{ "calendar", cmd_calendar },
	{ "deadlines", cmd_deadlines },
	{ "schedule", cmd_schedule },
	{ "notifications", cmd_notifications },
	{ "notify", cmd_notify },
	{ "channels", cmd_channels },
	{ "audit", cmd_audit },
	{ "files", cmd_files },
	{ "backup", cmd_backup },
	{ "keys", cmd_keys },
	{ "propose", cmd_propose },
	{ "proposals", cmd_proposals },
	{ "decide", cmd_decide },
	{ "withdraw", cmd_withdraw },
	{ "titles", cmd_titles },
	{ "summary", cmd_summary },
	{ "inbox", cmd_inbox },
	{ "principals", cmd_principals },
	{ "zalo", cmd_zalo },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, 'e' }, { "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' }, { "as", required_argument, NULL, 'a' },
		{ "server-key", required_argument, NULL, 'S' }, { "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *env = getenv("THIDUA_ENDPOINT");
	int opt;

	if (env && *env)
		cl.endpoint = env;
	if ((env = getenv("THIDUA_SERVER_KEY")) && *env)
		cl.server_key = env;
	if ((env = getenv("THIDUA_KEY")) && *env)
		cl.key_file = env;
	while ((opt = getopt_long(argc, argv, "+e:jt:h", opts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'e': cl.endpoint = optarg; break;
		case 'j': cl.json = 1; break;
		case 'a': cl.as = optarg; break;
		case 'S': cl.server_key = optarg; break;
		case 'K': cl.key_file = optarg; break;
		case 't':
			cl.timeout = strtod(optarg, &end);
			if (*end || cl.timeout <= 0 || cl.timeout > 3600)
				return cli_usage_error("--timeout '%s' must be a number of seconds between 0 and 3600", optarg);
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
			return cli_usage_error("argument '%s' is not valid UTF-8", argv[i]);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			return commands[i].fn(argc - optind, argv + optind);
	return cli_usage_error("unknown command '%s'", argv[optind]);
}
