/* gfwlist — AutoProxy/ABP list to name rules (mapping in gfwlist.h). */
#include "inject/gfwlist.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int gfwlist_b64decode(const char *in, size_t len, char **out)
{
	char *o = malloc(len / 4 * 3 + 4);
	if (!o)
		return DNS_ENOMEM;
	size_t n = 0;
	unsigned acc = 0, bits = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (isspace(c))
			continue;
		if (c == '=')
			break;
		int v = b64val(c);
		if (v < 0) {
			free(o);
			return DNS_ESYNTAX;
		}
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (char)(acc >> bits & 0xff);
		}
	}
	o[n] = '\0';
	*out = o;
	return (int)n;
}

/* Adds pattern p (host part) with anchoring a ('D' domain, 'E' exact,
 * 'S' substring). Returns rules added. */
static int add_host(struct rules *r, char *h, char a, bool allow)
{
	char buf[2100]; /* lines are < 2048 */
	int added = 0;
	if (a == 'D' && !strncmp(h, "*.", 2))
		h += 2;
	if (!*h)
		return 0;
	if (!strchr(h, '*')) {
		enum rule_kind k = a == 'D' ? RULE_DOMAIN : a == 'E' ? RULE_EXACT : RULE_SUBSTR;
		return rules_add(r, k, h, allow) >= 0;
	}
	if (strlen(h) > 250)
		return 0;
	if (a == 'S') {
		snprintf(buf, sizeof(buf), "*%s*", h);
		return rules_add(r, RULE_GLOB, buf, allow) >= 0;
	}
	added += rules_add(r, RULE_GLOB, h, allow) >= 0;
	if (a == 'D') {
		snprintf(buf, sizeof(buf), "*.%s", h);
		added += rules_add(r, RULE_GLOB, buf, allow) >= 0;
	}
	return added;
}

/* One line, trimmed, NUL-terminated and writable. */
static int gfw_line(struct rules *r, char *s, struct gfwlist_stats *st)
{
	if (!*s || *s == '!' || *s == '[') {
		st->other++;
		return 0;
	}
	bool allow = false;
	if (!strncmp(s, "@@", 2)) {
		allow = true;
		s += 2;
	}
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '/' && s[n - 1] == '/') {
		st->regex++;
		return 0;
	}
	char a;
	if (!strncmp(s, "||", 2)) {
		a = 'D';
		s += 2;
	} else if (s[0] == '|') {
		a = 'E';
		s++;
		char *sch = strstr(s, "://");
		if (sch)
			s = sch + 3;
	} else if (s[0] == '.') {
		a = 'D';
		s++;
	} else {
		a = 'S';
	}
	/* host part: up to '/', drop ":port" and a trailing '|' or '^' */
	char *slash = strchr(s, '/');
	if (slash) {
		char *rest = slash + 1;
		while (*rest == '*' || *rest == '|')
			rest++;
		if (*rest) {
			st->path++;
			return 0;
		}
		*slash = '\0';
	}
	n = strlen(s);
	while (n && (s[n - 1] == '|' || s[n - 1] == '^'))
		s[--n] = '\0';
	char *colon = strchr(s, ':');
	if (colon && !strchr(colon + 1, ':'))
		*colon = '\0';
	for (char *p = s; *p; p++)
		if (isspace((unsigned char)*p)) {
			st->other++;
			return 0;
		}
	int k = add_host(r, s, a, allow);
	if (k <= 0) {
		st->other++;
		return 0;
	}
	if (allow)
		st->exceptions += k;
	else
		st->rules += k;
	return k;
}

int gfwlist_load_text(struct rules *r, const char *text, size_t len, struct gfwlist_stats *stats)
{
	struct gfwlist_stats local;
	struct gfwlist_stats *st = stats ? stats : &local;
	memset(st, 0, sizeof(*st));
	char line[2048];
	int total = 0;
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && text[j] != '\n')
			j++;
		size_t a = i, b = j;
		while (a < b && isspace((unsigned char)text[a]))
			a++;
		while (b > a && isspace((unsigned char)text[b - 1]))
			b--;
		if (b - a < sizeof(line)) {
			memcpy(line, text + a, b - a);
			line[b - a] = '\0';
			total += gfw_line(r, line, st);
		} else {
			st->other++;
		}
		i = j + 1;
	}
	return total;
}

int gfwlist_load(struct rules *r, const char *path, struct gfwlist_stats *stats, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return DNS_EIO;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	fclose(f);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		return DNS_ENOMEM;
	}
	size_t a = 0;
	while (a < n && isspace((unsigned char)buf[a]))
		a++;
	int rc;
	if (a < n && (buf[a] == '[' || buf[a] == '!' || buf[a] == '|' || buf[a] == '@')) {
		rc = gfwlist_load_text(r, buf + a, n - a, stats);
	} else {
		char *text;
		int tl = gfwlist_b64decode(buf, n, &text);
		if (tl < 0) {
			snprintf(err, errlen, "%s: not base64 and not an AutoProxy list", path);
			free(buf);
			return tl;
		}
		rc = gfwlist_load_text(r, text, (size_t)tl, stats);
		free(text);
	}
	free(buf);
	return rc;
}
