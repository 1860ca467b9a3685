/* Unit tests for src/dns/rdata: text <-> storage <-> wire for every typed
 * RR type (wire hex cross-checked with ldns-read-zone), RFC 3597 forms,
 * compression rules and rejection of malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "dns/base.h"
#include "dns/rdata.h"
#include "dns/rrtype.h"

#define MAXTOK 1024

/* Splits on blanks; "..." is one token (quotes removed, escapes kept); a
 * quote inside a word starts a new token, as in zonefile.c. */
static size_t tokenize(const char *s, rdata_tok *tok)
{
	size_t n = 0;
	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		assert_true(n < MAXTOK);
		if (*s == '"') {
			const char *q = ++s;
			while (*s && *s != '"')
				s += (*s == '\\' && s[1]) ? 2 : 1;
			tok[n++] = (rdata_tok){q, (uint32_t)(s - q), 1};
			if (*s)
				s++;
		} else {
			const char *q = s;
			while (*s && *s != ' ' && *s != '"')
				s += (*s == '\\' && s[1]) ? 2 : 1;
			tok[n++] = (rdata_tok){q, (uint32_t)(s - q), 0};
		}
	}
	return n;
}

static const uint8_t origin[] = "\7example";

static int from_text(uint16_t type, const char *text, uint8_t *out, size_t cap, char *err)
{
	static rdata_tok tok[MAXTOK];
	size_t n = tokenize(text, tok);
	wire_wr w;
	wire_wr_init(&w, out, cap);
	err[0] = 0;
	int rc = rdata_from_text(type, tok, n, origin, &w, err);
	if (rc >= 0)
		assert_int_equal((size_t)rc, wire_wr_off(&w));
	else
		assert_int_equal(wire_wr_off(&w), 0);
	return rc;
}

static size_t unhex(const char *h, uint8_t *out)
{
	int n = base_hex_dec(h, strlen(h), out, 65535);
	assert_true(n >= 0);
	return (size_t)n;
}

struct rt {
	uint16_t type;
	const char *in;
	const char *hex;  /* storage form (ldns-read-zone -U output) */
	const char *out;  /* expected presentation; NULL: same as in */
};

static const struct rt cases[] = {
	{ RR_SOA, "ns1 hostmaster 2024010101 7200 3600 1209600 300", "036e7331076578616d706c65000a686f73746d6173746572076578616d706c650078a3f17500001c2000000e10001275000000012c",
	  "ns1.example. hostmaster.example. 2024010101 7200 3600 1209600 300" },
	{ RR_SOA, "@ h.example. 1 1h 30m 1w2d 1H1M1s", "076578616d706c6500" "0168076578616d706c6500" "00000001" "00000e10" "00000708" "000bdd80" "00000e4d",
	  "example. h.example. 1 3600 1800 777600 3661" },
	{ RR_NS, "ns1.example.", "036e7331076578616d706c6500", NULL },
	{ RR_MD, "md.example.", "026d64076578616d706c6500", NULL },
	{ RR_MF, "mf", "026d66076578616d706c6500", "mf.example." },
	{ RR_MB, "mb.", "026d6200", NULL },
	{ RR_MG, "mg.", "026d6700", NULL },
	{ RR_MR, "mr.", "026d7200", NULL },
	{ RR_A, "192.0.2.1", "c0000201", NULL },
	{ RR_AAAA, "2001:db8::1", "20010db8000000000000000000000001", NULL },
	{ RR_AAAA, "::ffff:192.0.2.1", "00000000000000000000ffffc0000201", NULL },
	{ RR_CNAME, "www.example.org.", "03777777076578616d706c65036f726700", NULL },
	{ RR_CNAME, "a\\.b\\032c.", "05612e622063" "00", NULL },
	{ RR_MX, "10 mail", "000a046d61696c076578616d706c6500", "10 mail.example." },
	{ RR_MX, "0 .", "000000", NULL },
	{ RR_TXT, "\"hello world\" \"second\" \"q\\\"uote\\\\\" \"\\001x\"",
	  "0b68656c6c6f20776f726c64067365636f6e64077122756f74655c020178", NULL },
	{ RR_TXT, "unquoted \"\" \\255\\\"", "08756e71756f746564" "00" "02ff22", "\"unquoted\" \"\" \"\\255\\\"\"" },
	{ RR_HINFO, "\"PC\" \"Linux\"", "025043054c696e7578", NULL },
	{ RR_MINFO, "rmail emai.l", "05726d61696c076578616d706c650004656d6169016c076578616d706c6500",
	  "rmail.example. emai.l.example." },
	{ RR_RP, "mbox.example. txt.example.", "046d626f78076578616d706c650003747874076578616d706c6500", NULL },
	{ RR_AFSDB, "1 afs.example.", "000103616673076578616d706c6500", NULL },
	{ RR_SRV, "10 20 443 target.example.", "000a001401bb06746172676574076578616d706c6500", NULL },
	{ RR_NAPTR, "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.", "0064000a0153075349502b44325500045f736970045f756470076578616d706c6500", NULL },
	{ RR_KX, "10 kx.example.", "000a026b78076578616d706c6500", NULL },
	{ RR_DNAME, "target.example.net.", "06746172676574076578616d706c65036e657400", NULL },
	{ RR_PTR, "host.example.", "04686f7374076578616d706c6500", NULL },
	{ RR_DS, "12345 8 2 E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766", "30390802e2d3c916f6deeac73294e8268fb5885044a833fc5459588f4a9184cfc41a5766", NULL },
	{ RR_DS, "12345 RSASHA256 2 e2d3c916f6deeac7 3294e8268fb5885044a833fc 5459588f4a9184cfc41a576 6", "30390802e2d3c916f6deeac73294e8268fb5885044a833fc5459588f4a9184cfc41a5766",
	  "12345 8 2 E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766" },
	{ RR_CDS, "12345 8 2 E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766", "30390802e2d3c916f6deeac73294e8268fb5885044a833fc5459588f4a9184cfc41a5766", NULL },
	{ 32769, "1 13 2 AABB", "0001" "0d02aabb", NULL }, /* DLV */
	{ RR_SSHFP, "4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789", "0402123456789abcdef67890123456789abcdef67890123456789abcdef123456789", NULL },
	{ RR_RRSIG, "A 8 2 3600 20250101000000 20241201000000 12345 example. AQIDBAUGBwgJCgsMDQ4P", "0001080200000e1067748580674ba7003039076578616d706c65000102030405060708090a0b0c0d0e0f", NULL },
	{ RR_RRSIG, "TYPE65534 13 0 1d 1735689600 0 1 . AQID AAQ=", "fffe0d0000015180677485800000000000010001020300" "04",
	  "TYPE65534 13 0 86400 20250101000000 19700101000000 1 . AQIDAAQ=" },
	{ RR_RRSIG, "A 8 2 3600 21060207062815 19700101000000 0 example. AQID", "0001080200000e10ffffffff000000000000076578616d706c6500010203", NULL },
	{ RR_NSEC, "next.example. A NS SOA MX RRSIG NSEC DNSKEY TYPE1234", "046e657874076578616d706c6500000762010000000380041b000000000000000000000000000000000000000000000000000020", NULL },
	{ RR_NSEC, "next.example.", "046e657874076578616d706c6500", NULL },
	{ RR_NSEC, "n. CAA A a", "016e00" "000140" "0101" "40", "n. A CAA" },
	{ RR_DNSKEY, "257 3 8 AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8gcCjFFVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh/RStIoO8g0NfnfL2MTJRkxoXbfDaUeVPQuYEhg37NZWAJQ9VnMVDxP/VHL496M/QZxkjf5/Efucp2gaDX6RS6CXpoY68LsvPVjR0ZSwzz1apAzvN9dlzEheX7ICJBBtuA6G3LQpzW5hOA2hzCTMjJPJ8LbqF6dsV6DoBQzgul0sGIcGOYl7OyQdXfZ57relSQageu+ipAdTTJ25AsRTAoub8ONGcLmqrAmRLKBP1dfwhYB4N7knNnulqQxA+Uk1ihz0=", "0101030803010001a80020a95566ba42e886bb804cda84e47ef56dbd7aec612615552cec906d2116d0ef207028c51554144dfeafe7c7cb8f005dd18234133ac0710a81182ce1fd14ad2283bc83435f9df2f6313251931a176df0da51e54f42e604860dfb359580250f559cc543c4ffd51cbe3de8cfd06719237f9fc47ee729da06835fa452e825e9a18ebc2ecbcf563474652c33cf56a9033bcdf5d973121797ec8089041b6e03a1b72d0a735b984e03687309332324f27c2dba85e9db15e83a0143382e974b0621c18e625ecec907577d9e7bade95241a81ebbe8a901d4d3276e40b114c0a2e6fc38d19c2e6aab02644b2813f575fc21601e0dee49cd9ee96a43103e524d62873d", NULL },
	{ RR_DNSKEY, "256 3 ECDSAP256SHA256 AwE AAQ ==", "0100030d03010001", "256 3 13 AwEAAQ==" },
	{ RR_CDNSKEY, "257 3 8 AwEAAQ==", "0101030803010001", NULL },
	{ RR_DHCID, "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=", "000201636fc0b8271c82825bb1ac5c41cf5351aa69b4febd94e8f17cdb95000da48c40", NULL },
	{ RR_NSEC3, "1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG", "0101000c04aabbccdd14174eb2409fe28bcb4887a1836f957f0a8425e27b0006400000000002", NULL },
	{ RR_NSEC3, "1 0 0 - 2t7b4g4vsa5smi47k61mv5bv1a22bojr", "010000000014174eb2409fe28bcb4887a1836f957f0a8425e27b",
	  "1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR" },
	{ RR_NSEC3PARAM, "1 0 10 AABB", "0100000a02aabb", NULL },
	{ RR_NSEC3PARAM, "1 0 0 -", "0100000000", NULL },
	{ RR_TLSA, "3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "0301010123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL },
	{ RR_SMIMEA, "3 1 1 0123456789ABCDEF", "0301010123456789abcdef", NULL },
	{ RR_OPENPGPKEY, "AQIDBAUGBwgJCgsMDQ4P", "0102030405060708090a0b0c0d0e0f", NULL },
	{ RR_CSYNC, "66 3 A NS AAAA", "000000420003000460000008", NULL },
	{ RR_ZONEMD, "2024010101 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "78a3f17501010123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL },
	{ RR_SVCB, "1 svc.example. alpn=h2,h3 port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AQIDBA== ipv6hint=2001:db8::1 key65000=hello", "000103737663076578616d706c6500000100060268320268330003000220fb00040008c0000201c000020200050004010203040006001020010db8000000000000000000000001fde8000568656c6c6f", NULL },
	{ RR_HTTPS, "1 . mandatory=alpn,port alpn=h2 port=443 no-default-alpn", "000100000000040001000300010003026832000200000003000201bb",
	  "1 . mandatory=alpn,port alpn=h2 no-default-alpn port=443" },
	{ RR_HTTPS, "1 . mandatory=port,alpn port=443 alpn=\"h2\"", "00010000000004000100030001000302683200030002" "01bb",
	  "1 . mandatory=alpn,port alpn=h2 port=443" },
	{ RR_HTTPS, "0 svc.example.", "000003737663076578616d706c6500", NULL },
	{ RR_SVCB, "2 . alpn=a\\\\\\\\b,c\\\\,d key7=/dns{?dns} key9 key23=\"a b\"", "000200" "00010008" "03615c62" "03632c64" "0007000a2f646e737b3f646e737d" "00090000" "00170003612062",
	  "2 . alpn=a\\092\\092b,c\\092,d dohpath=/dns{?dns} key9 key23=a\\032b" },
	{ RR_URI, "10 1 \"https://www.example.com/path\"", "000a000168747470733a2f2f7777772e6578616d706c652e636f6d2f70617468", NULL },
	{ RR_URI, "10 1 \"\"", "000a0001", NULL },
	{ RR_CAA, "0 issue \"letsencrypt.org\"", "000569737375656c657473656e63727970742e6f7267", NULL },
	{ RR_CAA, "128 tbs \"Unknown\"", "8003746273556e6b6e6f776e", NULL },
	{ RR_CAA, "0 iodef mailto:a@b", "0005696f6465666d61696c746f3a614062", "0 iodef \"mailto:a@b\"" },
	{ RR_SPF, "\"v=spf1 -all\"", "0b763d73706631202d616c6c", NULL },
	{ RR_CERT, "PKIX 65535 RSASHA256 AQIDBAUGBwgJCgsMDQ4P", "0001ffff080102030405060708090a0b0c0d0e0f", "PKIX 65535 8 AQIDBAUGBwgJCgsMDQ4P" },
	{ RR_CERT, "77 1 0 AQID", "004d000100010203", NULL },
	{ RR_IPSECKEY, "10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==", "0a0102c0000226010351537986ed35533b6064478eeeb27b5bd74dae149b6e81ba3a0521af82ab7801", NULL },
	{ RR_IPSECKEY, "10 3 2 gw.example. AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==", "0a0302026777076578616d706c6500010351537986ed35533b6064478eeeb27b5bd74dae149b6e81ba3a0521af82ab7801", NULL },
	{ RR_IPSECKEY, "10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==", "0a0002010351537986ed35533b6064478eeeb27b5bd74dae149b6e81ba3a0521af82ab7801", NULL },
	{ RR_IPSECKEY, "10 2 0 2001:db8::1", "0a020020010db8000000000000000000000001", NULL },
	{ 65534, "\\# 3 abcdef", "abcdef", "\\# 3 ABCDEF" },
	{ 65534, "\\# 0", "", NULL },
	{ RR_NULL, "\\# 2 0102", "0102", "\\# 2 0102" },
	{ RR_LOC, "\\# 16 01121613899b0a6a8044b4a900989680", "01121613899b0a6a8044b4a900989680", "\\# 16 01121613899B0A6A8044B4A900989680" },
	{ RR_LOC, "\\# 16 00051613800000008000000000989680", "00051613800000008000000000989680", "\\# 16 00051613800000008000000000989680" },
	{ RR_LOC, "\\# 16 00121613d00000008000000000989680", "00121613d00000008000000000989680", "\\# 16 00121613D00000008000000000989680" },
	{ RR_LOC, "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m", "000016138b3cf018810cbce0009895b8", "52 22 23.000 N 4 53 32.000 E -2.00m 0m 10000m 10m" },
	{ RR_LOC, "42 21 54 N 71 06 18 W -24m 30m", "0033161389172dd070be15f000988d20", "42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m" },
	{ RR_LOC, "42 21 43.952 N 71 5 6.344 W -24m 1m 200m 10m", "001224138917069070bf2dd800988d20", "42 21 43.952 N 71 5 6.344 W -24.00m 1m 200m 10m" },
	{ RR_LOC, "0 N 0 E 0m", "00121613800000008000000000989680", "0 0 0.000 N 0 0 0.000 E 0.00m 1m 10000m 10m" },
	{ RR_LOC, "90 S 180 W 42849672.95m 90000000m 1234m 0.5m", "009915516cb0270059604e00ffffffff", "90 0 0.000 S 180 0 0.000 W 42849672.95m 90000000m 1000m 0.50m" },
	{ RR_LOC, "1 2 3.4 s 5 6 7.008 w 1.5 2.5", "002216137fc72f787ee7bde000989716", "1 2 3.400 S 5 6 7.008 W 1.50m 2m 10000m 10m" },
	{ RR_WKS, "\\# 5 c000020106", "c000020106", "\\# 5 C000020106" },
	/* RFC 3597 form for known types: converted and printed typed */
	{ RR_A, "\\# 4 C0 00 02 01", "c0000201", "192.0.2.1" },
	{ RR_MX, "\\# 3 000a 00", "000a00", "10 ." },
	{ RR_A, "\\# 4 C0000 201", "c0000201", "192.0.2.1" },
	{ RR_OPENPGPKEY, "\\# 0", "", NULL },
	{ 30, "\\# 4 016e0000", "016e0000", "\\# 4 016E0000" }, /* NXT: \# only */
};

static void roundtrip_all(void **st)
{
	(void)st;
	static uint8_t buf[65536], want[65536], back[65536], wire[65536];
	static char text[70000], text2[70000];
	char err[RDATA_ERRLEN];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rt *c = &cases[i];
		const char *exp = c->out ? c->out : c->in;
		int n = from_text(c->type, c->in, buf, sizeof(buf), err);
		if (n < 0) {
			fail_msg("case %zu (%s): from_text %d %s", i, c->in, n, err);
			return;
		}
		size_t wl = unhex(c->hex, want);
		if ((size_t)n != wl || memcmp(buf, want, wl)) {
			char h[1024];
			base_hex_enc(buf, (size_t)n < 500 ? (size_t)n : 500, h);
			fail_msg("case %zu (%s): storage %s", i, c->in, h);
		}
		int tl = rdata_to_text(c->type, buf, (uint16_t)n, text, sizeof(text));
		if (tl < 0 || strcmp(text, exp))
			fail_msg("case %zu: to_text %d '%s' want '%s'", i, tl, text, exp);
		assert_int_equal((size_t)tl, strlen(text));
		/* printed text parses back to the same storage */
		int n2 = from_text(c->type, text, back, sizeof(back), err);
		if (n2 != n || memcmp(back, buf, (size_t)n))
			fail_msg("case %zu: reparse of '%s' gave %d %s", i, text, n2, err);
		/* wire (a message holding only the RDATA) unpacks to the same */
		memcpy(wire, want, wl);
		wire_rd r;
		wire_rd_init(&r, wire, wl);
		wire_wr w;
		wire_wr_init(&w, back, sizeof(back));
		int u = rdata_unpack(c->type, &r, (uint16_t)wl, &w);
		if (u != (int)wl || memcmp(back, want, wl) || wire_rd_left(&r))
			fail_msg("case %zu: unpack %d", i, u);
		/* and the RFC 3597 form of it gives the same storage too */
		int gl = snprintf(text2, sizeof(text2), "\\# %zu ", wl);
		base_hex_enc(want, wl, text2 + gl);
		n2 = from_text(c->type, text2, back, sizeof(back), err);
		if (n2 != n || memcmp(back, buf, (size_t)n))
			fail_msg("case %zu: \\# form gave %d %s", i, n2, err);
		/* rdata_pack without compression copies */
		wire_wr_init(&w, back, sizeof(back));
		assert_int_equal(rdata_pack(c->type, buf, (uint16_t)n, &w, NULL), 0);
		assert_int_equal(wire_wr_off(&w), (size_t)n);
		assert_memory_equal(back, buf, (size_t)n);
	}
}

struct bad {
	uint16_t type;
	const char *in;
	int rc;
};

static const struct bad bad_text[] = {
	{ RR_A, "192.0.2", DNS_ESYNTAX },
	{ RR_A, "192.0.2.256", DNS_ESYNTAX },
	{ RR_A, "192.0.2.1 x", DNS_ESYNTAX },
	{ RR_A, "", DNS_ESYNTAX },
	{ RR_A, "::1", DNS_ESYNTAX },
	{ RR_AAAA, "192.0.2.1", DNS_ESYNTAX },
	{ RR_AAAA, "2001:db8:::1", DNS_ESYNTAX },
	{ RR_MX, "65536 mail.", DNS_ERANGE },
	{ RR_MX, "-1 mail.", DNS_ESYNTAX },
	{ RR_MX, "10", DNS_ESYNTAX },
	{ RR_MX, "1x mail.", DNS_ESYNTAX },
	{ RR_MX, "10 a..b.", DNS_ESYNTAX },
	{ RR_SRV, "1 2 99999999999999999999 t.", DNS_ERANGE },
	{ RR_SOA, "a. b. 4294967296 1 1 1 1", DNS_ERANGE },
	{ RR_SOA, "a. b. 1 1 1 1 1x", DNS_ESYNTAX },
	{ RR_SOA, "a. b. 1 1 1 1 9999999999s", DNS_ERANGE },
	{ RR_DS, "1 8 256 AABB", DNS_ERANGE },
	{ RR_DS, "1 8 2 AAB", DNS_ESYNTAX },
	{ RR_DS, "1 8 2 XX", DNS_ESYNTAX },
	{ RR_DS, "1 NOSUCHALG 2 AA", DNS_ESYNTAX },
	{ RR_TXT, "\"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345\"", DNS_ERANGE },
	{ RR_TXT, "", DNS_ESYNTAX },
	{ RR_TXT, "\"bad\\25\"", DNS_ESYNTAX },
	{ RR_TXT, "\"bad\\256\"", DNS_ERANGE },
	{ RR_TXT, "trailing\\", DNS_ESYNTAX },
	{ RR_DNSKEY, "257 3 8 AwE=AAQ==", DNS_ESYNTAX },
	{ RR_DNSKEY, "257 3 8 AwEAA", DNS_ESYNTAX },
	{ RR_DNSKEY, "257 3 8 Aw*A", DNS_ESYNTAX },
	{ RR_DNSKEY, "257 3 8 AwEAA=", DNS_ESYNTAX },
	{ RR_RRSIG, "A 8 2 3600 20251301000000 20241201000000 1 e. AQID", DNS_ERANGE },
	{ RR_RRSIG, "A 8 2 3600 20250229000000 20241201000000 1 e. AQID", DNS_ERANGE },
	{ RR_RRSIG, "A 8 2 3600 21060207062816 20241201000000 1 e. AQID", DNS_ERANGE },
	{ RR_RRSIG, "A 8 2 3600 2025010100000a 20241201000000 1 e. AQID", DNS_ESYNTAX },
	{ RR_RRSIG, "BOGUS 8 2 3600 1 1 1 e. AQID", DNS_ESYNTAX },
	{ RR_NSEC, "n. A BOGUS", DNS_ESYNTAX },
	{ RR_NSEC, "n. TYPE65536", DNS_ESYNTAX },
	{ RR_NSEC3, "1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BO A", DNS_ESYNTAX },
	{ RR_NSEC3, "1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJW A", DNS_ESYNTAX },
	{ RR_NSEC3, "1 0 0 ABC 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR", DNS_ESYNTAX },
	{ RR_NSEC3, "1 0 0 -", DNS_ESYNTAX },
	{ RR_NSEC3PARAM, "1 0 0 - extra", DNS_ESYNTAX },
	{ RR_SVCB, "1 . port=99999", DNS_ERANGE },
	{ RR_SVCB, "1 . port=443 port=444", DNS_ESYNTAX },
	{ RR_SVCB, "1 . mandatory=port", DNS_ESYNTAX },
	{ RR_SVCB, "1 . mandatory=mandatory", DNS_ESYNTAX },
	{ RR_SVCB, "1 . mandatory=alpn,alpn alpn=h2", DNS_ESYNTAX },
	{ RR_SVCB, "1 . alpn=", DNS_ESYNTAX },
	{ RR_SVCB, "1 . alpn=h2,,h3", DNS_ESYNTAX },
	{ RR_SVCB, "1 . no-default-alpn=x", DNS_ESYNTAX },
	{ RR_SVCB, "1 . ipv4hint=1.2.3", DNS_ESYNTAX },
	{ RR_SVCB, "1 . ipv6hint=1.2.3.4", DNS_ESYNTAX },
	{ RR_SVCB, "1 . ech=!!", DNS_ESYNTAX },
	{ RR_SVCB, "1 . ech", DNS_ESYNTAX },
	{ RR_SVCB, "1 . bogus=1", DNS_ESYNTAX },
	{ RR_SVCB, "1 . key65535", DNS_ESYNTAX },
	{ RR_SVCB, "1 . key65536=a", DNS_ESYNTAX },
	{ RR_CAA, "0 is-sue \"x\"", DNS_ESYNTAX },
	{ RR_CAA, "0 \"\" \"x\"", DNS_ESYNTAX },
	{ RR_CAA, "256 issue \"x\"", DNS_ERANGE },
	{ RR_IPSECKEY, "10 4 2 x AQID", DNS_ESYNTAX },
	{ RR_IPSECKEY, "10 1 2 2001:db8::1 AQID", DNS_ESYNTAX },
	{ RR_IPSECKEY, "10 0 2 x. AQID", DNS_ESYNTAX },
	{ RR_CERT, "BOGUS 1 1 AQID", DNS_ESYNTAX },
	{ RR_LOC, "91 N 0 E 0m", DNS_ERANGE },
	{ RR_LOC, "90 1 N 0 E 0m", DNS_ERANGE },
	{ RR_LOC, "0 60 N 0 E 0m", DNS_ERANGE },
	{ RR_LOC, "0 0 60 N 0 E 0m", DNS_ERANGE },
	{ RR_LOC, "0 0 1.2345 N 0 E 0m", DNS_ESYNTAX },
	{ RR_LOC, "0 N 181 E 0m", DNS_ERANGE },
	{ RR_LOC, "0 N 0 E", DNS_ESYNTAX },
	{ RR_LOC, "0 N 0 E 0m 1m 1m 1m 1m", DNS_ESYNTAX },
	{ RR_LOC, "0 X 0 E 0m", DNS_ESYNTAX },
	{ RR_LOC, "0 0 0 0 N 0 E 0m", DNS_ESYNTAX },
	{ RR_LOC, "0 N 0 E -100000.01m", DNS_ERANGE },
	{ RR_LOC, "0 N 0 E 42849672.96m", DNS_ERANGE },
	{ RR_LOC, "0 N 0 E 0m 90000001m", DNS_ERANGE },
	{ RR_LOC, "0 N 0 E 1.m", DNS_ESYNTAX },
	{ RR_LOC, "N 0 E 0m", DNS_ESYNTAX },
	{ 65534, "abcdef", DNS_ESYNTAX },
	{ RR_NULL, "x", DNS_ESYNTAX },
	{ 65534, "\\# 3 abcd", DNS_ESYNTAX },
	{ 65534, "\\# 3 abcdef01", DNS_ESYNTAX },
	{ 65534, "\\# 3 abcdeg", DNS_ESYNTAX },
	{ 65534, "\\# 2 abc", DNS_ESYNTAX },
	{ 65534, "\\#", DNS_ESYNTAX },
	{ 65534, "\\# 65536", DNS_ERANGE },
	{ RR_A, "\\# 3 c00002", DNS_EFORMAT },
	{ RR_A, "\\# 5 c000020101", DNS_EFORMAT },
	{ RR_MX, "\\# 4 000ac000", DNS_EFORMAT },           /* pointer in \# data */
	{ RR_NSEC, "\\# 5 016e000000", DNS_EFORMAT },       /* window with 0 octets */
	{ RR_NSEC, "\\# 6 016e00000100", DNS_EFORMAT },     /* trailing zero octet */
	{ RR_SVCB, "\\# 10 000100 00030002 01bb 00", DNS_EFORMAT },
	{ RR_SVCB, "\\# 7 000100 0000 0000", DNS_EFORMAT },
	{ RR_TXT, "\\# 0", DNS_EFORMAT },
	{ RR_TXT, "\\# 2 0561", DNS_EFORMAT },
	{ RR_DS, "\\# 3 000108", DNS_EFORMAT },
};

static void text_errors(void **st)
{
	(void)st;
	uint8_t buf[4096];
	char err[RDATA_ERRLEN];
	for (size_t i = 0; i < sizeof(bad_text) / sizeof(bad_text[0]); i++) {
		int rc = from_text(bad_text[i].type, bad_text[i].in, buf, sizeof(buf), err);
		if (rc != bad_text[i].rc)
			fail_msg("bad case %zu (%s): got %d want %d", i, bad_text[i].in, rc, bad_text[i].rc);
		assert_true(err[0] != 0);
		assert_true(strlen(err) < RDATA_ERRLEN);
	}
	/* a field-naming message */
	from_text(RR_MX, "65536 mail.", buf, sizeof(buf), err);
	assert_non_null(strstr(err, "field 1"));
	assert_non_null(strstr(err, "65536"));
}

struct badw {
	uint16_t type;
	const char *hex;
};

/* Each is the whole message; RDATA is all of it. */
static const struct badw bad_wire[] = {
	{ RR_A, "c00002" },
	{ RR_A, "c000020101" },
	{ RR_AAAA, "c0000201" },
	{ RR_NS, "016100ff" },                 /* trailing junk */
	{ RR_NS, "0161" },                     /* name runs out */
	{ RR_NS, "4161" },                     /* label type 0x40 */
	{ RR_MX, "000a" },
	{ RR_SOA, "0000000000000100000002000000030000000400" },
	{ RR_TXT, "" },
	{ RR_TXT, "0361" },
	{ RR_HINFO, "0141" },
	{ RR_NSEC, "0000" },                   /* window 0, len 0 */
	{ RR_NSEC, "00000140000140" },         /* window repeated */
	{ RR_NSEC, "000021" "000000000000000000000000000000000000000000000000000000000000000001" },
	{ RR_NSEC, "0000024000" },             /* trailing zero octet */
	{ RR_NSEC, "00000240" },               /* window truncated */
	{ RR_NSEC3, "0100000000000000" },      /* empty next hash */
	{ RR_NSEC3, "01000000ff" },
	{ RR_NSEC3PARAM, "0100000001" },
	{ RR_DS, "000108" },
	{ RR_CAA, "0000" },                    /* empty tag */
	{ RR_CAA, "00022d2d78" },              /* non-alnum tag */
	{ RR_CAA, "0005697373" },
	{ RR_IPSECKEY, "0a0402" },             /* gateway type 4 */
	{ RR_IPSECKEY, "0a0102c00002" },
	{ RR_SVCB, "0001" },
	{ RR_SVCB, "000100" "0003000201bb" "0001000302683200" }, /* keys out of order */
	{ RR_SVCB, "000100" "0003000201bb" "0003000201bb" },     /* duplicate key */
	{ RR_SVCB, "000100" "000000020003" },                    /* mandatory key missing */
	{ RR_SVCB, "000100" "00000004000300010003000201bb" },    /* mandatory list unsorted */
	{ RR_SVCB, "000100" "000000020000" },                    /* mandatory lists itself */
	{ RR_SVCB, "000100" "00010000" },                        /* empty alpn */
	{ RR_SVCB, "000100" "0001000300026800" },                /* alpn overruns */
	{ RR_SVCB, "000100" "000300010001" },                    /* port length 1 */
	{ RR_SVCB, "000100" "0004000300010203" },                /* ipv4hint length 3 */
	{ RR_SVCB, "000100" "00060004" "01020304" },             /* ipv6hint length 4 */
	{ RR_SVCB, "000100" "00020001" "00" },                   /* no-default-alpn with value */
	{ RR_SVCB, "000100" "ffff0000" },                        /* key 65535 */
	{ RR_SVCB, "000100" "00070005" "6162" },                 /* value truncated */
	{ RR_URI, "000a00" },
	{ RR_RRSIG, "0001080200000e1067748580674ba7003039076578616d706c6500" "0102" "00" },
};

static void wire_errors(void **st)
{
	(void)st;
	uint8_t in[512], out[1024];
	for (size_t i = 0; i < sizeof(bad_wire) / sizeof(bad_wire[0]); i++) {
		size_t n = unhex(bad_wire[i].hex, in);
		/* the last case is a valid RRSIG with a junk name: fix up below */
		wire_rd r;
		wire_rd_init(&r, in, n);
		wire_wr w;
		wire_wr_init(&w, out, sizeof(out));
		int rc = rdata_unpack(bad_wire[i].type, &r, (uint16_t)n, &w);
		if (bad_wire[i].type == RR_RRSIG) {
			assert_true(rc >= 0); /* sanity: the base is valid */
			continue;
		}
		if (rc >= 0)
			fail_msg("bad wire %zu (%s) accepted", i, bad_wire[i].hex);
		assert_int_equal(r.err, rc);
		assert_int_equal(wire_wr_off(&w), 0);
	}
	/* rdlen larger than the message: ETRUNC */
	wire_rd r;
	wire_rd_init(&r, in, 4);
	wire_wr w;
	wire_wr_init(&w, out, sizeof(out));
	assert_int_equal(rdata_unpack(RR_A, &r, 5, &w), DNS_ETRUNC);
	/* output too small */
	unhex("c0000201", in);
	wire_rd_init(&r, in, 4);
	wire_wr_init(&w, out, 3);
	assert_int_equal(rdata_unpack(RR_A, &r, 4, &w), DNS_ESPACE);
	/* opaque types take anything */
	wire_rd_init(&r, in, 3);
	wire_wr_init(&w, out, sizeof(out));
	assert_int_equal(rdata_unpack(65534, &r, 3, &w), 3);
	wire_rd_init(&r, in, 0);
	assert_int_equal(rdata_unpack(RR_NULL, &r, 0, &w), 0);
}

/* Message: 12-byte header, then "\4mail\7example\0" at 12, then RDATA. */
static size_t mkmsg(uint8_t *m, const char *rdhex)
{
	memset(m, 0, 12);
	memcpy(m + 12, "\4mail\7example", 14);
	return 26 + unhex(rdhex, m + 26);
}

static int unpack_msg(uint16_t type, const char *rdhex, uint8_t *out, size_t cap)
{
	uint8_t m[512];
	size_t n = mkmsg(m, rdhex);
	wire_rd r;
	wire_rd_init(&r, m, n);
	wire_rd_skip(&r, 26);
	wire_wr w;
	wire_wr_init(&w, out, cap);
	int rc = rdata_unpack(type, &r, (uint16_t)(n - 26), &w);
	if (rc >= 0)
		assert_int_equal(wire_rd_left(&r), 0);
	return rc;
}

static void compression_rules(void **st)
{
	(void)st;
	uint8_t out[1024];
	char text[1024];
	/* MX, SOA, MINFO, NS (well-known): pointers decompressed */
	int n = unpack_msg(RR_MX, "000ac00c", out, sizeof(out));
	assert_int_equal(n, 16);
	assert_memory_equal(out, "\0\12\4mail\7example", 16);
	n = unpack_msg(RR_SOA, "c00c" "0561646d696ec011" "0000000100000002000000030000000400000005", out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(rdata_to_text(RR_SOA, out, (uint16_t)n, text, sizeof(text)) > 0, 1);
	assert_string_equal(text, "mail.example. admin.example. 1 2 3 4 5");
	/* SRV, NAPTR, KX, RP, AFSDB, DNAME: decompressed on read */
	assert_true(unpack_msg(RR_SRV, "000100020003c00c", out, sizeof(out)) > 0);
	assert_true(unpack_msg(RR_KX, "0001c011", out, sizeof(out)) > 0);
	assert_true(unpack_msg(RR_RP, "c00cc011", out, sizeof(out)) > 0);
	assert_true(unpack_msg(RR_AFSDB, "0001c00c", out, sizeof(out)) > 0);
	assert_true(unpack_msg(RR_DNAME, "c011", out, sizeof(out)) > 0);
	assert_true(unpack_msg(RR_NAPTR, "00010002000000c00c", out, sizeof(out)) > 0);
	assert_true(unpack_msg(RR_SIG, "0001080200000e1067748580674ba7003039c011" "010203", out, sizeof(out)) > 0);
	/* others: a pointer is a format error */
	assert_int_equal(unpack_msg(RR_RRSIG, "0001080200000e1067748580674ba7003039c011" "010203", out, sizeof(out)), DNS_EFORMAT);
	assert_int_equal(unpack_msg(RR_NSEC, "c00c000140", out, sizeof(out)), DNS_EFORMAT);
	assert_int_equal(unpack_msg(RR_SVCB, "0001c00c", out, sizeof(out)), DNS_EFORMAT);
	assert_int_equal(unpack_msg(RR_IPSECKEY, "0a0302c00c", out, sizeof(out)), DNS_EFORMAT);
	/* forward pointer in an allowed type: DNS_EPTR from name_unpack */
	assert_int_equal(unpack_msg(RR_MX, "000ac040", out, sizeof(out)), DNS_EPTR);

	/* rdata_pack compresses NS/MX/SOA names, never SRV's */
	uint8_t msg[512];
	memset(msg, 0, 12);
	memcpy(msg + 12, "\4mail\7example", 14);
	name_ctab ct;
	name_ctab_init(&ct);
	name_ctab_add(&ct, msg, 12);
	wire_wr w;
	wire_wr_init(&w, msg, sizeof(msg));
	wire_wr_rewind(&w, 26);
	uint8_t mx[] = "\0\12\4mail\7example";
	assert_int_equal(rdata_pack(RR_MX, mx, 16, &w, &ct), 0);
	assert_int_equal(wire_wr_off(&w), 30);
	assert_memory_equal(msg + 26, "\0\12\xc0\x0c", 4);
	uint8_t srv[] = "\0\1\0\2\0\3\4mail\7example";
	assert_int_equal(rdata_pack(RR_SRV, srv, 20, &w, &ct), 0);
	assert_int_equal(wire_wr_off(&w), 50);
	assert_memory_equal(msg + 30, srv, 20);
	uint8_t soa[60];
	size_t sl = 0;
	memcpy(soa, "\3ns1\7example", 13); sl = 13;
	memcpy(soa + sl, "\4mail\7example", 14); sl += 14;
	memset(soa + sl, 7, 20); sl += 20;
	assert_int_equal(rdata_pack(RR_SOA, soa, (uint16_t)sl, &w, &ct), 0);
	assert_int_equal(wire_wr_off(&w), 50 + 6 + 2 + 20);
	assert_memory_equal(msg + 50, "\3ns1\xc0\x11\xc0\x0c", 8);
	/* corrupt storage is refused, not followed */
	uint8_t badns[] = "\3ns1\xc0\x0c";
	assert_int_equal(rdata_pack(RR_NS, badns, 6, &w, &ct), DNS_EFORMAT);
}

static void targets(void **st)
{
	(void)st;
	uint8_t mx[] = "\0\12\4mail\7example";
	assert_ptr_equal(rdata_target(RR_MX, mx, 16), mx + 2);
	assert_ptr_equal(rdata_target(RR_KX, mx, 16), mx + 2);
	assert_ptr_equal(rdata_target(RR_AFSDB, mx, 16), mx + 2);
	assert_ptr_equal(rdata_target(RR_NS, mx + 2, 14), mx + 2);
	assert_ptr_equal(rdata_target(RR_CNAME, mx + 2, 14), mx + 2);
	assert_ptr_equal(rdata_target(RR_DNAME, mx + 2, 14), mx + 2);
	assert_ptr_equal(rdata_target(RR_PTR, mx + 2, 14), mx + 2);
	assert_ptr_equal(rdata_target(RR_MD, mx + 2, 14), mx + 2);
	assert_ptr_equal(rdata_target(RR_MF, mx + 2, 14), mx + 2);
	uint8_t srv[] = "\0\1\0\2\0\3\4mail\7example";
	assert_ptr_equal(rdata_target(RR_SRV, srv, 20), srv + 6);
	assert_null(rdata_target(RR_A, srv, 4));
	assert_null(rdata_target(RR_TXT, srv, 20));
	assert_null(rdata_target(RR_SRV, srv, 6));
}

static void whole_rr(void **st)
{
	(void)st;
	char out[256];
	uint8_t a[] = {192, 0, 2, 1};
	int n = rr_to_text((const uint8_t *)"\3www\7example", RR_A, CLASS_IN, 300, a, 4, out, sizeof(out));
	assert_string_equal(out, "www.example.\t300\tIN\tA\t192.0.2.1");
	assert_int_equal(n, (int)strlen(out));
	n = rr_to_text((const uint8_t *)"", 65280, 42, 0, a, 3, out, sizeof(out));
	assert_string_equal(out, ".\t0\tCLASS42\tTYPE65280\t\\# 3 C00002");
	/* too small buffers */
	assert_int_equal(rr_to_text((const uint8_t *)"\3www\7example", RR_A, CLASS_IN, 300, a, 4, out, 20), DNS_ESPACE);
	assert_int_equal(rdata_to_text(RR_A, a, 4, out, 9), DNS_ESPACE);
	assert_int_equal(rdata_to_text(RR_A, a, 4, out, 10), 9);
	assert_int_equal(rdata_to_text(RR_A, a, 4, out, 0), DNS_ESPACE);
	/* corrupt storage */
	assert_int_equal(rdata_to_text(RR_A, a, 3, out, sizeof(out)), DNS_EFORMAT);
	assert_int_equal(rdata_to_text(RR_NS, (const uint8_t *)"\3ns", 3, out, sizeof(out)), DNS_EFORMAT);
}

static void output_space(void **st)
{
	(void)st;
	uint8_t buf[8];
	char err[RDATA_ERRLEN];
	assert_int_equal(from_text(RR_DNSKEY, "257 3 8 AwEAAQ==", buf, 6, err), DNS_ESPACE);
	assert_int_equal(from_text(RR_TXT, "\"abcdefgh\"", buf, 8, err), DNS_ESPACE);
	assert_int_equal(from_text(RR_TXT, "\"abcdefg\"", buf, 8, err), 8);
	assert_int_equal(from_text(65534, "\\# 9 000000000000000000", buf, 8, err), DNS_ESPACE);
	assert_int_equal(from_text(RR_CAA, "0 a \"abcdef\"", buf, 8, err), DNS_ESPACE);
}

/* Every SvcParam order permutation of text gives the same sorted wire. */
static void svcb_sorting(void **st)
{
	(void)st;
	uint8_t a[512], b[512];
	char err[RDATA_ERRLEN];
	int n1 = from_text(RR_HTTPS, "1 . alpn=h3 port=1 ech=AQID ipv6hint=::1 key999=x", a, sizeof(a), err);
	int n2 = from_text(RR_HTTPS, "1 . key999=x ipv6hint=::1 ech=AQID port=1 alpn=h3", b, sizeof(b), err);
	assert_true(n1 > 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(a, b, (size_t)n1);
	/* tokenizer splitting key="value" into key= + quoted token */
	rdata_tok tok[3] = {{"1", 1, 0}, {".", 1, 0}, {"alpn=", 5, 0}};
	rdata_tok tok2[4] = {{"1", 1, 0}, {".", 1, 0}, {"alpn=", 5, 0}, {"h2,h3", 5, 1}};
	wire_wr w;
	wire_wr_init(&w, a, sizeof(a));
	assert_int_equal(rdata_from_text(RR_HTTPS, tok, 3, NULL, &w, err), DNS_ESYNTAX);
	wire_wr_init(&w, a, sizeof(a));
	n1 = rdata_from_text(RR_HTTPS, tok2, 4, NULL, &w, err);
	n2 = from_text(RR_HTTPS, "1 . alpn=h2,h3", b, sizeof(b), err);
	assert_true(n1 > 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(a, b, (size_t)n1);
	/* relative target without origin */
	wire_wr_init(&w, a, sizeof(a));
	rdata_tok tok3[2] = {{"1", 1, 0}, {"svc", 3, 0}};
	assert_int_equal(rdata_from_text(RR_SVCB, tok3, 2, NULL, &w, NULL), DNS_ESYNTAX);
}

/* Long values: a 64 KiB TXT made of 255-octet strings and a big \# blob. */
static void large_rdata(void **st)
{
	(void)st;
	static char text[300000];
	static uint8_t buf[70000];
	static char out[300000];
	char err[RDATA_ERRLEN];
	size_t o = 0;
	for (int i = 0; i < 256; i++) {
		text[o++] = '"';
		memset(text + o, 'a' + i % 26, 255);
		o += 255;
		text[o++] = '"';
		text[o++] = ' ';
	}
	text[o] = 0;
	assert_int_equal(from_text(RR_TXT, text, buf, sizeof(buf), err), DNS_ERANGE); /* > 65535 */
	text[(o / 2) - 1] = 0; /* 128 strings */
	int n = from_text(RR_TXT, text, buf, sizeof(buf), err);
	assert_int_equal(n, 128 * 256);
	assert_true(rdata_to_text(RR_TXT, buf, (uint16_t)n, out, sizeof(out)) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip_all),
		cmocka_unit_test(text_errors),
		cmocka_unit_test(wire_errors),
		cmocka_unit_test(compression_rules),
		cmocka_unit_test(targets),
		cmocka_unit_test(whole_rr),
		cmocka_unit_test(output_space),
		cmocka_unit_test(svcb_sorting),
		cmocka_unit_test(large_rdata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
