/*
 * zap.h - authentication of tcp clients (ZAP, ZeroMQ RFC 27). Every tcp endpoint is a CURVE
 * server; the handler maps the client's long-term public key to a principal of the
 * configuration (domain "api"; "events" only for one who reads everything) or to an allowed
 * worker (domain "jobs"). An unknown key is refused and logged with the key, never
 * silently. ipc endpoints are protected by file permissions instead, and their caller is
 * the local administrator.
 */
#ifndef THIDUA_ZAP_H
#define THIDUA_ZAP_H

#include <stddef.h>

struct daemon;

int zap_open(struct daemon *d, char *err, size_t errsize);
int zap_secure(struct daemon *d, void *sock, const char *endpoint, const char *domain, char *err, size_t errsize);
void zap_handle(struct daemon *d);

#endif
