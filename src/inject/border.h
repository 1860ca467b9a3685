/* border — the namespace deployment of the injection engine: an on-path
 * injector at the border namespace (lab/netns.h), as the GFW is.
 *
 * The kernel forwards every real packet between the client and server
 * namespaces (IPv4 forwarding; no delay: the VM kernel has no netem). The
 * injector only watches: an AF_PACKET socket on the client-facing veth,
 * with a classic BPF filter keeping IPv4 UDP to port 53 (first fragments),
 * outgoing packets ignored, reads each query; when injectors fire (engine.h)
 * it sends their forged replies at once from a raw socket (IPPROTO_RAW,
 * header included) with the queried server's address and port as source
 * and the client's as destination, and per injector the IP TTL (fixed, or
 * the query's as it reached the border), the IP ID (random / incrementing
 * / zero; "kernel" leaves 0 for the kernel to fill, which it does only for
 * packets without DF) and DF. The lead time is not applied: the forged
 * reply leaves the border while the real query is still on its way to the
 * server, so it arrives first (tests/e2e/inject_netns.sh measures by how
 * much). TCP is not handled (no RSTs). IPv4 only (the lab's ranges are
 * 198.51.100.0/24 and 203.0.113.0/24).
 *
 * Ground truth: the relay's JSON lines (relay.h), with send_in_ms 0. */
#ifndef ANTIDOTE_INJECT_BORDER_H
#define ANTIDOTE_INJECT_BORDER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "inject/engine.h"

struct border_config {
	const char *ifname;          /* the client-facing veth (caller's namespace) */
	struct inj_engine *engine;   /* borrowed */
	FILE *log;                   /* borrowed; NULL: no ground truth */
	int64_t epoch_real_ms;       /* 0: scenario time from the start */
	volatile sig_atomic_t *stop;
	void (*ready)(void *arg);    /* called once the sockets are up */
	void *ready_arg;
};

struct border_stats {
	uint64_t packets;     /* passed the filter */
	uint64_t queries;     /* DNS queries parsed */
	uint64_t forged;      /* forged replies sent */
	uint64_t send_errors;
};

/* One IPv4 UDP datagram, as seen on the wire. */
struct border_udp {
	uint8_t src[4], dst[4];
	uint16_t sport, dport;       /* host order */
	uint8_t ttl;
	const uint8_t *payload;      /* borrowed, into the packet */
	size_t len;
};

/* Parses an IPv4 packet (from the IP header on). Returns 0, or DNS_EFORMAT
 * (not IPv4/UDP, a fragment, lengths inconsistent, bad header). */
int border_parse(const uint8_t *pkt, size_t len, struct border_udp *u);

/* Builds the forged reply to q: IPv4 header (TTL ip_ttl, ID ipid, DF) +
 * UDP header (checksum computed) + dns. Source q->dst:q->dport, destination
 * q->src:q->sport. Returns the length or DNS_ESPACE. */
int border_build(uint8_t *out, size_t cap, const struct border_udp *q, const uint8_t *dns, size_t dlen, int ip_ttl,
		 uint16_t ipid, bool df);

/* The Internet checksum of an IPv4 header / UDP datagram (for tests). */
uint16_t border_ip_csum(const uint8_t *hdr, size_t len);
uint16_t border_udp_csum(const uint8_t src[4], const uint8_t dst[4], const uint8_t *udp, size_t len);

/* Runs until *stop. Needs CAP_NET_RAW. Returns 0 or a negative DNS_E* with
 * a message in err. */
int border_run(const struct border_config *c, struct border_stats *st, char *err, size_t errlen);

#endif
