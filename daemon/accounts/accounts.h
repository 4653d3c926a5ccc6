/*
 * accounts.h - the people who use the web page: passwords (Argon2id), invitations,
 * sessions, throttling of logins (docs/PROTOCOL.md, "Accounts and sessions").
 *
 * A principal of the configuration gets a password by a one-time invitation or from an
 * administrator; the gateway (thidua-web) asks the daemon to check it and gets a session
 * token; a request on the web socket carries the token and runs as its principal
 * (api.c). Tokens are stored only as their SHA-256; passwords only as their hash, and
 * never logged, echoed or stored with a request.
 */
#ifndef THIDUA_ACCOUNTS_H
#define THIDUA_ACCOUNTS_H

#include <jansson.h>
#include <stddef.h>

struct daemon;
struct request;

#define ACCOUNT_FAILURES_MAX 5		/* failed logins of an account in the window: locked */
#define ADDRESS_FAILURES_MAX 20		/* failed logins from an address in the window: refused */
#define FAILURE_WINDOW (15 * 60)	/* seconds: the window, and how long a lockout lasts */
#define VERIFY_PER_TURN 4		/* Argon2id computations in one api turn (accounts.c) */
#define PASSWORD_MIN 10			/* bytes of UTF-8 */
#define PASSWORD_MAX 128

/* accounts_init - libsodium, and the key the invitations' tokens are made with
 * (STATE_DIR/invite.key); 0, or -1 with err */
int accounts_init(struct daemon *d, char *err, size_t errsize);
/* accounts_turn - a new api turn: the Argon2id budget of the turn starts again */
void accounts_turn(void);

/* session_resolve - the principal of a web request's session token: *name set (the
 * configuration's string) and the session's idle time refreshed; -1 with
 * session_expired (unknown, idle too long, too old, principal gone) */
int session_resolve(struct daemon *d, struct request *rq, const char *token, const char **name);

/* invite_render - subject and body (Vietnamese, malloc'd) of the outbox message of kind
 * account_invite, step "invite/ID"; -1 when the invitation is gone (replaced or used) */
int invite_render(struct daemon *d, const char *step, char **subject, char **body);

int op_account_invite(struct daemon *d, struct request *rq, json_t *out);
int op_account_passwd(struct daemon *d, struct request *rq, json_t *out);
int op_account_lock(struct daemon *d, struct request *rq, json_t *out);	/* lock and unlock */
int op_accounts_list(struct daemon *d, struct request *rq, json_t *out);
int op_session_login(struct daemon *d, struct request *rq, json_t *out);
int op_session_redeem(struct daemon *d, struct request *rq, json_t *out);
int op_session_show(struct daemon *d, struct request *rq, json_t *out);
int op_session_logout(struct daemon *d, struct request *rq, json_t *out);
int op_report_file(struct daemon *d, struct request *rq, json_t *out);
int op_proposal_file(struct daemon *d, struct request *rq, json_t *out);

/* shared by accounts.c and sessions.c */
int account_password_check(struct daemon *d, struct request *rq, const char *name, const char *password);
int account_hash(struct request *rq, const char *password, char *out, size_t outsize);
int account_budget(struct request *rq);
void account_ends_sessions(struct daemon *d, const char *name, int *ended);
void random_hex(char *out, size_t bytes);	/* out holds 2 * bytes + 1 */
const struct principal *principal_now(struct daemon *d, const char *name);
int session_open(struct daemon *d, struct request *rq, const char *name, const char *address, json_t *out);


#endif
