/* users — the lab's load generator (see users.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "lab/rng.h"
#include "lab/truth.h"
#include "lab/users.h"
#include "lab/zipf.h"

struct slot {
	int64_t sent_us;   /* since start */
	uint32_t site;
	uint16_t qtype;
	uint8_t active;
	int8_t probe;      /* -1 user query, else the probe slot */
};

struct target {
	int fd;
	unsigned res;
	struct sockaddr_in addr;
	uint16_t next_id, oldest;  /* outstanding: [oldest, next_id) */
	unsigned outstanding;
	struct slot slot[65536];
	uint32_t *probeq;          /* queued probe sites */
	unsigned probe_n, probe_i;
	int probe_slot;
	int64_t probe_t0_us;
	unsigned probe_sent;
};

struct users {
	struct users_cfg cfg;
	const struct internet *net;
	struct report *rep;
	struct rng rng;
	struct zipf zipf;
	uint32_t *rank;            /* rank -> site */
	uint8_t (*wname)[NAME_MAXLEN];
	struct target *t;
	unsigned nt;
	uint8_t *in_fault;         /* nt x net->n */
	struct users_event *ev;
	size_t nev, evcap, evlost;
	struct timespec t0;
	uint64_t sent;             /* user queries sent to each target */
};

void users_cfg_default(struct users_cfg *c)
{
	*c = (struct users_cfg){.rate = 500, .timeout_ms = 1500, .zipf_s = 1.0, .seed = 1, .probe_rate = 2000, .max_s = 120};
}

static int64_t now_us(const struct users *u)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)(ts.tv_sec - u->t0.tv_sec) * 1000000 + (ts.tv_nsec - u->t0.tv_nsec) / 1000;
}

int64_t users_now_ms(const struct users *u)
{
	return now_us(u) / 1000;
}

void users_start(struct users *u)
{
	clock_gettime(CLOCK_MONOTONIC, &u->t0);
}

void users_free(struct users *u)
{
	if (!u)
		return;
	for (unsigned i = 0; u->t && i < u->nt; i++) {
		if (u->t[i].fd >= 0)
			close(u->t[i].fd);
		free(u->t[i].probeq);
	}
	free(u->t);
	free(u->rank);
	free(u->wname);
	free(u->in_fault);
	free(u->ev);
	zipf_free(&u->zipf);
	free(u);
}

struct users *users_new(const struct users_cfg *c, const struct internet *net, const struct users_target *tg,
			unsigned nt, struct report *rep, char *err, size_t errlen)
{
	if (nt == 0 || nt > USERS_MAXTARGETS || c->rate == 0 || c->rate > 100000 || c->timeout_ms == 0 ||
	    net->n == 0 || c->aaaa_pct > 100) {
		snprintf(err, errlen, "bad load generator settings");
		return NULL;
	}
	struct users *u = calloc(1, sizeof(*u));
	if (!u)
		goto nomem;
	u->cfg = *c;
	if (!u->cfg.probe_rate)
		u->cfg.probe_rate = 2000;
	u->net = net;
	u->rep = rep;
	rng_seed(&u->rng, c->seed ^ 0x05e125ull);
	u->t = calloc(nt, sizeof(*u->t));
	u->rank = malloc(sizeof(uint32_t) * net->n);
	u->wname = malloc(sizeof(*u->wname) * net->n);
	u->in_fault = calloc((size_t)nt * net->n, 1);
	u->evcap = (size_t)c->rate * ((c->max_s ? c->max_s : 120) + 10) * nt;
	u->ev = malloc(u->evcap * sizeof(*u->ev));
	if (!u->t || !u->rank || !u->wname || !u->in_fault || !u->ev)
		goto nomem;
	for (unsigned i = 0; i < nt; i++)
		u->t[i].fd = -1;
	u->nt = nt;
	if (zipf_init(&u->zipf, net->n, c->zipf_s) < 0) {
		snprintf(err, errlen, "bad Zipf exponent %g", c->zipf_s);
		goto fail;
	}
	for (unsigned i = 0; i < net->n; i++) {
		if (net->site[i].rank >= net->n) {
			snprintf(err, errlen, "bad site rank");
			goto fail;
		}
		u->rank[net->site[i].rank] = i;
	}
	for (unsigned i = 0; i < net->n; i++)
		if (name_from_text(net->site[i].name, strlen(net->site[i].name), (const uint8_t *)"", u->wname[i]) < 0) {
			snprintf(err, errlen, "bad site name %s", net->site[i].name);
			goto fail;
		}
	for (unsigned i = 0; i < nt; i++) {
		struct target *t = &u->t[i];
		t->res = tg[i].res;
		t->addr = tg[i].addr;
		if ((ntohl(t->addr.sin_addr.s_addr) >> 24) != 127) {
			snprintf(err, errlen, "targets must be on 127.0.0.0/8");
			goto fail;
		}
		t->probeq = malloc(sizeof(uint32_t) * net->n);
		if (!t->probeq)
			goto nomem;
		t->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int sz = 1 << 20;
		struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (t->fd < 0 || setsockopt(t->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)) < 0 ||
		    bind(t->fd, (struct sockaddr *)&lo, sizeof(lo)) < 0 ||
		    connect(t->fd, (struct sockaddr *)&t->addr, sizeof(t->addr)) < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			goto fail;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &u->t0);
	return u;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	users_free(u);
	return NULL;
}

const struct users_event *users_events(const struct users *u, size_t *n, size_t *lost)
{
	*n = u->nev;
	*lost = u->evlost;
	return u->ev;
}

bool users_forged_in_fault(const struct users *u, unsigned t, unsigned site)
{
	return u->in_fault[(size_t)t * u->net->n + site] != 0;
}

static void note_forged(struct users *u, unsigned ti, const struct slot *sl, const struct truth_result *tr,
			int64_t t_ms)
{
	if (u->nev < u->evcap) {
		struct users_event *e = &u->ev[u->nev++];
		e->site = sl->site;
		e->target = (uint16_t)ti;
		e->alen = tr->alen;
		memcpy(e->addr, tr->addr, sizeof(e->addr));
	} else {
		u->evlost++;
	}
	if (!u->net->site[sl->site].blocked && report_phase_at(u->rep, t_ms) == PHASE_FAULT)
		u->in_fault[(size_t)ti * u->net->n + sl->site] = 1;
}

static void complete(struct users *u, unsigned ti, struct slot *sl, enum truth_verdict v,
		     const struct truth_result *tr, int64_t now)
{
	struct target *t = &u->t[ti];
	sl->active = 0;
	t->outstanding--;
	int64_t t_ms = sl->sent_us / 1000;
	if (sl->probe >= 0) {
		struct report_probe *p = &u->rep->res[t->res].probe[sl->probe];
		if (v != TRUTH_TIMEOUT)
			p->answered++;
		if (v == TRUTH_FORGED)
			p->forged++;
		return;
	}
	int64_t lat = now - sl->sent_us;
	report_record(u->rep, t->res, t_ms, v, u->net->site[sl->site].blocked,
		      (uint32_t)(lat < 0 ? 0 : lat > 4000000000 ? 4000000000 : lat));
	if (v == TRUTH_FORGED)
		note_forged(u, ti, sl, tr, t_ms);
}

static void send_query(struct users *u, unsigned ti, uint32_t site, uint16_t qtype, int probe, int64_t now)
{
	struct target *t = &u->t[ti];
	uint16_t id = t->next_id;
	struct slot *sl = &t->slot[id];
	if (sl->active) /* 65536 outstanding: the oldest is long dead */
		complete(u, ti, sl, TRUTH_TIMEOUT, NULL, now);
	uint8_t pkt[12 + NAME_MAXLEN + 4];
	const uint8_t *wn = u->wname[site];
	size_t nl = name_len(wn);
	pkt[0] = (uint8_t)(id >> 8);
	pkt[1] = (uint8_t)id;
	pkt[2] = 0x01; /* RD */
	pkt[3] = 0;
	memset(pkt + 4, 0, 8);
	pkt[5] = 1;
	memcpy(pkt + 12, wn, nl);
	pkt[12 + nl] = (uint8_t)(qtype >> 8);
	pkt[13 + nl] = (uint8_t)qtype;
	pkt[14 + nl] = 0;
	pkt[15 + nl] = CLASS_IN;
	*sl = (struct slot){.sent_us = now, .site = site, .qtype = qtype, .active = 1, .probe = (int8_t)probe};
	t->next_id++;
	t->outstanding++;
	const struct site *st = &u->net->site[site];
	if (probe >= 0)
		u->rep->res[t->res].probe[probe].asked++;
	else
		report_sent(u->rep, t->res, now / 1000, !st->domestic && (st->cno || st->blocked));
	/* a send error (full buffer) shows up as a timeout later */
	(void)send(t->fd, pkt, 16 + nl, 0);
}

static void expire(struct users *u, unsigned ti, int64_t now)
{
	struct target *t = &u->t[ti];
	int64_t limit = (int64_t)u->cfg.timeout_ms * 1000;
	while (t->oldest != t->next_id) {
		struct slot *sl = &t->slot[t->oldest];
		if (sl->active) {
			if (now - sl->sent_us < limit)
				break;
			complete(u, ti, sl, TRUTH_TIMEOUT, NULL, now);
		}
		t->oldest++;
	}
}

static void receive(struct users *u, unsigned ti)
{
	struct target *t = &u->t[ti];
	uint8_t buf[4096];
	for (;;) {
		ssize_t n = recv(t->fd, buf, sizeof(buf), 0);
		if (n < 0)
			break;
		if (n < 12)
			continue;
		uint16_t id = (uint16_t)(buf[0] << 8 | buf[1]);
		struct slot *sl = &t->slot[id];
		if (!sl->active)
			continue;
		struct truth_result tr;
		truth_check(buf, (size_t)n, &u->net->site[sl->site], sl->qtype, &tr);
		complete(u, ti, sl, tr.verdict, &tr, now_us(u));
	}
}

unsigned users_probe(struct users *u, unsigned ti, int slot)
{
	struct target *t = &u->t[ti];
	t->probe_n = t->probe_i = 0;
	for (unsigned s = 0; s < u->net->n; s++)
		if (u->in_fault[(size_t)ti * u->net->n + s])
			t->probeq[t->probe_n++] = s;
	t->probe_slot = slot;
	t->probe_t0_us = now_us(u);
	t->probe_sent = 0;
	return t->probe_n;
}

unsigned users_busy(const struct users *u)
{
	unsigned n = 0;
	for (unsigned i = 0; i < u->nt; i++)
		n += u->t[i].outstanding + (u->t[i].probe_n - u->t[i].probe_i);
	return n;
}

void users_step(struct users *u, int64_t until_ms, int wait_ms)
{
	int64_t now = now_us(u);
	/* user queries due by now (same name to every target) */
	int64_t lim = now < until_ms * 1000 ? now : until_ms * 1000;
	uint64_t due = lim > 0 ? (uint64_t)lim * u->cfg.rate / 1000000 : 0;
	while (u->sent < due) {
		uint32_t site = u->rank[zipf_draw(&u->zipf, &u->rng)];
		uint16_t qt = RR_A;
		if (u->cfg.aaaa_pct && rng_below(&u->rng, 100) < u->cfg.aaaa_pct)
			qt = RR_AAAA;
		for (unsigned i = 0; i < u->nt; i++)
			send_query(u, i, site, qt, -1, now);
		u->sent++;
	}
	/* probes, paced */
	for (unsigned i = 0; i < u->nt; i++) {
		struct target *t = &u->t[i];
		if (t->probe_i >= t->probe_n)
			continue;
		uint64_t pdue = (uint64_t)(now - t->probe_t0_us) * u->cfg.probe_rate / 1000000 + 1;
		while (t->probe_i < t->probe_n && t->probe_sent < pdue) {
			send_query(u, i, t->probeq[t->probe_i++], RR_A, t->probe_slot, now);
			t->probe_sent++;
		}
	}
	/* wait: until the next user query is due, at most wait_ms */
	int64_t next_us = (int64_t)((u->sent + 1) * 1000000 / u->cfg.rate);
	int w = wait_ms;
	if (u->sent < (uint64_t)until_ms * u->cfg.rate / 1000) {
		int64_t d = (next_us - now) / 1000;
		if (d < w)
			w = d < 0 ? 0 : (int)d;
	}
	for (unsigned i = 0; i < u->nt; i++)
		if (u->t[i].probe_i < u->t[i].probe_n && w > 1)
			w = 1;
	struct pollfd pf[USERS_MAXTARGETS];
	for (unsigned i = 0; i < u->nt; i++)
		pf[i] = (struct pollfd){.fd = u->t[i].fd, .events = POLLIN};
	int pr = poll(pf, u->nt, w);
	if (pr > 0)
		for (unsigned i = 0; i < u->nt; i++)
			if (pf[i].revents & POLLIN)
				receive(u, i);
	now = now_us(u);
	for (unsigned i = 0; i < u->nt; i++)
		expire(u, i, now);
}
