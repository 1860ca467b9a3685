/* resolve — the `antidote resolve` subcommand: a caching forwarding resolver on the server core.
 *
 * Data flow. Client queries arrive on the server core's threads (UDP
 * threads with blocking recvmmsg; TCP on the event threads). The handler
 * checks them (frontend.h) and answers cache hits right there (the fast
 * path: one parse, one shard lock, one memcpy and patch). On a miss it
 * defers the query (SERVER_DEFER) and posts it to the event thread of the
 * worker that OWNS the question: worker = inflight_hash(key) mod workers,
 * so identical questions from any client, any thread, meet in one in-flight
 * table and cost one upstream transaction. That event thread owns the
 * worker's upstream context (upstream.h, its sockets and timers wired to
 * server_watch / server_timer_add), its in-flight table (inflight.h) and a
 * client timer per question (RFC 8767: stale data after stale_timeout_ms).
 * When an upstream reply is accepted it is stored in the shared cache and
 * every waiter gets an answer rebuilt for it (cache_lookup with its own
 * query: its ID, its question's case, remaining TTLs, TC for its size);
 * answers the cache refuses are relayed (frontend_relay). When upstreams
 * fail, waiters get stale data when there is some, else SERVFAIL; when every
 * candidate upstream is marked down, that happens at once.
 *
 * The cache is shared (lock-striped, cache.h): cache_bench found shared and
 * per-worker equally fast, and here a UDP thread (reader) and an event
 * thread (writer) of one worker are different threads anyway.
 *
 * The reply policy lives in ONE function, on_upstream_reply, which asks
 * the injection defence (defence.h) about every reply: serve it, hold it
 * and keep listening, or ask again over TCP; on_upstream_end asks it again
 * when the hold deadline passes. Each worker has its own judge (baselines,
 * learnt forged addresses, marks) and sends it harmless probes (". NS" by
 * default) at start and every --probe-interval.
 *
 * RELOAD (SIGHUP, in the server's control thread). The command line and
 * its --config files are parsed again into a fresh configuration, checked
 * completely (every route, bogus-ip and config file read; an error keeps
 * the running configuration and is logged with its file:line), and what
 * may change (reload.h) is published as one immutable `struct live`: the
 * route table with its server-number map, the allow list, and the
 * --bogus-ip list (through a forwarding set, bogus.h, since each worker's
 * defence keeps its list pointer for life). Readers take no lock:
 *  - handler threads (UDP threads and event threads answering clients)
 *    read only the allow list, bracketed by a per-thread epoch slot
 *    (tstats.active = current generation, seq_cst, then load `live`; 0
 *    when done), the scheme `antidote serve` uses for its zones;
 *  - event-thread callbacks (on_query, escalate, the defence matching the
 *    bogus list) load `live` afresh in each callback and keep nothing from
 *    it after returning.
 * The writer swaps the pointer (and the bogus target), bumps the
 * generation, waits until no handler slot holds an older generation, then
 * posts a barrier function to every worker: once each has run it, no
 * event thread can still be inside a callback that loaded the old `live`,
 * and the old one is freed. A barrier that does not complete within 2 s
 * (or cannot be posted) leaves the old snapshot on a retired list, freed
 * by the next completed barrier or at exit — never early. The cache,
 * sockets, threads, upstream and defence state are kept; options that
 * would need them rebuilt are logged as "restart needed" and ignored.
 * Upstreams a new route table names that are not running are added before
 * it is published: appended to app->servers/ups (room for UP_MAX_SERVERS,
 * so nothing moves), then every worker's event thread adds them to its
 * upstream, probe, defence and validator state (on_add_servers, posted,
 * waited for); numbers never change, so the running ones keep their RTTs.
 * SIGUSR1 (the stats thread) prints the counters. */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "net/addr.h"
#include "net/server.h"
#include "resolve/acl.h"
#include "resolve/cache.h"
#include "resolve/config.h"
#include "resolve/cookie.h"
#include "resolve/defence.h"
#include "resolve/frontend.h"
#include "resolve/inflight.h"
#include "resolve/reload.h"
#include "resolve/tls.h"
#include "resolve/route.h"
#include "resolve/upstream.h"
#include "resolve/validator.h"
#include "resolve/verdict.h"
#include "util/log.h"
#include "util/privdrop.h"

#define INC FRONTEND_INC
#define LOAD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))
#define MAX_WAITERS 4096

/* inflight_entry.flags */
#define F_DETACHED 1u /* waiters were answered without the upstream (stale or
		       * all upstreams down): newcomers are answered the same way */

struct app;

/* One deferred client query (or, with prefetch, a refresh nobody waits
 * for). Allocated on a cache miss, freed once answered. */
struct pending {
	inflight_waiter link; /* first member: the waiter list holds &link */
	struct app *app;
	server_token tok;
	size_t limit;
	bool prefetch;
	bool cookie;          /* the query carried a COOKIE: answer with ours */
	uint16_t len;
	uint8_t req[]; /* the client's message */
};

/* A finished TCP answer posted to the worker owning the connection. */
struct tcp_out {
	server_token tok;
	uint16_t len;
	uint8_t msg[];
};

/* What a reload may change, published as a whole (see RELOAD above).
 * Immutable once published; freed after a grace period. */
struct live {
	resolve_config *cfg;  /* its route table and bogus list */
	bool owned;           /* cfg is ours to free (not the start one) */
	route *rt;            /* = cfg->rt */
	bool identity;        /* map[i] == i */
	uint16_t map[ROUTE_MAX_SERVERS]; /* rt's server number -> running number */
	acl allow;
	struct live *next;    /* on the retired list */
};

/* Handler-thread counters (single writer). */
struct tstats {
	struct app *app;
	_Atomic uint64_t active; /* generation of the `live` in use, 0: none */
	frontend_stats fe;
	_Atomic uint64_t hits, deferred, post_full, prefetch_posts, servfail;
};

/* Event-thread counters of one worker (single writer). */
struct wstats {
	_Atomic uint64_t txns, coalesced, upstream_answers, relayed, stale, servfail, local, noroute,
		full, failovers, prefetch_done, detached, late_cache_hits, escalations, probes;
};

/* A validator key fetch (validator.h) as an upstream transaction's arg. */
struct vfetch {
	struct wstate *ws;
	unsigned id;
};

/* Plain snapshot of a worker's validator counters. */
struct vsum {
	uint64_t checked, secure, bogus, unsigned_seen, insecure, pending, wildcard, limited, fetches, fetch_ok,
		fetch_failed, zones_secure;
};

struct fdw {
	int id;
	bool used;
	up_fd_cb *cb;
	void *arg;
};

struct wstate {
	struct app *app;
	unsigned worker;
	server *srv;
	up_ctx *up;
	inflight *inf;
	server_timer up_timer;
	server_timer *ctimers; /* client timer per in-flight entry */
	struct fdw *fds;
	size_t nfds;
	msg_rr *rrs;
	defence *def;
	def_txn *dtx;          /* judging state per in-flight entry */
	up_ctx *pup;           /* the probes' own upstream context (their traffic
				* stays out of the upstream counters) */
	server_timer probe_timer, pup_timer;
	bool probed;
	unsigned nsrv;         /* upstreams this worker's contexts know (a reload
				* adds: add_servers, posted) */
	validator *val;        /* DNSSEC (NULL: off) */
	struct vfetch vf[VAL_MAX_FETCH];
	server_timer val_timer;
	uint8_t out[MSG_MAXLEN];
	uint8_t held[MSG_MAXLEN]; /* a held reply being served */
};

struct app {
	resolve_config *cfg;   /* the configuration at start: fixed options */
	cache *cache;
	_Atomic(struct live *) live;
	_Atomic uint64_t gen;  /* bumped by every swap; starts at 1 */
	struct live *retired;  /* control thread only */
	bogus *bogus_fw;       /* forwards to live->cfg->bogus_list */
	cookie_secret cookie;
	int argc;              /* the command line, parsed again on SIGHUP */
	char **argv;
	char *learned_path;    /* --learned-bogus (control thread only) */
	_Atomic unsigned reloads; /* completed (the stats thread reads it) */
	server *srv;
	unsigned nworkers, nctx;
	unsigned nservers;     /* running upstreams: the first table's, then those
				* reloads added (control thread writes, under mu) */
	net_addr *servers;     /* them (room for UP_MAX_SERVERS: never moves) */
	route_upstream *ups;   /* the same with transport and TLS name */
	val_seen *seen;        /* DNSSEC: names seen signed, shared by the workers */
	char *tls_ca;          /* --tls-ca, --tls-insecure at start (for TLS */
	bool tls_insecure;     /*   upstreams a reload adds) */
	struct wstate **ws;
	struct tstats *ts;  /* per handler thread */
	struct wstats *wst; /* per worker */
	/* per-upstream statistics per worker (SIGUSR1 snapshots and the
	 * final figures written by worker_stop) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned snap_done;
	up_stats *snap;
	verdict_totals *vsnap; /* per worker per upstream, like snap */
	struct vsum *dsnap;    /* per worker: validator counters */
	bogus *learned;        /* forged addresses learnt, merged at worker stop */
	verdict_log *vlog;
	atomic_bool quit;
};

static uint32_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}

static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static uint32_t wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static unsigned owner_of(const struct app *app, const msg *m)
{
	cache_key k;
	cache_key_from_msg(&k, m);
	return (unsigned)(inflight_hash(&k) % app->nworkers);
}

static void on_query(server *s, unsigned worker, void *arg);

/* ---- what a reload changes ---- */

/* Event threads: the current snapshot, for this callback only. */
static const struct live *live_now(struct app *app)
{
	return atomic_load_explicit(&app->live, memory_order_acquire);
}

/* rm's candidates as running upstream numbers (buf: ROUTE_MAX_GROUP). */
static void map_servers(const struct live *lv, route_match *rm, uint16_t *buf)
{
	if (lv->identity)
		return;
	unsigned n = rm->n < ROUTE_MAX_GROUP ? rm->n : ROUTE_MAX_GROUP;
	for (unsigned i = 0; i < n; i++)
		buf[i] = lv->map[rm->servers[i]];
	rm->servers = buf;
	rm->n = n;
}

/* Handler threads: is the client allowed? (epoch-bracketed read) */
static bool client_allowed(struct app *app, struct tstats *ts, const net_addr *peer)
{
	uint64_t gen = atomic_load_explicit(&app->gen, memory_order_acquire);
	atomic_store_explicit(&ts->active, gen, memory_order_seq_cst);
	const struct live *lv = atomic_load_explicit(&app->live, memory_order_seq_cst);
	bool ok = acl_match(&lv->allow, peer);
	atomic_store_explicit(&ts->active, 0, memory_order_release);
	return ok;
}

/* ---- the client side (handler threads) ---- */

static int handle(void *ctx, server_query *q)
{
	struct tstats *ts = ctx;
	struct app *app = ts->app;
	const resolve_config *cfg = app->cfg;
	msg m;
	size_t limit = 512;
	bool tcp = q->transport == SERVER_TCP;
	frontend_cookies ck = {.secret = &app->cookie, .peer = q->peer, .now = wall_s()};
	int rc = frontend_check(q->req, q->req_len, tcp, client_allowed(app, ts, q->peer), cfg->max_udp, &ck, &m,
				&limit, q->resp, q->resp_max, &ts->fe);
	if (rc != FRONTEND_LOOKUP)
		return rc > 0 ? rc : SERVER_DROP;
	unsigned fl = 0;
	bool has_ck = m.edns.present && (m.edns.opts & EDNS_HAS_COOKIE);
	size_t room = limit < q->resp_max ? limit : q->resp_max;
	int n = cache_lookup(app->cache, &m, now_s(), 0, limit, q->resp, q->resp_max, &fl);
	if (n > 0) {
		INC(ts->hits);
		if (has_ck)
			n = (int)frontend_add_cookie(&m, &ck, q->resp, (size_t)n, room);
		if (fl & CACHE_PREFETCH) {
			struct pending *p = malloc(sizeof(*p) + q->req_len);
			if (p) {
				memset(p, 0, sizeof(*p));
				p->app = app;
				p->prefetch = true;
				p->len = (uint16_t)q->req_len;
				memcpy(p->req, q->req, q->req_len);
				if (server_post(q->srv, owner_of(app, &m), on_query, p) < 0)
					free(p);
				else
					INC(ts->prefetch_posts);
			}
		}
		return n;
	}
	struct pending *p = malloc(sizeof(*p) + q->req_len);
	if (p) {
		memset(p, 0, sizeof(*p));
		p->app = app;
		p->limit = limit;
		p->cookie = has_ck;
		p->len = (uint16_t)q->req_len;
		memcpy(p->req, q->req, q->req_len);
		if (server_defer(q, &p->tok) == 0 &&
		    server_post(q->srv, owner_of(app, &m), on_query, p) == 0) {
			INC(ts->deferred);
			return SERVER_DEFER;
		}
		INC(ts->post_full);
		free(p);
	}
	INC(ts->servfail);
	n = frontend_error(&m, RCODE_SERVFAIL, FRONTEND_EDE_NOT_READY, cfg->max_udp, limit, q->resp, q->resp_max);
	if (n > 0 && has_ck)
		n = (int)frontend_add_cookie(&m, &ck, q->resp, (size_t)n, room);
	return n > 0 ? n : SERVER_DROP;
}

/* ---- answering deferred queries (event threads) ---- */

static void on_tcp_out(server *s, unsigned worker, void *arg)
{
	(void)worker;
	struct tcp_out *o = arg;
	if (!server_stopping(s))
		server_reply(s, &o->tok, o->msg, o->len);
	free(o);
}

static int parse_pending(const struct pending *p, msg *m);

/* Sends out (ws->out: len > 0; 0 gives up) to p's client, with our
 * server cookie when the query had a COOKIE, and frees p. */
static void send_answer(struct wstate *ws, struct pending *p, uint8_t *out, int len)
{
	if (len < 0)
		len = 0;
	msg m;
	if (len > 0 && p->cookie && parse_pending(p, &m) == 0) {
		net_addr peer;
		server_token_peer(&p->tok, &peer);
		frontend_cookies ck = {.secret = &ws->app->cookie, .peer = &peer, .now = wall_s()};
		len = (int)frontend_add_cookie(&m, &ck, out, (size_t)len,
					       p->limit < sizeof(ws->out) ? p->limit : sizeof(ws->out));
	}
	if (p->tok.transport == SERVER_UDP || p->tok.worker == ws->worker) {
		server_reply(ws->srv, &p->tok, out, (size_t)len);
	} else {
		struct tcp_out *o = malloc(sizeof(*o) + (size_t)len);
		if (o) {
			o->tok = p->tok;
			o->len = (uint16_t)len;
			memcpy(o->msg, out, (size_t)len);
			if (server_post(ws->srv, p->tok.worker, on_tcp_out, o) < 0)
				free(o);
		}
	}
	free(p);
}

/* Stale data when there is some (RFC 8767), else SERVFAIL with EDE 22. */
static void answer_failed(struct wstate *ws, struct pending *p, const msg *m)
{
	struct app *app = ws->app;
	struct wstats *st = &app->wst[ws->worker];
	int n = cache_lookup(app->cache, m, now_s(), CACHE_ALLOW_STALE, p->limit, ws->out, sizeof(ws->out), NULL);
	if (n > 0) {
		INC(st->stale);
	} else {
		INC(st->servfail);
		n = frontend_error(m, RCODE_SERVFAIL, FRONTEND_EDE_NO_REACHABLE, app->cfg->max_udp, p->limit, ws->out,
				   sizeof(ws->out));
	}
	send_answer(ws, p, ws->out, n);
}

static void reply_error(struct wstate *ws, struct pending *p, const msg *m, unsigned rcode, int ede)
{
	int n = frontend_error(m, rcode, ede, ws->app->cfg->max_udp, p->limit, ws->out, sizeof(ws->out));
	send_answer(ws, p, ws->out, n);
}

static int parse_pending(const struct pending *p, msg *m)
{
	return msg_parse_query(m, p->req, p->len);
}

static void entry_done(struct wstate *ws, inflight_entry *e)
{
	unsigned i = inflight_index(ws->inf, e);
	server_timer_cancel(ws->srv, &ws->ctimers[i]);
	defence_txn_end(ws->def, &ws->dtx[i]);
	inflight_remove(ws->inf, e);
}

/* The AD bit of an accepted reply of a name under a trust anchor is ours
 * to say (RFC 6840 §5.8; an injector can set it too): set when the
 * validator found it secure, cleared otherwise. Returns the wire to use
 * (ws->held when patched). secure < 0: not under an anchor, untouched. */
static const uint8_t *ad_patch(struct wstate *ws, const uint8_t *wire, size_t len, int secure)
{
	if (secure < 0 || len < 4)
		return wire;
	uint16_t fl = (uint16_t)(wire[2] << 8 | wire[3]);
	uint16_t nf = secure ? (uint16_t)(fl | MSG_AD) : (uint16_t)(fl & ~MSG_AD);
	if (nf == fl)
		return wire;
	if (wire != ws->held)
		memcpy(ws->held, wire, len);
	ws->held[2] = (uint8_t)(nf >> 8);
	ws->held[3] = (uint8_t)nf;
	return ws->held;
}

/* -1: the question is under no trust anchor (or DNSSEC is off), else
 * whether the reply with these signals validated. */
static int secure_of(const struct wstate *ws, const inflight_entry *e, uint32_t signals)
{
	if (!ws->val || !validator_covers(ws->val, e->qname))
		return -1;
	return (signals & VS_BIT(VS_DNSSEC_OK)) != 0;
}

/* The upstream answered (wire: an accepted reply): cache it, answer every
 * waiter with a copy rebuilt for it, end the entry. secure: see ad_patch. */
static void complete(struct wstate *ws, inflight_entry *e, const uint8_t *wire, size_t len, unsigned rcode,
		     int secure)
{
	struct app *app = ws->app;
	wire = ad_patch(ws, wire, len, secure);
	struct wstats *st = &app->wst[ws->worker];
	cache_key k;
	uint8_t qn[NAME_MAXLEN];
	inflight_key(e, &k);
	memcpy(qn, e->qname, e->qname_len);
	k.qname = qn;
	uint32_t now = now_s();
	int stored = cache_store(app->cache, &k, wire, len, now);
	inflight_waiter *w = inflight_take(e);
	if (!w)
		INC(st->prefetch_done);
	entry_done(ws, e);
	while (w) {
		struct pending *p = (struct pending *)w;
		w = w->next;
		msg m;
		if (parse_pending(p, &m) < 0) {
			send_answer(ws, p, NULL, 0);
			continue;
		}
		int n = 0;
		if (stored == CACHE_STORED)
			n = cache_lookup(app->cache, &m, now, 0, p->limit, ws->out, sizeof(ws->out), NULL);
		if (n > 0) {
			INC(st->upstream_answers);
			send_answer(ws, p, ws->out, n);
			continue;
		}
		if (rcode != RCODE_NOERROR && rcode != RCODE_NXDOMAIN) {
			answer_failed(ws, p, &m);
			continue;
		}
		n = frontend_relay(&m, wire, len, app->cfg->max_udp, p->limit, ws->out, sizeof(ws->out), ws->rrs,
				   MSG_MAXRRS);
		if (n > 0) {
			INC(st->relayed);
			send_answer(ws, p, ws->out, n);
		} else {
			answer_failed(ws, p, &m);
		}
	}
}

/* Every attempt failed: stale data or SERVFAIL for each waiter. */
static void fail_entry(struct wstate *ws, inflight_entry *e)
{
	inflight_waiter *w = inflight_take(e);
	entry_done(ws, e);
	while (w) {
		struct pending *p = (struct pending *)w;
		w = w->next;
		msg m;
		if (parse_pending(p, &m) < 0)
			send_answer(ws, p, NULL, 0);
		else
			answer_failed(ws, p, &m);
	}
}

static const up_handler up_handlers;

/* Asks the question of e again over TCP (injectors do not forge over TCP),
 * a DNS over TLS upstream of the route first when it has one; t (NULL when
 * it already ended) is finished first. */
static void escalate(struct wstate *ws, inflight_entry *e, up_txn *t)
{
	struct app *app = ws->app;
	if (t)
		upstream_txn_finish(t, UP_NONE);
	e->txn = NULL;
	defence_escalated(ws->def, &ws->dtx[inflight_index(ws->inf, e)]);
	INC(app->wst[ws->worker].escalations);
	const struct live *lv = live_now(app);
	route_match rm;
	uint16_t cand[ROUTE_MAX_GROUP];
	route_lookup(lv->rt, e->qname, &rm);
	map_servers(lv, &rm, cand);
	up_query uq = {
		.qname = e->qname,
		.qtype = e->qtype,
		.qclass = e->qclass,
		.hdr_flags = (uint16_t)(MSG_RD | (e->cd_bit ? MSG_CD : 0)),
		.edns_flags = (uint16_t)(e->do_bit || (ws->val && validator_covers(ws->val, e->qname)) ? EDNS_DO : 0),
		.flags = UP_QF_TCP | UP_QF_PREFER_TLS,
		.servers = rm.servers,
		.nservers = rm.n,
	};
	up_txn *nt;
	if (rm.local || rm.n == 0 || upstream_query(ws->up, &uq, &up_handlers, e, &nt) < 0) {
		fail_entry(ws, e);
		return;
	}
	e->txn = nt;
}

/* Serves the reply the defence chose among the held ones (t: NULL when the
 * transaction already ended). */
static void serve_held(struct wstate *ws, inflight_entry *e, up_txn *t)
{
	const def_held *h = defence_chosen(&ws->dtx[inflight_index(ws->inf, e)]);
	if (!h) {
		if (t)
			upstream_txn_finish(t, UP_NONE);
		fail_entry(ws, e);
		return;
	}
	if (t)
		upstream_txn_finish(t, (int)h->seq);
	size_t len = h->len;
	unsigned rcode = h->rcode;
	int secure = secure_of(ws, e, h->signals);
	memcpy(ws->held, h->wire, len); /* complete() ends the judging state */
	complete(ws, e, ws->held, len, rcode, secure);
}

/* What the defence decided, carried out (t: NULL when it already ended). */
static void act(struct wstate *ws, inflight_entry *e, up_txn *t, int action, uint64_t deadline)
{
	switch (action) {
	case DEF_HOLD:
		if (t)
			upstream_txn_hold(t, deadline, true);
		return;
	case DEF_ESCALATE:
		escalate(ws, e, t);
		return;
	case DEF_SERVE_HELD:
		serve_held(ws, e, t);
		return;
	default: /* DEF_FAIL */
		if (t)
			upstream_txn_finish(t, UP_NONE);
		fail_entry(ws, e);
		return;
	}
}

/* THE REPLY POLICY — the one consumer of upstream replies.
 *
 * A reply reaching this function already matched the transaction
 * (upstream.h: source address and port, ID, question, 0x20 case).
 * SERVFAIL, REFUSED, NOTIMP and FORMERR fail over to the next candidate
 * while attempts remain (injectors never send those). Every other reply is
 * judged by the defence (defence.h): DEF_ACCEPT serves it at once (cached,
 * every waiter answered); DEF_HOLD keeps listening until the deadline it
 * gives (a forged reply is dropped and never cached); DEF_ESCALATE asks
 * again over TCP. With --defence off the judge accepts the first reply
 * unless it is on a --bogus-ip list. */
static void on_upstream_reply(void *arg, up_txn *t, const up_reply *r)
{
	inflight_entry *e = arg;
	struct wstate *ws = e->user;
	if (upstream_rcode_failover(r->rcode) && upstream_txn_next(t) == 0) {
		INC(ws->app->wst[ws->worker].failovers);
		return;
	}
	uint64_t deadline = UP_NEVER;
	def_judgement j;
	int a = defence_judge(ws->def, &ws->dtx[inflight_index(ws->inf, e)], r, &deadline, &j);
	if (a == DEF_ACCEPT) {
		upstream_txn_finish(t, (int)r->seq);
		complete(ws, e, r->wire, r->len, r->rcode, secure_of(ws, e, j.signals));
		return;
	}
	act(ws, e, t, a, deadline);
}

/* The hold deadline passed or every attempt failed: the defence picks among
 * what it held (or escalates, or gives up: stale data or SERVFAIL). */
static void on_upstream_end(void *arg, up_txn *t, int reason)
{
	(void)t;
	(void)reason;
	inflight_entry *e = arg;
	struct wstate *ws = e->user;
	e->txn = NULL;
	int a = defence_deadline(ws->def, &ws->dtx[inflight_index(ws->inf, e)], mono_us());
	act(ws, e, NULL, a, UP_NEVER);
}

static const up_handler up_handlers = {.reply = on_upstream_reply, .end = on_upstream_end};

/* ---- DNSSEC key fetches (validator.h): DS and DNSKEY asked with CD and DO ---- */

static void on_vfetch_reply(void *arg, up_txn *t, const up_reply *r)
{
	struct vfetch *f = arg;
	struct wstate *ws = f->ws;
	if (upstream_rcode_failover(r->rcode) && upstream_txn_next(t) == 0)
		return;
	if (validator_fetch_reply(ws->val, f->id, r->wire, r->len) == VAL_FETCH_DONE) {
		upstream_txn_finish(t, (int)r->seq);
		return;
	}
	/* not usable (unsigned, forged, insecure): listen a little longer */
	upstream_txn_hold(t, r->t_us + 500000u, true);
}

static void on_vfetch_end(void *arg, up_txn *t, int reason)
{
	(void)t;
	(void)reason;
	struct vfetch *f = arg;
	validator_fetch_end(f->ws->val, f->id);
}

static const up_handler vfetch_handlers = {.reply = on_vfetch_reply, .end = on_vfetch_end};

static int val_fetch(void *arg, unsigned id, const uint8_t *qname, uint16_t qtype)
{
	struct wstate *ws = arg;
	if (!ws->up || id >= VAL_MAX_FETCH)
		return DNS_EINVAL;
	const struct live *lv = live_now(ws->app);
	route_match rm;
	uint16_t cand[ROUTE_MAX_GROUP];
	route_lookup(lv->rt, qname, &rm);
	map_servers(lv, &rm, cand);
	if (rm.local || rm.n == 0)
		return DNS_ENOTFOUND;
	ws->vf[id] = (struct vfetch){ws, id};
	up_query q = {.qname = qname, .qtype = qtype, .qclass = CLASS_IN,
		      .hdr_flags = (uint16_t)(MSG_RD | MSG_CD), .edns_flags = EDNS_DO,
		      .servers = rm.servers, .nservers = rm.n};
	up_txn *t;
	return upstream_query(ws->up, &q, &vfetch_handlers, &ws->vf[id], &t);
}

static void on_val_timer(server *s, unsigned worker, server_timer *tm, void *arg)
{
	(void)worker;
	(void)tm;
	struct wstate *ws = arg;
	if (!server_stopping(s) && ws->val && ws->up)
		validator_prime(ws->val);
}

/* ---- harmless probes: the defence's baselines ---- */

static void on_probe_reply(void *arg, up_txn *t, const up_reply *r)
{
	struct wstate *ws = arg;
	defence_probe_reply(ws->def, r);
	upstream_txn_finish(t, (int)r->seq);
}

static void on_probe_end(void *arg, up_txn *t, int reason)
{
	(void)arg;
	(void)t;
	(void)reason;
}

static const up_handler probe_handlers = {.reply = on_probe_reply, .end = on_probe_end};

static void on_probe_timer(server *s, unsigned worker, server_timer *tm, void *arg)
{
	struct wstate *ws = arg;
	struct app *app = ws->app;
	if (server_stopping(s) || !ws->pup)
		return;
	unsigned n = ws->probed ? 1 : 3;
	ws->probed = true;
	for (unsigned i = 0; i < ws->nsrv; i++) {
		uint16_t srv = (uint16_t)i;
		up_query q = {.qname = app->cfg->probe_name, .qtype = RR_NS, .qclass = CLASS_IN,
			      .hdr_flags = MSG_RD, .servers = &srv, .nservers = 1};
		for (unsigned k = 0; k < n; k++) {
			up_txn *t;
			if (upstream_query(ws->pup, &q, &probe_handlers, ws, &t) == 0)
				INC(app->wst[worker].probes);
		}
	}
	if (app->cfg->probe_interval_s)
		server_timer_add(s, worker, tm, (uint64_t)app->cfg->probe_interval_s * 1000u, on_probe_timer, ws);
}

/* RFC 8767 client response timer: waiters still waiting get stale data if
 * there is some; the transaction goes on and refreshes the cache. */
static void on_client_timer(server *s, unsigned worker, server_timer *t, void *arg)
{
	(void)s;
	(void)worker;
	(void)t;
	inflight_entry *e = arg;
	struct wstate *ws = e->user;
	struct app *app = ws->app;
	inflight_waiter *w = inflight_take(e);
	while (w) {
		struct pending *p = (struct pending *)w;
		w = w->next;
		msg m;
		int n = 0;
		if (parse_pending(p, &m) == 0)
			n = cache_lookup(app->cache, &m, now_s(), CACHE_ALLOW_STALE, p->limit, ws->out,
					 sizeof(ws->out), NULL);
		if (n > 0) {
			INC(app->wst[ws->worker].stale);
			e->flags |= F_DETACHED;
			send_answer(ws, p, ws->out, n);
		} else {
			inflight_join(ws->inf, e, &p->link);
		}
	}
}

static bool all_down(struct wstate *ws, const uint16_t *cand, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		up_stats st;
		if (upstream_stats(ws->up, cand[i], &st) < 0 || !st.down)
			return false;
	}
	return n > 0;
}

/* A deferred query (or prefetch) arrives at the worker owning its key. */
static void on_query(server *s, unsigned worker, void *arg)
{
	struct pending *p = arg;
	if (server_stopping(s)) {
		free(p); /* UDP: nothing is sent; TCP: the connection closes */
		return;
	}
	struct app *app = p->app;
	struct wstate *ws = app->ws[worker];
	struct wstats *st = &app->wst[worker];
	msg m;
	if (!ws) { /* this worker failed to start: the server is stopping */
		free(p);
		return;
	}
	if (parse_pending(p, &m) < 0) {
		send_answer(ws, p, NULL, 0);
		return;
	}
	cache_key k;
	cache_key_from_msg(&k, &m);
	inflight_entry *e = inflight_find(ws->inf, &k);
	if (e) {
		if (p->prefetch) {
			free(p);
		} else if (e->flags & F_DETACHED) {
			answer_failed(ws, p, &m);
		} else if (inflight_join(ws->inf, e, &p->link) < 0) {
			INC(st->full);
			reply_error(ws, p, &m, RCODE_SERVFAIL, FRONTEND_EDE_NOT_READY);
		} else {
			INC(st->coalesced);
		}
		return;
	}
	if (!p->prefetch) {
		/* filled since the handler's miss? (a question that just finished) */
		int n = cache_lookup(app->cache, &m, now_s(), 0, p->limit, ws->out, sizeof(ws->out), NULL);
		if (n > 0) {
			INC(st->late_cache_hits);
			send_answer(ws, p, ws->out, n);
			return;
		}
	}
	const struct live *lv = live_now(app);
	route_match rm;
	uint16_t cand[ROUTE_MAX_GROUP];
	route_lookup(lv->rt, k.qname, &rm);
	map_servers(lv, &rm, cand);
	if (rm.local || rm.n == 0) {
		if (p->prefetch) {
			free(p);
			return;
		}
		INC(*(rm.local ? &st->local : &st->noroute));
		reply_error(ws, p, &m, rm.local ? RCODE_NXDOMAIN : RCODE_REFUSED, -1);
		return;
	}
	e = inflight_add(ws->inf, &k);
	if (!e) {
		INC(st->full);
		if (p->prefetch)
			free(p);
		else
			answer_failed(ws, p, &m);
		return;
	}
	e->user = ws;
	e->started_us = mono_us();
	up_query uq = {
		.qname = e->qname,
		.qtype = k.qtype,
		.qclass = k.qclass,
		.hdr_flags = (uint16_t)(MSG_RD | (k.cd_bit ? MSG_CD : 0)),
		/* DO for names under a trust anchor: RRSIGs come back to validate
		 * (the cache strips them again for clients without DO) */
		.edns_flags = (uint16_t)(k.do_bit || (ws->val && validator_covers(ws->val, e->qname)) ? EDNS_DO : 0),
		.servers = rm.servers,
		.nservers = rm.n,
	};
	bool down = all_down(ws, rm.servers, rm.n);
	defence_txn_begin(ws->def, &ws->dtx[inflight_index(ws->inf, e)], e->qname, e->qtype);
	uq.flags = defence_query_flags(ws->def, e->qname, rm.servers, rm.n, mono_us());
	up_txn *t;
	if (upstream_query(ws->up, &uq, &up_handlers, e, &t) < 0) {
		defence_txn_end(ws->def, &ws->dtx[inflight_index(ws->inf, e)]);
		inflight_remove(ws->inf, e);
		INC(st->full);
		if (p->prefetch)
			free(p);
		else
			answer_failed(ws, p, &m);
		return;
	}
	INC(st->txns);
	e->txn = t;
	if (p->prefetch) {
		free(p);
		return;
	}
	if (down) {
		/* every candidate is down: do not make the client wait; the
		 * transaction still runs (a probe) and refreshes the cache */
		e->flags |= F_DETACHED;
		INC(st->detached);
		answer_failed(ws, p, &m);
		return;
	}
	inflight_join(ws->inf, e, &p->link);
	if (app->cfg->stale_timeout_ms && app->cfg->cache.stale_window)
		server_timer_add(s, worker, &ws->ctimers[inflight_index(ws->inf, e)], app->cfg->stale_timeout_ms,
				 on_client_timer, e);
}

/* ---- the upstream module's event loop: the worker's event thread ---- */

static void on_fd(server *s, unsigned worker, int fd, uint32_t events, void *arg)
{
	(void)s;
	(void)worker;
	struct wstate *ws = arg;
	if (fd < 0 || (size_t)fd >= ws->nfds || !ws->fds[fd].used)
		return;
	unsigned ev = 0;
	if (events & EPOLLIN)
		ev |= UP_EV_READ;
	if (events & EPOLLOUT)
		ev |= UP_EV_WRITE;
	if (events & (EPOLLERR | EPOLLHUP))
		ev |= UP_EV_READ | UP_EV_WRITE;
	ws->fds[fd].cb(ws->fds[fd].arg, fd, ev);
}

static int l_watch(void *ctx, int fd, unsigned events, up_fd_cb *cb, void *arg)
{
	struct wstate *ws = ctx;
	if (fd < 0)
		return DNS_EINVAL;
	if ((size_t)fd >= ws->nfds) {
		size_t n = ws->nfds ? ws->nfds : 256;
		while (n <= (size_t)fd)
			n *= 2;
		struct fdw *f = realloc(ws->fds, n * sizeof(*f));
		if (!f)
			return DNS_ENOMEM;
		memset(f + ws->nfds, 0, (n - ws->nfds) * sizeof(*f));
		ws->fds = f;
		ws->nfds = n;
	}
	uint32_t ep = ((events & UP_EV_READ) ? EPOLLIN : 0) | ((events & UP_EV_WRITE) ? EPOLLOUT : 0);
	struct fdw *w = &ws->fds[fd];
	if (w->used)
		return server_watch_mod(ws->srv, ws->worker, w->id, ep);
	int id = server_watch(ws->srv, ws->worker, fd, ep, on_fd, ws);
	if (id < 0)
		return id;
	w->id = id;
	w->used = true;
	w->cb = cb;
	w->arg = arg;
	return 0;
}

static void l_unwatch(void *ctx, int fd)
{
	struct wstate *ws = ctx;
	if (fd < 0 || (size_t)fd >= ws->nfds || !ws->fds[fd].used)
		return;
	server_unwatch(ws->srv, ws->worker, ws->fds[fd].id);
	ws->fds[fd].used = false;
}

static uint64_t l_now(void *ctx)
{
	(void)ctx;
	return mono_us();
}

static void on_up_timer(server *s, unsigned worker, server_timer *t, void *arg)
{
	(void)s;
	(void)worker;
	(void)t;
	struct wstate *ws = arg;
	upstream_expire(ws->up, mono_us());
}

static void on_pup_timer(server *s, unsigned worker, server_timer *t, void *arg)
{
	(void)s;
	(void)worker;
	(void)t;
	struct wstate *ws = arg;
	if (ws->pup)
		upstream_expire(ws->pup, mono_us());
}

static void l_set_pup_timer(void *ctx, uint64_t when)
{
	struct wstate *ws = ctx;
	if (when == UP_NEVER) {
		server_timer_cancel(ws->srv, &ws->pup_timer);
		return;
	}
	uint64_t now = mono_us();
	uint64_t ms = when > now ? (when - now + 999) / 1000 : 0;
	server_timer_add(ws->srv, ws->worker, &ws->pup_timer, ms, on_pup_timer, ws);
}

static void l_set_timer(void *ctx, uint64_t when)
{
	struct wstate *ws = ctx;
	if (when == UP_NEVER) {
		server_timer_cancel(ws->srv, &ws->up_timer);
		return;
	}
	uint64_t now = mono_us();
	uint64_t ms = when > now ? (when - now + 999) / 1000 : 0;
	server_timer_add(ws->srv, ws->worker, &ws->up_timer, ms, on_up_timer, ws);
}

/* ---- workers ---- */

static void free_wstate(struct wstate *ws)
{
	if (!ws)
		return;
	upstream_free(ws->up);
	upstream_free(ws->pup);
	inflight_free(ws->inf);
	defence_free(ws->def);
	validator_free(ws->val);
	free(ws->dtx);
	free(ws->ctimers);
	free(ws->fds);
	free(ws->rrs);
	free(ws);
}

static int worker_start(void *appv, server *s, unsigned worker, void *ctx)
{
	(void)ctx;
	struct app *app = appv;
	const resolve_config *cfg = app->cfg;
	struct wstate *ws = calloc(1, sizeof(*ws));
	if (!ws)
		return DNS_ENOMEM;
	ws->app = app;
	ws->worker = worker;
	ws->srv = s;
	pthread_mutex_lock(&app->mu); /* a reload may be adding upstreams */
	ws->nsrv = app->nservers;
	pthread_mutex_unlock(&app->mu);
	ws->inf = inflight_new(cfg->max_inflight, MAX_WAITERS);
	ws->ctimers = calloc(cfg->max_inflight, sizeof(*ws->ctimers));
	ws->rrs = malloc(MSG_MAXRRS * sizeof(*ws->rrs));
	ws->dtx = calloc(cfg->max_inflight, sizeof(*ws->dtx));
	if (cfg->dnssec && cfg->anchors) {
		val_config vc = {.anchors = cfg->anchors, .nservers = ws->nsrv, .fetch = val_fetch, .fetch_arg = ws,
				 .seen = app->seen};
		if (!(ws->val = validator_new(&vc))) {
			free_wstate(ws);
			return DNS_ENOMEM;
		}
	}
	def_config dc = {
		.mode = cfg->defence ? DEF_ON : DEF_OFF,
		.list = app->bogus_fw,
		.servers = app->servers,
		.nservers = ws->nsrv,
		.hold_max_us = cfg->hold_max_ms * 1000u,
		.log = app->vlog,
		.val = ws->val,
	};
	ws->def = defence_new(&dc);
	up_config uc = {
		.servers = app->servers,
		.nservers = ws->nsrv,
		.route = cfg->rt, /* which are TLS, and how to verify them (copied) */
		.slots = cfg->max_inflight,
		.attempts = cfg->attempts,
		.rto_init_us = cfg->rto_ms * 1000u,
		.edns_udp = cfg->max_udp,
		.use_0x20 = cfg->use_0x20,
		.no_cookies = cfg->no_cookies,
	};
	up_loop lp = {.ctx = ws, .watch = l_watch, .unwatch = l_unwatch, .now_us = l_now, .set_timer = l_set_timer};
	if (ws->inf && ws->ctimers && ws->rrs && ws->dtx && ws->def)
		ws->up = upstream_new(&uc, &lp);
	if (ws->up && cfg->defence) {
		up_config pc = uc;
		pc.slots = 4 * ws->nsrv + 64; /* + reloads' new upstreams */
		pc.attempts = 2;
		up_loop pl = lp;
		pl.set_timer = l_set_pup_timer;
		if (!(ws->pup = upstream_new(&pc, &pl))) {
			upstream_free(ws->up);
			ws->up = NULL;
		}
	}
	if (!ws->up) {
		free_wstate(ws);
		return DNS_ENOMEM;
	}
	app->ws[worker] = ws;
	if (cfg->defence)
		server_timer_add(s, worker, &ws->probe_timer, 0, on_probe_timer, ws);
	if (ws->val) /* learn the anchors' keys before the first question */
		server_timer_add(s, worker, &ws->val_timer, 0, on_val_timer, ws);
	return 0;
}

static void snapshot_upstreams(struct app *app, struct wstate *ws)
{
	pthread_mutex_lock(&app->mu);
	for (unsigned i = 0; i < ws->nsrv; i++) {
		size_t k = (size_t)ws->worker * UP_MAX_SERVERS + i;
		upstream_stats(ws->up, i, &app->snap[k]);
		memset(&app->vsnap[k], 0, sizeof(app->vsnap[k]));
		verdict_add(&app->vsnap[k], defence_counters(ws->def, i));
	}
	if (ws->val) {
		const val_counters *vc = validator_counters(ws->val);
		struct vsum *d = &app->dsnap[ws->worker];
#define VC(f) d->f = atomic_load_explicit(&vc->f, memory_order_relaxed)
		VC(checked); VC(secure); VC(bogus); VC(unsigned_seen); VC(insecure); VC(pending);
		VC(wildcard); VC(limited); VC(fetches); VC(fetch_ok); VC(fetch_failed); VC(zones_secure);
#undef VC
	}
	app->snap_done++;
	pthread_cond_broadcast(&app->cv);
	pthread_mutex_unlock(&app->mu);
}

static void worker_stop(void *appv, server *s, unsigned worker, void *ctx)
{
	(void)ctx;
	struct app *app = appv;
	struct wstate *ws = app->ws[worker];
	if (!ws)
		return;
	snapshot_upstreams(app, ws);
	upstream_free(ws->up); /* no callbacks */
	ws->up = NULL;
	upstream_free(ws->pup);
	ws->pup = NULL;
	for (unsigned i = 0; i < inflight_cap(ws->inf); i++) {
		inflight_entry *e = inflight_at(ws->inf, i);
		if (!e)
			continue;
		inflight_waiter *w = inflight_take(e);
		while (w) {
			struct pending *p = (struct pending *)w;
			w = w->next;
			send_answer(ws, p, NULL, 0);
		}
		entry_done(ws, e);
	}
	server_timer_cancel(s, &ws->up_timer);
	server_timer_cancel(s, &ws->probe_timer);
	server_timer_cancel(s, &ws->pup_timer);
	server_timer_cancel(s, &ws->val_timer);
	pthread_mutex_lock(&app->mu);
	for (unsigned i = 0; i < ws->nsrv; i++) { /* the judging above may have counted more */
		size_t k = (size_t)ws->worker * UP_MAX_SERVERS + i;
		memset(&app->vsnap[k], 0, sizeof(app->vsnap[k]));
		verdict_add(&app->vsnap[k], defence_counters(ws->def, i));
	}
	if (app->learned && bogus_merge(app->learned, defence_learned(ws->def)) < 0)
		log_warn("out of memory merging learnt forged addresses");
	pthread_mutex_unlock(&app->mu);
	app->ws[worker] = NULL;
	free_wstate(ws);
}

static int ctx_new(void *appv, const server_thread *t, void **ctx)
{
	struct app *app = appv;
	if (t->index >= app->nctx)
		return DNS_EINVAL;
	app->ts[t->index].app = app;
	*ctx = &app->ts[t->index];
	return 0;
}

/* ---- counters: SIGUSR1 and exit ---- */

static void on_snapshot(server *s, unsigned worker, void *arg)
{
	struct app *app = arg;
	if (server_stopping(s) || !app->ws[worker])
		return;
	snapshot_upstreams(app, app->ws[worker]);
}

static void report(struct app *app)
{
	FILE *f = stderr;
	unsigned long long c[24] = {0};
	for (unsigned i = 0; i < app->nctx; i++) {
		struct tstats *t = &app->ts[i];
		c[0] += LOAD(t->fe.queries);
		c[1] += LOAD(t->hits);
		c[2] += LOAD(t->deferred);
		c[3] += LOAD(t->fe.refused_acl);
		c[4] += LOAD(t->fe.formerr);
		c[5] += LOAD(t->fe.notimp);
		c[6] += LOAD(t->fe.badvers);
		c[7] += LOAD(t->fe.refused_class);
		c[8] += LOAD(t->fe.any);
		c[9] += LOAD(t->fe.dropped);
		c[10] += LOAD(t->post_full);
		c[11] += LOAD(t->prefetch_posts);
		c[12] += LOAD(t->servfail);
	}
	for (unsigned w = 0; w < app->nworkers; w++) {
		struct wstats *t = &app->wst[w];
		c[13] += LOAD(t->txns);
		c[14] += LOAD(t->coalesced);
		c[15] += LOAD(t->upstream_answers);
		c[16] += LOAD(t->relayed);
		c[17] += LOAD(t->stale);
		c[18] += LOAD(t->servfail);
		c[19] += LOAD(t->local) + LOAD(t->noroute);
		c[20] += LOAD(t->full);
		c[21] += LOAD(t->failovers);
		c[22] += LOAD(t->detached);
		c[23] += LOAD(t->late_cache_hits);
	}
	fprintf(f, "resolve: clients: queries=%llu cache_hits=%llu deferred=%llu coalesced=%llu "
		   "answered_upstream=%llu relayed=%llu late_cache_hits=%llu stale=%llu servfail=%llu "
		   "refused_acl=%llu formerr=%llu notimp=%llu badvers=%llu refused_class=%llu any=%llu "
		   "dropped=%llu local_or_noroute=%llu overload=%llu\n",
		c[0], c[1], c[2], c[14], c[15], c[16], c[23], c[17], c[18] + c[12], c[3], c[4], c[5], c[6],
		c[7], c[8], c[9], c[19], c[10] + c[20]);
	unsigned long long esc = 0, probes = 0;
	for (unsigned w = 0; w < app->nworkers; w++) {
		esc += LOAD(app->wst[w].escalations);
		probes += LOAD(app->wst[w].probes);
	}
	fprintf(f, "resolve: upstream: transactions=%llu failovers=%llu prefetches=%llu all_down_answers=%llu "
		   "tcp_escalations=%llu probes=%llu\n",
		c[13], c[21], c[11], c[22], esc, probes);
	cache_stats cs;
	cache_stats_get(app->cache, &cs);
	fprintf(f, "resolve: cache: entries=%llu bytes=%llu budget=%llu hits=%llu stale_hits=%llu misses=%llu "
		   "stores=%llu evictions=%llu expired=%llu truncated=%llu refused=",
		(unsigned long long)cs.entries, (unsigned long long)cs.bytes, (unsigned long long)cs.budget,
		(unsigned long long)cs.hits, (unsigned long long)cs.stale_hits, (unsigned long long)cs.misses,
		(unsigned long long)cs.stores, (unsigned long long)cs.evictions, (unsigned long long)cs.expired,
		(unsigned long long)cs.truncated);
	for (int r = 1; r < CACHE_R_COUNT; r++)
		fprintf(f, "%s%s:%llu", r > 1 ? "," : "", cache_reason_name(r), (unsigned long long)cs.refused[r]);
	fprintf(f, "\n");
	pthread_mutex_lock(&app->mu);
	for (unsigned i = 0; i < app->nservers; i++) {
		up_stats sum;
		memset(&sum, 0, sizeof(sum));
		bool down = false;
		uint32_t srtt = 0;
		for (unsigned w = 0; w < app->nworkers; w++) {
			const up_stats *u = &app->snap[(size_t)w * UP_MAX_SERVERS + i];
			sum.queries += u->queries;
			sum.queries_tcp += u->queries_tcp;
			sum.replies += u->replies;
			sum.accepted += u->accepted;
			sum.timeouts += u->timeouts;
			sum.errors += u->errors;
			sum.truncated += u->truncated;
			sum.servfail += u->servfail;
			sum.refused += u->refused;
			sum.badcookie += u->badcookie;
			for (unsigned k = 0; k < UP_MIS_COUNT; k++)
				sum.mismatch[k] += u->mismatch[k];
			down |= u->down;
			if (u->srtt_us && (!srtt || u->srtt_us < srtt))
				srtt = u->srtt_us;
		}
		char a[ADDR_STRLEN];
		unsigned long long mis = 0;
		for (unsigned k = 0; k < UP_MIS_COUNT; k++)
			mis += sum.mismatch[k];
		fprintf(f, "resolve: upstream %s: queries=%llu tcp=%llu replies=%llu accepted=%llu timeouts=%llu "
			   "errors=%llu truncated=%llu servfail=%llu refused=%llu badcookie=%llu srtt_us=%u down=%d "
			   "mismatches=%llu mismatch=",
			addr_str(&app->servers[i], a), (unsigned long long)sum.queries,
			(unsigned long long)sum.queries_tcp, (unsigned long long)sum.replies,
			(unsigned long long)sum.accepted, (unsigned long long)sum.timeouts,
			(unsigned long long)sum.errors, (unsigned long long)sum.truncated,
			(unsigned long long)sum.servfail, (unsigned long long)sum.refused,
			(unsigned long long)sum.badcookie, srtt, down, mis);
		for (unsigned k = 0; k < UP_MIS_COUNT; k++)
			fprintf(f, "%s%s:%llu", k ? "," : "", upstream_mismatch_name(k),
				(unsigned long long)sum.mismatch[k]);
		fprintf(f, "\n");
	}
	verdict_totals all;
	memset(&all, 0, sizeof(all));
	for (unsigned i = 0; i < app->nservers; i++) {
		verdict_totals vt;
		memset(&vt, 0, sizeof(vt));
		for (unsigned w = 0; w < app->nworkers; w++) {
			const verdict_totals *v = &app->vsnap[(size_t)w * UP_MAX_SERVERS + i];
			vt.replies += v->replies;
			vt.accepted += v->accepted;
			vt.chosen += v->chosen;
			vt.held += v->held;
			vt.forged += v->forged;
			vt.listed += v->listed;
			vt.superseded += v->superseded;
			vt.conflicts += v->conflicts;
			vt.escalations += v->escalations;
			vt.tcp_first += v->tcp_first;
			vt.failed += v->failed;
			vt.learned += v->learned;
		}
		all.forged += vt.forged;
		all.escalations += vt.escalations;
		char a[ADDR_STRLEN], line[512];
		fprintf(f, "resolve: defence upstream %s: %s\n", addr_str(&app->servers[i], a),
			verdict_totals_str(&vt, line, sizeof(line)));
	}
	if (app->cfg->dnssec) {
		struct vsum t = {0};
		for (unsigned w = 0; w < app->nworkers; w++) {
			const struct vsum *d = &app->dsnap[w];
			t.checked += d->checked;
			t.secure += d->secure;
			t.bogus += d->bogus;
			t.unsigned_seen += d->unsigned_seen;
			t.insecure += d->insecure;
			t.pending += d->pending;
			t.wildcard += d->wildcard;
			t.limited += d->limited;
			t.fetches += d->fetches;
			t.fetch_ok += d->fetch_ok;
			t.fetch_failed += d->fetch_failed;
			t.zones_secure += d->zones_secure;
		}
		fprintf(f, "resolve: dnssec: checked=%llu secure=%llu bogus=%llu unsigned_seen_signed=%llu insecure=%llu "
			   "keys_pending=%llu wildcard=%llu rate_limited=%llu fetches=%llu fetch_ok=%llu "
			   "fetch_failed=%llu zones_secure=%llu\n",
			(unsigned long long)t.checked, (unsigned long long)t.secure, (unsigned long long)t.bogus,
			(unsigned long long)t.unsigned_seen, (unsigned long long)t.insecure,
			(unsigned long long)t.pending, (unsigned long long)t.wildcard, (unsigned long long)t.limited,
			(unsigned long long)t.fetches, (unsigned long long)t.fetch_ok,
			(unsigned long long)t.fetch_failed, (unsigned long long)t.zones_secure);
	}
	fprintf(f, "resolve: defence: %s, bogus list %zu entries, forged=%llu escalations=%llu learned_addresses=%zu\n",
		app->cfg->defence ? "on" : "off", bogus_count(app->bogus_fw), (unsigned long long)all.forged,
		(unsigned long long)all.escalations, bogus_count(app->learned));
	{ /* (under mu: a reload frees old snapshots under it) */
		const struct live *lv = atomic_load_explicit(&app->live, memory_order_acquire);
		fprintf(f, "resolve: config: reloads=%u routes=%zu allow=%u\n",
			atomic_load_explicit(&app->reloads, memory_order_relaxed), route_ndomains(lv->rt), lv->allow.n);
	}
	pthread_mutex_unlock(&app->mu);
	server_stats ss;
	server_read_stats(app->srv, &ss);
	fprintf(f, "resolve: server: queries=%llu udp=%llu tcp=%llu responses=%llu late_replies=%llu "
		   "late_dropped=%llu send_errors=%llu post_full=%llu tcp_accepted=%llu\n",
		(unsigned long long)ss.queries, (unsigned long long)ss.udp_queries,
		(unsigned long long)ss.tcp_queries, (unsigned long long)ss.responses,
		(unsigned long long)ss.late_replies, (unsigned long long)ss.late_dropped,
		(unsigned long long)ss.send_errors, (unsigned long long)ss.post_full,
		(unsigned long long)ss.tcp_accepted);
	fflush(f);
}

static void *stats_thread(void *arg)
{
	struct app *app = arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		int sig;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (atomic_load(&app->quit))
			break;
		pthread_mutex_lock(&app->mu);
		app->snap_done = 0;
		pthread_mutex_unlock(&app->mu);
		unsigned posted = 0;
		for (unsigned w = 0; w < app->nworkers; w++)
			posted += server_post(app->srv, w, on_snapshot, app) == 0;
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 1;
		pthread_mutex_lock(&app->mu);
		while (app->snap_done < posted)
			if (pthread_cond_timedwait(&app->cv, &app->mu, &dl) == ETIMEDOUT)
				break;
		pthread_mutex_unlock(&app->mu);
		report(app);
	}
	return NULL;
}

/* ---- reload (SIGHUP, control thread) ---- */

/* Frees a snapshot once no thread can read it. The start one is static
 * and its configuration is app->cfg (still read for the fixed options):
 * only its route table and bogus list go. */
static void live_free(struct live *lv)
{
	if (!lv)
		return;
	if (!lv->owned) {
		route_free(lv->cfg->rt);
		lv->cfg->rt = NULL;
		bogus_free(lv->cfg->bogus_list);
		lv->cfg->bogus_list = NULL;
		return;
	}
	config_free(lv->cfg);
	free(lv->cfg);
	free(lv);
}

/* A grace-period barrier: freed by whoever drops the last reference (the
 * waiting control thread or the last worker to run it). */
struct barrier {
	_Atomic unsigned left, refs;
};

static void barrier_put(struct barrier *b)
{
	if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
		free(b);
}

static void on_barrier(server *s, unsigned worker, void *arg)
{
	(void)s;
	(void)worker;
	struct barrier *b = arg;
	atomic_fetch_sub_explicit(&b->left, 1, memory_order_acq_rel);
	barrier_put(b);
}

/* Posts fn(b) to every worker's event thread (fn ends with on_barrier(b));
 * true once all ran it within ms. b (malloc'd, first in whatever holds it)
 * is freed by the last of us and the workers to let go of it. */
static bool workers_run(struct app *app, server_post_fn fn, struct barrier *b, unsigned ms)
{
	atomic_init(&b->left, app->nworkers);
	atomic_init(&b->refs, app->nworkers + 1);
	unsigned posted = 0;
	for (unsigned w = 0; w < app->nworkers; w++) {
		int rc = DNS_ESPACE;
		for (int tries = 0; tries < 100 && rc == DNS_ESPACE; tries++) {
			if ((rc = server_post(app->srv, w, fn, b)) == DNS_ESPACE)
				nanosleep(&(struct timespec){0, 1000000}, NULL); /* queue full: 1 ms */
		}
		if (rc == 0)
			posted++;
	}
	/* workers never posted to will not run it: drop their references */
	for (unsigned w = posted; w < app->nworkers; w++)
		barrier_put(b);
	bool done = false;
	for (unsigned i = 0; i < ms * 10 && posted == app->nworkers; i++) {
		if (atomic_load_explicit(&b->left, memory_order_acquire) == 0) {
			done = true;
			break;
		}
		nanosleep(&(struct timespec){0, 100000}, NULL);
	}
	barrier_put(b);
	return done;
}

/* True once every worker ran a function posted now, i.e. left whatever
 * callback it was in (ms: how long to wait). */
static bool workers_quiesce(struct app *app, unsigned ms)
{
	struct barrier *b = malloc(sizeof(*b));
	return b && workers_run(app, on_barrier, b, ms);
}

/* Waits until no handler thread still reads a snapshot older than gen. */
static void handlers_quiesce(struct app *app, uint64_t gen)
{
	for (unsigned i = 0; i < app->nctx; i++)
		for (;;) {
			uint64_t a = atomic_load_explicit(&app->ts[i].active, memory_order_seq_cst);
			if (a == 0 || a >= gen)
				break;
			nanosleep(&(struct timespec){0, 100000}, NULL);
		}
}

/* A reload's new upstreams, added by every worker (its event thread) to its
 * upstream, probe, defence and validator state: app->servers/ups[0..upto). */
struct addjob {
	struct barrier b; /* first: on_barrier's argument */
	struct app *app;
	unsigned upto;
};
_Static_assert(offsetof(struct addjob, b) == 0, "barrier_put frees the job through its barrier");

static void on_add_servers(server *s, unsigned worker, void *arg)
{
	struct addjob *j = arg;
	struct app *app = j->app;
	struct wstate *ws = app->ws[worker];
	while (ws && ws->nsrv < j->upto) {
		const route_upstream *u = &app->ups[ws->nsrv];
		if (upstream_add_server(ws->up, u, app->tls_ca, app->tls_insecure) < 0 ||
		    (ws->pup && upstream_add_server(ws->pup, u, app->tls_ca, app->tls_insecure) < 0) ||
		    defence_add_server(ws->def) < 0 || (ws->val && validator_add_server(ws->val) < 0))
			fatal("worker %u: cannot add upstream %u", worker, ws->nsrv); /* checked: < UP_MAX_SERVERS */
		ws->nsrv++;
	}
	on_barrier(s, worker, &j->b);
}

/* Appends fresh[0..n) to the running upstreams and has every worker add
 * them. True once all did (within 2 s); false leaves them appended (a late
 * worker adds them when it gets to it; routes naming them are not used
 * until a reload succeeds). */
static bool add_servers(struct app *app, const route_upstream *fresh, unsigned n)
{
	struct addjob *j = malloc(sizeof(*j));
	if (!j)
		return false;
	pthread_mutex_lock(&app->mu); /* report() reads nservers under it */
	for (unsigned i = 0; i < n; i++) {
		app->ups[app->nservers + i] = fresh[i];
		app->servers[app->nservers + i] = fresh[i].addr;
	}
	app->nservers += n;
	pthread_mutex_unlock(&app->mu);
	for (unsigned i = app->nservers - n; i < app->nservers; i++) {
		char u[ROUTE_UPSTREAM_STRLEN];
		log_info("upstream %u: %s (added by reload)", i, route_upstream_str(&app->ups[i], u, sizeof(u)));
	}
	j->app = app;
	j->upto = app->nservers;
	return workers_run(app, on_add_servers, &j->b, 2000);
}

static void reload(void *appv)
{
	struct app *app = appv;
	struct live *old = atomic_load_explicit(&app->live, memory_order_acquire);
	const resolve_config *run = old->cfg;
	char err[CONFIG_ERRLEN];
	struct live *lv = calloc(1, sizeof(*lv));
	resolve_config *nc = calloc(1, sizeof(*nc));
	if (!lv || !nc || config_init(nc) < 0) {
		log_err("reload failed: out of memory; keeping the running configuration");
		free(lv);
		free(nc);
		return;
	}
	lv->cfg = nc;
	lv->owned = true;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (config_parse_args(nc, app->argc, app->argv, err, sizeof(err)) < 0 ||
	    config_finish(nc, err, sizeof(err)) < 0) {
		log_err("reload failed: %s; keeping the running configuration", err);
		live_free(lv);
		return;
	}
	/* upstreams not running yet: every worker adds them first */
	route_upstream fresh[ROUTE_MAX_SERVERS];
	unsigned nfresh = reload_new_servers(app->ups, app->nservers, nc->rt, fresh, ROUTE_MAX_SERVERS);
	if (nfresh > ROUTE_MAX_SERVERS || app->nservers + nfresh > UP_MAX_SERVERS) {
		log_err("reload refused: %u new upstreams would make more than %d; keeping the running configuration",
			nfresh, UP_MAX_SERVERS);
		live_free(lv);
		return;
	}
	for (unsigned i = 0; i < nfresh; i++) /* a TLS context the workers can make */
		if (fresh[i].transport == ROUTE_TLS) {
			char terr[TLS_ERRLEN + 64];
			tls_ctx *t = tls_ctx_new(app->tls_ca, app->tls_insecure, terr, sizeof(terr));
			if (!t) {
				log_err("reload refused: DNS over TLS: %s; keeping the running configuration", terr);
				live_free(lv);
				return;
			}
			tls_ctx_free(t);
			break;
		}
	if (nfresh && !add_servers(app, fresh, nfresh)) {
		log_err("reload refused: a worker did not take the %u new upstream%s within 2 s; keeping the running "
			"configuration", nfresh, nfresh == 1 ? "" : "s");
		live_free(lv);
		return;
	}
	if (reload_map_servers(app->ups, app->nservers, nc->rt, lv->map, &lv->identity, err, sizeof(err)) < 0) {
		log_err("reload refused: %s; keeping the running configuration", err);
		live_free(lv);
		return;
	}
	lv->rt = nc->rt;
	lv->allow = nc->allow;
	char fixed[512];
	if (reload_fixed(app->cfg, nc, fixed, sizeof(fixed)))
		log_warn("reload: %s changed; restart needed (kept as running)", fixed);
	/* the verdict log: a new descriptor before anything is published */
	const char *vlog_note = "";
	if (app->cfg->log_verdicts && nc->log_verdicts && strcmp(nc->log_verdicts, "-") &&
	    strcmp(app->cfg->log_verdicts, "-")) {
		char verr[300];
		if (verdict_log_reopen(app->vlog, nc->log_verdicts, verr, sizeof(verr)) < 0)
			log_err("reload: log-verdicts: cannot reopen %s (still writing to the old file)", verr);
		else
			vlog_note = ", log-verdicts reopened";
	}
	if (!str_same(app->learned_path, nc->learned_bogus)) {
		char *d = nc->learned_bogus ? strdup(nc->learned_bogus) : NULL;
		if (nc->learned_bogus && !d) {
			log_err("reload: out of memory (learned-bogus path kept)");
		} else {
			free(app->learned_path);
			app->learned_path = d;
		}
	}
	/* publish: route table and allow list, then the bogus list */
	size_t old_routes = route_ndomains(run->rt), old_bogus = bogus_count(run->bogus_list);
	unsigned old_allow = old->allow.n;
	bool allow_same = reload_acl_equal(&old->allow, &lv->allow);
	atomic_store_explicit(&app->live, lv, memory_order_seq_cst);
	bogus_forward(app->bogus_fw, nc->bogus_list);
	uint64_t gen = atomic_fetch_add_explicit(&app->gen, 1, memory_order_seq_cst) + 1;
	unsigned nr = atomic_fetch_add_explicit(&app->reloads, 1, memory_order_relaxed) + 1;
	/* grace period: handler slots, then every worker's event thread */
	handlers_quiesce(app, gen);
	old->next = app->retired;
	app->retired = old;
	bool freed = workers_quiesce(app, 2000);
	if (freed) {
		pthread_mutex_lock(&app->mu); /* report() reads bogus counts under it */
		while (app->retired) {
			struct live *r = app->retired;
			app->retired = r->next;
			live_free(r);
		}
		pthread_mutex_unlock(&app->mu);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cache_stats cs;
	cache_stats_get(app->cache, &cs);
	unsigned used = route_nservers(nc->rt);
	log_info("reload %u: routes %zu -> %zu domain rules (%u of %u upstreams used), bogus-ip %zu -> %zu entries, "
		 "allow %u -> %u prefixes%s%s, learned-bogus %s; cache kept (%llu entries); %.1f ms%s",
		 nr, old_routes, route_ndomains(nc->rt), used, app->nservers, old_bogus,
		 bogus_count(nc->bogus_list), old_allow, lv->allow.n, allow_same ? " (same)" : "", vlog_note,
		 app->learned_path ? app->learned_path : "off", (unsigned long long)cs.entries,
		 (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		 freed ? "" : " (old configuration freed later: a worker is busy)");
}

int cmd_resolve(int argc, char **argv)
{
	static resolve_config cfg;
	char err[CONFIG_ERRLEN];
	if (config_init(&cfg) < 0) {
		log_err("out of memory");
		return 1;
	}
	if (config_parse_args(&cfg, argc, argv, err, sizeof(err)) < 0 ||
	    config_finish(&cfg, err, sizeof(err)) < 0) {
		log_err("%s", err);
		if (!strstr(err, ":"))
			fprintf(stderr, "(antidote resolve --help lists the options)\n");
		config_free(&cfg);
		return 2;
	}
	if (cfg.help) {
		config_usage(stdout);
		config_free(&cfg);
		return 0;
	}
	if (cfg.verbosity > 0)
		log_level = LOG_DEBUG;
	else if (cfg.verbosity < 0)
		log_level = LOG_WARN;

	/* one socket per live upstream attempt: make room for them */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	static struct app app;
	static struct live live0;
	app.cfg = &cfg;
	app.argc = argc;
	app.argv = argv;
	live0.cfg = &cfg;
	live0.rt = cfg.rt;
	live0.identity = true;
	live0.allow = cfg.allow;
	atomic_init(&app.live, &live0);
	atomic_init(&app.gen, 1);
	cookie_secret_init(&app.cookie);
	app.nservers = route_nservers(cfg.rt);
	app.servers = calloc(UP_MAX_SERVERS, sizeof(*app.servers)); /* reloads append */
	app.ups = calloc(UP_MAX_SERVERS, sizeof(*app.ups));
	app.bogus_fw = bogus_new_forward(cfg.bogus_list);
	app.learned_path = cfg.learned_bogus ? strdup(cfg.learned_bogus) : NULL;
	if (!app.servers || !app.ups || !app.bogus_fw || (cfg.learned_bogus && !app.learned_path)) {
		log_err("out of memory");
		config_free(&cfg);
		return 1;
	}
	memcpy(app.servers, route_servers(cfg.rt), app.nservers * sizeof(*app.servers));
	app.tls_ca = route_tls_ca(cfg.rt) ? strdup(route_tls_ca(cfg.rt)) : NULL;
	if (cfg.dnssec && cfg.anchors && !(app.seen = val_seen_new())) {
		log_err("out of memory");
		config_free(&cfg);
		return 1;
	}
	app.tls_insecure = route_tls_insecure(cfg.rt);
	memcpy(app.ups, route_upstreams(cfg.rt), app.nservers * sizeof(*app.ups));
	cfg.cache.shared = true;
	cfg.cache.edns_udp = cfg.max_udp;
	app.cache = cache_new(&cfg.cache);
	pthread_mutex_init(&app.mu, NULL);
	pthread_cond_init(&app.cv, NULL);
	if (!app.cache) {
		log_err("cannot make a cache of that size");
		config_free(&cfg);
		return 1;
	}
	server_config sc = {
		.listen = cfg.listen,
		.nlisten = cfg.nlisten,
		.threads = cfg.threads,
		.handler = handle,
		.app = &app,
		.ctx_new = ctx_new,
		.worker_start = worker_start,
		.worker_stop = worker_stop,
		.reload = reload,
		.handle_signals = true,
		.tcp_idle_ms = cfg.tcp_idle_ms,
		.udp_mode = cfg.udp_epoll ? SERVER_UDP_EPOLL : SERVER_UDP_THREADS,
	};
	server *s = server_new(&sc);
	int rc = s ? server_bind(s) : DNS_ENOMEM;
	if (rc < 0) {
		log_err("%s", s ? server_error(s) : "out of memory");
		server_free(s);
		cache_free(app.cache);
		bogus_free(app.bogus_fw);
		free(app.servers);
		free(app.ups);
		free(app.tls_ca);
		val_seen_free(app.seen);
		free(app.learned_path);
		config_free(&cfg);
		return 1;
	}
	app.srv = s;
	app.nworkers = server_threads(s);
	app.nctx = server_ctx_count(s);
	app.ws = calloc(app.nworkers, sizeof(*app.ws));
	app.ts = calloc(app.nctx, sizeof(*app.ts));
	app.wst = calloc(app.nworkers, sizeof(*app.wst));
	app.snap = calloc((size_t)app.nworkers * UP_MAX_SERVERS, sizeof(*app.snap));
	app.vsnap = calloc((size_t)app.nworkers * UP_MAX_SERVERS, sizeof(*app.vsnap));
	app.dsnap = calloc(app.nworkers, sizeof(*app.dsnap));
	app.learned = bogus_new();
	if (cfg.log_verdicts) {
		char verr[512];
		if (!(app.vlog = verdict_log_open(cfg.log_verdicts, verr, sizeof(verr)))) {
			log_err("log-verdicts: %s", verr);
			return 1;
		}
	}
	if (!app.ws || !app.ts || !app.wst || !app.snap || !app.vsnap || !app.dsnap || !app.learned) {
		log_err("out of memory");
		return 1;
	}
	{
		char a[ADDR_STRLEN];
		for (unsigned i = 0; i < cfg.nlisten; i++)
			log_info("listening on %s (udp, tcp)", addr_str(server_bound_addr(s, i), a));
		for (unsigned i = 0; i < app.nservers; i++) {
			char u[ROUTE_UPSTREAM_STRLEN];
			log_info("upstream %u: %s", i, route_upstream_str(&app.ups[i], u, sizeof(u)));
		}
		if (route_ndomains(cfg.rt))
			log_info("%zu domain routes", route_ndomains(cfg.rt));
		char pb[64];
		for (unsigned i = 0; i < cfg.allow.n; i++)
			log_debug("allow %s", acl_prefix_str(&cfg.allow.p[i], pb, sizeof(pb)));
		log_info("%u worker%s, cache %zu MiB (shared), 0x20 %s", app.nworkers, app.nworkers == 1 ? "" : "s",
			 cfg.cache.size >> 20, cfg.use_0x20 ? "on" : "off");
		if (cfg.defence)
			log_info("injection defence on (hold at most %u ms%s%s)", cfg.hold_max_ms,
				 cfg.bogus_list ? ", bogus list loaded" : "", cfg.log_verdicts ? ", verdicts logged" : "");
		else
			log_info("injection defence OFF%s", cfg.bogus_list ? " (bogus-ip list only)" : "");
		if (cfg.dnssec)
			log_info("DNSSEC validation on: %u trust anchor record%s from %u file%s", cfg.anchors->n,
				 cfg.anchors->n == 1 ? "" : "s", cfg.anchors->files, cfg.anchors->files == 1 ? "" : "s");
		if (cfg.bogus_list)
			log_info("%zu forged addresses/prefixes from %u --bogus-ip file%s", bogus_count(cfg.bogus_list),
				 cfg.bogus_files, cfg.bogus_files == 1 ? "" : "s");
	}
	/* SIGUSR1 goes to the stats thread only; HUP/TERM/INT to the server's
	 * signalfd (blocked here before any thread starts) */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_t st;
	bool st_ok = pthread_create(&st, NULL, stats_thread, &app) == 0;
	if (cfg.user) {
		/* sockets bound and files open: no root from here on */
		struct privdrop drop;
		char derr[256];
		if (privdrop_lookup(cfg.user, &drop, derr, sizeof(derr)) < 0 ||
		    privdrop_apply(&drop, derr, sizeof(derr)) < 0) {
			log_err("%s", derr);
			server_free(s);
			return 1;
		}
		log_info("running as %s (uid %u)", drop.name, (unsigned)drop.uid);
	}
	rc = server_run(s);
	if (rc < 0)
		log_err("%s", server_error(s));
	if (st_ok) {
		atomic_store(&app.quit, true);
		pthread_kill(st, SIGUSR1);
		pthread_join(st, NULL);
	}
	report(&app);
	if (app.learned_path) {
		const char *lp = app.learned_path;
		FILE *lf = fopen(lp, "w");
		int n = lf ? bogus_write(app.learned, lf, bogus_format_for(lp)) : DNS_EIO;
		if (lf && fclose(lf) != 0)
			n = DNS_EIO;
		if (n < 0)
			log_err("learned-bogus: cannot write %s", lp);
		else
			log_info("%d learnt forged address%s written to %s", n, n == 1 ? "" : "es", lp);
	}
	server_free(s);
	verdict_log_close(app.vlog);
	bogus_free(app.learned);
	/* every thread is gone: no reader is left */
	live_free(atomic_load(&app.live));
	while (app.retired) {
		struct live *r = app.retired;
		app.retired = r->next;
		live_free(r);
	}
	bogus_free(app.bogus_fw);
	free(app.servers);
	free(app.ups);
	free(app.tls_ca);
	val_seen_free(app.seen);
	free(app.learned_path);
	free(app.vsnap);
	free(app.dsnap);
	cache_free(app.cache);
	free(app.ws);
	free(app.ts);
	free(app.wst);
	free(app.snap);
	config_free(&cfg);
	return rc < 0 ? 1 : 0;
}
