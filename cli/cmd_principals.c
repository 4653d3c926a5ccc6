/*
 * cmd_principals.c - the accounts of the web page (docs/PROTOCOL.md, "Accounts and
 * sessions"): thiduactl principals invite NAME (prints the one-time link and where it was
 * mailed), passwd NAME (the password twice from the terminal, or one line from stdin when
 * it is not a terminal), lock NAME, unlock NAME, list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_principals.h"
#include "table.h"

#define PASSWORD_BUF 1024

/* read_line - one line of fd 0 into buf, without its newline; echo off on a terminal */
static int read_line(const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	int tty = isatty(0), ok;

	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		tcgetattr(0, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	ok = fgets(buf, (int)size, stdin) != NULL;
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!ok)
		return -1;
	buf[strcspn(buf, "\r\n")] = 0;
	return 0;
}

static int principals_passwd(const char *name)
{
	char pw[PASSWORD_BUF], again[PASSWORD_BUF];
	json_t *r;
	int rc;

	if (read_line("Mật khẩu mới / new password: ", pw, sizeof(pw)))
		return cli_usage_error("principals passwd %s: no password was given (type it, or pipe one line to stdin)", name);
	if (isatty(0)) {
		if (read_line("Nhập lại / again: ", again, sizeof(again)) || strcmp(pw, again)) {
			memset(pw, 0, sizeof(pw));
			memset(again, 0, sizeof(again));
			return cli_usage_error("principals passwd %s: the two passwords differ; nothing was changed", name);
		}
		memset(again, 0, sizeof(again));
	}
	r = cli_call(json_pack("{s:s,s:s,s:s}", "op", "account.passwd", "name", name, "password", pw), NULL, 0, &rc);
	memset(pw, 0, sizeof(pw));
	if (r && !cl.json)
		printf("password of %s set; %lld session(s) ended\n", jstr(r, "name"),
		       (long long)json_integer_value(json_object_get(r, "sessions_ended")));
	json_decref(r);
	return rc;
}

static int principals_invite(const char *name)
{
	json_t *r, *a;
	int rc;

	r = cli_call(json_pack("{s:s,s:s}", "op", "account.invite", "name", name), NULL, 0, &rc);
	if (!r || cl.json)
		goto out;
	printf("Liên kết đặt mật khẩu của %s, dùng một lần, hết hạn %s / one-time link, until then:\n%s\n", jstr(r, "name"),
	       jstr(r, "expires_at"), jstr(r, "link"));
	a = json_object_get(r, "sent_to");
	if (!json_array_size(a))
		printf("not mailed: the unit of %s has no e-mail address; give the link yourself\n", jstr(r, "name"));
	for (size_t i = 0; i < json_array_size(a); i++)
		printf("mailed to %s\n", json_string_value(json_array_get(a, i)));
out:
	json_decref(r);
	return rc;
}

static int principals_lock(const char *op, const char *name)
{
	json_t *r;
	int rc;

	r = cli_call(json_pack("{s:s,s:s}", "op", op, "name", name), NULL, 0, &rc);
	if (r && !cl.json) {
		if (json_is_true(json_object_get(r, "locked")))
			printf("%s locked; %lld session(s) ended\n", jstr(r, "name"),
			       (long long)json_integer_value(json_object_get(r, "sessions_ended")));
		else
			printf("%s unlocked\n", jstr(r, "name"));
	}
	json_decref(r);
	return rc;
}

static int principals_list(void)
{
	static const char *const hdr[] = { "NAME", "DISPLAY NAME", "UNIT", "ROLES", "PASSWORD", "LOCKED", "FAILED",
					   "LAST LOGIN" };
	json_t *r, *a;
	struct table *t;
	size_t i;
	int rc;

	r = cli_call(json_pack("{s:s}", "op", "accounts.list"), NULL, 0, &rc);
	if (!r || cl.json)
		goto out;
	t = table_new(8, hdr);
	json_array_foreach(json_object_get(r, "accounts"), i, a) {
		char roles[256] = "", failed[24], locked[64];
		json_t *role;
		size_t k;
		const char *row[] = { jstr(a, "name"), jstr(a, "display_name"), jstr(a, "unit"), roles,
				      json_is_true(json_object_get(a, "has_password")) ? "yes" : "no", locked, failed,
				      *jstr(a, "last_login") ? jstr(a, "last_login") : "-" };

		json_array_foreach(json_object_get(a, "roles"), k, role) {
			size_t n = strlen(roles);

			snprintf(roles + n, sizeof(roles) - n, "%s%s", k ? "," : "", json_string_value(role));
		}
		snprintf(failed, sizeof(failed), "%lld", (long long)json_integer_value(json_object_get(a, "failed_logins")));
		if (json_is_true(json_object_get(a, "locked")))
			snprintf(locked, sizeof(locked), "yes");
		else if (*jstr(a, "locked_until"))
			snprintf(locked, sizeof(locked), "until %s", jstr(a, "locked_until"));
		else
			snprintf(locked, sizeof(locked), "no");
		table_add(t, row);
	}
	table_print(t, stdout);
	table_destroy(&t);
out:
	json_decref(r);
	return rc;
}

int cmd_principals(int argc, char **argv)
{
	const char *sub = argc >= 2 ? argv[1] : "";

	if (!strcmp(sub, "list") && argc == 2)
		return principals_list();
	if (argc != 3)
		return cli_usage_error("principals: use 'principals invite|passwd|lock|unlock NAME' or 'principals list'%s", "");
	if (!strcmp(sub, "invite"))
		return principals_invite(argv[2]);
	if (!strcmp(sub, "passwd"))
		return principals_passwd(argv[2]);
	if (!strcmp(sub, "lock"))
		return principals_lock("account.lock", argv[2]);
	if (!strcmp(sub, "unlock"))
		return principals_lock("account.unlock", argv[2]);
	return cli_usage_error("principals: unknown command '%s' (invite, passwd, lock, unlock, list)", sub);
}
