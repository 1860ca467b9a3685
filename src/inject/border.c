/* border — on-path injector in the border namespace (see border.h). */
#include "inject/border.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/err.h"
#include "net/sockbuf.h"
#include "util/json.h"

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36 /* linux/in6.h; implied by IPPROTO_RAW anyway */
#endif

#define BATCH 64
#define SNAP 2048
#define OUT_PER_PKT (2 * INJ_MAX_FORGED) /* TCP: an RST each way per injector */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint16_t border_ip_csum(const uint8_t *hdr, size_t len)
{
	return fold(sum16(hdr, len, 0));
}

uint16_t border_l4_csum(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto, const uint8_t *seg,
			size_t len)
{
	size_t al = family == AF_INET6 ? 16 : 4;
	uint32_t s = sum16(src, al, 0);
	s = sum16(dst, al, s);
	s += proto + (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
	uint16_t c = fold(sum16(seg, len, s));
	return proto == 17 && !c ? 0xffff : c;
}

bool border_addr_ok(int family, const uint8_t *a)
{
	if (family == AF_INET6)
		return a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8;
	if (family != AF_INET)
		return false;
	return (a[0] == 192 && a[1] == 0 && a[2] == 2) || (a[0] == 198 && a[1] == 51 && a[2] == 100) ||
	       (a[0] == 203 && a[1] == 0 && a[2] == 113);
}

/* the transport header at l4 (len bytes up to the IP payload's end) */
static int parse_l4(const uint8_t *l4, size_t len, struct border_pkt *p)
{
	if (p->proto == 17) {
		if (len < 8)
			return DNS_EFORMAT;
		size_t ulen = (size_t)(l4[4] << 8 | l4[5]);
		if (ulen < 8 || ulen > len)
			return DNS_EFORMAT;
		p->payload = l4 + 8;
		p->len = ulen - 8;
	} else {
		if (len < 20)
			return DNS_EFORMAT;
		size_t off = (size_t)(l4[12] >> 4) * 4;
		if (off < 20 || off > len)
			return DNS_EFORMAT;
		p->seq = get32(l4 + 4);
		p->ack = get32(l4 + 8);
		p->flags = l4[13];
		p->payload = l4 + off;
		p->len = len - off;
	}
	p->sport = (uint16_t)(l4[0] << 8 | l4[1]);
	p->dport = (uint16_t)(l4[2] << 8 | l4[3]);
	return 0;
}

int border_parse(const uint8_t *b, size_t len, struct border_pkt *p)
{
	memset(p, 0, sizeof(*p));
	if (len < 1)
		return DNS_EFORMAT;
	if (b[0] >> 4 == 4) {
		if (len < 20)
			return DNS_EFORMAT;
		size_t ihl = (size_t)(b[0] & 15) * 4;
		size_t tot = (size_t)(b[2] << 8 | b[3]);
		if (ihl < 20 || tot < ihl || tot > len || (b[9] != 17 && b[9] != 6))
			return DNS_EFORMAT;
		if ((b[6] & 0x1f) || b[7] || (b[6] & 0x20)) /* offset != 0 or MF: a fragment */
			return DNS_EFORMAT;
		p->family = AF_INET;
		p->proto = b[9];
		memcpy(p->src, b + 12, 4);
		memcpy(p->dst, b + 16, 4);
		p->ttl = b[8];
		return parse_l4(b + ihl, tot - ihl, p);
	}
	if (b[0] >> 4 == 6) {
		if (len < 40)
			return DNS_EFORMAT;
		size_t plen = (size_t)(b[4] << 8 | b[5]);
		if (40 + plen > len || (b[6] != 17 && b[6] != 6)) /* extension headers: not handled */
			return DNS_EFORMAT;
		p->family = AF_INET6;
		p->proto = b[6];
		p->ttl = b[7];
		memcpy(p->src, b + 8, 16);
		memcpy(p->dst, b + 24, 16);
		return parse_l4(b + 40, plen, p);
	}
	return DNS_EFORMAT;
}

int border_tcp_dns(const struct border_pkt *p, const uint8_t **msg, size_t *mlen)
{
	if (p->proto != 6 || p->len < 2 + 12)
		return DNS_EFORMAT;
	size_t decl = (size_t)(p->payload[0] << 8 | p->payload[1]);
	if (decl < 12)
		return DNS_EFORMAT;
	*msg = p->payload + 2;
	*mlen = decl < p->len - 2 ? decl : p->len - 2;
	return 0;
}

/* IP header for a packet from src to dst (of q's family) carrying l4len
 * bytes of proto; returns the header length or DNS_ESPACE. */
static int put_ip(uint8_t *out, size_t cap, const struct border_pkt *q, const uint8_t *src, const uint8_t *dst,
		  uint8_t proto, size_t l4len, int ip_ttl, uint16_t ipid, bool df)
{
	uint8_t ttl = (uint8_t)(ip_ttl > 0 && ip_ttl < 256 ? ip_ttl : 64);
	if (q->family == AF_INET6) {
		if (40 + l4len > cap || l4len > 65535)
			return DNS_ESPACE;
		out[0] = 0x60;
		out[1] = out[2] = out[3] = 0;
		put16(out + 4, (uint32_t)l4len);
		out[6] = proto;
		out[7] = ttl;
		memcpy(out + 8, src, 16);
		memcpy(out + 24, dst, 16);
		return 40;
	}
	size_t tot = 20 + l4len;
	if (tot > cap || tot > 65535)
		return DNS_ESPACE;
	out[0] = 0x45;
	out[1] = 0;
	put16(out + 2, (uint32_t)tot);
	put16(out + 4, ipid);
	out[6] = df ? 0x40 : 0;
	out[7] = 0;
	out[8] = ttl;
	out[9] = proto;
	out[10] = out[11] = 0;
	memcpy(out + 12, src, 4);
	memcpy(out + 16, dst, 4);
	put16(out + 10, border_ip_csum(out, 20));
	return 20;
}

int border_build(uint8_t *out, size_t cap, const struct border_pkt *q, const uint8_t *dns, size_t dlen, int ip_ttl,
		 uint16_t ipid, bool df)
{
	int h = put_ip(out, cap, q, q->dst, q->src, 17, 8 + dlen, ip_ttl, ipid, df);
	if (h < 0)
		return h;
	uint8_t *udp = out + h;
	put16(udp, q->dport);
	put16(udp + 2, q->sport);
	put16(udp + 4, (uint32_t)(8 + dlen));
	udp[6] = udp[7] = 0;
	memcpy(udp + 8, dns, dlen);
	put16(udp + 6, border_l4_csum(q->family, q->dst, q->src, 17, udp, 8 + dlen));
	return h + 8 + (int)dlen;
}

int border_build_rst(uint8_t *out, size_t cap, const struct border_pkt *q, enum border_rst_dir to, int ip_ttl,
		     uint16_t ipid, bool df)
{
	bool cl = to == BORDER_RST_CLIENT;
	const uint8_t *src = cl ? q->dst : q->src, *dst = cl ? q->src : q->dst;
	int h = put_ip(out, cap, q, src, dst, 6, 20, ip_ttl, ipid, df);
	if (h < 0)
		return h;
	uint8_t *t = out + h;
	uint32_t next = q->seq + (uint32_t)q->len; /* the client's next sequence number */
	put16(t, cl ? q->dport : q->sport);
	put16(t + 2, cl ? q->sport : q->dport);
	put32(t + 4, cl ? q->ack : next);
	put32(t + 8, cl ? next : q->ack);
	t[12] = 5 << 4;
	t[13] = BORDER_TCP_RST | BORDER_TCP_ACK;
	memset(t + 14, 0, 6); /* window, checksum, urgent pointer */
	put16(t + 16, border_l4_csum(q->family, src, dst, 6, t, 20));
	return h + 20;
}

/* UDP or TCP, to port 53, over IPv4 (not a later fragment) or IPv6 (no
 * extension header). The packet socket is SOCK_DGRAM: offset 0 is the IP
 * header. */
static int attach_filter(int fd)
{
	struct sock_filter code[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
		/* 1 */ BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
		/* 2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 8),     /* -> 11 (v6?) */
		/* 3 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 1, 0),    /* -> 6 */
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 12),    /* else drop */
		/* 6 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		/* 7 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 10, 0), /* a later fragment: drop */
		/* 8 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		/* 9 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
		/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 53, 6, 7),  /* -> 17 / 18 */
		/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 6),   /* not v6: drop */
		/* 12 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),
		/* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 1, 0),  /* -> 15 */
		/* 14 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 3),   /* else drop */
		/* 15 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 42),
		/* 16 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 53, 0, 1),
		/* 17 */ BPF_STMT(BPF_RET | BPF_K, SNAP),
		/* 18 */ BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

static int64_t ms_of(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define NOUT OUT_PER_PKT /* sent per captured packet */

struct border {
	const struct border_config *c;
	int pfd, pfd2, rfd4, rfd6; /* packet sockets: client-facing, server-facing (-1) */
	int64_t start_ms;
	struct border_stats st;
	uint8_t in[BATCH][SNAP];
	struct mmsghdr im[BATCH];
	struct iovec iiov[BATCH];
	struct sockaddr_ll ill[BATCH];
	uint8_t out[NOUT][FORGE_MAX + 48];
	struct mmsghdr om[NOUT];
	struct iovec oiov[NOUT];
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} odst[NOUT];
	int ofd[NOUT];
	bool orst[NOUT];
	int oinj[NOUT];          /* index in forged[] */
	struct inj_forged forged[INJ_MAX_FORGED];
};

/* A packet socket seeing what arrives on interface ifname (not what
 * leaves: a forwarded query is seen once, where it enters the border). */
static int open_sniffer(const char *ifname, int *out, char *err, size_t errlen)
{
	unsigned ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		snprintf(err, errlen, "no interface %s here", ifname);
		return DNS_EINVAL;
	}
	int fd = *out = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (fd < 0) {
		snprintf(err, errlen, "packet socket: %s (needs CAP_NET_RAW)", strerror(errno));
		return DNS_EIO;
	}
	int one = 1;
	if (attach_filter(fd) < 0) {
		snprintf(err, errlen, "packet filter: %s", strerror(errno));
		return DNS_EIO;
	}
#ifdef PACKET_IGNORE_OUTGOING
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
#else
	(void)one;
#endif
	sockbuf_set(fd, true, 8 << 20);
	struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
	if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		snprintf(err, errlen, "bind to %s: %s", ifname, strerror(errno));
		return DNS_EIO;
	}
	return 0;
}

static int open_sockets(struct border *b, char *err, size_t errlen)
{
	int rc = open_sniffer(b->c->ifname, &b->pfd, err, errlen);
	if (rc < 0 || (b->c->ifname2 && (rc = open_sniffer(b->c->ifname2, &b->pfd2, err, errlen)) < 0))
		return rc;
	int one = 1, big = 8 << 20;
	b->rfd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (b->rfd4 < 0) {
		snprintf(err, errlen, "raw socket: %s (needs CAP_NET_RAW)", strerror(errno));
		return DNS_EIO;
	}
	setsockopt(b->rfd4, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one));
	sockbuf_set(b->rfd4, false, big);
	/* IPv6: optional (a kernel without it); IPPROTO_RAW implies the header */
	b->rfd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (b->rfd6 >= 0) {
		setsockopt(b->rfd6, IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof(one));
		sockbuf_set(b->rfd6, false, big);
	}
	return 0;
}

static void log_rst(FILE *lf, const char *client, const struct qname_view *v, const struct inj_forged *f,
		    const uint8_t *tcp, bool to_client, int ip_ttl, uint16_t ipid, bool df)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(lf, "{\"t\":%lld.%06ld,\"client\":\"%s\",\"txid\":%u,\"qname\":", (long long)ts.tv_sec,
		ts.tv_nsec / 1000, client, v->txid);
	json_str_n(lf, v->name, v->name_len);
	fprintf(lf, ",\"qtype\":%u,\"injector\":\"%s\",\"type\":\"RST\",\"to\":\"%s\",\"seq\":%u,\"ack\":%u,"
		    "\"send_in_ms\":0,\"ip_ttl\":%d,\"ipid\":%u,\"df\":%s}\n",
		v->qtype, f->fp->name, to_client ? "client" : "server", get32(tcp + 4), get32(tcp + 8), ip_ttl, ipid,
		df ? "true" : "false");
}

/* queues out[k] (len bytes, already built) for q's family, towards dst */
static void queue(struct border *b, int k, int len, const struct border_pkt *q, const uint8_t *dst)
{
	b->oiov[k] = (struct iovec){b->out[k], (size_t)len};
	socklen_t sl;
	if (q->family == AF_INET6) {
		b->odst[k].v6 = (struct sockaddr_in6){.sin6_family = AF_INET6};
		memcpy(&b->odst[k].v6.sin6_addr, dst, 16);
		sl = sizeof(b->odst[k].v6);
		b->ofd[k] = b->rfd6;
	} else {
		b->odst[k].v4 = (struct sockaddr_in){.sin_family = AF_INET};
		memcpy(&b->odst[k].v4.sin_addr, dst, 4);
		sl = sizeof(b->odst[k].v4);
		b->ofd[k] = b->rfd4;
	}
	b->om[k].msg_hdr = (struct msghdr){.msg_name = &b->odst[k], .msg_namelen = sl, .msg_iov = &b->oiov[k],
					   .msg_iovlen = 1};
}

static void flush(struct border *b, int n);

/* One captured packet: the engine decides; forged replies or RSTs are
 * sent at once (the race with the real answer is won or lost in
 * microseconds), then logged. */
static void handle(struct border *b, int i)
{
	if (b->ill[i].sll_pkttype == PACKET_OUTGOING)
		return;
	b->st.packets++;
	struct border_pkt q;
	if (border_parse(b->in[i], b->im[i].msg_len, &q) < 0 || q.dport != 53)
		return;
	if (!border_addr_ok(q.family, q.src) || !border_addr_ok(q.family, q.dst)) {
		b->st.foreign++;
		return;
	}
	if (q.family == AF_INET6 && b->rfd6 < 0)
		return;
	const uint8_t *msg = q.payload;
	size_t mlen = q.len;
	bool tcp = q.proto == 6;
	if (tcp) {
		if (!(q.flags & BORDER_TCP_ACK) || (q.flags & (BORDER_TCP_SYN | BORDER_TCP_RST)) ||
		    border_tcp_dns(&q, &msg, &mlen) < 0)
			return;
		b->st.tcp_queries++;
	} else if (q.len < 12) {
		return;
	}
	b->st.queries++;
	struct qmem m;
	struct qname_view v;
	qmem_init(&m, msg, mlen);
	int64_t t = b->c->epoch_real_ms ? ms_of(CLOCK_REALTIME) - b->c->epoch_real_ms
					: ms_of(CLOCK_MONOTONIC) - b->start_ms;
	int nf = inj_engine_process(b->c->engine, &m, t, b->forged, INJ_MAX_FORGED, b->c->log ? &v : NULL);
	bool v6 = q.family == AF_INET6;
	int n = 0, ttl[INJ_MAX_FORGED];
	for (int j = 0; j < nf; j++) {
		const struct inj_forged *f = &b->forged[j];
		if (tcp && f->fp->no_rst)
			continue; /* --tune INJ.rst=off */
		ttl[j] = f->ip_ttl == INJ_IPTTL_COPY ? q.ttl : f->ip_ttl;
		uint16_t ipid = v6 ? 0 : f->ipid;
		bool df = !v6 && f->fp->df;
		/* UDP: the forged reply; TCP: an RST to the client, one to the server */
		for (int d = 0; d < (tcp ? 2 : 1); d++) {
			int len = tcp ? border_build_rst(b->out[n], sizeof(b->out[n]), &q,
							 d ? BORDER_RST_SERVER : BORDER_RST_CLIENT, ttl[j], ipid, df)
				      : border_build(b->out[n], sizeof(b->out[n]), &q, f->pkt, f->len, ttl[j], ipid, df);
			if (len < 0)
				continue;
			queue(b, n, len, &q, d ? q.dst : q.src);
			b->orst[n] = tcp;
			b->oinj[n] = j;
			n++;
		}
	}
	if (!n)
		return;
	flush(b, n);
	if (!b->c->log)
		return;
	char cl[64], ip[INET6_ADDRSTRLEN];
	inet_ntop(q.family, q.src, ip, sizeof(ip));
	snprintf(cl, sizeof(cl), v6 ? "[%s]:%u" : "%s:%u", ip, q.sport);
	for (int k = 0; k < n; k++) {
		const struct inj_forged *f = &b->forged[b->oinj[k]];
		int tt = ttl[b->oinj[k]];
		if (!tcp) {
			inj_log_forged(b->c->log, cl, &v, f, 0, tt);
			continue;
		}
		const uint8_t *ipb = b->out[k], *th = ipb + (v6 ? 40 : 20);
		bool to_client = !memcmp(v6 ? ipb + 24 : ipb + 16, q.src, v6 ? 16 : 4);
		log_rst(b->c->log, cl, &v, f, th, to_client, tt, v6 ? 0 : (uint16_t)(ipb[4] << 8 | ipb[5]), !v6 && (ipb[6] & 0x40));
	}
}

/* sends om[0..n) in runs of the same socket */
static void flush(struct border *b, int n)
{
	int done = 0;
	while (done < n) {
		int end = done + 1;
		while (end < n && b->ofd[end] == b->ofd[done])
			end++;
		int k = sendmmsg(b->ofd[done], b->om + done, (unsigned)(end - done), 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			b->st.send_errors++;
			k = 1;
		} else {
			for (int i = done; i < done + k; i++)
				if (b->orst[i])
					b->st.rsts++;
				else
					b->st.forged++;
		}
		done += k;
	}
}

int border_run(const struct border_config *c, struct border_stats *st, char *err, size_t errlen)
{
	static struct border b; /* big; one border per process */
	memset(&b, 0, sizeof(b));
	b.c = c;
	b.pfd = b.pfd2 = b.rfd4 = b.rfd6 = -1;
	int rc = open_sockets(&b, err, errlen);
	if (rc < 0)
		goto out;
	b.start_ms = ms_of(CLOCK_MONOTONIC);
	if (c->ready)
		c->ready(c->ready_arg);
	while (!c->stop || !*c->stop) {
		struct pollfd p[2] = {{.fd = b.pfd, .events = POLLIN}, {.fd = b.pfd2, .events = POLLIN}};
		int pr = poll(p, b.pfd2 >= 0 ? 2 : 1, 500);
		if (pr < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			rc = DNS_EIO;
			break;
		}
		for (int s = 0; s < 2; s++) {
			int fd = s ? b.pfd2 : b.pfd;
			while (fd >= 0) {
				for (int i = 0; i < BATCH; i++) {
					b.iiov[i] = (struct iovec){b.in[i], SNAP};
					b.im[i].msg_hdr = (struct msghdr){.msg_name = &b.ill[i],
									  .msg_namelen = sizeof(b.ill[i]),
									  .msg_iov = &b.iiov[i], .msg_iovlen = 1};
				}
				int k = recvmmsg(fd, b.im, BATCH, MSG_DONTWAIT, NULL);
				if (k <= 0)
					break;
				for (int i = 0; i < k; i++)
					handle(&b, i);
				if (c->log)
					fflush(c->log);
				if (k < BATCH)
					break;
			}
		}
	}
out:
	if (st)
		*st = b.st;
	if (b.pfd >= 0)
		close(b.pfd);
	if (b.pfd2 >= 0)
		close(b.pfd2);
	if (b.rfd4 >= 0)
		close(b.rfd4);
	if (b.rfd6 >= 0)
		close(b.rfd6);
	return rc < 0 ? rc : 0;
}
