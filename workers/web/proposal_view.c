/*
 * proposal_view.c - what the proposal pages share (the decider's /xet-duyet, the clerk's
 * /de-nghi): a proposal's state, path, dossier files (links to /tep-de-nghi/ID/SHA256,
 * proposal.file), scores and history, written as HTML.
 */
#include <stdio.h>
#include <string.h>

#include "pages.h"
#include "web.h"
#include "web_util.h"

static const char *js(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

const char *proposal_state_vi(const char *state)
{
	static const struct { const char *state, *text; } states[] = {
		{ "draft", "Bản nháp" }, { "submitted", "Chờ xét duyệt" }, { "returned", "Bị trả lại" },
		{ "rejected", "Bị từ chối" }, { "withdrawn", "Đã rút" }, { "granted", "Đã công nhận" },
		{ "approved", "Đã duyệt" }, { "deciding", "Đang xét" }, { "pending", "Chưa tới" },
		{ "skipped", "Bỏ qua" },
	};

	for (size_t i = 0; state && i < sizeof(states) / sizeof(states[0]); i++)
		if (!strcmp(states[i].state, state))
			return states[i].text;
	return state ? state : "";
}

const char *proposal_action_vi(const char *action)
{
	static const struct { const char *action, *text; } actions[] = {
		{ "create", "Tạo hồ sơ" }, { "submit", "Gửi xét duyệt" }, { "resubmit", "Gửi lại sau khi sửa" },
		{ "approve", "Phê duyệt" }, { "return", "Trả lại" }, { "reject", "Từ chối" }, { "score", "Chấm điểm" },
		{ "withdraw", "Rút hồ sơ" }, { "escalate", "Báo cấp trên (quá hạn)" }, { "move", "Chuyển do sắp xếp đơn vị" },
	};

	for (size_t i = 0; action && i < sizeof(actions) / sizeof(actions[0]); i++)
		if (!strcmp(actions[i].action, action))
			return actions[i].text;
	return action ? action : "";
}

static void scores(struct buf *b, const json_t *a)
{
	json_t *sc = json_object_get(a, "scores"), *v;
	const char *k, *why = js(a, "why");
	char total[32], max[32];

	if (!json_is_object(a))
		return;
	snprintf(total, sizeof(total), "%g", json_number_value(json_object_get(a, "total")));
	snprintf(max, sizeof(max), "%g", json_number_value(json_object_get(a, "max")));
	hput(b, "<h3>Điểm</h3><table class=\"list scores\"><thead><tr><th scope=\"col\">Tiêu chí</th>"
		"<th scope=\"col\">Điểm</th></tr></thead><tbody>");
	json_object_foreach(sc, k, v) {
		char val[32];

		if (json_is_boolean(v))
			snprintf(val, sizeof(val), "%s", json_is_true(v) ? "Đạt" : "Không đạt");
		else
			snprintf(val, sizeof(val), "%g", json_number_value(v));
		hput(b, "<tr><td data-label=\"Tiêu chí\">%s</td><td data-label=\"Điểm\">%s</td></tr>", k, val);
	}
	hput(b, "</tbody></table><p>Tổng: <strong>%s</strong> / %s", total, max);
	if (json_is_number(json_object_get(a, "threshold"))) {
		char th[32];

		snprintf(th, sizeof(th), "%g", json_number_value(json_object_get(a, "threshold")));
		hput(b, " (ngưỡng %s)", th);
	}
	hput(b, " — <span class=\"%R\">%R</span>", json_is_true(json_object_get(a, "passed")) ? "good" : "bad",
	     json_is_true(json_object_get(a, "passed")) ? "đạt" : "chưa đạt");
	if (why)
		hput(b, "<br><span class=\"detail\">%s</span>", why);
	hput(b, "</p>");
}

static const char *role_vi(const char *role)
{
	return !role ? "" : !strcmp(role, "approver") ? "người phê duyệt" : !strcmp(role, "reviewer") ? "người thẩm định"
	       : !strcmp(role, "admin") ? "quản trị" : role;
}

void proposal_details(struct buf *b, json_t *p)
{
	json_t *o;
	size_t i;

	hput(b, "<h3>Quy trình</h3><ol class=\"path\">");
	json_array_foreach(json_object_get(p, "path"), i, o)
		hput(b, "<li>%s (%s): <strong>%s</strong></li>", js(o, "unit_name") ? js(o, "unit_name") : js(o, "decider"),
		     role_vi(js(o, "role")), proposal_state_vi(js(o, "status")));
	hput(b, "</ol><h3>Hồ sơ (tệp)</h3>");
	if (!json_array_size(json_object_get(p, "files")))
		hput(b, "<p class=\"empty\">Không có tệp.</p>");
	else
		hput(b, "<ul class=\"files\">");
	json_array_foreach(json_object_get(p, "files"), i, o) {
		char size[64], id[32];

		size_text((uint64_t)json_integer_value(json_object_get(o, "size")), size, sizeof(size));
		snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(p, "id")));
		hput(b, "<li><a href=\"/tep-de-nghi/%u/%u\">%s</a> <span class=\"code\">bản %lld, %s, SHA-256 %s</span></li>",
		     id, js(o, "sha256"), js(o, "name"), (long long)json_integer_value(json_object_get(o, "version")), size,
		     js(o, "sha256"));
	}
	if (json_array_size(json_object_get(p, "files")))
		hput(b, "</ul>");
	scores(b, json_object_get(p, "assessment"));
	hput(b, "<h3>Lịch sử</h3><ol class=\"history\">");
	json_array_foreach(json_object_get(p, "history"), i, o) {
		char at[32];

		time_text(js(o, "at"), at, sizeof(at));
		hput(b, "<li>%s — %s: <strong>%s</strong>", at, js(o, "principal"), proposal_action_vi(js(o, "action")));
		if (js(o, "reason"))
			hput(b, "; lý do: %s", js(o, "reason"));
		if (js(o, "decision_no"))
			hput(b, "; quyết định số %s", js(o, "decision_no"));
		hput(b, " → %s</li>", proposal_state_vi(js(o, "state")));
	}
	hput(b, "</ol>");
}
