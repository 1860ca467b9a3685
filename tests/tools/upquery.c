/* upquery — asks upstream servers through the upstream module (resolve/
 * upstream.h) and prints every reply with its metadata, then per-upstream
 * statistics. For e2e tests against real servers and by hand.
 *
 *   upquery (-s ADDR[#PORT] ... | -r ROUTEFILE) -n NAME [-t TYPE] [-c COUNT]
 *           [--tcp] [--0x20] [--no-cookies] [--hold MS] [--rto MS]
 *           [--attempts N]
 * -s may repeat (candidates in that order); -r picks them with a
 * dnsmasq-style route file (route.h). Without --hold the first acceptable
 * reply (not SERVFAIL/REFUSED: those fail over) ends a query; with --hold
 * every reply within MS of the first is printed and none is accepted.
 * Lines:
 *   reply q=I seq=S server=ADDR attempt=K transport=udp|tcp rtt_us=R
 *         ip_ttl=T rcode=NAME tc=0|1 opt=0|1 cookie_echoed=0|1 len=N
 *   end q=I reason=timeout|hold|accepted replies=N
 *   stats server=ADDR queries=Q tcp=Q replies=R accepted=A timeouts=T
 *         errors=E truncated=C servfail=N refused=N srtt_us=S down=0|1 edns=? cookie=?
 *         server_cookie=L mismatch=source:N,short:N,...
 * Exit status 0 when every query got an accepted (or, with --hold, any)
 * reply, 1 otherwise, 2 on bad arguments. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "net/addr.h"
#include "resolve/route.h"
#include "resolve/upstream.h"

#define MAXW 64

static struct {
	int fd;
	unsigned ev;
	up_fd_cb *cb;
	void *arg;
} W[MAXW];
static int NW;

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int l_watch(void *ctx, int fd, unsigned ev, up_fd_cb *cb, void *arg)
{
	(void)ctx;
	for (int i = 0; i < NW; i++)
		if (W[i].fd == fd) {
			W[i].ev = ev;
			return 0;
		}
	if (NW == MAXW)
		return DNS_ENOMEM;
	W[NW].fd = fd;
	W[NW].ev = ev;
	W[NW].cb = cb;
	W[NW].arg = arg;
	NW++;
	return 0;
}

static void l_unwatch(void *ctx, int fd)
{
	(void)ctx;
	for (int i = 0; i < NW; i++)
		if (W[i].fd == fd) {
			W[i] = W[--NW];
			return;
		}
}

static uint64_t l_now(void *ctx) { (void)ctx; return mono_us(); }

static const net_addr *g_servers;
static unsigned g_qi;
static uint32_t g_hold_ms;
static int g_done, g_ok;

static void on_reply(void *arg, up_txn *t, const up_reply *r)
{
	(void)arg;
	char a[ADDR_STRLEN];
	const char *rc = msg_rcode_name(r->rcode);
	printf("reply q=%u seq=%u server=%s attempt=%u transport=%s rtt_us=%llu ip_ttl=%d rcode=%s "
	       "tc=%d opt=%d cookie_echoed=%d len=%u\n",
	       g_qi, r->seq, addr_str(&g_servers[r->server], a), r->attempt,
	       r->transport == UP_TCP ? "tcp" : "udp", (unsigned long long)r->rtt_us, r->ip_ttl,
	       rc ? rc : "?", !!(r->flags & MSG_TC), r->opt, r->cookie_echoed, r->len);
	if (g_hold_ms) {
		if (r->seq == 0)
			upstream_txn_hold(t, r->t_us + g_hold_ms * 1000ull, false);
		g_ok = 1;
		return;
	}
	if (upstream_rcode_failover(r->rcode) && upstream_txn_next(t) == 0)
		return;
	upstream_txn_finish(t, (int)r->seq);
	printf("end q=%u reason=accepted replies=%u\n", g_qi, r->seq + 1);
	g_ok = 1;
	g_done = 1;
}

static void on_end(void *arg, up_txn *t, int reason)
{
	(void)arg;
	printf("end q=%u reason=%s replies=%u\n", g_qi, reason == UP_END_HOLD ? "hold" : "timeout",
	       upstream_txn_replies(t));
	g_done = 1;
}

static void run(up_ctx *c)
{
	while (!g_done) {
		uint64_t now = mono_us(), dl = upstream_next_deadline(c);
		int ms = dl == UP_NEVER ? 1000 : dl > now ? (int)((dl - now + 999) / 1000) : 0;
		struct pollfd p[MAXW];
		int n = NW;
		int fds[MAXW];
		for (int i = 0; i < n; i++) {
			p[i].fd = fds[i] = W[i].fd;
			p[i].events = (short)(((W[i].ev & UP_EV_READ) ? POLLIN : 0) |
					      ((W[i].ev & UP_EV_WRITE) ? POLLOUT : 0));
			p[i].revents = 0;
		}
		if (poll(p, (nfds_t)n, ms) > 0)
			for (int i = 0; i < n; i++) {
				if (!p[i].revents)
					continue;
				int j;
				for (j = 0; j < NW && W[j].fd != fds[i]; j++)
					;
				if (j == NW)
					continue;
				unsigned ev = 0;
				if (p[i].revents & (POLLIN | POLLERR | POLLHUP))
					ev |= UP_EV_READ;
				if (p[i].revents & (POLLOUT | POLLERR | POLLHUP))
					ev |= UP_EV_WRITE;
				W[j].cb(W[j].arg, fds[i], ev);
			}
		upstream_expire(c, mono_us());
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: upquery (-s ADDR[#PORT] ... | -r ROUTEFILE) -n NAME [-t TYPE] [-c COUNT]\n"
			"               [--tcp] [--0x20] [--no-cookies] [--hold MS] [--rto MS] [--attempts N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	route *rt = route_new();
	const char *name = NULL, *routefile = NULL;
	int qtype = RR_A, count = 1;
	unsigned flags = 0;
	up_config cfg = { 0 };
	char err[512];
	if (!rt)
		return 2;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "--tcp")) {
			flags |= UP_QF_TCP;
		} else if (!strcmp(o, "--0x20")) {
			cfg.use_0x20 = true;
		} else if (!strcmp(o, "--no-cookies")) {
			cfg.no_cookies = true;
		} else if (!v) {
			return usage();
		} else if (!strcmp(o, "-s")) {
			char line[300];
			snprintf(line, sizeof(line), "server=%s", v);
			if (route_add_line(rt, line, err, sizeof(err)) < 0) {
				fprintf(stderr, "upquery: %s\n", err);
				return 2;
			}
			i++;
		} else if (!strcmp(o, "-r")) {
			routefile = v;
			i++;
		} else if (!strcmp(o, "-n")) {
			name = v;
			i++;
		} else if (!strcmp(o, "-t")) {
			qtype = rrtype_from_text(v, strlen(v));
			if (qtype < 0)
				return usage();
			i++;
		} else if (!strcmp(o, "-c")) {
			count = atoi(v);
			i++;
		} else if (!strcmp(o, "--hold")) {
			g_hold_ms = (uint32_t)atoi(v);
			i++;
		} else if (!strcmp(o, "--rto")) {
			cfg.rto_init_us = (uint32_t)atoi(v) * 1000u;
			i++;
		} else if (!strcmp(o, "--attempts")) {
			cfg.attempts = (unsigned)atoi(v);
			i++;
		} else {
			return usage();
		}
	}
	if (!name || count < 1)
		return usage();
	if (routefile && route_load(rt, routefile, err, sizeof(err)) < 0) {
		fprintf(stderr, "upquery: %s\n", err);
		route_free(rt);
		return 2;
	}
	uint8_t qname[NAME_MAXLEN];
	if (name_from_text(name, strlen(name), (const uint8_t *)"", qname) < 0) {
		fprintf(stderr, "upquery: bad name '%s'\n", name);
		route_free(rt);
		return 2;
	}
	route_match m;
	route_lookup(rt, qname, &m);
	if (m.local || !m.n) {
		fprintf(stderr, "upquery: no upstream for %s%s\n", name, m.local ? " (local)" : "");
		route_free(rt);
		return 2;
	}
	g_servers = route_servers(rt);
	cfg.servers = g_servers;
	cfg.nservers = route_nservers(rt);
	up_loop lp = { .watch = l_watch, .unwatch = l_unwatch, .now_us = l_now };
	up_ctx *c = upstream_new(&cfg, &lp);
	if (!c) {
		fprintf(stderr, "upquery: bad configuration\n");
		return 2;
	}
	int failures = 0;
	for (g_qi = 0; g_qi < (unsigned)count; g_qi++) {
		up_query q = { .qname = qname, .qtype = (uint16_t)qtype, .qclass = CLASS_IN,
			       .hdr_flags = MSG_RD, .flags = flags, .servers = m.servers, .nservers = m.n };
		static const up_handler h = { .reply = on_reply, .end = on_end };
		up_txn *t;
		g_done = g_ok = 0;
		if (upstream_query(c, &q, &h, NULL, &t) < 0) {
			fprintf(stderr, "upquery: cannot start a query\n");
			return 2;
		}
		run(c);
		failures += !g_ok;
	}
	for (unsigned i = 0; i < route_nservers(rt); i++) {
		up_stats s;
		char a[ADDR_STRLEN];
		static const char *learn[] = { "unknown", "yes", "no" };
		upstream_stats(c, i, &s);
		printf("stats server=%s queries=%llu tcp=%llu replies=%llu accepted=%llu timeouts=%llu "
		       "errors=%llu truncated=%llu servfail=%llu refused=%llu srtt_us=%u down=%d edns=%s cookie=%s server_cookie=%u "
		       "mismatch=",
		       addr_str(&g_servers[i], a), (unsigned long long)s.queries,
		       (unsigned long long)s.queries_tcp, (unsigned long long)s.replies,
		       (unsigned long long)s.accepted, (unsigned long long)s.timeouts,
		       (unsigned long long)s.errors, (unsigned long long)s.truncated,
		       (unsigned long long)s.servfail, (unsigned long long)s.refused, s.srtt_us, s.down,
		       learn[s.edns], learn[s.cookie], s.server_cookie_len);
		for (unsigned k = 0; k < UP_MIS_COUNT; k++)
			printf("%s%s:%llu", k ? "," : "", upstream_mismatch_name(k),
			       (unsigned long long)s.mismatch[k]);
		printf("\n");
	}
	upstream_free(c);
	route_free(rt);
	return failures ? 1 : 0;
}
