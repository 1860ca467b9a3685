/* internet — the lab's synthetic internet: sites, truth, zone files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "inject/gfwlist.h"
#include "inject/rules.h"
#include "lab/internet.h"
#include "lab/rng.h"

void internet_opts_default(struct internet_opts *o)
{
	*o = (struct internet_opts){
		.sites = 2000, .seed = 1, .ttl_scale = 100, .domestic_pct = 10, .cn_pct = 50,
		.listed_pct = 20, .aaaa_pct = 30, .www_pct = 60,
	};
}

/* ---- a set of lower-case strings (zones taken, their ancestors) ---- */

struct sset {
	char **key;
	uint8_t *flag;
	size_t cap, n;
};

static uint64_t hash_text(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			c += 32;
		h = (h ^ c) * 0x100000001b3ull;
	}
	return h;
}

static int sset_init(struct sset *s, size_t want)
{
	s->cap = 64;
	while (s->cap < want * 2)
		s->cap <<= 1;
	s->n = 0;
	s->key = calloc(s->cap, sizeof(*s->key));
	s->flag = calloc(s->cap, 1);
	return s->key && s->flag ? 0 : DNS_ENOMEM;
}

static void sset_free(struct sset *s)
{
	if (s->key)
		for (size_t i = 0; i < s->cap; i++)
			free(s->key[i]);
	free(s->key);
	free(s->flag);
	s->key = NULL;
	s->flag = NULL;
}

/* Slot of s[0..len) : existing entry or the empty slot where it goes. */
static size_t sset_slot(const struct sset *s, const char *k, size_t len)
{
	size_t i = hash_text(k, len) & (s->cap - 1);
	while (s->key[i] && !(strlen(s->key[i]) == len && !strncasecmp(s->key[i], k, len)))
		i = (i + 1) & (s->cap - 1);
	return i;
}

/* 0 = absent, else the flags. */
static int sset_get(const struct sset *s, const char *k, size_t len)
{
	size_t i = sset_slot(s, k, len);
	return s->key[i] ? s->flag[i] : 0;
}

static int sset_put(struct sset *s, const char *k, size_t len, uint8_t flag)
{
	if ((s->n + 1) * 2 > s->cap)
		return DNS_ENOMEM; /* sized up front; never grows */
	size_t i = sset_slot(s, k, len);
	if (!s->key[i]) {
		s->key[i] = strndup(k, len);
		if (!s->key[i])
			return DNS_ENOMEM;
		s->n++;
	}
	s->flag[i] |= flag;
	return 0;
}

#define SS_ZONE 1
#define SS_ANCESTOR 2

/* Whether zone z can be taken: neither it nor an ancestor (below the TLD)
 * nor a descendant is a zone already. */
static bool zone_free(const struct sset *s, const char *z)
{
	if (sset_get(s, z, strlen(z)))
		return false;
	for (const char *p = strchr(z, '.'); p; p = strchr(p + 1, '.'))
		if (sset_get(s, p + 1, strlen(p + 1)) & SS_ZONE)
			return false;
	return true;
}

static int zone_take(struct sset *s, const char *z)
{
	int rc = sset_put(s, z, strlen(z), SS_ZONE);
	for (const char *p = strchr(z, '.'); !rc && p && strchr(p + 1, '.'); p = strchr(p + 1, '.'))
		rc = sset_put(s, p + 1, strlen(p + 1), SS_ANCESTOR);
	return rc;
}

/* ---- names ---- */

/* A plausible host name: letters, digits, '-', 2+ labels of 1..63, no
 * all-numeric TLD, not an IPv4 literal. Lower-cases in place. */
static bool host_ok(char *h)
{
	size_t len = strlen(h);
	if (len < 3 || len >= SITE_NAMEMAX - 8)
		return false;
	size_t lab = 0;
	int dots = 0;
	bool digits_only_last = true;
	for (size_t i = 0; i < len; i++) {
		char c = h[i];
		if (c >= 'A' && c <= 'Z')
			h[i] = c = (char)(c + 32);
		if (c == '.') {
			if (lab == 0 || h[i - 1] == '-')
				return false;
			dots++;
			lab = 0;
			digits_only_last = true;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (c == '-' && lab == 0)
			return false;
		if (!(c >= '0' && c <= '9'))
			digits_only_last = false;
		if (++lab > 63)
			return false;
	}
	return dots >= 1 && lab > 0 && !digits_only_last && h[len - 1] != '-';
}

static const char *last_label(const char *z)
{
	const char *p = strrchr(z, '.');
	return p ? p + 1 : z;
}

/* Host part of one gfwlist line into out (empty when none). */
static void gfw_host(const char *line, size_t len, char *out, size_t cap)
{
	out[0] = 0;
	if (len == 0 || line[0] == '!' || line[0] == '[' || line[0] == '/' || line[0] == '@')
		return;
	size_t i = 0;
	if (len >= 2 && line[0] == '|' && line[1] == '|')
		i = 2;
	else if (line[0] == '|')
		i = 1;
	else if (line[0] == '.')
		i = 1;
	else
		return; /* plain keywords are not names */
	const char *sep = NULL;
	for (size_t k = i; k + 2 < len; k++)
		if (line[k] == ':' && line[k + 1] == '/' && line[k + 2] == '/') {
			sep = line + k + 3;
			break;
		}
	if (sep)
		i = (size_t)(sep - line);
	size_t o = 0;
	for (; i < len && o + 1 < cap; i++) {
		char c = line[i];
		if (c == '/' || c == ':' || c == '|' || c == '^' || c == '?')
			break;
		if (c == '*') {
			o = 0;
			break;
		}
		out[o++] = c;
	}
	out[o] = 0;
}

struct span {
	const char *p;
	size_t len;
};

static int spans_push(struct span **v, size_t *n, size_t *cap, const char *p, size_t len)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct span *nv = realloc(*v, nc * sizeof(**v));
		if (!nv)
			return DNS_ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = (struct span){p, len};
	return 0;
}

static void shuffle_spans(struct span *v, size_t n, struct rng *r)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rng_below(r, (uint32_t)i);
		struct span t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* Lines of text; for each, fn extracts a host into h (or leaves it empty). */
static int collect(const char *text, size_t len, bool chinalist, struct span **v, size_t *n, size_t *cap)
{
	size_t i = 0;
	while (i < len) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		size_t l = e - i;
		while (l && (text[i + l - 1] == '\r' || text[i + l - 1] == ' '))
			l--;
		const char *line = text + i;
		if (chinalist) {
			if (l > 8 && !strncmp(line, "server=/", 8)) {
				const char *d = line + 8;
				const char *end = memchr(d, '/', l - 8);
				if (end && end > d && spans_push(v, n, cap, d, (size_t)(end - d)))
					return DNS_ENOMEM;
			}
		} else if (l && spans_push(v, n, cap, line, l)) {
			return DNS_ENOMEM;
		}
		i = e + 1;
	}
	return 0;
}

static int tld_index(struct internet *net, const char *zone)
{
	const char *t = last_label(zone);
	for (unsigned i = 0; i < net->ntld; i++)
		if (!strcmp(net->tld[i], t))
			return (int)i;
	if (net->ntld >= INTERNET_MAXTLDS || strlen(t) >= INTERNET_TLDMAX)
		return -1;
	snprintf(net->tld[net->ntld], INTERNET_TLDMAX, "%s", t);
	return (int)net->ntld++;
}

struct ttl_share {
	uint32_t ttl;
	unsigned pct;
};

static const struct ttl_share ttl_all[] = {
	{60, 10}, {300, 35}, {600, 15}, {1800, 10}, {3600, 15}, {14400, 5}, {86400, 10}, {0, 0},
};
/* the most popular names sit behind CDNs and load balancers */
static const struct ttl_share ttl_popular[] = {{60, 30}, {300, 50}, {600, 10}, {3600, 10}, {0, 0}};

uint32_t internet_ttl_real(double u, bool popular)
{
	const struct ttl_share *d = popular ? ttl_popular : ttl_all;
	double acc = 0;
	size_t i;
	for (i = 0; d[i].ttl; i++) {
		acc += d[i].pct / 100.0;
		if (u < acc)
			return d[i].ttl;
	}
	return d[i - 1].ttl;
}

/* Popularity ranks (a seeded shuffle), then TTLs: the top 5% of the ranks
 * draw from the short distribution. */
static int rank_and_ttl(struct internet *net, struct rng *r)
{
	uint32_t *perm = malloc(sizeof(uint32_t) * net->n);
	if (!perm)
		return DNS_ENOMEM;
	for (unsigned i = 0; i < net->n; i++)
		perm[i] = i;
	for (unsigned i = net->n; i > 1; i--) {
		uint32_t j = rng_below(r, i), x = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = x;
	}
	unsigned top = net->n / 20 ? net->n / 20 : 1;
	uint32_t sc = net->opts.ttl_scale ? net->opts.ttl_scale : 1;
	for (unsigned k = 0; k < net->n; k++) {
		struct site *s = &net->site[perm[k]];
		s->rank = k;
		s->ttl_real = internet_ttl_real(rng_unit(r), k < top);
		s->ttl = (s->ttl_real + sc / 2) / sc;
		if (s->ttl == 0)
			s->ttl = 1;
	}
	free(perm);
	return 0;
}

static int add_site(struct internet *net, struct sset *taken, struct rng *r, const char *zone,
		    enum site_origin origin, bool domestic)
{
	if (!zone_free(taken, zone))
		return 1;
	int t = tld_index(net, zone);
	if (t < 0)
		return 1;
	if (zone_take(taken, zone))
		return DNS_ENOMEM;
	struct site *s = &net->site[net->n];
	memset(s, 0, sizeof(*s));
	snprintf(s->zone, sizeof(s->zone), "%s", zone);
	if (rng_below(r, 100) < net->opts.www_pct)
		snprintf(s->name, sizeof(s->name), "www.%s", zone);
	else
		snprintf(s->name, sizeof(s->name), "%s", zone);
	s->tld = (uint16_t)t;
	s->origin = (uint8_t)origin;
	s->domestic = domestic;
	const char *tl = net->tld[t];
	s->cno = !strcmp(tl, "com") || !strcmp(tl, "net") || !strcmp(tl, "org");
	static const uint8_t nets[3][3] = {{192, 0, 2}, {198, 51, 100}, {203, 0, 113}};
	s->na = rng_below(r, 4) == 0 ? 2 : 1;
	for (int k = 0; k < s->na; k++) {
		const uint8_t *p = nets[rng_below(r, 3)];
		memcpy(s->a[k], p, 3);
		s->a[k][3] = (uint8_t)(1 + rng_below(r, 254));
	}
	if (s->na == 2 && !memcmp(s->a[0], s->a[1], 4))
		s->a[1][3] = (uint8_t)(s->a[1][3] % 254 + 1);
	if (rng_below(r, 100) < net->opts.aaaa_pct) {
		static const uint8_t pre[4] = {0x20, 0x01, 0x0d, 0xb8};
		s->naaaa = 1;
		memcpy(s->aaaa, pre, 4);
		uint32_t i = net->n + 1;
		s->aaaa[4] = (uint8_t)(i >> 24);
		s->aaaa[5] = (uint8_t)(i >> 16);
		s->aaaa[6] = (uint8_t)(i >> 8);
		s->aaaa[7] = (uint8_t)i;
		s->aaaa[15] = 1;
	}
	net->counts[origin]++;
	net->n++;
	return 0;
}

static void gen_label(struct rng *r, char *out, size_t cap)
{
	static const char *cons[] = {"b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t",
				     "v", "w", "z", "st", "tr", "pl", "sh", "ch", "br", "gr"};
	static const char *vow[] = {"a", "e", "i", "o", "u", "ai", "ou", "io", "ea"};
	size_t o = 0;
	unsigned syl = 2 + rng_below(r, 3);
	for (unsigned i = 0; i < syl && o + 8 < cap; i++) {
		o += (size_t)snprintf(out + o, cap - o, "%s%s", cons[rng_below(r, sizeof(cons) / sizeof(cons[0]))],
				      vow[rng_below(r, sizeof(vow) / sizeof(vow[0]))]);
	}
	if (rng_below(r, 5) == 0 && o + 4 < cap)
		o += (size_t)snprintf(out + o, cap - o, "%u", rng_below(r, 100));
	out[o] = 0;
}

static const char *gen_tld(struct rng *r)
{
	static const struct {
		const char *t;
		unsigned w;
	} tl[] = {{"com", 70}, {"net", 12}, {"org", 8}, {"io", 3}, {"de", 2}, {"jp", 2}, {"uk", 1}, {"info", 1}, {"tv", 1}};
	unsigned x = rng_below(r, 100), acc = 0;
	for (size_t i = 0; i < sizeof(tl) / sizeof(tl[0]); i++) {
		acc += tl[i].w;
		if (x < acc)
			return tl[i].t;
	}
	return "com";
}

static int build_index(struct internet *net)
{
	net->idxcap = 64;
	while (net->idxcap < (size_t)net->n * 2)
		net->idxcap <<= 1;
	net->idx = malloc(net->idxcap * sizeof(uint32_t));
	if (!net->idx)
		return DNS_ENOMEM;
	memset(net->idx, 0xff, net->idxcap * sizeof(uint32_t));
	for (unsigned i = 0; i < net->n; i++) {
		const char *nm = net->site[i].name;
		size_t k = hash_text(nm, strlen(nm)) & (net->idxcap - 1);
		while (net->idx[k] != UINT32_MAX)
			k = (k + 1) & (net->idxcap - 1);
		net->idx[k] = i;
	}
	return 0;
}

int internet_find(const struct internet *net, const char *name, size_t len)
{
	if (len && name[len - 1] == '.')
		len--;
	if (!net->idx || len == 0)
		return -1;
	size_t k = hash_text(name, len) & (net->idxcap - 1);
	while (net->idx[k] != UINT32_MAX) {
		const char *nm = net->site[net->idx[k]].name;
		if (strlen(nm) == len && !strncasecmp(nm, name, len))
			return (int)net->idx[k];
		k = (k + 1) & (net->idxcap - 1);
	}
	return -1;
}

int internet_build(struct internet *net, const struct internet_opts *o, const char *gfwlist, size_t glen,
		   const char *chinalist, size_t clen, char *err, size_t errlen)
{
	memset(net, 0, sizeof(*net));
	net->opts = *o;
	if (o->sites == 0 || o->sites > INTERNET_MAXSITES || o->ttl_scale == 0 || o->domestic_pct > 100 ||
	    o->listed_pct > 100 || o->domestic_pct + o->listed_pct > 100 || o->cn_pct > 100 ||
	    o->aaaa_pct > 100 || o->www_pct > 100) {
		snprintf(err, errlen, "bad internet options (sites 1..%d, shares in %%)", INTERNET_MAXSITES);
		return DNS_EINVAL;
	}
	struct rng r;
	rng_seed(&r, o->seed ^ 0x1a7e51735ull);
	struct span *gv = NULL, *cv = NULL;
	size_t gn = 0, gcap = 0, cn = 0, ccap = 0;
	struct sset taken = {0};
	int rc = DNS_ENOMEM;
	net->site = calloc(o->sites, sizeof(*net->site));
	if (!net->site || sset_init(&taken, (size_t)o->sites * 4 + 64))
		goto fail;
	if (gfwlist && collect(gfwlist, glen, false, &gv, &gn, &gcap))
		goto fail;
	if (chinalist && collect(chinalist, clen, true, &cv, &cn, &ccap))
		goto fail;
	shuffle_spans(gv, gn, &r);
	shuffle_spans(cv, cn, &r);
	/* reserve the TLD servers' own zones nic.<tld> */
	static const char *reserved[] = {"nic.com", "nic.net", "nic.org", "nic.cn", "root-servers.net", "example.com",
					 "example.net", "example.org"};
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (zone_take(&taken, reserved[i]))
			goto fail;

	unsigned ndom = o->sites * o->domestic_pct / 100;
	unsigned ncn = ndom * o->cn_pct / 100;
	unsigned nchina = ndom - ncn;
	unsigned nlisted = o->sites * o->listed_pct / 100;
	char h[SITE_NAMEMAX + 16];
	/* domestic, from the china list (not .cn: whole .cn is routed anyway) */
	size_t ci = 0;
	while (net->n < nchina && ci < cn) {
		struct span s = cv[ci++];
		if (s.len >= SITE_NAMEMAX - 8)
			continue;
		memcpy(h, s.p, s.len);
		h[s.len] = 0;
		if (!host_ok(h) || !strcmp(last_label(h), "cn"))
			continue;
		if ((rc = add_site(net, &taken, &r, h, SITE_CHINALIST, true)) < 0)
			goto fail;
	}
	/* domestic under .cn: a china-list label (or a made-up one) + .cn / .com.cn */
	unsigned want = net->n + ncn + (nchina - net->counts[SITE_CHINALIST]);
	for (unsigned tries = 0; net->n < want && tries < want * 20; tries++) {
		char lab[64];
		if (ci < cn && cv[ci].len < 60) {
			struct span s = cv[ci++];
			const char *dot = memchr(s.p, '.', s.len);
			size_t l = dot ? (size_t)(dot - s.p) : s.len;
			memcpy(lab, s.p, l);
			lab[l] = 0;
		} else {
			gen_label(&r, lab, sizeof(lab));
		}
		snprintf(h, sizeof(h), rng_below(&r, 2) ? "%s.com.cn" : "%s.cn", lab);
		if (!host_ok(h))
			continue;
		if ((rc = add_site(net, &taken, &r, h, SITE_CN, true)) < 0)
			goto fail;
	}
	/* foreign, from gfwlist */
	unsigned gstop = net->n + nlisted;
	for (size_t gi = 0; net->n < gstop && gi < gn; gi++) {
		size_t l = gv[gi].len < 400 ? gv[gi].len : 400;
		char line[401];
		memcpy(line, gv[gi].p, l);
		line[l] = 0;
		gfw_host(line, l, h, sizeof(h));
		if (!h[0] || !host_ok(h) || !strcmp(last_label(h), "cn"))
			continue;
		if (!strncmp(h, "www.", 4))
			memmove(h, h + 4, strlen(h + 4) + 1);
		if (!strchr(h, '.'))
			continue;
		if ((rc = add_site(net, &taken, &r, h, SITE_GFWLIST, false)) < 0)
			goto fail;
	}
	/* foreign, generated */
	for (unsigned tries = 0; net->n < o->sites && tries < o->sites * 50; tries++) {
		char lab[64];
		gen_label(&r, lab, sizeof(lab));
		snprintf(h, sizeof(h), "%s.%s", lab, gen_tld(&r));
		if ((rc = add_site(net, &taken, &r, h, SITE_GENERATED, false)) < 0)
			goto fail;
	}
	if (net->n < o->sites) {
		snprintf(err, errlen, "could only make %u of %u sites", net->n, o->sites);
		rc = DNS_EINVAL;
		goto fail;
	}
	if ((rc = rank_and_ttl(net, &r)) < 0 || (rc = build_index(net)) < 0)
		goto fail;
	free(gv);
	free(cv);
	sset_free(&taken);
	return 0;
fail:
	if (rc == DNS_ENOMEM)
		snprintf(err, errlen, "out of memory");
	free(gv);
	free(cv);
	sset_free(&taken);
	internet_free(net);
	return rc < 0 ? rc : DNS_ENOMEM;
}

static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		size_t k = fread(buf + n, 1, cap - n, f);
		n += k;
		if (n < cap)
			break;
		char *nb = realloc(buf, cap * 2 + 1);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	bool bad = ferror(f);
	fclose(f);
	if (!buf || bad) {
		free(buf);
		snprintf(err, errlen, "%s: %s", path, bad ? "read error" : "out of memory");
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

int internet_load(struct internet *net, const struct internet_opts *o, const char *datadir, char *err,
		  size_t errlen)
{
	char p[4096];
	size_t glen = 0, clen = 0;
	snprintf(p, sizeof(p), "%s/gfwlist-2026-08.b64", datadir);
	char *g = read_all(p, &glen, err, errlen);
	if (!g)
		return DNS_EIO;
	snprintf(p, sizeof(p), "%s/china-domains-2026-08.conf", datadir);
	char *c = read_all(p, &clen, err, errlen);
	if (!c) {
		free(g);
		return DNS_EIO;
	}
	char *text = NULL;
	int tl = -1;
	if (glen && g[0] != '[' && g[0] != '!' && g[0] != '|')
		tl = gfwlist_b64decode(g, glen, &text);
	int rc;
	if (tl >= 0 && text)
		rc = internet_build(net, o, text, (size_t)tl, c, clen, err, errlen);
	else
		rc = internet_build(net, o, g, glen, c, clen, err, errlen);
	free(text);
	free(g);
	free(c);
	return rc;
}

void internet_free(struct internet *net)
{
	free(net->site);
	free(net->idx);
	net->site = NULL;
	net->idx = NULL;
	net->n = 0;
}

unsigned internet_mark_blocked(struct internet *net, const struct rules *r)
{
	unsigned n = 0;
	for (unsigned i = 0; i < net->n; i++) {
		struct site *s = &net->site[i];
		s->blocked = !s->domestic && r && rules_match(r, s->name, strlen(s->name)) >= 0;
		n += s->blocked;
	}
	return n;
}

bool internet_is_truth(const struct site *s, const uint8_t *addr, size_t alen)
{
	if (alen == 4) {
		for (int k = 0; k < s->na; k++)
			if (!memcmp(s->a[k], addr, 4))
				return true;
		return false;
	}
	return alen == 16 && s->naaaa && !memcmp(s->aaaa, addr, 16);
}

/* ---- zone files ---- */

static int push_path(char ***v, unsigned *n, const char *path)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(char *));
	if (!nv)
		return DNS_ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(path)))
		return DNS_ENOMEM;
	(*n)++;
	return 0;
}

static void fmt_a(char *out, const uint8_t *a)
{
	sprintf(out, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

static void fmt_aaaa(char *out, const uint8_t *a)
{
	int o = 0;
	for (int i = 0; i < 16; i += 2)
		o += sprintf(out + o, "%s%x", i ? ":" : "", (unsigned)(a[i] << 8 | a[i + 1]));
}

/* Name server addresses of site i (glue), from 198.51.100.0/24 and
 * 203.0.113.0/24 by index. */
static void ns_addr(unsigned i, int k, uint8_t *a)
{
	static const uint8_t nets[2][3] = {{198, 51, 100}, {203, 0, 113}};
	memcpy(a, nets[k], 3);
	a[3] = (uint8_t)(10 + (i * 7 + (unsigned)k * 3) % 240);
}

static uint32_t scaled(const struct internet *net, uint32_t real)
{
	uint32_t t = real / net->opts.ttl_scale;
	return t ? t : 1;
}

static int write_site(const struct internet *net, unsigned i, FILE *f)
{
	const struct site *s = &net->site[i];
	char a[64];
	fprintf(f, "; site %u (%s)\n$ORIGIN %s.\n$TTL %u\n", i, s->domestic ? "domestic" : "foreign", s->zone, s->ttl);
	fprintf(f, "@ IN SOA ns1 hostmaster 2014012101 %u %u %u %u\n", scaled(net, 3600), scaled(net, 600),
		scaled(net, 604800), s->ttl < 60 ? s->ttl : 60);
	fprintf(f, "@ IN NS ns1\n@ IN NS ns2\n");
	for (int k = 0; k < 2; k++) {
		uint8_t na[4];
		ns_addr(i, k, na);
		fmt_a(a, na);
		fprintf(f, "ns%d IN A %s\n", k + 1, a);
	}
	bool www = strcmp(s->name, s->zone) != 0;
	for (int w = 0; w <= (int)www; w++) {
		const char *owner = w ? "www" : "@";
		for (int k = 0; k < s->na; k++) {
			fmt_a(a, s->a[k]);
			fprintf(f, "%s IN A %s\n", owner, a);
		}
		if (s->naaaa) {
			fmt_aaaa(a, s->aaaa);
			fprintf(f, "%s IN AAAA %s\n", owner, a);
		}
	}
	return 0;
}

static FILE *open_zone(const char *dir, const char *base, char *path, size_t cap, char *err, size_t errlen)
{
	snprintf(path, cap, "%s/%s", dir, base);
	FILE *f = fopen(path, "w");
	if (!f)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return f;
}

static int close_zone(FILE *f, const char *path, char *err, size_t errlen)
{
	if (ferror(f) | (fclose(f) != 0)) {
		snprintf(err, errlen, "%s: write error", path);
		return DNS_EIO;
	}
	return 0;
}

int internet_write_zones(const struct internet *net, const char *dir, struct internet_files *fl, char *err,
			 size_t errlen)
{
	memset(fl, 0, sizeof(*fl));
	char path[4096], base[64], a[64];
	int rc;
	/* root */
	FILE *f = open_zone(dir, "root.zone", path, sizeof(path), err, errlen);
	if (!f)
		return DNS_EIO;
	fprintf(f, "; the lab's root zone\n$ORIGIN .\n$TTL %u\n", scaled(net, 518400));
	fprintf(f, ". IN SOA a.root-servers.lab. nstld.root-servers.lab. 2014012101 %u %u %u %u\n",
		scaled(net, 1800), scaled(net, 900), scaled(net, 604800), scaled(net, 86400));
	fprintf(f, ". IN NS a.root-servers.lab.\na.root-servers.lab. IN A 198.51.100.1\n");
	for (unsigned t = 0; t < net->ntld; t++) {
		fprintf(f, "%s. %u IN NS a.nic.%s.\na.nic.%s. %u IN A 198.51.100.%u\n", net->tld[t],
			scaled(net, 172800), net->tld[t], net->tld[t], scaled(net, 172800), 2 + t % 250);
	}
	if ((rc = close_zone(f, path, err, errlen)) || (rc = push_path(&fl->abroad, &fl->nabroad, path)))
		goto fail;
	/* TLDs */
	for (unsigned t = 0; t < net->ntld; t++) {
		const char *tl = net->tld[t];
		snprintf(base, sizeof(base), "tld-%s.zone", tl);
		if (!(f = open_zone(dir, base, path, sizeof(path), err, errlen))) {
			rc = DNS_EIO;
			goto fail;
		}
		fprintf(f, "; TLD %s\n$ORIGIN %s.\n$TTL %u\n", tl, tl, scaled(net, 172800));
		fprintf(f, "@ IN SOA a.nic hostmaster.nic 2014012101 %u %u %u %u\n", scaled(net, 1800),
			scaled(net, 900), scaled(net, 604800), scaled(net, 900));
		fprintf(f, "@ IN NS a.nic\na.nic IN A 198.51.100.%u\n", 2 + t % 250);
		for (unsigned i = 0; i < net->n; i++) {
			const struct site *s = &net->site[i];
			if (s->tld != t)
				continue;
			for (int k = 0; k < 2; k++) {
				uint8_t na[4];
				ns_addr(i, k, na);
				fmt_a(a, na);
				fprintf(f, "%s. IN NS ns%d.%s.\nns%d.%s. IN A %s\n", s->zone, k + 1, s->zone, k + 1, s->zone, a);
			}
		}
		if ((rc = close_zone(f, path, err, errlen)))
			goto fail;
		if (!strcmp(tl, "cn"))
			rc = push_path(&fl->domestic, &fl->ndomestic, path);
		else
			rc = push_path(&fl->abroad, &fl->nabroad, path);
		if (rc)
			goto fail;
	}
	/* sites */
	for (unsigned i = 0; i < net->n; i++) {
		snprintf(base, sizeof(base), "site-%u.zone", i);
		if (!(f = open_zone(dir, base, path, sizeof(path), err, errlen))) {
			rc = DNS_EIO;
			goto fail;
		}
		write_site(net, i, f);
		if ((rc = close_zone(f, path, err, errlen)))
			goto fail;
		if (net->site[i].domestic)
			rc = push_path(&fl->domestic, &fl->ndomestic, path);
		else
			rc = push_path(&fl->abroad, &fl->nabroad, path);
		if (rc)
			goto fail;
	}
	if (fl->nabroad > 4096 || fl->ndomestic > 4096) {
		snprintf(err, errlen, "too many zones for one server (%u abroad, %u domestic; at most 4096)",
			 fl->nabroad, fl->ndomestic);
		rc = DNS_EINVAL;
		goto fail;
	}
	return 0;
fail:
	if (rc == DNS_ENOMEM)
		snprintf(err, errlen, "out of memory");
	internet_files_free(fl);
	return rc;
}

void internet_files_free(struct internet_files *f)
{
	for (unsigned i = 0; i < f->nabroad; i++)
		free(f->abroad[i]);
	for (unsigned i = 0; i < f->ndomestic; i++)
		free(f->domestic[i]);
	free(f->abroad);
	free(f->domestic);
	memset(f, 0, sizeof(*f));
}
