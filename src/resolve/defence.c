/* defence — judges upstream replies: signals, scores, hold and escalation policy (see defence.h). */
#include "resolve/defence.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "dns/wire.h"

#define NRTT 32
#define NTTL 4
#define NEPOCH 8
#define EPOCH_US 8000000ull /* the RTT floor is the minimum over the last 8 x 8 s */
#define KNOWN 3          /* samples before a baseline counts */
#define TABLE_BITS 12    /* pool and mark tables: 4096 entries each */
#define TABLE_SIZE (1u << TABLE_BITS)

enum {
	W_TCP = 100, W_COOKIE = 100, W_OPT = 40, W_OPT_UNKNOWN = 40, W_TIMELY = 35, W_NO_OPT = -60,
	W_EARLY = -20, W_IP_TTL = -25, W_FLAGS = -25, W_SHAPE = -10, W_POOL = -20, W_MARKED = -10, W_DNSSEC = 100,
	LEARN_MAX = -30, /* a loser this bad, beaten by a trusted reply: its addresses are learnt */
};

struct upstate {
	uint32_t rtt[NRTT];
	unsigned nrtt, rpos;
	uint64_t lo, hi;
	/* the floor: minimum over the last NEPOCH epochs of EPOCH_US */
	uint32_t emin[NEPOCH], cur_min;
	uint64_t estart;
	unsigned ecount, epos, nepochs;
	uint32_t floor_all; /* all-time minimum, drifting up by 1/64 of the gap per epoch */
	struct {
		int ttl;
		uint32_t n;
	} ttl[NTTL];
	uint32_t ttl_total;
	uint32_t opt_yes, opt_no;
	uint32_t aa[2], ra[2];
	char name[ADDR_STRLEN];
	verdict_counters cnt;
};

struct pool_ent {
	uint64_t key;
	uint64_t start_us;
	uint64_t sites; /* one bit per site hash: popcount ≤ distinct sites */
};

struct mark_ent {
	uint64_t key;
	uint64_t until_us;
};

struct defence {
	def_config cfg;
	struct upstate *up;
	bogus *learned;
	struct pool_ent *pool;
	struct mark_ent *mark;
};

/* What one pass over a reply's answer section found. */
struct scan {
	unsigned naddr;
	uint8_t alen[DEF_MAX_ADDRS];
	uint8_t addr[DEF_MAX_ADDRS][16];
	uint64_t digest;
	bool type_bad;
	bool ptr12; /* first answer owner is exactly c0 0c */
};

static double real_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

defence *defence_new(const def_config *cfg)
{
	if (!cfg || cfg->nservers == 0 || cfg->nservers > UP_MAX_SERVERS)
		return NULL;
	defence *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->cfg = *cfg;
	def_config *c = &d->cfg;
	if (!c->hold_max_us)
		c->hold_max_us = 400000;
	if (!c->hold_min_us)
		c->hold_min_us = 10000;
	if (c->hold_min_us > c->hold_max_us)
		c->hold_min_us = c->hold_max_us;
	if (!c->early_min_us)
		c->early_min_us = 2000;
	if (!c->mark_us)
		c->mark_us = 600000000u;
	if (!c->pool_names)
		c->pool_names = 12;
	if (c->pool_names > 48)
		c->pool_names = 48;
	if (!c->pool_window_us)
		c->pool_window_us = 60000000u;
	if (!c->realtime)
		c->realtime = real_now;
	d->up = calloc(UP_MAX_SERVERS, sizeof(*d->up)); /* room for defence_add_server */
	d->learned = bogus_new();
	d->pool = calloc(TABLE_SIZE, sizeof(*d->pool));
	d->mark = calloc(TABLE_SIZE, sizeof(*d->mark));
	if (!d->up || !d->learned || !d->pool || !d->mark) {
		defence_free(d);
		return NULL;
	}
	for (unsigned i = 0; i < c->nservers; i++) {
		if (c->servers)
			addr_str(&c->servers[i], d->up[i].name);
		else
			snprintf(d->up[i].name, sizeof(d->up[i].name), "upstream%u", i);
	}
	return d;
}

int defence_add_server(defence *d)
{
	if (d->cfg.nservers >= UP_MAX_SERVERS)
		return DNS_ESPACE;
	unsigned i = d->cfg.nservers;
	memset(&d->up[i], 0, sizeof(d->up[i]));
	if (d->cfg.servers)
		addr_str(&d->cfg.servers[i], d->up[i].name);
	else
		snprintf(d->up[i].name, sizeof(d->up[i].name), "upstream%u", i);
	d->cfg.nservers++;
	return (int)i;
}

void defence_free(defence *d)
{
	if (!d)
		return;
	free(d->up);
	bogus_free(d->learned);
	free(d->pool);
	free(d->mark);
	free(d);
}

enum def_mode defence_mode(const defence *d)
{
	return d->cfg.mode;
}

const bogus *defence_learned(const defence *d)
{
	return d->learned;
}

const verdict_counters *defence_counters(const defence *d, unsigned i)
{
	return i < d->cfg.nservers ? &d->up[i].cnt : NULL;
}

/* ---- baselines ---- */

static enum up_learn opt_state(const struct upstate *u)
{
	if (u->opt_yes >= KNOWN && u->opt_no * 10 <= u->opt_yes)
		return UP_LEARN_YES;
	if (u->opt_no >= KNOWN && u->opt_yes * 10 <= u->opt_no)
		return UP_LEARN_NO;
	return UP_LEARN_UNKNOWN;
}

/* The learnt value of a header bit (-1 while not clear-cut). */
static int bit_state(const uint32_t *c)
{
	if (c[1] >= 4 && c[0] * 20 <= c[1])
		return 1;
	if (c[0] >= 4 && c[1] * 20 <= c[0])
		return 0;
	return -1;
}

static int ttl_learnt(const struct upstate *u)
{
	int best = -1;
	uint32_t bn = 0;
	for (int i = 0; i < NTTL; i++)
		if (u->ttl[i].n > bn) {
			bn = u->ttl[i].n;
			best = u->ttl[i].ttl;
		}
	return u->ttl_total >= KNOWN ? best : -1;
}

static bool ttl_known_value(const struct upstate *u, int ttl)
{
	for (int i = 0; i < NTTL; i++)
		if (u->ttl[i].n && u->ttl[i].ttl == ttl)
			return true;
	return false;
}

static void halve(uint32_t *a, uint32_t *b)
{
	if (*a + *b > 1000) {
		*a /= 2;
		*b /= 2;
	}
}

static void learn(struct upstate *u, const up_reply *r, bool rtt)
{
	if (r->transport == UP_UDP && rtt) {
		uint64_t s = r->rtt_us > UINT32_MAX ? UINT32_MAX : r->rtt_us;
		u->rtt[u->rpos] = (uint32_t)s;
		u->rpos = (u->rpos + 1) % NRTT;
		if (u->nrtt < NRTT)
			u->nrtt++;
		/* low = the floor over the last ~64 s (a recursive upstream's
		 * cache hits show the network RTT; its misses and queueing
		 * under load only add to it); high = 2nd largest of the last 32
		 * (one outlier ignored) */
		if (u->ecount && r->t_us - u->estart >= EPOCH_US) {
			if (u->cur_min > u->floor_all)
				u->floor_all += (u->cur_min - u->floor_all + 63) / 64;
			u->emin[u->epos] = u->cur_min;
			u->epos = (u->epos + 1) % NEPOCH;
			if (u->nepochs < NEPOCH)
				u->nepochs++;
			u->ecount = 0;
		}
		if (!u->ecount) {
			u->estart = r->t_us;
			u->cur_min = (uint32_t)s;
		} else if (s < u->cur_min) {
			u->cur_min = (uint32_t)s;
		}
		u->ecount++;
		if (u->nrtt == 1 || s < u->floor_all)
			u->floor_all = (uint32_t)s;
		/* queueing under load can lift every recent sample for minutes:
		 * the slowly drifting all-time floor keeps "early" meaningful */
		uint32_t lo = u->ecount ? u->cur_min : UINT32_MAX;
		for (unsigned i = 0; i < u->nepochs; i++)
			if (u->emin[i] < lo)
				lo = u->emin[i];
		if (u->floor_all < lo)
			lo = u->floor_all;
		uint32_t x1 = 0, x2 = 0;
		for (unsigned i = 0; i < u->nrtt; i++) {
			uint32_t v = u->rtt[i];
			if (v > x1) {
				x2 = x1;
				x1 = v;
			} else if (v > x2) {
				x2 = v;
			}
		}
		u->lo = lo;
		u->hi = u->nrtt >= 2 ? x2 : x1;
		if (r->ip_ttl >= 0) {
			int slot = -1, low = 0;
			for (int i = 0; i < NTTL; i++) {
				if (u->ttl[i].n && u->ttl[i].ttl == r->ip_ttl) {
					slot = i;
					break;
				}
				if (u->ttl[i].n < u->ttl[low].n)
					low = i;
			}
			if (slot < 0) {
				slot = low;
				u->ttl_total -= u->ttl[slot].n;
				u->ttl[slot].ttl = r->ip_ttl;
				u->ttl[slot].n = 0;
			}
			u->ttl[slot].n++;
			u->ttl_total++;
			if (u->ttl_total > 1000) {
				u->ttl_total = 0;
				for (int i = 0; i < NTTL; i++) {
					u->ttl[i].n = (u->ttl[i].n + 1) / 2;
					u->ttl_total += u->ttl[i].n;
				}
			}
		}
	}
	if (r->opt)
		u->opt_yes++;
	else
		u->opt_no++;
	halve(&u->opt_yes, &u->opt_no);
	if (r->rcode == RCODE_NOERROR || r->rcode == RCODE_NXDOMAIN) {
		u->aa[(r->flags & MSG_AA) != 0]++;
		u->ra[(r->flags & MSG_RA) != 0]++;
		halve(&u->aa[0], &u->aa[1]);
		halve(&u->ra[0], &u->ra[1]);
	}
}

int defence_baseline(const defence *d, unsigned i, def_baseline *out)
{
	if (i >= d->cfg.nservers)
		return -1;
	const struct upstate *u = &d->up[i];
	out->rtt_samples = u->nrtt;
	out->rtt_lo_us = u->nrtt ? u->lo : 0;
	out->rtt_hi_us = u->nrtt ? u->hi : 0;
	out->ip_ttl = ttl_learnt(u);
	out->opt = opt_state(u);
	out->aa = bit_state(u->aa);
	out->ra = bit_state(u->ra);
	return 0;
}

void defence_probe_reply(defence *d, const up_reply *r)
{
	if (r->server < d->cfg.nservers)
		learn(&d->up[r->server], r, true);
}

/* ---- tables: pool of addresses, marked names ---- */

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static uint64_t bytes_hash(const uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return mix(h);
}

static uint64_t mark_key(uint64_t name_hash, unsigned server)
{
	return mix(name_hash ^ ((uint64_t)(server + 1) * 0x9e3779b97f4a7c15ull)) | 1;
}

static void mark_set(defence *d, uint64_t name_hash, unsigned server, uint64_t now)
{
	uint64_t k = mark_key(name_hash, server);
	struct mark_ent *e = &d->mark[k & (TABLE_SIZE - 1)];
	e->key = k;
	e->until_us = now + d->cfg.mark_us;
}

static bool mark_get(const defence *d, uint64_t name_hash, unsigned server, uint64_t now)
{
	uint64_t k = mark_key(name_hash, server);
	const struct mark_ent *e = &d->mark[k & (TABLE_SIZE - 1)];
	return e->key == k && e->until_us > now;
}

/* Hash of the name's last two labels (the "site"; www.x.com → x.com). */
static uint64_t site_hash(const uint8_t *name)
{
	const uint8_t *l[3] = {name, name, name};
	for (const uint8_t *p = name; *p; p += 1 + *p) {
		l[0] = l[1];
		l[1] = l[2];
		l[2] = p;
	}
	const uint8_t *s = l[1];
	return name_hash(s, name_len(s));
}

/* Counts a (address, site) sighting; true when the address has answered
 * for pool_names distinct sites within the window. */
static bool pool_note(defence *d, const uint8_t *a, size_t alen, uint64_t site, uint64_t now)
{
	uint64_t k = bytes_hash(a, alen, alen) | 1;
	struct pool_ent *e = &d->pool[k & (TABLE_SIZE - 1)];
	if (e->key != k || now - e->start_us > d->cfg.pool_window_us) {
		e->key = k;
		e->start_us = now;
		e->sites = 0;
	}
	e->sites |= 1ull << (site & 63);
	return (unsigned)__builtin_popcountll(e->sites) >= d->cfg.pool_names;
}

/* ---- reading a reply ---- */

static void scan_reply(const up_reply *r, struct scan *s)
{
	memset(s, 0, sizeof(*s));
	const msg *m = r->m;
	uint64_t sum = 0;
	wire_rd rd;
	wire_rd_init(&rd, r->wire, r->len);
	rd.pos = r->wire + m->qend;
	uint8_t owner[NAME_MAXLEN];
	for (unsigned i = 0; i < m->hdr.ancount; i++) {
		if (i == 0 && wire_rd_left(&rd) >= 2 && rd.pos[0] == 0xc0 && rd.pos[1] == 0x0c)
			s->ptr12 = true;
		if (name_unpack(&rd, owner) < 0)
			break;
		uint16_t type = wire_rd_u16(&rd);
		wire_rd_u16(&rd); /* class */
		wire_rd_u32(&rd); /* ttl */
		uint16_t rdlen = wire_rd_u16(&rd);
		const uint8_t *rdata = wire_rd_ptr(&rd, rdlen);
		if (!wire_rd_ok(&rd))
			break;
		sum += bytes_hash(rdata, rdlen, type);
		if (((type == RR_A && rdlen == 4) || (type == RR_AAAA && rdlen == 16)) &&
		    s->naddr < DEF_MAX_ADDRS) {
			s->alen[s->naddr] = (uint8_t)rdlen;
			memcpy(s->addr[s->naddr], rdata, rdlen);
			s->naddr++;
		}
		if (m->qtype != RR_ANY && type != m->qtype && type != RR_CNAME && type != RR_RRSIG &&
		    type != RR_DNAME && name_eq(owner, m->qname))
			s->type_bad = true;
	}
	s->digest = mix(sum + r->rcode * 0x9e3779b97f4a7c15ull + 1);
}

static uint64_t window_us(const defence *d, const struct upstate *u)
{
	if (u->nrtt < KNOWN)
		return d->cfg.hold_max_us;
	uint64_t w = u->hi + u->hi / 4 + 5000;
	if (w < d->cfg.hold_min_us)
		w = d->cfg.hold_min_us;
	if (w > d->cfg.hold_max_us)
		w = d->cfg.hold_max_us;
	return w;
}

/* ---- logging ---- */

static void log_rec(defence *d, const def_txn *x, unsigned server, unsigned seq, bool tcp, uint64_t rtt_us,
		    int ip_ttl, const uint8_t *wire, uint16_t len, bool opt, bool cookie, unsigned naddr,
		    const uint8_t (*addr)[16], const uint8_t *alen, uint32_t sig, int score, enum vkind v,
		    const char *dnssec)
{
	if (!d->cfg.log)
		return;
	const struct upstate *u = &d->up[server];
	char at[DEF_MAX_ADDRS][48];
	const char *ap[DEF_MAX_ADDRS];
	for (unsigned i = 0; i < naddr && i < DEF_MAX_ADDRS; i++) {
		bogus_fmt(addr[i], alen[i], alen[i] * 8u, at[i], sizeof(at[i]));
		ap[i] = at[i];
	}
	verdict_rec rec = {
		.t = d->cfg.realtime(),
		.upstream = u->name,
		.qname = x->qname,
		.qtype = x->qtype,
		.seq = seq,
		.tcp = tcp,
		.rtt_us = rtt_us,
		.expect_rtt_us = u->nrtt >= KNOWN ? u->lo : 0,
		.ip_ttl = tcp ? -1 : ip_ttl,
		.ip_ttl_learnt = ttl_learnt(u),
		.flags = len >= 4 ? wire_get_u16(wire + 2) : 0,
		.opt = opt,
		.cookie = cookie,
		.answer = ap,
		.nanswer = naddr,
		.signals = sig,
		.score = score,
		.verdict = v,
		.dnssec = dnssec,
	};
	for (int i = 0; i < 4; i++)
		rec.counts[i] = len >= 12 ? wire_get_u16(wire + 4 + 2 * i) : 0;
	verdict_log_write(d->cfg.log, &rec);
}

static void log_held(defence *d, const def_txn *x, const def_held *h, enum vkind v)
{
	log_rec(d, x, h->server, h->seq, h->tcp, h->rtt_us, h->ip_ttl, h->wire, h->len, h->opt, h->cookie,
		h->naddr, (const uint8_t(*)[16])h->addr, h->alen, h->signals, h->score, v, NULL);
}

/* ---- transactions ---- */

void defence_txn_begin(defence *d, def_txn *x, const uint8_t *qname, uint16_t qtype)
{
	(void)d;
	memset(x, 0, sizeof(*x));
	x->qname = qname;
	x->qtype = qtype;
	x->name_hash = name_hash(qname, name_len(qname));
	x->chosen = -1;
	x->active = true;
}

static void drop_held(def_txn *x, unsigned i)
{
	free(x->held[i].wire);
	x->held[i] = x->held[--x->nheld];
}

void defence_txn_end(defence *d, def_txn *x)
{
	if (!x->active)
		return;
	while (x->nheld) {
		if (!x->served)
			log_held(d, x, &x->held[x->nheld - 1], V_FAILED);
		drop_held(x, x->nheld - 1);
	}
	x->active = false;
}

const def_held *defence_chosen(const def_txn *x)
{
	return x->chosen >= 0 && (unsigned)x->chosen < x->nheld ? &x->held[x->chosen] : NULL;
}

void defence_escalated(defence *d, def_txn *x)
{
	x->escalated = true;
	if (x->server < d->cfg.nservers)
		verdict_inc(&d->up[x->server].cnt.escalations);
}

static void learn_addrs(defence *d, unsigned server, unsigned naddr, const uint8_t (*addr)[16],
			const uint8_t *alen)
{
	for (unsigned i = 0; i < naddr; i++)
		if (!bogus_match(d->learned, addr[i], alen[i]) && !bogus_match(d->cfg.list, addr[i], alen[i]) &&
		    bogus_add(d->learned, addr[i], alen[i], alen[i] * 8u) == 0)
			verdict_inc(&d->up[server].cnt.learned);
}

static void note_conflict(defence *d, def_txn *x, unsigned server)
{
	if (!x->conflict) {
		x->conflict = true;
		verdict_inc(&d->up[server].cnt.conflicts);
	}
}

/* A reply (digest, trusted: accepted at once or over TCP) is served: every
 * held reply is settled as forged or superseded. keep: held index being
 * served (not settled), or -1. */
static void settle(defence *d, def_txn *x, uint64_t digest, bool trusted, int keep, uint64_t now)
{
	for (unsigned i = 0; i < x->nheld; i++) {
		if ((int)i == keep)
			continue;
		def_held *h = &x->held[i];
		struct upstate *u = &d->up[h->server];
		if (h->digest != digest)
			note_conflict(d, x, h->server);
		if (h->digest != digest && h->score < 0 && trusted) {
			verdict_inc(&u->cnt.forged);
			h->signals |= VS_BIT(VS_CONFLICT);
			if (h->score <= LEARN_MAX) {
				learn_addrs(d, h->server, h->naddr, (const uint8_t(*)[16])h->addr, h->alen);
				mark_set(d, x->name_hash, h->server, now);
			}
			log_held(d, x, h, V_FORGED);
		} else {
			verdict_inc(&u->cnt.superseded);
			log_held(d, x, h, V_SUPERSEDED);
		}
	}
}

static void hold(defence *d, def_txn *x, const up_reply *r, const struct scan *s, uint32_t sig, int score)
{
	struct upstate *u = &d->up[r->server];
	unsigned slot = x->nheld;
	if (slot == DEF_MAX_HELD) { /* full: replace the worst if this one is better */
		unsigned w = 0;
		for (unsigned i = 1; i < x->nheld; i++)
			if (x->held[i].score < x->held[w].score)
				w = i;
		if (x->held[w].score >= score) {
			verdict_inc(&u->cnt.superseded);
			return;
		}
		verdict_inc(&d->up[x->held[w].server].cnt.superseded);
		log_held(d, x, &x->held[w], V_SUPERSEDED);
		free(x->held[w].wire);
		slot = w;
	} else {
		x->nheld++;
	}
	def_held *h = &x->held[slot];
	memset(h, 0, sizeof(*h));
	h->wire = malloc(r->len ? r->len : 1);
	if (!h->wire) { /* cannot keep it: as if it never came */
		x->held[slot] = x->held[--x->nheld];
		return;
	}
	memcpy(h->wire, r->wire, r->len);
	h->len = r->len;
	h->seq = r->seq;
	h->server = r->server;
	h->rcode = r->rcode;
	h->signals = sig;
	h->score = score;
	h->digest = s->digest;
	h->t_us = r->t_us;
	h->rtt_us = r->rtt_us;
	h->ip_ttl = r->ip_ttl;
	h->tcp = r->transport == UP_TCP;
	h->opt = r->opt;
	h->cookie = r->cookie_echoed;
	h->naddr = (uint8_t)s->naddr;
	memcpy(h->alen, s->alen, sizeof(h->alen));
	memcpy(h->addr, s->addr, sizeof(h->addr));
}

/* injected: the reply is forged or nearly so — the real one is on its way
 * and worth a longer wait (room for one retransmission if it was lost)
 * rather than a TCP connection. */
static void set_deadline(defence *d, def_txn *x, const up_reply *r, bool injected)
{
	if (x->deadline_us)
		return;
	const struct upstate *u = &d->up[r->server];
	uint64_t send = r->t_us >= r->rtt_us ? r->t_us - r->rtt_us : 0;
	uint64_t w = window_us(d, u);
	if (injected) {
		w *= 2;
		if (w > d->cfg.hold_max_us)
			w = d->cfg.hold_max_us;
	}
	uint64_t dl = send + w;
	if (dl < r->t_us + d->cfg.hold_min_us)
		dl = r->t_us + d->cfg.hold_min_us;
	x->deadline_us = dl;
}

int defence_judge(defence *d, def_txn *x, const up_reply *r, uint64_t *deadline_us, def_judgement *j)
{
	def_judgement jl;
	if (!j)
		j = &jl;
	memset(j, 0, sizeof(*j));
	if (deadline_us)
		*deadline_us = UP_NEVER;
	unsigned server = r->server < d->cfg.nservers ? r->server : 0;
	struct upstate *u = &d->up[server];
	x->server = server;
	verdict_inc(&u->cnt.replies);
	bool tcp = r->transport == UP_TCP;
	uint64_t now = r->t_us;
	struct scan s;
	scan_reply(r, &s);
	j->digest = s.digest;
	j->naddr = s.naddr;
	memcpy(j->addr, s.addr, sizeof(j->addr));
	memcpy(j->alen, s.alen, sizeof(j->alen));
	j->expect_rtt_us = u->nrtt >= KNOWN ? u->lo : 0;
	uint32_t sig = 0;
	int score = 0;
	for (unsigned i = 0; i < s.naddr; i++)
		if (bogus_match(d->cfg.list, s.addr[i], s.alen[i]))
			sig |= VS_BIT(VS_LIST);
	/* DNSSEC (validator.h): only names under a trust anchor cost anything */
	const char *dwhy = NULL;
	if (d->cfg.val && validator_covers(d->cfg.val, x->qname)) {
		int vv = validator_check(d->cfg.val, r->wire, r->len, server);
		dwhy = validator_why(d->cfg.val);
		if (vv == VAL_SECURE) {
			sig |= VS_BIT(VS_DNSSEC_OK);
			verdict_inc(&u->cnt.dnssec_ok);
		} else if (vv == VAL_BOGUS) {
			sig |= VS_BIT(VS_DNSSEC_BOGUS);
			verdict_inc(&u->cnt.dnssec_bogus);
		}
	}

	if (d->cfg.mode == DEF_OFF) {
		j->signals = sig;
		if (sig & (VS_BIT(VS_LIST) | VS_BIT(VS_DNSSEC_BOGUS))) {
			verdict_inc(&u->cnt.forged);
			if (sig & VS_BIT(VS_LIST))
				verdict_inc(&u->cnt.listed);
			x->forged++;
			j->verdict = V_FORGED;
			log_rec(d, x, server, r->seq, tcp, r->rtt_us, r->ip_ttl, r->wire, r->len, r->opt,
				r->cookie_echoed, s.naddr, (const uint8_t(*)[16])s.addr, s.alen, sig, 0, V_FORGED, dwhy);
			return DEF_HOLD; /* keep listening, retries as usual */
		}
		verdict_inc(&u->cnt.accepted);
		x->served = true;
		j->verdict = V_ACCEPTED;
		log_rec(d, x, server, r->seq, tcp, r->rtt_us, r->ip_ttl, r->wire, r->len, r->opt, r->cookie_echoed,
			s.naddr, (const uint8_t(*)[16])s.addr, s.alen, sig, 0, V_ACCEPTED, dwhy);
		return DEF_ACCEPT;
	}

	enum up_learn optk = opt_state(u);
	bool rtt_known = u->nrtt >= KNOWN;
	bool ttl_known = u->ttl_total >= KNOWN;
	if (tcp) {
		sig |= VS_BIT(VS_TCP);
		score += W_TCP;
	}
	if (r->cookie_echoed) {
		sig |= VS_BIT(VS_COOKIE);
		score += W_COOKIE;
	}
	if (r->opt) {
		sig |= VS_BIT(VS_OPT);
		score += optk == UP_LEARN_YES ? W_OPT : W_OPT_UNKNOWN;
	} else if (!tcp && optk == UP_LEARN_YES) {
		sig |= VS_BIT(VS_NO_OPT);
		score += W_NO_OPT;
	}
	if (!tcp && rtt_known && r->rtt_us * 2 < u->lo && u->lo - r->rtt_us >= d->cfg.early_min_us) {
		sig |= VS_BIT(VS_EARLY);
		score += W_EARLY;
	}
	bool ttl_ok = !tcp && r->ip_ttl >= 0 && ttl_known && ttl_known_value(u, r->ip_ttl);
	if (!tcp && r->ip_ttl >= 0 && ttl_known && !ttl_ok) {
		sig |= VS_BIT(VS_IP_TTL);
		score += W_IP_TTL;
	}
	bool flags_bad = !(r->flags & MSG_RD);
	if (r->rcode == RCODE_NOERROR || r->rcode == RCODE_NXDOMAIN) {
		int aa = bit_state(u->aa), ra = bit_state(u->ra);
		if ((aa >= 0 && aa != ((r->flags & MSG_AA) != 0)) || (ra >= 0 && ra != ((r->flags & MSG_RA) != 0)))
			flags_bad = true;
	}
	if (flags_bad) {
		sig |= VS_BIT(VS_FLAGS);
		score += W_FLAGS;
	}
	const msg *m = r->m;
	if (!r->opt && m->hdr.qdcount == 1 && m->hdr.ancount == 1 && m->hdr.nscount == 0 && m->hdr.arcount == 0 &&
	    s.ptr12) {
		sig |= VS_BIT(VS_SHAPE);
		if (optk == UP_LEARN_YES)
			score += W_SHAPE;
	}
	if (!tcp && optk != UP_LEARN_YES && rtt_known && ttl_ok &&
	    (r->rtt_us * 4 >= u->lo * 3 || u->lo - r->rtt_us < d->cfg.early_min_us)) {
		sig |= VS_BIT(VS_TIMELY);
		score += W_TIMELY;
	}
	if (!(sig & (VS_BIT(VS_TCP) | VS_BIT(VS_COOKIE) | VS_BIT(VS_OPT))) && s.naddr) {
		uint64_t site = site_hash(m->qname);
		bool pool = false;
		for (unsigned i = 0; i < s.naddr; i++)
			pool |= pool_note(d, s.addr[i], s.alen[i], site, now);
		if (pool) {
			sig |= VS_BIT(VS_POOL);
			score += W_POOL;
		}
	}
	if (mark_get(d, x->name_hash, server, now)) {
		x->marked = true;
		sig |= VS_BIT(VS_MARKED);
		score += W_MARKED;
	}
	if (s.type_bad)
		sig |= VS_BIT(VS_TYPE);
	if (!tcp)
		for (unsigned i = 0; i < s.naddr; i++)
			if (bogus_match(d->learned, s.addr[i], s.alen[i]))
				sig |= VS_BIT(VS_LEARNED);
	/* DNSSEC: a secure answer is proof of authenticity (it outweighs
	 * everything but a listed or wrong-type answer, and cancels the
	 * learnt-address heuristic); a bogus one is proof of forgery. */
	if (sig & VS_BIT(VS_DNSSEC_OK)) {
		score += W_DNSSEC;
		sig &= ~VS_BIT(VS_LEARNED);
	}
	for (unsigned i = 0; i < x->nheld; i++)
		if (x->held[i].digest != s.digest) {
			sig |= VS_BIT(VS_CONFLICT);
			note_conflict(d, x, server);
		}
	j->signals = sig;
	j->score = score;

	if (sig & VS_PROOF) {
		verdict_inc(&u->cnt.forged);
		if (sig & VS_BIT(VS_LIST))
			verdict_inc(&u->cnt.listed);
		x->forged++;
		if (sig & VS_BIT(VS_TYPE))
			learn_addrs(d, server, s.naddr, (const uint8_t(*)[16])s.addr, s.alen);
		mark_set(d, x->name_hash, server, now);
		j->verdict = V_FORGED;
		log_rec(d, x, server, r->seq, tcp, r->rtt_us, r->ip_ttl, r->wire, r->len, r->opt, r->cookie_echoed,
			s.naddr, (const uint8_t(*)[16])s.addr, s.alen, sig, score, V_FORGED, dwhy);
		if (tcp) /* nothing else comes over this connection */
			return defence_deadline(d, x, now);
		set_deadline(d, x, r, true);
		if (deadline_us)
			*deadline_us = x->deadline_us;
		return DEF_HOLD;
	}
	if (score >= DEF_ACCEPT_SCORE) {
		verdict_inc(&u->cnt.accepted);
		learn(u, r, true);
		settle(d, x, s.digest, true, -1, now);
		x->served = true;
		j->verdict = V_ACCEPTED;
		log_rec(d, x, server, r->seq, tcp, r->rtt_us, r->ip_ttl, r->wire, r->len, r->opt, r->cookie_echoed,
			s.naddr, (const uint8_t(*)[16])s.addr, s.alen, sig, score, V_ACCEPTED, dwhy);
		return DEF_ACCEPT;
	}
	verdict_inc(&u->cnt.held);
	j->verdict = V_HELD;
	log_rec(d, x, server, r->seq, tcp, r->rtt_us, r->ip_ttl, r->wire, r->len, r->opt, r->cookie_echoed, s.naddr,
		(const uint8_t(*)[16])s.addr, s.alen, sig, score, V_HELD, dwhy);
	hold(d, x, r, &s, sig, score);
	set_deadline(d, x, r, score <= DEF_DEADLINE_SCORE);
	if (deadline_us)
		*deadline_us = x->deadline_us;
	/* Two different answers and nothing to tell them apart over UDP (no
	 * OPT from this upstream): ask over TCP now rather than wait. */
	if (x->conflict && optk != UP_LEARN_YES && !x->escalated)
		return DEF_ESCALATE;
	return DEF_HOLD;
}

int defence_deadline(defence *d, def_txn *x, uint64_t now_us)
{
	unsigned server = x->server;
	if (!x->nheld) {
		if (x->forged && !x->escalated && d->cfg.mode == DEF_ON)
			return DEF_ESCALATE;
		verdict_inc(&d->up[server].cnt.failed);
		return DEF_FAIL;
	}
	unsigned b = 0;
	for (unsigned i = 1; i < x->nheld; i++)
		if (x->held[i].score > x->held[b].score ||
		    (x->held[i].score == x->held[b].score && x->held[i].t_us > x->held[b].t_us))
			b = i;
	const def_held *best = &x->held[b];
	bool plausible_conflict = false;
	for (unsigned i = 0; i < x->nheld; i++)
		if (i != b && x->held[i].digest != best->digest && x->held[i].score > DEF_DEADLINE_SCORE)
			plausible_conflict = true;
	bool doubt = plausible_conflict || best->score < DEF_DEADLINE_SCORE || (x->marked && best->score < 0);
	if (doubt) {
		if (!x->escalated)
			return DEF_ESCALATE;
		verdict_inc(&d->up[best->server].cnt.failed);
		return DEF_FAIL;
	}
	x->chosen = (int)b;
	x->served = true;
	struct upstate *u = &d->up[best->server];
	verdict_inc(&u->cnt.chosen);
	if (best->score >= 0) { /* teach the baselines, as an accepted reply would */
		msg mm;
		if (msg_parse_query(&mm, best->wire, best->len) == 0) {
			up_reply rr = {.wire = best->wire, .len = best->len, .m = &mm, .server = best->server,
				       .transport = best->tcp ? UP_TCP : UP_UDP, .rtt_us = best->rtt_us,
				       .t_us = best->t_us,
				       .ip_ttl = best->ip_ttl, .flags = wire_get_u16(best->wire + 2),
				       .rcode = best->rcode, .opt = best->opt};
			learn(u, &rr, !(best->signals & VS_BIT(VS_EARLY))); /* an early one
									       * must not lower the floor */
		}
	}
	settle(d, x, best->digest, best->score >= 0, (int)b, now_us);
	log_held(d, x, best, V_CHOSEN);
	return DEF_SERVE_HELD;
}

unsigned defence_query_flags(defence *d, const uint8_t *qname, const uint16_t *servers, unsigned n,
			     uint64_t now_us)
{
	if (d->cfg.mode != DEF_ON || !n)
		return 0;
	uint64_t h = name_hash(qname, name_len(qname));
	for (unsigned i = 0; i < n; i++) {
		unsigned s = servers[i];
		if (s >= d->cfg.nservers)
			continue;
		if (opt_state(&d->up[s]) != UP_LEARN_YES && mark_get(d, h, s, now_us)) {
			verdict_inc(&d->up[s].cnt.tcp_first);
			return UP_QF_TCP;
		}
	}
	return 0;
}
