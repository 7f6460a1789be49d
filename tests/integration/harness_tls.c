/* Integration-test harness, TLS clients: a handshake through MCS_PORT within chosen protocol
 * versions, the node's greeting, echoes, and the certificate HAProxy presented. */
#include "harness_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void h_ssl_errstr(const char *what, char *err, size_t errlen)
{
	unsigned long e = ERR_peek_last_error();
	char text[256] = "no OpenSSL error";
	if (e != 0)
		ERR_error_string_n(e, text, sizeof(text));
	snprintf(err, errlen, "%s: %s", what, text);
	ERR_clear_error();
}

/* Waits for what SSL asked for after a non-blocking call returned ret. 0 to retry, -1 to stop. */
static int h_ssl_wait(struct h_client *c, int ret, uint64_t end)
{
	int e = SSL_get_error(c->ssl, ret);
	struct pollfd pfd = {c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 0};
	long left = (long)(end - h_now_ms());
	if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || left <= 0)
		return -1;
	return poll(&pfd, 1, (int)left) == 1 ? 0 : -1;
}

/* A non-blocking TCP connection to addr (a numeric IPv4 or IPv6 address) and port. */
static int h_tcp_connect(const char *addr, int port, uint64_t end, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t alen = sizeof(*a4);
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		alen = sizeof(*a6);
	} else {
		snprintf(err, errlen, "connect: \"%s\" is not an IP address", addr);
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), soerr = 0;
	socklen_t len = sizeof(soerr);
	if (fd == -1 || (connect(fd, (struct sockaddr *)&ss, alen) == -1 && errno != EINPROGRESS)) {
		snprintf(err, errlen, "connect %s port %d: %s", addr, port, strerror(errno));
		goto fail;
	}
	long left = (long)(end - h_now_ms());
	struct pollfd pfd = {fd, POLLOUT, 0};
	if (left <= 0 || poll(&pfd, 1, (int)left) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1 ||
	    soerr != 0) {
		snprintf(err, errlen, "connect %s port %d: %s", addr, port, soerr ? strerror(soerr) : "timed out");
		goto fail;
	}
	return fd;
fail:
	if (fd != -1)
		close(fd);
	return -1;
}

static SSL_CTX *h_tls_ctx(int min_ver, int max_ver)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (min_ver != 0 && min_ver < TLS1_2_VERSION) {
		/* Let the client really offer old versions: only the server may refuse them. */
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
	}
	if ((min_ver != 0 && !SSL_CTX_set_min_proto_version(ctx, min_ver)) ||
	    (max_ver != 0 && !SSL_CTX_set_max_proto_version(ctx, max_ver))) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct h_client *h_tls_open(int port, int min_ver, int max_ver, char *err, size_t errlen)
{
	return h_tls_open_addr("127.0.0.1", port, min_ver, max_ver, err, errlen);
}

struct h_client *h_tls_open_addr(const char *addr, int port, int min_ver, int max_ver, char *err, size_t errlen)
{
	uint64_t end = h_now_ms() + 5000;
	struct h_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = -1;
	c->fd = h_tcp_connect(addr, port, end, err, errlen);
	if (c->fd == -1)
		goto fail;
	if ((c->ctx = h_tls_ctx(min_ver, max_ver)) == NULL || (c->ssl = SSL_new(c->ctx)) == NULL ||
	    !SSL_set_fd(c->ssl, c->fd) || !SSL_set_tlsext_host_name(c->ssl, "localhost")) {
		h_ssl_errstr("TLS set-up", err, errlen);
		goto fail;
	}
	int ret;
	while ((ret = SSL_connect(c->ssl)) != 1) {
		if (h_ssl_wait(c, ret, end) == -1) {
			h_ssl_errstr("TLS handshake", err, errlen);
			goto fail;
		}
	}
	return c;
fail:
	h_client_close(c);
	return NULL;
}

/* Reads up to len bytes (at least one) before the deadline. Returns the count, 0 on EOF, -1. */
static int h_ssl_read(struct h_client *c, char *buf, int len, uint64_t end)
{
	for (;;) {
		int r = SSL_read(c->ssl, buf, len);
		if (r > 0)
			return r;
		int e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
			return 0;
		if (h_ssl_wait(c, r, end) == -1)
			return -1;
	}
}

int h_client_hello(struct h_client *c, unsigned timeout_ms, char *err, size_t errlen)
{
	uint64_t end = h_now_ms() + timeout_ms;
	char line[192];
	int len = 0;
	/* Byte by byte: nothing after the greeting may be swallowed. */
	while (len < (int)sizeof(line) - 1) {
		int r = h_ssl_read(c, line + len, 1, end);
		if (r <= 0) {
			line[len] = '\0';
			snprintf(err, errlen, "no greeting (%s after \"%s\")", r == 0 ? "closed" : "timeout or error",
				 line);
			ERR_clear_error();
			return -1;
		}
		if (line[len++] == '\n')
			break;
	}
	line[len] = '\0';
	if (strncmp(line, "HELLO ", 6) != 0 || line[len - 1] != '\n') {
		snprintf(err, errlen, "bad greeting \"%s\"", line);
		return -1;
	}
	line[len - 1] = '\0';
	/* "HELLO <node>", or "HELLO <node> for <client>" from a node reading PROXY v2 headers */
	char *seen = strstr(line + 6, " for ");
	c->seen_as[0] = '\0';
	if (seen != NULL) {
		*seen = '\0';
		snprintf(c->seen_as, sizeof(c->seen_as), "%s", seen + 5);
	}
	snprintf(c->node, sizeof(c->node), "%s", line + 6);
	return 0;
}

struct h_client *h_client_connect(int port, char *err, size_t errlen)
{
	return h_client_connect_addr("127.0.0.1", port, err, errlen);
}

struct h_client *h_client_connect_addr(const char *addr, int port, char *err, size_t errlen)
{
	struct h_client *c = h_tls_open_addr(addr, port, 0, 0, err, errlen);
	if (c != NULL && h_client_hello(c, 5000, err, errlen) == -1) {
		h_client_close(c);
		c = NULL;
	}
	return c;
}

int h_client_echo(struct h_client *c, const char *msg, unsigned timeout_ms, char *err, size_t errlen)
{
	uint64_t end = h_now_ms() + timeout_ms;
	int len = (int)strlen(msg), got = 0, r;
	char buf[4096];
	if (len == 0 || len > (int)sizeof(buf)) {
		snprintf(err, errlen, "echo: message must be 1 to %zu bytes", sizeof(buf));
		return -1;
	}
	while ((r = SSL_write(c->ssl, msg, len)) <= 0) {
		if (h_ssl_wait(c, r, end) == -1) {
			h_ssl_errstr("echo: write", err, errlen);
			return -1;
		}
	}
	while (got < len) {
		r = h_ssl_read(c, buf + got, len - got, end);
		if (r <= 0) {
			snprintf(err, errlen, "echo from %s: %s after %d of %d bytes", c->node,
				 r == 0 ? "closed" : "timeout or error", got, len);
			ERR_clear_error();
			return -1;
		}
		got += r;
	}
	if (memcmp(buf, msg, (size_t)len) != 0) {
		snprintf(err, errlen, "echo from %s: different bytes came back", c->node);
		return -1;
	}
	return 0;
}

void h_client_close(struct h_client *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl); /* non-blocking: one attempt, no waiting */
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd != -1)
		close(c->fd);
	ERR_clear_error();
	free(c);
}

int h_client_cert_is(const struct h_client *c, const char *pem_path)
{
	X509 *peer = SSL_get1_peer_certificate(c->ssl), *want = NULL;
	FILE *f = fopen(pem_path, "r");
	unsigned char *a = NULL, *b = NULL;
	int same = 0;
	if (f != NULL) {
		want = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (peer != NULL && want != NULL) {
		int la = i2d_X509(peer, &a), lb = i2d_X509(want, &b);
		same = la > 0 && la == lb && memcmp(a, b, (size_t)la) == 0;
	}
	OPENSSL_free(a);
	OPENSSL_free(b);
	X509_free(peer);
	X509_free(want);
	return same;
}
