/*
 * templates.c - message templates: compiled once into a list of parts (text, variable,
 * start and end of the units list), rendered for each message by walking the parts.
 *
 * Owns the built-in texts. They reproduce, byte for byte, what thiduad has always sent, so
 * a configuration without a templates section changes nothing; the black-box tests of the
 * deadline engine check them.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "templates.h"
#include "xalloc.h"

enum part_kind { P_TEXT, P_VAR, P_BEGIN, P_END };

struct part {
	enum part_kind kind;
	size_t off, len;	/* P_TEXT: bytes of the template's text */
	enum tmpl_var var;	/* P_VAR */
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
	"reminder", "overdue", "escalation", "digest", "returned", "accepted", "dead_letter", "test", "receipt"
};
static const char *const channel_names[TC_COUNT] = { "any", "mail", "chat" };
static const char *const var_names[TV_COUNT] = {
	"unit_name", "unit_code", "due_date", "days_left", "days_overdue",
	"report_name", "report_code", "period", "receiver_name", "recipient_name", "unit_count",
	"reason", "actor", "link", "dedup_key", "late_note", "channel", "channel_kind",
	"notification", "receipt"
};

#define FOOTER "{{late_note}}\n--\nthidua - Phong trào thi đua xây dựng xã hội học tập\nMã thông báo: {{dedup_key}}\n"
#define UNIT_LIST "{{#units}}  - {{unit_name}} ({{unit_code}}): quá hạn {{days_overdue}} ngày\n{{/units}}"
#define ESCALATION_SUBJECT "[Chậm nộp] {{report_name}} kỳ {{period}}: {{unit_count}} đơn vị chưa nộp"
#define ESCALATION_BODY \
	"Kính gửi: {{recipient_name}}\n\n" \
	"Các đơn vị sau chưa gửi {{report_name}} kỳ {{period}} (hạn {{due_date}}) đến {{receiver_name}}:\n\n" \
	UNIT_LIST \
	"\nĐề nghị đôn đốc các đơn vị gửi báo cáo.\n" FOOTER

/* the built-in texts: docs/CONFIG.md shows them; tests/blackbox/test_deadlines.py checks them */
static const char *const builtin[TE_COUNT][2] = {
	[TE_REMINDER] = { "[Nhắc hạn] {{report_name}} kỳ {{period}} - hạn {{due_date}}",
		"Kính gửi: {{recipient_name}}\n\n"
		"Đơn vị chưa gửi {{report_name}} kỳ {{period}} đến {{receiver_name}}.\n"
		"Hạn nộp: 23 giờ 59 ngày {{due_date}} (còn {{days_left}} ngày).\n\n"
		"Đề nghị đơn vị gửi báo cáo đúng hạn qua hệ thống thidua.\n" FOOTER },
	[TE_OVERDUE] = { "[Quá hạn] {{report_name}} kỳ {{period}} - hạn {{due_date}}",
		"Kính gửi: {{recipient_name}}\n\n"
		"Đơn vị chưa gửi {{report_name}} kỳ {{period}} đến {{receiver_name}}.\n"
		"Hạn nộp: 23 giờ 59 ngày {{due_date}}. Đơn vị đã quá hạn {{days_overdue}} ngày.\n\n"
		"Đề nghị đơn vị gửi báo cáo ngay.\n" FOOTER },
	[TE_ESCALATION] = { ESCALATION_SUBJECT, ESCALATION_BODY },
	[TE_DIGEST] = { ESCALATION_SUBJECT, ESCALATION_BODY },
	[TE_RETURNED] = { "[Trả lại] {{report_name}} kỳ {{period}} của {{unit_name}}",
		"Kính gửi: {{recipient_name}}\n\n"
		"{{report_name}} kỳ {{period}} của {{unit_name}} đã được trả lại để hoàn thiện.\n"
		"Lý do: {{reason}}\n"
		"Người trả lại: {{actor}}\n"
		"Hạn gửi lại: 23 giờ 59 ngày {{due_date}}.\n" FOOTER },
	[TE_ACCEPTED] = { "[Đã tiếp nhận] {{report_name}} kỳ {{period}} của {{unit_name}}",
		"Kính gửi: {{recipient_name}}\n\n"
		"{{report_name}} kỳ {{period}} của {{unit_name}} đã được tiếp nhận.\n"
		"Người tiếp nhận: {{actor}}\n" FOOTER },
	[TE_DEAD_LETTER] = { "[thidua] Thông báo không gửi được qua kênh {{channel}}",
		"{{reason}}\n\nXem: thiduactl notifications show {{notification}}\n"
		"Gửi lại: thiduactl notifications retry {{notification}}" },
	[TE_RECEIPT] = { "[Đã nhận] {{report_name}} kỳ {{period}} của {{unit_name}}: biên nhận {{receipt}}",
		"Kính gửi: {{recipient_name}}\n\n"
		"{{receiver_name}} đã nhận {{report_name}} kỳ {{period}} của {{unit_name}}.\n"
		"Số biên nhận: {{receipt}}\n"
		"Người gửi: {{actor}}\n" FOOTER },
	[TE_TEST] = { "[thidua] Thư thử nghiệm kênh {{channel}}",
		"Đây là thư thử nghiệm của hệ thống thidua qua kênh {{channel}} ({{channel_kind}}).\n"
		"Nếu quý vị nhận được thư này, kênh đã được cấu hình đúng.\n" },
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

/* vars_hint - the variable names, for an error message */
static const char *vars_hint(char *buf, size_t size)
{
	size_t used = (size_t)snprintf(buf, size, "the variables are ");

	for (int i = 0; i < TV_COUNT && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", var_names[i]);
	return buf;
}

/* tmpl_compile - split text at {{ }} tags; the first mistake stops it */
struct tmpl *tmpl_compile(const char *text, struct tmpl_error *err)
{
	struct tmpl *t = xcalloc(1, sizeof(*t));
	const char *p, *open_tag = NULL;
	size_t begin = 0;

	t->text = xstrdup(text);
	p = t->text;
	for (;;) {
		const char *q = strstr(p, "{{"), *r, *name, *end;
		size_t off, nlen;
		int sigil = 0, var = -1;

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
		if (name < end && (*name == '#' || *name == '/'))
			sigil = *name++;
		while (name < end && (*name == ' ' || *name == '\t'))
			name++;
		while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		nlen = (size_t)(end - name);
		for (int i = 0; i < TV_COUNT && !sigil; i++)
			if (strlen(var_names[i]) == nlen && !memcmp(name, var_names[i], nlen))
				var = i;
		if (sigil == '#') {
			if (nlen != 5 || memcmp(name, "units", 5))
				return fail(t, err, off, "the only section is {{#units}}...{{/units}}", "unknown section '%.*s'",
					    shown(name, nlen), name);
			if (open_tag)
				return fail(t, err, off, "a units list cannot hold another", "{{#units}} inside {{#units}}");
			open_tag = q;
			begin = t->nparts;
			add_part(t, P_BEGIN);
		} else if (sigil == '/') {
			struct part *ep;

			if (!open_tag || nlen != 5 || memcmp(name, "units", 5))
				return fail(t, err, off, "a list is {{#units}}...{{/units}}", "'{{/%.*s}}' closes no section",
					    shown(name, nlen), name);
			ep = add_part(t, P_END);
			ep->other = begin;
			t->parts[begin].other = t->nparts - 1;
			open_tag = NULL;
		} else if (var < 0) {
			char hint[512];

			if (!nlen)
				return fail(t, err, off, vars_hint(hint, sizeof(hint)), "empty variable '{{}}'");
			return fail(t, err, off, vars_hint(hint, sizeof(hint)), "unknown variable '%.*s'",
				    shown(name, nlen), name);
		} else {
			add_part(t, P_VAR)->var = (enum tmpl_var)var;
		}
		p = r + 2;
	}
	if (open_tag)
		return fail(t, err, (size_t)(open_tag - t->text), "{{#units}} needs its {{/units}}",
			    "unclosed section 'units'");
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

struct out {
	char *p;
	size_t len, cap;
};

/* put - append n bytes */
static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->p = xrealloc(o->p, o->cap);
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

/* tmpl_render - walk the parts; the units list repeats its parts once per unit */
char *tmpl_render(const struct tmpl *t, const struct tmpl_values *vals)
{
	struct out o = { 0 };
	size_t unit = 0;
	int inside = 0;

	put(&o, "", 0);
	for (size_t i = 0; i < t->nparts; i++) {
		const struct part *p = &t->parts[i];
		const char *v;

		switch (p->kind) {
		case P_TEXT:
			put(&o, t->text + p->off, p->len);
			break;
		case P_VAR:
			if (p->var < TV_NITEM && inside)
				v = vals->units[unit].v[p->var];
			else if (p->var < TV_NITEM && !vals->v[p->var] && vals->nunits)
				v = vals->units[0].v[p->var];
			else
				v = vals->v[p->var];
			if (v)
				put(&o, v, strlen(v));
			break;
		case P_BEGIN:
			if (!vals->nunits)
				i = p->other;	/* nothing to list: past the end */
			else {
				inside = 1;
				unit = 0;
			}
			break;
		case P_END:
			if (++unit < vals->nunits)
				i = p->other;	/* again, for the next unit */
			else
				inside = 0;
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
