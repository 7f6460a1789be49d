/* mcs-cap-server: the bare OpenSSL baseline of the capacity benchmark. Holds TLS sessions itself
 * (one epoll loop, one thread, nothing per client but the socket, the SSL object and 16 bytes),
 * greets each client like a chat node ("HELLO 127.0.0.1:<port>") and echoes. Loopback only.
 *   mcs-cap-server --pem FILE --port-file FILE
 * FILE receives "port=P" once listening (written then renamed). Stops on SIGTERM. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct cap_conn {
	int fd;
	int greeted; /* 1 once the handshake is done and HELLO was written */
	SSL *ssl;
};

static volatile sig_atomic_t stopping;
static char greeting[64];

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void conn_close(int ep, struct cap_conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	SSL_free(c->ssl);
	free(c);
}

/* Waits for what OpenSSL asked for (r: the failed call's return). 0: waiting, -1: close. */
static int conn_want(int ep, struct cap_conn *c, int r)
{
	struct epoll_event ev = {.data.ptr = c};

	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		ev.events = EPOLLIN;
		break;
	case SSL_ERROR_WANT_WRITE:
		ev.events = EPOLLOUT;
		break;
	default:
		ERR_clear_error();
		return -1;
	}
	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Handshake, greeting, then echo of whatever arrives (small messages: a write that would block
 * closes the connection, which the benchmark never causes). 0: keep, -1: close. */
static int conn_run(int ep, struct cap_conn *c)
{
	char buf[4096];
	int r;

	if (!c->greeted) {
		r = SSL_accept(c->ssl);
		if (r != 1)
			return conn_want(ep, c, r);
		if (SSL_write(c->ssl, greeting, (int)strlen(greeting)) <= 0)
			return -1;
		c->greeted = 1;
	}
	for (;;) {
		r = SSL_read(c->ssl, buf, sizeof(buf));
		if (r <= 0)
			return conn_want(ep, c, r);
		if (SSL_write(c->ssl, buf, r) != r)
			return -1;
	}
}

static SSL_CTX *ctx_new(const char *pem)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, pem) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, pem, SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		exit(1);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* What HAProxy and nginx do for idle connections: no read/write buffers while idle. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
}

static int listen_any(const char *port_file)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	char tmp[4096];
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	FILE *f;

	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 || listen(fd, 4096) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == -1)
		return perror("mcs-cap-server: listen"), -1;
	snprintf(greeting, sizeof(greeting), "HELLO 127.0.0.1:%d\n", ntohs(sa.sin_port));
	snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
	f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "port=%d\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0 ||
	    rename(tmp, port_file) == -1)
		return perror("mcs-cap-server: port file"), -1;
	return fd;
}

int main(int argc, char **argv)
{
	const char *pem = NULL, *port_file = NULL;
	struct epoll_event ev, evs[256];
	struct rlimit rl;
	SSL_CTX *ctx;
	int lfd, ep;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--pem"))
			pem = argv[i + 1];
		else if (!strcmp(argv[i], "--port-file"))
			port_file = argv[i + 1];
	}
	if (pem == NULL || port_file == NULL)
		return fprintf(stderr, "usage: mcs-cap-server --pem FILE --port-file FILE\n"), 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	ctx = ctx_new(pem);
	lfd = listen_any(port_file);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (lfd == -1 || ep == -1)
		return 1;
	ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!stopping) {
		int n = epoll_wait(ep, evs, 256, 200);

		for (int i = 0; i < n; i++) {
			struct cap_conn *c = evs[i].data.ptr;

			if (c == NULL) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
					c = calloc(1, sizeof(*c));
					if (c == NULL || (c->ssl = SSL_new(ctx)) == NULL) {
						close(fd);
						free(c);
						continue;
					}
					c->fd = fd;
					SSL_set_fd(c->ssl, fd);
					ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = c};
					if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1 || conn_run(ep, c) == -1)
						conn_close(ep, c);
				}
				continue;
			}
			if (conn_run(ep, c) == -1)
				conn_close(ep, c);
		}
	}
	SSL_CTX_free(ctx);
	return 0;
}
