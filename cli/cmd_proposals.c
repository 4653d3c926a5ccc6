/*
 * cmd_proposals.c - thiduactl's approval workflow commands: propose, proposals
 * list|show|submit|import, decide, withdraw and titles list. Each is one request on the
 * api socket (proposal.create, proposals.list, proposal.show, proposal.submit,
 * proposals.import, proposal.decide, proposal.withdraw, titles.list). People get blocks
 * and tables labelled in Vietnamese with the English word beside; scripts get --json or
 * --csv. --as NAME (a global option) acts as a principal of the configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_proposals.h"
#include "export.h"
#include "import_file.h"
#include "proto.h"
#include "table.h"
#include "xalloc.h"

#define LABEL_WIDTH 26

/* jint - an integer member, 0 when missing */
static long long jint(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* field - "  label  value", labels padded by display width */
static void field(const char *label, const char *value)
{
	size_t w = text_width(label);

	printf("  %s%*s%s\n", label, (int)(w < LABEL_WIDTH ? LABEL_WIDTH - w : 1), "", value);
}

/* state_label - a proposal state for people */
static const char *state_label(const char *state)
{
	static const struct { const char *state, *label; } labels[] = {
		{ "draft", "dự thảo (draft)" },
		{ "submitted", "đang xét (submitted)" },
		{ "returned", "trả lại (returned)" },
		{ "rejected", "không công nhận (rejected)" },
		{ "withdrawn", "đã rút (withdrawn)" },
		{ "granted", "đã công nhận (granted)" },
	};

	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (!strcmp(state, labels[i].state))
			return labels[i].label;
	return state;
}

/* add_score - --score "C=V" into the request's scores; -1 on a malformed argument */
static int add_score(json_t *req, const char *arg)
{
	const char *eq = strchr(arg, '=');
	json_t *scores = json_object_get(req, "scores");
	char *key;

	if (!eq || eq == arg || !eq[1]) {
		cli_usage_error("--score '%s' must be CRITERION=VALUE, e.g. TC1=25 or TC2=yes", arg);
		return -1;
	}
	if (!scores) {
		scores = json_object();
		json_object_set_new(req, "scores", scores);
	}
	key = xstrndup(arg, (size_t)(eq - arg));
	json_object_set_new(scores, key, json_string(eq + 1));
	free(key);
	return 0;
}

/* parse_id - a proposal or batch number */
static int parse_id(const char *s, long long *id)
{
	char *end;

	*id = strtoll(s, &end, 10);
	if (end == s || *end || *id < 1)
		return cli_usage_error("'%s' is not a proposal number (a whole number such as 12)", s);
	return 0;
}

/* print_proposal - a proposal as a block: who, what, where it stands, its path, history */
static void print_proposal(const json_t *p)
{
	json_t *x;
	size_t i;
	char buf[1024];

	if (!strcmp(jstr(p, "kind"), "award"))
		printf("Hồ sơ số %lld: %s năm %lld\n", jint(p, "id"), jstr(p, "programme_name"), jint(p, "year"));
	else
		printf("Hồ sơ số %lld: %s năm %lld, cấp độ %lld\n", jint(p, "id"), jstr(p, "programme_name"), jint(p, "year"),
		       jint(p, "level"));
	/* a nominee without a code of its own is its name: said once */
	snprintf(buf, sizeof(buf), "%s%s%s%s%s", strcmp(jstr(p, "nominee"), jstr(p, "nominee_name")) ? jstr(p, "nominee") : "",
		 strcmp(jstr(p, "nominee"), jstr(p, "nominee_name")) ? "  " : "", jstr(p, "nominee_name"),
		 *jstr(p, "place") ? ", " : "", jstr(p, "place"));
	field("Đối tượng (nominee)", buf);
	snprintf(buf, sizeof(buf), "%s  %s", jstr(p, "proposer"), jstr(p, "proposer_name"));
	field("Đơn vị đề nghị (proposer)", buf);
	field("Trạng thái (state)", state_label(jstr(p, "state")));
	if (!strcmp(jstr(p, "state"), "submitted")) {
		snprintf(buf, sizeof(buf), "%lld/%lld  %s  %s", jint(p, "stage"), jint(p, "stages"), jstr(p, "decider"),
			 jstr(p, "decider_name"));
		field("Bước (stage)", buf);
		snprintf(buf, sizeof(buf), "%s%s", jstr(p, "due_at"),
			 json_is_true(json_object_get(p, "overdue")) ? "  QUÁ HẠN (OVERDUE)" : "");
		field("Hạn xét (due)", buf);
	}
	if (*jstr(p, "reason"))
		field("Lý do (reason)", jstr(p, "reason"));
	if ((x = json_object_get(p, "title"))) {
		json_t *ex;

		if (!strcmp(jstr(x, "kind"), "award"))	/* được tặng: no validity period */
			snprintf(buf, sizeof(buf), "%s ngày %s, khen thưởng (award)", jstr(x, "decision_no"), jstr(x, "decision_date"));
		else
			snprintf(buf, sizeof(buf), "%s ngày %s, hiệu lực %s đến %s", jstr(x, "decision_no"), jstr(x, "decision_date"),
				 jstr(x, "valid_from"), jstr(x, "valid_to"));
		field("Quyết định (decision)", buf);
		json_array_foreach(json_object_get(x, "exception"), i, ex) {
			snprintf(buf, sizeof(buf), "bước %lld, %s, %s: %s", jint(ex, "stage"), jstr(ex, "principal"), jstr(ex, "at"),
				 jstr(ex, "reason"));
			field("Xét đặc cách (exception)", buf);
		}
	}
	if (json_object_get(p, "batch") && !json_is_null(json_object_get(p, "batch"))) {
		snprintf(buf, sizeof(buf), "%lld, dòng %lld", jint(p, "batch"), jint(p, "line"));
		field("Nhập từ tệp (batch)", buf);
	}
	if ((x = json_object_get(p, "assessment")) && json_object_size(json_object_get(x, "scores"))) {
		snprintf(buf, sizeof(buf), "%g/%lld điểm, %s%s%s", json_number_value(json_object_get(x, "total")), jint(x, "max"),
			 json_is_true(json_object_get(x, "passed")) ? "đạt (passes)" : "chưa đạt (does not pass)",
			 json_is_true(json_object_get(x, "passed")) ? "" : ": ", jstr(x, "why"));
		field("Đánh giá (assessment)", buf);
	}
	json_array_foreach(json_object_get(p, "files"), i, x) {
		snprintf(buf, sizeof(buf), "v%lld  %s  %lld bytes  %.16s", jint(x, "version"), jstr(x, "name"), jint(x, "size"),
			 jstr(x, "sha256"));
		field(i ? "" : "Hồ sơ (files)", buf);
	}
	if (json_array_size(json_object_get(p, "path"))) {
		printf("  Các bước (path):\n");
		json_array_foreach(json_object_get(p, "path"), i, x) {
			json_t *who = json_object_get(x, "may_decide"), *w;
			size_t k, used;

			used = (size_t)snprintf(buf, sizeof(buf), "    %lld. %-16s %s %s (%s, %lld ngày làm việc):", jint(x, "stage"),
						jstr(x, "status"), jstr(x, "unit"), jstr(x, "unit_name"), jstr(x, "role"), jint(x, "days"));
			json_array_foreach(who, k, w)
				if (used < sizeof(buf))
					used += (size_t)snprintf(buf + used, sizeof(buf) - used, " %s", json_string_value(w));
			if (!json_array_size(who) && used < sizeof(buf))
				snprintf(buf + used, sizeof(buf) - used, " (chưa khai báo người quyết định / no principal configured)");
			printf("%s\n", buf);
		}
	}
	if (json_array_size(json_object_get(p, "history"))) {
		printf("  Quá trình (history):\n");
		json_array_foreach(json_object_get(p, "history"), i, x) {
			printf("    %s  %-10s %-16s bước %lld%s%s%s%s%s%s\n", jstr(x, "at"), jstr(x, "action"), jstr(x, "principal"),
			       jint(x, "stage"), *jstr(x, "decider") ? " " : "", jstr(x, "decider"),
			       *jstr(x, "reason") ? "  lý do: " : "", jstr(x, "reason"),
			       *jstr(x, "decision_no") ? "  QĐ " : "", jstr(x, "decision_no"));
		}
	}
}

/* send_proposal - req (stolen) with the dossier files named by paths; prints the proposal */
static int send_proposal(json_t *req, int n, char **paths)
{
	struct cli_files f;
	json_t *r;
	int rc = EXIT_USAGE;

	if (cli_files_read(&f, n, paths, req) == 0) {
		r = cli_call(req, f.files, f.n, &rc);
		req = NULL;
		if (r && !cl.json)
			print_proposal(json_object_get(r, "proposal"));
		json_decref(r);
	}
	cli_files_free(&f);
	json_decref(req);
	return rc;
}

/* cmd_propose - a new proposal: a draft, or submitted at once with --submit */
int cmd_propose(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "programme", "programme", 0, NULL }, { "year", "year", 0, NULL }, { "level", "level", 0, NULL },
		{ "unit", "unit", 0, NULL }, { "nominee", "nominee", 0, NULL }, { "name", "nominee_name", 0, NULL },
		{ "hamlet", "hamlet", 0, NULL }, { "score", NULL, 0, add_score }, { "note", "note", 0, NULL },
		{ "submit", "submit", 1, NULL }, { NULL, NULL, 0, NULL },
	};
	json_t *req = json_pack("{s:s}", "op", OP_PROPOSAL_CREATE);
	int first = cli_options(argc, argv, opts, req, NULL);

	if (first < 0) {
		json_decref(req);
		return EXIT_USAGE;
	}
	if (!json_object_get(req, "programme") || !json_object_get(req, "year") || !json_object_get(req, "unit")) {
		json_decref(req);
		return cli_usage_error("propose needs --programme CODE, --year YYYY and --unit CODE (the proposing unit)%s", "");
	}
	return send_proposal(req, argc - first, argv + first);
}

static const struct export_label proposal_states[] = {
	{ "draft", "dự thảo" }, { "submitted", "đang xét" }, { "returned", "trả lại" }, { "rejected", "không công nhận" },
	{ "withdrawn", "đã rút" }, { "granted", "đã công nhận" }, { NULL, NULL },
};

/* programme_period - "phong trào P, năm Y" of the filters, into buf (NULL: no filter) */
static const char *programme_text(const json_t *req, char *buf, size_t size)
{
	if (!json_object_get(req, "programme"))
		return NULL;
	snprintf(buf, size, "phong trào %s", jstr(req, "programme"));
	return buf;
}

/* export_proposals - every column of the proposals, for spreadsheets */
static int export_proposals(const json_t *req, const json_t *list)
{
	static const struct export_col cols[] = {
		{ "id", "Số hồ sơ", EX_INT, NULL }, { "programme", "Phong trào", EX_TEXT, NULL },
		{ "year", "Năm", EX_INT, NULL }, { "level", "Cấp độ", EX_INT, NULL },
		{ "nominee", "Mã đối tượng", EX_TEXT, NULL }, { "nominee_name", "Tên đối tượng", EX_TEXT, NULL },
		{ "place", "Nơi", EX_TEXT, NULL }, { "proposer", "Đơn vị đề nghị", EX_TEXT, NULL },
		{ "state", "Trạng thái", EX_TEXT, proposal_states }, { "stage", "Bước", EX_INT, NULL },
		{ "decider", "Đơn vị xét", EX_TEXT, NULL }, { "due_at", "Hạn xét", EX_TIME, NULL },
		{ "batch", "Đợt nhập", EX_INT, NULL }, { "line", "Dòng trong tệp", EX_INT, NULL },
		{ "decision_no", "Số quyết định", EX_TEXT, NULL }, { "reason", "Lý do", EX_TEXT, NULL },
		{ "predecessor", "Đơn vị trước sắp xếp", EX_TEXT, NULL },
	};
	char programme[128], year[64];
	struct export_spec spec = {
		.sheet = "Hồ sơ đề nghị", .title = "Hồ sơ đề nghị công nhận, khen thưởng",
		.report = programme_text(req, programme, sizeof(programme)),
		.unit = json_string_value(json_object_get(req, "under")),
		.cols = cols, .ncols = sizeof(cols) / sizeof(cols[0]), .rows = list,
	};

	if (json_object_get(req, "year")) {
		snprintf(year, sizeof(year), "năm %s", jstr(req, "year"));
		spec.period = year;
	}
	return export_write(&spec);
}

/* print_list - proposals one line each */
static void print_list(json_t *list)
{
	static const char *const hdr[] = { "ID", "PROGRAMME", "YEAR", "LV", "NOMINEE", "NAME", "PROPOSER", "STATE", "STAGE", "DUE" };
	struct table *t;
	size_t i;
	json_t *p;

	t = table_new(10, hdr);

	json_array_foreach(list, i, p) {
		char id[24], year[16], lv[8], stage[96], proposer[160];
		const char *row[] = { id, jstr(p, "programme"), year, lv, jstr(p, "nominee"), jstr(p, "nominee_name"),
				      jpred(p, jstr(p, "proposer"), proposer, sizeof(proposer)), jstr(p, "state"), stage,
				      jstr(p, "due_at") };

		snprintf(id, sizeof(id), "%lld", jint(p, "id"));
		snprintf(year, sizeof(year), "%lld", jint(p, "year"));
		snprintf(lv, sizeof(lv), "%lld", jint(p, "level"));
		if (!strcmp(jstr(p, "state"), "submitted"))
			snprintf(stage, sizeof(stage), "%lld %s%s", jint(p, "stage"), jstr(p, "decider"),
				 json_is_true(json_object_get(p, "overdue")) ? " (overdue)" : "");
		else
			stage[0] = 0;
		table_add(t, row);
	}
	table_print(t, stdout);
	table_destroy(&t);
}

/* proposals_list - filtered list */
static int proposals_list(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "programme", "programme", 0, NULL }, { "year", "year", 0, NULL }, { "stage", "stage", 0, NULL },
		{ "state", "state", 0, NULL }, { "under", "under", 0, NULL }, { "batch", "batch", 0, NULL },
		{ "limit", "limit", 0, NULL }, { "after", "after", 0, NULL }, EXPORT_CLI_OPTS, { NULL, NULL, 0, NULL },
	};
	json_t *req = json_pack("{s:s}", "op", OP_PROPOSALS_LIST), *r, *filters;
	int rc, first = cli_options(argc, argv, opts, req, NULL);

	if (first < 0 || first < argc || export_check()) {
		json_decref(req);
		return first < 0 || first >= argc ? EXIT_USAGE : cli_usage_error("proposals list: unexpected argument '%s'", argv[first]);
	}
	filters = json_deep_copy(req);
	r = cli_call(req, NULL, 0, &rc);
	if (r && export_wanted()) {
		rc = export_proposals(filters, json_object_get(r, "proposals"));
	} else if (r && !cl.json) {
		json_t *list = json_object_get(r, "proposals");

		print_list(list);
		printf("%lld proposal%s", jint(r, "count"), jint(r, "count") == 1 ? "" : "s");
		if (json_is_true(json_object_get(r, "more")) && json_array_size(list))
			printf(" (there are more: the next page with --after %lld)",
			       jint(json_array_get(list, json_array_size(list) - 1), "id"));
		printf("\n");
	}
	json_decref(filters);
	json_decref(r);
	return rc;
}

/* proposals_show - one proposal in full */
static int proposals_show(int argc, char **argv)
{
	long long id;
	json_t *r;
	int rc;

	if (argc != 2)
		return cli_usage_error("proposals show needs one proposal number%s", "");
	if (parse_id(argv[1], &id))
		return EXIT_USAGE;
	r = cli_call(json_pack("{s:s,s:I}", "op", OP_PROPOSAL_SHOW, "proposal", (json_int_t)id), NULL, 0, &rc);
	if (r && !cl.json)
		print_proposal(json_object_get(r, "proposal"));
	json_decref(r);
	return rc;
}

/* proposals_submit - submit a draft, or resubmit a returned proposal with corrections */
static int proposals_submit(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "score", NULL, 0, add_score }, { "note", "note", 0, NULL }, { NULL, NULL, 0, NULL },
	};
	json_t *req = json_pack("{s:s}", "op", OP_PROPOSAL_SUBMIT);
	int first = cli_options(argc, argv, opts, req, NULL);
	long long id;

	if (first < 0 || first >= argc || parse_id(argv[first], &id)) {
		json_decref(req);
		return first >= 0 && first >= argc
			? cli_usage_error("proposals submit needs the proposal number (then any corrected FILE...)%s", "")
			: EXIT_USAGE;
	}
	json_object_set_new(req, "proposal", json_integer(id));
	return send_proposal(req, argc - first - 1, argv + first + 1);
}

/* proposals_import - a CSV of nominees, all or nothing */
static int proposals_import(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "programme", "programme", 0, NULL }, { "year", "year", 0, NULL }, { "level", "level", 0, NULL },
		{ "unit", "unit", 0, NULL }, { "hamlet", "hamlet", 0, NULL }, { "draft", "draft", 1, NULL }, IMPORT_CLI_OPTS,
		{ NULL, NULL, 0, NULL },
	};
	json_t *req = json_pack("{s:s}", "op", OP_PROPOSALS_IMPORT), *r;
	struct import_file f;
	int rc, first = cli_options(argc, argv, opts, req, NULL);

	if (first < 0) {
		json_decref(req);
		return EXIT_USAGE;
	}
	if (first != argc - 1 || !json_object_get(req, "programme") || !json_object_get(req, "year")
	    || !json_object_get(req, "unit")) {
		json_decref(req);
		return cli_usage_error("proposals import needs --programme CODE --year YYYY --unit CODE and one FILE.csv or FILE.xlsx%s", "");
	}
	if ((rc = import_file_read(&f, argv[first])) != EXIT_OK) {
		import_file_free(&f);
		json_decref(req);
		return rc;
	}
	json_object_set_new(req, "filename", json_string(f.f.name));
	r = cli_call(req, &f.f, 1, &rc);
	if (r && !cl.json)
		printf("imported %lld proposals from %s as batch %lld (%s), numbers %lld to %lld\n", jint(r, "imported"),
		       argv[first], jint(json_object_get(r, "batch"), "id"), jstr(r, "state"), jint(r, "first"), jint(r, "last"));
	json_decref(r);
	import_file_free(&f);
	return rc;
}

/* cmd_proposals - proposals list|show|submit|import */
int cmd_proposals(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return proposals_list(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return proposals_show(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "submit"))
		return proposals_submit(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "import"))
		return proposals_import(argc - 1, argv + 1);
	return cli_usage_error("proposals: use 'proposals list|show|submit|import ...' (thiduactl --help)%s", "");
}

/* cmd_decide - approve|return|reject|score ID, or a whole import with --batch N */
int cmd_decide(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "reason", "reason", 0, NULL }, { "score", NULL, 0, add_score },
		{ "decision-no", "decision_no", 0, NULL }, { "decision-date", "decision_date", 0, NULL },
		{ "batch", "batch", 0, NULL }, { NULL, NULL, 0, NULL },
	};
	static const char *const actions[] = { "approve", "return", "reject", "score", NULL };
	const char *batch;
	json_t *req, *r;
	long long id = 0;
	int rc, first, known = 0;

	if (argc < 2)
		return cli_usage_error("decide needs an action: approve, return, reject or score%s", "");
	for (size_t i = 0; actions[i]; i++)
		known |= !strcmp(actions[i], argv[1]);
	if (!known)
		return cli_usage_error("decide: '%s' is not approve, return, reject or score", argv[1]);
	req = json_pack("{s:s,s:s}", "op", OP_PROPOSAL_DECIDE, "action", argv[1]);
	first = cli_options(argc - 1, argv + 1, opts, req, NULL) + 1;
	batch = json_string_value(json_object_get(req, "batch"));
	if (first > 0 && (batch ? first != argc : first != argc - 1))
		cli_usage_error("decide %s needs one proposal number, or --batch N for a whole import", argv[1]);
	if (first <= 0 || (batch ? first != argc : first != argc - 1) || parse_id(batch ? batch : argv[first], &id)) {
		json_decref(req);
		return EXIT_USAGE;
	}
	known = batch != NULL;		/* batch points into req, which cli_call takes */
	json_object_set_new(req, batch ? "batch" : "proposal", json_integer(id));
	r = cli_call(req, NULL, 0, &rc);
	if (r && !cl.json) {
		if (known)
			printf("batch %lld: %lld proposals decided (%s at stage %lld)%s\n", jint(r, "batch"), jint(r, "decided"),
			       jstr(r, "action"), jint(r, "stage"), jint(r, "skipped") ? ", others are at later stages" : "");
		else
			print_proposal(json_object_get(r, "proposal"));
	}
	json_decref(r);
	return rc;
}

/* cmd_withdraw - the proposer takes a proposal back */
int cmd_withdraw(int argc, char **argv)
{
	static const struct cli_opt opts[] = { { "reason", "reason", 0, NULL }, { NULL, NULL, 0, NULL } };
	json_t *req = json_pack("{s:s}", "op", OP_PROPOSAL_WITHDRAW), *r;
	long long id;
	int rc, first = cli_options(argc, argv, opts, req, NULL);

	if (first < 0 || first != argc - 1 || parse_id(argv[first], &id)) {
		json_decref(req);
		return first >= 0 && first != argc - 1 ? cli_usage_error("withdraw needs one proposal number%s", "") : EXIT_USAGE;
	}
	json_object_set_new(req, "proposal", json_integer(id));
	r = cli_call(req, NULL, 0, &rc);
	if (r && !cl.json)
		print_proposal(json_object_get(r, "proposal"));
	json_decref(r);
	return rc;
}

/* cmd_titles - titles list [filters] [--csv] */
int cmd_titles(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "programme", "programme", 0, NULL }, { "nominee", "nominee", 0, NULL }, { "under", "under", 0, NULL },
		{ "valid-at", "valid_at", 0, NULL }, { "level", "level", 0, NULL }, { "limit", "limit", 0, NULL },
		{ "after", "after", 0, NULL }, EXPORT_CLI_OPTS, { NULL, NULL, 0, NULL },
	};
	static const char *const hdr[] = { "PROGRAMME", "LV", "YEAR", "NOMINEE", "NAME", "DECISION", "VALID FROM", "VALID TO" };
	static const struct export_col cols[] = {
		{ "programme", "Phong trào", EX_TEXT, NULL }, { "level", "Cấp độ", EX_INT, NULL }, { "year", "Năm", EX_INT, NULL },
		{ "nominee", "Mã đối tượng", EX_TEXT, NULL }, { "nominee_name", "Tên đối tượng", EX_TEXT, NULL },
		{ "place", "Nơi", EX_TEXT, NULL }, { "proposer", "Đơn vị đề nghị", EX_TEXT, NULL },
		{ "granted_by", "Đơn vị công nhận", EX_TEXT, NULL }, { "decision_no", "Số quyết định", EX_TEXT, NULL },
		{ "decision_date", "Ngày quyết định", EX_DATE, NULL }, { "valid_from", "Hiệu lực từ", EX_DATE, NULL },
		{ "valid_to", "Hiệu lực đến", EX_DATE, NULL }, { "proposal", "Số hồ sơ", EX_INT, NULL },
		{ "predecessor", "Đơn vị trước sắp xếp", EX_TEXT, NULL },
	};
	struct export_spec spec = {
		.sheet = "Danh hiệu", .title = "Danh hiệu, khen thưởng đã công nhận",
		.cols = cols, .ncols = sizeof(cols) / sizeof(cols[0]),
	};
	char programme[128], valid[64];
	json_t *req, *r, *t;
	int rc, first;
	size_t i;

	if (argc < 2 || strcmp(argv[1], "list"))
		return cli_usage_error("titles: use 'titles list [--programme P] [--nominee X] [--under CODE] [--valid-at DATE]'%s", "");
	req = json_pack("{s:s}", "op", OP_TITLES_LIST);
	first = cli_options(argc - 1, argv + 1, opts, req, NULL);
	if (first < 0 || first < argc - 1 || export_check()) {
		json_decref(req);
		return first < 0 || first >= argc - 1 ? EXIT_USAGE : cli_usage_error("titles list: unexpected argument '%s'", argv[first + 1]);
	}
	spec.report = programme_text(req, programme, sizeof(programme));
	spec.unit = json_string_value(json_object_get(req, "under"));
	if (json_object_get(req, "valid_at")) {
		snprintf(valid, sizeof(valid), "còn hiệu lực ngày %s", jstr(req, "valid_at"));
		spec.period = valid;
	}
	json_incref(req);	/* the filters name the title's unit; cli_call takes one reference */
	r = cli_call(req, NULL, 0, &rc);
	if (r && export_wanted()) {
		spec.rows = json_object_get(r, "titles");
		rc = export_write(&spec);
	} else if (r && !cl.json) {
		struct table *tb = table_new(8, hdr);

		json_array_foreach(json_object_get(r, "titles"), i, t) {
			char lv[8], year[16], name[512];
			const char *row[] = { jstr(t, "programme"), lv, year, jstr(t, "nominee"),
					      jpred(t, jstr(t, "nominee_name"), name, sizeof(name)),
					      jstr(t, "decision_no"), jstr(t, "valid_from"), jstr(t, "valid_to") };

			/* an award has no level and no validity period */
			if (json_is_null(json_object_get(t, "level")))
				snprintf(lv, sizeof(lv), "-");
			else
				snprintf(lv, sizeof(lv), "%lld", jint(t, "level"));
			if (json_is_null(json_object_get(t, "valid_from")))
				row[6] = row[7] = "-";
			snprintf(year, sizeof(year), "%lld", jint(t, "year"));
			table_add(tb, row);
		}
		table_print(tb, stdout);
		table_destroy(&tb);
		printf("%lld title%s", jint(r, "count"), jint(r, "count") == 1 ? "" : "s");
		if (json_is_true(json_object_get(r, "more")) && (t = json_array_get(json_object_get(r, "titles"), i - 1)))
			printf(" (there are more: the next page with --after %lld)", jint(t, "id"));
		printf("\n");
	}
	json_decref(r);
	json_decref(req);
	return rc;
}
