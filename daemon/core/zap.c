/*
 * zap.c - authentication of tcp clients (ZAP, ZeroMQ RFC 27). Every tcp endpoint is a
 * CURVE server; the handler maps the client's long-term public key to a principal of the
 * configuration (domain "api"; "events" only for one who reads everything) or to an
 * allowed worker (domain "jobs"). An unknown key is
 * refused and logged with the key, never silently. ipc endpoints are protected by file
 * permissions instead, and their caller is the local administrator.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "thiduad.h"
#include "xalloc.h"

/* zap_open - the handler's socket; must be bound before any CURVE server socket */
int zap_open(struct daemon *d, char *err, size_t errsize)
{
	int linger = 0;

	d->zap = zmq_socket(d->zctx, ZMQ_REP);
	zmq_setsockopt(d->zap, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_bind(d->zap, "inproc://zeromq.zap.01") != 0) {
		snprintf(err, errsize, "cannot bind the authentication handler: %s", zmq_strerror(errno));
		return -1;
	}
	return 0;
}

/* zap_secure - make a socket bound to a tcp endpoint a CURVE server of a ZAP domain */
int zap_secure(struct daemon *d, void *sock, const char *endpoint, const char *domain, char *err, size_t errsize)
{
	int on = 1;

	if (strncmp(endpoint, "tcp://", 6))
		return 0;
	if (!d->cfg->curve_secret[0]) {
		snprintf(err, errsize, "%s is a tcp endpoint: remote access needs CURVE keys; set daemon.curve_key_file "
			 "(thiduactl keys generate thiduad writes one)", endpoint);
		return -1;
	}
	if (zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, domain, strlen(domain))
	    || zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &on, sizeof(on))
	    || zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, d->cfg->curve_secret, 40)) {
		snprintf(err, errsize, "cannot secure %s: %s", endpoint, zmq_strerror(errno));
		return -1;
	}
	return 0;
}

/* who - the principal or worker a public key belongs to in a domain, or NULL */
static const char *who(const struct daemon *d, const char *domain, const char *key)
{
	/* events name every unit's submissions and reviews, and a subscription cannot be
	 * filtered by who holds it: only a principal who reads everything may subscribe */
	if (!strcmp(domain, "api") || !strcmp(domain, "events")) {
		for (size_t i = 0; i < d->cfg->nprincipals; i++)
			if (d->cfg->principals[i].public_key && !strcmp(d->cfg->principals[i].public_key, key))
				return !strcmp(domain, "api") || principal_reads_all(d, &d->cfg->principals[i])
				       ? d->cfg->principals[i].name : NULL;
	} else if (!strcmp(domain, "jobs")) {
		for (size_t i = 0; d->cfg->worker_keys && d->cfg->worker_keys[i]; i++)
			if (!strcmp(d->cfg->worker_keys[i], key))
				return "worker";
	}
	return NULL;
}

/* zap_handle - answer one authentication request */
void zap_handle(struct daemon *d)
{
	zmq_msg_t part[7];
	int n = 0, more = 1;
	char domain[64] = "", address[64] = "", mechanism[16] = "", key[41] = "";
	const char *user = NULL, *code = "400", *text = "unknown key";

	while (more && n < 7) {
		zmq_msg_init(&part[n]);
		if (zrecv(&part[n], d->zap, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&part[n]);
			break;
		}
		more = zmq_msg_more(&part[n]);
		n++;
	}
	while (more) {		/* more frames than the protocol has: drain them */
		zmq_msg_t extra;

		zmq_msg_init(&extra);
		if (zrecv(&extra, d->zap, 0) < 0) {
			zmq_msg_close(&extra);
			break;
		}
		more = zmq_msg_more(&extra);
		zmq_msg_close(&extra);
	}
	if (n < 6) {
		for (int i = 0; i < n; i++)
			zmq_msg_close(&part[i]);
		return;
	}
	snprintf(domain, sizeof(domain), "%.*s", (int)zmq_msg_size(&part[2]), (char *)zmq_msg_data(&part[2]));
	snprintf(address, sizeof(address), "%.*s", (int)zmq_msg_size(&part[3]), (char *)zmq_msg_data(&part[3]));
	snprintf(mechanism, sizeof(mechanism), "%.*s", (int)zmq_msg_size(&part[5]), (char *)zmq_msg_data(&part[5]));
	if (!strcmp(mechanism, "CURVE") && n == 7 && zmq_msg_size(&part[6]) == 32) {
		zmq_z85_encode(key, zmq_msg_data(&part[6]), 32);
		user = who(d, domain, key);
		if (user) {
			code = "200";
			text = "OK";
		}
	} else {
		text = "CURVE required";
	}
	if (user)
		log_info("auth: %s from %s is %s", domain, address, user);
	else
		log_warn("auth: refused a %s connection from %s with %s key %s: %s", domain, address, mechanism,
			 key[0] ? key : "(none)", strcmp(domain, "events") ? "not in the configuration"
			 : "not the key of an auditor or an admin of a top unit, who alone read every unit's events");
	zmq_send(d->zap, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(d->zap, zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), ZMQ_SNDMORE);
	zmq_send(d->zap, code, 3, ZMQ_SNDMORE);
	zmq_send(d->zap, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(d->zap, user ? user : "", user ? strlen(user) : 0, ZMQ_SNDMORE);
	zmq_send(d->zap, "", 0, 0);
	for (int i = 0; i < n; i++)
		zmq_msg_close(&part[i]);
}
