/* validator — trust anchors, the DS -> DNSKEY chain and per-reply DNSSEC verdicts (see validator.h). */
#include "resolve/validator.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/dnssec.h"
#include "dns/err.h"
#include "dns/msg.h"
#include "dns/rrtype.h"
#include "dns/wire.h"
#include "dns/zonefile.h"

#define MAX_SETS 64
#define MAX_IDX 512
#define RETRY_S 5
#define INSECURE_S 60

enum zstate { Z_UNKNOWN = 0, Z_SECURE = 1, Z_INSECURE = 2 };

struct vzone {
	bool used, anchor, waiting; /* waiting: for the parent's keys */
	uint8_t state;
	int fetch;                  /* fetch id in flight, -1 none */
	uint8_t name[NAME_MAXLEN];  /* lowercased */
	uint32_t expire;            /* SECURE: keys valid until */
	uint32_t retry;             /* UNKNOWN/INSECURE: not before */
	uint32_t ds_expire;         /* trusted DS valid until (anchors: never) */
	uint32_t last_use;
	unsigned nds;
	uint8_t *ds[VAL_MAX_DS];
	uint16_t dslen[VAL_MAX_DS];
	unsigned nakey;             /* anchor DNSKEYs (borrowed from the anchors) */
	const uint8_t *akey[VAL_MAX_DS];
	uint16_t akeylen[VAL_MAX_DS];
	unsigned nkeys;
	dnssec_key keys[VAL_MAX_KEYS];
	uint8_t *keyrd[VAL_MAX_KEYS];
};

struct vfetch {
	bool used;
	uint16_t qtype;
	int zone;
};

struct val_seen {
	_Atomic uint64_t e[VAL_SEEN]; /* key (32 bits, never 0) << 32 | expiry; 0: empty */
};

struct budget {
	uint32_t sec;
	unsigned n;
};

struct validator {
	val_config cfg;
	struct vzone zone[VAL_MAX_ZONES];
	struct vfetch fetch[VAL_MAX_FETCH];
	val_seen *seen;
	bool own_seen;
	struct budget *budget;
	msg_rr *rrs;
	uint8_t *scratch;
	dnssec_set sets[MAX_SETS];
	uint16_t idx[MAX_IDX];
	char why[VAL_WHYLEN];
	val_counters cnt;
};

static void inc(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

static uint32_t wall_now(void)
{
	return (uint32_t)time(NULL);
}

/* ---- anchors ---- */

val_anchors *val_anchors_new(void)
{
	return calloc(1, sizeof(val_anchors));
}

void val_anchors_free(val_anchors *a)
{
	if (!a)
		return;
	for (unsigned i = 0; i < a->n; i++)
		free(a->a[i].rdata);
	free(a);
}

struct aload {
	val_anchors *a;
	char *err;
	size_t errlen;
	int added;
};

static int anchor_rr(void *arg, const zf_rr *rr)
{
	struct aload *l = arg;
	if (rr->type != RR_DS && rr->type != RR_DNSKEY)
		return zf_error(rr, l->err, l->errlen, DNS_ETYPE, "a trust anchor must be a DS or DNSKEY record");
	if (rr->rdlen < 5)
		return zf_error(rr, l->err, l->errlen, DNS_EFORMAT, "trust anchor RDATA too short");
	if (l->a->n >= VAL_MAX_ANCHORS)
		return zf_error(rr, l->err, l->errlen, DNS_ESPACE, "more than %d trust anchors", VAL_MAX_ANCHORS);
	val_anchor *x = &l->a->a[l->a->n];
	x->rdata = malloc(rr->rdlen);
	if (!x->rdata)
		return zf_error(rr, l->err, l->errlen, DNS_ENOMEM, "out of memory");
	memcpy(x->rdata, rr->rdata, rr->rdlen);
	x->rdlen = rr->rdlen;
	x->type = rr->type;
	name_copy(x->owner, rr->owner);
	name_lower(x->owner);
	l->a->n++;
	l->added++;
	return 0;
}

int val_anchors_load(val_anchors *a, const char *path, char *err, size_t errlen)
{
	struct aload l = {a, err, errlen, 0};
	if (errlen)
		err[0] = 0;
	long rc = zonefile_parse(path, (const uint8_t *)"", anchor_rr, &l, err, errlen);
	if (rc < 0)
		return (int)rc;
	if (!l.added) {
		snprintf(err, errlen, "%s: no DS or DNSKEY record", path);
		return DNS_EINVAL;
	}
	a->files++;
	return l.added;
}

const uint8_t *val_anchors_cover(const val_anchors *a, const uint8_t *name)
{
	const uint8_t *best = NULL;
	int bl = -1;
	for (unsigned i = 0; i < a->n; i++) {
		if (!name_is_sub(name, a->a[i].owner))
			continue;
		int l = name_labels(a->a[i].owner);
		if (l > bl) {
			bl = l;
			best = a->a[i].owner;
		}
	}
	return best;
}

/* ---- zones ---- */

static void zone_drop_keys(struct vzone *z)
{
	for (unsigned i = 0; i < z->nkeys; i++) {
		dnssec_key_unload(&z->keys[i]);
		free(z->keyrd[i]);
	}
	z->nkeys = 0;
}

static void zone_drop_ds(struct vzone *z)
{
	for (unsigned i = 0; i < z->nds; i++)
		free(z->ds[i]);
	z->nds = 0;
}

static void zone_clear(struct vzone *z)
{
	zone_drop_keys(z);
	zone_drop_ds(z);
	memset(z, 0, sizeof(*z));
	z->fetch = -1;
}

static uint32_t vnow(const validator *v)
{
	return v->cfg.now();
}

static int zone_find(const validator *v, const uint8_t *name)
{
	for (int i = 0; i < VAL_MAX_ZONES; i++)
		if (v->zone[i].used && name_eq(v->zone[i].name, name))
			return i;
	return -1;
}

/* Finds or adds the zone (NULL when the table is full of busy zones). */
static struct vzone *zone_get(validator *v, const uint8_t *name)
{
	int i = zone_find(v, name);
	uint32_t now = vnow(v);
	if (i >= 0) {
		v->zone[i].last_use = now;
		return &v->zone[i];
	}
	int slot = -1;
	for (int k = 0; k < VAL_MAX_ZONES; k++) {
		const struct vzone *z = &v->zone[k];
		if (!z->used) {
			slot = k;
			break;
		}
		if (z->anchor || z->fetch >= 0 || z->waiting)
			continue;
		if (slot < 0 || z->last_use < v->zone[slot].last_use)
			slot = k;
	}
	if (slot < 0)
		return NULL;
	struct vzone *z = &v->zone[slot];
	zone_clear(z);
	z->used = true;
	name_copy(z->name, name);
	name_lower(z->name);
	z->last_use = now;
	return z;
}

int validator_add_server(validator *v)
{
	if (v->cfg.nservers >= VAL_MAX_SERVERS)
		return DNS_ESPACE;
	v->cfg.nservers++; /* its budget slot is still zero */
	return 0;
}

validator *validator_new(const val_config *cfg)
{
	if (!cfg || !cfg->anchors || !cfg->anchors->n || !cfg->nservers || cfg->nservers > VAL_MAX_SERVERS)
		return NULL;
	validator *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->cfg = *cfg;
	if (!v->cfg.max_verify)
		v->cfg.max_verify = 2000;
	if (!v->cfg.now)
		v->cfg.now = wall_now;
	for (int i = 0; i < VAL_MAX_ZONES; i++)
		v->zone[i].fetch = -1;
	v->seen = cfg->seen;
	if (!v->seen) {
		v->seen = val_seen_new();
		v->own_seen = true;
	}
	v->budget = calloc(VAL_MAX_SERVERS, sizeof(*v->budget)); /* room for validator_add_server */
	v->rrs = malloc(MSG_MAXRRS * sizeof(*v->rrs));
	v->scratch = malloc(DNSSEC_SCRATCH);
	if (!v->seen || !v->budget || !v->rrs || !v->scratch) {
		validator_free(v);
		return NULL;
	}
	const val_anchors *a = cfg->anchors;
	for (unsigned i = 0; i < a->n; i++) {
		struct vzone *z = zone_get(v, a->a[i].owner);
		if (!z) {
			validator_free(v);
			return NULL;
		}
		z->anchor = true;
		z->ds_expire = UINT32_MAX;
		if (a->a[i].type == RR_DS && z->nds < VAL_MAX_DS) {
			z->ds[z->nds] = malloc(a->a[i].rdlen);
			if (!z->ds[z->nds]) {
				validator_free(v);
				return NULL;
			}
			memcpy(z->ds[z->nds], a->a[i].rdata, a->a[i].rdlen);
			z->dslen[z->nds++] = a->a[i].rdlen;
		} else if (a->a[i].type == RR_DNSKEY && z->nakey < VAL_MAX_DS) {
			z->akey[z->nakey] = a->a[i].rdata;
			z->akeylen[z->nakey++] = a->a[i].rdlen;
		}
	}
	return v;
}

void validator_free(validator *v)
{
	if (!v)
		return;
	for (int i = 0; i < VAL_MAX_ZONES; i++)
		zone_clear(&v->zone[i]);
	if (v->own_seen)
		val_seen_free(v->seen);
	free(v->budget);
	free(v->rrs);
	free(v->scratch);
	free(v);
}

bool validator_covers(const validator *v, const uint8_t *name)
{
	return val_anchors_cover(v->cfg.anchors, name) != NULL;
}

const char *validator_why(const validator *v)
{
	return v->why;
}

const val_counters *validator_counters(const validator *v)
{
	return &v->cnt;
}

int validator_zone_state(const validator *v, const uint8_t *zone, unsigned *nkeys)
{
	int i = zone_find(v, zone);
	if (nkeys)
		*nkeys = i >= 0 ? v->zone[i].nkeys : 0;
	if (i < 0)
		return -1;
	const struct vzone *z = &v->zone[i];
	if (z->state == Z_SECURE && vnow(v) >= z->expire)
		return Z_UNKNOWN;
	return z->state;
}

/* ---- fetching ---- */

static bool zone_ready(const validator *v, const struct vzone *z)
{
	return z->state == Z_SECURE && z->nkeys && vnow(v) < z->expire;
}

static bool has_trusted_ds(const validator *v, const struct vzone *z)
{
	return z->nakey || (z->nds && vnow(v) < z->ds_expire);
}

static void start_fetch(validator *v, struct vzone *z, uint16_t qtype)
{
	if (!v->cfg.fetch || z->fetch >= 0)
		return;
	int id = -1;
	for (int i = 0; i < VAL_MAX_FETCH; i++)
		if (!v->fetch[i].used) {
			id = i;
			break;
		}
	if (id < 0)
		return; /* cap: asked again by a later reply */
	v->fetch[id] = (struct vfetch){true, qtype, (int)(z - v->zone)};
	z->fetch = id;
	inc(&v->cnt.fetches);
	if (v->cfg.fetch(v->cfg.fetch_arg, (unsigned)id, z->name, qtype) < 0) {
		v->fetch[id].used = false;
		z->fetch = -1;
		z->retry = vnow(v) + RETRY_S;
		inc(&v->cnt.fetch_failed);
	}
}

/* Starts whatever brings z closer to SECURE (unless busy or backing off). */
static void want_keys(validator *v, struct vzone *z)
{
	if (z->fetch >= 0 || z->waiting || zone_ready(v, z))
		return;
	if (vnow(v) < z->retry)
		return;
	if (z->state == Z_SECURE) /* expired */
		z->state = Z_UNKNOWN;
	start_fetch(v, z, has_trusted_ds(v, z) ? RR_DNSKEY : RR_DS);
}

/* Zone z became secure: children waiting for it ask for their DS again. */
static void wake_children(validator *v, const struct vzone *z)
{
	for (int i = 0; i < VAL_MAX_ZONES; i++) {
		struct vzone *c = &v->zone[i];
		if (c->used && c->waiting && c != z && name_is_sub(c->name, z->name)) {
			c->waiting = false;
			c->retry = 0;
			want_keys(v, c);
		}
	}
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* The set of type `type` owned by name in the answer section, or -1. */
static int find_set(const msg *m, const dnssec_set *sets, int ns, const uint8_t *name, uint16_t type)
{
	for (int i = 0; i < ns; i++) {
		uint8_t o[NAME_MAXLEN];
		if (sets[i].type == type && msg_rr_owner(m, &m->rr[sets[i].rr0], o) > 0 && name_eq(o, name))
			return i;
	}
	return -1;
}

static const uint8_t *sig_signer(const msg *m, unsigned rri)
{
	const msg_rr *r = &m->rr[rri];
	return r->rdlen > 18 ? m->wire + r->rdata + 18 : NULL;
}

/* A DS reply for zone z: true when the DS set was trusted (or the reply
 * was otherwise conclusive). */
static bool ds_reply(validator *v, struct vzone *z, const msg *m, int ns)
{
	int si = find_set(m, v->sets, ns, z->name, RR_DS);
	if (si < 0 || !v->sets[si].nsig)
		return false; /* no (signed) DS: maybe insecure, maybe forged */
	const dnssec_set *s = &v->sets[si];
	const uint8_t *signer = sig_signer(m, v->idx[s->sig]);
	const uint8_t *anc = val_anchors_cover(v->cfg.anchors, z->name);
	if (!signer || !anc || name_eq(signer, z->name) || !name_is_sub(z->name, signer) ||
	    !name_is_sub(signer, anc))
		return false;
	struct vzone *p = zone_get(v, signer);
	if (!p)
		return false;
	if (!zone_ready(v, p)) {
		z->waiting = true;
		want_keys(v, p);
		return true; /* asked again once the parent is secure */
	}
	dnssec_ctx c;
	dnssec_ctx_init(&c, v->scratch, DNSSEC_SCRATCH, vnow(v));
	if (dnssec_verify_set(&c, m, s, v->idx, p->keys, p->nkeys) != DNSSEC_OK || c.why.wildcard)
		return false;
	zone_drop_ds(z);
	for (unsigned i = 0; i < s->n && z->nds < VAL_MAX_DS; i++) {
		const msg_rr *r = &m->rr[v->idx[s->first + i]];
		uint8_t *d = malloc(r->rdlen ? r->rdlen : 1);
		if (!d)
			break;
		memcpy(d, m->wire + r->rdata, r->rdlen);
		z->ds[z->nds] = d;
		z->dslen[z->nds++] = r->rdlen;
	}
	z->ds_expire = vnow(v) + min_u32(c.why.ttl, p->expire - vnow(v));
	return z->nds > 0;
}

/* Does key k match a trusted DS or an anchor key of z? */
static bool key_trusted(const struct vzone *z, const dnssec_key *k)
{
	for (unsigned i = 0; i < z->nds; i++)
		if (dnssec_ds_match(z->ds[i], z->dslen[i], k) == DNSSEC_OK)
			return true;
	for (unsigned i = 0; i < z->nakey; i++)
		if (z->akeylen[i] == k->rdlen && !memcmp(z->akey[i], k->rdata, k->rdlen))
			return true;
	return false;
}

static bool dnskey_reply(validator *v, struct vzone *z, const msg *m, int ns)
{
	int si = find_set(m, v->sets, ns, z->name, RR_DNSKEY);
	if (si < 0 || !v->sets[si].nsig)
		return false;
	const dnssec_set *s = &v->sets[si];
	uint8_t owner[NAME_MAXLEN];
	dnssec_key keys[VAL_MAX_KEYS], trusted[VAL_MAX_KEYS];
	int nk = dnssec_keys_from_set(m, s, v->idx, owner, keys, VAL_MAX_KEYS);
	if (nk <= 0)
		return false;
	unsigned nt = 0;
	for (int i = 0; i < nk; i++)
		if (key_trusted(z, &keys[i]))
			trusted[nt++] = keys[i];
	if (!nt)
		return false;
	dnssec_ctx c;
	uint32_t now = vnow(v);
	dnssec_ctx_init(&c, v->scratch, DNSSEC_SCRATCH, now);
	if (dnssec_verify_set(&c, m, s, v->idx, trusted, nt) != DNSSEC_OK || c.why.wildcard)
		return false;
	zone_drop_keys(z);
	for (int i = 0; i < nk && z->nkeys < VAL_MAX_KEYS; i++) {
		uint8_t *rd = malloc(keys[i].rdlen);
		if (!rd)
			break;
		memcpy(rd, keys[i].rdata, keys[i].rdlen);
		dnssec_key *k = &z->keys[z->nkeys];
		if (dnssec_key_init(k, z->name, rd, keys[i].rdlen) < 0 ||
		    dnssec_key_load(k) != DNSSEC_OK) { /* unsupported keys are kept unloaded */
			if (k->pkey)
				dnssec_key_unload(k);
		}
		z->keyrd[z->nkeys++] = rd;
	}
	uint32_t ttl = c.why.ttl;
	if (!z->anchor)
		ttl = z->ds_expire > now ? min_u32(ttl, z->ds_expire - now) : 1;
	if (ttl < 1)
		ttl = 1;
	z->state = Z_SECURE;
	z->expire = now + ttl;
	inc(&v->cnt.zones_secure);
	return true;
}

int validator_fetch_reply(validator *v, unsigned id, const uint8_t *wire, size_t len)
{
	if (id >= VAL_MAX_FETCH || !v->fetch[id].used)
		return VAL_FETCH_DONE;
	struct vfetch *f = &v->fetch[id];
	struct vzone *z = &v->zone[f->zone];
	msg m;
	if (msg_parse(&m, wire, len, v->rrs, MSG_MAXRRS) < 0 || msg_rcode(&m) != RCODE_NOERROR ||
	    m.hdr.qdcount != 1 || m.qtype != f->qtype || !name_eq(m.qname, z->name))
		return VAL_FETCH_MORE;
	int ns = dnssec_group(&m, MSG_ANSWER, v->sets, MAX_SETS, v->idx, MAX_IDX);
	if (ns < 0)
		return VAL_FETCH_MORE;
	bool ok = f->qtype == RR_DS ? ds_reply(v, z, &m, ns) : dnskey_reply(v, z, &m, ns);
	if (!ok) {
		/* a DS query answered without a DS set: insecure or forged —
		 * the transaction keeps listening; if nothing better comes the
		 * zone is left alone for a while (validator_fetch_end) */
		if (f->qtype == RR_DS && find_set(&m, v->sets, ns, z->name, RR_DS) < 0)
			z->state = Z_INSECURE;
		return VAL_FETCH_MORE;
	}
	f->used = false;
	z->fetch = -1;
	z->retry = 0;
	inc(&v->cnt.fetch_ok);
	if (z->waiting)
		return VAL_FETCH_DONE; /* a parent fetch was started */
	if (f->qtype == RR_DS) {
		z->state = Z_UNKNOWN;
		start_fetch(v, z, RR_DNSKEY);
	} else {
		wake_children(v, z);
	}
	return VAL_FETCH_DONE;
}

void validator_fetch_end(validator *v, unsigned id)
{
	if (id >= VAL_MAX_FETCH || !v->fetch[id].used)
		return;
	struct vfetch *f = &v->fetch[id];
	struct vzone *z = &v->zone[f->zone];
	f->used = false;
	z->fetch = -1;
	inc(&v->cnt.fetch_failed);
	z->retry = vnow(v) + (z->state == Z_INSECURE ? INSECURE_S : RETRY_S);
	if (z->state != Z_INSECURE)
		z->state = Z_UNKNOWN;
}

void validator_prime(validator *v)
{
	for (int i = 0; i < VAL_MAX_ZONES; i++)
		if (v->zone[i].used && v->zone[i].anchor)
			want_keys(v, &v->zone[i]);
}

/* ---- the seen-signed set ---- */

val_seen *val_seen_new(void)
{
	return calloc(1, sizeof(val_seen));
}

void val_seen_free(val_seen *s)
{
	free(s);
}

static uint64_t seen_hash(const uint8_t *qname, uint16_t qtype)
{
	uint64_t h = name_hash(qname, name_len(qname)) ^ ((uint64_t)qtype * 0x9e3779b97f4a7c15ull);
	return h ^ (h >> 31);
}

/* The 32 key bits of an entry, never 0 (0 is the empty entry). */
static uint64_t seen_key(uint64_t h)
{
	return (h >> 32) | 1;
}

static bool seen_get(const validator *v, const uint8_t *qname, uint16_t qtype)
{
	uint64_t h = seen_hash(qname, qtype);
	uint64_t e = atomic_load_explicit(&v->seen->e[h & (VAL_SEEN - 1)], memory_order_relaxed);
	return e >> 32 == seen_key(h) && vnow(v) < (uint32_t)e;
}

static void seen_put(validator *v, const uint8_t *qname, uint16_t qtype, uint32_t ttl)
{
	uint64_t h = seen_hash(qname, qtype);
	uint32_t until = vnow(v) + (ttl ? ttl : 1);
	atomic_store_explicit(&v->seen->e[h & (VAL_SEEN - 1)], seen_key(h) << 32 | until, memory_order_relaxed);
}

/* ---- verdicts ---- */

static bool budget_take(validator *v, unsigned server)
{
	if (server >= v->cfg.nservers)
		server = 0;
	struct budget *b = &v->budget[server];
	uint32_t now = vnow(v);
	if (b->sec != now) {
		b->sec = now;
		b->n = 0;
	}
	if (b->n >= v->cfg.max_verify)
		return false;
	b->n++;
	return true;
}

static void say(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, cap, fmt, ap);
	va_end(ap);
}

static void text(const uint8_t *name, char *out, size_t cap)
{
	if (name_to_text(name, out, cap) < 0)
		snprintf(out, cap, "?");
	size_t l = strlen(out);
	if (l > 1 && out[l - 1] == '.')
		out[l - 1] = 0;
}

int validator_check(validator *v, const uint8_t *wire, size_t len, unsigned server)
{
	v->why[0] = 0;
	msg m;
	if (msg_parse(&m, wire, len, v->rrs, MSG_MAXRRS) < 0 || m.hdr.qdcount != 1)
		return VAL_NONE;
	if (!validator_covers(v, m.qname))
		return VAL_NONE;
	inc(&v->cnt.checked);
	char qn[NAME_MAXTEXT], tb[16];
	text(m.qname, qn, sizeof(qn));
	rrtype_to_text(m.qtype, tb);
	/* all RRsets of one owner live in one zone: seen signed with any
	 * type (type 0 entries) counts too */
	bool seen = seen_get(v, m.qname, m.qtype) || seen_get(v, m.qname, 0);
	int ns = dnssec_group(&m, MSG_ANSWER, v->sets, MAX_SETS, v->idx, MAX_IDX);
	if (ns < 0) {
		say(v->why, sizeof(v->why), "none: answer too large to check");
		return VAL_NONE;
	}
	unsigned nsigs = 0;
	for (unsigned i = 0; i < m.nrr; i++)
		if (m.rr[i].type == RR_RRSIG && m.rr[i].section != MSG_QUESTION)
			nsigs++;
	if (!nsigs) {
		if (seen) {
			inc(&v->cnt.bogus);
			inc(&v->cnt.unsigned_seen);
			say(v->why, sizeof(v->why), "bogus: unsigned answer for a name seen signed (%s %s)", qn,
				 tb);
			return VAL_BOGUS;
		}
		inc(&v->cnt.insecure);
		say(v->why, sizeof(v->why), "insecure: no signature (%s %s)", qn, tb);
		return VAL_NONE;
	}
	int verdict = VAL_SECURE;
	uint32_t ttl = UINT32_MAX;
	char detail[160] = "";
	const char *none_why = NULL;
	bool pending = false;
	if (!ns)
		verdict = VAL_NONE, none_why = "no answer records (denial not checked)";
	for (int i = 0; i < ns; i++) {
		const dnssec_set *s = &v->sets[i];
		uint8_t owner[NAME_MAXLEN];
		char on[NAME_MAXTEXT], st[16];
		if (msg_rr_owner(&m, &m.rr[s->rr0], owner) < 0)
			return VAL_NONE;
		text(owner, on, sizeof(on));
		rrtype_to_text(s->type, st);
		if (!s->nsig) {
			if (seen) {
				inc(&v->cnt.bogus);
				inc(&v->cnt.unsigned_seen);
				say(v->why, sizeof(v->why),
					 "bogus: unsigned %s %s in an answer for a name seen signed", on, st);
				return VAL_BOGUS;
			}
			verdict = VAL_NONE;
			none_why = "an RRset has no signature";
			continue;
		}
		const uint8_t *signer = sig_signer(&m, v->idx[s->sig]);
		if (!signer || !validator_covers(v, signer) || !name_is_sub(owner, signer) ||
		    name_labels(signer) - name_labels(val_anchors_cover(v->cfg.anchors, signer)) > VAL_MAX_DEPTH) {
			if (seen) {
				inc(&v->cnt.bogus);
				say(v->why, sizeof(v->why), "bogus: %s %s signed by an unrelated zone", on, st);
				return VAL_BOGUS;
			}
			verdict = VAL_NONE;
			none_why = "signer outside the trust anchors";
			continue;
		}
		char sn[NAME_MAXTEXT];
		text(signer, sn, sizeof(sn));
		struct vzone *z = zone_get(v, signer);
		if (!z || !zone_ready(v, z)) {
			if (z)
				want_keys(v, z);
			verdict = VAL_NONE;
			none_why = "keys of the signer not known yet";
			pending = true;
			say(detail, sizeof(detail), "keys of %s being fetched", sn);
			continue;
		}
		if (!budget_take(v, server)) {
			inc(&v->cnt.limited);
			say(v->why, sizeof(v->why), "none: verification budget exhausted");
			return VAL_NONE;
		}
		dnssec_ctx c;
		dnssec_ctx_init(&c, v->scratch, DNSSEC_SCRATCH, vnow(v));
		int st_ = dnssec_verify_set(&c, &m, s, v->idx, z->keys, z->nkeys);
		if (st_ != DNSSEC_OK) {
			inc(&v->cnt.bogus);
			say(v->why, sizeof(v->why), "bogus: %s %s (signer %s, key %u alg %u): %s (%s)", on, st,
				 sn, c.why.tag, c.why.alg, c.why.reason, dnssec_status_name(st_));
			if (st_ == DNSSEC_NO_KEY) /* maybe a key rollover: learn the keys again */
				z->expire = vnow(v);
			return VAL_BOGUS;
		}
		if (c.why.wildcard) {
			inc(&v->cnt.wildcard);
			verdict = VAL_NONE;
			none_why = "wildcard expansion (the NSEC/NSEC3 proof is not checked)";
			continue;
		}
		if (c.why.ttl < ttl)
			ttl = c.why.ttl;
		if (!detail[0] || verdict == VAL_SECURE)
			say(detail, sizeof(detail), "%s %s signed by %s key %u alg %u", on, st, sn, c.why.tag,
				 c.why.alg);
	}
	if (verdict == VAL_SECURE) {
		inc(&v->cnt.secure);
		seen_put(v, m.qname, m.qtype, ttl);
		if (m.qtype != RR_DS) /* DS lives on the parent side of a cut */
			seen_put(v, m.qname, 0, ttl);
		say(v->why, sizeof(v->why), "secure: %s", detail);
		return VAL_SECURE;
	}
	if (pending)
		inc(&v->cnt.pending);
	say(v->why, sizeof(v->why), "no signal: %s%s%s", none_why ? none_why : "?", detail[0] ? ": " : "",
		 detail);
	return VAL_NONE;
}
