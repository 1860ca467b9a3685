/* config — `antidote resolve` options from the command line and files (see config.h). */
#include "resolve/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "resolve/tls.h"
#include "util/flag.h"

enum opt_id {
	O_LISTEN, O_UPSTREAM, O_SERVER, O_ROUTE, O_ALLOW, O_CONFIG, O_THREADS, O_CACHE_SIZE,
	O_MIN_TTL, O_MAX_TTL, O_NEG_MAX_TTL, O_STALE_WINDOW, O_STALE_TIMEOUT, O_PREFETCH,
	O_0X20, O_NO_COOKIES, O_ATTEMPTS, O_RTO, O_TCP_IDLE, O_MAX_INFLIGHT, O_MAX_UDP,
	O_UDP_EPOLL, O_TLS_CA, O_TLS_INSECURE, O_DEFENCE, O_BOGUS_IP, O_HOLD_MAX, O_LOG_VERDICTS, O_LEARNED_BOGUS, O_PROBE_NAME,
	O_PROBE_INTERVAL, O_TRUST_ANCHOR, O_DNSSEC, O_USER, O_VERBOSE, O_QUIET, O_HELP,
};

static const struct opt {
	const char *name;
	bool arg;
	enum opt_id id;
	const char *help;
} opts[] = {
	{"listen", true, O_LISTEN, "ADDR[:PORT]  answer clients here (UDP+TCP), IPv4 or [IPv6]; default port 53; repeatable"},
	{"upstream", true, O_UPSTREAM, "ADDR[:PORT]  default upstream server, e.g. 127.0.0.1:5300 or [::1]:5300; repeatable;\n"
		"                        tls://ADDR[:PORT][#NAME]: DNS over TLS (port 853), certificate checked for NAME\n"
		"                        (also sent as SNI) or, without #NAME, for the IP address"},
	{"server", true, O_SERVER, "/DOMAIN/.../ADDR[#PORT]  dnsmasq-style: names under DOMAIN go to ADDR\n"
		"                        (/DOMAIN/ alone: never forwarded; ADDR[#PORT] alone: a default upstream;\n"
		"                        ADDR may be tls://ADDR[:PORT][#NAME] as for --upstream)"},
	{"route", true, O_ROUTE, "FILE  file of dnsmasq server=/DOMAIN/ADDR lines (e.g. a china-domains list)"},
	{"allow", true, O_ALLOW, "CIDR  clients allowed (default: 127.0.0.0/8 and ::1 only; 'any' for all); repeatable"},
	{"config", true, O_CONFIG, "FILE  read options from FILE, one 'option value' per line, # comments"},
	{"threads", true, O_THREADS, "N  worker threads (default: one per CPU)"},
	{"cache-size", true, O_CACHE_SIZE, "SIZE  answer cache bound, e.g. 64M, 1G (default 64M)"},
	{"min-ttl", true, O_MIN_TTL, "SECS  raise smaller TTLs to this (default 0)"},
	{"max-ttl", true, O_MAX_TTL, "SECS  cap TTLs (default 86400)"},
	{"neg-max-ttl", true, O_NEG_MAX_TTL, "SECS  cap negative-answer TTLs (default 3600)"},
	{"stale-window", true, O_STALE_WINDOW, "SECS  keep expired answers this long for serve-stale (RFC 8767; default 86400, 0: off)"},
	{"stale-timeout", true, O_STALE_TIMEOUT, "MS  answer from stale data after waiting this long for upstreams (default 1800)"},
	{"prefetch", true, O_PREFETCH, "PCT  refresh popular answers with less than PCT% of their TTL left (default 10, 0: off)"},
	{"0x20", false, O_0X20, "randomise the case of query names sent upstream (and require it back)"},
	{"no-cookies", false, O_NO_COOKIES, "send no EDNS cookies upstream"},
	{"attempts", true, O_ATTEMPTS, "N  sends per upstream question, over all upstreams (default 4, at most 8)"},
	{"rto", true, O_RTO, "MS  retransmission timeout before an upstream's RTT is known (default 600)"},
	{"tcp-idle", true, O_TCP_IDLE, "MS  close idle client TCP connections after MS (default 10000)"},
	{"max-inflight", true, O_MAX_INFLIGHT, "N  upstream questions in flight per worker (default 1024)"},
	{"max-udp", true, O_MAX_UDP, "N  EDNS UDP size offered to clients and upstreams (default 1232)"},
	{"udp-epoll", false, O_UDP_EPOLL, "read client UDP in the workers' event threads (epoll)"},
	{"user", true, O_USER, "USER  after binding, run as USER (name or number; no way back to root); files read\n"
		"                        or written later (SIGHUP reloads, the verdict log, --learned-bogus) must be\n"
		"                        readable or writable by USER"},
	{"tls-ca", true, O_TLS_CA, "FILE  PEM bundle of CAs trusted for tls:// upstreams (default: the system store)"},
	{"tls-insecure", false, O_TLS_INSECURE, "DANGER, labs only: do NOT verify tls:// upstream certificates; anyone\n"
		"                        on the path can then answer in the upstream's name"},
	{"defence", true, O_DEFENCE, "on|off  judge every upstream reply and never serve a forged one (default on;\n"
		"                        off: the first reply wins, like a 2014 ISP resolver)"},
	{"bogus-ip", true, O_BOGUS_IP, "FILE  drop replies with these addresses: ChinaDNS iplist (ADDR or CIDR a line)\n"
		"                        or dnsmasq bogus-nxdomain= lines; applies with --defence off too; repeatable"},
	{"trust-anchor", true, O_TRUST_ANCHOR, "FILE  DNSSEC trust anchors: zone-file DS or DNSKEY lines (e.g. /usr/share/dns/root.ds);\n"
		"                        answers of names under them are validated; repeatable"},
	{"dnssec", true, O_DNSSEC, "on|off  DNSSEC validation of upstream answers: secure ones are served at once, bogus\n"
		"                        ones dropped as forged (default: on with --trust-anchor; 'on' alone uses\n"
		"                        " CONFIG_ROOT_DS ")"},
	{"hold-max", true, O_HOLD_MAX, "MS  longest wait for a better reply after a doubtful one (default 400)"},
	{"log-verdicts", true, O_LOG_VERDICTS, "FILE  one JSON line per upstream reply: signals, verdict and why ('-': stdout)"},
	{"learned-bogus", true, O_LEARNED_BOGUS, "FILE  at exit, write the addresses caught in forged replies (iplist format;\n"
		"                        bogus-nxdomain= lines when FILE ends in .conf): load them with --bogus-ip"},
	{"probe-name", true, O_PROBE_NAME, "NAME  harmless name asked (type NS) to learn each upstream's RTT and IP TTL (default '.')"},
	{"probe-interval", true, O_PROBE_INTERVAL, "SECS  probe each upstream this often (default 60, 0: only at start)"},
	{"verbose", false, O_VERBOSE, "more logging"},
	{"quiet", false, O_QUIET, "less logging"},
	{"help", false, O_HELP, "this text"},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static int errf(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int config_init(resolve_config *c)
{
	memset(c, 0, sizeof(*c));
	c->rt = route_new();
	if (!c->rt)
		return DNS_ENOMEM;
	acl_init(&c->allow);
	cache_cfg_default(&c->cache);
	c->stale_timeout_ms = 1800;
	c->attempts = 4;
	c->rto_ms = 600;
	c->tcp_idle_ms = 10000;
	c->max_inflight = 1024;
	c->max_udp = 1232;
	c->defence = true;
	c->dnssec = -1;
	c->hold_max_ms = 400;
	c->probe_name[0] = 0; /* the root */
	c->probe_interval_s = 60;
	return 0;
}

void config_free(resolve_config *c)
{
	route_free(c->rt);
	c->rt = NULL;
	bogus_free(c->bogus_list);
	c->bogus_list = NULL;
	val_anchors_free(c->anchors);
	c->anchors = NULL;
	free(c->log_verdicts);
	free(c->learned_bogus);
	free(c->tls_ca);
	free(c->user);
	c->log_verdicts = c->learned_bogus = c->tls_ca = c->user = NULL;
}

static int num(const char *name, const char *val, unsigned long lo, unsigned long hi, unsigned long *out,
	       char *err, size_t errlen)
{
	char *end;
	errno = 0;
	if (!val || !*val || !isdigit((unsigned char)*val))
		return errf(err, errlen, DNS_ESYNTAX, "%s: '%s' is not a number from %lu to %lu", name,
			    val ? val : "", lo, hi);
	unsigned long v = strtoul(val, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return errf(err, errlen, DNS_ERANGE, "%s: '%s' is not a number from %lu to %lu", name, val, lo, hi);
	*out = v;
	return 0;
}

static int flag_value(const char *name, const char *val, bool *out, char *err, size_t errlen)
{
	if (!val) {
		*out = true;
		return 0;
	}
	if (flag_parse(val, out) == 0)
		return 0;
	return errf(err, errlen, DNS_ESYNTAX, "%s takes no value (or yes/no), not '%s'", name, val);
}

int config_set(resolve_config *c, const char *name, const char *val, bool from_file, char *err, size_t errlen)
{
	const struct opt *o = NULL;
	for (size_t i = 0; i < NOPTS; i++)
		if (!strcmp(opts[i].name, name)) {
			o = &opts[i];
			break;
		}
	if (!o)
		return errf(err, errlen, DNS_ESYNTAX, "unknown option '%s'", name);
	if (o->arg && (!val || !*val))
		return errf(err, errlen, DNS_ESYNTAX, "%s needs a value", name);
	unsigned long v = 0;
	bool b = false;
	int rc = 0;
	char why[CONFIG_ERRLEN];
	switch (o->id) {
	case O_LISTEN:
		if (c->nlisten >= CONFIG_MAX_LISTEN)
			return errf(err, errlen, DNS_ERANGE, "too many listen addresses (at most %d)", CONFIG_MAX_LISTEN);
		if (addr_parse(&c->listen[c->nlisten], val, 53, why, sizeof(why)) < 0)
			return errf(err, errlen, DNS_ESYNTAX, "listen: %s", why);
		c->nlisten++;
		return 0;
	case O_UPSTREAM: {
		route_upstream u;
		if ((rc = route_parse_upstream(val, &u, why, sizeof(why))) < 0)
			return errf(err, errlen, rc, "upstream: %s", why);
		if ((rc = route_add_upstream(c->rt, &u)) < 0)
			return errf(err, errlen, rc, "upstream %s: %s", val, dns_strerror(rc));
		c->nupstream++;
		return 0;
	}
	case O_SERVER: {
		char line[ROUTE_MAX_LINE];
		if (snprintf(line, sizeof(line), "server=%s", val) >= (int)sizeof(line))
			return errf(err, errlen, DNS_ERANGE, "server: value too long");
		if ((rc = route_add_line(c->rt, line, why, sizeof(why))) < 0)
			return errf(err, errlen, rc, "server %s: %s", val, why);
		if (val[0] != '/')
			c->nupstream++;
		return 0;
	}
	case O_ROUTE:
		if ((rc = route_load(c->rt, val, why, sizeof(why))) < 0)
			return errf(err, errlen, rc, "%s", why);
		return 0;
	case O_ALLOW:
		if ((rc = acl_add(&c->allow, val, why, sizeof(why))) < 0)
			return errf(err, errlen, rc, "allow: %s", why);
		c->allow_given = true;
		return 0;
	case O_CONFIG:
		if (from_file)
			return errf(err, errlen, DNS_EINVAL, "config files cannot include others");
		return config_load(c, val, err, errlen);
	case O_THREADS:
		if ((rc = num(name, val, 1, 256, &v, err, errlen)) < 0)
			return rc;
		c->threads = (unsigned)v;
		return 0;
	case O_CACHE_SIZE: {
		size_t sz;
		if (cache_size_parse(val, &sz) < 0 || sz < 65536)
			return errf(err, errlen, DNS_ESYNTAX, "cache-size: '%s' is not a size of at least 64K (e.g. 256M)", val);
		c->cache.size = sz;
		return 0;
	}
	case O_MIN_TTL:
	case O_MAX_TTL:
	case O_NEG_MAX_TTL:
	case O_STALE_WINDOW:
		if ((rc = num(name, val, o->id == O_MAX_TTL || o->id == O_NEG_MAX_TTL ? 1 : 0, 604800 * 4, &v,
			      err, errlen)) < 0)
			return rc;
		if (o->id == O_MIN_TTL)
			c->cache.min_ttl = (uint32_t)v;
		else if (o->id == O_MAX_TTL)
			c->cache.max_ttl = (uint32_t)v;
		else if (o->id == O_NEG_MAX_TTL)
			c->cache.neg_max_ttl = (uint32_t)v;
		else
			c->cache.stale_window = (uint32_t)v;
		return 0;
	case O_STALE_TIMEOUT:
		if ((rc = num(name, val, 0, 60000, &v, err, errlen)) < 0)
			return rc;
		c->stale_timeout_ms = (uint32_t)v;
		return 0;
	case O_PREFETCH:
		if ((rc = num(name, val, 0, 99, &v, err, errlen)) < 0)
			return rc;
		c->cache.prefetch_pct = (uint32_t)v;
		return 0;
	case O_ATTEMPTS:
		if ((rc = num(name, val, 1, 8, &v, err, errlen)) < 0)
			return rc;
		c->attempts = (unsigned)v;
		return 0;
	case O_RTO:
		if ((rc = num(name, val, 10, 10000, &v, err, errlen)) < 0)
			return rc;
		c->rto_ms = (uint32_t)v;
		return 0;
	case O_TCP_IDLE:
		if ((rc = num(name, val, 1, 3600000, &v, err, errlen)) < 0)
			return rc;
		c->tcp_idle_ms = (uint32_t)v;
		return 0;
	case O_MAX_INFLIGHT:
		if ((rc = num(name, val, 1, 65536, &v, err, errlen)) < 0)
			return rc;
		c->max_inflight = (unsigned)v;
		return 0;
	case O_MAX_UDP:
		if ((rc = num(name, val, 512, 65535, &v, err, errlen)) < 0)
			return rc;
		c->max_udp = (uint16_t)v;
		return 0;
	case O_DEFENCE:
		if ((rc = flag_value(name, val, &b, err, errlen)) < 0)
			return errf(err, errlen, rc, "defence: '%s' is not on or off", val);
		c->defence = b;
		return 0;
	case O_BOGUS_IP: {
		if (!c->bogus_list && !(c->bogus_list = bogus_new()))
			return errf(err, errlen, DNS_ENOMEM, "out of memory");
		if ((rc = bogus_load(c->bogus_list, val, NULL, why, sizeof(why))) < 0)
			return errf(err, errlen, rc, "%s", why);
		c->bogus_files++;
		return 0;
	}
	case O_TRUST_ANCHOR:
		if (!c->anchors && !(c->anchors = val_anchors_new()))
			return errf(err, errlen, DNS_ENOMEM, "out of memory");
		if ((rc = val_anchors_load(c->anchors, val, why, sizeof(why))) < 0)
			return errf(err, errlen, rc, "trust-anchor: %s", why);
		return 0;
	case O_DNSSEC:
		if ((rc = flag_value(name, val, &b, err, errlen)) < 0)
			return errf(err, errlen, rc, "dnssec: '%s' is not on or off", val);
		c->dnssec = b;
		return 0;
	case O_HOLD_MAX:
		if ((rc = num(name, val, 1, 10000, &v, err, errlen)) < 0)
			return rc;
		c->hold_max_ms = (uint32_t)v;
		return 0;
	case O_LOG_VERDICTS:
	case O_LEARNED_BOGUS:
	case O_USER:
	case O_TLS_CA: {
		char *d = strdup(val);
		if (!d)
			return errf(err, errlen, DNS_ENOMEM, "out of memory");
		char **slot = o->id == O_LOG_VERDICTS ? &c->log_verdicts
			    : o->id == O_TLS_CA       ? &c->tls_ca
			    : o->id == O_USER         ? &c->user
						      : &c->learned_bogus;
		free(*slot);
		*slot = d;
		return 0;
	}
	case O_PROBE_NAME: {
		size_t n = strlen(val);
		uint8_t nm[NAME_MAXLEN];
		int l = n && val[n - 1] == '.' ? name_from_text(val, n, NULL, nm)
					       : name_from_text(val, n, (const uint8_t *)"", nm);
		if (l < 0)
			return errf(err, errlen, DNS_ESYNTAX, "probe-name: '%s' is not a domain name", val);
		memcpy(c->probe_name, nm, (size_t)l);
		return 0;
	}
	case O_PROBE_INTERVAL:
		if ((rc = num(name, val, 0, 86400, &v, err, errlen)) < 0)
			return rc;
		c->probe_interval_s = (uint32_t)v;
		return 0;
	case O_0X20:
	case O_NO_COOKIES:
	case O_UDP_EPOLL:
	case O_TLS_INSECURE:
	case O_VERBOSE:
	case O_QUIET:
	case O_HELP:
		if ((rc = flag_value(name, val, &b, err, errlen)) < 0)
			return rc;
		if (o->id == O_0X20)
			c->use_0x20 = b;
		else if (o->id == O_NO_COOKIES)
			c->no_cookies = b;
		else if (o->id == O_UDP_EPOLL)
			c->udp_epoll = b;
		else if (o->id == O_TLS_INSECURE)
			c->tls_insecure = b;
		else if (o->id == O_VERBOSE)
			c->verbosity = b ? 1 : 0;
		else if (o->id == O_QUIET)
			c->verbosity = b ? -1 : 0;
		else
			c->help = b;
		return 0;
	}
	return errf(err, errlen, DNS_EINVAL, "unhandled option '%s'", name);
}

/* Strips a trailing comment (a '#' at the start or after a blank) and the
 * blanks around the rest. */
static char *trim_line(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '#' && (p == s || *(p - 1) == ' ' || *(p - 1) == '\t')) {
			*p = 0;
			break;
		}
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = 0;
	return s;
}

int config_load(resolve_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return errf(err, errlen, DNS_EIO, "%s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	unsigned lineno = 0;
	int rc = 0;
	char why[CONFIG_ERRLEN];
	while ((got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (memchr(line, 0, (size_t)got)) {
			rc = errf(err, errlen, DNS_ESYNTAX, "%s:%u: NUL character in line", path, lineno);
			break;
		}
		char *s = trim_line(line);
		if (!*s)
			continue;
		if (!strncmp(s, "--", 2))
			s += 2;
		char *sep = s + strcspn(s, " \t=");
		char *val = NULL;
		if (*sep) {
			bool eq = *sep == '=';
			*sep++ = 0;
			while (*sep == ' ' || *sep == '\t')
				sep++;
			if (!eq && *sep == '=') { /* "name = value" */
				sep++;
				while (*sep == ' ' || *sep == '\t')
					sep++;
			}
			val = sep;
			if (!*val && !eq)
				val = NULL;
		}
		if ((rc = config_set(c, s, val, true, why, sizeof(why))) < 0) {
			errf(err, errlen, rc, "%s:%u: %s", path, lineno, why);
			break;
		}
	}
	if (!rc && ferror(f))
		rc = errf(err, errlen, DNS_EIO, "%s: read error", path);
	free(line);
	fclose(f);
	return rc;
}

static const struct opt *find(const char *name)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (!strcmp(opts[i].name, name))
			return &opts[i];
	return NULL;
}

int config_parse_args(resolve_config *c, int argc, char **argv, char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h"))
			a = "--help";
		if (strncmp(a, "--", 2) || !a[2])
			return errf(err, errlen, DNS_ESYNTAX, "unexpected argument '%s'", a);
		char name[64];
		const char *eq = strchr(a + 2, '=');
		size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		if (n >= sizeof(name))
			return errf(err, errlen, DNS_ESYNTAX, "unknown option '%s'", a);
		memcpy(name, a + 2, n);
		name[n] = 0;
		const struct opt *o = find(name);
		if (!o)
			return errf(err, errlen, DNS_ESYNTAX, "unknown option '--%s'", name);
		const char *val = eq ? eq + 1 : NULL;
		if (o->arg && !val) {
			if (i + 1 >= argc)
				return errf(err, errlen, DNS_ESYNTAX, "--%s needs a value", name);
			val = argv[++i];
		}
		char why[CONFIG_ERRLEN];
		int rc = config_set(c, name, val, false, why, sizeof(why));
		if (rc < 0)
			return errf(err, errlen, rc, "%s%s", o->id == O_CONFIG || o->id == O_ROUTE || o->id == O_BOGUS_IP ? "" : "--", why);
	}
	return 0;
}

int config_finish(resolve_config *c, char *err, size_t errlen)
{
	if (!c->allow_given)
		acl_add_loopback(&c->allow);
	if (c->help)
		return 0;
	if (c->nlisten == 0)
		return errf(err, errlen, DNS_EINVAL, "give at least one --listen address");
	if (route_nservers(c->rt) == 0)
		return errf(err, errlen, DNS_EINVAL, "give at least one --upstream (or --server/--route)");
	if (c->dnssec == 1 && !c->anchors) {
		char why[CONFIG_ERRLEN];
		if (!(c->anchors = val_anchors_new()))
			return errf(err, errlen, DNS_ENOMEM, "out of memory");
		if (val_anchors_load(c->anchors, CONFIG_ROOT_DS, why, sizeof(why)) < 0)
			return errf(err, errlen, DNS_EINVAL,
				    "--dnssec on needs a trust anchor: give --trust-anchor FILE (the default "
				    CONFIG_ROOT_DS " cannot be used: %s)", why);
	}
	if (c->dnssec < 0)
		c->dnssec = c->anchors != NULL;
	if (route_set_tls(c->rt, c->tls_ca, c->tls_insecure) < 0)
		return errf(err, errlen, DNS_ENOMEM, "out of memory");
	if (route_ntls(c->rt)) { /* a bad --tls-ca is an error now, not per worker later */
		char why[TLS_ERRLEN + 64];
		tls_ctx *x = tls_ctx_new(c->tls_ca, c->tls_insecure, why, sizeof(why));
		if (!x)
			return errf(err, errlen, DNS_EINVAL, "%s", why);
		tls_ctx_free(x);
	}
	return 0;
}

void config_usage(FILE *f)
{
	fprintf(f, "usage: antidote resolve --listen ADDR[:PORT] --upstream ADDR[:PORT] [OPTIONS]\n\n"
		   "Caching forwarding DNS resolver. Options (each may also be a line 'option value'\n"
		   "of a --config file):\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const char *h = opts[i].help;
		if (opts[i].arg) {
			const char *sp = strchr(h, ' ');
			int an = sp ? (int)(sp - h) : (int)strlen(h);
			fprintf(f, "  --%s %.*s\n                        %s\n", opts[i].name, an, h, sp ? sp + 2 : "");
		} else {
			fprintf(f, "  --%-20s%s\n", opts[i].name, h);
		}
	}
	fprintf(f, "Signals: SIGUSR1 prints client, cache and per-upstream counters (also printed at exit);\n"
		   "SIGTERM/SIGINT stop.\n");
}
