/*
 * curve.h - the client side of CURVE (ZeroMQ RFC 26) for every program that connects to a
 * tcp endpoint of thiduad: thiduactl and the workers. Keys are what `thiduactl keys generate
 * NAME` writes: NAME.key holds the secret key, NAME.pub the public key, each as 40 Z85
 * characters and a newline.
 *
 * Error texts are written into the caller's buffer without a program name; the caller adds
 * its own ("thiduactl: ", a log line). No text ever holds secret key material.
 */
#ifndef THIDUA_CURVE_H
#define THIDUA_CURVE_H

#include <stddef.h>

#define CURVE_KEY_LEN 40	/* a 32-byte key in Z85 */

/* curve_read_key - a key given as is (40 Z85 characters) or as the first 40 characters of
 * the file of that name (a file wins: Z85 keys may contain '/'); 0, or -1 with out wiped */
int curve_read_key(const char *spec, char out[CURVE_KEY_LEN + 1]);

/* curve_client_setup - make sock (before zmq_connect) a CURVE client of the server whose
 * public key is server_key_spec (a key or a file holding one), presenting the key pair of
 * secret_key_file. A NULL server_key_spec leaves the socket as it is. Returns 0, or -1 with
 * the reason in err. The secret is wiped from this function's memory before it returns;
 * libzmq keeps its own copy in the socket's options, used again on every reconnection. */
int curve_client_setup(void *sock, const char *server_key_spec, const char *secret_key_file,
		       char *err, size_t errsize);

/* curve_client_needed - does a worker connecting to endpoint use CURVE? 1 yes (a tcp
 * endpoint, both keys given), 0 no (not tcp: the keys, if any, do not apply), -1 when a tcp
 * endpoint lacks a key: err names the missing option and how to make a key */
int curve_client_needed(const char *endpoint, const char *server_key_spec, const char *secret_key_file,
			char *err, size_t errsize);

/* curve_client_public - the public key a CURVE client socket presents, "" when it is none */
void curve_client_public(void *sock, char out[CURVE_KEY_LEN + 1]);

#endif
