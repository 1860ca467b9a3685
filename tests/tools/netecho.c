/* netecho — an echo server on the net/server core (sets QR, no DNS work).
 *
 * usage: netecho [-t THREADS] [-i IDLE_MS] [-c MAX_CLIENTS] [-P] [-E] [-d MS] [-u|-T] ADDR...
 *
 * Serves UDP and TCP on every ADDR ("127.0.0.1:5300", "[::1]:5300"; port 0
 * picks a free port) and answers each message with itself, byte 2 |= 0x80.
 * Prints "listening ADDR" per bound address on stdout (so scripts can read
 * a port-0 choice), reloads (prints "reload") on SIGHUP, stops on SIGTERM or
 * SIGINT and then prints the server's counters. -E reads UDP through the
 * event threads' epoll (SERVER_UDP_EPOLL) instead of blocking UDP threads.
 * -d MS defers every answer: the handler takes a token (SERVER_DEFER), hands
 * the echo to its worker's event thread (server_post, unless it runs there)
 * which arms an MS-millisecond timer (0 is fine) whose callback sends it
 * with server_reply; answers still pending at stop are freed in worker_stop.
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
static long defer_ms = -1; /* -1: answer at once */

/* A deferred echo, on its worker's list until sent (event thread only). */
typedef struct late {
	server_token tok;
	server_timer timer;
	struct late *prev, *next;
	size_t len;
	uint8_t msg[];
} late;

static late **pending; /* per worker */

static void late_unlink(unsigned worker, late *l)
{
	if (l->prev)
		l->prev->next = l->next;
	else
		pending[worker] = l->next;
	if (l->next)
		l->next->prev = l->prev;
}

static void late_fire(server *s, unsigned worker, server_timer *t, void *arg)
{
	(void)t;
	late *l = arg;
	late_unlink(worker, l);
	server_reply(s, &l->tok, l->msg, l->len);
	free(l);
}

static void late_arm(server *s, unsigned worker, void *arg)
{
	late *l = arg;
	if (server_stopping(s)) {
		free(l);
		return;
	}
	l->prev = NULL;
	l->next = pending[worker];
	if (l->next)
		l->next->prev = l;
	pending[worker] = l;
	if (server_timer_add(s, worker, &l->timer, (uint64_t)defer_ms, late_fire, l) < 0) {
		late_unlink(worker, l);
		free(l);
	}
}

static void worker_stop(void *app, server *s, unsigned worker, void *ctx)
{
	(void)app;
	(void)ctx;
	while (pending[worker]) {
		late *l = pending[worker];
		late_unlink(worker, l);
		server_timer_cancel(s, &l->timer);
		free(l);
	}
}

static int defer(server_query *q)
{
	late *l = calloc(1, sizeof(*l) + q->req_len);
	if (!l || server_defer(q, &l->tok) < 0) {
		free(l);
		return SERVER_DROP;
	}
	memcpy(l->msg, q->req, q->req_len);
	l->msg[2] |= 0x80;
	l->len = q->req_len;
	if (server_event_worker(q->srv) == (int)q->worker)
		late_arm(q->srv, q->worker, l);
	else if (server_post(q->srv, q->worker, late_arm, l) < 0)
		free(l); /* queue full: no answer */
	return SERVER_DEFER;
}

static int echo(void *ctx, server_query *q)
{
	(void)ctx;
	if (q->req_len < 3)
		return SERVER_DROP;
	if (defer_ms >= 0)
		return defer(q);
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
	fprintf(stderr, "usage: netecho [-t THREADS] [-i IDLE_MS] [-c MAX_CLIENTS] [-P] [-E] [-d MS] [-u|-T] ADDR...\n");
	return 2;
}

int main(int argc, char **argv)
{
	server_config cfg = { .handler = echo, .reload = on_reload, .worker_stop = worker_stop,
			      .handle_signals = true };
	int opt;
	while ((opt = getopt(argc, argv, "t:i:c:PEd:uT")) != -1) {
		switch (opt) {
		case 't': cfg.threads = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'i': cfg.tcp_idle_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': cfg.tcp_max_clients = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': cfg.cpu_pin = true; break;
		case 'E': cfg.udp_mode = SERVER_UDP_EPOLL; break;
		case 'd': defer_ms = strtol(optarg, NULL, 10); break;
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
	pending = calloc(server_threads(s), sizeof(*pending));
	if (!pending)
		return 1;
	printf("threads %u\n", server_threads(s));
	fflush(stdout);
	int rc = server_run(s);
	if (rc < 0)
		fprintf(stderr, "netecho: %s\n", server_error(s));
	server_stats st;
	server_read_stats(s, &st);
	printf("queries %llu udp %llu tcp %llu responses %llu dropped %llu send_errors %llu "
	       "tcp_accepted %llu tcp_idle_closed %llu tcp_evicted %llu deferred %llu "
	       "late_replies %llu late_dropped %llu posts %llu post_full %llu reloads %d\n",
	       (unsigned long long)st.queries, (unsigned long long)st.udp_queries,
	       (unsigned long long)st.tcp_queries, (unsigned long long)st.responses,
	       (unsigned long long)st.dropped, (unsigned long long)st.send_errors,
	       (unsigned long long)st.tcp_accepted, (unsigned long long)st.tcp_idle_closed,
	       (unsigned long long)st.tcp_evicted, (unsigned long long)st.deferred,
	       (unsigned long long)st.late_replies, (unsigned long long)st.late_dropped,
	       (unsigned long long)st.posts, (unsigned long long)st.post_full, atomic_load(&reloads));
	server_free(s);
	free(pending);
	free(addrs);
	return rc < 0 ? 1 : 0;
}
