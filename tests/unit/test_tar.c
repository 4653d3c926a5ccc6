/* test_tar.c - the ustar headers of backup archives: written, read back, and what GNU
 * tar makes of them (when tar is installed) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"
#include "tar.h"

/* tar_lists - GNU tar's verbose listing of a one-member archive holds want */
static int tar_lists(const unsigned char *h, const char *want)
{
	char path[] = "/tmp/test_tar_XXXXXX", cmd[256], line[512] = "";
	static const unsigned char zero[3 * TAR_BLOCK];
	FILE *fp;
	int fd = mkstemp(path), found = 0;

	if (fd < 0)
		return 0;
	/* the header and two zero blocks: a member of size 0 */
	if (write(fd, h, TAR_BLOCK) != TAR_BLOCK || write(fd, zero, 2 * TAR_BLOCK) != 2 * TAR_BLOCK) {
		close(fd);
		return 0;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "tar -tvf %s 2>&1", path);
	if ((fp = popen(cmd, "r"))) {
		while (fgets(line, sizeof(line), fp))
			found |= strstr(line, want) != NULL;
		pclose(fp);
	}
	unlink(path);
	return found;
}

int main(void)
{
	unsigned char h[TAR_BLOCK], zero[TAR_BLOCK] = { 0 };
	char name[101], why[256], longname[102];
	int64_t size = -1;

	T_CHECK("header written", tar_header(h, "files/ab/abcdef", 2000000, 0640, 1731204000) == 0);
	T_CHECK("read back: a file", tar_parse(h, name, &size, why, sizeof(why)) == 1);
	T_STREQ("read back: its name", name, "files/ab/abcdef");
	T_CHECK("read back: its size", size == 2000000);
	T_CHECK("ustar magic", memcmp(h + 257, "ustar\0" "00", 8) == 0);
	T_CHECK("size in octal", memcmp(h + 124, "00007502200", 11) == 0);

	T_CHECK("over 8 GiB: base-256", tar_header(h, "thidua.db", INT64_C(10000000000), 0640, 0) == 0 && h[124] == 0x80);
	T_CHECK("over 8 GiB: read back", tar_parse(h, name, &size, why, sizeof(why)) == 1 && size == INT64_C(10000000000));

	T_CHECK("the end: a zero block", tar_parse(zero, name, &size, why, sizeof(why)) == 0);

	tar_header(h, "thidua.db", 100, 0640, 0);
	h[130] ^= 1;
	T_CHECK("a changed byte: the checksum", tar_parse(h, name, &size, why, sizeof(why)) == -1 && strstr(why, "checksum"));
	tar_header(h, "thidua.db", 100, 0640, 0);
	h[156] = '5';		/* a directory, with the checksum made right */
	memset(h + 148, ' ', 8);
	{
		unsigned sum = 0;

		for (int i = 0; i < TAR_BLOCK; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum);
	}
	T_CHECK("not a regular file: refused", tar_parse(h, name, &size, why, sizeof(why)) == -1 && strstr(why, "not a regular file"));

	memset(longname, 'a', 101);
	longname[101] = 0;
	T_CHECK("a name over 100 bytes: refused", tar_header(h, longname, 1, 0640, 0) == -1);
	T_CHECK("padding", tar_padding(0) == 0 && tar_padding(1) == 511 && tar_padding(512) == 0 && tar_padding(513) == 511);

	if (system("tar --version >/dev/null 2>&1") == 0) {
		tar_header(h, "files/ab/abcdef", 0, 0640, 1731204000);
		T_CHECK("GNU tar lists it", tar_lists(h, "thidua/thidua") && tar_lists(h, "files/ab/abcdef"));
		tar_header(h, "thidua.db", INT64_C(10000000000), 0640, 0);
		T_CHECK("GNU tar reads a base-256 size", tar_lists(h, "10000000000"));
	}
	return t_failed ? 1 : 0;
}
