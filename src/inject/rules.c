/* rules — blocklist storage, loaders and matching (semantics in rules.h). */
#include "inject/rules.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"

struct rule {
	uint8_t kind;
	uint8_t allow;
	uint32_t off; /* into pool */
	uint32_t len;
};

/* Open addressing: slot = tag << 32 | (rule id + 1); 0 = empty. */
struct htab {
	uint64_t *slot;
	size_t mask;
	uint64_t *filt;   /* one-bit filter, ~16 bits per entry, probed first */
	size_t fmask;
	uint64_t lens[4]; /* bitmap of base lengths present (0..255) */
	size_t n;
};

struct acpat {
	int rule;
	uint32_t len;
	uint8_t kind;
	int next; /* next pattern ending in the same state, -1 */
};

/* Aho-Corasick as a full DFA over byte classes. */
struct ac {
	uint8_t cls[256]; /* 0 = byte in no pattern */
	size_t ncls;
	int32_t *go;      /* nstates * ncls */
	int32_t *out;     /* first pattern ending here, -1 */
	int32_t *dict;    /* nearest state via fail links with out >= 0, -1 */
	size_t nstates;
	struct acpat *pat;
	size_t npat;
};

enum { H_EXACT, H_BASE_DOT, H_PREFIX, H_DOMAIN, H_SUFFIX, H_N };

struct ruleset {
	struct htab h[H_N];
	struct ac ac;
	int *re;    /* ids of REGEX rules */
	size_t nre;
	int *glob;  /* ids of GLOB rules */
	size_t nglob;
	size_t n;
};

struct rules {
	struct rule *v;
	size_t n, cap;
	char *pool;
	size_t plen, pcap;
	regex_t **rx; /* per rule id, NULL unless REGEX */
	size_t rxcap;
	struct ruleset set[2]; /* 0 block, 1 allow */
	bool built;
};

static const char *const kind_names[RULE_NKINDS] = {
	"exact", "base-dot", "prefix", "domain", "suffix", "domain-dot",
	"domain-prefix", "suffix-dot", "substr", "regex", "glob",
};

const char *rules_kind_name(enum rule_kind k)
{
	return (unsigned)k < RULE_NKINDS ? kind_names[k] : "?";
}

int rules_kind_parse(const char *s, enum rule_kind *out)
{
	for (int k = 0; k < RULE_NKINDS; k++)
		if (!strcmp(s, kind_names[k])) {
			*out = (enum rule_kind)k;
			return 0;
		}
	return DNS_ESYNTAX;
}

#define FNV_INIT 0xcbf29ce484222325ULL
#define FNV_STEP(h, c) (((h) ^ (uint8_t)(c)) * 0x100000001b3ULL)

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_fwd(const char *s, size_t n)
{
	uint64_t h = FNV_INIT;
	for (size_t i = 0; i < n; i++)
		h = FNV_STEP(h, s[i]);
	return h;
}

static uint64_t hash_rev(const char *s, size_t n)
{
	uint64_t h = FNV_INIT;
	for (size_t i = n; i > 0; i--)
		h = FNV_STEP(h, s[i - 1]);
	return h;
}

struct rules *rules_new(void)
{
	return calloc(1, sizeof(struct rules));
}

static void ruleset_free(struct ruleset *s)
{
	for (int i = 0; i < H_N; i++) {
		free(s->h[i].slot);
		free(s->h[i].filt);
	}
	free(s->ac.go);
	free(s->ac.out);
	free(s->ac.dict);
	free(s->ac.pat);
	free(s->re);
	free(s->glob);
	memset(s, 0, sizeof(*s));
}

void rules_free(struct rules *r)
{
	if (!r)
		return;
	for (int i = 0; i < 2; i++)
		ruleset_free(&r->set[i]);
	for (size_t i = 0; i < r->n && i < r->rxcap; i++)
		if (r->rx[i]) {
			regfree(r->rx[i]);
			free(r->rx[i]);
		}
	free(r->rx);
	free(r->v);
	free(r->pool);
	free(r);
}

size_t rules_count(const struct rules *r)
{
	return r->n;
}

int rules_add(struct rules *r, enum rule_kind kind, const char *base, bool allow)
{
	size_t len = strlen(base);
	if ((unsigned)kind >= RULE_NKINDS || len == 0 || len > RULES_NAME_MAX * 4)
		return DNS_ESYNTAX;
	if (kind != RULE_REGEX && kind != RULE_GLOB && len > RULES_NAME_MAX)
		return DNS_ESYNTAX;
	if (r->n >= INT32_MAX - 1)
		return DNS_ENOMEM;
	regex_t *rx = NULL;
	if (kind == RULE_REGEX) {
		rx = malloc(sizeof(*rx));
		if (!rx)
			return DNS_ENOMEM;
		if (regcomp(rx, base, REG_EXTENDED | REG_ICASE | REG_NOSUB)) {
			free(rx);
			return DNS_ESYNTAX;
		}
	}
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 64;
		struct rule *nv = realloc(r->v, nc * sizeof(*nv));
		regex_t **nrx = nv ? realloc(r->rx, nc * sizeof(*nrx)) : NULL;
		if (nv)
			r->v = nv;
		if (!nv || !nrx) {
			if (rx) {
				regfree(rx);
				free(rx);
			}
			return DNS_ENOMEM;
		}
		r->rx = nrx;
		r->cap = nc;
		r->rxcap = nc;
	}
	if (r->plen + len + 1 > r->pcap) {
		size_t nc = r->pcap ? r->pcap * 2 : 4096;
		while (nc < r->plen + len + 1)
			nc *= 2;
		char *np = realloc(r->pool, nc);
		if (!np) {
			if (rx) {
				regfree(rx);
				free(rx);
			}
			return DNS_ENOMEM;
		}
		r->pool = np;
		r->pcap = nc;
	}
	char *dst = r->pool + r->plen;
	for (size_t i = 0; i < len; i++)
		dst[i] = kind == RULE_REGEX ? base[i] : (char)tolower((unsigned char)base[i]);
	dst[len] = '\0';
	r->v[r->n] = (struct rule){.kind = (uint8_t)kind, .allow = allow, .off = (uint32_t)r->plen,
				   .len = (uint32_t)len};
	r->rx[r->n] = rx;
	r->plen += len + 1;
	r->built = false;
	return (int)r->n++;
}

/* ---- hash tables ---- */

static int htab_init(struct htab *t, size_t n)
{
	size_t cap = 16;
	while (cap < n * 2 + 1)
		cap *= 2;
	t->slot = calloc(cap, sizeof(*t->slot));
	size_t fbits = 4096;
	while (fbits < n * 16)
		fbits *= 2;
	t->filt = calloc(fbits / 64, sizeof(*t->filt));
	if (!t->slot || !t->filt)
		return DNS_ENOMEM;
	t->mask = cap - 1;
	t->fmask = fbits - 1;
	return 0;
}

static int htab_find(const struct htab *t, const struct rules *r, uint64_t h, const char *s, size_t len)
{
	uint64_t m = mix64(h);
	size_t fb = (size_t)(m >> 20) & t->fmask;
	if (!(t->filt[fb >> 6] >> (fb & 63) & 1))
		return -1;
	uint32_t tag = (uint32_t)(m >> 32);
	for (size_t i = m & t->mask;; i = (i + 1) & t->mask) {
		uint64_t e = t->slot[i];
		if (!e)
			return -1;
		if ((uint32_t)(e >> 32) != tag)
			continue;
		int id = (int)(uint32_t)e - 1;
		const struct rule *ru = &r->v[id];
		if (ru->len == len && !memcmp(r->pool + ru->off, s, len))
			return id;
	}
}

static void htab_put(struct htab *t, const struct rules *r, int id, bool reverse)
{
	const struct rule *ru = &r->v[id];
	const char *s = r->pool + ru->off;
	uint64_t h = reverse ? hash_rev(s, ru->len) : hash_fwd(s, ru->len);
	if (htab_find(t, r, h, s, ru->len) >= 0)
		return; /* duplicate: the first id stands */
	uint64_t m = mix64(h);
	size_t i = m & t->mask;
	while (t->slot[i])
		i = (i + 1) & t->mask;
	t->slot[i] = (m >> 32) << 32 | (uint32_t)(id + 1);
	size_t fb = (size_t)(m >> 20) & t->fmask;
	t->filt[fb >> 6] |= 1ULL << (fb & 63);
	t->lens[ru->len >> 6] |= 1ULL << (ru->len & 63);
	t->n++;
}

static bool lens_has(const struct htab *t, size_t len)
{
	return len <= 255 && (t->lens[len >> 6] >> (len & 63) & 1);
}

/* ---- Aho-Corasick ---- */

static bool kind_is_sub(int k)
{
	return k == RULE_DOMAIN_DOT || k == RULE_DOMAIN_PREFIX || k == RULE_SUFFIX_DOT || k == RULE_SUBSTR;
}

static int ac_build(struct ac *a, const struct rules *r, int allow)
{
	size_t total = 1, npat = 0;
	bool seen[256] = {false};
	for (size_t i = 0; i < r->n; i++) {
		const struct rule *ru = &r->v[i];
		if (ru->allow != allow || !kind_is_sub(ru->kind))
			continue;
		total += ru->len;
		npat++;
		for (size_t k = 0; k < ru->len; k++)
			seen[(uint8_t)r->pool[ru->off + k]] = true;
	}
	if (!npat)
		return 0;
	a->ncls = 1;
	for (int c = 0; c < 256; c++)
		a->cls[c] = seen[c] ? (uint8_t)a->ncls++ : 0;
	a->go = malloc(total * a->ncls * sizeof(*a->go));
	a->out = malloc(total * sizeof(*a->out));
	a->dict = malloc(total * sizeof(*a->dict));
	a->pat = malloc(npat * sizeof(*a->pat));
	int32_t *queue = malloc(total * sizeof(*queue));
	if (!a->go || !a->out || !a->dict || !a->pat || !queue) {
		free(queue);
		return DNS_ENOMEM;
	}
	/* trie: -1 = no edge yet */
	memset(a->go, 0xff, a->ncls * sizeof(*a->go));
	a->out[0] = -1;
	a->nstates = 1;
	for (size_t i = 0; i < r->n; i++) {
		const struct rule *ru = &r->v[i];
		if (ru->allow != allow || !kind_is_sub(ru->kind))
			continue;
		size_t st = 0;
		for (size_t k = 0; k < ru->len; k++) {
			size_t c = a->cls[(uint8_t)r->pool[ru->off + k]];
			int32_t nx = a->go[st * a->ncls + c];
			if (nx < 0) {
				nx = (int32_t)a->nstates++;
				memset(a->go + (size_t)nx * a->ncls, 0xff, a->ncls * sizeof(*a->go));
				a->out[nx] = -1;
				a->go[st * a->ncls + c] = nx;
			}
			st = (size_t)nx;
		}
		a->pat[a->npat] = (struct acpat){.rule = (int)i, .len = ru->len, .kind = ru->kind,
						 .next = a->out[st]};
		a->out[st] = (int32_t)a->npat++;
	}
	/* BFS: fail links folded into the goto table, dict links for output */
	int32_t *fail = a->dict; /* reuse: fail first, then dict */
	int32_t *dict = malloc(a->nstates * sizeof(*dict));
	if (!dict) {
		free(queue);
		return DNS_ENOMEM;
	}
	size_t qh = 0, qt = 0;
	fail[0] = 0;
	dict[0] = -1;
	for (size_t c = 0; c < a->ncls; c++) {
		int32_t v = a->go[c];
		if (v < 0) {
			a->go[c] = 0;
		} else {
			fail[v] = 0;
			dict[v] = -1;
			queue[qt++] = v;
		}
	}
	while (qh < qt) {
		int32_t u = queue[qh++];
		for (size_t c = 0; c < a->ncls; c++) {
			int32_t v = a->go[(size_t)u * a->ncls + c];
			int32_t fv = a->go[(size_t)fail[u] * a->ncls + c];
			if (v < 0) {
				a->go[(size_t)u * a->ncls + c] = fv;
			} else {
				fail[v] = fv;
				dict[v] = a->out[fv] >= 0 ? fv : dict[fv];
				queue[qt++] = v;
			}
		}
	}
	free(queue);
	memcpy(a->dict, dict, a->nstates * sizeof(*dict));
	free(dict);
	return 0;
}

static bool ac_pat_ok(const struct acpat *p, const char *s, size_t len, size_t end)
{
	size_t start = end - p->len;
	bool lstart = start == 0 || s[start - 1] == '.';
	bool dotafter = end < len && s[end] == '.';
	switch (p->kind) {
	case RULE_DOMAIN_DOT: return lstart && dotafter;
	case RULE_DOMAIN_PREFIX: return lstart;
	case RULE_SUFFIX_DOT: return dotafter;
	default: return true;
	}
}

static int ac_match(const struct ac *a, const char *s, size_t len)
{
	if (!a->npat)
		return -1;
	size_t st = 0;
	for (size_t i = 0; i < len; i++) {
		st = (size_t)a->go[st * a->ncls + a->cls[(uint8_t)s[i]]];
		for (int32_t t = a->out[st] >= 0 ? (int32_t)st : a->dict[st]; t >= 0; t = a->dict[t])
			for (int32_t p = a->out[t]; p >= 0; p = a->pat[p].next)
				if (ac_pat_ok(&a->pat[p], s, len, i + 1))
					return a->pat[p].rule;
	}
	return -1;
}

/* ---- build and match ---- */

static int ruleset_build(struct ruleset *s, const struct rules *r, int allow)
{
	size_t cnt[RULE_NKINDS] = {0};
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].allow == allow)
			cnt[r->v[i].kind]++;
	static const int hkind[H_N] = {RULE_EXACT, RULE_BASE_DOT, RULE_PREFIX, RULE_DOMAIN, RULE_SUFFIX};
	for (int h = 0; h < H_N; h++)
		if (cnt[hkind[h]] && htab_init(&s->h[h], cnt[hkind[h]]))
			return DNS_ENOMEM;
	s->re = malloc((cnt[RULE_REGEX] + 1) * sizeof(int));
	s->glob = malloc((cnt[RULE_GLOB] + 1) * sizeof(int));
	if (!s->re || !s->glob)
		return DNS_ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		const struct rule *ru = &r->v[i];
		if (ru->allow != allow)
			continue;
		s->n++;
		switch (ru->kind) {
		case RULE_EXACT: htab_put(&s->h[H_EXACT], r, (int)i, false); break;
		case RULE_BASE_DOT: htab_put(&s->h[H_BASE_DOT], r, (int)i, false); break;
		case RULE_PREFIX: htab_put(&s->h[H_PREFIX], r, (int)i, false); break;
		case RULE_DOMAIN: htab_put(&s->h[H_DOMAIN], r, (int)i, true); break;
		case RULE_SUFFIX: htab_put(&s->h[H_SUFFIX], r, (int)i, true); break;
		case RULE_REGEX: s->re[s->nre++] = (int)i; break;
		case RULE_GLOB: s->glob[s->nglob++] = (int)i; break;
		default: break;
		}
	}
	return ac_build(&s->ac, r, allow);
}

int rules_build(struct rules *r)
{
	for (int i = 0; i < 2; i++) {
		ruleset_free(&r->set[i]);
		int rc = ruleset_build(&r->set[i], r, i);
		if (rc < 0)
			return rc;
	}
	r->built = true;
	return 0;
}

static int ruleset_match(const struct ruleset *s, const struct rules *r, const char *n, size_t len)
{
	if (!s->n)
		return -1;
	int id;
	const struct htab *hx = &s->h[H_EXACT], *hb = &s->h[H_BASE_DOT], *hp = &s->h[H_PREFIX];
	if (hx->n || hb->n || hp->n) {
		uint64_t h = FNV_INIT;
		for (size_t i = 0; i < len; i++) {
			if (i > 0 && hp->n && lens_has(hp, i) && (id = htab_find(hp, r, h, n, i)) >= 0)
				return id;
			if (n[i] == '.' && hb->n && lens_has(hb, i) && (id = htab_find(hb, r, h, n, i)) >= 0)
				return id;
			h = FNV_STEP(h, n[i]);
		}
		if (hx->n && lens_has(hx, len) && (id = htab_find(hx, r, h, n, len)) >= 0)
			return id;
		if (hp->n && lens_has(hp, len) && (id = htab_find(hp, r, h, n, len)) >= 0)
			return id;
	}
	const struct htab *hd = &s->h[H_DOMAIN], *hs = &s->h[H_SUFFIX];
	if (hd->n || hs->n) {
		uint64_t h = FNV_INIT;
		for (size_t i = len; i > 0; i--) {
			h = FNV_STEP(h, n[i - 1]);
			size_t st = i - 1, sl = len - st;
			if (hs->n && lens_has(hs, sl) && (id = htab_find(hs, r, h, n + st, sl)) >= 0)
				return id;
			if (hd->n && (st == 0 || n[st - 1] == '.') && lens_has(hd, sl) &&
			    (id = htab_find(hd, r, h, n + st, sl)) >= 0)
				return id;
		}
	}
	if ((id = ac_match(&s->ac, n, len)) >= 0)
		return id;
	for (size_t i = 0; i < s->nglob; i++)
		if (!fnmatch(r->pool + r->v[s->glob[i]].off, n, 0))
			return s->glob[i];
	for (size_t i = 0; i < s->nre; i++)
		if (!regexec(r->rx[s->re[i]], n, 0, NULL, 0))
			return s->re[i];
	return -1;
}

int rules_match(const struct rules *r, const char *name, size_t len)
{
	char low[RULES_NAME_MAX + 1];
	if (!r->built || len > RULES_NAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		low[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	low[len] = '\0';
	int id = ruleset_match(&r->set[0], r, low, len);
	if (id >= 0 && ruleset_match(&r->set[1], r, low, len) >= 0)
		return -1;
	return id;
}

int rules_format(const struct rules *r, int id, char *buf, size_t len)
{
	if (id < 0 || (size_t)id >= r->n)
		return DNS_EINVAL;
	const struct rule *ru = &r->v[id];
	static const char *const pre[RULE_NKINDS] = {"", "", "", "*.", "*", "*.", "*.", "*", "*", "re:", "glob:"};
	static const char *const post[RULE_NKINDS] = {"", ".*", "*", "", "", ".*", "*", ".*", "*", "", ""};
	int n = snprintf(buf, len, "%s%s%s%s", ru->allow ? "allow " : "", pre[ru->kind], r->pool + ru->off,
			 post[ru->kind]);
	return n < 0 || (size_t)n >= len ? DNS_ESPACE : n;
}

/* ---- own syntax ---- */

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Maps the wildcard notation to kind + base (base points into tok). */
static int notation(char *tok, enum rule_kind *kind, char **base)
{
	int lead = 0, trail = 0; /* 0 none, 1 "*.", 2 "*" */
	size_t n = strlen(tok);
	if (n >= 2 && tok[0] == '*' && tok[1] == '.') {
		lead = 1;
		tok += 2;
		n -= 2;
	} else if (n >= 1 && tok[0] == '*') {
		lead = 2;
		tok++;
		n--;
	}
	if (n >= 2 && tok[n - 1] == '*' && tok[n - 2] == '.') {
		trail = 1;
		tok[n -= 2] = '\0';
	} else if (n >= 1 && tok[n - 1] == '*') {
		trail = 2;
		tok[n -= 1] = '\0';
	}
	if (n == 0 || strchr(tok, '*'))
		return DNS_ESYNTAX;
	static const enum rule_kind map[3][3] = {
		{RULE_EXACT, RULE_BASE_DOT, RULE_PREFIX},
		{RULE_DOMAIN, RULE_DOMAIN_DOT, RULE_DOMAIN_PREFIX},
		{RULE_SUFFIX, RULE_SUFFIX_DOT, RULE_SUBSTR},
	};
	*kind = map[lead][trail];
	*base = tok;
	return 0;
}

int rules_parse_line(struct rules *r, const char *line, bool *added, char *err, size_t errlen)
{
	char buf[1024];
	*added = false;
	if (strlen(line) >= sizeof(buf)) {
		snprintf(err, errlen, "line too long");
		return DNS_ESYNTAX;
	}
	strcpy(buf, line);
	char *s = trim(buf);
	if (!*s || *s == '#')
		return 0;
	bool allow = false;
	if (!strncmp(s, "allow", 5) && isspace((unsigned char)s[5])) {
		allow = true;
		s = trim(s + 5);
	}
	enum rule_kind kind;
	char *base;
	if (!strncmp(s, "re:", 3)) {
		kind = RULE_REGEX;
		base = s + 3;
	} else if (!strncmp(s, "glob:", 5)) {
		kind = RULE_GLOB;
		base = s + 5;
	} else {
		char *sp = s;
		while (*sp && !isspace((unsigned char)*sp))
			sp++;
		if (*sp) {
			*sp++ = '\0';
			base = trim(sp);
			if (rules_kind_parse(s, &kind)) {
				snprintf(err, errlen, "unknown rule kind '%s'", s);
				return DNS_ESYNTAX;
			}
			if (kind != RULE_REGEX && (strpbrk(base, " \t") || strchr(base, '*'))) {
				snprintf(err, errlen, "bad base '%s' for kind %s", base, s);
				return DNS_ESYNTAX;
			}
		} else if (notation(s, &kind, &base)) {
			snprintf(err, errlen, "bad rule '%s' (unsupported wildcard; use glob:)", line);
			return DNS_ESYNTAX;
		}
	}
	int id = rules_add(r, kind, base, allow);
	if (id == DNS_ESYNTAX)
		snprintf(err, errlen, kind == RULE_REGEX ? "bad regular expression '%s'" : "bad rule '%s'", base);
	else if (id < 0)
		snprintf(err, errlen, "%s", dns_strerror(id));
	else
		*added = true;
	return id;
}

typedef int (*line_fn)(struct rules *r, char *line, char *err, size_t errlen);

static int load_lines(struct rules *r, const char *path, line_fn fn, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return DNS_EIO;
	}
	char *line = NULL, msg[256];
	size_t cap = 0, lineno = 0;
	int total = 0, rc = 0;
	ssize_t got;
	while ((got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		msg[0] = '\0';
		rc = fn(r, line, msg, sizeof(msg));
		if (rc < 0) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno, msg[0] ? msg : dns_strerror(rc));
			break;
		}
		total += rc;
		rc = 0;
	}
	free(line);
	fclose(f);
	return rc < 0 ? rc : total;
}

static int own_line(struct rules *r, char *line, char *err, size_t errlen)
{
	bool added;
	int rc = rules_parse_line(r, line, &added, err, errlen);
	return rc < 0 ? rc : added;
}

int rules_load_file(struct rules *r, const char *path, char *err, size_t errlen)
{
	return load_lines(r, path, own_line, err, errlen);
}

static int add_domain(struct rules *r, char *d, char *err, size_t errlen)
{
	d = trim(d);
	while (*d == '*' || *d == '.')
		d++;
	size_t n = strlen(d);
	while (n && d[n - 1] == '.')
		d[--n] = '\0';
	if (!n)
		return 0;
	if (strpbrk(d, " \t*/")) {
		snprintf(err, errlen, "bad domain '%s'", d);
		return DNS_ESYNTAX;
	}
	int rc = rules_add(r, RULE_DOMAIN, d, false);
	if (rc < 0)
		snprintf(err, errlen, "bad domain '%s'", d);
	return rc < 0 ? rc : 1;
}

static int domain_line(struct rules *r, char *line, char *err, size_t errlen)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	return add_domain(r, line, err, errlen);
}

int rules_load_domains(struct rules *r, const char *path, char *err, size_t errlen)
{
	return load_lines(r, path, domain_line, err, errlen);
}

static int dnsmasq_line(struct rules *r, char *line, char *err, size_t errlen)
{
	char *s = trim(line);
	static const char *const keys[] = {"server=/", "address=/", "ipset=/", "nftset=/", "local=/"};
	size_t klen = 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strncmp(s, keys[i], strlen(keys[i])))
			klen = strlen(keys[i]);
	if (!klen)
		return 0;
	s += klen;
	char *last = strrchr(s, '/');
	if (!last) {
		snprintf(err, errlen, "missing '/' after the domains");
		return DNS_ESYNTAX;
	}
	*last = '\0';
	int total = 0;
	for (char *tok = strtok(s, "/"); tok; tok = strtok(NULL, "/")) {
		if (!strcmp(tok, "#"))
			continue;
		int rc = add_domain(r, tok, err, errlen);
		if (rc < 0)
			return rc;
		total += rc;
	}
	return total;
}

int rules_load_dnsmasq(struct rules *r, const char *path, char *err, size_t errlen)
{
	return load_lines(r, path, dnsmasq_line, err, errlen);
}
