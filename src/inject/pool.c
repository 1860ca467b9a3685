/* pool — forged-address pools (semantics in pool.h). */
#include "inject/pool.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/err.h"

void pool_init(struct pool *p)
{
	memset(p, 0, sizeof(*p));
	p->family = AF_UNSPEC;
}

void pool_free(struct pool *p)
{
	free(p->addr);
	pool_init(p);
}

size_t pool_addr_len(const struct pool *p)
{
	return p->family == AF_INET ? 4 : p->family == AF_INET6 ? 16 : 0;
}

int pool_add_text(struct pool *p, const char *text)
{
	uint8_t a[16] = {0};
	int fam;
	if (inet_pton(AF_INET, text, a) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, text, a) == 1)
		fam = AF_INET6;
	else
		return DNS_ESYNTAX;
	if (p->family != AF_UNSPEC && p->family != fam)
		return DNS_ESYNTAX;
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 32;
		uint8_t(*na)[16] = realloc(p->addr, nc * sizeof(*na));
		if (!na)
			return DNS_ENOMEM;
		p->addr = na;
		p->cap = nc;
	}
	memcpy(p->addr[p->n++], a, 16);
	p->family = fam;
	return 0;
}

int pool_load(struct pool *p, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return DNS_EIO;
	}
	char line[256];
	size_t lineno = 0;
	int added = 0, rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *h = strchr(line, '#');
		if (h)
			*h = '\0';
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		size_t n = strlen(s);
		while (n && isspace((unsigned char)s[n - 1]))
			s[--n] = '\0';
		if (!n)
			continue;
		rc = pool_add_text(p, s);
		if (rc < 0) {
			snprintf(err, errlen, "%s:%zu: %s '%s'", path, lineno,
				 rc == DNS_ENOMEM ? "out of memory" : "not an address of the pool's family", s);
			break;
		}
		added++;
	}
	fclose(f);
	return rc < 0 ? rc : added;
}

static uint64_t name_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)tolower((unsigned char)s[i])) * 0x100000001b3ULL;
	return h;
}

size_t pool_next_index(const struct pool *p, struct pool_cursor *c, const char *name, size_t len, unsigned k)
{
	uint64_t j = c->pos++;
	if (k == 0 || k >= p->n)
		return (size_t)(j % p->n);
	size_t start = (size_t)(name_hash(name, len) % p->n);
	size_t stride = p->n / k;
	return (start + (size_t)(j % k) * stride) % p->n;
}

const uint8_t *pool_next(const struct pool *p, struct pool_cursor *c, const char *name, size_t len, unsigned k)
{
	return p->addr[pool_next_index(p, c, name, len, k)];
}
