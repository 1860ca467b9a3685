/* rulekind — GFWatch rule-kind recovery from variant probes. */
#include "probe/rulekind.h"

#include <stdio.h>
#include <string.h>

#include "dns/err.h"

static const char *const pre[RK_NVAR] = {"", "www.", "x", "", "", "www.", "x", "x", "www."};
static const char *const post[RK_NVAR] = {"", "", "", ".x", "x", ".x", ".x", "x", "x"};

int rulekind_variant(const char *base, unsigned v, char *out, size_t cap)
{
	if (v >= RK_NVAR || !*base)
		return DNS_EINVAL;
	int n = snprintf(out, cap, "%s%s%s", pre[v], base, post[v]);
	if (n < 0 || (size_t)n >= cap)
		return DNS_ESPACE;
	return n;
}

bool rulekind_matches(enum rk_kind k, const char *base, const char *s)
{
	size_t bl = strlen(base), sl = strlen(s);
	if (bl > sl)
		return false;
	switch (k) {
	case RK_EXACT: return sl == bl && !memcmp(s, base, bl);
	case RK_BASE_DOT: return sl > bl && !memcmp(s, base, bl) && s[bl] == '.';
	case RK_PREFIX: return !memcmp(s, base, bl);
	case RK_DOMAIN: return !memcmp(s + sl - bl, base, bl) && (sl == bl || s[sl - bl - 1] == '.');
	case RK_SUFFIX: return !memcmp(s + sl - bl, base, bl);
	default: break;
	}
	for (size_t i = 0; i + bl <= sl; i++) {
		if (memcmp(s + i, base, bl))
			continue;
		bool lstart = i == 0 || s[i - 1] == '.', dot = i + bl < sl && s[i + bl] == '.';
		if ((k == RK_DOMAIN_DOT && lstart && dot) || (k == RK_DOMAIN_PREFIX && lstart) ||
		    (k == RK_SUFFIX_DOT && dot) || k == RK_SUBSTR)
			return true;
	}
	return false;
}

uint16_t rulekind_pattern(enum rk_kind k)
{
	static const char base[] = "b.c";
	uint16_t m = 0;
	char v[64];
	for (unsigned i = 0; i < RK_NVAR; i++)
		if (rulekind_variant(base, i, v, sizeof(v)) > 0 && rulekind_matches(k, base, v))
			m |= (uint16_t)(1u << i);
	return m;
}

enum rk_kind rulekind_classify(uint16_t forged, uint16_t known, int *dist)
{
	int best = RK_UNKNOWN, bd = 99;
	forged &= known;
	if (!known) {
		if (dist)
			*dist = 0;
		return RK_UNKNOWN;
	}
	if (!forged) {
		if (dist)
			*dist = 0;
		return RK_UNBLOCKED;
	}
	for (int k = 0; k < RK_NKINDS; k++) {
		int d = __builtin_popcount((unsigned)((rulekind_pattern((enum rk_kind)k) ^ forged) & known));
		if (d < bd) {
			bd = d;
			best = k;
		}
	}
	if (dist)
		*dist = bd;
	return (enum rk_kind)best;
}

const char *rulekind_name(enum rk_kind k)
{
	static const char *const n[] = {"exact", "base.*", "base*", "*.base", "*base", "*.base.*",
					"*.base*", "*base.*", "*base*", "unblocked", "unknown"};
	return (unsigned)k <= RK_UNKNOWN ? n[k] : "?";
}

int rulekind_format(enum rk_kind k, const char *base, char *out, size_t cap)
{
	const char *n = rulekind_name(k);
	if (k >= RK_NKINDS) {
		int r = snprintf(out, cap, "%s", n);
		return r < 0 || (size_t)r >= cap ? DNS_ESPACE : r;
	}
	const char *b = strstr(n, "base");
	if (!b) /* exact: the base itself */
		n = b = "base";
	int r = snprintf(out, cap, "%.*s%s%s", (int)(b - n), n, base, b + 4);
	return r < 0 || (size_t)r >= cap ? DNS_ESPACE : r;
}
