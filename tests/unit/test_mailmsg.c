/*
 * test_mailmsg.c - the RFC 5322 writer (common/mailmsg.c) that thiduad's spool and
 * thidua-mail share: exact bytes for a small message, quoted-printable and base64 bodies
 * that give back the Vietnamese text byte for byte, lines within their limits, boundaries
 * that depend on the Message-ID alone.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "mailmsg.h"
#include "t.h"
#include "xalloc.h"

static const char VN[] = "Kính gửi Ủy ban nhân dân xã Phú Hòa Đông,\n\n"
			 "Hạn nộp «Báo cáo tổng kết năm 2024» là 17:00 ngày 10/11/2024 (còn 3 ngày làm việc).\n"
			 ".Dòng bắt đầu bằng dấu chấm = một dấu bằng, dòng rất dài: thi đua yêu nước thi đua yêu "
			 "nước thi đua yêu nước thi đua yêu nước thi đua yêu nước thi đua yêu nước \n"
			 "Trân trọng.";

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* qp_decode - RFC 2045 decoding: soft breaks dropped, =XX made bytes, CRLF kept */
static char *qp_decode(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	while (*s) {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
			s += 3;
		} else if (s[0] == '=' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 3;
		} else {
			*o++ = *s++;
		}
	}
	*o = 0;
	return out;
}

/* lines_ok - every line ends with CRLF (but maybe the last), is 7-bit and at most max long */
static int lines_ok(const char *s, size_t max)
{
	size_t col = 0;

	for (; *s; s++) {
		if ((unsigned char)*s > 126)
			return 0;
		if (s[0] == '\r' && s[1] == '\n') {
			col = 0;
			s++;
		} else if (*s == '\r' || *s == '\n' || ++col > max) {
			return 0;
		}
	}
	return 1;
}

/* body_of - what follows the first blank line */
static const char *body_of(const char *msg)
{
	const char *p = strstr(msg, "\r\n\r\n");

	return p ? p + 4 : "";
}

static void test_exact_bytes(void)
{
	struct mailmsg_rcpt to[] = { { "a@cuchi.example.org", "Plain Name" }, { "b@cuchi.example.org", NULL } };
	struct mailmsg m = {
		.date = 1730421000, .utc_offset = 7 * 3600, .from = "thidua@localhost", .from_name = "thidua",
		.to = to, .nto = 2, .reply_to = "r+x@localhost", .subject = "Hello", .message_id = "<ab@localhost>",
		.dedup_key = "BC-NAM/2024/r1d", .text = "one\ntwo=2\n",
	};
	size_t len;
	char *got = mailmsg_write(&m, &len);

	T_STREQ("mailmsg: a text message, byte for byte", got,
		"Date: Fri, 01 Nov 2024 07:30:00 +0700\r\n"
		"From: thidua <thidua@localhost>\r\n"
		"To: Plain Name <a@cuchi.example.org>,\r\n b@cuchi.example.org\r\n"
		"Reply-To: r+x@localhost\r\n"
		"Subject: Hello\r\n"
		"Message-ID: <ab@localhost>\r\n"
		"MIME-Version: 1.0\r\n"
		"Auto-Submitted: auto-generated\r\n"
		"X-Thidua-Dedup-Key: BC-NAM/2024/r1d\r\n"
		"Content-Type: text/plain; charset=UTF-8\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n"
		"\r\n"
		"one\r\ntwo=3D2\r\n");
	T_CHECK("mailmsg: the length given", len == strlen(got));
	free(got);
	m.nto = 0;
	m.reply_to = NULL;
	got = mailmsg_write(&m, NULL);
	T_CHECK("mailmsg: no recipient", strstr(got, "\r\nTo: undisclosed-recipients:;\r\nSubject:") != NULL);
	free(got);
}

static void test_vietnamese(void)
{
	struct mailmsg_rcpt to[] = { { "ubnd@cuchi.example.org", "Ủy ban nhân dân xã Phú Hòa Đông, huyện Củ Chi" } };
	struct mailmsg m = {
		.date = 1730421000, .from = "thidua@cuchi.example.org", .from_name = "Phòng Giáo dục và Đào tạo",
		.to = to, .nto = 1, .subject = "[Nhắc hạn] Báo cáo tổng kết năm 2024 - hạn 10/11/2024",
		.message_id = "<0123@cuchi.example.org>", .dedup_key = "BC-NAM/2024/r10wd", .text = VN,
	};
	char *msg = mailmsg_write(&m, NULL), *again = mailmsg_write(&m, NULL), *crlf = mailmsg_crlf(VN), *dec;
	const char *body = body_of(msg);

	T_CHECK("mailmsg: 7-bit, CRLF, no line over 998", lines_ok(msg, 998));
	T_CHECK("mailmsg: quoted-printable lines of at most 76", lines_ok(body, 76));
	dec = qp_decode(body);
	T_STREQ("mailmsg: the Vietnamese text comes back byte for byte", dec, crlf);
	T_CHECK("mailmsg: a text without a final line break ends with a soft one",
		strlen(body) > 3 && !strcmp(body + strlen(body) - 3, "=\r\n"));
	T_CHECK("mailmsg: white space before a line break is escaped", strstr(body, "=20\r\n") != NULL);
	T_CHECK("mailmsg: a leading dot is left to SMTP", strstr(body, "\r\n.D") != NULL);
	T_CHECK("mailmsg: the same message, the same bytes", !strcmp(msg, again));
	{
		/* every encoded-word of the Subject decodes, and together they give it back */
		const char *p = strstr(msg, "\r\nSubject: ") + 11, *end = strstr(p, "\r\nMessage-ID:");
		char words[512] = "";
		int ok = end != NULL;

		while (ok && p < end && (p = strstr(p, "=?UTF-8?B?")) && p < end) {
			const char *q = strstr(p + 10, "?=");
			char *b64 = q ? xstrndup(p + 10, (size_t)(q - p - 10)) : NULL;
			size_t n = 0;
			unsigned char *raw = b64 ? b64_decode(b64, &n) : NULL;

			ok = raw != NULL && strlen(words) + n < sizeof(words);
			if (ok)
				strncat(words, (const char *)raw, n);
			free(raw);
			free(b64);
			p = q ? q + 2 : end;
		}
		T_STREQ("mailmsg: the Subject's encoded-words give it back", words, m.subject);
	}
	T_CHECK("mailmsg: a display name in encoded-words, the address on its own line",
		strstr(msg, "=?UTF-8?B?") < strstr(msg, "\r\n <ubnd@cuchi.example.org>\r\n"));
	free(dec);
	free(msg);
	free(again);

	m.encoding = MAILMSG_BASE64;
	msg = mailmsg_write(&m, NULL);
	body = body_of(msg);
	T_CHECK("mailmsg: base64 named", strstr(msg, "Content-Transfer-Encoding: base64\r\n") != NULL);
	T_CHECK("mailmsg: base64 lines of at most 76", lines_ok(body, 76));
	{
		char *joined = xstrdup(body), *o = joined;
		size_t n = 0;
		unsigned char *raw;

		for (const char *s = body; *s; s++)
			if (*s != '\r' && *s != '\n')
				*o++ = *s;
		*o = 0;
		raw = b64_decode(joined, &n);
		T_CHECK("mailmsg: base64 gives the text back", raw && n == strlen(crlf) && !memcmp(raw, crlf, n));
		free(raw);
		free(joined);
	}
	free(msg);
	free(crlf);
}

static void test_html(void)
{
	struct mailmsg_rcpt to[] = { { "a@x.example", NULL } };
	struct mailmsg m = {
		.date = 0, .from = "t@x.example", .to = to, .nto = 1, .subject = "s", .message_id = "<1@x.example>",
		.text = "chữ\n", .html = "<p>chữ</p>\n",
	};
	char *msg = mailmsg_write(&m, NULL), *b2;
	const char *mixed = strstr(msg, "boundary=\"=_thidua_"), *alt;

	T_CHECK("mailmsg: HTML: multipart/mixed at the top",
		strstr(msg, "Content-Type: multipart/mixed;\r\n boundary=\"=_thidua_") != NULL);
	alt = mixed ? strstr(mixed + 1, "boundary=\"=_thidua_") : NULL;
	T_CHECK("mailmsg: HTML: a multipart/alternative inside, text before HTML",
		alt && strstr(msg, "multipart/alternative") && strstr(msg, "text/plain") < strstr(msg, "text/html"));
	T_CHECK("mailmsg: HTML: both parts closed", mixed && alt && strstr(msg, "_a--\r\n\r\n--=_thidua_")
		&& !strcmp(msg + strlen(msg) - 6, "_m--\r\n"));
	T_CHECK("mailmsg: HTML: lines within 76", lines_ok(msg, 76));
	m.message_id = "<2@x.example>";
	b2 = mailmsg_write(&m, NULL);
	T_CHECK("mailmsg: boundaries follow the Message-ID", strcmp(strstr(msg, "=_thidua_"), strstr(b2, "=_thidua_")));
	free(b2);
	free(msg);
}

static void test_parts(void)
{
	char *s;

	s = mailmsg_mailbox("Nguyen \"Ba\" B, Pho", "b@x.example", 4);
	T_STREQ("mailmsg: an ASCII name with specials is quoted", s, "\"Nguyen \\\"Ba\\\" B, Pho\" <b@x.example>");
	free(s);
	s = mailmsg_mailbox("", "b@x.example", 4);
	T_STREQ("mailmsg: no name, the bare address", s, "b@x.example");
	free(s);
	s = mailmsg_crlf("a\nb\r\nc\rd");
	T_STREQ("mailmsg: every line break becomes CRLF", s, "a\r\nb\r\nc\r\nd");
	free(s);
	s = mailmsg_qp("");
	T_STREQ("mailmsg: an empty text stays empty", s, "");
	free(s);
	{
		/* 30 three-byte characters: 90 escapes of 3 columns; no character is cut */
		char text[91] = "", *dec;

		for (int i = 0; i < 30; i++)
			memcpy(text + 3 * i, "ữ", 4);
		s = mailmsg_qp(text);
		dec = qp_decode(s);
		T_CHECK("mailmsg: a character's escapes stay on one line", strstr(s, "=E1=BB=AF=\r\n=E1") != NULL
			&& lines_ok(s, 76));
		T_STREQ("mailmsg: and come back whole", dec, text);
		free(dec);
		free(s);
	}
	T_CHECK("mailmsg: addresses", mailmsg_address_valid("a.b@c.example") && !mailmsg_address_valid("a b@c")
		&& !mailmsg_address_valid("a@b\r\nBcc: x@y") && !mailmsg_address_valid("ủy@x.example"));
	T_CHECK("mailmsg: Message-IDs", mailmsg_message_id_valid("<a@b>") && !mailmsg_message_id_valid("a@b")
		&& !mailmsg_message_id_valid("<a@b>\r\nX: y"));
}

int main(void)
{
	test_exact_bytes();
	test_vietnamese();
	test_html();
	test_parts();
	return t_failed ? 1 : 0;
}
