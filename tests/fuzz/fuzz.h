/*
 * fuzz.h - what the fuzz targets share: the libFuzzer entry point, and a check that ends
 * the run the way a sanitizer would, so that a broken property is a crash the fuzzer
 * keeps and the regression driver (driver.c) reports.
 */
#ifndef THIDUA_FUZZ_H
#define THIDUA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_ASSERT - a property of the code under test; abort() with the reason when broken */
#define FUZZ_ASSERT(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz: property broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
		abort(); \
	} \
} while (0)

#endif
