/*
 * proto.h - what thiduad, thiduactl and the workers must agree on on the wire
 */
#ifndef THIDUA_PROTO_H
#define THIDUA_PROTO_H

/* the protocol version, one for the api (docs/PROTOCOL.md: `status` answers it as
 * `protocol`) and the jobs link (docs/JOBS.md: a worker sends it in `ready`, and the
 * daemon refuses a worker that sends another) */
#define THIDUA_PROTOCOL_VERSION 1

#endif
