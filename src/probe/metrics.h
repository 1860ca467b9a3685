/* metrics — Prometheus text exposition for `antidote watch --metrics`: a
 * tiny HTTP/1.0 responder on loopback (127.0.0.0/8 or ::1 only) answering
 * GET /metrics with the current text (version 0.0.4), 404 otherwise.
 *
 * metrics_listen opens the non-blocking listening socket; metrics_serve,
 * called when it is readable, accepts every pending connection and for each
 * reads the request (waiting at most 50 ms for it), writes the reply and
 * closes: the caller's loop is never held longer than that per client. */
#ifndef ANTIDOTE_PROBE_METRICS_H
#define ANTIDOTE_PROBE_METRICS_H

#include <stddef.h>

#include "net/addr.h"

/* Returns the listening fd or a negative code with a message in err
 * (non-loopback address: DNS_EINVAL). *bound gets the real address (port 0
 * picks one). */
int metrics_listen(const net_addr *a, net_addr *bound, char *err, size_t errlen);
/* Serves pending clients with body (len octets). Returns clients served. */
int metrics_serve(int lfd, const char *body, size_t len);

/* Text builder: appends to buf (cap), keeps *len; output cut at cap. */
struct mtext {
	char *buf;
	size_t len, cap;
};
void mtext_head(struct mtext *m, const char *name, const char *type, const char *help);
/* One sample: name{labels} value (labels may be NULL or "" for none). */
void mtext_val(struct mtext *m, const char *name, const char *labels, double v);

#endif
