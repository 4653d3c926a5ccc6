/*
 * t.h - the unit-test harness: each check prints "PASS name" or "FAIL name: why";
 * tests/run.py counts them. A test program exits 0 when it ran to the end.
 */
#ifndef THIDUA_T_H
#define THIDUA_T_H

#include <stdio.h>
#include <string.h>

static int t_failed;

#define T_CHECK(name, cond) do { \
	if (cond) printf("PASS %s\n", (name)); \
	else { printf("FAIL %s: %s (%s:%d)\n", (name), #cond, __FILE__, __LINE__); t_failed++; } \
} while (0)

#define T_STREQ(name, got, want) do { \
	const char *t_g = (got), *t_w = (want); \
	if (t_g && t_w && strcmp(t_g, t_w) == 0) printf("PASS %s\n", (name)); \
	else { printf("FAIL %s: got \"%s\", want \"%s\" (%s:%d)\n", (name), t_g ? t_g : "(null)", \
		    t_w ? t_w : "(null)", __FILE__, __LINE__); t_failed++; } \
} while (0)

#endif
