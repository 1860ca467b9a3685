/* profile — the named injector deployments (values documented in profile.h). */
#include "inject/profile.h"

#include <string.h>

#include "dns/err.h"

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
