/* config — `antidote resolve` options: the command line and --config files.
 *
 * Every long option can be given on the command line (`--name value`,
 * `--name=value`, or `--name` alone for a flag) or as a line of a --config
 * file, in the style dnsmasq and chinadns-ng users know:
 *
 *	# upstreams
 *	upstream 127.0.0.1:5300
 *	upstream tls://9.9.9.9#dns.quad9.net   (DNS over TLS, route.h)
 *	tls-ca /etc/ssl/my-ca.pem
 *	server=/cn/127.0.0.1#5301     (dnsmasq spelling: '=' also separates)
 *	0x20                          (a flag: alone, or followed by yes/no)
 *	cache-size 256M
 *
 * A line is `NAME [VALUE]`: NAME is an option name (a leading "--" is
 * allowed), separated from its value by blanks or one '='. A '#' starts a
 * comment at the beginning of a line or after a blank (so "1.2.3.4#5300" is
 * a value, not a comment). Errors read "FILE:LINE: message". Options are
 * applied in order, wherever they come from: repeatable ones (listen,
 * upstream, server, route, allow) accumulate, the others keep the last value.
 * A config file may not name another (--config inside a file is refused).
 *
 * The parser owns the route table it builds (--upstream, --server, --route
 * all feed it); config_free releases it. Not thread-safe; used once at
 * start. */
#ifndef ANTIDOTE_RESOLVE_CONFIG_H
#define ANTIDOTE_RESOLVE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dns/name.h"
#include "net/addr.h"
#include "resolve/acl.h"
#include "resolve/bogus.h"
#include "resolve/cache.h"
#include "resolve/route.h"
#include "resolve/validator.h"

#define CONFIG_MAX_LISTEN 16
#define CONFIG_ERRLEN 512
#define CONFIG_ROOT_DS "/usr/share/dns/root.ds" /* --dnssec on without --trust-anchor */

typedef struct resolve_config {
	net_addr listen[CONFIG_MAX_LISTEN];
	unsigned nlisten;
	route *rt;              /* upstreams and per-domain rules (owned) */
	unsigned nupstream;     /* --upstream/--server ADDR defaults given */
	acl allow;              /* clients served (loopback when none given) */
	bool allow_given;
	unsigned threads;       /* 0 = one per CPU */
	cache_cfg cache;        /* --cache-size, --min-ttl, --max-ttl, ... */
	uint32_t stale_timeout_ms; /* answer stale after this long waiting (RFC 8767 client timer) */
	unsigned attempts;      /* sends per upstream transaction */
	uint32_t rto_ms;        /* initial retransmission timeout */
	uint32_t tcp_idle_ms;   /* client TCP idle timeout */
	unsigned max_inflight;  /* upstream transactions per worker */
	uint16_t max_udp;       /* our EDNS UDP size to clients and upstreams */
	bool use_0x20;
	bool no_cookies;
	bool udp_epoll;
	/* DNS over TLS upstreams (tls://... in --upstream/--server/--route) */
	char *tls_ca;           /* --tls-ca FILE (owned; NULL: system store) */
	bool tls_insecure;      /* --tls-insecure: verify no certificate */
	char *user;             /* --user USER (owned; NULL: stay as started) */
	/* the injection defence (defence.h) */
	bool defence;           /* --defence on|off (default on) */
	bogus *bogus_list;      /* --bogus-ip FILE... (owned; NULL when none) */
	unsigned bogus_files;
	uint32_t hold_max_ms;   /* --hold-max (default 400) */
	/* DNSSEC validation (validator.h) */
	val_anchors *anchors;   /* --trust-anchor FILE... (owned; NULL when none) */
	int dnssec;             /* --dnssec: -1 not given (config_finish: on iff
				 * anchors), 0 off, 1 on */
	char *log_verdicts;     /* --log-verdicts FILE (owned) */
	char *learned_bogus;    /* --learned-bogus FILE (owned) */
	uint8_t probe_name[NAME_MAXLEN]; /* --probe-name (default the root) */
	uint32_t probe_interval_s; /* --probe-interval (default 60, 0: only at start) */
	bool help;
	int verbosity;          /* -1 quiet, 0 normal, 1 verbose */
} resolve_config;

/* Defaults (threads 0, cache_cfg_default, 1800 ms stale timeout, 4
 * attempts, 600 ms RTO, 10 s TCP idle, 1024 in flight, 1232 octets,
 * defence on with a 400 ms hold bound, probes of ". NS" every 60 s) and a
 * fresh route table. DNS_ENOMEM when that cannot be made. */
int config_init(resolve_config *c);
void config_free(resolve_config *c);

/* Applies one option (name without "--"; val NULL for a bare flag).
 * from_file forbids "config". 0 or a negative code with a message in err. */
int config_set(resolve_config *c, const char *name, const char *val, bool from_file,
	       char *err, size_t errlen);

/* Reads a config file (lines as above). Errors: "FILE:LINE: message", or
 * "FILE: reason" when it cannot be read. */
int config_load(resolve_config *c, const char *path, char *err, size_t errlen);

/* Parses argv[1..argc) (argv[0] is the subcommand). Positional arguments
 * are refused. 0 or a negative code with a message in err. */
int config_parse_args(resolve_config *c, int argc, char **argv, char *err, size_t errlen);

/* After parsing: applies the allow default, checks that a listen address
 * and an upstream exist (unless help), settles --dnssec (on with a
 * --trust-anchor; "on" alone loads CONFIG_ROOT_DS or fails), hands the TLS settings to the route
 * table (route_set_tls) and, when a TLS upstream exists, checks that the
 * trust store loads (tls_ctx_new). 0 or DNS_EINVAL with a message. */
int config_finish(resolve_config *c, char *err, size_t errlen);

/* The option summary for --help. */
void config_usage(FILE *f);

#endif
