/*
 * test_channels.c - the fingerprint of a channel's settings (daemon/channels.c): what
 * names the endpoint and the right to use it changes it, nothing else does, and values
 * cannot be shifted from one setting into the next.
 */
#include <stdio.h>
#include <string.h>

#include "channels.h"
#include "config.h"
#include "t.h"

int main(void)
{
	struct channel base = { .name = "zalo", .kind = "json", .url = "https://hooks.example.org/a",
				.username = NULL, .password = NULL, .secret = "whsec_abc", .chat_id = NULL,
				.from = NULL, .timeout = 30 };
	struct channel c;
	char a[CHANNEL_PRINT], b[CHANNEL_PRINT];

	channel_fingerprint(&base, a);
	T_CHECK("16 hex digits", strlen(a) == 16 && strspn(a, "0123456789abcdef") == 16);
	c = base;
	channel_fingerprint(&c, b);
	T_STREQ("the same settings, the same print", b, a);
	c.name = "zalo-2";
	c.timeout = 5;
	c.rate = 3.0;
	c.max_length = 100;
	channel_fingerprint(&c, b);
	T_STREQ("name, pace and limits are not the endpoint", b, a);
	c = base;
	c.url = "https://hooks.example.org/b";
	channel_fingerprint(&c, b);
	T_CHECK("a new url changes it", strcmp(a, b) != 0);
	c = base;
	c.secret = "whsec_abd";
	channel_fingerprint(&c, b);
	T_CHECK("a new secret changes it", strcmp(a, b) != 0);
	c = base;
	c.kind = "smtp";
	c.username = "thidua";
	c.password = "mat-khau";
	channel_fingerprint(&c, a);
	c.password = "mat-khau-2";
	channel_fingerprint(&c, b);
	T_CHECK("a new password changes it", strcmp(a, b) != 0);
	c.password = "mat-khau";
	c.username = "thidua2";
	channel_fingerprint(&c, b);
	T_CHECK("a new username changes it", strcmp(a, b) != 0);
	c = base;
	c.kind = "telegram";
	c.chat_id = "-1001";
	channel_fingerprint(&c, a);
	c.chat_id = "-1002";
	channel_fingerprint(&c, b);
	T_CHECK("another chat changes it", strcmp(a, b) != 0);
	/* "ab" + "c" is not "a" + "bc": each setting ends where it ends */
	c = base;
	c.username = "ab";
	c.password = "c";
	channel_fingerprint(&c, a);
	c.username = "a";
	c.password = "bc";
	channel_fingerprint(&c, b);
	T_CHECK("settings do not run into each other", strcmp(a, b) != 0);
	c.username = NULL;
	c.password = "";
	channel_fingerprint(&c, a);
	c.password = NULL;
	channel_fingerprint(&c, b);
	T_STREQ("absent and empty are the same", a, b);
	return t_failed ? 1 : 0;
}
