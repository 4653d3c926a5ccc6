/*
 * driver.c - the regression runner of a fuzz target, for compilers without libFuzzer:
 * runs LLVMFuzzerTestOneInput once over every file of tests/fuzz/corpus/TARGET and
 * tests/fuzz/regressions/TARGET (or of the files and folders named as arguments) and
 * prints "PASS TARGET: FILE" for each, as tests/run.py expects. A broken property aborts,
 * and the file being run is named on stderr just before.
 *
 * Built with -DFUZZ_TARGET='"name"' as $(BUILD)/tests/test_fuzz_NAME, run from the top of
 * the tree by make check under the normal and the sanitizer builds.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "xalloc.h"

#ifndef FUZZ_TARGET
#error "build with -DFUZZ_TARGET='\"name\"'"
#endif

#define INPUT_MAX (64u * 1024 * 1024)

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* run_file - one input; -1 when it cannot be read */
static int run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;
	size_t n;

	if (!fp || fstat(fileno(fp), &st) || st.st_size < 0 || (size_t)st.st_size > INPUT_MAX) {
		printf("FAIL %s: %s: cannot read: %s\n", FUZZ_TARGET, path, strerror(errno));
		if (fp)
			fclose(fp);
		return -1;
	}
	/* a copy of exactly the input's size, so that ASan sees a read past its end */
	buf = xmalloc((size_t)st.st_size ? (size_t)st.st_size : 1);
	n = fread(buf, 1, (size_t)st.st_size, fp);
	fclose(fp);
	fprintf(stderr, "input %s\n", path);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	printf("PASS %s: %s\n", FUZZ_TARGET, path);
	fflush(stdout);
	return 0;
}

/* run_path - a file, or every regular file of a folder in name order; a missing folder
 * is empty */
static int run_path(const char *path, int must_exist)
{
	struct stat st;
	DIR *dir;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int bad = 0;

	if (stat(path, &st)) {
		if (!must_exist)
			return 0;
		printf("FAIL %s: %s: %s\n", FUZZ_TARGET, path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path) ? 1 : 0;
	if (!(dir = opendir(path))) {
		printf("FAIL %s: %s: %s\n", FUZZ_TARGET, path, strerror(errno));
		return 1;
	}
	while ((e = readdir(dir))) {
		char *full;

		if (e->d_name[0] == '.')
			continue;
		full = xasprintf("%s/%s", path, e->d_name);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = full;
		} else {
			free(full);
		}
	}
	closedir(dir);
	if (names)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		bad += run_file(names[i]) ? 1 : 0;
		free(names[i]);
	}
	free(names);
	return bad;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			bad += run_path(argv[i], 1);
	} else {
		bad += run_path("tests/fuzz/corpus/" FUZZ_TARGET, 1);
		bad += run_path("tests/fuzz/regressions/" FUZZ_TARGET, 0);
	}
	return bad ? 1 : 0;
}
