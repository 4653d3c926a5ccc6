/*
 * test_curve.c - the CURVE client helpers (common/curve.c): keys as thiduactl keys generate
 * writes them, the options a socket gets, and the messages for what is missing or wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "curve.h"
#include "t.h"

static char dir[] = "/tmp/thidua-test-curve-XXXXXX";

/* put - a file in the test directory holding text; returns its path (static) */
static const char *put(const char *name, const char *text)
{
	static char path[4][256];
	static int next;
	char *p = path[next++ % 4];
	FILE *fp;

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	fp = fopen(p, "w");
	if (!fp) {
		perror(p);
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
	return p;
}

static void test_read_key(void)
{
	char pub[41], sec[41], out[41], line[64];

	zmq_curve_keypair(pub, sec);
	T_CHECK("a key given as is", curve_read_key(pub, out) == 0 && !strcmp(out, pub));
	snprintf(line, sizeof(line), "%s\n", pub);
	T_CHECK("a key file with its newline", curve_read_key(put("a.pub", line), out) == 0 && !strcmp(out, pub));
	T_CHECK("a key file without a newline", curve_read_key(put("b.pub", pub), out) == 0 && !strcmp(out, pub));
	T_CHECK("a short key file", curve_read_key(put("short.pub", "abc\n"), out) == -1 && out[0] == 0);
	T_CHECK("an empty key file", curve_read_key(put("empty.pub", ""), out) == -1);
	T_CHECK("a key file with characters outside Z85",
		curve_read_key(put("bad.pub", "0123456789012345678901234567890123456 ~~\n"), out) == -1);
	T_CHECK("39 characters are not a key", curve_read_key("0123456789012345678901234567890123456789" + 1, out) == -1);
	T_CHECK("a missing file that is not a key", curve_read_key("/nonexistent/thidua.pub", out) == -1);
	T_CHECK("a directory is not a key", curve_read_key(dir, out) == -1);
}

static void test_setup(void)
{
	char pub[41], sec[41], spub[41], ssec[41], got[41], err[1024], line[64];
	void *ctx = zmq_ctx_new(), *s;
	const char *keyfile, *pubfile;
	int mech = 0;
	size_t len = sizeof(mech);

	zmq_curve_keypair(pub, sec);
	zmq_curve_keypair(spub, ssec);
	snprintf(line, sizeof(line), "%s\n", sec);
	keyfile = put("w.key", line);
	snprintf(line, sizeof(line), "%s\n", spub);
	pubfile = put("thiduad.pub", line);

	s = zmq_socket(ctx, ZMQ_DEALER);
	T_CHECK("no server key: the socket stays as it is", curve_client_setup(s, NULL, keyfile, err, sizeof(err)) == 0);
	zmq_getsockopt(s, ZMQ_MECHANISM, &mech, &len);
	T_CHECK("no server key: NULL mechanism", mech == ZMQ_NULL);
	curve_client_public(s, got);
	T_STREQ("no server key: no public key", got, "");

	T_CHECK("a server key file and a secret key file", curve_client_setup(s, pubfile, keyfile, err, sizeof(err)) == 0);
	len = sizeof(mech);
	zmq_getsockopt(s, ZMQ_MECHANISM, &mech, &len);
	T_CHECK("CURVE mechanism", mech == ZMQ_CURVE);
	curve_client_public(s, got);
	T_STREQ("the public key comes from the secret one", got, pub);
	len = sizeof(got);
	zmq_getsockopt(s, ZMQ_CURVE_SERVERKEY, got, &len);
	T_STREQ("the server key from its file", got, spub);
	zmq_close(s);

	s = zmq_socket(ctx, ZMQ_DEALER);
	T_CHECK("a server key given as is", curve_client_setup(s, spub, keyfile, err, sizeof(err)) == 0);
	zmq_close(s);

	s = zmq_socket(ctx, ZMQ_DEALER);
	T_CHECK("a bad server key fails", curve_client_setup(s, "nope", keyfile, err, sizeof(err)) == -1);
	T_STREQ("a bad server key: thiduactl's message", err,
		"--server-key: 'nope' is neither a 40-character key nor a file holding one");
	T_CHECK("no secret key fails", curve_client_setup(s, spub, NULL, err, sizeof(err)) == -1);
	T_STREQ("no secret key: thiduactl's message", err,
		"a tcp endpoint needs your secret key: --key FILE (thiduactl keys generate NAME writes NAME.key)");
	T_CHECK("a missing secret key file fails",
		curve_client_setup(s, spub, "/nonexistent/w.key", err, sizeof(err)) == -1);
	T_CHECK("a missing secret key file: the message names the file and the error",
		strstr(err, "--key: cannot read the secret key file /nonexistent/w.key: No such file") != NULL);
	T_CHECK("a secret key file that holds no key fails",
		curve_client_setup(s, spub, put("junk.key", "not a key\n"), err, sizeof(err)) == -1);
	T_CHECK("a secret key file that holds no key: the message names the file",
		strstr(err, "junk.key does not hold a secret key") != NULL && strstr(err, "keys generate") != NULL);
	len = sizeof(mech);
	zmq_getsockopt(s, ZMQ_MECHANISM, &mech, &len);
	T_CHECK("after a failure the socket is no CURVE client", mech == ZMQ_NULL);
	T_CHECK("no message holds the secret key", strstr(err, sec) == NULL);
	zmq_close(s);
	zmq_ctx_term(ctx);
}

static void test_needed(void)
{
	char err[1024];

	T_CHECK("ipc needs no keys", curve_client_needed("ipc:///run/jobs.sock", NULL, NULL, err, sizeof(err)) == 0);
	T_CHECK("ipc uses no keys given", curve_client_needed("ipc:///run/jobs.sock", "k", "f", err, sizeof(err)) == 0);
	T_CHECK("tcp with both keys", curve_client_needed("tcp://10.0.0.1:7411", "k", "f", err, sizeof(err)) == 1);
	T_CHECK("tcp without --key", curve_client_needed("tcp://10.0.0.1:7411", "k", NULL, err, sizeof(err)) == -1);
	T_CHECK("tcp without --key: which flag and how to make a key",
		strstr(err, "--key FILE") && strstr(err, "thiduactl keys generate NAME") && strstr(err, "daemon.worker_keys")
		&& !strstr(err, "--server-key"));
	T_CHECK("tcp without --server-key", curve_client_needed("tcp://10.0.0.1:7411", NULL, "f", err, sizeof(err)) == -1);
	T_CHECK("tcp without --server-key: which flag", strstr(err, "--server-key KEY|FILE") && !strstr(err, "--key FILE"));
	T_CHECK("tcp without keys", curve_client_needed("tcp://10.0.0.1:7411", NULL, NULL, err, sizeof(err)) == -1);
	T_CHECK("tcp without keys: both flags", strstr(err, "--server-key KEY|FILE") && strstr(err, "--key FILE"));
}

int main(void)
{
	char cmd[300];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_read_key();
	test_setup();
	test_needed();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_failed ? 1 : 0;
}
