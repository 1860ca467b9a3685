/* namelist — name files (namelist.h). */
#include "probe/namelist.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "dns/name.h"
#include "dns/rrtype.h"

void namelist_free(struct namelist *nl)
{
	free(nl->buf);
	free(nl->e);
	memset(nl, 0, sizeof(*nl));
}

long namelist_parse(struct namelist *nl, char *buf, size_t len, const char *what, char *err, size_t errlen)
{
	memset(nl, 0, sizeof(*nl));
	nl->buf = buf;
	size_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	nl->e = malloc(lines * sizeof(*nl->e));
	if (!nl->e) {
		snprintf(err, errlen, "%s: out of memory", what);
		namelist_free(nl);
		return DNS_ENOMEM;
	}
	size_t lineno = 0;
	char *p = buf, *end = buf + len;
	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		*eol = 0;
		lineno++;
		char *h = strchr(p, '#');
		if (h)
			*h = 0;
		char *s = p;
		p = eol + 1;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			continue;
		char *ne = s;
		while (*ne && !isspace((unsigned char)*ne))
			ne++;
		char *t = ne;
		if (*t)
			*t++ = 0;
		while (isspace((unsigned char)*t))
			t++;
		char *te = t + strlen(t);
		while (te > t && isspace((unsigned char)te[-1]))
			*--te = 0;
		size_t nlen = strlen(s);
		if (nlen > 1 && s[nlen - 1] == '.')
			s[--nlen] = 0;
		uint16_t qt = 0;
		if (*t) {
			int v = rrtype_from_text(t, strlen(t));
			if (v < 0) {
				snprintf(err, errlen, "%s:%zu: unknown type '%s'", what, lineno, t);
				namelist_free(nl);
				return DNS_ESYNTAX;
			}
			qt = (uint16_t)v;
		}
		uint8_t w[NAME_MAXLEN];
		const char *chk = s[0] == '*' && s[1] == '.' ? s + 2 : s;
		if (name_from_text(chk, strlen(chk), (const uint8_t *)"", w) < 0) {
			snprintf(err, errlen, "%s:%zu: bad name '%s'", what, lineno, s);
			namelist_free(nl);
			return DNS_ESYNTAX;
		}
		nl->e[nl->n].name = s;
		nl->e[nl->n].qtype = qt;
		nl->n++;
	}
	return (long)nl->n;
}

long namelist_load(struct namelist *nl, const char *path, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return DNS_EIO;
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t r = fread(buf + len, 1, cap - len - 1, f);
		if (!r)
			break;
		len += r;
	}
	bool rerr = ferror(f);
	if (f != stdin)
		fclose(f);
	if (!buf || rerr) {
		free(buf);
		snprintf(err, errlen, "%s: %s", path, buf ? "read error" : "out of memory");
		return buf ? DNS_EIO : DNS_ENOMEM;
	}
	buf[len] = 0;
	return namelist_parse(nl, buf, len, path, err, errlen);
}
