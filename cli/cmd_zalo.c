/*
 * cmd_zalo.c - thiduactl zalo authorize: the first authorisation of a Zalo Official
 * Account, with PKCE (docs/CONFIG.md, "Zalo Official Account").
 *
 * Two steps, a person in a browser between them:
 *   1. zalo authorize --channel NAME --redirect-uri URI
 *      a code_verifier (32 random bytes, base64url: 43 characters) and its code_challenge
 *      (base64url of its SHA-256, no padding: S256) are made; the verifier and a state
 *      wait in a file only the administrator reads; the URL of Zalo's permission page is
 *      printed, for the OA's administrator to open and allow.
 *   2. zalo authorize --channel NAME --code CODE   (or --redirect URL, the address Zalo
 *      sent the browser to: its code and state are read from it)
 *      the code is exchanged at <oauth_url>/v4/oa/access_token (form code, app_id,
 *      grant_type=authorization_code, code_verifier; header secret_key), and the pair
 *      Zalo returns is stored in the daemon in one statement (zalo.store).
 * The app's id, secret key and oauth_url come from the daemon's configuration (zalo.app).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "cli.h"
#include "cmd_zalo.h"
#include "jdump.h"
#include "proto.h"
#include "sha256.h"
#include "xalloc.h"

#define ANSWER_MAX (64 * 1024)

/* b64url - base64url without padding (RFC 4648 section 5, RFC 7636 appendix A) */
static char *b64url(const void *data, size_t len)
{
	char *s = b64_encode(data, len);
	size_t n = 0;

	for (char *p = s; *p; p++) {
		if (*p == '=')
			break;
		s[n++] = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	}
	s[n] = 0;
	return s;
}

/* random_b64url - n random bytes as base64url */
static char *random_b64url(size_t n)
{
	unsigned char buf[64];
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);

		if (r < 0 && errno != EINTR)
			return NULL;
		if (r > 0)
			got += (size_t)r;
	}
	return b64url(buf, n);
}

/* state_dir - where the verifier waits: $XDG_STATE_HOME/thidua, else ~/.local/state/thidua;
 * created 0700. 0, or -1 with the reason on stderr */
static int state_dir(char *dir, size_t size)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char parent[4096];
	int n;

	if (x && *x == '/')
		n = snprintf(parent, sizeof(parent), "%s", x);
	else if (home && *home == '/')
		n = snprintf(parent, sizeof(parent), "%s/.local/state", home);
	else {
		fprintf(stderr, "thiduactl: neither XDG_STATE_HOME nor HOME names a directory where the code verifier could"
			" wait; set one of them\n");
		return -1;
	}
	if (n < 0 || (size_t)n >= sizeof(parent) || (size_t)snprintf(dir, size, "%s/thidua", parent) >= size) {
		fprintf(stderr, "thiduactl: the state directory's path is too long\n");
		return -1;
	}
	if (mkdir(parent, 0700) && errno != EEXIST) {
		fprintf(stderr, "thiduactl: cannot create %s: %s\n", parent, strerror(errno));
		return -1;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "thiduactl: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* pending_path - the file of channel's authorisation under way */
static int pending_path(const char *channel, char *path, size_t size)
{
	char dir[4096];

	if (strchr(channel, '/') || !*channel || channel[0] == '.') {
		fprintf(stderr, "thiduactl: '%s' is not a channel name\n", channel);
		return -1;
	}
	if (state_dir(dir, sizeof(dir)))
		return -1;
	if ((size_t)snprintf(path, size, "%s/zalo-%s.json", dir, channel) >= size) {
		fprintf(stderr, "thiduactl: the verifier file's path is too long\n");
		return -1;
	}
	return 0;
}

/* pending_write - the verifier and state, durably, readable by this user only */
static int pending_write(const char *path, json_t *o)
{
	char tmp[4300];
	char *text = jdump(o, JSON_COMPACT);
	size_t len = strlen(text), off = 0;
	int fd, rc = -1;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "thiduactl: cannot create %s: %s\n", tmp, strerror(errno));
		free(text);
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off == len && fsync(fd) == 0 && close(fd) == 0) {
		fd = -1;
		if (rename(tmp, path) == 0)
			rc = 0;
	}
	if (rc)
		fprintf(stderr, "thiduactl: cannot write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	memset(text, 0, len);
	free(text);
	return rc;
}

/* pending_read - the authorisation under way for the channel, refused unless the file is
 * this user's and nobody else may read it */
static json_t *pending_read(const char *path, const char *channel)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st = { 0 };
	char buf[4096];
	ssize_t n;
	json_t *o;

	if (fd < 0) {
		if (errno == ENOENT)
			fprintf(stderr, "thiduactl: no authorisation of channel %s is under way here (%s is missing):"
				" start with 'thiduactl zalo authorize --channel %s --redirect-uri URI'\n", channel, path,
				channel);
		else
			fprintf(stderr, "thiduactl: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		fprintf(stderr, "thiduactl: %s is not a file of yours that only you can read (mode %03o): it is not used;"
			" remove it and start again\n", path, (unsigned)(st.st_mode & 0777));
		close(fd);
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	o = n > 0 ? json_loadb(buf, (size_t)n, 0, NULL) : NULL;
	memset(buf, 0, sizeof(buf));
	if (!json_is_string(json_object_get(o, "code_verifier")) || !json_is_string(json_object_get(o, "state"))) {
		fprintf(stderr, "thiduactl: %s cannot be read; remove it and start again\n", path);
		json_decref(o);
		return NULL;
	}
	return o;
}

/* query_param - the value of name in the query of url, percent-decoded; fresh or NULL */
static char *query_param(const char *url, const char *name)
{
	const char *q = strchr(url, '?');
	size_t nlen = strlen(name);

	while (q) {
		const char *p = q + 1, *end = p + strcspn(p, "&#");

		if ((size_t)(end - p) > nlen && !strncmp(p, name, nlen) && p[nlen] == '=') {
			int len;
			char *raw = xstrndup(p + nlen + 1, (size_t)(end - p - (ptrdiff_t)nlen - 1)), *dec, *v;

			for (char *c = raw; *c; c++)
				if (*c == '+')
					*c = ' ';
			dec = curl_easy_unescape(NULL, raw, 0, &len);
			v = dec ? xstrndup(dec, (size_t)len) : NULL;
			curl_free(dec);
			free(raw);
			return v;
		}
		q = *end == '&' ? end : NULL;
	}
	return NULL;
}

/* app - the channel's app as the daemon's configuration gives it */
static json_t *app(const char *channel, int *rc)
{
	return cli_call_part(json_pack("{s:s,s:s}", "op", OP_ZALO_APP, "channel", channel), rc);
}

/* start - step 1: the verifier waits, the URL to open is printed */
static int start(const char *channel, const char *redirect_uri)
{
	char path[4200], *verifier, *challenge, *state, *eapp = NULL, *eredir = NULL;
	unsigned char digest[32];
	struct sha256 h;
	json_t *a, *o;
	int rc;

	if (strncmp(redirect_uri, "https://", 8) && strncmp(redirect_uri, "http://", 7))
		return cli_usage_error("zalo authorize: --redirect-uri must be the app's callback URL as registered with Zalo"
				       " (https://...), not '%s'", redirect_uri);
	if (pending_path(channel, path, sizeof(path)))
		return EXIT_USAGE;
	if (!(a = app(channel, &rc)))
		return rc;
	verifier = random_b64url(32);		/* 43 characters of [A-Za-z0-9_-] */
	state = random_b64url(16);
	if (!verifier || !state) {
		fprintf(stderr, "thiduactl: no random bytes: %s\n", strerror(errno));
		json_decref(a);
		return EXIT_DAEMON_ERROR;
	}
	sha256_init(&h);
	sha256_update(&h, verifier, strlen(verifier));
	sha256_final(&h, digest);
	challenge = b64url(digest, sizeof(digest));
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "channel", channel, "app_id", jstr(a, "app_id"), "code_verifier",
		      verifier, "state", state, "redirect_uri", redirect_uri, "created", (json_int_t)time(NULL));
	rc = pending_write(path, o) ? EXIT_DAEMON_ERROR : EXIT_OK;
	json_decref(o);
	if (rc == EXIT_OK) {
		eapp = curl_easy_escape(NULL, jstr(a, "app_id"), 0);
		eredir = curl_easy_escape(NULL, redirect_uri, 0);
		if (cl.json) {
			char url[8192];

			snprintf(url, sizeof(url), "%s/v4/oa/permission?app_id=%s&redirect_uri=%s&code_challenge=%s&state=%s",
				 jstr(a, "oauth_url"), eapp, eredir, challenge, state);
			o = json_pack("{s:s,s:s,s:s,s:s}", "channel", channel, "url", url, "state", state, "verifier_file", path);
			char *text = jdump(o, JSON_INDENT(2));

			puts(text);
			free(text);
			json_decref(o);
		} else {
			printf("Open this address in a browser, signed in to Zalo as an administrator of the Official Account,\n"
			       "and allow the app (Mở địa chỉ này bằng trình duyệt, đăng nhập Zalo bằng tài khoản quản trị OA,\n"
			       "rồi cho phép ứng dụng):\n\n"
			       "  %s/v4/oa/permission?app_id=%s&redirect_uri=%s&code_challenge=%s&state=%s\n\n"
			       "Zalo then sends the browser to %s?code=...&state=...; within 10 minutes run\n"
			       "  thiduactl zalo authorize --channel %s --redirect 'THAT ADDRESS'\n"
			       "(or --code CODE). The code verifier waits in %s (readable by you only).\n",
			       jstr(a, "oauth_url"), eapp, eredir, challenge, state, redirect_uri, channel, path);
		}
	}
	curl_free(eapp);
	curl_free(eredir);
	memset(verifier, 0, strlen(verifier));
	free(verifier);
	free(challenge);
	free(state);
	json_decref(a);
	return rc;
}

struct answer {
	char *p;
	size_t len;
};

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
	struct answer *a = ctx;

	if (a->len + size * n > ANSWER_MAX)
		return 0;
	a->p = xrealloc(a->p, a->len + size * n + 1);
	memcpy(a->p + a->len, data, size * n);
	a->len += size * n;
	a->p[a->len] = 0;
	return size * n;
}

/* exchange - the code and verifier for the token pair at <oauth_url>/v4/oa/access_token;
 * the parsed answer, or NULL with the reason on stderr */
static json_t *exchange(json_t *a, const char *code, const char *verifier)
{
	CURL *e = curl_easy_init();
	char url[4200], err[CURL_ERROR_SIZE] = "", *ecode, *eapp, *ever, *form, *hdr;
	struct curl_slist *headers = NULL;
	struct answer ans = { NULL, 0 };
	json_t *o = NULL;
	long status = 0;
	CURLcode rc;

	if (!e) {
		fprintf(stderr, "thiduactl: libcurl could not start\n");
		return NULL;
	}
	snprintf(url, sizeof(url), "%s/v4/oa/access_token", jstr(a, "oauth_url"));
	ecode = curl_easy_escape(e, code, 0);
	eapp = curl_easy_escape(e, jstr(a, "app_id"), 0);
	ever = curl_easy_escape(e, verifier, 0);
	form = xasprintf("code=%s&app_id=%s&grant_type=authorization_code&code_verifier=%s", ecode, eapp, ever);
	hdr = xasprintf("secret_key: %s", jstr(a, "app_secret"));
	headers = curl_slist_append(headers, hdr);
	headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "thiduactl/1");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &ans);
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK)
		fprintf(stderr, "thiduactl: %s: %s; nothing was stored, the code may be tried again within its 10 minutes\n",
			url, *err ? err : curl_easy_strerror(rc));
	else if (status / 100 != 2)
		fprintf(stderr, "thiduactl: %s answered HTTP %ld; nothing was stored\n", url, status);
	else if (!(o = json_loadb(ans.p ? ans.p : "", ans.len, 0, NULL)))
		fprintf(stderr, "thiduactl: %s did not answer JSON; nothing was stored\n", url);
	memset(form, 0, strlen(form));
	memset(hdr, 0, strlen(hdr));
	free(form);
	free(hdr);
	curl_free(ecode);
	curl_free(eapp);
	curl_free(ever);
	curl_slist_free_all(headers);
	curl_easy_cleanup(e);
	if (ans.p)
		memset(ans.p, 0, ans.len);
	free(ans.p);
	return o;
}

/* finish - step 2: the code for the pair, the pair into the daemon */
static int finish(const char *channel, const char *code, const char *redirect)
{
	char path[4200], *rcode = NULL, *rstate = NULL;
	json_t *p, *a = NULL, *t = NULL, *r;
	const char *access, *refresh;
	json_t *ei;
	long long secs;
	int rc = EXIT_DAEMON_ERROR;

	if (pending_path(channel, path, sizeof(path)) || !(p = pending_read(path, channel)))
		return EXIT_DAEMON_ERROR;
	if (redirect) {
		char *err = query_param(redirect, "error");

		rcode = query_param(redirect, "code");
		rstate = query_param(redirect, "state");
		if (!rcode) {
			fprintf(stderr, "thiduactl: the address has no code%s%s: was the app allowed? Open the permission page"
				" again (the same URL works while %s is kept)\n", err ? " (Zalo said: " : "", err ? err : "", path);
			free(err);
			goto out;
		}
		free(err);
		if (!rstate || strcmp(rstate, jstr(p, "state"))) {
			fprintf(stderr, "thiduactl: the address's state is not the one this authorisation made: it belongs to"
				" another attempt; nothing was sent to Zalo\n");
			goto out;
		}
		code = rcode;
	}
	if (!*code || strlen(code) > 2048) {
		fprintf(stderr, "thiduactl: the code is empty or too long\n");
		goto out;
	}
	if (!(a = app(channel, &rc)))
		goto out;
	rc = EXIT_DAEMON_ERROR;
	if (strcmp(jstr(a, "app_id"), jstr(p, "app_id"))) {
		fprintf(stderr, "thiduactl: channel %s's app_id changed since the authorisation began; start again\n", channel);
		goto out;
	}
	if (!(t = exchange(a, code, jstr(p, "code_verifier"))))
		goto out;
	access = jstr(t, "access_token");
	refresh = jstr(t, "refresh_token");
	ei = json_object_get(t, "expires_in");	/* Zalo gives it as a string */
	secs = json_is_integer(ei) ? (long long)json_integer_value(ei) : json_is_string(ei)
	       ? strtoll(json_string_value(ei), NULL, 10) : 0;
	if (!*access || !*refresh || secs <= 0) {
		json_t *ec = json_object_get(t, "error");

		fprintf(stderr, "thiduactl: Zalo refused the code: error %lld (%s%s%s); nothing was stored. A code works once"
			" and for about 10 minutes: open the permission page again for a new one\n",
			(long long)json_integer_value(ec), jstr(t, "error_name"), *jstr(t, "error_name") ? ": " : "",
			jstr(t, "error_description"));
		goto out;
	}
	r = cli_call_part(json_pack("{s:s,s:s,s:s,s:s,s:I}", "op", OP_ZALO_STORE, "channel", channel, "access_token",
				    access, "refresh_token", refresh, "expires_in", (json_int_t)secs), &rc);
	if (!r) {
		fprintf(stderr, "thiduactl: Zalo issued the pair but the daemon did not store it; the refresh token cannot"
			" be asked for again: authorise again\n");
		goto out;
	}
	unlink(path);
	rc = EXIT_OK;
	if (cl.json) {
		char *text = jdump(r, JSON_INDENT(2));

		puts(text);
		free(text);
	} else {
		printf("channel %s: the Official Account of app %s is authorised; the daemon holds its tokens and renews them"
		       " (access token valid until %s)\n", channel, jstr(r, "app_id"), jstr(r, "expires_at"));
	}
	json_decref(r);
out:
	json_decref(t);
	json_decref(a);
	json_decref(p);
	free(rcode);
	free(rstate);
	return rc;
}

int cmd_zalo(int argc, char **argv)
{
	const char *channel = NULL, *redirect_uri = NULL, *code = NULL, *redirect = NULL;

	if (argc < 2 || strcmp(argv[1], "authorize"))
		return cli_usage_error("zalo: use 'zalo authorize --channel NAME --redirect-uri URI', then 'zalo authorize"
				       " --channel NAME --redirect URL' (or --code CODE)%s", "");
	for (int k = 2; k < argc; k++) {
		const char **slot = !strcmp(argv[k], "--channel") ? &channel : !strcmp(argv[k], "--redirect-uri")
				    ? &redirect_uri : !strcmp(argv[k], "--code") ? &code : !strcmp(argv[k], "--redirect")
				    ? &redirect : NULL;

		if (!slot || k + 1 >= argc)
			return cli_usage_error("zalo authorize: '%s' is not an option here or lacks its value (--channel,"
					       " --redirect-uri, --code, --redirect)", argv[k]);
		*slot = argv[++k];
	}
	if (!channel)
		return cli_usage_error("zalo authorize needs --channel NAME (a zalo or zns channel with app_id and"
				       " app_secret)%s", "");
	if (!!redirect_uri + !!code + !!redirect != 1)
		return cli_usage_error("zalo authorize: give --redirect-uri URI to begin, then --redirect URL or --code CODE"
				       " to finish (one of them)%s", "");
	return redirect_uri ? start(channel, redirect_uri) : finish(channel, code, redirect);
}
