/* verdict — signal names, explanations, counters and the JSON-lines verdict log (see verdict.h). */
#include "resolve/verdict.h"

#include "dns/err.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/err.h"
#include "dns/name.h"
#include "dns/rrtype.h"

static const char *const sig_names[VS_COUNT] = {
	"tcp", "cookie", "opt", "timely", "no-opt", "early", "ip-ttl", "flags", "shape",
	"pool", "marked", "type", "list", "learned", "conflict", "dnssec-ok", "dnssec-bogus",
};

static const char *const sig_why[VS_COUNT] = {
	"it came over TCP, which injectors do not forge",
	"it echoed the secret cookie we sent, which the known injectors never do",
	"it carries an EDNS record like this upstream's real answers (injectors send none)",
	"it arrived when this upstream's answers usually do",
	"it has no EDNS record although this upstream always sends one (injectors never do)",
	"it arrived far sooner than this upstream can answer",
	"its IP TTL differs from the one this upstream's packets arrive with",
	"its header flags are not the ones this upstream sets",
	"it has the shape of an injector's reply (one answer, compressed to the question, no EDNS)",
	"its address has been answering for many unrelated names",
	"this name was recently caught being injected",
	"its answer has a record type that does not fit the question",
	"its address is on the list of forged addresses you gave (--bogus-ip)",
	"its address was seen in forged replies before",
	"another, different reply came for the same question",
	"its DNSSEC signatures verified with keys chained to a trust anchor, which no injector can forge",
	"it failed DNSSEC validation for a signed name (a forger cannot sign)",
};

static const char *const kind_names[V_COUNT] = {
	"accepted", "held", "forged", "superseded", "chosen", "escalated", "failed",
};

const char *verdict_signal_name(unsigned s)
{
	return s < VS_COUNT ? sig_names[s] : "?";
}

const char *verdict_signal_why(unsigned s)
{
	return s < VS_COUNT ? sig_why[s] : "?";
}

const char *verdict_kind_name(unsigned k)
{
	return k < V_COUNT ? kind_names[k] : "?";
}

void verdict_inc(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

#define LD(x) atomic_load_explicit(&c->x, memory_order_relaxed)

void verdict_add(verdict_totals *t, const verdict_counters *c)
{
	t->replies += LD(replies);
	t->accepted += LD(accepted);
	t->chosen += LD(chosen);
	t->held += LD(held);
	t->forged += LD(forged);
	t->listed += LD(listed);
	t->superseded += LD(superseded);
	t->conflicts += LD(conflicts);
	t->escalations += LD(escalations);
	t->tcp_first += LD(tcp_first);
	t->failed += LD(failed);
	t->learned += LD(learned);
	t->dnssec_ok += LD(dnssec_ok);
	t->dnssec_bogus += LD(dnssec_bogus);
}

char *verdict_totals_str(const verdict_totals *t, char *out, size_t cap)
{
	snprintf(out, cap,
		 "replies=%llu accepted=%llu chosen=%llu held=%llu forged=%llu listed=%llu superseded=%llu "
		 "conflicts=%llu escalations=%llu tcp_first=%llu failed=%llu learned=%llu dnssec_ok=%llu "
		 "dnssec_bogus=%llu",
		 (unsigned long long)t->replies, (unsigned long long)t->accepted, (unsigned long long)t->chosen,
		 (unsigned long long)t->held, (unsigned long long)t->forged, (unsigned long long)t->listed,
		 (unsigned long long)t->superseded, (unsigned long long)t->conflicts,
		 (unsigned long long)t->escalations, (unsigned long long)t->tcp_first,
		 (unsigned long long)t->failed, (unsigned long long)t->learned, (unsigned long long)t->dnssec_ok,
		 (unsigned long long)t->dnssec_bogus);
	return out;
}

/* ---- formatting ---- */

struct sb {
	char *p;
	size_t cap, n;
};

static void sb_put(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_put(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(b->n < b->cap ? b->p + b->n : NULL, b->n < b->cap ? b->cap - b->n : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		b->n += (size_t)k;
}

/* A JSON string (quotes included); control and non-ASCII octets as \u00XX. */
static void sb_json(struct sb *b, const char *s)
{
	sb_put(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			sb_put(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			sb_put(b, "\\u%04x", c);
		else
			sb_put(b, "%c", c);
	}
	sb_put(b, "\"");
}

static void ms(struct sb *b, uint64_t us)
{
	sb_put(b, "%llu.%03llu", (unsigned long long)(us / 1000), (unsigned long long)(us % 1000));
}

int verdict_why(const verdict_rec *r, char *out, size_t cap)
{
	struct sb b = {out, cap, 0};
	if (cap)
		out[0] = 0;
	switch (r->verdict) {
	case V_ACCEPTED:
		sb_put(&b, "served at once: ");
		break;
	case V_HELD:
		sb_put(&b, "held while waiting for other replies: ");
		break;
	case V_FORGED:
		sb_put(&b, "dropped as forged: ");
		break;
	case V_SUPERSEDED:
		sb_put(&b, "not served, another reply was trusted more: ");
		break;
	case V_CHOSEN:
		sb_put(&b, "served after waiting, the best of the replies: ");
		break;
	case V_ESCALATED:
		sb_put(&b, "asked again over TCP, no UDP reply could be trusted: ");
		break;
	case V_FAILED:
		sb_put(&b, "nothing trustworthy arrived: ");
		break;
	default:
		break;
	}
	unsigned n = 0;
	for (unsigned s = 0; s < VS_COUNT; s++) {
		if (!(r->signals & VS_BIT(s)))
			continue;
		sb_put(&b, "%s%s", n ? "; " : "", sig_why[s]);
		if (s == VS_EARLY && r->expect_rtt_us) {
			sb_put(&b, " (");
			ms(&b, r->rtt_us);
			sb_put(&b, " ms, usually ");
			ms(&b, r->expect_rtt_us);
			sb_put(&b, " ms)");
		} else if (s == VS_IP_TTL && r->ip_ttl >= 0 && r->ip_ttl_learnt >= 0) {
			sb_put(&b, " (%d, usually %d)", r->ip_ttl, r->ip_ttl_learnt);
		}
		n++;
	}
	if (!n)
		sb_put(&b, "nothing unusual about it");
	if (r->dnssec && r->dnssec[0])
		sb_put(&b, " (dnssec: %s)", r->dnssec);
	return (int)b.n;
}

int verdict_format(const verdict_rec *r, char *out, size_t cap)
{
	struct sb b = {out, cap, 0};
	char name[NAME_MAXTEXT], tb[16];
	if (!r->qname || name_to_text(r->qname, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "?");
	sb_put(&b, "{\"t\":%.6f,\"upstream\":", r->t);
	sb_json(&b, r->upstream ? r->upstream : "?");
	sb_put(&b, ",\"name\":");
	sb_json(&b, name);
	sb_put(&b, ",\"type\":");
	sb_json(&b, rrtype_to_text(r->qtype, tb));
	sb_put(&b, ",\"seq\":%u,\"transport\":\"%s\",\"rtt_ms\":", r->seq, r->tcp ? "tcp" : "udp");
	ms(&b, r->rtt_us);
	sb_put(&b, ",\"expect_rtt_ms\":");
	if (r->expect_rtt_us)
		ms(&b, r->expect_rtt_us);
	else
		sb_put(&b, "null");
	if (r->ip_ttl >= 0)
		sb_put(&b, ",\"ip_ttl\":%d", r->ip_ttl);
	else
		sb_put(&b, ",\"ip_ttl\":null");
	if (r->ip_ttl_learnt >= 0)
		sb_put(&b, ",\"ip_ttl_learnt\":%d", r->ip_ttl_learnt);
	else
		sb_put(&b, ",\"ip_ttl_learnt\":null");
	sb_put(&b, ",\"flags\":\"0x%04x\",\"counts\":\"%u/%u/%u/%u\",\"opt\":%s,\"cookie\":%s,\"answer\":[", r->flags,
	       r->counts[0], r->counts[1], r->counts[2], r->counts[3], r->opt ? "true" : "false",
	       r->cookie ? "true" : "false");
	for (unsigned i = 0; i < r->nanswer; i++) {
		if (i)
			sb_put(&b, ",");
		sb_json(&b, r->answer[i]);
	}
	sb_put(&b, "],\"signals\":[");
	unsigned n = 0;
	for (unsigned s = 0; s < VS_COUNT; s++)
		if (r->signals & VS_BIT(s))
			sb_put(&b, "%s\"%s\"", n++ ? "," : "", sig_names[s]);
	sb_put(&b, "],\"score\":%d,\"verdict\":\"%s\",\"why\":", r->score, verdict_kind_name(r->verdict));
	char why[1024];
	if (r->why) {
		sb_json(&b, r->why);
	} else {
		verdict_why(r, why, sizeof(why));
		sb_json(&b, why);
	}
	if (r->dnssec && r->dnssec[0]) {
		sb_put(&b, ",\"dnssec\":");
		sb_json(&b, r->dnssec);
	}
	sb_put(&b, "}\n");
	return (int)b.n;
}

/* ---- the log file ---- */

struct verdict_log {
	FILE *f;
	bool own;
};

verdict_log *verdict_log_open(const char *path, char *err, size_t errlen)
{
	verdict_log *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!strcmp(path, "-")) {
		l->f = stdout;
		return l;
	}
	l->f = fopen(path, "a");
	if (!l->f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(l);
		return NULL;
	}
	l->own = true;
	setvbuf(l->f, NULL, _IOLBF, 0); /* whole lines, readable with tail -f */
	return l;
}

int verdict_log_reopen(verdict_log *l, const char *path, char *err, size_t errlen)
{
	if (!l || !l->own) {
		snprintf(err, errlen, "not a file log");
		return DNS_EINVAL;
	}
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return DNS_EIO;
	}
	/* under the stream's lock: a line being written lands whole in the old
	 * file or whole in the new one */
	flockfile(l->f);
	fflush(l->f);
	int rc = dup2(fd, fileno(l->f)) < 0 ? DNS_EIO : 0;
	if (rc)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	funlockfile(l->f);
	close(fd);
	return rc;
}

void verdict_log_close(verdict_log *l)
{
	if (!l)
		return;
	if (l->own)
		fclose(l->f);
	else
		fflush(l->f);
	free(l);
}

void verdict_log_write(verdict_log *l, const verdict_rec *r)
{
	if (!l)
		return;
	char buf[4096];
	int n = verdict_format(r, buf, sizeof(buf));
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(buf)) { /* a long answer list: cut it, keep the line valid */
		verdict_rec c = *r;
		c.nanswer = c.nanswer > 4 ? 4 : c.nanswer;
		c.why = "";
		c.dnssec = NULL;
		n = verdict_format(&c, buf, sizeof(buf));
		if (n <= 0 || (size_t)n >= sizeof(buf))
			return;
	}
	fwrite(buf, 1, (size_t)n, l->f); /* stdio locks the stream per call */
}

void verdict_log_flush(verdict_log *l)
{
	if (l)
		fflush(l->f);
}
