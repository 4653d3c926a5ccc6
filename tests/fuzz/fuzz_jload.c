/*
 * fuzz_jload.c - libFuzzer target: common/jload.c and common/jdump.c against jansson. The
 * input is parsed by jload_fast() and by json_loadb(), with each flag set jload() takes;
 * every value jansson reads is written by jdump() and by json_dumps().
 *
 * Properties: what the fast path accepts, jansson accepts, and the two values dump to the
 * same text (same members in the same order, same numbers, same strings); jload() answers
 * what json_loadb() answers, for every input; jdump() writes what json_dumps() writes,
 * compact, for the value and for each of its members (ENCODE_ANY).
 */
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "jdump.h"
#include "jload.h"

static char *dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
}

/* dumps - jdump() against json_dumps(), for v and, with JSON_ENCODE_ANY, its members */
static void dumps(const json_t *v)
{
	static const size_t flags[] = { JSON_COMPACT, JSON_COMPACT | JSON_ENCODE_ANY };

	for (size_t i = 0; i < 2; i++) {
		char *a = jdump(v, flags[i]), *b = json_dumps(v, flags[i]);

		FUZZ_ASSERT(!a == !b);
		FUZZ_ASSERT(!a || strcmp(a, b) == 0);
		free(a);
		free(b);
	}
	if (json_is_object(v)) {
		const char *k;
		json_t *m;

		json_object_foreach((json_t *)v, k, m)
			dumps(m);
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			dumps(json_array_get(v, i));
	}
}

static void same(const json_t *a, const json_t *b)
{
	char *ta = dump(a), *tb = dump(b);

	FUZZ_ASSERT(ta && tb && strcmp(ta, tb) == 0);
	free(ta);
	free(tb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t flags[] = { 0, JSON_REJECT_DUPLICATES, JSON_DECODE_ANY, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES };

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		json_error_t e1, e2;
		json_t *fast = jload_fast((const char *)data, size, flags[i]);
		json_t *ref = json_loadb((const char *)data, size, flags[i], &e1);
		json_t *both = jload((const char *)data, size, flags[i], &e2);

		if (fast) {
			FUZZ_ASSERT(ref != NULL);
			same(fast, ref);
		}
		FUZZ_ASSERT(!ref == !both);
		if (ref)
			same(ref, both);
		else
			FUZZ_ASSERT(strcmp(e1.text, e2.text) == 0 && e1.line == e2.line && e1.column == e2.column);
		if (ref && i == 2)
			dumps(ref);
		json_decref(fast);
		json_decref(ref);
		json_decref(both);
	}
	return 0;
}
