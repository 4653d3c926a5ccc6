/*
 * proto.h - what thiduad, thiduactl and the workers must agree on on the wire
 */
#ifndef THIDUA_PROTO_H
#define THIDUA_PROTO_H

/* the protocol version, one for the api (docs/PROTOCOL.md: `status` answers it as
 * `protocol`) and the jobs link (docs/JOBS.md: a worker sends it in `ready`, and the
 * daemon refuses a worker that sends another) */
#define THIDUA_PROTOCOL_VERSION 1

/* the types of the jobs link's messages (docs/JOBS.md) */
#define JOBS_READY "ready"		/* worker -> daemon: kind, capacity, version, pid, name */
#define JOBS_RESULT "result"		/* worker -> daemon: the outcome of one job */
#define JOBS_PING "ping"		/* both ways: the heartbeat */
#define JOBS_JOB "job"			/* daemon -> worker: do this */
#define JOBS_STOP "stop"		/* daemon -> worker: finish what is in hand, exit */
#define JOBS_HELLO "hello"		/* daemon -> worker: who are you? send ready again */
#define JOBS_REFUSED "refused"		/* daemon -> worker: not taken (another version) */

#endif
