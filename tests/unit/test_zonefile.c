/* Unit tests for src/dns/zonefile: directives, layout, defaults, $INCLUDE and
 * exact "file:line: message" errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns/err.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/rrtype.h"
#include "dns/zonefile.h"

#define MAXREC 64

struct rec {
	char owner[NAME_MAXTEXT];
	uint16_t type, rclass;
	uint32_t ttl;
	uint8_t rdata[512];
	uint16_t rdlen;
	char file[256];
	unsigned line;
	char origin[NAME_MAXTEXT];
};

struct coll {
	int n;
	struct rec r[MAXREC];
	int fail_at;      /* callback refuses record number fail_at (1-based) */
	int fail_msg;     /* ... with its own message via zf_error */
	char *err;
	size_t errlen;
};

static int collect(void *arg, const zf_rr *rr)
{
	struct coll *c = arg;
	if (c->n >= MAXREC)
		return DNS_ESPACE;
	struct rec *r = &c->r[c->n++];
	memset(r, 0, sizeof(*r));
	assert_true(name_to_text(rr->owner, r->owner, sizeof(r->owner)) > 0);
	r->type = rr->type;
	r->rclass = rr->rclass;
	r->ttl = rr->ttl;
	assert_true(rr->rdlen <= sizeof(r->rdata));
	memcpy(r->rdata, rr->rdata, rr->rdlen);
	r->rdlen = rr->rdlen;
	snprintf(r->file, sizeof(r->file), "%s", rr->file);
	r->line = rr->line;
	if (rr->origin)
		name_to_text(rr->origin, r->origin, sizeof(r->origin));
	if (c->fail_at == c->n) {
		if (c->fail_msg)
			return zf_error(rr, c->err, c->errlen, DNS_EINVAL, "refused by %s", "callback");
		return DNS_EINVAL;
	}
	return 0;
}

static const uint8_t ex_origin[] = "\7example";

static long parse(const char *text, const uint8_t *origin, struct coll *c, char *err)
{
	memset(c, 0, sizeof(*c));
	c->err = err;
	c->errlen = ZONEFILE_ERRLEN;
	err[0] = 0;
	return zonefile_parse_mem(text, strlen(text), "t", origin, collect, c, err,
				  ZONEFILE_ERRLEN);
}

#define OK(text, c) do { \
	char e_[ZONEFILE_ERRLEN]; \
	long n_ = parse((text), ex_origin, (c), e_); \
	if (n_ < 0) \
		fail_msg("parse failed: %s", e_); \
	assert_int_equal(n_, (c)->n); \
} while (0)

static void is_a(const struct rec *r, const char *owner, uint32_t ttl, const char *ip4)
{
	assert_string_equal(r->owner, owner);
	assert_int_equal(r->type, RR_A);
	assert_int_equal(r->rclass, CLASS_IN);
	assert_int_equal(r->ttl, ttl);
	assert_int_equal(r->rdlen, 4);
	unsigned a, b, cc, d;
	assert_int_equal(sscanf(ip4, "%u.%u.%u.%u", &a, &b, &cc, &d), 4);
	uint8_t w[4] = { (uint8_t)a, (uint8_t)b, (uint8_t)cc, (uint8_t)d };
	assert_memory_equal(r->rdata, w, 4);
}

static void basic_names(void **st)
{
	(void)st;
	struct coll c;
	OK("$ORIGIN example.\n"
	   "@ A 1.2.3.4\n"
	   "www A 1.2.3.5\n"
	   "abs.example.org. A 1.2.3.6\n"
	   "$ORIGIN sub\n"          /* relative to example. */
	   "x A 1.2.3.7\n"
	   "@ A 1.2.3.8\n"
	   "$ORIGIN .\n"
	   "top A 1.2.3.9\n"
	   ". A 1.2.3.10\n", &c);
	assert_int_equal(c.n, 7);
	is_a(&c.r[0], "example.", 3600, "1.2.3.4");
	assert_int_equal(c.r[0].line, 2);
	assert_string_equal(c.r[0].file, "t");
	assert_string_equal(c.r[0].origin, "example.");
	is_a(&c.r[1], "www.example.", 3600, "1.2.3.5");
	is_a(&c.r[2], "abs.example.org.", 3600, "1.2.3.6");
	is_a(&c.r[3], "x.sub.example.", 3600, "1.2.3.7");
	assert_string_equal(c.r[3].origin, "sub.example.");
	is_a(&c.r[4], "sub.example.", 3600, "1.2.3.8");
	is_a(&c.r[5], "top.", 3600, "1.2.3.9");
	is_a(&c.r[6], ".", 3600, "1.2.3.10");
	assert_int_equal(c.r[6].line, 10);

	/* the origin given by the caller, empty text, comments only */
	OK("www A 9.9.9.9\n", &c);
	is_a(&c.r[0], "www.example.", 3600, "9.9.9.9");
	OK("", &c);
	assert_int_equal(c.n, 0);
	OK("; nothing\n   \n\t; more\n\n", &c);
	assert_int_equal(c.n, 0);
	/* no final newline, CRLF line ends */
	OK("a A 1.1.1.1\r\nb A 2.2.2.2", &c);
	assert_int_equal(c.n, 2);
	is_a(&c.r[1], "b.example.", 3600, "2.2.2.2");
	assert_int_equal(c.r[1].line, 2);
}

static void ttl_forms(void **st)
{
	(void)st;
	struct coll c;
	OK("a A 1.1.1.1\n"           /* no $TTL: 3600 */
	   "b 300 A 1.1.1.1\n"
	   "c A 1.1.1.1\n"           /* explicit TTL above does not carry (as NSD) */
	   "$TTL 1h30m\n"
	   "d A 1.1.1.1\n"
	   "e 1d A 1.1.1.1\n"
	   "f A 1.1.1.1\n"
	   "g 1w A 1.1.1.1\n"
	   "h 1W2D3H4M5S A 1.1.1.1\n"
	   "i 1h30 A 1.1.1.1\n"
	   "j 0 A 1.1.1.1\n"
	   "k 2147483647 A 1.1.1.1\n"
	   "$TTL 86400\n"
	   "l A 1.1.1.1\n"
	   "m 0s A 1.1.1.1\n", &c);
	const uint32_t want[] = { 3600, 300, 3600, 5400, 86400, 5400, 604800,
				  604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5, 3630, 0,
				  2147483647, 86400, 0 };
	assert_int_equal(c.n, 13);
	for (int i = 0; i < 13; i++)
		assert_int_equal(c.r[i].ttl, want[i]);
}

static void ttl_class_orders(void **st)
{
	(void)st;
	struct coll c;
	OK("a 300 IN A 1.1.1.1\n"
	   "b IN 301 A 1.1.1.2\n"
	   "c IN A 1.1.1.3\n"
	   "d 302 A 1.1.1.4\n"
	   "e A 1.1.1.5\n"
	   "f in a 1.1.1.6\n"
	   "g CLASS1 TYPE1 1.1.1.7\n"
	   "h 303 class1 A 1.1.1.8\n"
	   " 304 IN A 1.1.1.9\n"
	   "\tIN 305 A 1.1.1.10\n"
	   " IN A 1.1.1.11\n"
	   " A 1.1.1.12\n"
	   " 306 A 1.1.1.13\n", &c);
	assert_int_equal(c.n, 13);
	is_a(&c.r[0], "a.example.", 300, "1.1.1.1");
	is_a(&c.r[1], "b.example.", 301, "1.1.1.2");
	is_a(&c.r[2], "c.example.", 3600, "1.1.1.3");
	is_a(&c.r[3], "d.example.", 302, "1.1.1.4");
	is_a(&c.r[4], "e.example.", 3600, "1.1.1.5");
	is_a(&c.r[5], "f.example.", 3600, "1.1.1.6");
	is_a(&c.r[6], "g.example.", 3600, "1.1.1.7");
	is_a(&c.r[7], "h.example.", 303, "1.1.1.8");
	is_a(&c.r[8], "h.example.", 304, "1.1.1.9");
	is_a(&c.r[9], "h.example.", 305, "1.1.1.10");
	is_a(&c.r[10], "h.example.", 3600, "1.1.1.11");
	is_a(&c.r[11], "h.example.", 3600, "1.1.1.12");
	is_a(&c.r[12], "h.example.", 306, "1.1.1.13");
	assert_int_equal(c.r[12].line, 13);
}

static void omitted_owner(void **st)
{
	(void)st;
	struct coll c;
	OK("a A 1.1.1.1\n"
	   "  A 1.1.1.2\n"
	   "\tA 1.1.1.3\n"
	   "$ORIGIN other.\n"
	   " A 1.1.1.4\n"          /* previous owner is kept as an absolute name */
	   "b A 1.1.1.5\n"
	   "   ; comment line in between\n"
	   "\n"
	   " A 1.1.1.6\n", &c);
	assert_int_equal(c.n, 6);
	is_a(&c.r[5], "b.other.", 3600, "1.1.1.6");
	assert_int_equal(c.r[5].line, 9);
	is_a(&c.r[1], "a.example.", 3600, "1.1.1.2");
	is_a(&c.r[2], "a.example.", 3600, "1.1.1.3");
	is_a(&c.r[3], "a.example.", 3600, "1.1.1.4");
	is_a(&c.r[4], "b.other.", 3600, "1.1.1.5");
	assert_int_equal(c.r[3].line, 5);
	assert_string_equal(c.r[4].origin, "other.");
}

static void parentheses_and_comments(void **st)
{
	(void)st;
	struct coll c;
	OK("a ( 300 ; ttl\n"
	   "    IN  ; class\n"
	   "  A    ; type\n"
	   "  1.1.1.1 ) ; addr\n"
	   "b (\n"
	   ")\tA 2.2.2.2\n"
	   "( c ) A 3.3.3.3\n"
	   "d A (1.1.1.4)\n"
	   "e A 1.1.1.5;no space before the comment\n"
	   " ( A\n"
	   "\n"
	   "; empty line and a comment inside\n"
	   "1.1.1.6 )\n"
	   "f A 1.1.1.7\n", &c);
	assert_int_equal(c.n, 7);
	is_a(&c.r[0], "a.example.", 300, "1.1.1.1");
	assert_int_equal(c.r[0].line, 1);
	is_a(&c.r[1], "b.example.", 3600, "2.2.2.2");
	assert_int_equal(c.r[1].line, 5);
	is_a(&c.r[2], "c.example.", 3600, "3.3.3.3");
	assert_int_equal(c.r[2].line, 7);
	is_a(&c.r[3], "d.example.", 3600, "1.1.1.4");
	is_a(&c.r[4], "e.example.", 3600, "1.1.1.5");
	is_a(&c.r[5], "e.example.", 3600, "1.1.1.6");
	assert_int_equal(c.r[5].line, 10);
	is_a(&c.r[6], "f.example.", 3600, "1.1.1.7");
	assert_int_equal(c.r[6].line, 14);
}

static void quoted_and_txt(void **st)
{
	(void)st;
	struct coll c;
	OK("t TXT \"a;b\" \"c d\" \"q\\\"x\" plain \"(\" \"\"\n"
	   "u TXT \"multi\n"
	   "line\"\n"
	   "v TXT (\"x)\"\n"
	   " \"y\")\n"
	   "w TXT a\"b c\"d\n"
	   "x TXT \\059semi \\\"\n", &c);
	assert_int_equal(c.n, 5);
	assert_int_equal(c.r[0].type, RR_TXT);
	static const uint8_t t0[] = "\3a;b\3c d\3q\"x\5plain\1(\0";
	assert_int_equal(c.r[0].rdlen, sizeof(t0) - 1);
	assert_memory_equal(c.r[0].rdata, t0, sizeof(t0) - 1);
	assert_int_equal(c.r[1].rdlen, 11);
	assert_memory_equal(c.r[1].rdata, "\12multi\nline", 11);
	assert_int_equal(c.r[2].line, 4);
	assert_memory_equal(c.r[2].rdata, "\2x)\1y", 5);
	assert_int_equal(c.r[3].line, 6);
	assert_int_equal(c.r[3].rdlen, 8);
	assert_memory_equal(c.r[3].rdata, "\1a\3b c\1d", 8);
	assert_int_equal(c.r[4].rdlen, 8);
	assert_memory_equal(c.r[4].rdata, "\5;semi\1\"", 8);
}

static void owner_escapes(void **st)
{
	(void)st;
	struct coll c;
	OK("a\\.b A 1.1.1.1\n"
	   "\\065bc A 1.1.1.2\n"
	   "sp\\ ace A 1.1.1.3\n"
	   "semi\\;colon A 1.1.1.4\n"
	   "par\\(en\\) A 1.1.1.5\n"
	   "q\\\"uote A 1.1.1.6\n"
	   "*.wild A 1.1.1.7\n"
	   "dot\\\\. A 1.1.1.8\n", &c);
	assert_int_equal(c.n, 8);
	uint8_t w[NAME_MAXLEN];
	/* compare wire forms */
	assert_int_equal(name_from_text("a\\.b.example.", 13, NULL, w), 13);
	assert_memory_equal(w, "\3a.b\7example", 13);
	assert_string_equal(c.r[0].owner, "a\\.b.example.");
	assert_string_equal(c.r[1].owner, "Abc.example.");
	assert_string_equal(c.r[2].owner, "sp\\032ace.example.");
	assert_string_equal(c.r[3].owner, "semi\\;colon.example.");
	assert_string_equal(c.r[4].owner, "par\\(en\\).example.");
	assert_string_equal(c.r[5].owner, "q\\\"uote.example.");
	assert_string_equal(c.r[6].owner, "*.wild.example.");
	/* "dot\\." is absolute: the label is 'dot\' and no origin is added */
	assert_string_equal(c.r[7].owner, "dot\\\\.");
}

static void other_types(void **st)
{
	(void)st;
	struct coll c;
	OK("@ SOA ns hostmaster ( 2024010101 ; serial\n"
	   "  3600 900 604800\n"
	   "  300 )\n"
	   "@ NS ns\n"
	   "@ MX 10 mail\n"
	   "h AAAA 2001:db8::1\n"
	   "o TYPE65280 \\# 3 abcdef\n"
	   "p A \\# 4 0a000001\n", &c);
	assert_int_equal(c.n, 6);
	assert_int_equal(c.r[0].type, RR_SOA);
	assert_int_equal(c.r[0].rdlen, 12 + 20 + 20);
	assert_memory_equal(c.r[0].rdata, "\2ns\7example\0\12hostmaster\7example\0", 32);
	assert_memory_equal(c.r[0].rdata + 32, "\x78\xa3\xf1\x75\0\0\x0e\x10\0\0\x03\x84"
			    "\0\x09\x3a\x80\0\0\x01\x2c", 20);
	assert_int_equal(c.r[1].type, RR_NS);
	assert_int_equal(c.r[2].type, RR_MX);
	assert_memory_equal(c.r[2].rdata, "\0\12\4mail\7example", 16);
	assert_int_equal(c.r[3].type, RR_AAAA);
	assert_int_equal(c.r[3].rdlen, 16);
	assert_int_equal(c.r[4].type, 65280);
	assert_int_equal(c.r[4].rdlen, 3);
	assert_memory_equal(c.r[4].rdata, "\xab\xcd\xef", 3);
	is_a(&c.r[5], "p.example.", 3600, "10.0.0.1");
	assert_int_equal(c.r[5].line, 8);
}

/* ---- $INCLUDE ---- */

static char tmpdir[256];

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static long parse_file(const char *rel, struct coll *c, char *err)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	memset(c, 0, sizeof(*c));
	err[0] = 0;
	return zonefile_parse(p, ex_origin, collect, c, err, ZONEFILE_ERRLEN);
}

static int setup_dir(void **st)
{
	(void)st;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_zonefile.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	char p[512];
	snprintf(p, sizeof(p), "%s/sub", tmpdir);
	return mkdir(p, 0700);
}

static int teardown_dir(void **st)
{
	(void)st;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void include_with_origin(void **st)
{
	(void)st;
	put("main.zone",
	    "$ORIGIN example.\n"
	    "x A 1.1.1.1\n"
	    "$INCLUDE sub/inc.zone foo\n"       /* relative to example. */
	    "  A 1.1.1.2\n"                     /* previous owner from the include */
	    "y A 1.1.1.3\n"                     /* origin restored */
	    "$INCLUDE \"sub/inc2.zone\"\n"      /* current origin, quoted name */
	    "z A 1.1.1.4\n");
	put("sub/inc.zone",
	    "; included\n"
	    "$TTL 77\n"
	    "in1 A 2.2.2.2\n"
	    "$ORIGIN bar.example.\n"
	    "in2 A 2.2.2.3\n"
	    "$INCLUDE inc3.zone\n");            /* relative to sub/ */
	put("sub/inc3.zone", "in3 A 2.2.2.4\n");
	put("sub/inc2.zone", "  A 2.2.2.9\nw A 2.2.2.10\n");
	struct coll c;
	char err[ZONEFILE_ERRLEN];
	long n = parse_file("main.zone", &c, err);
	if (n < 0)
		fail_msg("%s", err);
	assert_int_equal(n, 9);
	is_a(&c.r[0], "x.example.", 3600, "1.1.1.1");
	is_a(&c.r[1], "in1.foo.example.", 77, "2.2.2.2");
	assert_int_equal(c.r[1].line, 3);
	assert_non_null(strstr(c.r[1].file, "/sub/inc.zone"));
	is_a(&c.r[2], "in2.bar.example.", 77, "2.2.2.3");
	is_a(&c.r[3], "in3.bar.example.", 77, "2.2.2.4");
	assert_non_null(strstr(c.r[3].file, "/sub/inc3.zone"));
	is_a(&c.r[4], "in3.bar.example.", 77, "1.1.1.2"); /* $TTL and owner carry over */
	assert_int_equal(c.r[4].line, 4);
	assert_non_null(strstr(c.r[4].file, "/main.zone"));
	is_a(&c.r[5], "y.example.", 77, "1.1.1.3");
	is_a(&c.r[6], "y.example.", 77, "2.2.2.9");
	is_a(&c.r[7], "w.example.", 77, "2.2.2.10");
	assert_non_null(strstr(c.r[7].file, "/sub/inc2.zone"));
	assert_int_equal(c.r[7].line, 2);
	is_a(&c.r[8], "z.example.", 77, "1.1.1.4");
	assert_int_equal(c.r[8].line, 7);
}

static void include_errors(void **st)
{
	(void)st;
	struct coll c;
	char err[ZONEFILE_ERRLEN], want[600];
	/* loop: a -> b -> a */
	put("la.zone", "a A 1.1.1.1\n$INCLUDE lb.zone\n");
	put("lb.zone", "b A 1.1.1.2\n\n$INCLUDE la.zone\n");
	assert_true(parse_file("la.zone", &c, err) < 0);
	snprintf(want, sizeof(want), "%s/lb.zone:3: $INCLUDE loop", tmpdir);
	assert_memory_equal(err, want, strlen(want));
	assert_int_equal(c.n, 2);
	/* self */
	put("self.zone", "$INCLUDE ./self.zone\n");
	assert_true(parse_file("self.zone", &c, err) < 0);
	snprintf(want, sizeof(want), "%s/self.zone:1: $INCLUDE loop", tmpdir);
	assert_memory_equal(err, want, strlen(want));
	/* depth: d0 -> d1 -> ... -> d11 */
	for (int i = 0; i < 12; i++) {
		char name[32], text[64];
		snprintf(name, sizeof(name), "sub/d%d.zone", i);
		snprintf(text, sizeof(text), "d%d A 1.1.1.1\n$INCLUDE d%d.zone\n", i, i + 1);
		put(name, text);
	}
	put("sub/d12.zone", "end A 1.1.1.1\n");
	assert_true(parse_file("sub/d0.zone", &c, err) < 0);
	snprintf(want, sizeof(want), "%s/sub/d10.zone:2: $INCLUDE nesting too deep", tmpdir);
	assert_memory_equal(err, want, strlen(want));
	assert_int_equal(c.n, 11);
	/* missing file; error inside an included file names that file */
	put("miss.zone", "a A 1.1.1.1\n$INCLUDE nope.zone\n");
	assert_true(parse_file("miss.zone", &c, err) < 0);
	snprintf(want, sizeof(want), "%s/miss.zone:2: cannot open '%s/nope.zone'", tmpdir, tmpdir);
	assert_memory_equal(err, want, strlen(want));
	put("bad.zone", "$INCLUDE sub/bad.zone\n");
	put("sub/bad.zone", "\n\nx FOO 1\n");
	assert_true(parse_file("bad.zone", &c, err) < 0);
	snprintf(want, sizeof(want), "%s/sub/bad.zone:3: unknown type 'FOO'", tmpdir);
	assert_string_equal(err, want);
	/* directories are not zone files */
	put("dir.zone", "$INCLUDE sub\n");
	assert_true(parse_file("dir.zone", &c, err) < 0);
	assert_non_null(strstr(err, "not a regular file"));
	assert_true(parse_file("sub", &c, err) < 0);
	/* the top-level file missing */
	assert_int_equal(parse_file("absent.zone", &c, err), DNS_EIO);
	snprintf(want, sizeof(want), "%s/absent.zone: cannot open", tmpdir);
	assert_memory_equal(err, want, strlen(want));
	/* in-memory text with ZONEFILE_NO_INCLUDE */
	memset(&c, 0, sizeof(c));
	const char *t = "a A 1.1.1.1\n$INCLUDE /etc/hostname\n";
	assert_true(zonefile_parse_mem_flags(t, strlen(t), "m", ex_origin, ZONEFILE_NO_INCLUDE,
					     collect, &c, err, sizeof(err)) < 0);
	assert_string_equal(err, "m:2: $INCLUDE not allowed here");
}

/* ---- broken inputs ---- */

struct bad {
	const char *text;
	const char *want; /* expected prefix of the message */
};

static void broken_inputs(void **st)
{
	(void)st;
	static char longname[400], longlabel[100], huge[ZONEFILE_MAXENTRY + 100];
	memset(longname, 0, sizeof(longname));
	for (int i = 0; i < 60; i++)
		strcat(longname, "abcd.");
	strcat(longname, " A 1.1.1.1\n");
	memset(longlabel, 'x', 64);
	strcpy(longlabel + 64, " A 1.1.1.1\n");
	memcpy(huge, "a TXT ", 6);
	memset(huge + 6, 'x', sizeof(huge) - 8);
	huge[sizeof(huge) - 2] = '\n';
	huge[sizeof(huge) - 1] = 0;
	const struct bad cases[] = {
		{ "$ORIGIN example.\n\nx FOO 1\n", "t:3: unknown type 'FOO'" },
		{ "x A 1.2.3.4\n\n\ny A 1.2.3\n", "t:4: " },
		{ "x 300 IN\n", "t:1: missing type" },
		{ "x\n", "t:1: missing type" },
		{ "a ( A 1.2.3.4\n", "t:1: unbalanced parentheses" },
		{ "a A 1.1.1.1\nb (\n A\n 1.2.3.4\n", "t:2: unbalanced parentheses" },
		{ "a A 1.1.1.1\n\nb A 1.2.3.4 )\n", "t:3: unbalanced parentheses" },
		{ "a ( A\n ) 1.1.1.1 )\n", "t:2: unbalanced parentheses" },
		{ "a ( ( A 1.2.3.4 ) )\n", "t:1: nested parentheses" },
		{ "a A 1.1.1.1\nt TXT \"abc\n\n", "t:2: unterminated quoted string" },
		{ longname, "t:1: name too long" },
		{ longlabel, "t:1: label too long" },
		{ "x..y A 1.1.1.1\n", "t:1: bad name 'x..y'" },
		{ "\"q\" A 1.1.1.1\n", "t:1: bad name 'q'" },
		{ " A 1.1.1.1\n", "t:1: no owner name" },
		{ "\n\n\t300 A 1.1.1.1\n", "t:3: no owner name" },
		{ "a CH A 1.1.1.1\n", "t:1: only class IN is supported" },
		{ "a 300 HS TXT x\n", "t:1: only class IN is supported" },
		{ "a CLASS3 A 1.1.1.1\n", "t:1: only class IN is supported" },
		{ "a OPT \\# 0\n", "t:1: type 'OPT' cannot appear in a zone" },
		{ "a 1x A 1.1.1.1\n", "t:1: bad TTL '1x'" },
		{ "a h A 1.1.1.1\n", "t:1: unknown type 'h'" },
		{ "$TTL 1x\n", "t:1: bad TTL '1x'" },
		{ "$TTL h\n", "t:1: bad TTL 'h'" },
		{ "$TTL\n", "t:1: $TTL needs exactly one value" },
		{ "$TTL 1 2\n", "t:1: $TTL needs exactly one value" },
		{ "$TTL 2147483648\n", "t:1: TTL out of range '2147483648'" },
		{ "$TTL 99999999999\n", "t:1: TTL out of range" },
		{ "$TTL 3551w\n", "t:1: TTL out of range" },
		{ "a 2147483648 A 1.1.1.1\n", "t:1: TTL out of range" },
		{ "$ORIGIN\n", "t:1: $ORIGIN needs exactly one name" },
		{ "$ORIGIN a. b.\n", "t:1: $ORIGIN needs exactly one name" },
		{ "$FOO bar\n", "t:1: unknown directive '$FOO'" },
		{ "$INCLUDE\n", "t:1: $INCLUDE needs a file name" },
		{ " $TTL 5\n", "t:1: no owner name" },
		{ "a A 1.1.1.1\n $TTL 5\n", "t:2: unknown type '$TTL'" },
		{ "a\\ A 1.1.1.1\n", "t:1: bad TTL '1.1.1.1'" },
		{ "a\\", "t:1: bad name 'a\\'" },
		{ "a\\999 A 1.1.1.1\n", "t:1: bad name" },
		{ "a A\n", "t:1: " },
		{ "a TXT \"x\" (\n\"y\n", "t:2: unterminated quoted string" },
		{ huge, "t:1: record too long" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct coll c;
		char err[ZONEFILE_ERRLEN];
		long n = parse(cases[i].text, ex_origin, &c, err);
		if (n >= 0 || strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("case %zu: got %ld '%s', want '%s'", i, n, err, cases[i].want);
		/* the message is more than the prefix: never empty after "t:N: " */
		assert_true(strlen(err) > strlen("t:1: "));
	}
	/* no origin at all */
	struct coll c;
	char err[ZONEFILE_ERRLEN];
	assert_true(parse("a A 1.1.1.1\n", NULL, &c, err) < 0);
	assert_string_equal(err, "t:1: missing $ORIGIN for relative name 'a'");
	assert_true(parse("x. A 1.1.1.1\n@ A 1.1.1.1\n", NULL, &c, err) < 0);
	assert_string_equal(err, "t:2: missing $ORIGIN for relative name '@'");
	assert_int_equal(c.n, 1);
	assert_true(parse("$ORIGIN foo\n", NULL, &c, err) < 0);
	assert_string_equal(err, "t:1: missing $ORIGIN for relative name 'foo'");
	assert_true(parse("x. A 1.1.1.1\n\\. A 1.1.1.1\n", NULL, &c, err) < 0);
	assert_string_equal(err, "t:2: missing $ORIGIN for relative name '\\.'");
	assert_true(parse("x. 300 A 1.1.1.1\n y. A 1.1.1.1\n", NULL, &c, err) < 0);
	assert_memory_equal(err, "t:2: ", 5);
	/* absolute names and $ORIGIN work without a caller origin */
	assert_int_equal(parse("x. A 1.1.1.1\n$ORIGIN a.\nb A 1.1.1.2\n", NULL, &c, err), 2);
	is_a(&c.r[1], "b.a.", 3600, "1.1.1.2");
	/* non-printable bytes in a message are escaped */
	assert_true(parse("a \001\377 x\n", ex_origin, &c, err) < 0);
	assert_string_equal(err, "t:1: unknown type '\\001\\255'");
}

static void callback_errors(void **st)
{
	(void)st;
	const char *t = "a A 1.1.1.1\nb A 1.1.1.2\n\nc A 1.1.1.3\nd A 1.1.1.4\n";
	struct coll c;
	char err[ZONEFILE_ERRLEN];
	memset(&c, 0, sizeof(c));
	c.fail_at = 3;
	c.fail_msg = 1;
	c.err = err;
	c.errlen = sizeof(err);
	assert_int_equal(zonefile_parse_mem(t, strlen(t), "cb", ex_origin, collect, &c, err,
					    sizeof(err)), DNS_EINVAL);
	assert_string_equal(err, "cb:4: refused by callback");
	assert_int_equal(c.n, 3);
	memset(&c, 0, sizeof(c));
	c.fail_at = 2;
	assert_int_equal(zonefile_parse_mem(t, strlen(t), "cb", ex_origin, collect, &c, err,
					    sizeof(err)), DNS_EINVAL);
	char want[128];
	snprintf(want, sizeof(want), "cb:2: %s", dns_strerror(DNS_EINVAL));
	assert_string_equal(err, want);
	/* a NULL callback only counts; a tiny or absent error buffer is safe */
	assert_int_equal(zonefile_parse_mem(t, strlen(t), "cb", ex_origin, NULL, NULL, err,
					    sizeof(err)), 4);
	char small[8];
	assert_true(zonefile_parse_mem("x FOO 1\n", 8, "a-long-file-name", ex_origin, NULL, NULL,
				       small, sizeof(small)) < 0);
	assert_true(strlen(small) < sizeof(small));
	assert_true(zonefile_parse_mem("x FOO 1\n", 8, "n", ex_origin, NULL, NULL, NULL, 0) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basic_names),
		cmocka_unit_test(ttl_forms),
		cmocka_unit_test(ttl_class_orders),
		cmocka_unit_test(omitted_owner),
		cmocka_unit_test(parentheses_and_comments),
		cmocka_unit_test(quoted_and_txt),
		cmocka_unit_test(owner_escapes),
		cmocka_unit_test(other_types),
		cmocka_unit_test(include_with_origin),
		cmocka_unit_test(include_errors),
		cmocka_unit_test(broken_inputs),
		cmocka_unit_test(callback_errors),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
