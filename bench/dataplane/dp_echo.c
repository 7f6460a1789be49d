/* mcs-dp-echo: the lean echo node of the data-plane benchmark. Plain TCP (the chat-node stand-in
 * behind the proxies) or TLS-terminating (the no-proxy baseline), epoll, one event loop per
 * thread, every thread listening on every port with SO_REUSEPORT. Loopback only.
 *   mcs-dp-echo --port-file FILE [--ports N] [--threads N] [--tls PEM] [--no-tickets]
 * FILE receives "ports=P1,P2,..." once every listener is bound (written then renamed). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define ECHO_MAX_PORTS 16
#define ECHO_BUF 65536

struct echo_conn {
	int fd;
	SSL *ssl;       /* NULL in plain mode */
	int handshaken; /* TLS: SSL_accept done */
	size_t len;     /* bytes in buf still to write back */
	size_t off;     /* bytes of them already written */
	unsigned char buf[ECHO_BUF];
};

struct echo_thread {
	pthread_t tid;
	int nports;
	int lfd[ECHO_MAX_PORTS];
	int ep;
};

static SSL_CTX *echo_ctx; /* NULL in plain mode */

/* Binds a non-blocking SO_REUSEPORT listener on 127.0.0.1:port (0: any free port). Returns the
 * descriptor, or -1 with a message on stderr. */
static int echo_listen(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return perror("mcs-dp-echo: socket"), -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 || listen(fd, 4096) == -1) {
		perror("mcs-dp-echo: bind/listen");
		close(fd);
		return -1;
	}
	return fd;
}

static int echo_port_of(int fd)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &sl) == -1)
		return -1;
	return ntohs(sa.sin_port);
}

static void echo_close(int ep, struct echo_conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	SSL_free(c->ssl);
	free(c);
}

static void echo_want(int ep, struct echo_conn *c, uint32_t ev)
{
	struct epoll_event e = {.events = ev, .data.ptr = c};

	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

/* The outcome of one TLS or plain I/O call: >0 bytes, 0 would block (*ev set), -1 closed. */
static int echo_io(struct echo_conn *c, int writing, void *p, size_t n, uint32_t *ev)
{
	int r;

	if (!c->ssl) {
		ssize_t k = writing ? write(c->fd, p, n) : read(c->fd, p, n);
		if (k > 0)
			return (int)k;
		if (k == -1 && (errno == EAGAIN || errno == EINTR)) {
			*ev = writing ? EPOLLOUT : EPOLLIN;
			return 0;
		}
		return -1;
	}
	r = writing ? SSL_write(c->ssl, p, (int)n) : SSL_read(c->ssl, p, (int)n);
	if (r > 0)
		return r;
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		*ev = EPOLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*ev = EPOLLOUT;
		return 0;
	default:
		ERR_clear_error();
		return -1;
	}
}

/* Runs a connection as far as it can go without blocking: handshake, write back, read. */
static void echo_step(int ep, struct echo_conn *c)
{
	uint32_t ev = EPOLLIN;
	int r;

	if (c->ssl && !c->handshaken) {
		r = SSL_accept(c->ssl);
		if (r != 1) {
			int e = SSL_get_error(c->ssl, r);
			ERR_clear_error();
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return echo_want(ep, c, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
			return echo_close(ep, c);
		}
		c->handshaken = 1;
	}
	for (;;) {
		while (c->off < c->len) {
			r = echo_io(c, 1, c->buf + c->off, c->len - c->off, &ev);
			if (r == 0)
				return echo_want(ep, c, ev);
			if (r < 0)
				return echo_close(ep, c);
			c->off += (size_t)r;
		}
		c->len = c->off = 0;
		r = echo_io(c, 0, c->buf, sizeof(c->buf), &ev);
		if (r == 0)
			return echo_want(ep, c, ev);
		if (r < 0)
			return echo_close(ep, c);
		c->len = (size_t)r;
	}
}

static void echo_accept(int ep, int lfd)
{
	for (int i = 0; i < 64; i++) {
		int one = 1, fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct echo_conn *c;
		struct epoll_event e = {.events = EPOLLIN};

		if (fd == -1)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->fd = fd;
		if (echo_ctx) {
			c->ssl = SSL_new(echo_ctx);
			if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
				SSL_free(c->ssl);
				free(c);
				close(fd);
				return;
			}
		}
		e.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == -1) {
			SSL_free(c->ssl);
			free(c);
			close(fd);
			return;
		}
		echo_step(ep, c);
	}
}

static void *echo_loop(void *arg)
{
	struct echo_thread *t = arg;
	struct epoll_event evs[256];

	for (;;) {
		int n = epoll_wait(t->ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if ((char *)p >= (char *)t->lfd && (char *)p < (char *)(t->lfd + t->nports))
				echo_accept(t->ep, *(int *)p);
			else
				echo_step(t->ep, p);
		}
	}
	return NULL;
}

static SSL_CTX *echo_ctx_new(const char *pem, int no_tickets)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, pem) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, pem, SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return NULL;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	if (no_tickets) {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(ctx, 0);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	}
	return ctx;
}

static int echo_write_ports(const char *file, const int *ports, int n)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs("ports=", f);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%d", i ? "," : "", ports[i]);
	fputc('\n', f);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, file);
}

int main(int argc, char **argv)
{
	int nports = 1, nthreads = 1, no_tickets = 0, ports[ECHO_MAX_PORTS] = {0};
	const char *pem = NULL, *port_file = NULL;
	struct echo_thread *th;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ports") && i + 1 < argc)
			nports = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			nthreads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--tls") && i + 1 < argc)
			pem = argv[++i];
		else if (!strcmp(argv[i], "--port-file") && i + 1 < argc)
			port_file = argv[++i];
		else if (!strcmp(argv[i], "--no-tickets"))
			no_tickets = 1;
		else {
			fprintf(stderr, "usage: mcs-dp-echo --port-file FILE [--ports N] [--threads N] "
					"[--tls PEM] [--no-tickets]\n");
			return 2;
		}
	}
	if (!port_file || nports < 1 || nports > ECHO_MAX_PORTS || nthreads < 1 || nthreads > 64) {
		fprintf(stderr, "mcs-dp-echo: --port-file is required; 1-%d ports, 1-64 threads\n", ECHO_MAX_PORTS);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (pem && !(echo_ctx = echo_ctx_new(pem, no_tickets)))
		return 1;
	th = calloc((size_t)nthreads, sizeof(*th));
	if (!th)
		return 1;
	for (int t = 0; t < nthreads; t++) {
		th[t].nports = nports;
		th[t].ep = epoll_create1(EPOLL_CLOEXEC);
		if (th[t].ep == -1)
			return perror("mcs-dp-echo: epoll_create1"), 1;
		for (int p = 0; p < nports; p++) {
			struct epoll_event e = {.events = EPOLLIN, .data.ptr = &th[t].lfd[p]};
			th[t].lfd[p] = echo_listen(ports[p]);
			if (th[t].lfd[p] == -1)
				return 1;
			if (!ports[p])
				ports[p] = echo_port_of(th[t].lfd[p]);
			if (epoll_ctl(th[t].ep, EPOLL_CTL_ADD, th[t].lfd[p], &e) == -1)
				return perror("mcs-dp-echo: epoll_ctl"), 1;
		}
	}
	for (int t = 1; t < nthreads; t++)
		if (pthread_create(&th[t].tid, NULL, echo_loop, &th[t]) != 0)
			return fprintf(stderr, "mcs-dp-echo: pthread_create failed\n"), 1;
	if (echo_write_ports(port_file, ports, nports) == -1)
		return perror("mcs-dp-echo: port file"), 1;
	echo_loop(&th[0]);
	return 0;
}
