/*
 * test_webhook_format.c - thidua-webhook's pure parts: the Standard Webhooks signature
 * (against the scheme's published test vector), bodies per kind, UTF-8-safe splitting and
 * truncation, reading answers, and the token buckets.
 *
 * Worker code is not in libthiduad.a, so its pure modules are included as one translation
 * unit; they need only jansson and libcommon.
 */
#include <stdlib.h>

#include "../../workers/webhook/webhook_format.c"
#include "../../workers/webhook/webhook_rate.c"
#include "t.h"
#include "utf8.h"

/* parse - a payload text into m; returns wf_message_parse's result, err filled */
static int parse(const char *text, struct wf_message *m, char *err, size_t errsize)
{
	json_error_t je;
	json_t *p = json_loads(text, 0, &je);
	int rc;

	if (!p) {
		snprintf(err, errsize, "test payload: %s", je.text);
		memset(m, 0, sizeof(*m));
		return -1;
	}
	rc = wf_message_parse(p, m, err, errsize);
	json_decref(p);
	return rc;
}

/* body_text - a string member of a post's body (fresh, or NULL) */
static char *body_member(const char *body, const char *key)
{
	json_t *b = json_loads(body, 0, NULL);
	const char *v = json_string_value(json_object_get(b, key));
	char *r = v ? xstrdup(v) : NULL;

	json_decref(b);
	return r;
}

static void test_signature(void)
{
	unsigned char *key;
	size_t keylen;
	char *sig;
	const char *body = "{\"test\": 2432232314}";

	T_CHECK("whsec secret decodes", wf_secret_decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key, &keylen) == 0
		&& keylen == 24);
	sig = wf_sign(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body));
	T_STREQ("standard webhooks test vector", sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	free(sig);
	free(key);

	T_CHECK("a secret without whsec_ is its bytes", wf_secret_decode("plain-secret", &key, &keylen) == 0
		&& keylen == 12 && !memcmp(key, "plain-secret", 12));
	free(key);
	T_CHECK("whsec_ with junk is refused", wf_secret_decode("whsec_not*base64", &key, &keylen) == -1 && !key);
	T_CHECK("whsec_ with nothing is refused", wf_secret_decode("whsec_", &key, &keylen) == -1);

	/* the key's pads are kept between posts: other keys, long keys and the same key again
	 * must each still give the plain HMAC */
	{
		static const char *const keys[] = { "k1", "another key", "k1",
			"a key longer than one SHA-256 block, which HMAC hashes first: 0123456789abcdef",
			"a key longer than one SHA-256 block, which HMAC hashes first: 0123456789abcdeX", "k1" };
		int same = 1;

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			unsigned char mac[32];
			char msg[128], *b64, *want;

			snprintf(msg, sizeof(msg), "id-%zu.1700000000.%s", i, body);
			hmac_sha256(keys[i], strlen(keys[i]), msg, strlen(msg), mac);
			b64 = b64_encode(mac, sizeof(mac));
			want = xasprintf("v1,%s", b64);
			snprintf(msg, sizeof(msg), "id-%zu", i);
			sig = wf_sign((const unsigned char *)keys[i], strlen(keys[i]), msg, 1700000000, body, strlen(body));
			same &= !strcmp(sig, want);
			free(sig);
			free(want);
			free(b64);
		}
		T_CHECK("signature: kept key pads give the plain HMAC for each key in turn", same);
	}
}

/* body_as_jansson - the json kind's body is the text jansson writes for the same object */
static int body_as_jansson(const char *title, const char *text, size_t max)
{
	json_t *p = json_pack("{s:{s:s,s:s,s:s,s:b,s:i},s:s,s:s,s:s,s:{s:s,s:[i]}}", "channel", "name", "c", "kind", "json",
			      "url", "https://x/y", "split", 1, "max_length", (int)max, "dedup_key", "K/1", "title", title,
			      "text", text, "event", "kind", "reminder", "units", 1);
	struct wf_message m;
	char err[256];
	int ok = p && wf_message_parse(p, &m, err, sizeof(err)) == 0 && m.nposts >= 1;

	for (size_t k = 0; ok && k < m.nposts; k++) {
		json_t *b = json_loads(m.posts[k].body, 0, NULL);
		json_t *want = json_pack("{s:s,s:s,s:s,s:s,s:O}", "type", "thidua.notification", "id", m.posts[k].id,
					 "title", json_string_value(json_object_get(b, "title")),
					 "text", json_string_value(json_object_get(b, "text")),
					 "event", json_object_get(p, "event"));
		char *w;

		if (m.nposts > 1) {
			json_object_set_new(want, "part", json_integer((json_int_t)k + 1));
			json_object_set_new(want, "parts", json_integer((json_int_t)m.nposts));
		}
		w = json_dumps(want, JSON_COMPACT);
		ok = b && w && !strcmp(w, m.posts[k].body);
		if (!ok)
			fprintf(stderr, "  got  %s\n  want %s\n", m.posts[k].body, w ? w : "?");
		free(w);
		json_decref(want);
		json_decref(b);
	}
	if (p)
		wf_message_clear(&m);
	json_decref(p);
	return ok;
}

static void test_units(void)
{
	T_CHECK("units: ascii", wf_units("abc", 3) == 3);
	T_CHECK("units: Vietnamese counts characters", wf_units("Phú Hòa Đông", strlen("Phú Hòa Đông")) == 12);
	T_CHECK("units: a character above U+FFFF counts 2", wf_units("a😀", strlen("a😀")) == 3);
}

/* check_pieces - every piece valid UTF-8, within budget, none starting with a mark */
static int check_pieces(char **v, size_t budget)
{
	for (size_t i = 0; v[i]; i++) {
		unsigned cp = 0;

		if (!utf8_valid_str(v[i]) || wf_units(v[i], strlen(v[i])) > budget || !*v[i])
			return 0;
		utf8_step((const unsigned char *)v[i], strlen(v[i]), &cp);
		if (is_combining(cp))
			return 0;
	}
	return 1;
}

static void test_split(void)
{
	char **v;
	char *long_vi = NULL, *nfd = NULL;
	size_t n;

	v = wf_split("một hai ba bốn năm sáu bảy tám chín mười", 12);
	T_CHECK("split: pieces fit and are whole characters", check_pieces(v, 12));
	T_STREQ("split: at a space", v[0], "một hai ba");
	strv_free(&v);

	v = wf_split("dòng một\ndòng hai dài hơn một chút\nba", 14);
	T_STREQ("split: prefers a line break", v[0], "dòng một");
	strv_free(&v);

	/* no space at all: a hard cut, still between characters */
	{
		char buf[4 * 300 + 1] = "";
		size_t o = 0;

		for (int i = 0; i < 300; i++) {
			memcpy(buf + o, "ữ", strlen("ữ"));
			o += strlen("ữ");
		}
		buf[o] = 0;
		v = wf_split(buf, 7);
		T_CHECK("split: hard cut between multibyte characters", check_pieces(v, 7) && strv_len(v) == 43);
		strv_free(&v);
	}
	/* decomposed text: a tone mark stays with its letter */
	for (int i = 0; i < 50; i++) {
		char *next = xasprintf("%sa\xCC\x81", nfd ? nfd : "");	/* a + COMBINING ACUTE */

		free(nfd);
		nfd = next;
	}
	v = wf_split(nfd, 9);
	T_CHECK("split: never before a combining mark", check_pieces(v, 9));
	for (size_t i = 0; v[i]; i++)
		if (wf_units(v[i], strlen(v[i])) % 2)
			T_CHECK("split: mark stays with its letter", 0);
	strv_free(&v);
	free(nfd);
	/* emoji: two units each, never split */
	v = wf_split("😀😀😀😀😀", 3);
	T_CHECK("split: astral characters whole", check_pieces(v, 3) && strv_len(v) == 5);
	strv_free(&v);

	for (int i = 0; i < 1000; i++) {
		char *next = xasprintf("%sĐơn vị số %d đã nộp báo cáo. ", long_vi ? long_vi : "", i);

		free(long_vi);
		long_vi = next;
	}
	v = wf_split(long_vi, 4000);
	n = strv_len(v);
	T_CHECK("split: a long Vietnamese text", check_pieces(v, 4000) && n >= 7 && n <= 9);
	{
		/* nothing lost but the blanks at the cuts */
		size_t total = 0, want = 0;

		for (size_t i = 0; v[i]; i++)
			for (const char *p = v[i]; *p; p++)
				total += *p != ' ';
		for (const char *p = long_vi; *p; p++)
			want += *p != ' ';
		T_CHECK("split: every character kept", total == want);
	}
	strv_free(&v);
	free(long_vi);

	{
		char *t = wf_truncate("Nhắc hạn nộp báo cáo tháng", 10);

		T_STREQ("truncate: ellipsis, whole characters", t, "Nhắc hạn…");
		free(t);
		t = wf_truncate("ngắn", 10);
		T_STREQ("truncate: short text unchanged", t, "ngắn");
		free(t);
	}
}

#define Z "\xE2\x80\x8B"	/* U+200B */

/* escaped - wf_escape(kind, in) == want */
static int escaped(enum wf_kind kind, const char *in, const char *want)
{
	char *got = wf_escape(kind, in);
	int ok = !strcmp(got, want);

	if (!ok)
		printf("  wf_escape(%s, \"%s\") = \"%s\"\n", wf_kind_info(kind)->name, in, got);
	free(got);
	return ok;
}

static void test_escapes(void)
{
	struct wf_message m;
	char err[512];
	size_t longest = 0;

	T_CHECK("escape slack: entities for <!channel>, <url|text>, &", escaped(WF_SLACK,
		"<!channel> <https://x.example/d|Bấm vào đây> & *đậm*", "&lt;!channel&gt; &lt;https://x.example/d|Bấm vào đây&gt; &amp; *đậm*"));
	T_CHECK("escape mattermost: mentions, links, emphasis, code, headings", escaped(WF_MATTERMOST,
		"# Xã @channel @Here @all @nguyenvana, hộp thư a@b.vn [Bấm vào đây](https://x.example/d) *đậm* _nghiêng_ ~~gạch~~ `mã` |a|b| <https://x> \\",
		"\\# Xã @" Z "channel @" Z "Here @" Z "all @" Z "nguyenvana, hộp thư a@b.vn \\[Bấm vào đây\\](https://x.example/d) \\*đậm\\*"
		" \\_nghiêng\\_ \\~\\~gạch\\~\\~ \\`mã\\` \\|a\\|b\\| \\<https://x\\> \\\\"));
	T_CHECK("escape mattermost: # only at a line's start, @ only at a word's start", escaped(WF_MATTERMOST,
		"Số #12\n#Tiêu đề\nthu@so.vn @ một @.x", "Số #12\n\\#Tiêu đề\nthu@so.vn @ một @.x"));
	T_CHECK("escape teams: links and emphasis", escaped(WF_TEAMS,
		"[Bấm vào đây](https://x.example/d) **đậm** _nghiêng_ \\ @channel", "\\[Bấm vào đây\\](https://x.example/d) \\*\\*đậm\\*\\* \\_nghiêng\\_ \\\\ @channel"));
	T_CHECK("escape discord: spoilers, @everyone, @here, masked links, mentions, headings", escaped(WF_DISCORD,
		"||bí mật|| @everyone @Here @nguyenvana [Bấm](https://x.example/d) <@123> *đậm*\n# Lớn\n-# nhỏ\n- mục",
		"\\|\\|bí mật\\|\\| @" Z "everyone @" Z "Here @nguyenvana \\[Bấm\\](https://x.example/d) \\<@123\\> \\*đậm\\*\n\\# Lớn\n\\-# nhỏ\n\\- mục"));
	T_CHECK("escape googlechat: <users/all> and hidden links", escaped(WF_GOOGLECHAT,
		"<users/all> <users/123> <https://x.example/d|Bấm vào đây>", "<" Z "users/all> <" Z "users/123> <" Z "https://x.example/d|Bấm vào đây>"));
	T_CHECK("escape telegram: plain text as is", escaped(WF_TELEGRAM, "*x* [a](b) @all", "*x* [a](b) @all"));
	T_CHECK("escape json: as is", escaped(WF_JSON, "*x* [a](b) @all", "*x* [a](b) @all"));

	/* escapes do not push a post past the service's limit */
	{
		struct buf in = { 0 };

		BUF_PUT(&in, "{\"channel\":{\"name\":\"c\",\"kind\":\"discord\",\"url\":\"https://d/x\"},\"dedup_key\":\"k\",\"text\":\"");
		for (int i = 0; i < 900; i++)
			BUF_PUT(&in, "*_ ");
		BUF_PUT(&in, "\"}");
		T_CHECK("discord: a text of markup characters parses", parse(in.p, &m, err, sizeof(err)) == 0);
		for (size_t k = 0; k < m.nposts; k++) {
			json_t *b = json_loads(m.posts[k].body, 0, NULL);
			const char *c = json_string_value(json_object_get(b, "content"));

			if (c && wf_units(c, strlen(c)) > longest)
				longest = wf_units(c, strlen(c));
			json_decref(b);
		}
		T_CHECK("discord: escaped parts still within 2000", m.nposts >= 2 && longest <= 2000 && longest > 1500);
		wf_message_clear(&m);
		free(in.p);
	}
}

#define ZB(s) s, strlen(s)

/* Zalo: the url gets the API path, the errors are read from a 200 body */
static void test_zalo(void)
{
	struct wf_message m;
	char err[512], *reason = NULL;
	long wait = -1, zc = 1;
	static const char *body0 = "{\"error\":0,\"message\":\"Success\"}";

	T_CHECK("zalo parses", parse("{\"channel\":{\"name\":\"oa\",\"kind\":\"zalo\",\"url\":\"https://openapi.zalo.me/\","
				     "\"secret\":\"tok\",\"chat_id\":\"123\"},\"dedup_key\":\"k\",\"title\":\"T\",\"text\":\"Xã\"}",
				     &m, err, sizeof(err)) == 0);
	T_STREQ("zalo url", m.ch.url, "https://openapi.zalo.me/v3.0/oa/message/cs");
	T_STREQ("zalo body", m.posts[0].body, "{\"recipient\":{\"user_id\":\"123\"},\"message\":{\"text\":\"T\\nXã\"}}");
	wf_message_clear(&m);
	T_CHECK("zalo without a recipient is refused", parse("{\"channel\":{\"name\":\"oa\",\"kind\":\"zalo\",\"url\":\"https://z\","
							     "\"secret\":\"tok\"},\"dedup_key\":\"k\",\"text\":\"X\"}", &m, err,
							     sizeof(err)) == -1 && strstr(err, "group_id"));
	wf_message_clear(&m);

	T_CHECK("error 0 is sent", wf_zalo_verdict(body0, strlen(body0), "u", &wait, &reason, &zc) == WF_SENT && wait == 0);
	free(reason);
	T_CHECK("-216 retries", wf_zalo_verdict(ZB("{\"error\":-216,\"message\":\"x\"}"), "u", &wait, &reason, &zc) == WF_RETRY
		&& strstr(reason, "access token"));
	free(reason);
	T_CHECK("-230 fails for the recipient", wf_zalo_verdict(ZB("{\"error\":-230}"), "u7", &wait, &reason, &zc) == WF_FAILED
		&& strstr(reason, "recipient u7 has not interacted"));
	free(reason);
	T_CHECK("-144 waits an hour", wf_zalo_verdict(ZB("{\"error\":-144}"), "u", &wait, &reason, &zc) == WF_RETRY && wait == 3600);
	free(reason);
	T_CHECK("an unknown code fails with it", wf_zalo_verdict(ZB("{\"error\":-5}"), "u", &wait, &reason, &zc) == WF_FAILED
		&& strstr(reason, "error -5"));
	free(reason);
	T_CHECK("no error field fails", wf_zalo_verdict(ZB("<html>"), "u", &wait, &reason, &zc) == WF_FAILED
		&& strstr(reason, "no integer"));
	free(reason);
}

static void test_bodies(void)
{
	struct wf_message m;
	char err[512];

	T_CHECK("slack parses", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"slack\",\"url\":\"https://hooks.slack.com/x\"},"
				      "\"dedup_key\":\"k1\",\"title\":\"Nhắc <hạn>\",\"text\":\"A & B\"}", &m, err, sizeof(err)) == 0);
	T_STREQ("slack body", m.posts[0].body, "{\"text\":\"Nhắc &lt;hạn&gt;\\nA &amp; B\",\"mrkdwn\":false}");
	T_STREQ("webhook-id is the dedup key", m.posts[0].id, "k1");
	wf_message_clear(&m);

	T_CHECK("mattermost parses", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"mattermost\",\"url\":\"https://mm/x\"},"
					   "\"dedup_key\":\"k\",\"title\":\"T\",\"text\":\"X\"}", &m, err, sizeof(err)) == 0);
	T_STREQ("mattermost body", m.posts[0].body, "{\"text\":\"T\\nX\"}");
	wf_message_clear(&m);

	T_CHECK("googlechat parses", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"googlechat\",\"url\":\"https://chat/x\"},"
					   "\"dedup_key\":\"k\",\"title\":\"T\",\"text\":\"X\"}", &m, err, sizeof(err)) == 0);
	T_STREQ("googlechat body", m.posts[0].body, "{\"text\":\"T\\nX\"}");
	wf_message_clear(&m);

	T_CHECK("discord parses", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"discord\",\"url\":\"https://discord/x\"},"
					"\"dedup_key\":\"k\",\"title\":\"T\",\"text\":\"@everyone X\"}", &m, err, sizeof(err)) == 0);
	T_STREQ("discord body", m.posts[0].body, "{\"content\":\"T\\n@\xE2\x80\x8B" "everyone X\",\"allowed_mentions\":{\"parse\":[]}}");
	wf_message_clear(&m);

	T_CHECK("telegram parses", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"telegram\",\"url\":\"https://api.telegram.org/botX/sendMessage\","
					 "\"chat_id\":\"-100123\"},\"dedup_key\":\"k\",\"title\":\"T\",\"text\":\"X\"}", &m, err, sizeof(err)) == 0);
	T_STREQ("telegram body", m.posts[0].body, "{\"chat_id\":\"-100123\",\"text\":\"T\\n\\nX\"}");
	wf_message_clear(&m);
	T_CHECK("telegram numeric chat_id", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"telegram\",\"url\":\"https://t/x\","
						  "\"chat_id\":42},\"dedup_key\":\"k\",\"text\":\"X\"}", &m, err, sizeof(err)) == 0
		&& !strcmp(m.posts[0].body, "{\"chat_id\":42,\"text\":\"X\"}"));
	wf_message_clear(&m);

	T_CHECK("teams parses", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"teams\",\"url\":\"https://prod.logic.azure.com/x\"},"
				      "\"dedup_key\":\"k\",\"title\":\"T\",\"text\":\"X\"}", &m, err, sizeof(err)) == 0);
	T_STREQ("teams adaptive card", m.posts[0].body,
		"{\"type\":\"message\",\"attachments\":[{\"contentType\":\"application/vnd.microsoft.card.adaptive\","
		"\"content\":{\"$schema\":\"http://adaptivecards.io/schemas/adaptive-card.json\",\"type\":\"AdaptiveCard\","
		"\"version\":\"1.4\",\"body\":[{\"type\":\"TextBlock\",\"text\":\"T\",\"weight\":\"Bolder\",\"wrap\":true},"
		"{\"type\":\"TextBlock\",\"text\":\"X\",\"wrap\":true}]}}]}");
	wf_message_clear(&m);

	T_CHECK("json parses", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"json\",\"url\":\"https://x/y\",\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"},"
				     "\"dedup_key\":\"BC/1\",\"title\":\"T\",\"text\":\"X\",\"event\":{\"kind\":\"reminder\"}}", &m, err, sizeof(err)) == 0);
	T_STREQ("json generic payload", m.posts[0].body,
		"{\"type\":\"thidua.notification\",\"id\":\"BC/1\",\"title\":\"T\",\"text\":\"X\",\"event\":{\"kind\":\"reminder\"}}");
	T_CHECK("json key decoded", m.ch.key && m.ch.keylen == 24);
	T_CHECK("json body: escapes as jansson does", body_as_jansson("\"Nhắc\" hạn\\", "a\x01b\bc\fd\ne\rf\tg\x1fh\x7fi /é 😀", 0));
	T_CHECK("json body: split parts as jansson writes them", body_as_jansson("Tiêu đề \"x\"",
		"Một đoạn văn bản dài \"có\" dấu ngoặc\n\tvà ký tự điều khiển \x02, cắt thành nhiều phần để gửi.", 40));
	wf_message_clear(&m);
	T_CHECK("json without event", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"json\",\"url\":\"https://x/y\"},"
					    "\"dedup_key\":\"k\",\"text\":\"X\"}", &m, err, sizeof(err)) == 0
		&& !strcmp(m.posts[0].body, "{\"type\":\"thidua.notification\",\"id\":\"k\",\"title\":\"\",\"text\":\"X\",\"event\":null}")
		&& !m.ch.key);
	wf_message_clear(&m);

	T_CHECK("defaults: telegram 0.25/s burst 5 (20 a minute to a group)", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"telegram\",\"url\":\"https://t/x\","
							 "\"chat_id\":\"1\"},\"dedup_key\":\"k\",\"text\":\"X\"}", &m, err, sizeof(err)) == 0
		&& m.ch.rate == 0.25 && m.ch.burst == 5 && m.ch.max_length == 4096 && m.ch.timeout == 30
		&& m.ch.connect_timeout == 10 && m.ch.split == 1 && m.ch.allow_private == -1);
	wf_message_clear(&m);
	T_CHECK("channel settings win, the service's limit caps", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"discord\","
		"\"url\":\"https://d/x\",\"rate\":0.5,\"burst\":2,\"max_length\":5000,\"timeout\":7,\"connect_timeout\":3,"
		"\"allow_private\":false},\"dedup_key\":\"k\",\"text\":\"X\"}", &m, err, sizeof(err)) == 0
		&& m.ch.rate == 0.5 && m.ch.burst == 2 && m.ch.max_length == 2000 && m.ch.timeout == 7
		&& m.ch.connect_timeout == 3 && m.ch.allow_private == 0);
	wf_message_clear(&m);

	T_CHECK("unknown kind refused", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"zalo\",\"url\":\"https://x\"},"
					      "\"dedup_key\":\"k\",\"text\":\"X\"}", &m, err, sizeof(err)) == -1 && strstr(err, "zalo"));
	wf_message_clear(&m);
	T_CHECK("telegram without chat_id refused", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"telegram\",\"url\":\"https://x\"},"
							  "\"dedup_key\":\"k\",\"text\":\"X\"}", &m, err, sizeof(err)) == -1 && strstr(err, "chat_id"));
	wf_message_clear(&m);
	T_CHECK("dedup_key with a line break refused", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"slack\",\"url\":\"https://x\"},"
							     "\"dedup_key\":\"k\\r\\nX-Evil: 1\",\"text\":\"X\"}", &m, err, sizeof(err)) == -1);
	wf_message_clear(&m);
	T_CHECK("no text refused", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"slack\",\"url\":\"https://x\"},"
					 "\"dedup_key\":\"k\"}", &m, err, sizeof(err)) == -1);
	wf_message_clear(&m);
	T_CHECK("bad whsec refused", parse("{\"channel\":{\"name\":\"c\",\"kind\":\"json\",\"url\":\"https://x\",\"secret\":\"whsec_!!\"},"
					   "\"dedup_key\":\"k\",\"text\":\"X\"}", &m, err, sizeof(err)) == -1 && strstr(err, "secret")
		&& !strstr(err, "whsec_!!"));
	wf_message_clear(&m);
}

static void test_long_messages(void)
{
	struct wf_message m;
	char err[512], *text = NULL, *payload;
	int ok = 1;

	for (int i = 0; i < 600; i++) {
		char *next = xasprintf("%sXã %d đã nộp. ", text ? text : "", i);

		free(text);
		text = next;
	}
	/* telegram: split in numbered posts of at most 4096 characters */
	payload = xasprintf("{\"channel\":{\"name\":\"c\",\"kind\":\"telegram\",\"url\":\"https://t/x\",\"chat_id\":\"1\"},"
			    "\"dedup_key\":\"K\",\"title\":\"Báo cáo\",\"text\":\"%s\"}", text);
	T_CHECK("telegram long parses", parse(payload, &m, err, sizeof(err)) == 0);
	T_CHECK("telegram long: three posts", m.nposts == 3);
	for (size_t k = 0; k < m.nposts; k++) {
		char *t = body_member(m.posts[k].body, "text"), want[32], id[32];

		snprintf(want, sizeof(want), "(%zu/%zu) ", k + 1, m.nposts);
		snprintf(id, sizeof(id), "K#%zu", k + 1);
		ok &= t && wf_units(t, strlen(t)) <= 4096 && !strncmp(t, want, strlen(want)) && utf8_valid_str(t)
		      && !strcmp(m.posts[k].id, id);
		free(t);
	}
	T_CHECK("telegram long: numbered, within 4096, ids per part", ok);
	wf_message_clear(&m);
	free(payload);

	/* discord without split: one post cut to 2000 with an ellipsis */
	payload = xasprintf("{\"channel\":{\"name\":\"c\",\"kind\":\"discord\",\"url\":\"https://d/x\",\"split\":false},"
			    "\"dedup_key\":\"K\",\"title\":\"Báo cáo\",\"text\":\"%s\"}", text);
	T_CHECK("discord long parses", parse(payload, &m, err, sizeof(err)) == 0 && m.nposts == 1 && m.truncated);
	{
		char *t = body_member(m.posts[0].body, "content");
		size_t n = t ? strlen(t) : 0;

		T_CHECK("discord long: cut to 2000 with …", t && wf_units(t, n) == 2000 && n > 3
			&& !strcmp(t + n - 3, "…") && utf8_valid_str(t));
		free(t);
	}
	wf_message_clear(&m);
	free(payload);

	/* teams with a configured limit: the title repeats with (k/n), the text is split */
	payload = xasprintf("{\"channel\":{\"name\":\"c\",\"kind\":\"teams\",\"url\":\"https://x/y\",\"max_length\":3000},"
			    "\"dedup_key\":\"K\",\"title\":\"Báo cáo\",\"text\":\"%s\"}", text);
	T_CHECK("teams long parses", parse(payload, &m, err, sizeof(err)) == 0 && m.nposts == 3);
	T_CHECK("teams long: title numbered", m.nposts > 1 && strstr(m.posts[1].body, "\"text\":\"Báo cáo (2/3)\"") != NULL);
	wf_message_clear(&m);
	free(payload);

	/* json with a limit: part and parts in the body, the id per part */
	payload = xasprintf("{\"channel\":{\"name\":\"c\",\"kind\":\"json\",\"url\":\"https://x/y\",\"max_length\":5000},"
			    "\"dedup_key\":\"K\",\"title\":\"T\",\"text\":\"%s\"}", text);
	T_CHECK("json long parses", parse(payload, &m, err, sizeof(err)) == 0 && m.nposts == 2);
	T_CHECK("json long: part, parts, id", m.nposts == 2 && strstr(m.posts[1].body, "\"id\":\"K#2\"")
		&& strstr(m.posts[1].body, "\"part\":2") && strstr(m.posts[1].body, "\"parts\":2")
		&& !strcmp(m.posts[1].id, "K#2"));
	wf_message_clear(&m);
	free(payload);
	free(text);
}

static void test_answers(void)
{
	char *r;

	T_CHECK("classify 200", wf_classify(200) == WF_SENT);
	T_CHECK("classify 204", wf_classify(204) == WF_SENT);
	T_CHECK("classify 408 425 429 500 503", wf_classify(408) == WF_RETRY && wf_classify(425) == WF_RETRY
		&& wf_classify(429) == WF_RETRY && wf_classify(500) == WF_RETRY && wf_classify(503) == WF_RETRY);
	T_CHECK("classify 410", wf_classify(410) == WF_GONE);
	T_CHECK("classify 301 400 403 404", wf_classify(301) == WF_FAILED && wf_classify(400) == WF_FAILED
		&& wf_classify(403) == WF_FAILED && wf_classify(404) == WF_FAILED);

	T_CHECK("retry_after: slack/discord top level", wf_body_retry_after("{\"retry_after\": 30}", 19) == 30);
	T_CHECK("retry_after: discord fraction rounds up", wf_body_retry_after("{\"retry_after\":0.25}", 20) == 1);
	{
		const char *tg = "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after 7\","
				 "\"parameters\":{\"retry_after\":7}}";

		T_CHECK("retry_after: telegram parameters", wf_body_retry_after(tg, strlen(tg)) == 7);
	}
	T_CHECK("retry_after: none in text", wf_body_retry_after("rate_limited", 12) == -1);
	T_CHECK("retry_after: none in empty", wf_body_retry_after("", 0) == -1);

	r = wf_reason(404, "no_service", 10);
	T_STREQ("reason: status and body", r, "HTTP 404: no_service");
	free(r);
	r = wf_reason(500, "bad\xff\xfe byte\r\n\tand  more", 22);
	T_STREQ("reason: made valid, one line", r, "HTTP 500: bad\xEF\xBF\xBD\xEF\xBF\xBD byte and more");
	free(r);
	{
		char big[300];

		memset(big, 'a', sizeof(big));
		memcpy(big + 199, "ắ", 3);	/* a character across the 200-byte line */
		r = wf_reason(400, big, sizeof(big));
		T_CHECK("reason: 200 bytes, no cut character", strlen(r) == strlen("HTTP 400: ") + 199 && utf8_valid_str(r));
		free(r);
	}
	r = wf_reason(502, NULL, 0);
	T_STREQ("reason: no body", r, "HTTP 502");
	free(r);
}

static void test_rate(void)
{
	struct rate_table *t = rate_table_new();
	struct rate_bucket *b = rate_get(t, "https://x/1", 2.0, 3, 100.0), *b2;
	int took = 0;

	for (int i = 0; i < 3; i++)
		took += rate_take(b, 100.0) == 0;
	T_CHECK("rate: a full bucket gives burst tokens", took == 3);
	T_CHECK("rate: then waits 1/rate", rate_take(b, 100.0) > 0.49 && rate_take(b, 100.0) < 0.51);
	T_CHECK("rate: a token after 1/rate", rate_take(b, 100.5) == 0 && rate_take(b, 100.5) > 0);
	T_CHECK("rate: never above burst", (rate_take(b, 1000.0), b->tb.tokens <= 3));
	rate_block(b, 1100.0);
	T_CHECK("rate: a server's wait holds the bucket", rate_take(b, 1050.0) > 49.9);
	T_CHECK("rate: free again after the wait", rate_take(b, 1100.0) == 0);
	b2 = rate_get(t, "https://x/1", 5.0, 10, 1100.0);
	T_CHECK("rate: same key, same bucket, new settings", b2 == b && b->tb.rate == 5.0 && b->tb.burst == 10);
	rate_put(b2);
	T_CHECK("rate: held buckets are kept", rate_expire(t, 5000.0) == 1);
	rate_put(b);
	T_CHECK("rate: idle full buckets go", rate_expire(t, 5000.0) == 0);
	rate_table_destroy(&t);
	T_CHECK("rate: destroy clears the pointer", t == NULL);
}

int main(void)
{
	test_signature();
	test_units();
	test_split();
	test_bodies();
	test_escapes();
	test_long_messages();
	test_answers();
	test_rate();
	test_zalo();
	return t_failed ? 1 : 0;
}
