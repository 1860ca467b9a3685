/* profile — the named injector deployments (values documented in profile.h). */
#include "inject/profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "util/flag.h"

void profile_opts_default(struct profile_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->regime = QNAME_FIXED;
	o->jan21_start_ms = 0;
	o->jan21_len_ms = 29 * 60 * 1000;
	o->jan21_ttl = 3600;
}

static const struct inj_fp gfw_triplet[3] = {
	{.name = "gfw1", .regime = QNAME_FIXED, .flags = FORGE_FLAGS_8180, .select = SELECT_RULES,
	 .ttl_min = 2985, .ttl_max = 3022, .ip_ttl = -1, .ipid = IPID_RANDOM, .df = false,
	 .lead_min_ms = 10, .lead_max_ms = 60, .pool4 = POOL_A, .pool6 = POOL_AAAA, .subset_k = 16},
	{.name = "gfw2", .regime = QNAME_FIXED, .flags = FORGE_FLAGS_BY_RD, .select = SELECT_RULES,
	 .ttl_min = 234, .ttl_max = 234, .ip_ttl = 169, .ipid = IPID_ZERO, .df = true,
	 .lead_min_ms = 5, .lead_max_ms = 40, .pool4 = POOL_A, .pool6 = POOL_AAAA, .subset_k = 4},
	{.name = "gfw3", .regime = QNAME_FIXED, .flags = FORGE_FLAGS_BY_RD, .select = SELECT_RULES,
	 .ttl_min = 68, .ttl_max = 252, .ip_ttl = 53, .ipid = IPID_INCR, .df = false,
	 .lead_min_ms = 5, .lead_max_ms = 30, .pool4 = POOL_A, .pool6 = POOL_AAAA, .subset_k = 0},
};

int profile_make(struct inj_profile *p, const char *name, const struct profile_opts *o)
{
	memset(p, 0, sizeof(*p));
	if (strlen(name) >= sizeof(p->name))
		return DNS_ESYNTAX;
	strcpy(p->name, name);
	if (!strcmp(name, "gfw") || !strcmp(name, "jan21")) {
		memcpy(p->inj, gfw_triplet, sizeof(gfw_triplet));
		p->n = 3;
		if (!strcmp(name, "jan21")) {
			p->inj[p->n++] = (struct inj_fp){
				.name = "dit", .regime = QNAME_UNPATCHED, .flags = FORGE_FLAGS_BY_RD,
				.select = SELECT_COM_NET_ORG, .force_a = true, .window = 1,
				.ttl_min = o->jan21_ttl, .ttl_max = o->jan21_ttl, .ip_ttl = -1,
				.ipid = IPID_RANDOM, .df = false, .lead_min_ms = 5, .lead_max_ms = 30,
				.pool4 = POOL_JAN21, .pool6 = POOL_NONE, .subset_k = 0};
			p->win_start_ms = o->jan21_start_ms;
			p->win_len_ms = o->jan21_len_ms;
		}
	} else if (!strcmp(name, "iran")) {
		p->inj[0] = (struct inj_fp){
			.name = "iran", .regime = QNAME_FIXED, .flags = FORGE_FLAGS_BY_RD, .select = SELECT_RULES,
			.ttl_min = 60, .ttl_max = 60, .ip_ttl = 64, .ipid = IPID_KERNEL, .df = true,
			.lead_min_ms = 5, .lead_max_ms = 30, .pool4 = POOL_IRAN_A, .pool6 = POOL_IRAN_AAAA};
		p->n = 1;
	} else if (strcmp(name, "none")) {
		return DNS_ESYNTAX;
	}
	if (o->regime_set)
		for (int i = 0; i < p->n; i++)
			if (p->inj[i].select == SELECT_RULES)
				p->inj[i].regime = o->regime;
	return 0;
}

const char *profile_ipid_name(enum ipid_policy p)
{
	switch (p) {
	case IPID_KERNEL: return "kernel";
	case IPID_ZERO: return "zero";
	case IPID_RANDOM: return "random";
	case IPID_INCR: return "incr";
	}
	return "?";
}

/* "N" or a range "N..M" / "N-M" (M may be negative after ".."). */
static int parse_range(const char *v, long lo_ok, long hi_ok, long *lo, long *hi)
{
	char *end;
	errno = 0;
	long a = strtol(v, &end, 10), b = a;
	if (end == v || errno)
		return -1;
	if (*end) {
		const char *w;
		if (end[0] == '.' && end[1] == '.')
			w = end + 2;
		else if (end[0] == '-')
			w = end + 1;
		else
			return -1;
		b = strtol(w, &end, 10);
		if (end == w || *end || errno)
			return -1;
	}
	if (a > b || a < lo_ok || b > hi_ok)
		return -1;
	*lo = a, *hi = b;
	return 0;
}

/* Sets one key of fp; -1 when the value is bad, -2 when the key is unknown. */
static int tune_one(struct inj_fp *fp, const char *key, const char *v)
{
	long lo, hi;
	bool on;
	if (!strcmp(key, "fire")) {
		char *end;
		double pr = strtod(v, &end);
		if (end == v || *end || !(pr >= 0 && pr <= 1))
			return -1;
		fp->miss = 1 - pr;
	} else if (!strcmp(key, "ttl")) {
		if (parse_range(v, 0, 0x7fffffffL, &lo, &hi))
			return -1;
		fp->ttl_min = (uint32_t)lo, fp->ttl_max = (uint32_t)hi;
	} else if (!strcmp(key, "ip_ttl")) {
		if (!strcmp(v, "copy"))
			fp->ip_ttl = INJ_IPTTL_COPY;
		else if (!strcmp(v, "random"))
			fp->ip_ttl = INJ_IPTTL_RANDOM;
		else if (parse_range(v, 1, 255, &lo, &hi) || lo != hi)
			return -1;
		else
			fp->ip_ttl = (int)lo;
	} else if (!strcmp(key, "ipid")) {
		enum ipid_policy pol;
		for (pol = IPID_KERNEL; pol <= IPID_INCR; pol++)
			if (!strcmp(v, profile_ipid_name(pol)))
				break;
		if (pol > IPID_INCR)
			return -1;
		fp->ipid = pol;
	} else if (!strcmp(key, "df")) {
		if (flag_parse(v, &on))
			return -1;
		fp->df = on;
	} else if (!strcmp(key, "lead")) {
		if (parse_range(v, -10000, 10000, &lo, &hi))
			return -1;
		fp->lead_min_ms = (int)lo, fp->lead_max_ms = (int)hi;
	} else if (!strcmp(key, "rst")) {
		if (flag_parse(v, &on))
			return -1;
		fp->no_rst = !on;
	} else if (!strcmp(key, "k")) {
		if (parse_range(v, 0, 1 << 20, &lo, &hi) || lo != hi)
			return -1;
		fp->subset_k = (unsigned)lo;
	} else if (!strcmp(key, "regime")) {
		if (qname_regime_parse(v, &fp->regime))
			return -1;
	} else if (!strcmp(key, "flags")) {
		if (!strcmp(v, "rd"))
			fp->flags = FORGE_FLAGS_BY_RD;
		else if (!strcmp(v, "8180"))
			fp->flags = FORGE_FLAGS_8180;
		else
			return -1;
	} else {
		return -2;
	}
	return 0;
}

int profile_tune(struct inj_profile *p, const char *spec, char *err, size_t errlen)
{
	const char *dot = strchr(spec, '.'), *eq = strchr(spec, '=');
	if (!dot || !eq || eq < dot || dot == spec || eq == dot + 1) {
		snprintf(err, errlen, "--tune '%s': expected INJECTOR.KEY=VALUE (e.g. gfw2.df=off)", spec);
		return DNS_ESYNTAX;
	}
	char inj[16], key[16];
	size_t il = (size_t)(dot - spec), kl = (size_t)(eq - dot - 1);
	if (il >= sizeof(inj) || kl >= sizeof(key)) {
		snprintf(err, errlen, "--tune '%s': injector or key name too long", spec);
		return DNS_ESYNTAX;
	}
	memcpy(inj, spec, il), inj[il] = 0;
	memcpy(key, dot + 1, kl), key[kl] = 0;
	const char *val = eq + 1;
	int hits = 0;
	for (int i = 0; i < p->n; i++) {
		if (strcmp(inj, "*") && strcmp(inj, p->inj[i].name))
			continue;
		int rc = tune_one(&p->inj[i], key, val);
		if (rc == -2) {
			snprintf(err, errlen,
				 "--tune '%s': unknown key '%s' (fire, ttl, ip_ttl, ipid, df, lead, rst, k, regime, flags)",
				 spec, key);
			return DNS_ESYNTAX;
		}
		if (rc < 0) {
			snprintf(err, errlen, "--tune '%s': bad value '%s' for %s", spec, val, key);
			return DNS_ESYNTAX;
		}
		hits++;
	}
	if (!hits) {
		char names[80] = "";
		for (int i = 0; i < p->n; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "",
				 p->inj[i].name);
		snprintf(err, errlen, "--tune '%s': profile %s has no injector '%s' (%s%s*)", spec, p->name, inj,
			 names, p->n ? ", " : "");
		return DNS_ESYNTAX;
	}
	return 0;
}
