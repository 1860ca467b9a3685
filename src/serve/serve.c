/* serve — the `antidote serve` subcommand: options, zone loading, reload,
 * and the glue between the server core and answer_query. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "dns/name.h"
#include "net/addr.h"
#include "net/server.h"
#include "serve/answer.h"
#include "serve/rrl.h"
#include "serve/xfr.h"
#include "serve/notify.h"
#include "resolve/acl.h"
#include "dns/msg.h"
#include "dns/rrtype.h"
#include "dns/tsig.h"
#include "dns/wire.h"
#include "serve/zone.h"
#include "dns/zonefile.h"
#include "util/log.h"
#include "util/privdrop.h"

#define SERVE_MAXLISTEN 16
#define SERVE_MAXZONES 4096
#define SERVE_MAXKEYS 16
#define SERVE_MAXXFR 32

/* One --allow-transfer entry: an address prefix, a TSIG key, or both. */
struct xfr_rule {
	bool any_addr;        /* "key:NAME": any client address */
	acl addr;
	int key;              /* index in serve_app.keys; -1: no key needed */
	uint8_t kname[NAME_MAXLEN];
};

struct zone_arg {
	const char *file;
	uint8_t origin[NAME_MAXLEN];
	bool has_origin;
};

struct serve_app;

struct worker {
	answer_ctx ans;
	struct serve_app *app;
	uint8_t qbuf[MSG_MAXLEN]; /* a signed query without its TSIG */
	_Atomic uint64_t active; /* generation being used, 0 when idle */
};

struct serve_app {
	struct zone_arg *zones;
	size_t nzones;
	answer_cfg acfg;
	_Atomic(zoneset *) current;
	_Atomic uint64_t gen;
	struct worker **workers;
	unsigned nworkers;
	bool no_cache;
	rrl *rrl;              /* --rrl: response rate limiting (NULL: off) */
	struct xfr_rule *xfr;  /* --allow-transfer: who may AXFR/IXFR (none: nobody) */
	unsigned nxfr;
	tsig_key *keys;        /* --tsig-key */
	_Atomic uint64_t key_last[SERVE_MAXKEYS]; /* latest Time Signed per key (replays) */
	unsigned nkeys;
	net_addr notify[NOTIFY_MAX_TARGETS]; /* --notify: secondaries told of changes */
	const tsig_key *notify_key[NOTIFY_MAX_TARGETS]; /* ...signed with (NULL: not) */
	uint8_t notify_kname[NOTIFY_MAX_TARGETS][NAME_MAXLEN]; /* (root: no key) */
	unsigned nnotify;
};

/* ---- NOTIFY (notify.h) in a thread of its own ---- */

struct notify_job {
	unsigned nz, nt;
	net_addr targets[NOTIFY_MAX_TARGETS];
	const tsig_key *keys[NOTIFY_MAX_TARGETS];
	notify_zone zones[NOTIFY_MAX_ZONES];
};

static uint32_t zone_serial(const zone *z)
{
	const zone_rdata *r = z->soa->rrs;
	return wire_get_u32(r->data + r->len - 20);
}

static void *notify_thread(void *arg)
{
	struct notify_job *j = arg;
	notify_result res[NOTIFY_MAX_ZONES * NOTIFY_MAX_TARGETS];
	notify_run(j->zones, j->nz, j->targets, j->keys, j->nt, 5, 1000, res);
	for (unsigned i = 0; i < j->nz * j->nt; i++) {
		const notify_zone *z = &j->zones[i / j->nt];
		char zn[NAME_MAXTEXT], who[ADDR_STRLEN];
		name_to_text(z->name, zn, sizeof(zn));
		addr_str(&j->targets[i % j->nt], who);
		uint32_t serial = wire_get_u32(z->soa + z->soa_len - 20);
		if (res[i].rcode < 0)
			log_warn("notify %s (serial %u) to %s: no answer after %u tries", zn, serial, who,
				 res[i].tries);
		else
			log_info("notify %s (serial %u) to %s: answered %s%s", zn, serial, who,
				 res[i].rcode == 0 ? "NOERROR" : res[i].rcode == 9 ? "NOTAUTH"
								   : res[i].rcode == 5 ? "REFUSED" : "with an error",
				 !j->keys[i % j->nt] ? "" : res[i].tsig == 0 ? " (TSIG verified)"
				 : res[i].tsig == DNS_ENOTFOUND ? " (answer NOT signed)" : " (answer's TSIG does NOT verify)");
	}
	free(j);
	return NULL;
}

/* Tells the --notify targets about every zone of now whose serial differs
 * from its namesake in before (before NULL: every zone). */
static void notify_changes(const struct serve_app *app, const zoneset *now, const zoneset *before)
{
	if (!app->nnotify)
		return;
	struct notify_job *j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->nt = app->nnotify;
	memcpy(j->targets, app->notify, sizeof(net_addr) * app->nnotify);
	memcpy(j->keys, app->notify_key, sizeof(j->keys[0]) * app->nnotify);
	for (size_t i = 0; i < now->count && j->nz < NOTIFY_MAX_ZONES; i++) {
		const zone *z = now->zones[i];
		const zone *o = before ? zoneset_find(before, z->origin) : NULL;
		if (o && name_eq(o->origin, z->origin) && zone_serial(o) == zone_serial(z))
			continue;
		const zone_rdata *r = z->soa->rrs;
		notify_zone *nz = &j->zones[j->nz];
		if (r->len > sizeof(nz->soa))
			continue;
		memcpy(nz->name, z->origin, z->origin_len);
		nz->ttl = r->ttl;
		nz->soa_len = r->len;
		memcpy(nz->soa, r->data, r->len);
		j->nz++;
	}
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	/* the thread takes no signals (at start it is created before the
	 * server blocks them for its signalfd: a SIGHUP would kill us) */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (!j->nz || pthread_create(&t, &at, notify_thread, j))
		free(j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: antidote serve --listen ADDR[:PORT] [--listen ...] --zone [NAME=]FILE [--zone ...]\n"
		"                      [--threads N] [--nsid TEXT|0xHEX] [--max-udp N] [--tcp-idle MS]\n"
		"                      [--rrl N [--rrl-slip N] [--rrl-ipv4-prefix N] [--rrl-ipv6-prefix N]]\n"
		"                      [--tsig-key ALG:NAME:SECRET] [--allow-transfer CIDR|key:NAME|CIDR@key:NAME]\n"
		"                      [--notify ADDR[:PORT][@key:NAME]] [--check] [--user USER] [--verbose|--quiet]\n"
		"\n"
		"Authoritative DNS server for RFC 1035 zone files.\n"
		"  --listen ADDR     address to answer on, IPv4 (127.0.0.1:5300) or IPv6 ([::1]:5300);\n"
		"                    UDP and TCP; default port 53; may be repeated\n"
		"  --zone [NAME=]FILE  zone file; its origin is NAME, else its $ORIGIN, else its first\n"
		"                    SOA's owner; may be repeated\n"
		"  --threads N       worker threads (default: one per CPU)\n"
		"  --nsid TEXT       answer EDNS NSID requests with TEXT (or hex bytes after 0x)\n"
		"  --max-udp N       largest UDP answer with EDNS (default 1232, 512..65535)\n"
		"  --tcp-idle MS     close idle TCP connections after MS milliseconds (default 10000)\n"
		"  --check           load the zones, report problems, exit (0 when all load)\n"
		"  --no-cache        build every answer afresh (no per-worker response cache)\n"
		"  --udp-epoll       read UDP in each worker's event thread (epoll) instead of one\n"
		"                    blocking thread per worker and address; better with many --listen\n"
		"  --rrl N           response rate limiting over UDP: at most N alike responses a second\n"
		"                    to one client network (same kind: answer, NXDOMAIN, NODATA, referral,\n"
		"                    error; same name, or zone for NXDOMAIN/NODATA/referrals); off by default\n"
		"  --rrl-slip N      of the responses over the limit, every Nth goes out truncated (TC, so\n"
		"                    real clients retry over TCP, never limited), the rest are dropped\n"
		"                    (default 2; 0: drop all; 1: truncate all)\n"
		"  --rrl-ipv4-prefix N, --rrl-ipv6-prefix N  client network sizes (default 24, 56)\n"
		"  --tsig-key ALG:NAME:SECRET  a TSIG key (RFC 8945), written as for dig -y: ALG\n"
		"                    hmac-sha256 (or hmac-sha512, -sha384, -sha224, -sha1), SECRET in\n"
		"                    base64; repeatable. A query signed with a known key is answered\n"
		"                    signed; a bad signature gets NOTAUTH with TSIG error BADSIG,\n"
		"                    an unknown key BADKEY, a clock off by > 300 s BADTIME\n"
		"  --allow-transfer CIDR|key:NAME|CIDR@key:NAME  who may transfer zones (AXFR; IXFR\n"
		"                    is answered with the whole zone) over TCP: clients in CIDR\n"
		"                    (signed or not), any client whose request is signed with the\n"
		"                    --tsig-key NAME (every message of its transfer is then signed),\n"
		"                    or clients in CIDR signing with NAME; repeatable; default nobody\n"
		"  --notify ADDR[:PORT][@key:NAME]  secondary told (DNS NOTIFY, RFC 1996) at start\n"
		"                    and whenever a reload changes a zone's serial, so it transfers at\n"
		"                    once; repeatable; @key:NAME signs the NOTIFY with that --tsig-key\n"
		"  --user USER       after binding, run as USER (name or number): its uid and\n"
		"                    primary group, no way back to root; zone files must be\n"
		"                    readable by USER for SIGHUP reloads\n"
		"  --verbose, --quiet  more or less logging\n"
		"Signals: SIGHUP reloads every zone (a zone that fails keeps the old set serving),\n"
		"SIGTERM/SIGINT stop.\n");
}

static zoneset *load_all(const struct serve_app *app, bool quiet)
{
	zoneset *zs = zoneset_new();
	if (!zs) {
		log_err("out of memory");
		return NULL;
	}
	size_t records = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < app->nzones; i++) {
		char err[ZONEFILE_ERRLEN + 64];
		const struct zone_arg *za = &app->zones[i];
		zone *z = zone_load(za->file, za->has_origin ? za->origin : NULL, err, sizeof(err));
		if (!z) {
			log_err("%s", err);
			zoneset_free(zs);
			return NULL;
		}
		records += z->records;
		char on[NAME_MAXTEXT];
		name_to_text(z->origin, on, sizeof(on));
		if (zoneset_add(zs, z) < 0) {
			log_err("%s: zone %s is given twice", za->file, on);
			zone_free(z);
			zoneset_free(zs);
			return NULL;
		}
		if (!quiet)
			log_debug("loaded %s from %s: %zu records", on, za->file, z->records);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!quiet)
		log_info("loaded %zu zone%s, %zu records in %.3f s", zs->count, zs->count == 1 ? "" : "s",
			 records, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return zs;
}

static bool xfr_allowed(const struct serve_app *app, const net_addr *peer, const tsig_key *key)
{
	for (unsigned i = 0; i < app->nxfr; i++) {
		const struct xfr_rule *r = &app->xfr[i];
		if ((r->any_addr || acl_match(&r->addr, peer)) && (r->key < 0 || key == &app->keys[r->key]))
			return true;
	}
	return false;
}

/* Signs the message resp[0..len) when the exchange is signed (t->key), or
 * adds the unsigned TSIG error of a failed request (t->error); len as is
 * otherwise. */
static int sign(tsig_ctx *t, server_query *q, int len, uint64_t now)
{
	if (len <= 0 || !t || (!t->key && !t->error))
		return len;
	int n = tsig_sign(t, q->resp, (size_t)len, q->resp_max, now);
	if (n < 0) {
		log_err("tsig: cannot sign a response (%s)", dns_strerror(n));
		return SERVER_DROP;
	}
	return n;
}

/* AXFR/IXFR over TCP from a client --allow-transfer lets in (t: its
 * verified TSIG exchange, or NULL): the whole transfer (xfr.h) is built
 * now, while the zoneset cannot be freed; every message (each signed when
 * t is) but the last is queued on the connection, the last is the
 * handler's response. Returns the length or SERVER_DROP. */
static int transfer(const zoneset *zs, server_query *q, const msg *m, tsig_ctx *t, uint64_t now)
{
	char who[ADDR_STRLEN], zn[NAME_MAXTEXT], kn[NAME_MAXTEXT] = "";
	addr_str(q->peer, who);
	name_to_text(m->qname, zn, sizeof(zn));
	if (t)
		name_to_text(t->key->name, kn, sizeof(kn));
	size_t cap = q->resp_max - (t ? tsig_size(t) : 0);
	zone *z = zoneset_find(zs, m->qname);
	if (!z || !name_eq(z->origin, m->qname)) {
		log_info("transfer of %s to %s refused: not a zone served here (NOTAUTH)", zn, who);
		return sign(t, q, xfr_error(m, RCODE_NOTAUTH, q->resp, cap), now);
	}
	xfr_cursor c;
	xfr_start(&c, z, m);
	for (;;) {
		bool last;
		int len = xfr_next(&c, q->resp, cap, &last);
		if (len <= 0) {
			log_err("transfer of %s to %s failed after %llu records", zn, who,
				(unsigned long long)c.records);
			return len < 0 ? sign(t, q, xfr_error(m, RCODE_SERVFAIL, q->resp, cap), now) : SERVER_DROP;
		}
		len = sign(t, q, len, now);
		if (len < 0)
			return SERVER_DROP;
		if (last) {
			log_info("transfer of %s (serial %u) to %s%s%s: %llu records in %llu messages", zn,
				 zone_serial(z), who, t ? ", TSIG key " : "", kn,
				 (unsigned long long)c.records + 2, (unsigned long long)c.messages);
			return len;
		}
		if (server_tcp_queue(q, q->resp, (size_t)len) < 0) {
			log_err("transfer of %s to %s: out of memory", zn, who);
			return SERVER_DROP;
		}
	}
}

/* Queries that need more than answer_query: zone transfers over TCP and,
 * with --tsig-key, signed queries (verified, answered without their TSIG,
 * the answer signed). Returns the response length, SERVER_DROP, or 0 when
 * answer_query should handle q as usual. */
static int guarded(struct worker *w, const zoneset *zs, server_query *q)
{
	struct serve_app *app = w->app;
	msg m;
	bool tcp = q->transport == SERVER_TCP;
	if (msg_parse_query(&m, q->req, q->req_len) < 0 || (m.hdr.flags & MSG_QR))
		return 0;
	bool xfr = tcp && (m.qtype == RR_AXFR || m.qtype == RR_IXFR) && app->nxfr;
	if (!m.tsig_off && !xfr)
		return 0;
	if (!m.tsig_off) /* an unsigned transfer */
		return xfr_allowed(app, q->peer, NULL) ? transfer(zs, q, &m, NULL, 0) : 0;
	tsig_ctx t;
	if (tsig_ctx_init(&t, app->keys, app->nkeys) < 0) {
		tsig_ctx_free(&t);
		return SERVER_DROP;
	}
	uint64_t now = (uint64_t)time(NULL);
	char who[ADDR_STRLEN], kn[NAME_MAXTEXT];
	int len, rc = tsig_verify(&t, &m, now);
	bool replay = rc == 0 && (rc = tsig_replay_check(&t, &app->key_last[t.key - app->keys])) != 0;
	if (rc != 0) {
		addr_str(q->peer, who);
		name_to_text(t.kname, kn, sizeof(kn));
		if (rc < 0) {
			log_info("query from %s: malformed TSIG (FORMERR)", who);
			len = xfr_error(&m, RCODE_FORMERR, q->resp, q->resp_max);
		} else {
			log_info("query from %s signed with key %s: %s (NOTAUTH)", who, kn,
				 rc == TSIG_BADKEY ? "unknown key (BADKEY)" : rc == TSIG_BADSIG ? "bad signature (BADSIG)"
				 : rc == TSIG_BADTIME ? (replay ? "signed earlier than the key's last message (BADTIME: a replay?)"
							      : "clock off (BADTIME)")
				 : "truncated MAC (BADTRUNC)");
			len = sign(&t, q, xfr_error(&m, RCODE_NOTAUTH, q->resp, q->resp_max - tsig_size(&t)), now);
		}
	} else if (xfr) {
		if (xfr_allowed(app, q->peer, t.key)) {
			len = transfer(zs, q, &m, &t, now);
		} else {
			addr_str(q->peer, who);
			name_to_text(t.key->name, kn, sizeof(kn));
			log_info("transfer to %s (key %s) refused: not in --allow-transfer", who, kn);
			len = sign(&t, q, xfr_error(&m, RCODE_REFUSED, q->resp, q->resp_max - tsig_size(&t)), now);
		}
	} else {
		/* a signed query: answered as if unsigned, then signed; the
		 * size limit leaves room for the TSIG */
		int n = tsig_strip(&m, w->qbuf, sizeof(w->qbuf));
		size_t limit = tcp ? q->resp_max : 512;
		if (!tcp && m.edns.present)
			limit = m.edns.udp_size < 512 ? 512 : m.edns.udp_size < app->acfg.max_udp ? m.edns.udp_size
											 : app->acfg.max_udp;
		if (limit > q->resp_max)
			limit = q->resp_max;
		len = n < 0 ? ANSWER_DROP : answer_query(&w->ans, zs, w->qbuf, (size_t)n, q->resp,
							 limit - tsig_size(&t), tcp);
		len = len > 0 ? sign(&t, q, len, now) : SERVER_DROP;
	}
	tsig_ctx_free(&t);
	return len > 0 ? len : SERVER_DROP;
}

static int handle_query(void *ctx, server_query *q)
{
	struct worker *w = ctx;
	struct serve_app *app = w->app;
	uint64_t gen = atomic_load_explicit(&app->gen, memory_order_acquire);
	atomic_store_explicit(&w->active, gen, memory_order_seq_cst);
	zoneset *zs = atomic_load_explicit(&app->current, memory_order_acquire);
	int len = 0;
	/* transfers over TCP; signed queries (only they have an additional
	 * RR past a possible OPT) */
	if ((q->transport == SERVER_TCP && app->nxfr) ||
	    (app->nkeys && q->req_len >= MSG_HDRLEN && wire_get_u16(q->req + 10)))
		len = guarded(w, zs, q);
	if (!len)
		len = answer_query(&w->ans, zs, q->req, q->req_len, q->resp, q->resp_max,
				   q->transport == SERVER_TCP);
	atomic_store_explicit(&w->active, 0, memory_order_release);
	if (len > 0 && app->rrl && q->transport == SERVER_UDP) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		enum rrl_action a = rrl_check(app->rrl, q->peer, q->resp, (size_t)len, (uint32_t)ts.tv_sec);
		if (a == RRL_DROP)
			return SERVER_DROP;
		if (a == RRL_SLIP)
			len = rrl_truncate(q->resp, (size_t)len);
	}
	return len > 0 ? len : SERVER_DROP;
}

/* One context per handler thread (server.h): its answer cache is its own. */
static int worker_new(void *appv, const server_thread *t, void **ctx)
{
	struct serve_app *app = appv;
	struct worker *w = calloc(1, sizeof(*w));
	if (!w)
		return DNS_ENOMEM;
	if (answer_ctx_init(&w->ans, &app->acfg, !app->no_cache) < 0) {
		free(w);
		return DNS_ENOMEM;
	}
	w->app = app;
	app->workers[t->index] = w;
	*ctx = w;
	return 0;
}

static void worker_free(void *appv, const server_thread *t, void *ctx)
{
	struct serve_app *app = appv;
	struct worker *w = ctx;
	app->workers[t->index] = NULL;
	answer_ctx_free(&w->ans);
	free(w);
}

/* SIGHUP: load everything anew; swap only when all of it loaded. The old
 * set is freed once no worker is still inside a query that began before the
 * swap. */
static void reload(void *appv)
{
	struct serve_app *app = appv;
	log_info("reloading %zu zone%s", app->nzones, app->nzones == 1 ? "" : "s");
	zoneset *zs = load_all(app, false);
	if (!zs) {
		log_err("reload failed: still serving the previous zones");
		return;
	}
	zoneset *old = atomic_exchange_explicit(&app->current, zs, memory_order_acq_rel);
	notify_changes(app, zs, old);
	uint64_t gen = atomic_fetch_add_explicit(&app->gen, 1, memory_order_acq_rel) + 1;
	for (unsigned i = 0; i < app->nworkers; i++) {
		struct worker *w = app->workers[i];
		if (!w)
			continue;
		for (;;) {
			uint64_t a = atomic_load_explicit(&w->active, memory_order_seq_cst);
			if (a == 0 || a >= gen)
				break;
			struct timespec ts = {0, 100000};
			nanosleep(&ts, NULL);
		}
	}
	zoneset_free(old);
	log_info("reload done");
}

static int parse_nsid(const char *s, uint8_t *out, uint16_t *len)
{
	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2)) {
		s += 2;
		size_t n = strlen(s);
		if (n == 0 || n % 2 || n / 2 > 512)
			return -1;
		for (size_t i = 0; i < n / 2; i++) {
			unsigned v;
			if (sscanf(s + 2 * i, "%2x", &v) != 1)
				return -1;
			out[i] = (uint8_t)v;
		}
		*len = (uint16_t)(n / 2);
		return 0;
	}
	size_t n = strlen(s);
	if (n > 512)
		return -1;
	memcpy(out, s, n);
	*len = (uint16_t)n;
	return 0;
}

static long parse_num(const char *s, long lo, long hi, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi) {
		log_err("--%s: '%s' is not a number from %ld to %ld", what, s, lo, hi);
		return -1;
	}
	return v;
}

/* A key name in text (absolute or not) into out, lower-cased. */
static int parse_key_name(const char *name, uint8_t *out)
{
	char t[NAME_MAXTEXT + 2];
	size_t n = strlen(name);
	if (n == 0 || n >= NAME_MAXTEXT)
		return -1;
	memcpy(t, name, n + 1);
	if (t[n - 1] != '.')
		t[n++] = '.', t[n] = 0;
	if (name_from_text(t, n, NULL, out) < 0)
		return -1;
	name_lower(out);
	return 0;
}

/* "CIDR", "key:NAME" or "CIDR@key:NAME" (the key is looked up once every
 * option is read). */
static int parse_xfr_rule(struct serve_app *app, const char *arg)
{
	if (app->nxfr >= SERVE_MAXXFR) {
		log_err("too many --allow-transfer (at most %d)", SERVE_MAXXFR);
		return -1;
	}
	struct xfr_rule *r = &app->xfr[app->nxfr];
	memset(r, 0, sizeof(*r));
	r->key = -1;
	const char *k = !strncmp(arg, "key:", 4) ? arg : strstr(arg, "@key:");
	if (k) {
		if (parse_key_name(k + (*k == '@' ? 5 : 4), r->kname) < 0) {
			log_err("--allow-transfer %s: give key:NAME (a key name)", arg);
			return -1;
		}
		r->key = 0; /* resolved later */
	}
	if (k == arg) {
		r->any_addr = true;
	} else {
		char a[128], aerr[160];
		size_t n = k ? (size_t)(k - arg) : strlen(arg);
		if (n >= sizeof(a)) {
			log_err("--allow-transfer %s: address too long", arg);
			return -1;
		}
		memcpy(a, arg, n);
		a[n] = 0;
		if (acl_add(&r->addr, a, aerr, sizeof(aerr)) < 0) {
			log_err("--allow-transfer %s: %s", arg, aerr);
			return -1;
		}
	}
	app->nxfr++;
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"zone", required_argument, NULL, 'z'},
		{"threads", required_argument, NULL, 't'},
		{"nsid", required_argument, NULL, 'n'},
		{"max-udp", required_argument, NULL, 'u'},
		{"tcp-idle", required_argument, NULL, 'i'},
		{"check", no_argument, NULL, 'c'},
		{"no-cache", no_argument, NULL, 'C'},
		{"udp-epoll", no_argument, NULL, 'E'},
		{"user", required_argument, NULL, 'U'},
		{"rrl", required_argument, NULL, 'R'},
		{"allow-transfer", required_argument, NULL, 'X'},
		{"tsig-key", required_argument, NULL, 'K'},
		{"notify", required_argument, NULL, 'N'},
		{"rrl-slip", required_argument, NULL, 'S'},
		{"rrl-ipv4-prefix", required_argument, NULL, '4'},
		{"rrl-ipv6-prefix", required_argument, NULL, '6'},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static net_addr listen[SERVE_MAXLISTEN];
	static struct zone_arg zones[SERVE_MAXZONES];
	static uint8_t nsid[512];
	static tsig_key keys[SERVE_MAXKEYS];
	static struct xfr_rule xfr[SERVE_MAXXFR];
	size_t nlisten = 0;
	struct serve_app app = {.zones = zones, .acfg = {.max_udp = 1232}, .keys = keys, .xfr = xfr};
	long threads = 0, tcp_idle = 0;
	bool check = false, quiet = false, udp_epoll = false;
	const char *user = NULL;
	rrl_config rc_rrl;
	rrl_config_default(&rc_rrl);
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "l:z:t:n:u:i:cvqh", opts, NULL)) != -1) {
		switch (c) {
		case 'l': {
			char err[160];
			if (nlisten >= SERVE_MAXLISTEN) {
				log_err("too many --listen addresses (at most %d)", SERVE_MAXLISTEN);
				return 2;
			}
			if (addr_parse(&listen[nlisten], optarg, 53, err, sizeof(err)) < 0) {
				log_err("--listen %s: %s", optarg, err);
				return 2;
			}
			nlisten++;
			break;
		}
		case 'z': {
			if (app.nzones >= SERVE_MAXZONES) {
				log_err("too many --zone arguments (at most %d)", SERVE_MAXZONES);
				return 2;
			}
			struct zone_arg *za = &zones[app.nzones];
			const char *eq = strchr(optarg, '=');
			za->file = optarg;
			za->has_origin = false;
			if (eq) {
				char name[NAME_MAXTEXT];
				size_t n = (size_t)(eq - optarg);
				if (n >= sizeof(name)) {
					log_err("--zone %s: zone name too long", optarg);
					return 2;
				}
				memcpy(name, optarg, n);
				name[n] = 0;
				if (n && name[n - 1] != '.')
					name[n++] = '.', name[n] = 0;
				if (name_from_text(name, n, NULL, za->origin) < 0) {
					log_err("--zone %s: bad zone name '%.*s'", optarg, (int)(eq - optarg), optarg);
					return 2;
				}
				za->file = eq + 1;
				za->has_origin = true;
			}
			app.nzones++;
			break;
		}
		case 't':
			if ((threads = parse_num(optarg, 1, 256, "threads")) < 0)
				return 2;
			break;
		case 'n':
			if (parse_nsid(optarg, nsid, &app.acfg.nsid_len) < 0) {
				log_err("--nsid: give text (up to 512 bytes) or 0x followed by hex digits");
				return 2;
			}
			app.acfg.nsid = nsid;
			break;
		case 'u': {
			long v = parse_num(optarg, 512, 65535, "max-udp");
			if (v < 0)
				return 2;
			app.acfg.max_udp = (uint16_t)v;
			break;
		}
		case 'i':
			if ((tcp_idle = parse_num(optarg, 1, 3600000, "tcp-idle")) < 0)
				return 2;
			break;
		case 'c': check = true; break;
		case 'C': app.no_cache = true; break;
		case 'E': udp_epoll = true; break;
		case 'U': user = optarg; break;
		case 'N': {
			char nerr[160];
			if (app.nnotify >= NOTIFY_MAX_TARGETS) {
				log_err("too many --notify targets (at most %d)", NOTIFY_MAX_TARGETS);
				return 2;
			}
			char na[128];
			const char *at = strstr(optarg, "@key:");
			size_t nl = at ? (size_t)(at - optarg) : strlen(optarg);
			if (nl >= sizeof(na)) {
				log_err("--notify %s: address too long", optarg);
				return 2;
			}
			memcpy(na, optarg, nl);
			na[nl] = 0;
			if (addr_parse(&app.notify[app.nnotify], na, 53, nerr, sizeof(nerr)) < 0) {
				log_err("--notify %s: %s", optarg, nerr);
				return 2;
			}
			if (at && parse_key_name(at + 5, app.notify_kname[app.nnotify]) < 0) {
				log_err("--notify %s: bad key name", optarg);
				return 2;
			}
			app.nnotify++;
			break;
		}
		case 'X':
			if (parse_xfr_rule(&app, optarg) < 0)
				return 2;
			break;
		case 'K': {
			char kerr[200];
			if (app.nkeys >= SERVE_MAXKEYS) {
				log_err("too many --tsig-key (at most %d)", SERVE_MAXKEYS);
				return 2;
			}
			if (tsig_key_parse(&keys[app.nkeys], optarg, kerr, sizeof(kerr)) < 0) {
				log_err("--tsig-key: %s", kerr);
				return 2;
			}
			if (tsig_key_find(keys, app.nkeys, keys[app.nkeys].name)) {
				log_err("--tsig-key: key %.*s given twice", (int)strcspn(strchr(optarg, ':') + 1, ":"),
					strchr(optarg, ':') + 1);
				return 2;
			}
			app.nkeys++;
			break;
		}
		case 'R': {
			long v = parse_num(optarg, 1, 65535, "rrl");
			if (v < 0)
				return 2;
			rc_rrl.rate = (unsigned)v;
			break;
		}
		case 'S': {
			long v = parse_num(optarg, 0, 100, "rrl-slip");
			if (v < 0)
				return 2;
			rc_rrl.slip = (unsigned)v;
			break;
		}
		case '4': {
			long v = parse_num(optarg, 8, 32, "rrl-ipv4-prefix");
			if (v < 0)
				return 2;
			rc_rrl.v4_prefix = (unsigned)v;
			break;
		}
		case '6': {
			long v = parse_num(optarg, 16, 128, "rrl-ipv6-prefix");
			if (v < 0)
				return 2;
			rc_rrl.v6_prefix = (unsigned)v;
			break;
		}
		case 'v': log_level = LOG_DEBUG; break;
		case 'q': quiet = true; log_level = LOG_WARN; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (app.nzones == 0 || (!check && nlisten == 0)) {
		log_err("give at least one --zone%s", check ? "" : " and one --listen");
		usage(stderr);
		return 2;
	}
	for (unsigned i = 0; i < app.nxfr; i++) {
		const tsig_key *k = xfr[i].key < 0 ? NULL : tsig_key_find(keys, app.nkeys, xfr[i].kname);
		if (xfr[i].key >= 0 && !k) {
			char kn[NAME_MAXTEXT];
			name_to_text(xfr[i].kname, kn, sizeof(kn));
			log_err("--allow-transfer: no --tsig-key named %s", kn);
			return 2;
		}
		if (k)
			xfr[i].key = (int)(k - keys);
	}
	for (unsigned i = 0; i < app.nnotify; i++) {
		if (name_is_root(app.notify_kname[i]))
			continue;
		if (!(app.notify_key[i] = tsig_key_find(keys, app.nkeys, app.notify_kname[i]))) {
			char kn[NAME_MAXTEXT];
			name_to_text(app.notify_kname[i], kn, sizeof(kn));
			log_err("--notify: no --tsig-key named %s", kn);
			return 2;
		}
	}
	struct privdrop drop;
	char derr[200];
	if (user && privdrop_lookup(user, &drop, derr, sizeof(derr)) < 0) {
		log_err("%s", derr);
		return 2;
	}
	zoneset *zs = load_all(&app, quiet);
	if (!zs)
		return 1;
	if (check) {
		zoneset_free(zs);
		return 0;
	}
	atomic_init(&app.current, zs);
	if (rc_rrl.rate && !(app.rrl = rrl_new(&rc_rrl))) {
		log_err("out of memory (rrl table)");
		zoneset_free(zs);
		return 1;
	}
	atomic_init(&app.gen, 1);

	server_config cfg = {
		.listen = listen,
		.nlisten = nlisten,
		.threads = (unsigned)threads,
		.handler = handle_query,
		.app = &app,
		.ctx_new = worker_new,
		.ctx_free = worker_free,
		.reload = reload,
		.handle_signals = true,
		.tcp_idle_ms = (unsigned)tcp_idle,
		.udp_mode = udp_epoll ? SERVER_UDP_EPOLL : SERVER_UDP_THREADS,
	};
	server *s = server_new(&cfg);
	if (!s) {
		log_err("out of memory");
		zoneset_free(zs);
		return 1;
	}
	int rc = server_bind(s);
	if (rc < 0) {
		log_err("%s", server_error(s));
		server_free(s);
		zoneset_free(zs);
		return 1;
	}
	if (user) {
		if (privdrop_apply(&drop, derr, sizeof(derr)) < 0) {
			log_err("%s", derr);
			server_free(s);
			zoneset_free(zs);
			return 1;
		}
		if (!quiet)
			log_info("running as %s (uid %u)", drop.name, (unsigned)drop.uid);
	}
	app.nworkers = server_ctx_count(s);
	app.workers = calloc(app.nworkers, sizeof(*app.workers));
	if (!app.workers) {
		server_free(s);
		zoneset_free(zs);
		return 1;
	}
	if (!quiet) {
		char a[ADDR_STRLEN];
		for (size_t i = 0; i < nlisten; i++)
			log_info("listening on %s (udp, tcp)", addr_str(server_bound_addr(s, i), a));
		log_info("%u worker%s", server_threads(s), server_threads(s) == 1 ? "" : "s");
	}
	notify_changes(&app, atomic_load(&app.current), NULL);
	rc = server_run(s);
	if (rc < 0)
		log_err("%s", server_error(s));
	server_stats st;
	server_read_stats(s, &st);
	if (!quiet)
		log_info("stopped: %llu queries, %llu responses, %llu dropped",
			 (unsigned long long)st.queries, (unsigned long long)st.responses,
			 (unsigned long long)st.dropped);
	if (app.rrl) {
		rrl_stats rs;
		rrl_read_stats(app.rrl, &rs);
		if (!quiet)
			log_info("rrl: %llu responses checked, %llu over the limit: %llu truncated, %llu dropped",
				 (unsigned long long)rs.checked, (unsigned long long)rs.limited,
				 (unsigned long long)rs.slipped, (unsigned long long)(rs.limited - rs.slipped));
		rrl_free(app.rrl);
	}
	server_free(s);
	free(app.workers);
	zoneset_free(atomic_load(&app.current));
	return rc < 0 ? 1 : 0;
}
