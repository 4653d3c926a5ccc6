/*
 * config.h - the configuration: parsed from one libconfig file into a fresh structure,
 * validated as a whole (every error as FILE:LINE: message), then swapped in by the caller.
 * The schema is docs/CONFIG.md. A struct config is immutable once loaded.
 */
#ifndef THIDUA_CONFIG_H
#define THIDUA_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "units.h"

struct templates;		/* templates.h */

#define CFG_DEFAULT_STATE_DIR "/var/lib/thidua"
#define CFG_DEFAULT_MAX_REQUEST (32u * 1024 * 1024)

struct holiday {
	int32_t day;
	int work;		/* 1: a make-up working day; 0: a day off */
	char *name;
	char *source;
	int confirmed;
	int line;
};

/* who must submit a report: a unit matches when it is listed, or when it has one of the
 * kinds (if given), one of the levels (if given) and lies under 'under' (if given) */
struct selector {
	char **kinds, **levels, **units;
	char *under;
};

/* an offset from a due date: N working days or N calendar days */
struct offset {
	int n;
	int working;
};

/* who an escalation step reaches, relative to the late unit */
enum target_kind { T_SELF, T_PARENT, T_LEVEL, T_RECEIVER, T_UNIT };
struct target {
	enum target_kind kind;
	char *arg;		/* level code or unit code */
};

/* one step of the ladder, expanded: reminders before the due date, escalations after */
struct step {
	char id[32];		/* stable name: "r10wd", "e3wd", "e15wd+2" */
	int escalation;
	struct offset at;	/* before (reminder) or after (escalation) */
	int extra_days;		/* repeat: calendar days added to 'at' */
	struct target *to;
	size_t nto;
};

struct report_type {
	char *code, *name, *receiver;
	char *how_to_submit;		/* how a unit submits it, for the messages; NULL: movement's */
	char *compiles;			/* the report type whose reports this one compiles; NULL: none */
	struct step *steps;		/* in the order they fall */
	size_t nsteps;
	struct selector who;
	int yearly;			/* 1: one period per year; 0: one-off */
	int due_month, due_mday;	/* yearly */
	int open_month, open_mday;
	int first_year, last_year;
	char *once_period;		/* one-off */
	int32_t once_due, once_open;
	int roll;			/* move a due date off non-working days */
	int late_days;			/* late accepted until due + N days; -1 always */
	int return_days;		/* working days given after a return */
	int receipt_notice;		/* each submission is confirmed to its unit by message */
	int64_t max_file_bytes;
	int32_t from, until;		/* in force: periods due from .. until (DATE_NONE_*: open) */
	int on_reorg_successor;		/* a closed unit's open obligation passes to its only successor */
	int line;
};

/* a delivery channel: SMTP or a chat webhook */
struct channel {
	char *name, *kind;		/* smtp, slack, mattermost, teams, telegram, googlechat, discord, json, zalo, zns */
	char *url, *username, *password, *secret, *chat_id, *tls;
	char *group_id, *phone, *template_id;	/* zalo: a group of the OA; zns: the phone and template */
	char *app_id, *app_secret, *refresh_token, *oauth_url;	/* zalo, zns: tokens renewed by thidua (daemon/zalo.c) */
	char *from, *from_name;		/* smtp */
	char *ca_file;			/* smtp: the private CA's certificates, an absolute path; NULL: the system's */
	int utc_offset;			/* calendar.utc_offset, which jobs carry (the Date of a mail) */
	double rate;			/* webhook: posts per second, 0: the kind's default */
	int burst, max_length, split, allow_http, allow_private;
	int connect_timeout, timeout;
	int expire_hours;		/* a message undelivered this long is dead-lettered */
	int line;
};

/* a worker program thiduad starts and supervises */
struct worker_spec {
	char *program;			/* thidua-mail, thidua-webhook (next to thiduad) or a path */
	int count;
	char **args;
	int line;
};

/* a person who acts in the workflows: the roles are held in one unit */
enum {
	ROLE_SUBMITTER = 1u << 0,	/* proposes, submits, corrects, withdraws */
	ROLE_REVIEWER = 1u << 1,	/* scores a dossier at a stage */
	ROLE_APPROVER = 1u << 2,	/* decides at a stage */
	ROLE_ADMIN = 1u << 3,		/* acts for the unit and the units under it */
	ROLE_AUDITOR = 1u << 4		/* reads everything (docs/PROTOCOL.md, section 9), changes nothing */
};

struct principal {
	char *name;		/* the login, as in --as NAME ("admin" is the local administrator) */
	char *display_name;
	char *unit;		/* a unit code of the file */
	unsigned roles;		/* ROLE_* */
	char *public_key;	/* CURVE, Z85: how this principal is known over tcp */
	int32_t from, until;	/* holds its roles from .. until (DATE_NONE_*: open) */
	unsigned permissions;	/* PERM_* */
	int line;
};

/* named permissions of a principal (principals: permissions = [ ... ]) */
#define PERM_EXCEPTION 1u	/* approve a dossier that does not pass the rubric (xét đặc cách) */

/* who decides at a stage, relative to the proposing unit */
enum decider_kind { DK_PARENT, DK_LEVEL, DK_UNIT };

struct stage {
	enum decider_kind kind;
	char *arg;		/* DK_LEVEL: level code; DK_UNIT: unit code */
	char *decider;		/* as written: "parent", "level:district", "unit:CUCHI-GDDT" */
	unsigned role;		/* the ROLE_* a principal of the deciding unit needs */
	int days;		/* time limit in working days */
	int32_t from, until;	/* in force from .. until (DATE_NONE_*: open); a dossier skips a stage not in force */
	int line;
};

/* a rubric criterion: scored in points up to max, or met / not met */
struct criterion {
	char *code, *name;
	int max;		/* points; 0 for a met / not met criterion */
	int met;		/* 1: met / not met */
};

/* a title or award programme and the path of its dossiers */
struct programme {
	char *code, *name;
	char *nominee;			/* commune, household, clan, hamlet, person, unit, district, collective */
	struct selector proposers;	/* who may propose: kinds, levels, units */
	struct stage *stages;
	size_t nstages;
	int dossier_month, dossier_mday;	/* 0: no dossier deadline */
	int decision_month, decision_mday;	/* 0: no decision deadline */
	int award;			/* kind = "award": given once, no level, no validity period */
	int repropose_after_rejection;	/* a rejected nominee may be proposed again for the same year */
	int levels;			/* 1 or 2 */
	int level2_after_months;	/* level 2 only this long after level 1 */
	int valid_months;		/* how long a title is valid */
	int threshold;			/* points needed to pass; -1: no points threshold */
	struct criterion *criteria;
	size_t ncriteria;
	int32_t from, until;		/* proposals accepted from .. until (DATE_NONE_*: open) */
	int line;
};

struct config {
	char *path;
	char *movement_name, *movement_plan;
	char *plan_name, *how_to_submit;	/* movement: the plan's title, how units submit (messages) */
	char *doc_template, *doc_place;	/* documents: a template directory (absolute), a place name */
	int32_t movement_starts;	/* movement.starts: nothing is owed before it; DATE_NONE_FROM */

	char *state_dir;	/* NULL: not set in the file */
	char *api_endpoint, *events_endpoint, *jobs_endpoint;
	size_t max_request_bytes;
	int requests_per_second;	/* per principal (not the local administrator); 0: no limit */
	char *operator_channel;		/* dead letters and disabled endpoints are reported here */
	char curve_secret[41];		/* the daemon's CURVE secret key (Z85), "" when not set */
	char curve_public[41];
	char **worker_keys;		/* public keys of workers allowed on a tcp jobs endpoint */
	char *email_channel;		/* the smtp channel for units' addresses */
	char *reply_local, *reply_domain;	/* daemon.reply_to: LOCAL+TOKEN@DOMAIN, or NULL */
	char *web_endpoint;		/* daemon.web: the gateway's socket; NULL: ipc://STATE_DIR/web.sock */
	char *web_url;			/* web.url: the address people open (links in mail) */
	int web_idle_minutes, web_max_hours, web_invite_hours;	/* web: session and invitation lifetimes */
	struct channel *channels;
	size_t nchannels;
	struct worker_spec *workers;
	size_t nworkers;
	struct templates *templates;	/* the messages' texts: the file's, else built in */

	char *timezone;
	int utc_offset;		/* seconds east of UTC */
	unsigned weekend_mask;	/* bit 0 = Monday ... bit 6 = Sunday */
	int work_start, work_end;	/* minutes after local midnight */
	struct holiday *holidays;	/* sorted by day */
	size_t nholidays;

	struct unitset *units;	/* levels and the units of the file, resolved */
	struct report_type *reports;
	size_t nreports;
	struct principal *principals;
	size_t nprincipals;
	struct programme *programmes;
	size_t nprogrammes;
};

const struct report_type *cfg_report(const struct config *cfg, const char *code);
const struct channel *cfg_channel(const struct config *cfg, const char *name);
const struct principal *cfg_principal(const struct config *cfg, const char *name);
const struct programme *cfg_programme(const struct config *cfg, const char *code);
const char *cfg_role_name(unsigned role);	/* one ROLE_* bit to its name */

/* cfg_load - parse and validate path; on failure NULL and *errors holds every problem */
struct config *cfg_load(const char *path, char ***errors);
void cfg_destroy(struct config **self_p);

/* config_span.c: effective dates of what names a unit or a level */
/* cfg_check_spans - every unit or level a report type, ladder, stage or principal names is
 * in force over the span in which it is named; each problem appended to *errors as
 * "FILE:LINE: message"; the number of problems */
int cfg_check_spans(struct config *cfg, char ***errors);
/* cfg_span_clip - a yearly report type's first and last years, clipped to from/until;
 * -1 (message in buf) when no period is left, or a one-off period falls outside */
int cfg_span_clip(struct report_type *rt, char *buf, size_t size);
int span_contains(int32_t from, int32_t until, int32_t day);
/* stage_in_force - the first stage from n (1-based) in force on day, 0 when none */
int stage_in_force(const struct programme *pg, int n, int32_t day);
/* cfg_principal_at - the post of the principal named name on day: the entry whose dates
 * hold day, else the latest that began before it, else the first; NULL when unknown */
const struct principal *cfg_principal_at(const struct config *cfg, const char *name, int32_t day);
/* principal_in_force - does p hold its roles on day (its span, and its unit open)? */
int principal_in_force(const struct config *cfg, const struct principal *p, int32_t day);
/* cfg_proposer_allowed - may unit u propose for pg (its proposers selector: listed units,
 * or kinds and levels)? 1 yes, 0 no (why says who may) */
int cfg_proposer_allowed(const struct programme *pg, const struct unit *u, char *why, size_t size);

/* cfg_holiday - the holiday entry for a day, or NULL */
const struct holiday *cfg_holiday(const struct config *cfg, int32_t day);

#endif
