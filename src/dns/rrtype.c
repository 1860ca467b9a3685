/* rrtype — RR type/class mnemonic tables (sorted for binary search). */
#include "dns/rrtype.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"

struct mnem {
	const char *name; /* upper case */
	uint16_t val;
};

/* Sorted by name (strcmp order); test_rrtype checks that. */
static const struct mnem type_tab[] = {
	{"A", 1}, {"A6", 38}, {"AAAA", 28}, {"AFSDB", 18}, {"AMTRELAY", 260},
	{"ANY", 255}, {"APL", 42}, {"ATMA", 34}, {"AVC", 258}, {"AXFR", 252},
	{"CAA", 257}, {"CDNSKEY", 60}, {"CDS", 59}, {"CERT", 37}, {"CNAME", 5},
	{"CSYNC", 62}, {"DHCID", 49}, {"DLV", 32769}, {"DNAME", 39}, {"DNSKEY", 48},
	{"DOA", 259}, {"DS", 43}, {"DSYNC", 66}, {"EID", 31}, {"EUI48", 108},
	{"EUI64", 109}, {"GID", 102}, {"GPOS", 27}, {"HINFO", 13}, {"HIP", 55},
	{"HTTPS", 65}, {"IPSECKEY", 45}, {"ISDN", 20}, {"IXFR", 251}, {"KEY", 25},
	{"KX", 36}, {"L32", 105}, {"L64", 106}, {"LOC", 29}, {"LP", 107},
	{"MAILA", 254}, {"MAILB", 253}, {"MB", 7}, {"MD", 3}, {"MF", 4},
	{"MG", 8}, {"MINFO", 14}, {"MR", 9}, {"MX", 15}, {"NAPTR", 35},
	{"NID", 104}, {"NIMLOC", 32}, {"NINFO", 56}, {"NS", 2}, {"NSAP", 22},
	{"NSAP-PTR", 23}, {"NSEC", 47}, {"NSEC3", 50}, {"NSEC3PARAM", 51}, {"NULL", 10},
	{"NXT", 30}, {"OPENPGPKEY", 61}, {"OPT", 41}, {"PTR", 12}, {"PX", 26},
	{"RESINFO", 261}, {"RKEY", 57}, {"RP", 17}, {"RRSIG", 46}, {"RT", 21},
	{"SIG", 24}, {"SINK", 40}, {"SMIMEA", 53}, {"SOA", 6}, {"SPF", 99},
	{"SRV", 33}, {"SSHFP", 44}, {"SVCB", 64}, {"TA", 32768}, {"TALINK", 58},
	{"TKEY", 249}, {"TLSA", 52}, {"TSIG", 250}, {"TXT", 16}, {"UID", 101},
	{"UINFO", 100}, {"UNSPEC", 103}, {"URI", 256}, {"WALLET", 262}, {"WKS", 11},
	{"X25", 19}, {"ZONEMD", 63},
};

static const struct mnem class_tab[] = {
	{"ANY", 255}, {"CH", 3}, {"CHAOS", 3}, {"HESIOD", 4}, {"HS", 4},
	{"IN", 1}, {"NONE", 254},
};

/* The same names indexed by value (two lists: one for each direction;
 * test_rrtype checks that they agree). */
static const char *const type_names[263] = {
	[1] = "A", [2] = "NS", [3] = "MD", [4] = "MF", [5] = "CNAME", [6] = "SOA",
	[7] = "MB", [8] = "MG", [9] = "MR", [10] = "NULL", [11] = "WKS", [12] = "PTR",
	[13] = "HINFO", [14] = "MINFO", [15] = "MX", [16] = "TXT", [17] = "RP",
	[18] = "AFSDB", [19] = "X25", [20] = "ISDN", [21] = "RT", [22] = "NSAP",
	[23] = "NSAP-PTR", [24] = "SIG", [25] = "KEY", [26] = "PX", [27] = "GPOS",
	[28] = "AAAA", [29] = "LOC", [30] = "NXT", [31] = "EID", [32] = "NIMLOC",
	[33] = "SRV", [34] = "ATMA", [35] = "NAPTR", [36] = "KX", [37] = "CERT",
	[38] = "A6", [39] = "DNAME", [40] = "SINK", [41] = "OPT", [42] = "APL",
	[43] = "DS", [44] = "SSHFP", [45] = "IPSECKEY", [46] = "RRSIG", [47] = "NSEC",
	[48] = "DNSKEY", [49] = "DHCID", [50] = "NSEC3", [51] = "NSEC3PARAM",
	[52] = "TLSA", [53] = "SMIMEA", [55] = "HIP", [56] = "NINFO", [57] = "RKEY",
	[58] = "TALINK", [59] = "CDS", [60] = "CDNSKEY", [61] = "OPENPGPKEY",
	[62] = "CSYNC", [63] = "ZONEMD", [64] = "SVCB", [65] = "HTTPS", [66] = "DSYNC",
	[99] = "SPF", [100] = "UINFO", [101] = "UID", [102] = "GID", [103] = "UNSPEC",
	[104] = "NID", [105] = "L32", [106] = "L64", [107] = "LP", [108] = "EUI48",
	[109] = "EUI64", [249] = "TKEY", [250] = "TSIG", [251] = "IXFR", [252] = "AXFR",
	[253] = "MAILB", [254] = "MAILA", [255] = "ANY", [256] = "URI", [257] = "CAA",
	[258] = "AVC", [259] = "DOA", [260] = "AMTRELAY", [261] = "RESINFO", [262] = "WALLET",
};

const char *rrtype_name(uint16_t type)
{
	if (type < sizeof(type_names) / sizeof(type_names[0]))
		return type_names[type];
	if (type == 32768)
		return "TA";
	if (type == 32769)
		return "DLV";
	return NULL;
}

const char *rrtype_to_text(uint16_t type, char *buf)
{
	const char *n = rrtype_name(type);
	if (n) {
		size_t l = strlen(n);
		memcpy(buf, n, l + 1);
	} else {
		snprintf(buf, 16, "TYPE%u", (unsigned)type);
	}
	return buf;
}

const char *rrclass_to_text(uint16_t rclass, char *buf)
{
	const char *n = NULL;
	switch (rclass) {
	case CLASS_IN: n = "IN"; break;
	case CLASS_CH: n = "CH"; break;
	case CLASS_HS: n = "HS"; break;
	case CLASS_NONE: n = "NONE"; break;
	case CLASS_ANY: n = "ANY"; break;
	}
	if (n)
		strcpy(buf, n);
	else
		snprintf(buf, 16, "CLASS%u", (unsigned)rclass);
	return buf;
}

/* Upper-cases s into up (≤ 15 chars); false when too long. */
static int upcase(const char *s, size_t len, char *up)
{
	if (len == 0 || len > 15)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		up[i] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
	}
	up[len] = 0;
	return 1;
}

/* "<prefix>nnn" with 1..5 digits and value ≤ 65535, prefix already matched. */
static int numeric_suffix(const char *up, size_t plen, size_t len)
{
	if (len <= plen || len > plen + 5)
		return DNS_ETYPE;
	unsigned v = 0;
	for (size_t i = plen; i < len; i++) {
		if (up[i] < '0' || up[i] > '9')
			return DNS_ETYPE;
		v = v * 10 + (unsigned)(up[i] - '0');
	}
	return v > 65535 ? DNS_ETYPE : (int)v;
}

static int bsearch_mnem(const struct mnem *tab, size_t n, const char *up)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(up, tab[mid].name);
		if (c == 0)
			return tab[mid].val;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return DNS_ETYPE;
}

int rrtype_from_text(const char *s, size_t len)
{
	char up[16];
	if (!upcase(s, len, up))
		return DNS_ETYPE;
	int v = bsearch_mnem(type_tab, sizeof(type_tab) / sizeof(type_tab[0]), up);
	if (v >= 0)
		return v;
	if (len > 4 && memcmp(up, "TYPE", 4) == 0)
		return numeric_suffix(up, 4, len);
	return DNS_ETYPE;
}

int rrclass_from_text(const char *s, size_t len)
{
	char up[16];
	if (!upcase(s, len, up))
		return DNS_ETYPE;
	int v = bsearch_mnem(class_tab, sizeof(class_tab) / sizeof(class_tab[0]), up);
	if (v >= 0)
		return v;
	if (len > 5 && memcmp(up, "CLASS", 5) == 0)
		return numeric_suffix(up, 5, len);
	return DNS_ETYPE;
}

int rrtype_is_meta(uint16_t type)
{
	return type == RR_OPT || (type >= 128 && type <= 255);
}
