/*
 * cmd_keys.c - thiduactl keys generate NAME [--dir DIR]: a CURVE key pair for a client or
 * a worker of a tcp endpoint. Needs no daemon.
 *
 * DIR/NAME.key holds the secret key and DIR/NAME.pub the public key, each as its 40 Z85
 * characters and a newline (zmq_curve_public() gives the public key back from the secret
 * one). NAME.key is created with mode 0600 and O_EXCL: an existing key is never
 * overwritten, and a pair is written whole or not at all. The public key is printed to be
 * pasted into the daemon's configuration; the secret key never leaves the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "cmd_keys.h"
#include "xalloc.h"

#define Z85_KEY_LEN 40
#define KEY_NAME_MAX 64

/* key_name_valid - a plain file name: [A-Za-z0-9][A-Za-z0-9_.-]*, no path */
static int key_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > KEY_NAME_MAX || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", name[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", name[i]))
			return 0;
	return 1;
}

/* write_key - create path (never an existing file) holding key and a newline; 0 or -1
 * with errno, and nothing left behind on failure */
static int write_key(const char *path, const char *key, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	char line[Z85_KEY_LEN + 2];
	int e;

	if (fd < 0)
		return -1;
	snprintf(line, sizeof(line), "%s\n", key);
	if (fchmod(fd, mode) == 0 && write(fd, line, Z85_KEY_LEN + 1) == Z85_KEY_LEN + 1 && fsync(fd) == 0) {
		if (close(fd) == 0)
			return 0;
		fd = -1;
	}
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(path);
	errno = e;
	return -1;
}

/* keys_generate - the pair, then the public key on stdout */
static int keys_generate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { NULL, 0, NULL, 0 },
	};
	char pub[Z85_KEY_LEN + 1], sec[Z85_KEY_LEN + 1];
	const char *dir = ".", *name;
	char *key_path = NULL, *pub_path = NULL;
	int opt, rc = EXIT_DAEMON_ERROR;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'd')
			return EXIT_USAGE;
		dir = optarg;
	}
	if (optind != argc - 1)
		return cli_usage_error("keys generate needs one NAME: thiduactl keys generate NAME [--dir DIR]%s", "");
	name = argv[optind];
	if (!key_name_valid(name))
		return cli_usage_error("key name '%s' must be letters, digits, '-', '_' or '.' (at most 64), starting with a letter or digit", name);
	if (!*dir)
		return cli_usage_error("--dir '%s' is empty", dir);
	if (zmq_curve_keypair(pub, sec) != 0) {
		fprintf(stderr, "thiduactl: cannot make a CURVE key pair: %s (libzmq built without CURVE?)\n",
			zmq_strerror(errno));
		return EXIT_DAEMON_ERROR;
	}
	key_path = xasprintf("%s/%s.key", dir, name);
	pub_path = xasprintf("%s/%s.pub", dir, name);
	if (write_key(key_path, sec, 0600)) {
		fprintf(stderr, "thiduactl: cannot create %s: %s%s\n", key_path, strerror(errno),
			errno == EEXIST ? " (a key is never overwritten: remove it first, or choose another name)" : "");
		goto out;
	}
	if (write_key(pub_path, pub, 0644)) {
		fprintf(stderr, "thiduactl: cannot create %s: %s%s\n", pub_path, strerror(errno),
			errno == EEXIST ? " (a key is never overwritten: remove it first, or choose another name)" : "");
		unlink(key_path);
		goto out;
	}
	if (cl.json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "name", name, "public_key", pub,
				      "secret_key_file", key_path, "public_key_file", pub_path);
		char *text = json_dumps(o, JSON_INDENT(2));

		printf("%s\n", text);
		free(text);
		json_decref(o);
	} else {
		printf("%s\n", pub);
		fprintf(stderr, "thiduactl: the secret key of '%s' is in %s (mode 0600, keep it there); "
			"the line above, also in %s, is its public key for the configuration\n",
			name, key_path, pub_path);
	}
	rc = EXIT_OK;
out:
	explicit_bzero(sec, sizeof(sec));
	free(key_path);
	free(pub_path);
	return rc;
}

/* cmd_keys - keys generate */
int cmd_keys(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "generate"))
		return keys_generate(argc - 1, argv + 1);
	return cli_usage_error("keys: use 'keys generate NAME [--dir DIR]'%s", "");
}
