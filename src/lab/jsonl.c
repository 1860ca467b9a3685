/* jsonl — one field of a flat JSON line (see jsonl.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/jsonl.h"

/* Start of key's value (past the colon and blanks), or NULL. */
static const char *value_of(const char *line, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = line; (p = strchr(p, '"')) != NULL; p++) {
		if (!strncmp(p + 1, key, kl) && p[kl + 1] == '"') {
			const char *v = p + kl + 2;
			while (*v == ' ' || *v == '\t')
				v++;
			if (*v != ':')
				continue;
			v++;
			while (*v == ' ' || *v == '\t')
				v++;
			return v;
		}
	}
	return NULL;
}

/* Copies the string starting after its opening quote at s into out;
 * returns the position after the closing quote, or NULL when unterminated
 * or too long. */
static const char *copy_string(const char *s, char *out, size_t cap, bool cut)
{
	size_t o = 0;
	bool over = false;
	for (; *s && *s != '"'; s++) {
		char c = *s;
		if (c == '\\') {
			if (!s[1])
				return NULL;
			c = *++s;
		}
		if (o + 1 < cap)
			out[o++] = c;
		else
			over = true;
	}
	if (cap)
		out[o] = 0;
	if (*s != '"' || (over && !cut))
		return NULL;
	return s + 1;
}

bool jsonl_str(const char *line, const char *key, char *out, size_t cap)
{
	if (!cap)
		return false;
	out[0] = 0;
	const char *v = value_of(line, key);
	if (!v)
		return false;
	if (*v == '"')
		return copy_string(v + 1, out, cap, false) != NULL && out[0];
	size_t o = 0;
	for (; *v && *v != ',' && *v != '}' && *v != ']' && *v != ' '; v++) {
		if (o + 1 >= cap) {
			out[0] = 0;
			return false;
		}
		out[o++] = *v;
	}
	out[o] = 0;
	return o > 0;
}

bool jsonl_num(const char *line, const char *key, double *out)
{
	char b[64];
	if (!jsonl_str(line, key, b, sizeof(b)))
		return false;
	char *end;
	errno = 0;
	double v = strtod(b, &end);
	if (errno || end == b || *end)
		return false;
	*out = v;
	return true;
}

int jsonl_strings(const char *line, const char *key, void (*fn)(void *arg, const char *s), void *arg)
{
	const char *v = value_of(line, key);
	if (!v || *v != '[')
		return -1;
	int n = 0;
	v++;
	for (;;) {
		while (*v == ' ' || *v == ',')
			v++;
		if (*v == ']')
			return n;
		if (*v != '"')
			return -1;
		char s[256];
		v = copy_string(v + 1, s, sizeof(s), true);
		if (!v)
			return -1;
		fn(arg, s);
		n++;
	}
}
