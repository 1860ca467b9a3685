/* bogus — address lists of forged answers (ChinaDNS iplist, dnsmasq bogus-nxdomain). */
#include "resolve/bogus.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"

struct entry {
	uint8_t fam;  /* 4 or 6: sorts v4 first */
	uint8_t plen;
	uint8_t a[16];
};

struct bogus {
	struct entry *v;
	size_t n, cap;
	bool sealed;
	bool forwards;               /* made by bogus_new_forward (fixed) */
	_Atomic(const struct bogus *) fwd; /* forwards: the target, or NULL */
	uint64_t lens[2][3]; /* bit p set: some entry of that family has prefix p */
};

static int errf(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

bogus *bogus_new(void)
{
	bogus *b = calloc(1, sizeof(*b));
	if (b)
		b->sealed = true;
	return b;
}

bogus *bogus_new_forward(const bogus *target)
{
	bogus *b = bogus_new();
	if (b) {
		b->forwards = true;
		atomic_init(&b->fwd, target);
	}
	return b;
}

const bogus *bogus_forward(bogus *fw, const bogus *target)
{
	if (!fw || !fw->forwards)
		return NULL;
	return atomic_exchange_explicit(&fw->fwd, target, memory_order_acq_rel);
}

const bogus *bogus_target(const bogus *b)
{
	if (b && b->forwards)
		return atomic_load_explicit(&((bogus *)b)->fwd, memory_order_acquire);
	return b;
}

void bogus_free(bogus *b)
{
	if (!b)
		return;
	free(b->v);
	free(b);
}

static void mask(uint8_t *a, size_t alen, unsigned plen)
{
	for (size_t i = 0; i < alen; i++) {
		unsigned bit = (unsigned)i * 8;
		if (bit >= plen)
			a[i] = 0;
		else if (plen - bit < 8)
			a[i] &= (uint8_t)(0xff00u >> (plen - bit));
	}
}

int bogus_add(bogus *b, const uint8_t *addr, size_t alen, unsigned plen)
{
	if (!b || b->forwards || !addr || (alen != 4 && alen != 16) || plen > alen * 8)
		return DNS_EINVAL;
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 64;
		struct entry *v = realloc(b->v, nc * sizeof(*v));
		if (!v)
			return DNS_ENOMEM;
		b->v = v;
		b->cap = nc;
	}
	struct entry *e = &b->v[b->n++];
	memset(e, 0, sizeof(*e));
	e->fam = alen == 4 ? 4 : 6;
	e->plen = (uint8_t)plen;
	memcpy(e->a, addr, alen);
	mask(e->a, alen, plen);
	b->lens[alen == 16][plen / 64] |= 1ull << (plen % 64);
	b->sealed = false;
	return 0;
}

static int cmp_entry(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	if (a->fam != b->fam)
		return a->fam < b->fam ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return memcmp(a->a, b->a, 16);
}

void bogus_seal(bogus *b)
{
	if (!b || b->forwards || b->sealed)
		return;
	qsort(b->v, b->n, sizeof(*b->v), cmp_entry);
	size_t w = 0;
	for (size_t i = 0; i < b->n; i++)
		if (!w || cmp_entry(&b->v[w - 1], &b->v[i]))
			b->v[w++] = b->v[i];
	b->n = w;
	b->sealed = true;
}

bool bogus_match(const bogus *cb, const uint8_t *addr, size_t alen)
{
	cb = bogus_target(cb);
	if (!cb || !cb->n || (alen != 4 && alen != 16))
		return false;
	if (!cb->sealed)
		bogus_seal((bogus *)cb);
	int f = alen == 16;
	struct entry key;
	memset(&key, 0, sizeof(key));
	key.fam = f ? 6 : 4;
	for (int p = (int)alen * 8; p >= 0; p--) {
		if (!(cb->lens[f][p / 64] >> (p % 64) & 1))
			continue;
		key.plen = (uint8_t)p;
		memcpy(key.a, addr, alen);
		mask(key.a, alen, (unsigned)p);
		if (bsearch(&key, cb->v, cb->n, sizeof(key), cmp_entry))
			return true;
	}
	return false;
}

size_t bogus_count(const bogus *b)
{
	b = bogus_target(b);
	return b ? b->n : 0;
}

int bogus_merge(bogus *dst, const bogus *src)
{
	src = bogus_target(src);
	if (!src)
		return 0;
	for (size_t i = 0; i < src->n; i++) {
		const struct entry *e = &src->v[i];
		int rc = bogus_add(dst, e->a, e->fam == 4 ? 4 : 16, e->plen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int bogus_add_text(bogus *b, const char *s, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return errf(err, errlen, DNS_ESYNTAX, "'%s' is not an address or prefix", s);
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	long plen = -1;
	if (slash) {
		*slash = 0;
		char *end;
		errno = 0;
		if (!isdigit((unsigned char)slash[1]))
			return errf(err, errlen, DNS_ESYNTAX, "'%s': bad prefix length", s);
		plen = strtol(slash + 1, &end, 10);
		if (errno || *end)
			return errf(err, errlen, DNS_ESYNTAX, "'%s': bad prefix length", s);
	}
	uint8_t a[16];
	size_t alen;
	if (inet_pton(AF_INET, buf, a) == 1)
		alen = 4;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		alen = 16;
	else
		return errf(err, errlen, DNS_ESYNTAX, "'%s' is not an address or prefix", s);
	if (plen < 0)
		plen = (long)alen * 8;
	if (plen > (long)alen * 8)
		return errf(err, errlen, DNS_ERANGE, "'%s': prefix longer than %zu", s, alen * 8);
	int rc = bogus_add(b, a, alen, (unsigned)plen);
	if (rc < 0)
		return errf(err, errlen, rc, "'%s': %s", s, dns_strerror(rc));
	return 0;
}

/* Trims blanks and a trailing comment in place. */
static char *trim(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = 0;
			break;
		}
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

/* A dnsmasq directive: a lowercase word of letters, digits and '-',
 * alone or before '=' (blanks allowed around it). Returns the word's
 * length or 0. */
static size_t directive(const char *s)
{
	size_t i = 0;
	if (!strncmp(s, "--", 2))
		i = 2;
	size_t st = i;
	while (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-')
		i++;
	if (i == st || !islower((unsigned char)s[st]))
		return 0;
	size_t j = i;
	while (s[j] == ' ' || s[j] == '\t')
		j++;
	if (s[j] && s[j] != '=') /* "word=...", "word = ..." or a bare "word" */
		return 0;
	return i;
}

int bogus_load(bogus *b, const char *path, unsigned *skipped, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return errf(err, errlen, DNS_EIO, "%s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	unsigned lineno = 0, skip = 0;
	int added = 0, rc = 0;
	char why[256];
	while ((got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (memchr(line, 0, (size_t)got)) {
			rc = errf(err, errlen, DNS_ESYNTAX, "%s:%u: NUL character in line", path, lineno);
			break;
		}
		char *s = trim(line);
		if (!*s)
			continue;
		size_t d = directive(s);
		if (d) {
			const char *word = s + (strncmp(s, "--", 2) ? 0 : 2);
			size_t wl = d - (size_t)(word - s);
			if (wl != 14 || strncmp(word, "bogus-nxdomain", 14)) {
				skip++;
				continue;
			}
			char *v = s + d;
			while (*v == ' ' || *v == '\t')
				v++;
			if (*v == '=')
				v++;
			char *tok, *save = NULL;
			bool any = false;
			for (tok = strtok_r(v, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
				if ((rc = bogus_add_text(b, tok, why, sizeof(why))) < 0)
					break;
				any = true;
				added++;
			}
			if (!rc && !any)
				rc = errf(why, sizeof(why), DNS_ESYNTAX, "bogus-nxdomain without an address");
			if (rc < 0) {
				errf(err, errlen, rc, "%s:%u: %s", path, lineno, why);
				break;
			}
			continue;
		}
		if ((rc = bogus_add_text(b, s, why, sizeof(why))) < 0) {
			errf(err, errlen, rc, "%s:%u: %s", path, lineno, why);
			break;
		}
		added++;
	}
	if (!rc && ferror(f))
		rc = errf(err, errlen, DNS_EIO, "%s: read error", path);
	free(line);
	fclose(f);
	if (skipped)
		*skipped = skip;
	bogus_seal(b);
	return rc < 0 ? rc : added;
}

char *bogus_fmt(const uint8_t *addr, size_t alen, unsigned plen, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];
	if (!inet_ntop(alen == 4 ? AF_INET : AF_INET6, addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (plen == alen * 8)
		snprintf(out, cap, "%s", a);
	else
		snprintf(out, cap, "%s/%u", a, plen);
	return out;
}

int bogus_write(bogus *b, FILE *f, enum bogus_format fmt)
{
	if (b && b->forwards)
		b = (bogus *)bogus_target(b); /* sealed (bogus_forward's contract) */
	if (!b)
		return 0;
	bogus_seal(b);
	for (size_t i = 0; i < b->n; i++) {
		char t[64];
		const struct entry *e = &b->v[i];
		bogus_fmt(e->a, e->fam == 4 ? 4 : 16, e->plen, t, sizeof(t));
		if (fprintf(f, "%s%s\n", fmt == BOGUS_DNSMASQ ? "bogus-nxdomain=" : "", t) < 0)
			return DNS_EIO;
	}
	return fflush(f) == 0 ? (int)b->n : DNS_EIO;
}

enum bogus_format bogus_format_for(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	return n >= 5 && !strcmp(path + n - 5, ".conf") ? BOGUS_DNSMASQ : BOGUS_IPLIST;
}
