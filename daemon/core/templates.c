/*
 * templates.c - message templates: compiled once into a list of parts (text, variable,
 * start and end of a section), rendered for each message by walking the parts.
 *
 * A section is a list ({{#units}}, {{#proposals}}: its parts repeat once per item, with
 * that item's variables) or a condition on a variable ({{#reason}}, {{^reason}}: its parts
 * are rendered or skipped once). Both are a P_BEGIN and a P_END that know each other.
 *
 * Owns the built-in texts. They reproduce, byte for byte, what thiduad has always sent, so
 * a configuration without a templates section changes nothing; the black-box tests of the
 * deadline engine and of the proposals check them.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "templates.h"
#include "xalloc.h"

enum part_kind { P_TEXT, P_VAR, P_BEGIN, P_END };

/* the lists, each with its range of item variables */
enum list { L_NONE = -1, L_UNITS, L_PROPOSALS, L_COUNT };

static const struct list_def {
	const char *name;
	enum tmpl_var first, end;	/* its item variables: [first, end) */
	int outside;			/* they may be used outside the list (the first item's) */
	const char *what;		/* for error messages */
} lists[L_COUNT] = {
	[L_UNITS] = { "units", TV_UNIT_NAME, TV_DAYS_OVERDUE + 1, 1, "each unit's" },
	[L_PROPOSALS] = { "proposals", TV_PROPOSAL_ID, TV_PROPOSAL_REASON + 1, 0, "each proposal's" },
};

#define MAX_DEPTH 8		/* sections open at once */

struct part {
	enum part_kind kind;
	size_t off, len;	/* P_TEXT: bytes of the template's text */
	enum tmpl_var var;	/* P_VAR; P_BEGIN of a condition: the variable tested */
	enum list list;		/* P_BEGIN, P_END: the list repeated, or L_NONE for a condition */
	int invert;		/* P_BEGIN of a condition: {{^var}}, rendered when the value is not there */
	size_t other;		/* P_BEGIN: index of its P_END; P_END: of its P_BEGIN */
};

struct tmpl {
	char *text;
	struct part *parts;
	size_t nparts;
};

struct templates {
	struct tmpl *subject[TE_COUNT][TC_COUNT], *body[TE_COUNT][TC_COUNT];
	struct tmpl *builtin_subject[TE_COUNT], *builtin_body[TE_COUNT];
};

static const char *const event_names[TE_COUNT] = {
	"reminder", "overdue", "escalation", "digest", "returned", "accepted", "dead_letter", "test", "receipt",
	"proposal_pending", "proposal_returned", "proposal_rejected", "proposal_granted", "proposal_overdue",
	"proposal_escalation", "proposal_withdrawn", "proposal_moved", "channel_disabled", "channel_enabled",
	"account_invite"
};
static const char *const channel_names[TC_COUNT] = { "any", "mail", "chat" };
static const char *const var_names[TV_COUNT] = {
	"unit_name", "unit_code", "due_date", "days_left", "days_overdue",
	"proposal_id", "nominee_code", "nominee_name", "level", "proposer_name", "proposer_code",
	"proposal_reason",
	"report_name", "report_code", "period", "receiver_name", "recipient_name", "unit_count",
	"reason", "actor", "link", "dedup_key", "late_note", "channel", "channel_kind",
	"notification", "receipt", "programme_name", "programme_code", "year", "stage",
	"proposal_count", "decision_no", "decision_date", "more_count", "late_until",
	"report_period", "plan_no", "plan_name", "receiver_contact", "how_to_submit",
	"inputs_expected", "inputs_received", "inputs_missing_count", "inputs_missing",
	"account", "expires_at"
};

/* the code that identifies a message is no part of its text: mail carries it in the
 * X-Thidua-Dedup-Key header, chat posts in the delivery's id */
#define FOOTER "{{late_note}}\n--\nthidua - Phong trào thi đua xây dựng xã hội học tập\n"
/* the plan the message is sent under (movement.plan, movement.plan_name) */
#define PLAN "{{#plan_no}}Thực hiện Kế hoạch số {{plan_no}}{{#plan_name}} {{plan_name}}{{/plan_name}}.\n\n{{/plan_no}}"
/* where and how a report is sent: the receiving office, its address, the configured way */
#define SEND_TO "{{receiver_name}}{{#receiver_contact}} (thư điện tử: {{receiver_contact}}){{/receiver_contact}}"
#define HOW "{{#how_to_submit}}Cách gửi: {{how_to_submit}}\n{{/how_to_submit}}"
/* a compiled report (compiles = ...): its inputs as they stand */
#define INPUTS "{{#inputs_expected}}Báo cáo của các đơn vị: đã nhận {{inputs_received}}/{{inputs_expected}}" \
	"{{#inputs_missing_count}}, còn thiếu {{inputs_missing_count}}: {{inputs_missing}}{{/inputs_missing_count}}.\n{{/inputs_expected}}"
/* the final cut-off, when the report type has one: after it nothing is taken and no
 * further notice is sent */
#define LATE_UNTIL "{{#late_until}}Hạn cuối nhận báo cáo nộp muộn: 23 giờ 59 ngày {{late_until}}; sau thời điểm này " \
	"hệ thống không tiếp nhận báo cáo và không gửi thêm thông báo.\n{{/late_until}}"
#define UNIT_LIST "{{#units}}  - {{unit_name}} ({{unit_code}}): quá hạn {{days_overdue}} ngày\n{{/units}}"
#define ESCALATION_SUBJECT "[Chậm nộp] {{report_period}}: {{unit_count}} đơn vị chưa nộp"
#define ESCALATION_BODY \
	"Kính gửi: {{recipient_name}}\n\n" PLAN \
	"Các đơn vị sau chưa gửi {{report_period}} (hạn {{due_date}}) đến {{receiver_name}}:\n\n" \
	UNIT_LIST \
	"\nĐề nghị đôn đốc các đơn vị gửi báo cáo đến " SEND_TO ".\n" HOW INPUTS LATE_UNTIL FOOTER

/* a message about proposals: greeting, one paragraph, the list (each proposal's own reason
 * only where the reasons differ), how many more there are, the footer */
#define PROPOSAL_GREETING "Kính gửi: {{recipient_name}}\n\n" PLAN
#define PROPOSAL_ITEM "  - Hồ sơ số {{proposal_id}}: {{nominee_name}} ({{nominee_code}}){{#level}}, cấp độ {{level}}{{/level}}, " \
	"đơn vị đề nghị: {{proposer_name}}"
#define PROPOSAL_LIST "{{#proposals}}" PROPOSAL_ITEM "\n{{/proposals}}"
#define PROPOSAL_LIST_REASONS "{{#proposals}}" PROPOSAL_ITEM \
	"{{^reason}}{{#proposal_reason}}. Lý do: {{proposal_reason}}{{/proposal_reason}}{{/reason}}\n{{/proposals}}"
#define PROPOSAL_FOOTER "{{#more_count}}  ... và {{more_count}} hồ sơ khác (thiduactl proposals list).\n{{/more_count}}" \
	"\n--\nthidua - Phong trào thi đua xây dựng xã hội học tập\n"
#define PROPOSALS "{{proposal_count}} hồ sơ đề nghị công nhận \"{{programme_name}}\" năm {{year}}"

/* the built-in texts: docs/CONFIG.md shows them; tests/blackbox/test_deadlines.py and
 * tests/unit/test_templates.c check them */
static const char *const builtin[TE_COUNT][2] = {
	[TE_REMINDER] = { "[Nhắc hạn] {{report_period}} - hạn {{due_date}}",
		"Kính gửi: {{recipient_name}}\n\n" PLAN
		"Đơn vị chưa gửi {{report_period}} đến {{receiver_name}}.\n"
		"Hạn nộp: 23 giờ 59 ngày {{due_date}} (còn {{days_left}} ngày).\n\n"
		"Đề nghị đơn vị gửi báo cáo đúng hạn đến " SEND_TO ".\n" HOW INPUTS FOOTER },
	[TE_OVERDUE] = { "[Quá hạn] {{report_period}} - hạn {{due_date}}",
		"Kính gửi: {{recipient_name}}\n\n" PLAN
		"Đơn vị chưa gửi {{report_period}} đến {{receiver_name}}.\n"
		"Hạn nộp: 23 giờ 59 ngày {{due_date}}. Đơn vị đã quá hạn {{days_overdue}} ngày.\n\n"
		"Đề nghị đơn vị gửi báo cáo ngay đến " SEND_TO ".\n" HOW INPUTS LATE_UNTIL FOOTER },
	[TE_ESCALATION] = { ESCALATION_SUBJECT, ESCALATION_BODY },
	[TE_DIGEST] = { ESCALATION_SUBJECT, ESCALATION_BODY },
	[TE_RETURNED] = { "[Trả lại] {{report_period}} của {{unit_name}}",
		"Kính gửi: {{recipient_name}}\n\n" PLAN
		"{{report_period}} của {{unit_name}} đã được trả lại để hoàn thiện.\n"
		"Lý do: {{reason}}\n"
		"Người trả lại: {{actor}}\n"
		"Hạn gửi lại: 23 giờ 59 ngày {{due_date}}, đến " SEND_TO ".\n" HOW FOOTER },
	[TE_ACCEPTED] = { "[Đã tiếp nhận] {{report_period}} của {{unit_name}}",
		"Kính gửi: {{recipient_name}}\n\n"
		"{{report_period}} của {{unit_name}} đã được tiếp nhận.\n"
		"Người tiếp nhận: {{actor}}\n" FOOTER },
	[TE_DEAD_LETTER] = { "[thidua] Thông báo không gửi được qua kênh {{channel}}",
		"{{reason}}\n\nXem: thiduactl notifications show {{notification}}\n"
		"Gửi lại: thiduactl notifications retry {{notification}}" },
	[TE_RECEIPT] = { "[Đã nhận] {{report_period}} của {{unit_name}}: biên nhận {{receipt}}",
		"Kính gửi: {{recipient_name}}\n\n"
		"{{receiver_name}} đã nhận {{report_period}} của {{unit_name}}.\n"
		"Số biên nhận: {{receipt}}\n"
		"Người gửi: {{actor}}\n" INPUTS FOOTER },
	[TE_TEST] = { "[thidua] Thư thử nghiệm kênh {{channel}}",
		"Đây là thư thử nghiệm của hệ thống thidua qua kênh {{channel}} ({{channel_kind}}).\n"
		"Nếu quý vị nhận được thư này, kênh đã được cấu hình đúng.\n" },
	[TE_PROPOSAL_PENDING] = { "[Hồ sơ chờ xét duyệt] {{programme_name}} năm {{year}}: {{proposal_count}} hồ sơ",
		PROPOSAL_GREETING
		"Có " PROPOSALS " chờ đơn vị xét duyệt (bước {{stage}}). Hạn xét duyệt: 23 giờ 59 ngày {{due_date}}.\n\n"
		PROPOSAL_LIST PROPOSAL_FOOTER },
	[TE_PROPOSAL_RETURNED] = { "[Trả lại hồ sơ] {{programme_name}} năm {{year}}: {{proposal_count}} hồ sơ",
		PROPOSAL_GREETING
		PROPOSALS " của đơn vị được trả lại (bước {{stage}}) để bổ sung, chỉnh sửa và gửi lại."
		"{{#reason}} Lý do: {{reason}}{{/reason}}\n\n"
		PROPOSAL_LIST_REASONS PROPOSAL_FOOTER },
	[TE_PROPOSAL_REJECTED] = { "[Không công nhận] {{programme_name}} năm {{year}}: {{proposal_count}} hồ sơ",
		PROPOSAL_GREETING
		PROPOSALS " của đơn vị không được công nhận (bước {{stage}}).{{#reason}} Lý do: {{reason}}{{/reason}}\n\n"
		PROPOSAL_LIST_REASONS PROPOSAL_FOOTER },
	[TE_PROPOSAL_GRANTED] = { "[Công nhận] {{programme_name}} năm {{year}}: {{proposal_count}} hồ sơ - Quyết định số {{decision_no}}",
		PROPOSAL_GREETING
		"{{proposal_count}} hồ sơ đề nghị của đơn vị đã được công nhận \"{{programme_name}}\" năm {{year}}"
		" theo Quyết định số {{decision_no}} ngày {{decision_date}}.\n\n"
		PROPOSAL_LIST PROPOSAL_FOOTER },
	[TE_PROPOSAL_OVERDUE] = { "[Quá hạn xét duyệt] {{programme_name}} năm {{year}}: {{proposal_count}} hồ sơ",
		PROPOSAL_GREETING
		PROPOSALS " chờ đơn vị xét duyệt (bước {{stage}}) đã quá hạn ngày {{due_date}}.\n"
		"Đề nghị đơn vị xét duyệt ngay.\n\n"
		PROPOSAL_LIST PROPOSAL_FOOTER },
	[TE_PROPOSAL_ESCALATION] = { "[Chậm xét duyệt] {{programme_name}} năm {{year}}: {{proposal_count}} hồ sơ quá hạn",
		PROPOSAL_GREETING
		PROPOSALS " chưa được đơn vị cấp dưới xét duyệt (bước {{stage}}), đã quá hạn ngày {{due_date}}.\n"
		"Đề nghị đôn đốc đơn vị xét duyệt.\n\n"
		PROPOSAL_LIST PROPOSAL_FOOTER },
	[TE_PROPOSAL_WITHDRAWN] = { "[Rút hồ sơ] {{programme_name}} năm {{year}}: {{proposal_count}} hồ sơ",
		PROPOSAL_GREETING
		"Đơn vị đề nghị đã rút " PROPOSALS ".\n\n"
		PROPOSAL_LIST PROPOSAL_FOOTER },
	[TE_CHANNEL_DISABLED] = { "[thidua] Kênh {{channel}} tạm ngừng gửi",
		"Kênh {{channel}} ({{channel_kind}}) tạm ngừng gửi: {{reason}}\n\n"
		"Các thông báo qua kênh này được giữ lại cho đến khi kênh hoạt động trở lại hoặc hết hạn.\n"
		"Sau khi sửa địa chỉ hoặc thông tin đăng nhập: thiduactl config reload\n"
		"Hoặc mở lại kênh: thiduactl channels enable {{channel}}" },
	[TE_CHANNEL_ENABLED] = { "[thidua] Kênh {{channel}} hoạt động trở lại",
		"Kênh {{channel}} ({{channel_kind}}) hoạt động trở lại: {{reason}}\n"
		"Các thông báo được giữ lại sẽ được gửi tiếp.\n"
		"Xem: thiduactl channels list" },
	[TE_PROPOSAL_MOVED] = { "[Chuyển hồ sơ] {{programme_name}} năm {{year}}: {{proposal_count}} hồ sơ",
		PROPOSAL_GREETING
		PROPOSALS " của đơn vị được chuyển sang bước {{stage}} do đơn vị xét duyệt đã sắp xếp lại."
		"{{#reason}} {{reason}}{{/reason}} Hạn xét duyệt: 23 giờ 59 ngày {{due_date}}.\n\n"
		PROPOSAL_LIST PROPOSAL_FOOTER },
	[TE_ACCOUNT_INVITE] = { "[thidua] Mời đặt mật khẩu tài khoản {{account}}",
		"Kính gửi: {{recipient_name}}\n\n"
		"Quản trị hệ thống thidua đã tạo tài khoản cho {{recipient_name}} (tên đăng nhập: {{account}}, {{unit_name}})"
		" để gửi báo cáo, theo dõi và xét duyệt trên trang web.\n\n"
		"Để đặt mật khẩu, mở liên kết sau (chỉ dùng được một lần, hết hạn lúc {{expires_at}}):\n\n{{link}}\n\n"
		"Nếu liên kết đã hết hạn, đề nghị quản trị hệ thống gửi lại thư mời.\n"
		"Không chuyển tiếp thư này: ai có liên kết đều đặt được mật khẩu của tài khoản.\n"
		"\n--\nthidua - Phong trào thi đua xây dựng xã hội học tập\n" },
};

const char *tmpl_event_name(enum tmpl_event ev)
{
	return (unsigned)ev < TE_COUNT ? event_names[ev] : "?";
}

const char *tmpl_channel_name(enum tmpl_channel ch)
{
	return (unsigned)ch < TC_COUNT ? channel_names[ch] : "?";
}

const char *tmpl_var_name(enum tmpl_var v)
{
	return (unsigned)v < TV_COUNT ? var_names[v] : "?";
}

/* tmpl_event_code - the event named; -1 when there is none */
int tmpl_event_code(const char *name)
{
	for (int i = 0; name && i < TE_COUNT; i++)
		if (!strcmp(name, event_names[i]))
			return i;
	return -1;
}

/* tmpl_channel_code - "mail" or "chat" (a template without a channel is TC_ANY) */
int tmpl_channel_code(const char *name)
{
	for (int i = TC_ANY + 1; name && i < TC_COUNT; i++)
		if (!strcmp(name, channel_names[i]))
			return i;
	return -1;
}

/* add_part - one more part at the end */
static struct part *add_part(struct tmpl *t, enum part_kind kind)
{
	struct part *p;

	t->parts = xrealloc(t->parts, (t->nparts + 1) * sizeof(*t->parts));
	p = &t->parts[t->nparts++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	return p;
}

static struct tmpl *fail(struct tmpl *t, struct tmpl_error *err, size_t offset, const char *hint,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* fail - fill the error; always NULL */
static struct tmpl *fail(struct tmpl *t, struct tmpl_error *err, size_t offset, const char *hint,
			 const char *fmt, ...)
{
	va_list ap;

	err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	xstrlcpy(err->hint, hint, sizeof(err->hint));
	tmpl_destroy(&t);
	return NULL;
}

/* shown - how much of a name an error message quotes: at most 64 bytes, whole characters */
static int shown(const char *name, size_t nlen)
{
	if (nlen <= 64)
		return (int)nlen;
	nlen = 64;
	while (nlen && ((unsigned char)name[nlen] & 0xC0) == 0x80)
		nlen--;
	return (int)nlen;
}

/* names_hint - "PREFIX" and the names of variables [first, end) after it */
static const char *names_hint(char *buf, size_t size, const char *prefix, enum tmpl_var first, enum tmpl_var end)
{
	size_t used = (size_t)snprintf(buf, size, "%s", prefix);

	for (int i = (int)first; i < (int)end && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i > (int)first ? ", " : "", var_names[i]);
	return buf;
}

/* list_of - the list a variable belongs to, or L_NONE for the message's own */
static enum list list_of(enum tmpl_var var)
{
	for (int l = 0; l < L_COUNT; l++)
		if (var >= lists[l].first && var < lists[l].end)
			return (enum list)l;
	return L_NONE;
}

/* list_code - the list named, or L_NONE */
static enum list list_code(const char *name, size_t nlen)
{
	for (int l = 0; l < L_COUNT; l++)
		if (strlen(lists[l].name) == nlen && !memcmp(name, lists[l].name, nlen))
			return (enum list)l;
	return L_NONE;
}

/* an open section while compiling */
struct open {
	const char *tag;	/* where its {{#...}} is */
	size_t part;		/* its P_BEGIN */
	const char *name;	/* what closes it: the list's or the variable's name */
};

/* misplaced - why var cannot be used inside list 'in' (L_NONE: outside every list), or
 * NULL when it can; the hint says where it belongs */
static const char *misplaced(enum tmpl_var var, enum list in, char *hint, size_t size)
{
	enum list l = list_of(var);
	char prefix[256];

	if (l == L_NONE || l == in || (in == L_NONE && lists[l].outside))
		return NULL;
	if (in == L_NONE) {
		snprintf(prefix, sizeof(prefix), "write it between {{#%s}} and {{/%s}}, where %s variables are ",
			 lists[l].name, lists[l].name, lists[l].what);
		names_hint(hint, size, prefix, lists[l].first, lists[l].end);
		return "outside";
	}
	snprintf(prefix, sizeof(prefix), "%s is %s, for {{#%s}}; inside {{#%s}} use the message's variables and %s: ",
		 var_names[var], lists[l].what, lists[l].name, lists[in].name, lists[in].what);
	names_hint(hint, size, prefix, lists[in].first, lists[in].end);
	return "inside";
}

/* tmpl_compile - split text at {{ }} tags; the first mistake stops it */
struct tmpl *tmpl_compile(const char *text, struct tmpl_error *err)
{
	struct tmpl *t = xcalloc(1, sizeof(*t));
	struct open open[MAX_DEPTH];
	const char *p;
	size_t depth = 0;
	enum list in = L_NONE;		/* the list the parts are inside */
	char hint[sizeof(err->hint)];

	t->text = xstrdup(text);
	p = t->text;
	for (;;) {
		const char *q = strstr(p, "{{"), *r, *name, *end, *why;
		size_t off, nlen;
		int sigil = 0, var = -1;
		enum list list;

		if (!q) {
			if (*p) {
				struct part *tp = add_part(t, P_TEXT);

				tp->off = (size_t)(p - t->text);
				tp->len = strlen(p);
			}
			break;
		}
		off = (size_t)(q - t->text);
		if (q > p) {
			struct part *tp = add_part(t, P_TEXT);

			tp->off = (size_t)(p - t->text);
			tp->len = (size_t)(q - p);
		}
		r = strstr(q + 2, "}}");
		if (!r || memchr(q + 2, '\n', (size_t)(r - q - 2)))
			return fail(t, err, off, "a variable is written {{name}}, on one line", "unclosed '{{'");
		name = q + 2;
		end = r;
		while (name < end && (*name == ' ' || *name == '\t'))
			name++;
		if (name < end && (*name == '#' || *name == '^' || *name == '/'))
			sigil = *name++;
		while (name < end && (*name == ' ' || *name == '\t'))
			name++;
		while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		nlen = (size_t)(end - name);
		for (int i = 0; i < TV_COUNT; i++)
			if (strlen(var_names[i]) == nlen && !memcmp(name, var_names[i], nlen))
				var = i;
		list = list_code(name, nlen);
		if (sigil != '/' && var >= 0 && (why = misplaced((enum tmpl_var)var, in, hint, sizeof(hint))))
			return fail(t, err, off, hint, "variable '%s' %s {{#%s}}", var_names[var], why,
				    lists[in != L_NONE ? in : list_of((enum tmpl_var)var)].name);
		if (sigil == '#' || sigil == '^') {
			struct part *bp;

			if (list != L_NONE && sigil == '^')
				return fail(t, err, off, "test the count instead: {{^unit_count}} or {{^proposal_count}}",
					    "a list cannot be inverted: '{{^%s}}'", lists[list].name);
			if (list != L_NONE && in != L_NONE)
				return fail(t, err, off, "a list cannot hold another", "{{#%s}} inside {{#%s}}",
					    lists[list].name, lists[in].name);
			if (list == L_NONE && var < 0)
				return fail(t, err, off, "a section is a list, {{#units}}...{{/units}} or"
					    " {{#proposals}}...{{/proposals}}, or a condition on a variable,"
					    " {{#reason}}...{{/reason}} (when it is neither empty nor 0) or"
					    " {{^reason}}...{{/reason}} (when it is)",
					    "unknown section '%.*s'", shown(name, nlen), name);
			if (depth == MAX_DEPTH)
				return fail(t, err, off, "close some sections first", "more than %d sections inside each other",
					    MAX_DEPTH);
			open[depth].tag = q;
			open[depth].part = t->nparts;
			open[depth].name = list != L_NONE ? lists[list].name : var_names[var];
			depth++;
			bp = add_part(t, P_BEGIN);
			bp->list = list;
			bp->var = list == L_NONE ? (enum tmpl_var)var : TV_COUNT;
			bp->invert = sigil == '^';
			if (list != L_NONE)
				in = list;
		} else if (sigil == '/') {
			struct part *ep;
			size_t begin;

			if (!depth || strlen(open[depth - 1].name) != nlen || memcmp(name, open[depth - 1].name, nlen)) {
				if (depth)
					snprintf(hint, sizeof(hint), "the section open here is {{#%s}}: close it with {{/%s}} first",
						 open[depth - 1].name, open[depth - 1].name);
				return fail(t, err, off, depth ? hint : "a section is {{#name}}...{{/name}}",
					    "'{{/%.*s}}' closes no section", shown(name, nlen), name);
			}
			begin = open[--depth].part;
			ep = add_part(t, P_END);
			ep->list = t->parts[begin].list;
			ep->other = begin;
			t->parts[begin].other = t->nparts - 1;
			if (ep->list != L_NONE)
				in = L_NONE;
		} else if (var < 0) {
			const char *h = names_hint(hint, sizeof(hint), "the variables are ", 0, TV_COUNT);

			if (!nlen)
				return fail(t, err, off, h, "empty variable '{{}}'");
			return fail(t, err, off, h, "unknown variable '%.*s'", shown(name, nlen), name);
		} else {
			add_part(t, P_VAR)->var = (enum tmpl_var)var;
		}
		p = r + 2;
	}
	if (depth) {
		snprintf(hint, sizeof(hint), "{{#%s}} needs its {{/%s}}", open[depth - 1].name, open[depth - 1].name);
		return fail(t, err, (size_t)(open[depth - 1].tag - t->text), hint, "unclosed section '%s'",
			    open[depth - 1].name);
	}
	return t;
}

/* tmpl_destroy - accepts NULL and clears the pointer */
void tmpl_destroy(struct tmpl **self_p)
{
	struct tmpl *t = *self_p;

	if (!t)
		return;
	free(t->text);
	free(t->parts);
	free(t);
	*self_p = NULL;
}


/* items_of - a list's items in the values */
static const struct tmpl_item *items_of(const struct tmpl_values *vals, enum list l, size_t *n)
{
	switch (l) {
	case L_UNITS:
		*n = vals->nunits;
		return vals->units;
	case L_PROPOSALS:
		*n = vals->nproposals;
		return vals->proposals;
	default:
		assert(!"a list without items");
		*n = 0;
		return NULL;
	}
}

/* value - a variable's value: inside its list, the current item's; outside, the message's,
 * or when that is NULL, the first item's */
static const char *value(const struct tmpl_values *vals, enum tmpl_var var, enum list in, size_t item)
{
	enum list l = list_of(var);
	const struct tmpl_item *items;
	size_t n;

	if (l == L_NONE)
		return vals->v[var];
	items = items_of(vals, l, &n);
	if (l == in)
		return items[item].v[var];
	if (!vals->v[var] && n)
		return items[0].v[var];
	return vals->v[var];
}

/* tmpl_render - walk the parts; a list repeats its parts once per item, a condition
 * renders them once or skips them */
char *tmpl_render(const struct tmpl *t, const struct tmpl_values *vals)
{
	struct buf o = { 0 };
	enum list in = L_NONE;
	size_t item = 0, nitems = 0;

	buf_put(&o, "", 0);
	for (size_t i = 0; i < t->nparts; i++) {
		const struct part *p = &t->parts[i];
		const char *v;

		switch (p->kind) {
		case P_TEXT:
			buf_put(&o, t->text + p->off, p->len);
			break;
		case P_VAR:
			v = value(vals, p->var, in, item);
			if (v)
				buf_put(&o, v, strlen(v));
			break;
		case P_BEGIN:
			if (p->list != L_NONE) {
				items_of(vals, p->list, &nitems);
				if (!nitems)
					i = p->other;	/* nothing to list: past the end */
				else {
					in = p->list;
					item = 0;
				}
			} else {
				v = value(vals, p->var, in, item);
				if ((v && *v && strcmp(v, "0")) == p->invert)
					i = p->other;	/* the condition fails: past the end */
			}
			break;
		case P_END:
			if (p->list == L_NONE)
				break;
			if (++item < nitems)
				i = p->other;	/* again, for the next item */
			else
				in = L_NONE;
			break;
		}
	}
	return o.p;
}

/* templates_new - the built-in texts compiled; they must compile */
struct templates *templates_new(void)
{
	struct templates *set = xcalloc(1, sizeof(*set));
	struct tmpl_error err;

	for (int e = 0; e < TE_COUNT; e++) {
		set->builtin_subject[e] = tmpl_compile(builtin[e][0], &err);
		set->builtin_body[e] = tmpl_compile(builtin[e][1], &err);
		assert(set->builtin_subject[e] && set->builtin_body[e]);
	}
	return set;
}

/* templates_destroy - accepts NULL and clears the pointer */
void templates_destroy(struct templates **self_p)
{
	struct templates *set = *self_p;

	if (!set)
		return;
	for (int e = 0; e < TE_COUNT; e++) {
		for (int c = 0; c < TC_COUNT; c++) {
			tmpl_destroy(&set->subject[e][c]);
			tmpl_destroy(&set->body[e][c]);
		}
		tmpl_destroy(&set->builtin_subject[e]);
		tmpl_destroy(&set->builtin_body[e]);
	}
	free(set);
	*self_p = NULL;
}

void templates_set(struct templates *set, enum tmpl_event ev, enum tmpl_channel ch,
		   struct tmpl **subject_p, struct tmpl **body_p)
{
	assert((unsigned)ev < TE_COUNT && (unsigned)ch < TC_COUNT);
	if (subject_p && *subject_p) {
		tmpl_destroy(&set->subject[ev][ch]);
		set->subject[ev][ch] = *subject_p;
		*subject_p = NULL;
	}
	if (body_p && *body_p) {
		tmpl_destroy(&set->body[ev][ch]);
		set->body[ev][ch] = *body_p;
		*body_p = NULL;
	}
}

/* pick - the first template of the fallback chain (see templates.h) */
static const struct tmpl *pick(struct tmpl *const table[TE_COUNT][TC_COUNT], struct tmpl *const *builtins,
			       enum tmpl_event ev, enum tmpl_channel ch, int several)
{
	if (several && (ev == TE_REMINDER || ev == TE_OVERDUE || ev == TE_ESCALATION)) {
		if (table[TE_DIGEST][ch])
			return table[TE_DIGEST][ch];
		if (table[TE_DIGEST][TC_ANY])
			return table[TE_DIGEST][TC_ANY];
	}
	if (table[ev][ch])
		return table[ev][ch];
	if (table[ev][TC_ANY])
		return table[ev][TC_ANY];
	return builtins[ev];
}

void templates_render(const struct templates *set, enum tmpl_event ev, enum tmpl_channel ch,
		      const struct tmpl_values *vals, char **subject, char **body)
{
	int several = vals->nunits > 1;

	assert((unsigned)ev < TE_COUNT && (unsigned)ch < TC_COUNT);
	*subject = tmpl_render(pick(set->subject, set->builtin_subject, ev, ch, several), vals);
	*body = tmpl_render(pick(set->body, set->builtin_body, ev, ch, several), vals);
	for (char *s = *subject; *s; s++)	/* a header is one line, whatever the values hold */
		if (*s == '\r' || *s == '\n')
			*s = ' ';
}
