/*
 * request.h - decoding a request's JSON frame, apart from the sockets: UTF-8, JSON with
 * no duplicate keys and at most REQUEST_DEPTH_MAX levels of nesting, an object (other JSON
 * is a bad request, not bad JSON) with an 'op' string and an optional 'id' of 1 to 128
 * bytes. A member given as null is removed: null means absent, for every op. api.c calls it for every request; tests/fuzz/fuzz_request.c calls it too,
 * so the fuzzer runs exactly the checks the daemon runs.
 */
#ifndef THIDUA_REQUEST_H
#define THIDUA_REQUEST_H

#include <jansson.h>
#include <stddef.h>

#define REQUEST_ID_MAX 128
#define REQUEST_DEPTH_MAX JSON_PARSER_MAX_DEPTH	/* jansson's: the request object is level 1 */

/* request_decode - data[0..size) to *body, *op and *id (both inside *body).
 * Returns 0, or -1 with *code (a static error code) and *msg (UTF-8, caller frees).
 * *body is the caller's in both cases: it may hold the JSON even when the checks after
 * parsing fail, so an error reply can still echo the request's id. */
int request_decode(const char *data, size_t size, json_t **body, const char **op,
		   const char **id, const char **code, char **msg);

#endif
