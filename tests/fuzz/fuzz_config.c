/*
 * fuzz_config.c - libFuzzer target: the input is a configuration file, written to a
 * temporary file and loaded with cfg_load() as thiduad -n and a reload do.
 *
 * Properties: no crash, leak or undefined behaviour; a failed load says why, each error
 * as UTF-8 text (config.reload quotes them in its reply); a loaded configuration answers
 * the lookups the daemon makes of it. Inputs naming other files with @include are skipped:
 * a configuration may read any file its author names, which is not hostile input.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "log.h"
#include "utf8.h"
#include "xalloc.h"

static char *cfg_path;

/* libconfig 1.5 (Debian 12) leaks the string token before a syntax error (its grammar
 * has no %destructor); that is the library's, once per refused file, not thidua's */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

static char *cfg_dir;

/* remove_temp - the file and its folder go at exit */
static void remove_temp(void)
{
	if (cfg_path)
		unlink(cfg_path);
	if (cfg_dir)
		rmdir(cfg_dir);
	free(cfg_path);
	free(cfg_dir);
	cfg_path = cfg_dir = NULL;
}

/* temp_config - one file per process, rewritten for each input */
static const char *temp_config(void)
{
	if (!cfg_path) {
		const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		cfg_dir = xasprintf("%s/thidua-fuzz-config-XXXXXX", tmp);
		if (!mkdtemp(cfg_dir)) {
			perror("fuzz_config: mkdtemp");
			exit(1);
		}
		cfg_path = xasprintf("%s/thidua.cfg", cfg_dir);
		log_init("fuzz_config", 0);
		atexit(remove_temp);
	}
	return cfg_path;
}

/* write_all - the input as the file's whole content */
static void write_all(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0) {
		perror("fuzz_config: open");
		exit(1);
	}
	while (size) {
		ssize_t n = write(fd, data, size);

		if (n <= 0) {
			perror("fuzz_config: write");
			exit(1);
		}
		data += n;
		size -= (size_t)n;
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = temp_config();
	char **errors = NULL;
	struct config *cfg;

	if (memmem(data, size, "@include", 8) || memmem(data, size, "@INCLUDE", 8))
		return 0;
	write_all(path, data, size);
	cfg = cfg_load(path, &errors);
	if (!cfg) {
		FUZZ_ASSERT(errors && errors[0]);
		for (size_t i = 0; errors[i]; i++)
			FUZZ_ASSERT(utf8_valid_str(errors[i]));
	} else {
		FUZZ_ASSERT(!errors);
		FUZZ_ASSERT(cfg->units && cfg->max_request_bytes > 0);
		for (size_t i = 0; i < cfg->nreports; i++)
			FUZZ_ASSERT(cfg_report(cfg, cfg->reports[i].code) == &cfg->reports[i]);
		for (size_t i = 0; i < cfg->nchannels; i++)
			FUZZ_ASSERT(cfg_channel(cfg, cfg->channels[i].name) != NULL);
		for (size_t i = 0; i < cfg->nholidays; i++) {
			FUZZ_ASSERT(cfg_holiday(cfg, cfg->holidays[i].day) != NULL);
			FUZZ_ASSERT(i == 0 || cfg->holidays[i - 1].day <= cfg->holidays[i].day);
		}
		for (size_t i = 0; i < cfg->units->nunits; i++)
			FUZZ_ASSERT(unit_code_valid(cfg->units->units[i]->code));
	}
	strv_free(&errors);
	cfg_destroy(&cfg);
	return 0;
}
