/*
 * proto.h - what thiduad, thiduactl and the workers must agree on on the wire
 */
#ifndef THIDUA_PROTO_H
#define THIDUA_PROTO_H

/* the protocol version, one for the api (docs/PROTOCOL.md: `status` answers it as
 * `protocol`) and the jobs link (docs/JOBS.md: a worker sends it in `ready`, and the
 * daemon refuses a worker that sends another) */
#define THIDUA_PROTOCOL_VERSION 1

/* the api's ops (docs/PROTOCOL.md): thiduactl sends them, the daemon's op table (api.c)
 * runs them; named here once so that the two cannot drift apart */
#define OP_STATUS              "status"
#define OP_UNITS_LIST          "units.list"
#define OP_UNITS_SHOW          "units.show"
#define OP_UNITS_IMPORT        "units.import"
#define OP_CLOCK_SHOW          "clock.show"
#define OP_CLOCK_SET           "clock.set"
#define OP_CLOCK_ADVANCE       "clock.advance"
#define OP_CONFIG_RELOAD       "config.reload"
#define OP_REPORT_SUBMIT       "report.submit"
#define OP_REPORT_RECEIPT      "report.receipt"
#define OP_REPORT_ACCEPT       "report.accept"
#define OP_REPORT_RETURN       "report.return"
#define OP_REPORT_WAIVE        "report.waive"
#define OP_OBLIGATIONS_LIST    "obligations.list"
#define OP_COMPLETENESS        "completeness"
#define OP_REPORTS_LIST        "reports.list"
#define OP_CALENDAR_SHOW       "calendar.show"
#define OP_DEADLINES           "deadlines"
#define OP_SCHEDULE            "schedule"
#define OP_NOTIFICATIONS_LIST  "notifications.list"
#define OP_NOTIFICATIONS_SHOW  "notifications.show"
#define OP_NOTIFICATIONS_RETRY "notifications.retry"
#define OP_NOTIFY_TEST         "notify.test"
#define OP_CHANNELS_LIST       "channels.list"
#define OP_CHANNELS_ENABLE     "channels.enable"
#define OP_ZALO_APP            "zalo.app"
#define OP_ZALO_STORE          "zalo.store"
#define OP_AUDIT_LIST          "audit.list"
#define OP_AUDIT_VERIFY        "audit.verify"
#define OP_FILES_VERIFY        "files.verify"
#define OP_BACKUP_CREATE       "backup.create"
#define OP_BACKUP_STATUS       "backup.status"
#define OP_BACKUP_READ         "backup.read"
#define OP_PROPOSAL_CREATE     "proposal.create"
#define OP_PROPOSAL_SUBMIT     "proposal.submit"
#define OP_PROPOSAL_DECIDE     "proposal.decide"
#define OP_PROPOSAL_WITHDRAW   "proposal.withdraw"
#define OP_PROPOSAL_SHOW       "proposal.show"
#define OP_PROPOSALS_LIST      "proposals.list"
#define OP_PROPOSALS_IMPORT    "proposals.import"
#define OP_TITLES_LIST         "titles.list"
#define OP_INBOX_DELIVER       "inbox.deliver"
#define OP_INBOX_LIST          "inbox.list"
#define OP_INBOX_SHOW          "inbox.show"
#define OP_ACCOUNT_INVITE      "account.invite"
#define OP_ACCOUNT_PASSWD      "account.passwd"
#define OP_ACCOUNT_LOCK        "account.lock"
#define OP_ACCOUNT_UNLOCK      "account.unlock"
#define OP_ACCOUNTS_LIST       "accounts.list"
#define OP_SESSION_LOGIN       "session.login"
#define OP_SESSION_REDEEM      "session.redeem"
#define OP_SESSION_SHOW        "session.show"
#define OP_SESSION_LOGOUT      "session.logout"
#define OP_REPORT_FILE         "report.file"
#define OP_PROPOSAL_FILE       "proposal.file"
#define OP_INBOX_ACCEPT        "inbox.accept"
#define OP_INBOX_REJECT        "inbox.reject"
#define OP_INBOX_RETRY         "inbox.retry"

/* the types of the jobs link's messages (docs/JOBS.md) */
#define JOBS_READY "ready"		/* worker -> daemon: kind, capacity, version, pid, name */
#define JOBS_RESULT "result"		/* worker -> daemon: the outcome of one job */
#define JOBS_PING "ping"		/* both ways: the heartbeat */
#define JOBS_JOB "job"			/* daemon -> worker: do this */
#define JOBS_STOP "stop"		/* daemon -> worker: finish what is in hand, exit */
#define JOBS_HELLO "hello"		/* daemon -> worker: who are you? send ready again */
#define JOBS_REFUSED "refused"		/* daemon -> worker: not taken (another version) */

#endif
