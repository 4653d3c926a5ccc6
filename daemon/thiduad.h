/*
 * thiduad.h - the daemon's shared state: one struct daemon, made by server/main.c and
 * passed to every module. Each module's interface is in its own header beside its source
 * (docs/ARCHITECTURE.md says which folder may use which); this file declares no function.
 */
#ifndef THIDUA_THIDUAD_H
#define THIDUA_THIDUAD_H

#include <jansson.h>
#include <stdint.h>


/* THIDUA_VERSION comes from the first line of debian/changelog, by the Makefile */
#ifndef THIDUA_VERSION
#error "THIDUA_VERSION is not defined: build with the project's Makefile"
#endif

struct config;
struct store;
struct unitset;

struct daemon {
	char *config_path;
	char *state_dir;
	char *db_path;
	char *spool_dir;
	char *api_endpoint, *events_endpoint, *jobs_endpoint;
	char *api_local;		/* the ipc api kept beside a tcp one, or NULL */
	char *web_endpoint;		/* the gateway's socket (daemon.web), its own ROUTER web */
	struct config *cfg;
	struct unitset *units;		/* config units plus imported ones, resolved */
	struct unitset *pending_units;	/* set by a write this turn, swapped in after commit */
	struct store *store;

	void *zctx, *api, *events, *jobs, *zap, *web;
	int sigfd;

	int fake_clock;
	int64_t fake_now;
	int64_t started_mono_ms;
	int64_t started_at;

	int64_t epoch;			/* when this database first ran: older ladder steps are history */
	int64_t intake_through;		/* report periods opened up to this moment */
	json_t *pending_events;		/* array of [type, body] published after commit */
	long event_topics;		/* topics subscribed on the events socket; none: nothing is sent */
	int reload_asap, stop_asap, stop_now, reap_asap;
	uint64_t watchdog_usec;
	int64_t last_watchdog_ms;
};

#endif
