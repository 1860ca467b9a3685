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

#define BATCH 64
#define SNAP 2048

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

uint16_t border_ip_csum(const uint8_t *hdr, size_t len)
{
	return fold(sum16(hdr, len, 0));
}

uint16_t border_udp_csum(const uint8_t src[4], const uint8_t dst[4], const uint8_t *udp, size_t len)
{
	uint32_t s = sum16(src, 4, 0);
	s = sum16(dst, 4, s);
	s += 17 + (uint32_t)len;
	uint16_t c = fold(sum16(udp, len, s));
	return c ? c : 0xffff;
}

int border_parse(const uint8_t *p, size_t len, struct border_udp *u)
{
	if (len < 20 || p[0] >> 4 != 4)
		return DNS_EFORMAT;
	size_t ihl = (size_t)(p[0] & 15) * 4;
	size_t tot = (size_t)(p[2] << 8 | p[3]);
	if (ihl < 20 || tot < ihl + 8 || tot > len || p[9] != 17)
		return DNS_EFORMAT;
	if ((p[6] & 0x1f) || p[7] || (p[6] & 0x20)) /* offset != 0 or MF: a fragment */
		return DNS_EFORMAT;
	const uint8_t *h = p + ihl;
	size_t ulen = (size_t)(h[4] << 8 | h[5]);
	if (ulen < 8 || ihl + ulen > tot)
		return DNS_EFORMAT;
	memcpy(u->src, p + 12, 4);
	memcpy(u->dst, p + 16, 4);
	u->ttl = p[8];
	u->sport = (uint16_t)(h[0] << 8 | h[1]);
	u->dport = (uint16_t)(h[2] << 8 | h[3]);
	u->payload = h + 8;
	u->len = ulen - 8;
	return 0;
}

int border_build(uint8_t *out, size_t cap, const struct border_udp *q, const uint8_t *dns, size_t dlen, int ip_ttl,
		 uint16_t ipid, bool df)
{
	size_t tot = 20 + 8 + dlen;
	if (tot > cap || tot > 65535)
		return DNS_ESPACE;
	uint8_t *ip = out, *udp = out + 20;
	ip[0] = 0x45;
	ip[1] = 0;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[4] = (uint8_t)(ipid >> 8);
	ip[5] = (uint8_t)ipid;
	ip[6] = df ? 0x40 : 0;
	ip[7] = 0;
	ip[8] = (uint8_t)(ip_ttl > 0 && ip_ttl < 256 ? ip_ttl : 64);
	ip[9] = 17;
	ip[10] = ip[11] = 0;
	memcpy(ip + 12, q->dst, 4);
	memcpy(ip + 16, q->src, 4);
	uint16_t c = border_ip_csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	udp[0] = (uint8_t)(q->dport >> 8);
	udp[1] = (uint8_t)q->dport;
	udp[2] = (uint8_t)(q->sport >> 8);
	udp[3] = (uint8_t)q->sport;
	udp[4] = (uint8_t)((8 + dlen) >> 8);
	udp[5] = (uint8_t)(8 + dlen);
	udp[6] = udp[7] = 0;
	memcpy(udp + 8, dns, dlen);
	c = border_udp_csum(q->dst, q->src, udp, 8 + dlen);
	udp[6] = (uint8_t)(c >> 8);
	udp[7] = (uint8_t)c;
	return (int)tot;
}

/* IPv4, UDP, not a later fragment, destination port 53 */
static int attach_filter(int fd)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 8),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 6),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 53, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SNAP),
		BPF_STMT(BPF_RET | BPF_K, 0),
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

struct border {
	const struct border_config *c;
	int pfd, rfd;
	int64_t start_ms;
	struct border_stats st;
	uint8_t in[BATCH][SNAP];
	struct mmsghdr im[BATCH];
	struct iovec iiov[BATCH];
	struct sockaddr_ll ill[BATCH];
	uint8_t out[BATCH * INJ_MAX_FORGED][FORGE_MAX + 28];
	struct mmsghdr om[BATCH * INJ_MAX_FORGED];
	struct iovec oiov[BATCH * INJ_MAX_FORGED];
	struct sockaddr_in odst[BATCH * INJ_MAX_FORGED];
	struct inj_forged forged[INJ_MAX_FORGED];
};

static int open_sockets(struct border *b, char *err, size_t errlen)
{
	unsigned ifindex = if_nametoindex(b->c->ifname);
	if (!ifindex) {
		snprintf(err, errlen, "no interface %s here", b->c->ifname);
		return DNS_EINVAL;
	}
	b->pfd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_IP));
	if (b->pfd < 0) {
		snprintf(err, errlen, "packet socket: %s (needs CAP_NET_RAW)", strerror(errno));
		return DNS_EIO;
	}
	int one = 1, big = 8 << 20;
	if (attach_filter(b->pfd) < 0) {
		snprintf(err, errlen, "packet filter: %s", strerror(errno));
		return DNS_EIO;
	}
#ifdef PACKET_IGNORE_OUTGOING
	setsockopt(b->pfd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
#endif
	setsockopt(b->pfd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = (int)ifindex};
	if (bind(b->pfd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		snprintf(err, errlen, "bind to %s: %s", b->c->ifname, strerror(errno));
		return DNS_EIO;
	}
	b->rfd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (b->rfd < 0) {
		snprintf(err, errlen, "raw socket: %s (needs CAP_NET_RAW)", strerror(errno));
		return DNS_EIO;
	}
	setsockopt(b->rfd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one));
	setsockopt(b->rfd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	return 0;
}

static void handle(struct border *b, int i, int *nout)
{
	if (b->ill[i].sll_pkttype == PACKET_OUTGOING)
		return;
	b->st.packets++;
	struct border_udp q;
	if (border_parse(b->in[i], b->im[i].msg_len, &q) < 0 || q.dport != 53 || q.len < 12)
		return;
	b->st.queries++;
	struct qmem m;
	struct qname_view v;
	qmem_init(&m, q.payload, q.len);
	int64_t t = b->c->epoch_real_ms ? ms_of(CLOCK_REALTIME) - b->c->epoch_real_ms
					: ms_of(CLOCK_MONOTONIC) - b->start_ms;
	int nf = inj_engine_process(b->c->engine, &m, t, b->forged, INJ_MAX_FORGED, b->c->log ? &v : NULL);
	for (int j = 0; j < nf; j++) {
		const struct inj_forged *f = &b->forged[j];
		int ttl = f->fp->ip_ttl < 0 ? q.ttl : f->fp->ip_ttl;
		int k = *nout;
		int len = border_build(b->out[k], sizeof(b->out[k]), &q, f->pkt, f->len, ttl, f->ipid, f->fp->df);
		if (len < 0)
			continue;
		b->oiov[k] = (struct iovec){b->out[k], (size_t)len};
		b->odst[k] = (struct sockaddr_in){.sin_family = AF_INET};
		memcpy(&b->odst[k].sin_addr, q.src, 4);
		b->om[k].msg_hdr = (struct msghdr){.msg_name = &b->odst[k], .msg_namelen = sizeof(b->odst[k]),
						   .msg_iov = &b->oiov[k], .msg_iovlen = 1};
		(*nout)++;
		if (b->c->log) {
			char cl[32], ip[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, q.src, ip, sizeof(ip));
			snprintf(cl, sizeof(cl), "%s:%u", ip, q.sport);
			inj_log_forged(b->c->log, cl, &v, f, 0, ttl);
		}
	}
}

static void flush(struct border *b, int n)
{
	int done = 0;
	while (done < n) {
		int k = sendmmsg(b->rfd, b->om + done, (unsigned)(n - done), 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			b->st.send_errors++;
			done++;
			continue;
		}
		done += k;
	}
	b->st.forged += (uint64_t)n;
}

int border_run(const struct border_config *c, struct border_stats *st, char *err, size_t errlen)
{
	static struct border b; /* big; one border per process */
	memset(&b, 0, sizeof(b));
	b.c = c;
	b.pfd = b.rfd = -1;
	int rc = open_sockets(&b, err, errlen);
	if (rc < 0)
		goto out;
	b.start_ms = ms_of(CLOCK_MONOTONIC);
	if (c->ready)
		c->ready(c->ready_arg);
	while (!c->stop || !*c->stop) {
		struct pollfd p = {.fd = b.pfd, .events = POLLIN};
		int pr = poll(&p, 1, 500);
		if (pr < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			rc = DNS_EIO;
			break;
		}
		for (;;) {
			for (int i = 0; i < BATCH; i++) {
				b.iiov[i] = (struct iovec){b.in[i], SNAP};
				b.im[i].msg_hdr = (struct msghdr){.msg_name = &b.ill[i], .msg_namelen = sizeof(b.ill[i]),
								  .msg_iov = &b.iiov[i], .msg_iovlen = 1};
			}
			int k = recvmmsg(b.pfd, b.im, BATCH, MSG_DONTWAIT, NULL);
			if (k <= 0)
				break;
			int nout = 0;
			for (int i = 0; i < k; i++)
				handle(&b, i, &nout);
			if (nout)
				flush(&b, nout);
			if (c->log)
				fflush(c->log);
			if (k < BATCH)
				break;
		}
	}
out:
	if (st)
		*st = b.st;
	if (b.pfd >= 0)
		close(b.pfd);
	if (b.rfd >= 0)
		close(b.rfd);
	return rc < 0 ? rc : 0;
}
