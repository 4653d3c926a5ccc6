/*
 * inflow.h - what each connection makes the daemon hold inside libzmq, and its bounds.
 *
 * libzmq buffers a multipart message whole before the daemon sees any of it, and counts
 * its high-water marks in whole messages: frames sent with MORE and never a last one
 * grow its I/O thread's memory without limit, and so do replies queued for a client that
 * never reads them (counted in messages, not bytes). libzmq offers no per-connection
 * byte count, so thiduad keeps one: it defines recv(2), send(2), accept(2) and
 * accept4(2) itself, which libzmq's calls resolve to (an executable's symbols come
 * first), and they pass through to recvfrom(2), sendto(2) and the accept4 system call,
 * counting the bytes of each accepted connection.
 *
 * Received: what a connection sent minus what the daemon took off the socket (credited
 * by zrecv, frame by frame with its wire overhead). Over the bound, or past each 64 KiB of
 * it while the daemon's anonymous resident memory is over its own bound, the next read
 * fails as if the peer had reset the connection: libzmq drops the session and frees the
 * unfinished message. Sent: what the daemon queued for a connection minus what went
 * onto the wire; a reply that would take it over its bound is dropped (inflow_reply).
 */
#ifndef THIDUA_INFLOW_H
#define THIDUA_INFLOW_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#define INFLOW_REPLY_BYTES ((uint64_t)16 << 20)	/* replies held for one connection */
#define INFLOW_REPLY_MSGS 1000			/* the api socket's send high-water mark */

/* inflow_limits - the bounds from max_request_bytes: a connection may hold two requests
 * and a MiB unread; the daemon's anonymous memory, eight requests and 256 MiB */
void inflow_limits(size_t max_request_bytes);

/* inflow_credit - the daemon took frame m off a socket (not a ROUTER's routing id) */
void inflow_credit(zmq_msg_t *m);

/* inflow_fd - the connection a received frame came from, or -1 */
int inflow_fd(zmq_msg_t *m);

/* inflow_reply - sent 0: may a reply of these frame sizes be queued for connection fd?
 * 1 yes; 0 no, the connection already holds too many reply bytes (counted as dropped).
 * sent 1: it was queued, count it. */
int inflow_reply(int fd, const size_t *sizes, size_t n, int sent);
void inflow_reply_dropped(void);

/* inflow_cuts - connections cut since the last call (for the log): over their own bound,
 * and under memory pressure */
void inflow_cuts(unsigned long *own, unsigned long *memory, unsigned long *replies);

/* inflow_anon_bytes - the daemon's anonymous resident memory (RSS not backed by files) */
uint64_t inflow_anon_bytes(void);

/* inflow_trim_ms - milliseconds until memory should be handed back to the system
 * (-1: nothing to do); inflow_trim - do it (malloc_trim), when due */
long inflow_trim_ms(void);
void inflow_trim(void);

#endif
