/* notify — DNS NOTIFY to secondaries (notify.h). */
#include "serve/notify.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "dns/rrtype.h"
#include "dns/wire.h"

#define OPCODE_NOTIFY 4

int notify_build(uint8_t *buf, size_t cap, const notify_zone *z, uint16_t id)
{
	msg_wr mw;
	msg_wr_init(&mw, buf, cap);
	if (msg_wr_header(&mw, id, (uint16_t)(OPCODE_NOTIFY << 11 | MSG_AA)) < 0 ||
	    msg_wr_question(&mw, z->name, RR_SOA, CLASS_IN) < 0 ||
	    msg_wr_rr(&mw, MSG_ANSWER, z->name, RR_SOA, CLASS_IN, z->ttl, z->soa, z->soa_len) < 0)
		return DNS_ESPACE;
	return msg_wr_finish(&mw);
}

int notify_is_answer(const uint8_t *q, size_t qlen, const uint8_t *resp, size_t rlen)
{
	msg a, b;
	if (msg_parse_query(&a, q, qlen) < 0 || rlen < MSG_HDRLEN)
		return 0;
	msg_rr rrs[8];
	int rc = msg_parse(&b, resp, rlen, rrs, 8);
	if (rc < 0 && rc != DNS_ESPACE)
		return 0;
	return b.hdr.id == a.hdr.id && (b.hdr.flags & MSG_QR) &&
	       ((b.hdr.flags & MSG_OPCODE_MASK) >> 11) == OPCODE_NOTIFY && b.qname_len &&
	       name_eq(b.qname, a.qname) && b.qtype == RR_SOA;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

unsigned notify_run(const notify_zone *zones, unsigned nz, const net_addr *targets, const tsig_key *const *keys,
		    unsigned nt, unsigned tries, unsigned wait_ms, notify_result *res)
{
	enum { MAXP = NOTIFY_MAX_ZONES * NOTIFY_MAX_TARGETS };
	if (nz > NOTIFY_MAX_ZONES || nt > NOTIFY_MAX_TARGETS)
		return 0;
	struct pending {
		int fd;
		bool sig;
		uint8_t q[1024];
		size_t qlen;
		tsig_ctx t;
	} *p = calloc(MAXP, sizeof(*p));
	struct pollfd *pf = calloc(MAXP, sizeof(*pf));
	unsigned n = nz * nt, answered = 0;
	if (!p || !pf) {
		free(p);
		free(pf);
		return 0;
	}
	for (unsigned i = 0; i < n; i++) {
		const notify_zone *z = &zones[i / nt];
		const net_addr *t = &targets[i % nt];
		uint16_t id;
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = (uint16_t)(now_ms() * 2654435761u + i);
		res[i] = (notify_result){.rcode = -1};
		int len = notify_build(p[i].q, sizeof(p[i].q), z, id);
		const tsig_key *k = keys ? keys[i % nt] : NULL;
		if (len > 0 && k) {
			p[i].sig = true;
			if (tsig_ctx_init(&p[i].t, k, 1) < 0) {
				len = DNS_ENOMEM;
			} else {
				p[i].t.key = k;
				len = tsig_sign(&p[i].t, p[i].q, (size_t)len, sizeof(p[i].q), (uint64_t)time(NULL));
			}
		}
		p[i].qlen = len > 0 ? (size_t)len : 0;
		p[i].fd = len > 0 ? socket(addr_family(t), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) : -1;
		if (p[i].fd >= 0 && connect(p[i].fd, &t->u.sa, t->len) < 0) {
			close(p[i].fd);
			p[i].fd = -1;
		}
	}
	for (unsigned round = 0; round < tries && answered < n; round++) {
		for (unsigned i = 0; i < n; i++)
			if (p[i].fd >= 0 && res[i].rcode < 0) {
				if (send(p[i].fd, p[i].q, p[i].qlen, 0) >= 0)
					res[i].tries++;
			}
		uint64_t end = now_ms() + wait_ms;
		for (uint64_t t = now_ms(); t < end && answered < n; t = now_ms()) {
			unsigned m = 0;
			for (unsigned i = 0; i < n; i++)
				pf[m++] = (struct pollfd){.fd = p[i].fd >= 0 && res[i].rcode < 0 ? p[i].fd : -1,
							  .events = POLLIN};
			if (poll(pf, m, (int)(end - t)) <= 0)
				continue;
			for (unsigned i = 0; i < n; i++) {
				if (!(pf[i].revents & (POLLIN | POLLERR)))
					continue;
				uint8_t r[1024];
				ssize_t k;
				while ((k = recv(p[i].fd, r, sizeof(r), 0)) >= 0 || errno == ECONNREFUSED) {
					if (k >= 0 && notify_is_answer(p[i].q, p[i].qlen, r, (size_t)k)) {
						res[i].rcode = r[3] & 0xf;
						msg am;
						if (p[i].sig)
							res[i].tsig = msg_parse_query(&am, r, (size_t)k) < 0
									      ? DNS_EFORMAT
									      : tsig_verify(&p[i].t, &am, (uint64_t)time(NULL));
						answered++;
						break;
					}
				}
			}
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (p[i].fd >= 0)
			close(p[i].fd);
		if (p[i].sig)
			tsig_ctx_free(&p[i].t);
	}
	free(p);
	free(pf);
	return answered;
}
