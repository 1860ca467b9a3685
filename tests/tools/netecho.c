/* netecho — an echo server on the net/server core (sets QR, no DNS work).
 *
 * usage: netecho [-t THREADS] [-i IDLE_MS] [-c MAX_CLIENTS] [-P] [-E] [-u|-T] ADDR...
 *
 * Serves UDP and TCP on every ADDR ("127.0.0.1:5300", "[::1]:5300"; port 0
 * picks a free port) and answers each message with itself, byte 2 |= 0x80.
 * Prints "listening ADDR" per bound address on stdout (so scripts can read
 * a port-0 choice), reloads (prints "reload") on SIGHUP, stops on SIGTERM or
 * SIGINT and then prints the server's counters. -E reads UDP through the
 * event threads' epoll (SERVER_UDP_EPOLL) instead of blocking UDP threads.
 * Exit 0 on a clean stop, 1 on errors, 2 on usage. Measures the core's cost
 * next to bench/echo.c. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/addr.h"
#include "net/server.h"

static atomic_int reloads;

static int echo(void *ctx, server_query *q)
{
	(void)ctx;
	if (q->req_len < 3)
		return SERVER_DROP;
	memcpy(q->resp, q->req, q->req_len);
	q->resp[2] |= 0x80;
	return (int)q->req_len;
}

static void on_reload(void *app)
{
	(void)app;
	atomic_fetch_add(&reloads, 1);
	printf("reload\n");
	fflush(stdout);
}

static int usage(void)
{
	fprintf(stderr, "usage: netecho [-t THREADS] [-i IDLE_MS] [-c MAX_CLIENTS] [-P] [-E] [-u|-T] ADDR...\n");
	return 2;
}

int main(int argc, char **argv)
{
	server_config cfg = { .handler = echo, .reload = on_reload, .handle_signals = true };
	int opt;
	while ((opt = getopt(argc, argv, "t:i:c:PEuT")) != -1) {
		switch (opt) {
		case 't': cfg.threads = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'i': cfg.tcp_idle_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': cfg.tcp_max_clients = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': cfg.cpu_pin = true; break;
		case 'E': cfg.udp_mode = SERVER_UDP_EPOLL; break;
		case 'u': cfg.no_tcp = true; break;
		case 'T': cfg.no_udp = true; break;
		default: return usage();
		}
	}
	if (optind >= argc)
		return usage();
	size_t n = (size_t)(argc - optind);
	net_addr *addrs = calloc(n, sizeof(*addrs));
	if (!addrs)
		return 1;
	for (size_t i = 0; i < n; i++) {
		char err[200];
		if (addr_parse(&addrs[i], argv[optind + (int)i], 53, err, sizeof(err)) < 0) {
			fprintf(stderr, "netecho: %s\n", err);
			return 2;
		}
	}
	cfg.listen = addrs;
	cfg.nlisten = n;
	server *s = server_new(&cfg);
	if (!s)
		return 1;
	if (server_bind(s) < 0) {
		fprintf(stderr, "netecho: %s\n", server_error(s));
		server_free(s);
		free(addrs);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		char as[ADDR_STRLEN];
		printf("listening %s\n", addr_str(server_bound_addr(s, i), as));
	}
	printf("threads %u\n", server_threads(s));
	fflush(stdout);
	int rc = server_run(s);
	if (rc < 0)
		fprintf(stderr, "netecho: %s\n", server_error(s));
	server_stats st;
	server_read_stats(s, &st);
	printf("queries %llu udp %llu tcp %llu responses %llu dropped %llu send_errors %llu "
	       "tcp_accepted %llu tcp_idle_closed %llu tcp_evicted %llu reloads %d\n",
	       (unsigned long long)st.queries, (unsigned long long)st.udp_queries,
	       (unsigned long long)st.tcp_queries, (unsigned long long)st.responses,
	       (unsigned long long)st.dropped, (unsigned long long)st.send_errors,
	       (unsigned long long)st.tcp_accepted, (unsigned long long)st.tcp_idle_closed,
	       (unsigned long long)st.tcp_evicted, atomic_load(&reloads));
	server_free(s);
	free(addrs);
	return rc < 0 ? 1 : 0;
}
