/* border — the namespace deployment of the injection engine: an on-path
 * injector at the border namespace (lab/netns.h), as the GFW is.
 *
 * The kernel forwards every real packet between the client and server
 * namespaces (IPv4 and IPv6 forwarding; no delay: the VM kernel has no
 * netem). The injector only watches: one AF_PACKET socket (ETH_P_ALL) on
 * the client-facing veth, with a classic BPF filter keeping UDP and TCP to
 * port 53 over IPv4 (first fragments) and IPv6 (UDP or TCP directly after
 * the fixed header: packets with extension headers, fragments included,
 * are not seen), outgoing packets ignored. Packets whose source or
 * destination lies outside the documentation ranges (192.0.2.0/24,
 * 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are ignored and counted
 * (foreign): the injector never sends anything elsewhere.
 *
 * UDP. Each query goes through the engine (engine.h); when injectors fire
 * their forged replies leave at once from a raw socket (IPPROTO_RAW,
 * header included: IP_HDRINCL for IPv4, implied for AF_INET6) with the
 * queried server's address and port as source and the client's as
 * destination, and per injector the IP TTL / IPv6 hop limit (fixed, or the
 * query's as it reached the border), and for IPv4 only the IP ID (random /
 * incrementing / zero; "kernel" leaves 0 for the kernel to fill, which it
 * does only for packets without DF) and DF: IPv6 has neither an ID (outside
 * a fragment header) nor DF, so those fingerprints do not apply to it. The
 * lead time is not applied: the forged reply leaves the border while the
 * real query is still on its way to the server, so it usually arrives first
 * (tests/e2e/inject_netns.sh measures by how much).
 *
 * TCP. The injector does not forge answers over TCP; for a censored name
 * it resets the connection, as the GFW does. A client segment to port 53
 * with ACK set (no SYN/RST) whose payload starts with the 2-byte length
 * prefix and at least a DNS header (border_tcp_dns) is read as a query by
 * the same engine (same name reader and matcher; a message longer than the
 * segment is read as far as it goes). Each injector that fires sends two
 * RST+ACK segments with its IP TTL (and, IPv4, ID and DF):
 *   to the client: from server addr:port, seq = the ack number the client
 *                  segment carried (exactly the client's rcv_nxt while the
 *                  server has not answered yet), ack = client seq + len;
 *   to the server: from client addr:port, seq = client seq + payload len
 *                  (the server's rcv_nxt once it took the query), ack = the
 *                  client's ack.
 * Only a query at the start of a segment is seen: a length prefix sent in a
 * segment of its own, a query split before its header ends, or a second
 * query pipelined behind the first in the same connection is not read. If
 * the server's answer reaches the client before the RST, the client's
 * rcv_nxt has moved on and it ignores the RST (a real race, as on the
 * GFW's path; the server side is still reset).
 *
 * Ground truth: the relay's JSON lines (relay.h), with send_in_ms 0, one
 * per forged reply; per RST one line in the same shape:
 *   {"t":..,"client":"198.51.100.2:40000","txid":4660,
 *    "qname":"www.facebook.com","qtype":1,"injector":"gfw3","type":"RST",
 *    "to":"client","seq":1234,"ack":5678,"send_in_ms":0,"ip_ttl":53,
 *    "ipid":7,"df":false}
 * ("to" is "client" or "server"; seq/ack as sent; no "address", "ttl" or
 * "lead_ms": an RST carries no answer). IPv6 clients are written
 * "[2001:db8:100::2]:40000"; ipid and df are 0/false for IPv6. */
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
	const char *ifname2;         /* the server-facing veth, or NULL: only
				      * queries from the client side are seen.
				      * With it, queries crossing the border
				      * inwards (an outside resolver asking a
				      * server inside: the 2012 collateral
				      * damage) draw forged replies too */
	struct inj_engine *engine;   /* borrowed */
	FILE *log;                   /* borrowed; NULL: no ground truth */
	int64_t epoch_real_ms;       /* 0: scenario time from the start */
	volatile sig_atomic_t *stop;
	void (*ready)(void *arg);    /* called once the sockets are up */
	void *ready_arg;
};

struct border_stats {
	uint64_t packets;     /* passed the filter (UDP and TCP, both families) */
	uint64_t queries;     /* DNS queries parsed (UDP and TCP) */
	uint64_t tcp_queries; /* of which over TCP */
	uint64_t forged;      /* forged UDP replies sent */
	uint64_t rsts;        /* spoofed TCP resets sent (both directions) */
	uint64_t foreign;     /* ignored: an address outside the documentation ranges */
	uint64_t send_errors;
};

#define BORDER_TCP_ACK 0x10
#define BORDER_TCP_RST 0x04
#define BORDER_TCP_SYN 0x02
#define BORDER_TCP_FIN 0x01

/* One IPv4 or IPv6 UDP datagram or TCP segment, as seen on the wire. */
struct border_pkt {
	int family;                  /* AF_INET or AF_INET6 */
	uint8_t proto;               /* 17 (UDP) or 6 (TCP) */
	uint8_t src[16], dst[16];    /* the first 4 bytes for IPv4 */
	uint16_t sport, dport;       /* host order */
	uint8_t ttl;                 /* IPv4 TTL / IPv6 hop limit */
	uint32_t seq, ack;           /* TCP, host order */
	uint8_t flags;               /* TCP flags (BORDER_TCP_*) */
	const uint8_t *payload;      /* borrowed, into the packet */
	size_t len;                  /* transport payload length */
};

/* Parses a packet from its IP header on: IPv4 (not a fragment) or IPv6
 * (next header UDP or TCP, no extension header), carrying UDP or TCP.
 * Returns 0, or DNS_EFORMAT (other protocol, a fragment, lengths
 * inconsistent, bad header). Bytes past the IP length are ignored. */
int border_parse(const uint8_t *pkt, size_t len, struct border_pkt *p);

/* The DNS message at the start of a TCP segment's payload: 2-byte length,
 * then at least a 12-byte header. *msg points after the prefix, *mlen =
 * min(declared, present). Returns 0 or DNS_EFORMAT. */
int border_tcp_dns(const struct border_pkt *p, const uint8_t **msg, size_t *mlen);

/* Builds the forged UDP reply to q (either family): IP header (IPv4: TTL
 * ip_ttl, ID ipid, DF; IPv6: hop limit ip_ttl, ipid/df unused) + UDP
 * header (checksum computed) + dns. Source q->dst:q->dport, destination
 * q->src:q->sport. ip_ttl outside 1..255 gives 64. Returns the length or
 * DNS_ESPACE. */
int border_build(uint8_t *out, size_t cap, const struct border_pkt *q, const uint8_t *dns, size_t dlen, int ip_ttl,
		 uint16_t ipid, bool df);

enum border_rst_dir { BORDER_RST_CLIENT, BORDER_RST_SERVER };

/* Builds the spoofed RST+ACK answering the TCP segment q (client ->
 * server), to the client or to the server, sequence numbers as described
 * above; no payload, window 0. Returns the length or DNS_ESPACE. */
int border_build_rst(uint8_t *out, size_t cap, const struct border_pkt *q, enum border_rst_dir to, int ip_ttl,
		     uint16_t ipid, bool df);

/* The Internet checksum of an IPv4 header, and of a UDP datagram / TCP
 * segment with its pseudo-header (family AF_INET: 4-byte addresses,
 * AF_INET6: 16-byte; proto 17 or 6). A UDP result of 0 is sent as 0xffff. */
uint16_t border_ip_csum(const uint8_t *hdr, size_t len);
uint16_t border_l4_csum(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto, const uint8_t *seg,
			size_t len);

/* Whether a (4 or 16 bytes per family) lies in the documentation ranges
 * the injector acts on: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
 * 2001:db8::/32. */
bool border_addr_ok(int family, const uint8_t *a);

/* Runs until *stop. Needs CAP_NET_RAW. IPv6 is skipped when the kernel
 * refuses an AF_INET6 raw socket. Returns 0 or a negative DNS_E* with a
 * message in err. */
int border_run(const struct border_config *c, struct border_stats *st, char *err, size_t errlen);

#endif
