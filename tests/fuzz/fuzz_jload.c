/*
 * fuzz_jload.c - libFuzzer target: common/jload.c against jansson. The input is parsed by
 * jload_fast() and by json_loadb(), with each flag set jload() takes.
 *
 * Properties: what the fast path accepts, jansson accepts, and the two values dump to the
 * same text (same members in the same order, same numbers, same strings); jload() answers
 * what json_loadb() answers, for every input.
 */
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "jload.h"

static char *dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
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
		json_decref(fast);
		json_decref(ref);
		json_decref(both);
	}
	return 0;
}
