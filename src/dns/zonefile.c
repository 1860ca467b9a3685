/* zonefile — RFC 1035 §5 master-file parser (semantics in zonefile.h). */
#include "dns/zonefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns/err.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/rrtype.h"
#include "dns/wire.h"

#define ZF_MAXTOK (65535 + 64) /* a TXT of 65535 one-octet strings plus the rest */
#define ZF_RDMAX 65535
#define ZF_TTLMAX 2147483647u

/* One file (or in-memory text) on the include stack. */
struct zf_file {
	const char *name;
	const char *p, *end;
	unsigned line;
	bool mem;                 /* in-memory text: no directory, no inode */
	dev_t dev;
	ino_t ino;
	bool has_origin;
	uint8_t origin[NAME_MAXLEN];
	struct zf_file *parent;
};

struct zf_parser {
	zf_cb cb;
	void *arg;
	char *err;
	size_t errlen;
	unsigned flags;
	long count;
	int depth;
	uint32_t deftl;           /* $TTL or ZONEFILE_DEFAULT_TTL */
	bool has_owner;
	uint8_t owner[NAME_MAXLEN];
	/* tokens of the current entry, grown by doubling up to ZF_MAXTOK */
	rdata_tok *tok;
	size_t tokcap;
	/* one-entry cache of the last type mnemonic (saves the table lookup) */
	char tcache[16];
	size_t tcache_len;
	int tcache_type;
	uint8_t rdata[ZF_RDMAX];
};

/* Character classes for the tokenizer. */
enum { C_TOK = 0, C_SPACE, C_NL, C_SEMI, C_OPEN, C_CLOSE, C_QUOTE, C_BSLASH };
static const uint8_t cclass[256] = {
	[' '] = C_SPACE, ['\t'] = C_SPACE, ['\r'] = C_SPACE, ['\n'] = C_NL,
	[';'] = C_SEMI, ['('] = C_OPEN, [')'] = C_CLOSE, ['"'] = C_QUOTE,
	['\\'] = C_BSLASH,
};

__attribute__((format(printf, 4, 5)))
static int zf_fail(struct zf_parser *zp, const char *file, unsigned line, const char *fmt, ...)
{
	if (zp->errlen == 0)
		return 0;
	int n = snprintf(zp->err, zp->errlen, "%s:%u: ", file, line);
	if (n < 0 || (size_t)n >= zp->errlen)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(zp->err + n, zp->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return 0;
}

int zf_error(const zf_rr *rr, char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return code;
	int n = snprintf(err, errlen, "%s:%u: ", rr->file, rr->line);
	if (n >= 0 && (size_t)n < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Printable, bounded copy of a token for messages. */
static const char *tokstr(const rdata_tok *t, char *buf, size_t cap)
{
	size_t o = 0;
	uint32_t i;
	for (i = 0; i < t->len && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)t->s[i];
		if (c >= 0x20 && c < 0x7f && c != '\'')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\%03u", c);
	}
	if (i < t->len)
		o += (size_t)snprintf(buf + o, cap - o, "...");
	buf[o] = 0;
	return buf;
}
#define TOKSTR(t) tokstr((t), (char[80]){0}, 80)

static bool tok_is(const rdata_tok *t, const char *s)
{
	size_t n = strlen(s);
	return !t->quoted && t->len == n && strncasecmp(t->s, s, n) == 0;
}

/* ---- tokenizer ---------------------------------------------------------- */

static int tok_push(struct zf_parser *zp, struct zf_file *f, size_t *n, const char *s,
		    size_t len, bool quoted, unsigned line)
{
	if (*n == zp->tokcap) {
		if (zp->tokcap >= ZF_MAXTOK) {
			zf_fail(zp, f->name, line, "too many fields in record");
			return DNS_ESPACE;
		}
		size_t cap = zp->tokcap ? zp->tokcap * 2 : 64;
		if (cap > ZF_MAXTOK)
			cap = ZF_MAXTOK;
		rdata_tok *t = realloc(zp->tok, cap * sizeof(*t));
		if (!t) {
			zf_fail(zp, f->name, line, "out of memory");
			return DNS_ENOMEM;
		}
		zp->tok = t;
		zp->tokcap = cap;
	}
	zp->tok[*n] = (rdata_tok){ .s = s, .len = (uint32_t)len, .quoted = quoted };
	(*n)++;
	return 0;
}

/* Reads the next non-empty entry (a line, or lines joined by parentheses) of
 * f into zp->tok. Returns 1 with *ntok, *blank (entry starts with a blank)
 * and *line (line of the first token) set, 0 at the end of the text, or a
 * negative code. */
static int zf_entry(struct zf_parser *zp, struct zf_file *f, size_t *ntok, bool *blank,
		    unsigned *line)
{
	const char *p = f->p, *end = f->end;
	for (;;) {
		if (p >= end) {
			f->p = p;
			return 0;
		}
		const char *start = p;
		bool open = false;
		unsigned open_line = 0;
		size_t n = 0;
		int rc;
		*blank = cclass[(unsigned char)*p] == C_SPACE;
		for (;;) {
			if (p >= end) {
				if (open) {
					zf_fail(zp, f->name, open_line, "unbalanced parentheses");
					return DNS_ESYNTAX;
				}
				break;
			}
			if ((size_t)(p - start) > ZONEFILE_MAXENTRY) {
				zf_fail(zp, f->name, n ? *line : f->line,
					"record too long (over %d characters)", ZONEFILE_MAXENTRY);
				return DNS_ESPACE;
			}
			unsigned char c = (unsigned char)*p;
			switch (cclass[c]) {
			case C_SPACE:
				p++;
				continue;
			case C_NL:
				f->line++;
				p++;
				if (!open)
					goto done;
				continue;
			case C_SEMI: {
				const char *nl = memchr(p, '\n', (size_t)(end - p));
				p = nl ? nl : end;
				continue;
			}
			case C_OPEN:
				if (open) {
					zf_fail(zp, f->name, f->line, "nested parentheses");
					return DNS_ESYNTAX;
				}
				open = true;
				open_line = f->line;
				p++;
				continue;
			case C_CLOSE:
				if (!open) {
					zf_fail(zp, f->name, f->line, "unbalanced parentheses");
					return DNS_ESYNTAX;
				}
				open = false;
				p++;
				continue;
			case C_QUOTE: {
				unsigned qline = f->line;
				const char *q = ++p;
				while (p < end && *p != '"') {
					if (*p == '\\' && p + 1 < end)
						p++;
					if (*p == '\n')
						f->line++;
					p++;
				}
				if (p >= end) {
					zf_fail(zp, f->name, qline, "unterminated quoted string");
					return DNS_ESYNTAX;
				}
				if (n == 0)
					*line = qline;
				if ((rc = tok_push(zp, f, &n, q, (size_t)(p - q), true, qline)) < 0)
					return rc;
				p++;
				continue;
			}
			default: {
				const char *q = p;
				while (p < end) {
					uint8_t k = cclass[(unsigned char)*p];
					if (k == C_TOK) {
						p++;
					} else if (k == C_BSLASH) {
						p++;
						if (p < end) {
							if (*p == '\n')
								f->line++;
							p++;
						}
					} else {
						break;
					}
				}
				if (n == 0)
					*line = f->line;
				if ((size_t)(p - start) > ZONEFILE_MAXENTRY)
					continue; /* reported at the top of the loop */
				if ((rc = tok_push(zp, f, &n, q, (size_t)(p - q), false, *line)) < 0)
					return rc;
				continue;
			}
			}
		}
done:
		if (n) {
			f->p = p;
			*ntok = n;
			return 1;
		}
	}
}

/* ---- fields ------------------------------------------------------------- */

/* TTL in seconds or BIND units; 0..2^31-1. */
static int ttl_parse(const rdata_tok *t, uint32_t *out)
{
	uint64_t total = 0, cur = 0;
	bool digits = false;
	if (t->quoted || t->len == 0)
		return DNS_ESYNTAX;
	for (uint32_t i = 0; i < t->len; i++) {
		unsigned c = (unsigned char)t->s[i];
		if (c >= '0' && c <= '9') {
			cur = cur * 10 + (c - '0');
			if (cur > UINT32_MAX)
				return DNS_ERANGE;
			digits = true;
			continue;
		}
		uint64_t mult;
		switch (c | 0x20) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 604800; break;
		default: return DNS_ESYNTAX;
		}
		if (!digits)
			return DNS_ESYNTAX;
		total += cur * mult;
		if (total > ZF_TTLMAX)
			return DNS_ERANGE;
		cur = 0;
		digits = false;
	}
	total += cur;
	if (total > ZF_TTLMAX)
		return DNS_ERANGE;
	*out = (uint32_t)total;
	return 0;
}

static int zf_ttl(struct zf_parser *zp, struct zf_file *f, unsigned line, const rdata_tok *t,
		  uint32_t *out)
{
	int r = ttl_parse(t, out);
	if (r == DNS_ERANGE)
		zf_fail(zp, f->name, line, "TTL out of range '%s'", TOKSTR(t));
	else if (r < 0)
		zf_fail(zp, f->name, line, "bad TTL '%s'", TOKSTR(t));
	return r;
}

/* A name in text is absolute when it ends in an unescaped dot. */
static bool text_absolute(const char *s, size_t len)
{
	if (len == 0 || s[len - 1] != '.')
		return false;
	size_t bs = 0;
	while (bs + 1 < len && s[len - 2 - bs] == '\\')
		bs++;
	return bs % 2 == 0;
}

static int zf_name(struct zf_parser *zp, struct zf_file *f, unsigned line, const rdata_tok *t,
		   uint8_t *out)
{
	if (t->quoted) {
		zf_fail(zp, f->name, line, "bad name '%s' (quoted)", TOKSTR(t));
		return DNS_ESYNTAX;
	}
	if (!f->has_origin && !text_absolute(t->s, t->len)) {
		zf_fail(zp, f->name, line, "missing $ORIGIN for relative name '%s'", TOKSTR(t));
		return DNS_ESYNTAX;
	}
	int r = name_from_text(t->s, t->len, f->has_origin ? f->origin : NULL, out);
	if (r >= 0)
		return r;
	if (r == DNS_ENAMELEN)
		zf_fail(zp, f->name, line, "name too long");
	else if (r == DNS_ELABEL)
		zf_fail(zp, f->name, line, "label too long in '%s'", TOKSTR(t));
	else
		zf_fail(zp, f->name, line, "bad name '%s'", TOKSTR(t));
	return r;
}

/* ---- directives --------------------------------------------------------- */

static int zf_run(struct zf_parser *zp, struct zf_file *f);

/* Decodes \X and \DDD of a file name token into out (cap bytes). */
static int path_decode(const rdata_tok *t, char *out, size_t cap)
{
	size_t o = 0;
	for (uint32_t i = 0; i < t->len; i++) {
		unsigned c = (unsigned char)t->s[i];
		if (c == '\\' && i + 1 < t->len) {
			c = (unsigned char)t->s[++i];
			if (c >= '0' && c <= '9' && i + 2 < t->len &&
			    t->s[i + 1] >= '0' && t->s[i + 1] <= '9' &&
			    t->s[i + 2] >= '0' && t->s[i + 2] <= '9') {
				c = (c - '0') * 100 + (unsigned)(t->s[i + 1] - '0') * 10 +
				    (unsigned)(t->s[i + 2] - '0');
				if (c > 255)
					return DNS_ESYNTAX;
				i += 2;
			}
		}
		if (c == 0 || o + 1 >= cap)
			return DNS_ESYNTAX;
		out[o++] = (char)c;
	}
	if (o == 0)
		return DNS_ESYNTAX;
	out[o] = 0;
	return 0;
}

/* Reads a whole regular file into a malloc'd buffer. */
static int file_stat(int fd, struct stat *st)
{
	if (fstat(fd, st) != 0)
		return DNS_EIO;
	if (!S_ISREG(st->st_mode)) {
		errno = EINVAL;
		return DNS_EINVAL;
	}
	return 0;
}

static int file_slurp(int fd, char **buf, size_t *len, const struct stat *st)
{
	if ((uint64_t)st->st_size > (uint64_t)SIZE_MAX / 2)
		return DNS_ENOMEM;
	size_t cap = (size_t)st->st_size;
	char *b = malloc(cap ? cap : 1);
	if (!b)
		return DNS_ENOMEM;
	size_t n = 0;
	while (n < cap) {
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			return DNS_EIO;
		}
		if (r == 0)
			break; /* shrank meanwhile: parse what is there */
		n += (size_t)r;
	}
	*buf = b;
	*len = n;
	return 0;
}

static int zf_include(struct zf_parser *zp, struct zf_file *f, unsigned line,
		      const rdata_tok *tok, size_t n)
{
	if (zp->flags & ZONEFILE_NO_INCLUDE) {
		zf_fail(zp, f->name, line, "$INCLUDE not allowed here");
		return DNS_EINVAL;
	}
	if (n < 2 || n > 3) {
		zf_fail(zp, f->name, line, "$INCLUDE needs a file name and optionally an origin");
		return DNS_ESYNTAX;
	}
	struct zf_file *inc = calloc(1, sizeof(*inc) + PATH_MAX);
	if (!inc) {
		zf_fail(zp, f->name, line, "out of memory");
		return DNS_ENOMEM;
	}
	char *path = (char *)(inc + 1);
	char rel[PATH_MAX];
	int rc = DNS_ESYNTAX;
	char *buf = NULL;
	size_t len = 0;
	if (path_decode(&tok[1], rel, sizeof(rel)) < 0) {
		zf_fail(zp, f->name, line, "bad $INCLUDE file name '%s'", TOKSTR(&tok[1]));
		goto out;
	}
	const char *slash = f->mem ? NULL : strrchr(f->name, '/');
	if (rel[0] == '/' || !slash) {
		memcpy(path, rel, strlen(rel) + 1);
	} else {
		int dl = (int)(slash - f->name);
		int k = snprintf(path, PATH_MAX, "%.*s/%s", dl, f->name, rel);
		if (k < 0 || k >= PATH_MAX) {
			zf_fail(zp, f->name, line, "$INCLUDE path too long");
			goto out;
		}
	}
	if (n == 3) {
		if ((rc = zf_name(zp, f, line, &tok[2], inc->origin)) < 0)
			goto out;
		inc->has_origin = true;
	} else if (f->has_origin) {
		name_copy(inc->origin, f->origin);
		inc->has_origin = true;
	}
	if (zp->depth >= ZONEFILE_MAXDEPTH) {
		zf_fail(zp, f->name, line, "$INCLUDE nesting too deep (max %d)", ZONEFILE_MAXDEPTH);
		rc = DNS_ERANGE;
		goto out;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		zf_fail(zp, f->name, line, "cannot open '%s': %s", path, strerror(errno));
		rc = DNS_EIO;
		goto out;
	}
	struct stat st;
	rc = file_stat(fd, &st);
	for (struct zf_file *a = f; rc == 0 && a; a = a->parent) {
		if (!a->mem && a->dev == st.st_dev && a->ino == st.st_ino) {
			close(fd);
			zf_fail(zp, f->name, line, "$INCLUDE loop: '%s' is already being read", path);
			rc = DNS_EINVAL;
			goto out;
		}
	}
	if (rc == 0)
		rc = file_slurp(fd, &buf, &len, &st);
	int e = errno;
	close(fd);
	if (rc < 0) {
		zf_fail(zp, f->name, line, "cannot read '%s': %s", path,
			rc == DNS_EINVAL ? "not a regular file" : strerror(e));
		goto out;
	}
	inc->name = path;
	inc->p = buf;
	inc->end = buf + len;
	inc->line = 1;
	inc->dev = st.st_dev;
	inc->ino = st.st_ino;
	inc->parent = f;
	zp->depth++;
	rc = zf_run(zp, inc);
	zp->depth--;
out:
	free(buf);
	free(inc);
	return rc;
}

static int zf_directive(struct zf_parser *zp, struct zf_file *f, unsigned line,
			const rdata_tok *tok, size_t n)
{
	if (tok_is(&tok[0], "$ORIGIN")) {
		if (n != 2) {
			zf_fail(zp, f->name, line, "$ORIGIN needs exactly one name");
			return DNS_ESYNTAX;
		}
		uint8_t o[NAME_MAXLEN];
		int r = zf_name(zp, f, line, &tok[1], o);
		if (r < 0)
			return r;
		memcpy(f->origin, o, (size_t)r);
		f->has_origin = true;
		return 0;
	}
	if (tok_is(&tok[0], "$TTL")) {
		if (n != 2) {
			zf_fail(zp, f->name, line, "$TTL needs exactly one value");
			return DNS_ESYNTAX;
		}
		return zf_ttl(zp, f, line, &tok[1], &zp->deftl);
	}
	if (tok_is(&tok[0], "$INCLUDE"))
		return zf_include(zp, f, line, tok, n);
	zf_fail(zp, f->name, line, "unknown directive '%s'", TOKSTR(&tok[0]));
	return DNS_ESYNTAX;
}

/* ---- records ------------------------------------------------------------ */

static int zf_type(struct zf_parser *zp, const rdata_tok *t)
{
	if (t->quoted)
		return DNS_ETYPE;
	if (t->len == zp->tcache_len && memcmp(t->s, zp->tcache, t->len) == 0)
		return zp->tcache_type;
	int ty = rrtype_from_text(t->s, t->len);
	if (ty >= 0 && t->len < sizeof(zp->tcache)) {
		memcpy(zp->tcache, t->s, t->len);
		zp->tcache_len = t->len;
		zp->tcache_type = ty;
	}
	return ty;
}

static int zf_class(const rdata_tok *t)
{
	if (t->quoted)
		return DNS_ETYPE;
	if (t->len == 2 && (t->s[0] | 0x20) == 'i' && (t->s[1] | 0x20) == 'n')
		return CLASS_IN;
	return rrclass_from_text(t->s, t->len);
}

static int zf_record(struct zf_parser *zp, struct zf_file *f, unsigned line,
		     const rdata_tok *tok, size_t n, bool blank)
{
	size_t i = 0;
	if (!blank) {
		if (zf_name(zp, f, line, &tok[0], zp->owner) < 0)
			return DNS_ESYNTAX;
		zp->has_owner = true;
		i = 1;
	} else if (!zp->has_owner) {
		zf_fail(zp, f->name, line, "no owner name (line starts with a blank and there is no previous record)");
		return DNS_ESYNTAX;
	}
	bool has_ttl = false, has_class = false;
	uint32_t ttl = zp->deftl;
	int rclass = CLASS_IN;
	for (; i < n && !(has_ttl && has_class); i++) {
		const rdata_tok *t = &tok[i];
		if (t->quoted || t->len == 0)
			break;
		if (t->s[0] >= '0' && t->s[0] <= '9') {
			if (has_ttl)
				break;
			int r = zf_ttl(zp, f, line, t, &ttl);
			if (r < 0)
				return r;
			has_ttl = true;
			continue;
		}
		if (has_class)
			break;
		if (t->len == zp->tcache_len && memcmp(t->s, zp->tcache, t->len) == 0)
			break; /* the type seen last time: no class here */
		int c = zf_class(t);
		if (c < 0)
			break;
		rclass = c;
		has_class = true;
	}
	if (i >= n) {
		zf_fail(zp, f->name, line, "missing type");
		return DNS_ESYNTAX;
	}
	int type = zf_type(zp, &tok[i]);
	if (type < 0) {
		zf_fail(zp, f->name, line, "unknown type '%s'", TOKSTR(&tok[i]));
		return DNS_ETYPE;
	}
	if (rclass != CLASS_IN) {
		zf_fail(zp, f->name, line, "only class IN is supported");
		return DNS_EINVAL;
	}
	if (rrtype_is_meta((uint16_t)type)) {
		zf_fail(zp, f->name, line, "type '%s' cannot appear in a zone", TOKSTR(&tok[i]));
		return DNS_ETYPE;
	}
	i++;
	wire_wr w;
	wire_wr_init(&w, zp->rdata, sizeof(zp->rdata));
	char msg[RDATA_ERRLEN + 1];
	msg[0] = 0;
	const uint8_t *origin = f->has_origin ? f->origin : NULL;
	int r = rdata_from_text((uint16_t)type, tok + i, n - i, origin, &w, msg);
	if (r >= 0 && w.err)
		r = w.err;
	if (r < 0) {
		msg[RDATA_ERRLEN] = 0;
		if (r == DNS_ESPACE && !msg[0])
			zf_fail(zp, f->name, line, "rdata too long");
		else
			zf_fail(zp, f->name, line, "%s", msg[0] ? msg : dns_strerror(r));
		return r;
	}
	zf_rr rr = {
		.owner = zp->owner,
		.type = (uint16_t)type,
		.rclass = (uint16_t)rclass,
		.ttl = ttl,
		.rdata = zp->rdata,
		.rdlen = (uint16_t)wire_wr_off(&w),
		.file = f->name,
		.line = line,
		.origin = origin,
	};
	if (zp->errlen)
		zp->err[0] = 0;
	r = zp->cb ? zp->cb(zp->arg, &rr) : 0;
	if (r < 0) {
		if (zp->errlen && !zp->err[0])
			zf_fail(zp, f->name, line, "%s", dns_strerror(r));
		return r;
	}
	zp->count++;
	return 0;
}

static int zf_run(struct zf_parser *zp, struct zf_file *f)
{
	size_t n;
	bool blank;
	unsigned line = 0;
	int r;
	while ((r = zf_entry(zp, f, &n, &blank, &line)) > 0) {
		const rdata_tok *t = zp->tok;
		if (!blank && !t[0].quoted && t[0].len > 1 && t[0].s[0] == '$')
			r = zf_directive(zp, f, line, t, n);
		else
			r = zf_record(zp, f, line, t, n, blank);
		if (r < 0)
			return r;
	}
	return r;
}

/* ---- entry points ------------------------------------------------------- */

static long zf_start(struct zf_file *f, const uint8_t *origin, unsigned flags, zf_cb cb,
		     void *arg, char *err, size_t errlen)
{
	struct zf_parser *zp = malloc(sizeof(*zp));
	if (!zp) {
		if (errlen)
			snprintf(err, errlen, "%s: out of memory", f->name);
		return DNS_ENOMEM;
	}
	zp->cb = cb;
	zp->arg = arg;
	zp->err = err;
	zp->errlen = err ? errlen : 0;
	zp->flags = flags;
	zp->count = 0;
	zp->depth = 0;
	zp->deftl = ZONEFILE_DEFAULT_TTL;
	zp->has_owner = false;
	zp->tok = NULL;
	zp->tokcap = 0;
	zp->tcache_len = 0;
	zp->tcache_type = 0;
	if (origin) {
		name_copy(f->origin, origin);
		f->has_origin = true;
	}
	if (zp->errlen)
		err[0] = 0;
	int r = zf_run(zp, f);
	long count = zp->count;
	free(zp->tok);
	free(zp);
	if (r < 0) {
		if (err && errlen && !err[0])
			snprintf(err, errlen, "%s:%u: %s", f->name, f->line, dns_strerror(r));
		return r;
	}
	return count;
}

long zonefile_parse_mem_flags(const char *text, size_t len, const char *name,
			      const uint8_t *origin, unsigned flags, zf_cb cb, void *arg,
			      char *err, size_t errlen)
{
	struct zf_file f = {
		.name = name ? name : "<text>",
		.p = text,
		.end = text + len,
		.line = 1,
		.mem = true,
	};
	return zf_start(&f, origin, flags, cb, arg, err, errlen);
}

long zonefile_parse_mem(const char *text, size_t len, const char *name, const uint8_t *origin,
			zf_cb cb, void *arg, char *err, size_t errlen)
{
	return zonefile_parse_mem_flags(text, len, name, origin, 0, cb, arg, err, errlen);
}

long zonefile_parse(const char *path, const uint8_t *origin, zf_cb cb, void *arg,
		    char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return DNS_EIO;
	}
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int r = file_stat(fd, &st);
	if (r == 0)
		r = file_slurp(fd, &buf, &len, &st);
	int e = errno;
	close(fd);
	if (r < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: %s", path,
				 r == DNS_EINVAL ? "not a regular file" : strerror(e));
		return r;
	}
	struct zf_file f = {
		.name = path,
		.p = buf,
		.end = buf + len,
		.line = 1,
		.dev = st.st_dev,
		.ino = st.st_ino,
	};
	long n = zf_start(&f, origin, 0, cb, arg, err, errlen);
	free(buf);
	return n;
}
