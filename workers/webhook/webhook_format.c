/*
 * webhook_format.c - the bodies thidua-webhook posts and the reading of the answers.
 *
 * Owns nothing beyond what it returns: every string and strv handed back is fresh and the
 * caller's; a wf_message owns its channel strings, key and posts until wf_message_clear.
 * No clock here: the signature takes the timestamp from the caller.
 */
#include <math.h>	/* isfinite only: the programs are not linked with libm */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "buf.h"
#include "jdump.h"
#include "sha256.h"
#include "utf8.h"
#include "xalloc.h"
#include "webhook_format.h"

#define WF_MIN_LENGTH 32	/* a smaller configured limit could not hold "(1/2) " and a word */
#define WF_MAX_KEY 512		/* longest dedup key accepted, in bytes */

/* rates and limits per kind; the services' documents, read conservatively. Telegram: a bot
 * sends at most 20 messages a minute to one group; a token bucket lets through at most
 * burst + 60 * rate in any minute: 5 + 15 */
static const struct wf_kind_info kinds[WF_NKINDS] = {
	[WF_SLACK]      = { "slack",      1.0,   3, 40000, 40000 },
	[WF_MATTERMOST] = { "mattermost", 10.0, 10, 16383,     0 },
	[WF_TEAMS]      = { "teams",      4.0,   4, 12000,     0 },
	[WF_TELEGRAM]   = { "telegram",   0.25,  5,  4096,  4096 },
	[WF_GOOGLECHAT] = { "googlechat", 1.0,   5,  4096,     0 },
	[WF_DISCORD]    = { "discord",    5.0,   5,  2000,  2000 },
	[WF_JSON]       = { "json",      50.0, 100,     0,     0 },
	/* Zalo OA: a customer-service text holds at most 2000 characters; ZNS is one template
	 * message per phone, its parameters are cut by the template itself */
	[WF_ZALO]       = { "zalo",       5.0,  10,  2000,  2000 },
	[WF_ZNS]        = { "zns",        5.0,  10,     0,     0 },
};

/* wf_kind_info - the defaults of a kind */
const struct wf_kind_info *wf_kind_info(enum wf_kind kind)
{
	return &kinds[kind];
}

/* wf_kind_parse - a kind by its name */
int wf_kind_parse(const char *name, enum wf_kind *kind)
{
	for (int i = 0; i < WF_NKINDS; i++)
		if (name && !strcmp(name, kinds[i].name)) {
			*kind = (enum wf_kind)i;
			return 0;
		}
	return -1;
}

/* utf8_char - length of the well-formed character at s (at most len bytes), its code
 * point in *cp; 0 when the bytes there are not one (overlong, surrogate, cut short) */
static size_t utf8_char(const unsigned char *s, size_t len, unsigned *cp)
{
	return utf8_next((const char *)s, len, cp);
}

/* utf8_step - like utf8_char for text already known to be valid; a stray byte counts as
 * one character so that a walk always moves on */
static size_t utf8_step(const unsigned char *s, size_t len, unsigned *cp)
{
	size_t n = utf8_char(s, len, cp);

	if (!n) {
		*cp = 0xFFFD;
		n = 1;
	}
	return n;
}

static size_t cp_units(unsigned cp)
{
	return cp >= 0x10000 ? 2 : 1;
}

/* is_combining - marks that belong to the character before them (Vietnamese text in
 * decomposed form carries its tones this way) */
static int is_combining(unsigned cp)
{
	return utf8_is_mark(cp);
}

static int is_blank(unsigned cp)
{
	return cp == ' ' || cp == '\n' || cp == '\r' || cp == '\t';
}

/* wf_units - UTF-16 code units of s[0..len) */
size_t wf_units(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, units = 0;

	while (i < len) {
		unsigned cp;

		i += utf8_step(s + i, len - i, &cp);
		units += cp_units(cp);
	}
	return units;
}

/* back_off_marks - move a cut at end (> pos) back so no combining mark starts a piece */
static size_t back_off_marks(const unsigned char *s, size_t n, size_t pos, size_t end)
{
	size_t cut = end;

	while (cut > pos && cut < n) {
		unsigned cp;

		utf8_step(s + cut, n - cut, &cp);
		if (!is_combining(cp))
			break;
		do
			cut--;
		while (cut > pos && (s[cut] & 0xC0) == 0x80);
	}
	return cut > pos ? cut : end;
}

/* trim_end - length of s[0..len) without trailing blanks */
static size_t trim_end(const char *s, size_t len)
{
	while (len > 0 && is_blank((unsigned char)s[len - 1]))
		len--;
	return len;
}

/* wf_split - pieces of at most budget units; see the header */
char **wf_split(const char *text, size_t budget)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), pos = 0;
	char **v = NULL;

	if (budget < 2)
		budget = 2;	/* room for any one character */
	while (pos < n) {
		size_t i = pos, units = 0, nl = SIZE_MAX, sp = SIZE_MAX, end, len;

		while (i < n) {
			unsigned cp;
			size_t cl = utf8_step(s + i, n - i, &cp);

			if (units + cp_units(cp) > budget)
				break;
			if (units >= budget / 2) {
				if (cp == '\n')
					nl = i;
				else if (cp == ' ' || cp == '\t')
					sp = i;
			}
			units += cp_units(cp);
			i += cl;
		}
		if (i >= n)
			end = n;
		else if (nl != SIZE_MAX)
			end = nl;
		else if (sp != SIZE_MAX)
			end = sp;
		else
			end = back_off_marks(s, n, pos, i);
		len = trim_end(text + pos, end - pos);
		if (len > 0) {
			char *piece = xstrndup(text + pos, len);

			v = strv_append(v, piece);
			free(piece);
		}
		pos = end;
		while (pos < n && is_blank(s[pos]))
			pos++;
	}
	if (!v)
		v = strv_append(NULL, "");
	return v;
}

/* wf_truncate - cut to max units with an ellipsis */
char *wf_truncate(const char *text, size_t max)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), i = 0, units = 0, end;
	char *out;

	if (wf_units(text, n) <= max)
		return xstrdup(text);
	if (max < 2)
		max = 2;
	while (i < n) {
		unsigned cp;
		size_t cl = utf8_step(s + i, n - i, &cp);

		if (units + cp_units(cp) > max - 1)	/* "…" is one unit */
			break;
		units += cp_units(cp);
		i += cl;
	}
	end = i > 0 ? back_off_marks(s, n, 0, i) : 0;
	end = trim_end(text, end);
	out = xmalloc(end + sizeof("…"));
	memcpy(out, text, end);
	memcpy(out + end, "…", sizeof("…"));
	return out;
}

/* wf_clean_utf8 - raw bytes as one clean line */
char *wf_clean_utf8(const char *data, size_t len, size_t maxin)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t window = len < maxin ? len : maxin, i = 0, o = 0;
	char *out = xmalloc(window * 3 + 1);	/* a bad byte (1) becomes U+FFFD (3) */

	while (i < window) {
		unsigned cp;
		size_t cl = utf8_char(s + i, window - i, &cp);

		if (!cl) {
			unsigned c = s[i];
			size_t want = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;

			if (want && i + want > window && window < len)
				break;	/* a character cut by the window, not a bad one */
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
			continue;
		}
		if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
			if (o > 0 && out[o - 1] != ' ')
				out[o++] = ' ';
		} else if (cp == ' ') {
			if (o > 0 && out[o - 1] != ' ')
				out[o++] = ' ';
		} else {
			memcpy(out + o, s + i, cl);
			o += cl;
		}
		i += cl;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = 0;
	return out;
}

/* wf_secret_decode - the signing key of a json channel */
int wf_secret_decode(const char *secret, unsigned char **key, size_t *keylen)
{
	*key = NULL;
	*keylen = 0;
	if (!secret || !*secret)
		return -1;
	if (!strncmp(secret, "whsec_", 6)) {
		*key = b64_decode(secret + 6, keylen);
		if (!*key || *keylen == 0) {
			free(*key);
			*key = NULL;
			return -1;
		}
		return 0;
	}
	*keylen = strlen(secret);
	*key = (unsigned char *)xstrdup(secret);
	return 0;
}

/* wf_sign - v1 signature of id.timestamp.body */
char *wf_sign(const unsigned char *key, size_t keylen, const char *id, long long timestamp,
	      const char *body, size_t bodylen)
{
	/* HMAC-SHA256 over "id.timestamp.body", hashed piece by piece (no copy of the body);
	 * the key's inner and outer states are kept for the next post with the same key */
	static struct hmac_sha256 h;
	static unsigned char kept[64];
	static size_t keptlen;
	static int have;
	unsigned char mac[32];
	char ts[32];
	struct sha256 c;
	char *b64, *sig;
	int n;

	if (!have || keptlen != keylen || keylen > sizeof(kept) || memcmp(kept, key, keylen)) {
		hmac_sha256_key(&h, key, keylen);
		have = keylen <= sizeof(kept);
		if (have)
			memcpy(kept, key, keylen);
		keptlen = keylen;
	}
	n = snprintf(ts, sizeof(ts), ".%lld.", timestamp);
	c = h.inner;
	sha256_update(&c, id, strlen(id));
	sha256_update(&c, ts, (size_t)n);
	sha256_update(&c, body, bodylen);
	hmac_sha256_end(&h, &c, mac);
	b64 = b64_encode(mac, sizeof(mac));
	sig = xasprintf("v1,%s", b64);
	free(b64);
	return sig;
}

/* wf_classify - what a status means for the message */
enum wf_verdict wf_classify(long status)
{
	if (status >= 200 && status < 300)
		return WF_SENT;
	if (status == 410)
		return WF_GONE;
	if (status == 408 || status == 425 || status == 429 || (status >= 500 && status < 600))
		return WF_RETRY;
	return WF_FAILED;
}

/* wf_body_retry_after - the wait a JSON answer asks for */
long wf_body_retry_after(const char *body, size_t len)
{
	json_t *root, *v;
	double secs = -1;

	if (!body || !len)
		return -1;
	root = json_loadb(body, len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return -1;
	}
	v = json_object_get(json_object_get(root, "parameters"), "retry_after");
	if (!json_is_number(v))
		v = json_object_get(root, "retry_after");
	if (json_is_number(v) && json_number_value(v) >= 0 && isfinite(json_number_value(v)))
		secs = json_number_value(v);
	json_decref(root);
	if (secs < 0)
		return -1;
	if (secs > 1e9)
		secs = 1e9;
	return wf_ceil(secs);
}

/* wf_ceil - round seconds up */
long wf_ceil(double x)
{
	long n;

	if (!(x > 0))
		return 0;
	if (x > 1e9)
		return 1000000000L;
	n = (long)x;
	return (double)n < x ? n + 1 : n;
}

/* wf_reason - a status and the start of what the server said */
char *wf_reason(long status, const char *body, size_t len)
{
	char *clean = body ? wf_clean_utf8(body, len, 200) : xstrdup("");
	char *r = *clean ? xasprintf("HTTP %ld: %s", status, clean) : xasprintf("HTTP %ld", status);

	free(clean);
	return r;
}

/* ---- reading a payload ---- */

/* get_string - a string member or NULL */
static const char *get_string(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* get_long - an integer (or whole real) member within [min, max], else dflt */
static long get_long(json_t *o, const char *key, long dflt, long min, long max)
{
	json_t *v = json_object_get(o, key);
	double d;

	if (!json_is_number(v))
		return dflt;
	d = json_number_value(v);
	if (!isfinite(d) || d <= 0)
		return dflt;
	if (d < min)
		return min;
	if (d > max)
		return max;
	return (long)d;
}

/* header_safe - no control characters, so the text can be a header value */
static int header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			return 0;
	return 1;
}

/* read_zalo - a zalo or zns channel: the access token (secret), the recipient, and the
 * API path added to the base url (https://openapi.zalo.me, https://business.openapi.zalo.me;
 * the tests point it at a server on loopback) */
static int read_zalo(json_t *c, struct wf_channel *ch, char *err, size_t errsize)
{
	const char *token = get_string(c, "secret"), *path;
	const char *user = get_string(c, "chat_id"), *group = get_string(c, "group_id");
	const char *phone = get_string(c, "phone"), *tpl = get_string(c, "template_id");
	size_t n = strlen(ch->url);
	char *url;

	ch->unauthorised = json_is_true(json_object_get(c, "unauthorised"));
	if ((!token || !*token) && !json_is_object(json_object_get(c, "refresh"))
	    && !json_is_true(json_object_get(c, "renewing")) && !ch->unauthorised) {
		snprintf(err, errsize, "channel %s: %s needs the OA access token as secret", ch->name,
			 kinds[ch->kind].name);
		return -1;
	}
	if (token && !header_safe(token)) {
		snprintf(err, errsize, "channel %s: the access token holds control characters", ch->name);
		return -1;
	}
	ch->access_token = token && *token ? xstrdup(token) : NULL;
	if (ch->kind == WF_ZALO) {
		if (!!(user && *user) == !!(group && *group)) {
			snprintf(err, errsize, "channel %s: zalo needs either chat_id (the follower's user_id) or"
				 " group_id, not both", ch->name);
			return -1;
		}
		ch->recipient_field = user && *user ? "user_id" : "group_id";
		ch->recipient = xstrdup(user && *user ? user : group);
		path = user && *user ? "/v3.0/oa/message/cs" : "/v3.0/oa/group/message";
	} else {
		if (!phone || !*phone || !tpl || !*tpl) {
			snprintf(err, errsize, "channel %s: zns needs phone and template_id", ch->name);
			return -1;
		}
		ch->recipient_field = "phone";
		ch->recipient = xstrdup(phone);
		ch->template_id = xstrdup(tpl);
		path = "/message/template";
	}
	while (n > 0 && ch->url[n - 1] == '/')
		n--;
	url = xasprintf("%.*s%s", (int)n, ch->url, path);
	free(ch->url);
	ch->url = url;
	{
		json_t *r = json_object_get(c, "refresh");
		const char *ru = get_string(r, "url"), *app = get_string(r, "app_id");
		const char *sec = get_string(r, "app_secret"), *rt = get_string(r, "refresh_token");

		if (r && (!ru || !app || !sec || !rt || !*rt || !header_safe(sec) || !header_safe(ru))) {
			snprintf(err, errsize, "channel %s: the token renewal needs url, app_id, app_secret and refresh_token",
				 ch->name);
			return -1;
		}
		if (r) {
			n = strlen(ru);
			while (n > 0 && ru[n - 1] == '/')
				n--;
			ch->refresh_url = xasprintf("%.*s/v4/oa/access_token", (int)n, ru);
			ch->app_id = xstrdup(app);
			ch->app_secret = xstrdup(sec);
			ch->refresh_token = xstrdup(rt);
		}
	}
	return 0;
}

/* read_channel - the channel object into ch; -1 with err */
static int read_channel(json_t *c, struct wf_channel *ch, char *err, size_t errsize)
{
	const struct wf_kind_info *ki;
	const char *kind = get_string(c, "kind"), *url = get_string(c, "url"), *name = get_string(c, "name");
	const char *secret = get_string(c, "secret");
	json_t *v;
	long ml;

	if (!json_is_object(c)) {
		snprintf(err, errsize, "the payload has no channel object");
		return -1;
	}
	ch->name = xstrdup(name ? name : "?");
	if (wf_kind_parse(kind, &ch->kind)) {
		snprintf(err, errsize, "channel %s: unknown kind '%s' (slack, mattermost, teams, telegram,"
			 " googlechat, discord, json, zalo or zns)", ch->name, kind ? kind : "");
		return -1;
	}
	ki = &kinds[ch->kind];
	if (!url || !*url || strlen(url) > 8192 || !header_safe(url) || strchr(url, ' ')) {
		snprintf(err, errsize, "channel %s: the url is missing or not a valid URL", ch->name);
		return -1;
	}
	ch->url = xstrdup(url);
	if (ch->kind == WF_JSON && secret && *secret
	    && wf_secret_decode(secret, &ch->key, &ch->keylen)) {
		snprintf(err, errsize, "channel %s: the secret starts with whsec_ but the rest is not base64", ch->name);
		return -1;
	}
	if (ch->kind == WF_TELEGRAM) {
		v = json_object_get(c, "chat_id");
		if (!(json_is_string(v) && *json_string_value(v)) && !json_is_integer(v)) {
			snprintf(err, errsize, "channel %s: telegram needs chat_id", ch->name);
			return -1;
		}
		ch->chat_id = json_incref(v);
	}
	if ((ch->kind == WF_ZALO || ch->kind == WF_ZNS) && read_zalo(c, ch, err, errsize))
		return -1;
	ml = get_long(c, "max_length", 0, 1, 100000000);
	ch->max_length = ml > 0 ? (size_t)ml : ki->max_length;
	if (ki->hard_max && (ch->max_length == 0 || ch->max_length > ki->hard_max))
		ch->max_length = ki->hard_max;
	if (ch->max_length && ch->max_length < WF_MIN_LENGTH)
		ch->max_length = WF_MIN_LENGTH;
	v = json_object_get(c, "split");
	ch->split = v ? json_is_true(v) : 1;
	ch->allow_http = json_is_true(json_object_get(c, "allow_http"));
	v = json_object_get(c, "allow_private");
	ch->allow_private = v ? json_is_true(v) : -1;
	ch->connect_timeout = get_long(c, "connect_timeout", 10, 1, 300);
	ch->timeout = get_long(c, "timeout", 30, 1, 3600);
	v = json_object_get(c, "rate");
	ch->rate = json_is_number(v) && json_number_value(v) > 0 && isfinite(json_number_value(v))
		   ? json_number_value(v) : ki->rate;
	v = json_object_get(c, "burst");
	ch->burst = json_is_number(v) && json_number_value(v) >= 1 && isfinite(json_number_value(v))
		    ? (double)(long)json_number_value(v) : ki->burst;
	return 0;
}

/* ---- text that reads literally: one escape per kind ----
 *
 * Unit names, return reasons and imported text reach chat services that read markup in
 * them: a mention that notifies a whole channel (@channel, @here, @all, <users/all>,
 * @everyone), a link whose text hides its URL ([Bấm vào đây](https://…)), emphasis,
 * spoilers (||x||). Each kind's function makes the text read as written, with the escape
 * that service's renderer honours: entities (Slack), a backslash before a markup
 * character (Mattermost, Teams, Discord: CommonMark-like), or a zero-width space (U+200B)
 * that breaks a mention without changing what people see. Telegram gets plain text (no
 * parse_mode), json structured fields: neither reads markup. */

#define ZWSP "\xE2\x80\x8B"

/* name_byte - a byte that may continue a name or an address: letters (any non-ASCII byte
 * too), digits, . _ - */
static int name_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80 || c == '.'
	       || c == '_' || c == '-';
}

/* mention_at - s[i] is '@' opening a mention: at the start of a word (not inside an
 * address such as a@b.vn) and followed by a name; with words, only when the name is one of
 * them (any case) and ends there */
static int mention_at(const char *s, size_t i, const char *const *words)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = 0;

	if (s[i] != '@' || (i > 0 && name_byte(u[i - 1])) || !name_byte(u[i + 1]) || s[i + 1] == '.' || s[i + 1] == '-')
		return 0;
	if (!words)
		return 1;
	while (name_byte(u[i + 1 + n]) && s[i + 1 + n] != '.' && s[i + 1 + n] != '-')
		n++;
	for (size_t k = 0; words[k]; k++)
		if (strlen(words[k]) == n && !strncasecmp(s + i + 1, words[k], n))
			return 1;
	return 0;
}

/* slack_escape - Slack reads &, < and > as markup (<!channel>, <url|text>, <@U123>); they
 * are sent as entities, and the body turns mrkdwn off (chat_body) */
static char *slack_escape(const char *s)
{
	struct buf b = { 0 };

	for (const char *p = s; *p; p++) {
		if (*p == '&')
			BUF_PUT(&b, "&amp;");
		else if (*p == '<')
			BUF_PUT(&b, "&lt;");
		else if (*p == '>')
			BUF_PUT(&b, "&gt;");
		else
			buf_putc(&b, *p);
	}
	if (!b.p)
		BUF_PUT(&b, "");
	return b.p;
}

/* mattermost_escape - Markdown (CommonMark): a backslash before the characters that start
 * emphasis, code, links, tables, quotes and HTML, and before a heading's #; any @name at a
 * word's start (@channel, @all, @here notify everyone, @user someone) broken with U+200B */
static char *mattermost_escape(const char *s)
{
	struct buf b = { 0 };

	for (size_t i = 0; s[i]; i++) {
		if (strchr("\\`*_~[]|<>", s[i]) || (s[i] == '#' && (i == 0 || s[i - 1] == '\n')))
			buf_putc(&b, '\\');
		buf_putc(&b, s[i]);
		if (mention_at(s, i, NULL))
			BUF_PUT(&b, ZWSP);
	}
	if (!b.p)
		BUF_PUT(&b, "");
	return b.p;
}

/* teams_escape - the Markdown subset of Adaptive Cards (bold, italic, links): a backslash
 * before \ * _ [ ] */
static char *teams_escape(const char *s)
{
	struct buf b = { 0 };

	for (size_t i = 0; s[i]; i++) {
		if (strchr("\\*_[]", s[i]))
			buf_putc(&b, '\\');
		buf_putc(&b, s[i]);
	}
	if (!b.p)
		BUF_PUT(&b, "");
	return b.p;
}

/* discord_escape - Discord's Markdown: a backslash before emphasis, code, spoiler (||),
 * masked-link, quote and mention (<@id>) characters and a line's heading or subtext mark;
 * @everyone and @here broken with U+200B (allowed_mentions already stops the ping; this
 * stops the highlight) */
static char *discord_escape(const char *s)
{
	static const char *const everyone[] = { "everyone", "here", NULL };
	struct buf b = { 0 };

	for (size_t i = 0; s[i]; i++) {
		if (strchr("\\`*_~[]|<>", s[i]) || ((s[i] == '#' || s[i] == '-') && (i == 0 || s[i - 1] == '\n')))
			buf_putc(&b, '\\');
		buf_putc(&b, s[i]);
		if (mention_at(s, i, everyone))
			BUF_PUT(&b, ZWSP);
	}
	if (!b.p)
		BUF_PUT(&b, "");
	return b.p;
}

/* googlechat_escape - Google Chat has no escape character; its mentions (<users/all>,
 * <users/123>) and hidden links (<https://…|text>) all open with '<', which a U+200B after
 * it turns back into text */
static char *googlechat_escape(const char *s)
{
	struct buf b = { 0 };

	for (size_t i = 0; s[i]; i++) {
		buf_putc(&b, s[i]);
		if (s[i] == '<')
			BUF_PUT(&b, ZWSP);
	}
	if (!b.p)
		BUF_PUT(&b, "");
	return b.p;
}

/* wf_escape - text as the kind's service must receive it to show it as written */
char *wf_escape(enum wf_kind kind, const char *text)
{
	switch (kind) {
	case WF_SLACK:
		return slack_escape(text);
	case WF_MATTERMOST:
		return mattermost_escape(text);
	case WF_TEAMS:
		return teams_escape(text);
	case WF_DISCORD:
		return discord_escape(text);
	case WF_GOOGLECHAT:
		return googlechat_escape(text);
	default:
		return xstrdup(text);	/* telegram: plain text; json: fields, not markup */
	}
}

static size_t ndigits(size_t n)
{
	size_t d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

/* split_numbered - text in pieces that still fit max once "(k/n) " or " (k/n)" (affix
 * units) is added: the budget shrinks until the count's digits fit the room kept */
static char **split_numbered(const char *text, size_t max, size_t fixed)
{
	for (size_t d = 1;; d++) {
		size_t room = fixed + 4 + 2 * d;	/* "(" k "/" n ")" and a space */
		char **pieces = wf_split(text, max > room + 8 ? max - room : 8);

		if (ndigits(strv_len(pieces)) <= d || d >= 8)
			return pieces;
		strv_free(&pieces);
	}
}

/* joined_text - title and text as one message, the way chat tools show it */
static char *joined_text(const char *title, const char *text, const char *sep)
{
	if (!*title)
		return xstrdup(text);
	if (!*text)
		return xstrdup(title);
	return xasprintf("%s%s%s", title, sep, text);
}

/* fit_pieces - text split for posts of at most max units once escaped (wf_escape) and
 * numbered: the split's budget shrinks in proportion to what the escapes added to the
 * longest piece, until every piece fits */
static char **fit_pieces(enum wf_kind kind, const char *text, size_t max, size_t fixed)
{
	size_t limit = max;

	for (;;) {
		char **pieces = split_numbered(text, limit, fixed);
		size_t n = strv_len(pieces), room = n > 1 ? fixed + 4 + 2 * ndigits(n) : fixed, worst = 0, next;

		for (size_t k = 0; k < n; k++) {
			char *esc = wf_escape(kind, pieces[k]);
			size_t u = wf_units(esc, strlen(esc)) + room;

			if (u > worst)
				worst = u;
			free(esc);
		}
		if (worst <= max || limit <= WF_MIN_LENGTH)
			return pieces;
		strv_free(&pieces);
		next = (size_t)((double)limit * (double)max / (double)worst);
		next = next < limit ? next : limit - 1;
		limit = next > WF_MIN_LENGTH ? next : WF_MIN_LENGTH;
	}
}

/* fit_truncated - text cut so that, escaped, it holds at most max units; escaped */
static char *fit_truncated(enum wf_kind kind, const char *text, size_t max)
{
	size_t limit = max, next;

	for (;;) {
		char *cut = wf_truncate(text, limit), *esc = wf_escape(kind, cut);
		size_t u = wf_units(esc, strlen(esc));

		free(cut);
		if (u <= max || limit <= 2)
			return esc;
		free(esc);
		next = (size_t)((double)limit * (double)max / (double)u);
		next = next < limit ? next : limit - 1;
		limit = next > 2 ? next : 2;
	}
}

/* chat_body - the JSON of one post for the kinds that take one text, msg already escaped */
static json_t *chat_body(const struct wf_channel *ch, const char *msg)
{
	switch (ch->kind) {
	case WF_SLACK:
		return json_pack("{s:s,s:b}", "text", msg, "mrkdwn", 0);
	case WF_MATTERMOST:
	case WF_GOOGLECHAT:
		return json_pack("{s:s}", "text", msg);
	case WF_TELEGRAM:
		return json_pack("{s:O,s:s}", "chat_id", ch->chat_id, "text", msg);
	case WF_ZALO:
		return json_pack("{s:{s:s},s:{s:s}}", "recipient", ch->recipient_field, ch->recipient, "message",
				 "text", msg);
	case WF_DISCORD:
		/* no @everyone or role pings from message text */
		return json_pack("{s:s,s:{s:[]}}", "content", msg, "allowed_mentions", "parse");
	default:
		return NULL;
	}
}

/* teams_body - a Workflows post carrying an Adaptive Card; title and text escaped */
static json_t *teams_body(const char *title, const char *text)
{
	json_t *blocks = json_array();

	if (*title)
		json_array_append_new(blocks, json_pack("{s:s,s:s,s:s,s:b}", "type", "TextBlock", "text", title,
							"weight", "Bolder", "wrap", 1));
	if (*text || !*title)
		json_array_append_new(blocks, json_pack("{s:s,s:s,s:b}", "type", "TextBlock", "text", text, "wrap", 1));
	return json_pack("{s:s,s:[{s:s,s:{s:s,s:s,s:s,s:o}}]}", "type", "message", "attachments",
			 "contentType", "application/vnd.microsoft.card.adaptive", "content",
			 "$schema", "http://adaptivecards.io/schemas/adaptive-card.json", "type", "AdaptiveCard",
			 "version", "1.4", "body", blocks);
}

/* json_body_text - the generic payload (README.md, "The json kind") as the text jansson
 * would write for it, without building it as objects first: this is most of what the
 * worker does per post besides the HTTP itself */
static char *json_body_text(const char *id, const char *title, const char *text, json_t *event, size_t k,
			    size_t n)
{
	char *ev = event ? jdump(event, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	struct buf b = { 0 };

	/* the strings of a job are valid UTF-8: they were checked when the job was read */
	BUF_PUT(&b, "{\"type\":\"thidua.notification\",\"id\":");
	buf_json_str(&b, id, strlen(id));
	BUF_PUT(&b, ",\"title\":");
	buf_json_str(&b, title, strlen(title));
	BUF_PUT(&b, ",\"text\":");
	buf_json_str(&b, text, strlen(text));
	BUF_PUT(&b, ",\"event\":");
	if (ev)
		buf_put(&b, ev, strlen(ev));
	else
		BUF_PUT(&b, "null");
	if (n > 1)
		buf_printf(&b, ",\"part\":%zu,\"parts\":%zu", k, n);
	BUF_PUT(&b, "}");
	free(ev);
	return b.p;
}

/* add_json_post - post k of n of the json kind */
static void add_json_post(struct wf_message *m, const char *title, const char *text, json_t *event, size_t k,
			  size_t n)
{
	struct wf_post *p = &m->posts[m->nposts++];

	p->id = n > 1 ? xasprintf("%s#%zu", m->dedup_key, k) : xstrdup(m->dedup_key);
	p->body = json_body_text(p->id, title, text, event, k, n);
}

/* add_post - serialize body (stolen) as post k of n */
static void add_post(struct wf_message *m, json_t *body, size_t k, size_t n)
{
	struct wf_post *p = &m->posts[m->nposts++];

	p->id = n > 1 ? xasprintf("%s#%zu", m->dedup_key, k) : xstrdup(m->dedup_key);
	p->body = jdump(body, JSON_COMPACT);
	if (!p->body)
		abort();	/* only allocation fails here, and xmalloc would have ended the process */
	json_decref(body);
}

/* build_joined - the kinds that post title and text as one text */
static void build_joined(struct wf_message *m, const char *title, const char *text)
{
	const struct wf_channel *ch = &m->ch;
	char *msg = joined_text(title, text, ch->kind == WF_TELEGRAM ? "\n\n" : "\n");
	char *esc = wf_escape(ch->kind, msg);
	size_t max = ch->max_length;

	if (!max || wf_units(esc, strlen(esc)) <= max) {
		m->posts = xcalloc(1, sizeof(*m->posts));
		add_post(m, chat_body(ch, esc), 1, 1);
	} else if (!ch->split) {
		char *cut = fit_truncated(ch->kind, msg, max);

		m->truncated = 1;
		m->posts = xcalloc(1, sizeof(*m->posts));
		add_post(m, chat_body(ch, cut), 1, 1);
		free(cut);
	} else {
		char **pieces = fit_pieces(ch->kind, msg, max, 0);
		size_t n = strv_len(pieces);

		m->posts = xcalloc(n, sizeof(*m->posts));
		for (size_t k = 0; k < n; k++) {
			char *pe = wf_escape(ch->kind, pieces[k]);
			char *part = n > 1 ? xasprintf("(%zu/%zu) %s", k + 1, n, pe) : xstrdup(pe);

			add_post(m, chat_body(ch, part), k + 1, n);
			free(part);
			free(pe);
		}
		strv_free(&pieces);
	}
	free(esc);
	free(msg);
}

/* build_structured - teams and json keep the title apart: the title is repeated with
 * " (k/n)" and the text is what gets split or cut */
static void build_structured(struct wf_message *m, const char *title0, const char *text0, json_t *event)
{
	const struct wf_channel *ch = &m->ch;
	size_t max = ch->max_length, tu;
	char *title = wf_escape(ch->kind, title0), *text = wf_escape(ch->kind, text0);	/* teams; json as is */

	if (!max || wf_units(title, strlen(title)) + wf_units(text, strlen(text)) <= max) {
		m->posts = xcalloc(1, sizeof(*m->posts));
		if (ch->kind == WF_TEAMS)
			add_post(m, teams_body(title, text), 1, 1);
		else
			add_json_post(m, title, text, event, 1, 1);
		free(title);
		free(text);
		return;
	}
	free(text);
	free(title);
	title = fit_truncated(ch->kind, title0, max / 2);
	tu = wf_units(title, strlen(title));
	if (!ch->split) {
		char *cut = fit_truncated(ch->kind, text0, max - tu);

		m->truncated = 1;
		m->posts = xcalloc(1, sizeof(*m->posts));
		if (ch->kind == WF_TEAMS)
			add_post(m, teams_body(title, cut), 1, 1);
		else
			add_json_post(m, title, cut, event, 1, 1);
		free(cut);
	} else {
		char **pieces = fit_pieces(ch->kind, text0, max, tu);
		size_t n = strv_len(pieces);

		m->posts = xcalloc(n, sizeof(*m->posts));
		for (size_t k = 0; k < n; k++) {
			char *t = n > 1 ? xasprintf("%s (%zu/%zu)", title, k + 1, n) : xstrdup(title);
			char *pe = wf_escape(ch->kind, pieces[k]);

			if (ch->kind == WF_TEAMS)
				add_post(m, teams_body(t, pe), k + 1, n);
			else
				add_json_post(m, t, pe, event, k + 1, n);
			free(pe);
			free(t);
		}
		strv_free(&pieces);
	}
	free(title);
}

/* wf_message_parse - a job payload into posts */
int wf_message_parse(json_t *payload, struct wf_message *m, char *err, size_t errsize)
{
	const char *key, *title, *text;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(payload)) {
		snprintf(err, errsize, "the job has no payload object");
		return -1;
	}
	if (read_channel(json_object_get(payload, "channel"), &m->ch, err, errsize))
		return -1;
	key = get_string(payload, "dedup_key");
	if (!key || !*key || strlen(key) > WF_MAX_KEY || !header_safe(key)) {
		snprintf(err, errsize, "the payload's dedup_key is missing, longer than %d bytes or holds control"
			 " characters", WF_MAX_KEY);
		return -1;
	}
	m->dedup_key = xstrdup(key);
	title = get_string(payload, "title");
	text = get_string(payload, "text");
	if (!title)
		title = "";
	if (!text)
		text = "";
	if (!*title && !*text) {
		snprintf(err, errsize, "the message has neither title nor text");
		return -1;
	}
	if (m->ch.kind == WF_ZNS) {
		/* the template's parameters "title" and "text"; tracking_id ties the delivery
		 * report to the message */
		m->posts = xcalloc(1, sizeof(*m->posts));
		add_post(m, json_pack("{s:s,s:s,s:{s:s,s:s},s:s}", "phone", m->ch.recipient, "template_id",
				      m->ch.template_id, "template_data", "title", title, "text", text,
				      "tracking_id", m->dedup_key), 1, 1);
	} else if (m->ch.kind == WF_TEAMS || m->ch.kind == WF_JSON)
		build_structured(m, title, text, json_object_get(payload, "event"));
	else
		build_joined(m, title, text);
	return 0;
}

/* wf_message_clear - free what wf_message_parse built */
void wf_message_clear(struct wf_message *m)
{
	for (size_t i = 0; i < m->nposts; i++) {
		free(m->posts[i].id);
		free(m->posts[i].body);
	}
	free(m->posts);
	free(m->ch.name);
	free(m->ch.url);
	if (m->ch.key)
		memset(m->ch.key, 0, m->ch.keylen);
	free(m->ch.key);
	json_decref(m->ch.chat_id);
	if (m->ch.access_token)
		memset(m->ch.access_token, 0, strlen(m->ch.access_token));
	free(m->ch.access_token);
	free(m->ch.recipient);
	free(m->ch.template_id);
	free(m->ch.refresh_url);
	free(m->ch.app_id);
	if (m->ch.app_secret)
		memset(m->ch.app_secret, 0, strlen(m->ch.app_secret));
	free(m->ch.app_secret);
	if (m->ch.refresh_token)
		memset(m->ch.refresh_token, 0, strlen(m->ch.refresh_token));
	free(m->ch.refresh_token);
	free(m->dedup_key);
	memset(m, 0, sizeof(*m));
}

/* wf_zalo_verdict - see the header. Codes as the Zalo OA and ZNS documents give them:
 * -216 the access token is invalid or expired; -230 the user has not interacted with the
 * OA in the last 7 days; -213 the user does not follow the OA; -201 the user id or the
 * parameters are not valid for this OA; -32 the app's request limit and -144, -1144 the
 * OA's daily quota (both lift with time) */
enum wf_verdict wf_zalo_verdict(const char *body, size_t len, const char *recipient, long *wait, char **reason,
				long *zcode)
{
	json_error_t je;
	json_t *o = json_loadb(body ? body : "", len, 0, &je), *e = json_object_get(o, "error");
	const char *msg = json_string_value(json_object_get(o, "message"));
	char *cmsg = msg ? wf_clean_utf8(msg, strlen(msg), 200) : xstrdup("");
	enum wf_verdict v;
	json_int_t code;

	*wait = 0;
	*zcode = 0;
	if (!json_is_integer(e)) {
		char *r = wf_reason(200, body, len);

		*reason = xasprintf("the answer has no integer \"error\": %s", r);
		free(r);
		json_decref(o);
		free(cmsg);
		return WF_FAILED;
	}
	code = json_integer_value(e);
	*zcode = (long)code;
	if (code == 0) {
		*reason = xasprintf("error 0: %s", *cmsg ? cmsg : "Success");
		v = WF_SENT;
	} else if (code == -216) {
		*reason = xasprintf("error -216 (%s): the OA access token is invalid or expired; renew the"
				    " channel's secret and reload", cmsg);
		v = WF_RETRY;
	} else if (code == -230 || code == -213 || code == -201) {
		*reason = xasprintf("error %" JSON_INTEGER_FORMAT " (%s): recipient %s %s; the message cannot reach"
				    " them through the Official Account", code, cmsg, recipient,
				    code == -230 ? "has not interacted with the OA in the last 7 days"
				    : code == -213 ? "does not follow the OA" : "is not a valid recipient for the OA");
		v = WF_FAILED;
	} else if (code == -32 || code == -144 || code == -1144) {
		*reason = xasprintf("error %" JSON_INTEGER_FORMAT " (%s): the OA's quota is used up; later", code,
				    cmsg);
		*wait = code == -32 ? 60 : 3600;
		v = WF_RETRY;
	} else {
		*reason = xasprintf("error %" JSON_INTEGER_FORMAT " (%s)", code, cmsg);
		v = WF_FAILED;
	}
	free(cmsg);
	json_decref(o);
	return v;
}
