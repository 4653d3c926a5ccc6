/*
 * test_jload.c - common/jload.c and common/jdump.c: the fast paths take the plain shape
 * of JSON and build, or write, what jansson does; everything else, errors included, is
 * jansson's answer. All of it runs with jansson allocating through common/jalloc.c, as in
 * thiduad, and test_jalloc checks that allocator's lists.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "jalloc.h"
#include "jdump.h"
#include "jload.h"
#include "t.h"

static char *dump(const json_t *v)
{
	return v ? jdump_jansson(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) : NULL;
}

/* check - text through jload_fast(), jload() and json_loadb(); fast: 1 the fast path
 * must take it, 0 it must leave it to jansson, -1 either */
static void check(const char *what, const char *text, size_t flags, int fast)
{
	char name[256];
	json_error_t e1, e2;
	size_t len = strlen(text);
	json_t *f = jload_fast(text, len, flags), *j = jload(text, len, flags, &e1), *ref = json_loadb(text, len, flags, &e2);
	char *tf = dump(f), *tj = dump(j), *tr = dump(ref);

	if (fast >= 0) {
		snprintf(name, sizeof(name), "%s: %s", what, fast ? "the fast path takes it" : "left to jansson");
		T_CHECK(name, !f == !fast);
	}
	snprintf(name, sizeof(name), "%s: the fast path builds what jansson builds", what);
	T_CHECK(name, !f || (tr && !strcmp(tf, tr)));
	snprintf(name, sizeof(name), "%s: jload answers as jansson", what);
	T_CHECK(name, ref ? tj && !strcmp(tj, tr) : !j && !strcmp(e1.text, e2.text) && e1.line == e2.line
		&& e1.column == e2.column && e1.position == e2.position);
	free(tf);
	free(tj);
	free(tr);
	json_decref(f);
	json_decref(j);
	json_decref(ref);
}

static void test_taken(void)
{
	check("a job", "{\"type\":\"job\",\"job\":\"42\",\"attempt\":1,\"lease\":60,\"payload\":{\"channel\":{\"name\":\"bench\","
	      "\"kind\":\"json\",\"url\":\"http://127.0.0.1:8080/hook\",\"rate\":10000.0,\"burst\":100000,\"split\":true,"
	      "\"allow_http\":false,\"chat_id\":null},\"title\":\"[Nhắc hạn] Báo cáo kết quả thực hiện phong trào thi đua\","
	      "\"text\":\"Kính gửi: Trường Tiểu học số 0\\n\\nĐơn vị chưa gửi báo cáo \\\"năm\\\" 2024.\\n\","
	      "\"event\":{\"units\":[{\"unit\":\"TH-00000\",\"due_day\":20047,\"days\":-1}]}}}", 0, 1);
	check("spaces everywhere", " \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } , \"c\" : [ ] } \n", 0, 1);
	check("every short escape", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", 0, 1);
	check("escapes around UTF-8", "[\"Đ\\nđ\\tỮ\"]", 0, 1);
	check("integers", "[0,-0,7,-7,123456789012345678,-123456789012345678]", 0, 1);
	check("a real", "[1.5,-2e3,0.1,1E+2]", 0, 1);
	check("literals", "[true,false,null]", 0, 1);
	check("a later key wins without JSON_REJECT_DUPLICATES", "{\"a\":1,\"b\":2,\"a\":3}", 0, 1);
	check("a scalar with JSON_DECODE_ANY", " \"xin chào\" ", JSON_DECODE_ANY, 1);
	check("an empty key", "{\"\":\"\"}", 0, 1);
}

static void test_left(void)
{
	check("a \\u escape", "[\"\\u0110\"]", 0, 0);
	check("a \\u escape in a key", "{\"\\u0061\":1}", 0, 0);
	check("an escaped key", "{\"a\\n\":1}", 0, 0);
	check("a NUL escape", "[\"\\u0000\"]", 0, 0);
	check("19 digits", "[1234567890123456789]", 0, 0);
	check("an integer too big", "[99999999999999999999999]", 0, 0);
	check("a duplicate key refused", "{\"a\":1,\"a\":2}", JSON_REJECT_DUPLICATES, 0);
	check("a scalar without JSON_DECODE_ANY", "\"x\"", 0, 0);
	check("nesting deeper than 64", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", 0, 0);
	check("a flag it does not know", "{\"a\":1}", JSON_DISABLE_EOF_CHECK, 0);
}

static void test_refused(void)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{a:1}", "[01]", "[-]", "[--1]",
		"[1.]", "[.5]", "[+1]", "[1e]", "[tru]", "[truex]", "[nul]", "[\"a]", "[\"\\x\"]", "[\"\\", "[\"a\tb\"]",
		"[\"\xc3\x28\"]", "[\"\xed\xa0\x80\"]", "[\"\xc0\xaf\"]", "[\"\xf4\x90\x80\x80\"]", "[1] x", "[1][2]",
		"\xef\xbb\xbf[1]", "[1,2", "{\"a\":1 \"b\":2}", "[\"\xe1\\n\"]",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "bad input %zu", i);
		check(what, bad[i], 0, 0);
		check(what, bad[i], JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, -1);
	}
}

/* written - jdump_fast(), jdump() and jdump_jansson() of v with flags; fast as in check() */
static void written(const char *what, json_t *v, size_t flags, int fast)
{
	char name[256], *f = jdump_fast(v, flags), *j = jdump(v, flags), *ref = jdump_jansson(v, flags);

	if (fast >= 0) {
		snprintf(name, sizeof(name), "%s: %s", what, fast ? "the fast path writes it" : "left to jansson");
		T_CHECK(name, !f == !fast);
	}
	snprintf(name, sizeof(name), "%s: the fast path writes what jansson writes", what);
	T_CHECK(name, !f || (ref && !strcmp(f, ref)));
	snprintf(name, sizeof(name), "%s: jdump answers as jansson", what);
	T_CHECK(name, ref ? j && !strcmp(j, ref) : !j);
	free(f);
	free(j);
	free(ref);
	json_decref(v);
}

static void test_dump(void)
{
	json_t *deep = json_array(), *o;
	char *text;

	written("a receipt", json_pack("{s:s,s:b,s:{s:s,s:I,s:[{s:s,s:i}]},s:n}", "id", "r-1", "ok", 1, "receipt", "number",
				      "BN-2024-000123", "received_at", (json_int_t)1731204000, "files", "name",
				      "báo cáo \"năm\" 2024\\Đ.pdf", "size", 3, "note"), JSON_COMPACT, 1);
	written("every escape", json_pack("[s]", "\"\\/\b\f\n\r\t\x01\x1f\x7f Ữ"), JSON_COMPACT, 1);
	written("empty ones", json_pack("{s:[],s:{},s:s}", "a", "b", "c", ""), JSON_COMPACT, 1);
	written("integers", json_pack("[I,I,i]", (json_int_t)INT64_MAX, (json_int_t)INT64_MIN, 0), JSON_COMPACT, 1);
	written("reals, by jansson", json_pack("[f,f,f,f]", 1.5, 10000.0, 1e300, -0.0), JSON_COMPACT, 1);
	written("a NUL in a string", json_stringn("a\0b", 3), JSON_COMPACT | JSON_ENCODE_ANY, 1);
	o = json_object();
	json_object_setn_new(o, "k\0ey", 4, json_true());
	written("a NUL in a key", o, JSON_COMPACT, 1);
	written("a scalar with JSON_ENCODE_ANY", json_integer(7), JSON_COMPACT | JSON_ENCODE_ANY, 1);
	written("a scalar without it", json_integer(7), JSON_COMPACT, 0);
	written("not UTF-8", json_pack("[o]", json_stringn_nocheck("\xff", 1)), JSON_COMPACT, 0);
	written("indented", json_pack("{s:[i,i]}", "a", 1, 2), JSON_INDENT(2), 0);
	written("not compact", json_pack("{s:[i,i]}", "a", 1, 2), 0, 0);
	written("sorted keys", json_pack("{s:i,s:i}", "b", 1, "a", 2), JSON_COMPACT | JSON_SORT_KEYS, 0);
	for (int i = 0; i < 70; i++)
		deep = json_pack("[o]", deep);
	written("nesting deeper than 64", deep, JSON_COMPACT, 0);
	text = jdump(NULL, JSON_COMPACT);
	T_CHECK("jdump(NULL) is NULL", text == NULL);
}

/* test_jalloc - freed small blocks are kept up to the limit and handed out again; big
 * ones, and text json_dumps() made, go back to malloc (jdump returns free()able text) */
static void test_jalloc(void)
{
	enum { N = 20000 };
	json_t **v = malloc(N * sizeof(*v));
	size_t before = jalloc_kept(), full;
	char big[1000], *text;
	json_t *real;

	for (int i = 0; i < N; i++)
		v[i] = json_pack("{s:s,s:i,s:[s]}", "don_vi", "Xã Phú Hòa Đông", "so", i, "tep", "báo cáo.pdf");
	for (int i = 0; i < N; i++)
		json_decref(v[i]);
	full = jalloc_kept();
	if (jalloc_limit() == 0) {
		T_CHECK("jalloc keeps nothing under AddressSanitizer", full == 0);
	} else {
		T_CHECK("jalloc keeps freed blocks", full > before);
		T_CHECK("jalloc keeps no more than its limit", full <= jalloc_limit());
		T_CHECK("jalloc fills its lists under a turn's worth of frees", full + 256 > jalloc_limit());
		v[0] = json_pack("{s:s}", "don_vi", "Xã An Phú");
		T_CHECK("jalloc hands kept blocks out again", jalloc_kept() < full);
		json_decref(v[0]);
	}
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	v[0] = json_string(big);
	T_STREQ("jalloc: a block over 256 bytes holds its text", json_string_value(v[0]), big);
	json_decref(v[0]);
	real = json_pack("{s:f,s:s}", "diem", 9.5, "xep_loai", "Xuất sắc");
	text = jdump(real, JSON_COMPACT | JSON_SORT_KEYS);	/* json_dumps() writes it */
	T_STREQ("jdump through json_dumps gives text for free()", text, "{\"diem\":9.5,\"xep_loai\":\"Xuất sắc\"}");
	free(text);
	json_decref(real);
	free(v);
}

/* test_writer - text written member by member (struct jw, what the spool and the jobs
 * socket use) is the text jansson writes for the same tree */
static void test_writer(void)
{
	struct buf b = { 0 };
	struct jw w = JW_INIT(&b);
	const char *stored = "{\"subject\":\"Nhắc hạn \\\"BC\\\"\"}";
	json_t *tree = json_pack("{s:s,s:[{s:s,s:s},{s:s}],s:n,s:I,s:{s:s},s:s,s:[],s:{},s:[i,i]}",
				 "from", "thidua@cuchi.example.org", "to", "address", "a@x", "name", "Ủy ban \"xã\"\n\t",
				 "address", "b@x", "html", "count", (json_int_t)-9007199254740993LL,
				 "channel", "kind", "json", "subject", "Nhắc hạn \"BC\"", "empty", "none", "n", 1, 2);
	char *want = jdump_jansson(tree, JSON_COMPACT), *got;
	json_t *chan = json_pack("{s:s}", "kind", "json");

	jw_open(&w, '{');
	jw_key(&w, "from");
	jw_str(&w, "thidua@cuchi.example.org");
	jw_key(&w, "to");
	jw_open(&w, '[');
	jw_open(&w, '{');
	jw_key(&w, "address");
	jw_str(&w, "a@x");
	jw_key(&w, "name");
	jw_str(&w, "Ủy ban \"xã\"\n\t");
	jw_close(&w, '}');
	jw_open(&w, '{');
	jw_key(&w, "address");
	jw_strn(&w, "b@x and more", 3);
	jw_close(&w, '}');
	jw_close(&w, ']');
	jw_key(&w, "html");
	jw_str(&w, NULL);
	jw_key(&w, "count");
	jw_int(&w, -9007199254740993LL);
	jw_key(&w, "channel");
	jw_json(&w, chan);
	jw_members(&w, stored, strlen(stored));
	jw_key(&w, "empty");
	jw_raw(&w, "[]", 2);
	jw_key(&w, "none");
	jw_open(&w, '{');
	jw_members(&w, "{ }", 3);
	jw_close(&w, '}');
	jw_key(&w, "n");
	jw_open(&w, '[');
	jw_int(&w, 1);
	jw_int(&w, 2);
	jw_close(&w, ']');
	jw_close(&w, '}');
	T_STREQ("jw: member by member, the text jansson writes", b.p, want);
	got = jdump(tree, JSON_COMPACT);
	T_STREQ("jw: jdump of the tree writes it too", got, want);
	free(got);
	free(want);
	free(b.p);
	json_decref(chan);
	json_decref(tree);

	b = (struct buf){ 0 };
	w = (struct jw)JW_INIT(&b);
	jw_open(&w, '{');
	jw_key(&w, "type");
	jw_str(&w, "job");
	jw_members(&w, "{\"a\":1,\"b\":{\"c\":[]}}", 20);
	jw_close(&w, '}');
	T_STREQ("jw: an object's members spliced after others", b.p, "{\"type\":\"job\",\"a\":1,\"b\":{\"c\":[]}}");
	free(b.p);
}

int main(void)
{
	jalloc_install();	/* before the first JSON value, as thiduad does */
	test_writer();
	test_jalloc();
	test_taken();
	test_left();
	test_refused();
	test_dump();
	return t_failed != 0;
}
