/*
 * curve.c - CURVE clients of thiduad: reading keys and setting a socket's CURVE options,
 * shared by thiduactl (cli/client.c) and the workers (jobwire.c).
 *
 * Keys are read with read(2) straight into the caller's buffer, not through stdio, so no
 * copy of a secret key is left in a freed FILE buffer; every buffer that held a secret is
 * wiped with explicit_bzero() on every path out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "curve.h"

#define KEYGEN_HINT "thiduactl keys generate NAME writes NAME.key"

/* z85_key - exactly n == 40 characters of the Z85 alphabet */
static int z85_key(const char *k, size_t n)
{
	static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

	if (n != CURVE_KEY_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!k[i] || !strchr(z85, k[i]))
			return 0;
	return 1;
}

/* read_key_fd - the first 40 characters of a file; 0, or -1 with errno (EINVAL: not a key) */
static int read_key_fd(int fd, char out[CURVE_KEY_LEN + 1])
{
	size_t got = 0;

	while (got < CURVE_KEY_LEN) {
		ssize_t n = read(fd, out + got, CURVE_KEY_LEN - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	out[got] = 0;
	if (!z85_key(out, got)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* load_key - spec as a file, else as the key itself; 0, or -1 with *file_errno the error of
 * opening or reading the file (0: what was found is not a key) and out wiped */
static int load_key(const char *spec, char out[CURVE_KEY_LEN + 1], int *file_errno)
{
	int fd = open(spec, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int rc;

	*file_errno = 0;
	if (fd < 0) {
		*file_errno = errno;
		if (z85_key(spec, strlen(spec))) {
			memcpy(out, spec, CURVE_KEY_LEN + 1);
			*file_errno = 0;
			return 0;
		}
		explicit_bzero(out, CURVE_KEY_LEN + 1);
		return -1;
	}
	rc = read_key_fd(fd, out);
	if (rc)
		*file_errno = errno == EINVAL ? 0 : errno;
	close(fd);
	if (rc)
		explicit_bzero(out, CURVE_KEY_LEN + 1);
	return rc;
}

/* curve_read_key - a key as is, or the first 40 characters of a file */
int curve_read_key(const char *spec, char out[CURVE_KEY_LEN + 1])
{
	int file_errno;

	return load_key(spec, out, &file_errno);
}

/* curve_client_setup - server key, our public and secret key into the socket's options */
int curve_client_setup(void *sock, const char *server_key_spec, const char *secret_key_file,
		       char *err, size_t errsize)
{
	char server[CURVE_KEY_LEN + 1], secret[CURVE_KEY_LEN + 1], public[CURVE_KEY_LEN + 1];
	int file_errno, rc = -1;

	if (!server_key_spec)
		return 0;
	if (curve_read_key(server_key_spec, server)) {
		snprintf(err, errsize, "--server-key: '%s' is neither a 40-character key nor a file holding one",
			 server_key_spec);
		goto out;
	}
	if (!secret_key_file) {
		snprintf(err, errsize, "a tcp endpoint needs your secret key: --key FILE (" KEYGEN_HINT ")");
		goto out;
	}
	if (load_key(secret_key_file, secret, &file_errno)) {
		if (file_errno)
			snprintf(err, errsize, "--key: cannot read the secret key file %s: %s (" KEYGEN_HINT ")",
				 secret_key_file, strerror(file_errno));
		else
			snprintf(err, errsize, "--key: %s does not hold a secret key: it must start with the 40 Z85 "
				 "characters of one (" KEYGEN_HINT "; NAME.pub is the public half)", secret_key_file);
		goto out;
	}
	if (zmq_curve_public(public, secret)
	    || zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server, CURVE_KEY_LEN)
	    || zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, public, CURVE_KEY_LEN)
	    || zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret, CURVE_KEY_LEN)) {
		snprintf(err, errsize, "the CURVE keys cannot be used: %s", zmq_strerror(errno));
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(secret, sizeof(secret));
	return rc;
}

/* curve_client_needed - tcp wants both keys; other transports use none */
int curve_client_needed(const char *endpoint, const char *server_key_spec, const char *secret_key_file,
			char *err, size_t errsize)
{
	static const char add[] = "make a key pair with 'thiduactl keys generate NAME' (NAME.key is the secret key) "
				  "and add the public key it prints, also in NAME.pub, to daemon.worker_keys";
	static const char server[] = "thiduad's public key, --server-key KEY|FILE (the .pub beside "
				     "daemon.curve_key_file, written by 'thiduactl keys generate thiduad')";

	if (strncmp(endpoint, "tcp://", 6))
		return 0;
	if (server_key_spec && secret_key_file)
		return 1;
	if (!server_key_spec && !secret_key_file)
		snprintf(err, errsize, "%s is a tcp endpoint, where the worker needs CURVE keys: %s, and its own "
			 "secret key, --key FILE; %s", endpoint, server, add);
	else if (!secret_key_file)
		snprintf(err, errsize, "%s is a tcp endpoint, where the worker needs its own secret key: --key FILE; %s",
			 endpoint, add);
	else
		snprintf(err, errsize, "%s is a tcp endpoint, where the worker needs %s", endpoint, server);
	return -1;
}

/* curve_client_public - ZMQ_CURVE_PUBLICKEY in Z85, when the socket is a CURVE client */
void curve_client_public(void *sock, char out[CURVE_KEY_LEN + 1])
{
	int mechanism = 0;
	size_t len = sizeof(mechanism);

	out[0] = 0;
	if (zmq_getsockopt(sock, ZMQ_MECHANISM, &mechanism, &len) != 0 || mechanism != ZMQ_CURVE)
		return;
	len = CURVE_KEY_LEN + 1;
	if (zmq_getsockopt(sock, ZMQ_CURVE_PUBLICKEY, out, &len) != 0)
		out[0] = 0;
}
