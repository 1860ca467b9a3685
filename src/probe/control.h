/* control — control answers over TCP for `antidote probe --control ADDR`
 * (detection method b: the injector does not forge over TCP).
 *
 * control_fetch asks the control server every job's question over nconn
 * TCP connections, each pipelining up to CONTROL_PIPE queries (RFC 7766;
 * ID = a per-connection sequence, matched back to the job), and writes a
 * judge_ctl summary per job (ok = false when no answer came). A
 * connection the server closes is reopened and its outstanding queries
 * resent (at most CONTROL_REOPEN times per connection). The whole fetch
 * gives up on the jobs still unanswered after timeout_ms without progress.
 * Blocking (poll); meant to run before the UDP phase. */
#ifndef ANTIDOTE_PROBE_CONTROL_H
#define ANTIDOTE_PROBE_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"
#include "probe/prober.h"
#include "probe/judge.h"

#define CONTROL_PIPE 256
#define CONTROL_MAXCONN 16
#define CONTROL_REOPEN 8

/* Job i's question: qname (wire, NAME_MAXLEN octets) and *qtype. Returns 0
 * or a negative code (the job is then skipped: ok = false). */
typedef int control_get_fn(void *arg, size_t i, uint8_t *qname, uint16_t *qtype);

/* Returns the number of jobs answered, or a negative code with a message in
 * err (cannot connect at all). */
long control_fetch(const net_addr *srv, unsigned nconn, size_t n, control_get_fn *get, void *arg,
		   struct judge_ctl *out, int timeout_ms, char *err, size_t errlen);

#endif
