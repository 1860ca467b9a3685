/* inject — the `antidote inject` subcommand: lab-only emulator of on-path
 * DNS injectors (explain one query, or run the loopback relay). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "dns/err.h"
#include "inject/border.h"
#include "inject/engine.h"
#include "inject/gfwlist.h"
#include "inject/relay.h"
#include "inject/rules.h"
#include "lab/netns.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: antidote inject --explain HEX [--udp-len N] [--digest] [--at MS] [ENGINE OPTIONS]\n"
		"       antidote inject --listen 127.0.0.1:P --forward 127.0.0.1:Q [--delay MS] [--jitter MS]\n"
		"                       [--loss PCT] [--log FILE] [ENGINE OPTIONS]\n"
		"       antidote inject --netns [--forward 127.0.0.1:P --delay MS] [--log FILE] [ENGINE OPTIONS]\n"
		"       antidote inject --netns=antidote-PID-border [--iface IF] [--log FILE] [ENGINE OPTIONS]\n"
		"       antidote inject --netns=antidote-PID-client|server --listen A --forward B [relay options]\n"
		"Lab-only emulator of on-path DNS injectors (GFW triplet, 21 Jan 2014, Iran).\n"
		"--explain prints, in hex, the reply each injector that fires would send (one line\n"
		"each, nothing if none fires). The relay forwards every datagram between its clients\n"
		"and --forward after the one-way delay and races forged replies ahead of the real\n"
		"one. It only accepts 127.0.0.0/8 and ::1.\n"
		"--netns (root) creates client, border and server network namespaces\n"
		"(antidote-PID-{client,border,server}, veths, 198.51.100.0/24 and 203.0.113.0/24, and\n"
		"2001:db8:100::/64 and 2001:db8:113::/64 when the kernel has IPv6), prints their\n"
		"names, and injects from the border: it sniffs UDP and TCP to port 53 over IPv4 and\n"
		"IPv6 arriving on either veth (queries crossing the border both ways; --iface IF: one\n"
		"of the two only), sends forged replies from a raw socket with the queried\n"
		"server's address, the profile's IP TTL (hop limit), IP ID and DF (IPv4), and resets\n"
		"TCP connections that ask for a censored name (RSTs both ways), while the kernel\n"
		"forwards the real packets (no delay). Run servers\n"
		"and clients with `ip netns exec`. With --forward 127.0.0.1:P --delay MS a delay line\n"
		"(a relay without injector) in the server namespace listens on 203.0.113.2:53 and\n"
		"forwards to your server on 127.0.0.1:P there, MS each way. --netns=NAME joins a\n"
		"namespace another antidote created (the lab): the border one to inject, a client or\n"
		"server one to run the relay there (its documentation addresses allowed). Namespaces are removed at exit; stale ones of dead runs at start. Nothing\n"
		"but antidote's own namespaces and veths is ever touched.\n"
		"engine options:\n"
		"  --profile gfw|jan21|iran|none   (default gfw)\n"
		"  --rules FILE      own rule file (kind base, *.base..., re:ERE, glob:P), repeatable\n"
		"  --gfwlist FILE    gfwlist (base64 AutoProxy)   --domains FILE  one domain a line\n"
		"  --dnsmasq FILE    server=/domain/ip lines      (no rule option: a built-in list)\n"
		"  --pool-a FILE --pool-aaaa FILE   forged addresses, one a line, in cycling order\n"
		"  --regime unpatched|patched|fixed  reader of the blocklist injectors (default fixed:\n"
		"                    today's, no over-read; a name without its zero label is matched\n"
		"                    but not answered, as after the Nov 2023 patch; unpatched answers\n"
		"                    it with over-read bytes, as Wallbleed measured)\n"
		"  --jan21-start MS --jan21-duration MS --jan21-ttl S   fault window (from start)\n"
		"  --seed N          TTL / lead / loss draws (default 1)\n"
		"  --tune INJ.KEY=VALUE   change one fingerprint of injector INJ (gfw1, gfw2, gfw3,\n"
		"                    dit, iran; '*' all), repeatable; the (?) facts of INJECTORS.md:\n"
		"                    fire=P (answer a match with probability P: 1-3 replies a query)\n"
		"                    ttl=N|N-M (answer TTL)  ip_ttl=N|copy|random  ipid=kernel|zero|\n"
		"                    random|incr  df=on|off  lead=N|N..M (ms ahead of the real reply;\n"
		"                    negative: after it)  rst=on|off (TCP resets)  k=N (pool subset)\n"
		"                    regime=unpatched|patched|fixed  flags=rd|8180\n"
		"explain: --udp-len N (parser's length, default the query's), --digest (4 'D' bytes\n"
		"  after the query in the over-read memory), --at MS (time from start, for jan21)\n"
		"relay: --slots N (packets in flight, default 16384)\n"
		"  --max-clients N   client address+port pairs remembered at once (default 65536)\n"
		"  --idle-ms MS      a client idle this long is forgotten (default 10000)\n"
		"  --upstream shared|per-client   shared sockets with DNS ID mapping (default), or\n"
		"                    one socket per client   --up-sockets N (shared; default 4)\n"
		"  --threads N       N relays on one address (SO_REUSEPORT), each with its own\n"
		"                    tables and injector state (default 1; --seed runs repeat only with 1)\n"
		"  --no-gso          one datagram per send (default: equal-length datagrams to one\n"
		"                    peer leave as one UDP GSO buffer, split by the kernel)\n"
		"  --epoch-ms T      scenario time 0 (jan21 window) is CLOCK_REALTIME T ms, not the start\n");
}

static int unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0, len = strlen(h);
	if (len % 2)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		unsigned v;
		if (n >= cap || sscanf(h + i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", h[i]) ||
		    !strchr("0123456789abcdefABCDEF", h[i + 1]))
			return -1;
		out[n++] = (uint8_t)v;
	}
	return (int)n;
}

static int num(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

enum {
	O_EXPLAIN = 256, O_UDPLEN, O_DIGEST, O_AT, O_PROFILE, O_RULES, O_GFWLIST, O_DOMAINS, O_DNSMASQ,
	O_POOLA, O_POOLAAAA, O_REGIME, O_J21START, O_J21LEN, O_J21TTL, O_SEED, O_LISTEN, O_FORWARD,
	O_DELAY, O_JITTER, O_LOSS, O_LOG, O_SLOTS, O_MAXCL, O_IDLE, O_UPSTREAM, O_UPSOCK, O_NOGSO, O_THREADS, O_EPOCH, O_NETNS,
	O_IFACE,
	O_TUNE,
};

static void border_ready(void *arg)
{
	const struct border_config *bc = arg;
	if (bc->ifname2)
		fprintf(stderr, "antidote inject: border injector ready on %s and %s (queries both ways)\n", bc->ifname,
			bc->ifname2);
	else
		fprintf(stderr, "antidote inject: border injector ready on %s\n", bc->ifname);
}

/* The delay line of --netns --delay: a relay without injector in the
 * server namespace, 203.0.113.2:53 -> the server on --forward (loopback of
 * that namespace). Forked; returns its pid or -1. */
static pid_t start_delay_line(const struct netns_topo *t, const struct relay_config *rc)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* SIGKILL: the parent may block SIGTERM (signalfd), and the child
	 * inherits that mask; a SIGKILLed parent must not leave it behind. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	char err[512];
	struct relay_config dl = *rc;
	dl.engine = NULL;
	dl.log = NULL;
	dl.netns_ok = true;
	dl.ready = NULL;
	if (netns_enter(t->fd[NETNS_SERVER], NULL) < 0 ||
	    addr_parse(&dl.listen, NETNS_SERVER_IP ":53", 53, err, sizeof(err)) < 0) {
		fprintf(stderr, "antidote inject: delay line: cannot enter %s\n", t->name[NETNS_SERVER]);
		_exit(1);
	}
	if (relay_run(&dl, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "antidote inject: delay line: %s\n", err);
		_exit(1);
	}
	_exit(0);
}

/* --netns: creates (name NULL) or joins (name) the border namespace and
 * runs the border injector there (rc: --delay/--forward for the delay
 * line, created topology only). Returns the exit status. */
static int run_netns(const char *name, const char *iface, struct border_config *bc, const struct relay_config *rc,
		     bool delay_line)
{
	struct netns_topo topo;
	char err[1024], ifname[IF_NAMESIZE], ifname2[IF_NAMESIZE];
	int status = 1, fd = -1, old = -1;
	pid_t dl = -1;
	netns_topo_init(&topo, getpid());
	if (name) {
		if ((fd = netns_open(name)) < 0) {
			fprintf(stderr, "antidote inject: no namespace %s (" NETNS_DIR "/%s: %s)\n", name, name,
				strerror(errno));
			return 2;
		}
	} else {
		netns_cleanup_stale();
		if (netns_create(&topo, err, sizeof(err)) < 0) {
			fprintf(stderr, "antidote inject: %s\n", err);
			return 1;
		}
		name = topo.name[NETNS_BORDER];
		fd = topo.fd[NETNS_BORDER];
		if (delay_line && (dl = start_delay_line(&topo, rc)) < 0) {
			fprintf(stderr, "antidote inject: fork: %s\n", strerror(errno));
			goto out;
		}
		char fb[ADDR_STRLEN];
		printf("netns client=%s border=%s server=%s client_ip=%s server_ip=%s client_ip6=%s server_ip6=%s "
		       "client_if=%s border_if=%s delay_line=%s\n",
		       topo.name[NETNS_CLIENT], name, topo.name[NETNS_SERVER], NETNS_CLIENT_IP, NETNS_SERVER_IP,
		       topo.ipv6 ? NETNS_CLIENT_IP6 : "none", topo.ipv6 ? NETNS_SERVER_IP6 : "none",
		       topo.ifname[NETNS_IF_CLIENT], topo.ifname[NETNS_IF_BORDER_C],
		       delay_line ? addr_str(&rc->forward, fb) : "none");
		fflush(stdout);
	}
	if (netns_enter(fd, &old) < 0) {
		fprintf(stderr, "antidote inject: cannot enter %s: %s\n", name, strerror(errno));
		goto out;
	}
	if (netns_check_border(name, iface, ifname, ifname2, err, sizeof(err)) < 0) {
		fprintf(stderr, "antidote inject: %s\n", err);
		status = 2;
		goto out;
	}
	bc->ifname = ifname;
	bc->ifname2 = ifname2[0] ? ifname2 : NULL;
	bc->ready = border_ready;
	bc->ready_arg = bc;
	struct border_stats st;
	if (border_run(bc, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "antidote inject: %s\n", err);
		goto out;
	}
	fprintf(stderr,
		"antidote inject: %llu packets, %llu queries (%llu over TCP), %llu forged, %llu resets, "
		"%llu send errors, %llu ignored (not documentation addresses)\n",
		(unsigned long long)st.packets, (unsigned long long)st.queries, (unsigned long long)st.tcp_queries,
		(unsigned long long)st.forged, (unsigned long long)st.rsts, (unsigned long long)st.send_errors,
		(unsigned long long)st.foreign);
	status = 0;
out:
	if (old >= 0 && netns_return(old) < 0)
		fprintf(stderr, "antidote inject: cannot return to the first namespace\n");
	if (dl > 0) {
		kill(dl, SIGTERM);
		waitpid(dl, NULL, 0);
	}
	if (fd >= 0 && fd != topo.fd[NETNS_BORDER])
		close(fd);
	netns_destroy(&topo);
	return status;
}

/* --netns=antidote-PID-client|server with --listen/--forward: the relay
 * inside that namespace. Returns the exit status. */
static int join_relay(const char *name, struct relay_config *rc)
{
	char err[1024];
	int fd = netns_open(name);
	if (fd < 0) {
		fprintf(stderr, "antidote inject: no namespace %s\n", name);
		return 2;
	}
	int rcode = netns_enter(fd, NULL);
	close(fd);
	enum netns_role role;
	if (rcode < 0) {
		fprintf(stderr, "antidote inject: cannot enter %s: %s\n", name, strerror(errno));
		return 1;
	}
	if (netns_check_joined(name, &role, err, sizeof(err)) < 0) {
		fprintf(stderr, "antidote inject: %s\n", err);
		return 2;
	}
	rc->netns_ok = true;
	struct relay_stats st;
	if (relay_run(rc, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "antidote inject: %s\n", err);
		return strstr(err, "refusing") ? 2 : 1;
	}
	fprintf(stderr, "antidote inject: %llu queries, %llu replies, %llu forged, %llu lost\n",
		(unsigned long long)st.queries, (unsigned long long)st.replies, (unsigned long long)st.forged,
		(unsigned long long)st.lost);
	return 0;
}

static int load_rules(struct rules *r, int kind, const char *path)
{
	char err[512];
	int rc;
	struct gfwlist_stats st;
	switch (kind) {
	case O_RULES: rc = rules_load_file(r, path, err, sizeof(err)); break;
	case O_DOMAINS: rc = rules_load_domains(r, path, err, sizeof(err)); break;
	case O_DNSMASQ: rc = rules_load_dnsmasq(r, path, err, sizeof(err)); break;
	default:
		rc = gfwlist_load(r, path, &st, err, sizeof(err));
		if (rc >= 0)
			fprintf(stderr, "antidote inject: %s: %d rules, %d exceptions (skipped: %d regex, %d path)\n",
				path, st.rules, st.exceptions, st.regex, st.path);
	}
	if (rc < 0) {
		fprintf(stderr, "antidote inject: %s\n", err);
		return -1;
	}
	return 0;
}

static int explain(struct inj_engine *e, const char *hex, long udp_len, bool digest, long at)
{
	uint8_t q[4096];
	int n = unhex(hex, q, sizeof(q));
	if (n < 0) {
		fprintf(stderr, "antidote inject: --explain wants an even number of hex digits\n");
		return 2;
	}
	struct qmem m;
	qmem_init(&m, q, (size_t)n);
	if (udp_len >= 0)
		m.udp_len = (size_t)udp_len;
	m.model.digest = digest;
	struct inj_forged out[INJ_MAX_FORGED];
	int k = inj_engine_process(e, &m, at, out, INJ_MAX_FORGED, NULL);
	for (int i = 0; i < k; i++) {
		for (size_t j = 0; j < out[i].len; j++)
			printf("%02x", out[i].pkt[j]);
		printf("\n");
	}
	return 0;
}

int cmd_inject(int argc, char **argv)
{
	static const struct option opts[] = {
		{"explain", required_argument, 0, O_EXPLAIN}, {"udp-len", required_argument, 0, O_UDPLEN},
		{"digest", no_argument, 0, O_DIGEST}, {"at", required_argument, 0, O_AT},
		{"profile", required_argument, 0, O_PROFILE}, {"rules", required_argument, 0, O_RULES},
		{"gfwlist", required_argument, 0, O_GFWLIST}, {"domains", required_argument, 0, O_DOMAINS},
		{"dnsmasq", required_argument, 0, O_DNSMASQ}, {"pool-a", required_argument, 0, O_POOLA},
		{"pool-aaaa", required_argument, 0, O_POOLAAAA}, {"regime", required_argument, 0, O_REGIME},
		{"jan21-start", required_argument, 0, O_J21START},
		{"jan21-duration", required_argument, 0, O_J21LEN},
		{"jan21-ttl", required_argument, 0, O_J21TTL}, {"seed", required_argument, 0, O_SEED},
		{"listen", required_argument, 0, O_LISTEN}, {"forward", required_argument, 0, O_FORWARD},
		{"delay", required_argument, 0, O_DELAY}, {"jitter", required_argument, 0, O_JITTER},
		{"loss", required_argument, 0, O_LOSS}, {"log", required_argument, 0, O_LOG},
		{"slots", required_argument, 0, O_SLOTS}, {"max-clients", required_argument, 0, O_MAXCL},
		{"idle-ms", required_argument, 0, O_IDLE}, {"upstream", required_argument, 0, O_UPSTREAM},
		{"up-sockets", required_argument, 0, O_UPSOCK}, {"epoch-ms", required_argument, 0, O_EPOCH},
		{"no-gso", no_argument, 0, O_NOGSO}, {"threads", required_argument, 0, O_THREADS},
		{"netns", optional_argument, 0, O_NETNS}, {"iface", required_argument, 0, O_IFACE},
		{"tune", required_argument, 0, O_TUNE},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	struct inj_config cfg;
	struct relay_config rc;
	inj_config_default(&cfg);
	relay_config_default(&rc);
	const char *hex = NULL, *listen = NULL, *forward = NULL, *logpath = NULL, *netns_name = NULL, *iface = NULL;
	bool netns = false;
	static const char *tunes[64];
	long udp_len = -1, at = 0, v;
	bool digest = false;
	struct rules *rules = NULL;
	int status = 2, c;
	char err[512];
	struct inj_engine *e = NULL;
	struct inj_engine *engines[RELAY_MAX_THREADS] = {NULL};
	unsigned nengines = 0;
	FILE *logf = NULL;

	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			status = 0;
			goto out;
		case O_EXPLAIN: hex = optarg; break;
		case O_UDPLEN:
			if (num(optarg, 0, 65535, &udp_len))
				goto bad;
			break;
		case O_DIGEST: digest = true; break;
		case O_AT:
			if (num(optarg, 0, 1L << 40, &at))
				goto bad;
			break;
		case O_PROFILE: cfg.profile = optarg; break;
		case O_RULES: case O_GFWLIST: case O_DOMAINS: case O_DNSMASQ:
			if (!rules && !(rules = rules_new()))
				goto out;
			if (load_rules(rules, c, optarg)) {
				status = 1;
				goto out;
			}
			break;
		case O_POOLA: cfg.pool_a_path = optarg; break;
		case O_POOLAAAA: cfg.pool_aaaa_path = optarg; break;
		case O_REGIME:
			if (qname_regime_parse(optarg, &cfg.popts.regime))
				goto bad;
			cfg.popts.regime_set = true;
			break;
		case O_J21START:
			if (num(optarg, 0, 1L << 40, &v))
				goto bad;
			cfg.popts.jan21_start_ms = v;
			break;
		case O_J21LEN:
			if (num(optarg, 0, 1L << 40, &v))
				goto bad;
			cfg.popts.jan21_len_ms = v;
			break;
		case O_J21TTL:
			if (num(optarg, 0, 0x7fffffff, &v))
				goto bad;
			cfg.popts.jan21_ttl = (uint32_t)v;
			break;
		case O_SEED:
			if (num(optarg, 0, 0x7fffffffL, &v))
				goto bad;
			cfg.seed = rc.seed = (uint64_t)v;
			break;
		case O_LISTEN: listen = optarg; break;
		case O_FORWARD: forward = optarg; break;
		case O_DELAY:
			if (num(optarg, 0, RELAY_MAX_DELAY_MS, &v))
				goto bad;
			rc.delay_ms = (int)v;
			break;
		case O_JITTER:
			if (num(optarg, 0, RELAY_MAX_DELAY_MS, &v))
				goto bad;
			rc.jitter_ms = (int)v;
			break;
		case O_LOSS: {
			char *end;
			rc.loss_pct = strtod(optarg, &end);
			if (end == optarg || *end || rc.loss_pct < 0 || rc.loss_pct > 100)
				goto bad;
			break;
		}
		case O_LOG: logpath = optarg; break;
		case O_SLOTS:
			if (num(optarg, 64, 1 << 22, &v))
				goto bad;
			rc.slots = (unsigned)v;
			break;
		case O_MAXCL:
			if (num(optarg, 1, 1 << 24, &v))
				goto bad;
			rc.max_clients = (unsigned)v;
			break;
		case O_IDLE:
			if (num(optarg, 1, 3600000, &v))
				goto bad;
			rc.idle_ms = (unsigned)v;
			break;
		case O_UPSTREAM:
			if (relay_upstream_parse(optarg, &rc.upstream))
				goto bad;
			break;
		case O_NOGSO:
			rc.no_gso = true;
			break;
		case O_THREADS:
			if (num(optarg, 1, RELAY_MAX_THREADS, &v))
				goto bad;
			rc.threads = (unsigned)v;
			break;
		case O_UPSOCK:
			if (num(optarg, 1, RELAY_MAX_UP_SOCKETS, &v))
				goto bad;
			rc.up_sockets = (unsigned)v;
			break;
		case O_NETNS:
			netns = true;
			netns_name = optarg;
			break;
		case O_IFACE: iface = optarg; break;
		case O_TUNE:
			if (cfg.ntune == (int)(sizeof(tunes) / sizeof(tunes[0]))) {
				fprintf(stderr, "antidote inject: at most %d --tune options\n", cfg.ntune);
				goto out;
			}
			tunes[cfg.ntune++] = optarg;
			cfg.tune = tunes;
			break;
		case O_EPOCH: {
			char *end;
			errno = 0;
			long long t = strtoll(optarg, &end, 10);
			if (errno || end == optarg || *end || t <= 0)
				goto bad;
			rc.epoch_real_ms = t;
			break;
		}
		default:
			usage(stderr);
			goto out;
		}
	}
	enum netns_role role = NETNS_BORDER;
	if (netns && netns_name && netns_parse_name(netns_name, NULL, &role) < 0) {
		fprintf(stderr, "antidote inject: refusing namespace '%s': only namespaces antidote created "
				"(" NETNS_PREFIX "<pid>-client|border|server) are used\n", netns_name);
		goto out;
	}
	/* --netns: no --listen, --forward only for the delay line;
	 * --netns=..-border: neither; --netns=..-client|server: both */
	bool need_pair = !hex && (!netns || (netns_name && role != NETNS_BORDER));
	bool bad_use = optind < argc || (hex && (listen || forward || netns)) ||
		       (need_pair && (!listen || !forward)) ||
		       (netns && !netns_name && listen) || (netns && netns_name && role == NETNS_BORDER && (listen || forward));
	if (bad_use) {
		fprintf(stderr, "antidote inject: give --explain HEX; --listen and --forward; --netns [--forward "
				"127.0.0.1:P --delay MS]; --netns=antidote-PID-border; or --netns=antidote-PID-client|server "
				"with --listen and --forward\n");
		usage(stderr);
		goto out;
	}
	if (netns && geteuid() != 0) {
		fprintf(stderr, "antidote inject: --netns needs root (network namespaces, raw sockets)\n");
		status = 1;
		goto out;
	}
	if ((listen && addr_parse(&rc.listen, listen, 53, err, sizeof(err))) ||
	    (forward && addr_parse(&rc.forward, forward, 53, err, sizeof(err)))) {
		fprintf(stderr, "antidote inject: %s\n", err);
		goto out;
	}
	/* inside antidote's client/server namespaces the documentation ranges
	 * are allowed too (checked again, with the namespace, by the relay) */
	bool in_ns = netns && netns_name && role != NETNS_BORDER;
	const char *badaddr = NULL;
	if (listen && !relay_addr_allowed(&rc.listen) && !(in_ns && relay_addr_netns(&rc.listen)))
		badaddr = listen;
	else if (forward && !relay_addr_allowed(&rc.forward) && !(in_ns && relay_addr_netns(&rc.forward)))
		badaddr = forward;
	if (badaddr) {
		fprintf(stderr, "antidote inject: refusing %s: the relay only uses 127.0.0.0/8 and ::1%s\n", badaddr,
			in_ns ? " (and the documentation addresses of antidote's namespaces)" : "");
		goto out;
	}
	if (rules && rules_build(rules)) {
		fprintf(stderr, "antidote inject: out of memory\n");
		status = 1;
		goto out;
	}
	cfg.rules = rules;
	e = inj_engine_new(&cfg, err, sizeof(err));
	if (!e) {
		fprintf(stderr, "antidote inject: %s\n", err);
		status = strstr(err, "profile") || !strncmp(err, "--tune", 6) ? 2 : 1;
		goto out;
	}
	if (hex) {
		status = explain(e, hex, udp_len, digest, at);
		goto out;
	}
	if (logpath && !(logf = fopen(logpath, "a"))) {
		fprintf(stderr, "antidote inject: %s: %s\n", logpath, strerror(errno));
		status = 1;
		goto out;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (netns) {
		struct border_config bc = {.engine = e, .log = logf, .epoch_real_ms = rc.epoch_real_ms,
					   .stop = &stop_flag};
		if (netns_name && role != NETNS_BORDER) {
			rc.engine = inj_engine_profile(e)->n ? e : NULL;
			rc.log = logf;
			rc.stop = &stop_flag;
			status = join_relay(netns_name, &rc);
		} else {
			status = run_netns(netns_name, iface, &bc, &rc, forward != NULL);
		}
		goto out;
	}
	rc.engine = inj_engine_profile(e)->n ? e : NULL;
	rc.log = logf;
	rc.stop = &stop_flag;
	if (rc.threads > 1 && rc.engine) {
		/* one engine per relay thread: own pool positions and draws */
		engines[0] = e;
		for (unsigned i = 1; i < rc.threads; i++) {
			cfg.seed += 1;
			if (!(engines[i] = inj_engine_new(&cfg, err, sizeof(err)))) {
				fprintf(stderr, "antidote inject: %s\n", err);
				status = 1;
				goto out;
			}
			nengines = i + 1;
		}
		rc.engines = engines;
	}
	struct relay_stats st;
	if (relay_run(&rc, &st, err, sizeof(err))) {
		fprintf(stderr, "antidote inject: %s\n", err);
		status = 1;
		goto out;
	}
	fprintf(stderr,
		"antidote inject: %llu queries, %llu forwarded, %llu replies, %llu forged, %llu lost, "
		"%llu dropped (no slot), %llu dropped (too many clients), %llu clients expired (peak %llu), "
		"%llu unmatched replies, %llu dropped (no free ID), %llu send messages\n",
		(unsigned long long)st.queries, (unsigned long long)st.forwarded, (unsigned long long)st.replies,
		(unsigned long long)st.forged, (unsigned long long)st.lost, (unsigned long long)st.no_slot,
		(unsigned long long)st.no_client, (unsigned long long)st.expired,
		(unsigned long long)st.peak_clients, (unsigned long long)st.unmatched, (unsigned long long)st.no_id,
		(unsigned long long)st.tx_msgs);
	status = 0;
	goto out;
bad:
	fprintf(stderr, "antidote inject: bad value '%s' for %s\n", optarg, argv[optind - 1]);
out:
	if (logf)
		fclose(logf);
	for (unsigned i = 1; i < nengines; i++)
		inj_engine_free(engines[i]);
	inj_engine_free(e);
	rules_free(rules);
	return status;
}
