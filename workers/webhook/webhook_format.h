/*
 * webhook_format.h - what thidua-webhook sends, without the sending: the kinds and their
 * defaults, a job's payload read into a message of one or more posts (bodies built per
 * kind, split or truncated to the service's length limit without breaking a UTF-8
 * character), the Standard Webhooks signature, and the reading of a server's answer
 * (status class, Retry-After hints in JSON bodies, a reason fit for people).
 *
 * Pure functions over jansson and common/: no sockets, no libcurl, no clock, so the unit
 * test (tests/unit/test_webhook_format.c) includes the .c file and checks them directly.
 */
#ifndef THIDUA_WEBHOOK_FORMAT_H
#define THIDUA_WEBHOOK_FORMAT_H

#include <stddef.h>
#include <jansson.h>

enum wf_kind { WF_SLACK, WF_MATTERMOST, WF_TEAMS, WF_TELEGRAM, WF_GOOGLECHAT, WF_DISCORD, WF_JSON, WF_ZALO, WF_ZNS, WF_NKINDS };

/* the per-kind defaults (README.md has the table and the reasons) */
struct wf_kind_info {
	const char *name;
	double rate;		/* posts per second to one endpoint */
	double burst;		/* posts at once after a quiet time */
	size_t max_length;	/* default length limit, UTF-16 code units; 0: none */
	size_t hard_max;	/* the service's own limit, max_length never goes above; 0: none */
};

const struct wf_kind_info *wf_kind_info(enum wf_kind kind);

/* wf_kind_parse - "telegram" -> WF_TELEGRAM; -1 for an unknown name */
int wf_kind_parse(const char *name, enum wf_kind *kind);

/* the channel settings a job carries (docs/JOBS.md) */
struct wf_channel {
	char *name;
	enum wf_kind kind;
	char *url;
	unsigned char *key;	/* json kind: the signing key (whsec_ base64 decoded); NULL: unsigned */
	size_t keylen;
	json_t *chat_id;	/* telegram: string or integer, as the job gave it (owned) */
	char *access_token;	/* zalo, zns: the OA access token (the channel's secret) */
	const char *recipient_field;	/* zalo: "user_id" or "group_id"; zns: "phone" */
	char *recipient;	/* zalo, zns: who gets the message */
	char *template_id;	/* zns: the approved template */
	char *refresh_url;	/* zalo, zns: renew the access token first (the daemon asked), */
	char *app_id, *app_secret, *refresh_token;	/* with these */
	int unauthorised;	/* zalo, zns: the OA has no token pair yet (thiduactl zalo authorize) */
	size_t max_length;	/* effective limit, 0: none */
	int split;		/* 1: several numbered posts; 0: one post cut with "…" */
	int allow_http;
	int allow_private;	/* -1: not given (allowed); 0: refuse private addresses; 1: allowed */
	long connect_timeout, timeout;
	double rate, burst;	/* effective, defaults applied */
};

/* one HTTP POST of a message */
struct wf_post {
	char *id;		/* webhook-id: the dedup key, "#k" added per part when split */
	char *body;		/* JSON, exactly the bytes that are sent and signed */
};

struct wf_message {
	struct wf_channel ch;
	char *dedup_key;
	size_t nposts;
	struct wf_post *posts;
	int truncated;		/* 1 when the text was cut to the limit */
};

/* wf_message_parse - read a job payload and build every post; -1 with err set on a payload
 * the worker cannot deliver (the reason names the field). m is cleared first; call
 * wf_message_clear afterwards in every case. */
int wf_message_parse(json_t *payload, struct wf_message *m, char *err, size_t errsize);
void wf_message_clear(struct wf_message *m);

/* wf_secret_decode - "whsec_<base64>" -> the decoded key; any other text -> its bytes;
 * -1 when the base64 after whsec_ is malformed or empty. *key is malloc'ed. */
int wf_secret_decode(const char *secret, unsigned char **key, size_t *keylen);

/* wf_sign - the Standard Webhooks header value "v1,<base64 HMAC-SHA256(key, id.ts.body)>";
 * returns a fresh string */
char *wf_sign(const unsigned char *key, size_t keylen, const char *id, long long timestamp,
	      const char *body, size_t bodylen);

/* text: lengths are counted in UTF-16 code units (a character above U+FFFF counts 2), the
 * strictest way the services count "characters"; input is well-formed UTF-8 */
size_t wf_units(const char *s, size_t len);

/* wf_split - cut text into pieces of at most budget units, at a line break or a space in
 * the second half of a piece when there is one, never inside a character nor before a
 * combining mark; returns a strv (NULL-terminated, owned) of at least one piece */
char **wf_split(const char *text, size_t budget);

/* wf_truncate - text cut to at most max units, ending in "…" when cut; fresh string */
char *wf_truncate(const char *text, size_t max);

/* wf_clean_utf8 - at most maxin bytes of raw server output as one line of valid UTF-8:
 * malformed bytes become U+FFFD, control characters and runs of blanks one space */
char *wf_clean_utf8(const char *data, size_t len, size_t maxin);

/* wf_escape - text as the kind's service must get it to show it as written, markup and
 * mentions included (webhook_format.c, "text that reads literally"); fresh string */
char *wf_escape(enum wf_kind kind, const char *text);

/* what a response means */
enum wf_verdict { WF_SENT, WF_RETRY, WF_FAILED, WF_GONE };

/* wf_classify - 2xx sent; 408, 425, 429, 5xx retry; 410 gone; any other status failed */
enum wf_verdict wf_classify(long status);

/* wf_body_retry_after - seconds the server asks to wait in its JSON body (Slack and
 * Discord {"retry_after": N}, Telegram {"parameters": {"retry_after": N}}), rounded up;
 * -1 when there is none */
long wf_body_retry_after(const char *body, size_t len);

/* wf_zalo_verdict - the answer of a Zalo or ZNS API, which reports errors with HTTP 200:
 * {"error": 0} is sent; -216 (access token) retry; quota codes retry (*wait: seconds, 0 for
 * the daemon's backoff); -230, -213, -201 (the user has not interacted or does not follow)
 * and every other code failed, with *reason naming the code, the message and, for the
 * known ones, what it means; fresh *reason */
enum wf_verdict wf_zalo_verdict(const char *body, size_t len, const char *recipient, long *wait, char **reason,
				long *zcode);

/* wf_ceil - x rounded up to whole seconds, for x in [0, 1e9] (no libm in the link) */
long wf_ceil(double x);

/* wf_reason - "HTTP 429: <first 200 bytes of the body, cleaned>"; fresh string */
char *wf_reason(long status, const char *body, size_t len);

#endif
