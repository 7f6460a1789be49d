/* mcs-cap-client: the chat clients of the capacity benchmark. Holds N TLS connections to
 * 127.0.0.1:PORT, each from a source address 127.0.0.X spread over a range (so per-address limits
 * see few clients each), non-blocking OpenSSL over one epoll loop. A client is "greeted" once the
 * node's "HELLO " line arrived through TLS. Commands on stdin, one answer line on stdout each:
 *   (start)  connect every client, at most --inflight handshakes at a time, retrying failures
 *            -> "held=H failed=F secs=S"
 *   echo     every held client sends "ping\n" once and waits for it back  -> "echoed=E secs=S"
 *   storm    arm: from now on a client whose connection is cut reconnects at once (a failed
 *            attempt is retried after 20-200 ms), as chat clients do        -> "armed"
 *            then, once every cut client is greeted again (or --timeout)
 *            -> "storm greeted=G failed=F failed_clients=C cut0=T cut1=T greet1=T" (epoch seconds)
 *   quit     reset every connection and exit
 * --once: connect all at once, never retry (a burst from few addresses: who gets in).
 *   mcs-cap-client --port P --conns N --src-first X --src-count K [--inflight M] [--once]
 *                  [--timeout S] */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum cl_state { CL_WAIT, CL_CONNECT, CL_HANDSHAKE, CL_GREET, CL_HELD, CL_ECHO };

struct cl {
	int fd;
	enum cl_state st;
	int storm_failed; /* failed at least once during the storm */
	int cut;          /* cut during the storm, not greeted again yet */
	double retry_at;  /* CL_WAIT: when to connect again */
	SSL *ssl;
	size_t got; /* bytes of the line read so far */
	char line[64];
};

static struct {
	int port, conns, src_first, src_count, inflight, once;
	double timeout;
} cfg = {.inflight = 100, .timeout = 60};

static SSL_CTX *ctx;
static int ep;
static struct cl *cls;
static int active;            /* connecting or handshaking now */
static int storm, storm_done; /* storm armed / reported */
static long echoed, failed, storm_fail, storm_greeted, storm_cut;
static double cut0, cut1, greet1;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void watch(struct cl *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Closes c's connection; rst: with a reset, so no TIME_WAIT is left behind. */
static void drop(struct cl *c, int rst)
{
	struct linger lg = {1, 0};

	if (c->fd == -1)
		return;
	if (rst)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (c->st == CL_CONNECT || c->st == CL_HANDSHAKE || c->st == CL_GREET)
		active--;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	SSL_free(c->ssl);
	c->ssl = NULL;
	c->fd = -1;
}

static void fail(struct cl *c)
{
	drop(c, 1);
	failed++;
	if (storm && c->cut) {
		storm_fail++;
		c->storm_failed = 1;
	}
	c->st = CL_WAIT;
	c->retry_at = cfg.once ? 1e18 : now() + (storm ? 0.02 + (rand() % 180) / 1000.0 : 0.1);
}

static void start(struct cl *c)
{
	int idx = (int)(c - cls), one = 1;
	struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};

	src.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)(cfg.src_first + idx % cfg.src_count));
	dst.sin_addr.s_addr = htonl(0x7f000001u);
	dst.sin_port = htons((uint16_t)cfg.port);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	c->got = 0;
	c->st = CL_CONNECT;
	active++;
	if (c->fd == -1) {
		active--;
		return fail(c);
	}
	setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) == -1 ||
	    (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) == -1 && errno != EINPROGRESS) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		return fail(c);
}

/* Waits for what OpenSSL asked for, or fails c. */
static void want(struct cl *c, int r)
{
	int e = SSL_get_error(c->ssl, r);

	if (e == SSL_ERROR_WANT_READ)
		return watch(c, EPOLLIN);
	if (e == SSL_ERROR_WANT_WRITE)
		return watch(c, EPOLLOUT);
	ERR_clear_error();
	fail(c);
}

/* Reads into c->line until a newline; 1: the line is complete, 0: waiting, -1: failed. */
static int read_line(struct cl *c)
{
	while (c->got < sizeof(c->line) - 1) {
		int r = SSL_read(c->ssl, c->line + c->got, (int)(sizeof(c->line) - 1 - c->got));

		if (r <= 0)
			return want(c, r), c->fd == -1 ? -1 : 0;
		c->got += (size_t)r;
		c->line[c->got] = 0;
		if (strchr(c->line, '\n'))
			return 1;
	}
	return fail(c), -1;
}

static void greeted(struct cl *c)
{
	active--;
	c->st = CL_HELD;
	watch(c, EPOLLIN);
	if (storm && c->cut) {
		c->cut = 0;
		storm_greeted++;
		greet1 = now();
	}
}

/* A held connection turned readable: in a storm that is its cut (EOF or reset). */
static void held_event(struct cl *c)
{
	char b[64];
	int r = SSL_read(c->ssl, b, sizeof(b));

	if (r > 0 || SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ)
		return;
	ERR_clear_error();
	if (storm) {
		double t = now();

		if (!cut0)
			cut0 = t;
		cut1 = t;
		c->cut = 1;
		storm_cut++;
		drop(c, 0);
		return start(c);
	}
	fail(c);
}

static void run(struct cl *c)
{
	int r, err = 0;
	socklen_t sl = sizeof(err);

	switch (c->st) {
	case CL_CONNECT:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 || err)
			return fail(c);
		c->ssl = SSL_new(ctx);
		SSL_set_fd(c->ssl, c->fd);
		SSL_set_connect_state(c->ssl);
		c->st = CL_HANDSHAKE;
		/* fall through */
	case CL_HANDSHAKE:
		r = SSL_do_handshake(c->ssl);
		if (r != 1)
			return want(c, r);
		c->st = CL_GREET;
		/* fall through */
	case CL_GREET:
		r = read_line(c);
		if (r == 1) {
			if (strncmp(c->line, "HELLO ", 6))
				return fail(c);
			greeted(c);
		}
		return;
	case CL_ECHO:
		r = read_line(c);
		if (r == 1 && strcmp(c->line, "ping\n"))
			return fail(c);
		if (r == 1) {
			c->st = CL_HELD;
			echoed++;
		}
		return;
	case CL_HELD:
		return held_event(c);
	case CL_WAIT:
		return;
	}
}

static int count(enum cl_state st)
{
	int n = 0;

	for (int i = 0; i < cfg.conns; i++)
		n += cls[i].st == st;
	return n;
}

/* Runs the loop until done() or the deadline; also reads stdin when cmd is non-NULL. */
static void loop(int (*done)(void), double limit, char *cmd, size_t cmdlen)
{
	struct epoll_event evs[512];
	double deadline = now() + limit;

	while (!done() && now() < deadline) {
		double t = now();
		int n;

		for (int i = 0; i < cfg.conns; i++) {
			struct cl *c = &cls[i];

			if (c->st == CL_WAIT && c->retry_at <= t && (storm || active < cfg.inflight))
				start(c);
		}
		n = epoll_wait(ep, evs, 512, 5);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL) {
				ssize_t r = read(0, cmd, cmdlen - 1);

				cmd[r > 0 ? r : 0] = 0;
				if (r <= 0)
					strcpy(cmd, "quit\n");
				return;
			}
			run(evs[i].data.ptr);
		}
	}
}

static int all_held(void) { return count(CL_HELD) == cfg.conns; }
static int no_echo(void) { return count(CL_ECHO) == 0; }
static int storm_over(void) { return storm_done || (storm_cut > 0 && storm_greeted == cfg.conns); }
static int never(void) { return 0; }

static void opts(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";

		if (!strcmp(a, "--once")) {
			cfg.once = 1;
			continue;
		}
		i++;
		if (!strcmp(a, "--port"))
			cfg.port = atoi(v);
		else if (!strcmp(a, "--conns"))
			cfg.conns = atoi(v);
		else if (!strcmp(a, "--src-first"))
			cfg.src_first = atoi(v);
		else if (!strcmp(a, "--src-count"))
			cfg.src_count = atoi(v);
		else if (!strcmp(a, "--inflight"))
			cfg.inflight = atoi(v);
		else if (!strcmp(a, "--timeout"))
			cfg.timeout = atof(v);
	}
	if (cfg.port <= 0 || cfg.conns <= 0 || cfg.src_first < 1 || cfg.src_count < 1 ||
	    cfg.src_first + cfg.src_count > 255 || cfg.inflight < 1) {
		fprintf(stderr, "usage: mcs-cap-client --port P --conns N --src-first X --src-count K "
				"[--inflight M] [--once] [--timeout S]\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	struct rlimit rl;
	char cmd[256] = "";
	double t0;

	opts(argc, argv);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	srand((unsigned)getpid());
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* every handshake is a full one */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	ep = epoll_create1(EPOLL_CLOEXEC);
	cls = calloc((size_t)cfg.conns, sizeof(*cls));
	if (ctx == NULL || ep == -1 || cls == NULL || epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) == -1)
		return perror("mcs-cap-client"), 1;
	for (int i = 0; i < cfg.conns; i++)
		cls[i] = (struct cl){.fd = -1, .st = CL_WAIT};
	if (cfg.once)
		cfg.inflight = cfg.conns;
	t0 = now();
	/* stdin is only read once the fill is over (loop returns on a command) */
	epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
	loop(all_held, cfg.timeout, cmd, sizeof(cmd));
	epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
	printf("held=%d failed=%ld secs=%.3f\n", count(CL_HELD), failed, now() - t0);
	for (;;) {
		cmd[0] = 0;
		loop(never, 1e9, cmd, sizeof(cmd));
		if (!strncmp(cmd, "echo", 4)) {
			t0 = now();
			echoed = 0;
			for (int i = 0; i < cfg.conns; i++) {
				struct cl *c = &cls[i];

				if (c->st == CL_HELD && SSL_write(c->ssl, "ping\n", 5) == 5) {
					c->st = CL_ECHO;
					c->got = 0;
				}
			}
			epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
			loop(no_echo, cfg.timeout, cmd, sizeof(cmd));
			epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
			printf("echoed=%ld secs=%.3f\n", echoed, now() - t0);
		} else if (!strncmp(cmd, "storm", 5)) {
			storm = 1;
			printf("armed\n");
			epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
			loop(storm_over, cfg.timeout, cmd, sizeof(cmd));
			epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
			long fc = 0;
			for (int i = 0; i < cfg.conns; i++)
				fc += cls[i].storm_failed;
			printf("storm greeted=%ld cut=%ld failed=%ld failed_clients=%ld cut0=%.6f cut1=%.6f greet1=%.6f\n",
			       storm_greeted, storm_cut, storm_fail, fc, cut0, cut1, greet1);
			storm = 0;
			storm_done = 1;
		} else {
			break;
		}
	}
	for (int i = 0; i < cfg.conns; i++)
		drop(&cls[i], 1);
	return 0;
}
