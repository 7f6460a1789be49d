/* The Redis transport: a non-blocking socket, optionally wrapped in an OpenSSL client session,
 * an output buffer of formatted commands, and hiredis's reader behind the reply bound. */
#include "redis_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mono.h"

#define REDIS_CONN_READ_MAX 16384 /* one TLS record's plaintext: SSL_read never leaves any behind */

enum { RC_CLOSED, RC_CONNECTING, RC_HANDSHAKE, RC_READY };

struct redis_conn {
	struct redis_conn_opts o; /* own copy (redis_conn_opts_copy) */
	int state;
	int fd;
	struct addrinfo *ai;      /* resolved addresses */
	struct addrinfo *ai_next; /* the next one to try when a connect fails */
	SSL_CTX *ctx;             /* made per connection: rotated CA and client files are read again */
	SSL *ssl;
	short tls_want; /* POLLIN or POLLOUT asked for by the last SSL call, else 0 */
	char *obuf;     /* formatted commands not yet written */
	size_t olen, opos;
	redisReader *reader;
	struct resp_scan scan;
	int got_bytes; /* the server sent something on this connection */
	enum redis_conn_err err;
	char errstr[256];
};

__attribute__((format(printf, 3, 4))) static int redis_conn_fail(struct redis_conn *c, enum redis_conn_err err,
								 const char *fmt, ...)
{
	char what[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	c->err = err;
	const char *colon = strchr(c->o.host, ':');
	snprintf(c->errstr, sizeof(c->errstr), colon ? "[%.100s]:%u: %s" : "%.100s:%u: %s", c->o.host, c->o.port, what);
	for (char *p = c->errstr; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	redis_conn_close(c);
	return -1;
}

/* The string members, one list for copy and clear: a new string setting is added here too. */
static const size_t redis_conn_opts_strings[] = {
	offsetof(struct redis_conn_opts, host),        offsetof(struct redis_conn_opts, user),
	offsetof(struct redis_conn_opts, password),    offsetof(struct redis_conn_opts, ca_file),
	offsetof(struct redis_conn_opts, cert_file),   offsetof(struct redis_conn_opts, key_file),
	offsetof(struct redis_conn_opts, server_name),
};

#define REDIS_CONN_OPTS_N_STRINGS (sizeof(redis_conn_opts_strings) / sizeof(redis_conn_opts_strings[0]))

static const char **redis_conn_opts_string(struct redis_conn_opts *o, size_t i)
{
	return (const char **)((char *)o + redis_conn_opts_strings[i]);
}

int redis_conn_opts_copy(struct redis_conn_opts *dst, const struct redis_conn_opts *src)
{
	int failed = 0;
	*dst = *src;
	for (size_t i = 0; i < REDIS_CONN_OPTS_N_STRINGS; i++) {
		const char **s = redis_conn_opts_string(dst, i);
		if (*s != NULL && (*s = strdup(*s)) == NULL)
			failed = 1;
	}
	if (failed)
		redis_conn_opts_clear(dst);
	return failed ? -1 : 0;
}

void redis_conn_opts_clear(struct redis_conn_opts *o)
{
	if (o == NULL)
		return;
	/* A copy's own strings: const only so that a view can take a caller's. */
	for (size_t i = 0; i < REDIS_CONN_OPTS_N_STRINGS; i++)
		free((char *)*redis_conn_opts_string(o, i));
	memset(o, 0, sizeof(*o));
}

int redis_conn_opts_set_addr(struct redis_conn_opts *o, const char *host, unsigned port)
{
	char *h = strdup(host);
	if (h == NULL)
		return -1;
	free((char *)o->host);
	o->host = h;
	o->port = port;
	return 0;
}

struct redis_conn *redis_conn_new(const struct redis_conn_opts *opts)
{
	struct redis_conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	struct redis_conn_opts o = *opts;
	o.host = opts->host ? opts->host : ""; /* errors name the server: never NULL */
	if (redis_conn_opts_copy(&c->o, &o) == -1) {
		free(c);
		return NULL;
	}
	c->fd = -1;
	return c;
}

void redis_conn_free(struct redis_conn *c)
{
	if (c == NULL)
		return;
	redis_conn_close(c);
	redis_conn_opts_clear(&c->o);
	free(c);
}

int redis_conn_set_addr(struct redis_conn *c, const char *host, unsigned port)
{
	redis_conn_close(c);
	return redis_conn_opts_set_addr(&c->o, host, port);
}

const struct redis_conn_opts *redis_conn_get_opts(const struct redis_conn *c) { return &c->o; }

void redis_conn_addr(const struct redis_conn *c, char *buf, size_t len)
{
	snprintf(buf, len, strchr(c->o.host, ':') ? "[%s]:%u" : "%s:%u", c->o.host, c->o.port);
}

void redis_conn_close(struct redis_conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl); /* no close_notify: a Redis client just closes */
	c->ssl = NULL;
	SSL_CTX_free(c->ctx);
	c->ctx = NULL;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	if (c->ai != NULL)
		freeaddrinfo(c->ai);
	c->ai = c->ai_next = NULL;
	free(c->obuf);
	c->obuf = NULL;
	c->olen = c->opos = 0;
	if (c->reader != NULL)
		redisReaderFree(c->reader);
	c->reader = NULL;
	c->state = RC_CLOSED;
	c->tls_want = 0;
	c->got_bytes = 0;
}

/* Starts a connect to the next resolved address; 0 under way, -1 when none is left. */
static int redis_conn_try_next(struct redis_conn *c, int last_errno)
{
	for (; c->ai_next != NULL; c->ai_next = c->ai_next->ai_next) {
		const struct addrinfo *a = c->ai_next;
		int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1) {
			last_errno = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
			c->fd = fd;
			c->state = RC_CONNECTING;
			c->ai_next = a->ai_next;
			return 0;
		}
		last_errno = errno;
		close(fd);
	}
	return redis_conn_fail(c, REDIS_CONN_IO, "cannot connect: %s", strerror(last_errno));
}

int redis_conn_open(struct redis_conn *c)
{
	redis_conn_close(c);
	c->err = REDIS_CONN_OK;
	c->errstr[0] = '\0';
	resp_scan_init(&c->scan, &c->o.limits);
	c->reader = redisReaderCreate();
	if (c->reader == NULL)
		return redis_conn_fail(c, REDIS_CONN_OOM, "out of memory");
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	char port[8];
	snprintf(port, sizeof(port), "%u", c->o.port);
	int rc = getaddrinfo(c->o.host, port, &hints, &c->ai);
	if (rc != 0) {
		c->ai = NULL;
		return redis_conn_fail(c, REDIS_CONN_IO, "cannot resolve the host: %s", gai_strerror(rc));
	}
	c->ai_next = c->ai;
	return redis_conn_try_next(c, EHOSTUNREACH);
}

static int redis_conn_is_ip(const char *name)
{
	unsigned char bin[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, name, bin) == 1 || inet_pton(AF_INET6, name, bin) == 1;
}

/* The first OpenSSL error queued, as text ("" when none). */
static const char *redis_conn_ssl_reason(unsigned long *code)
{
	*code = ERR_get_error();
	ERR_clear_error();
	const char *r = *code ? ERR_reason_error_string(*code) : NULL;
	return r ? r : "";
}

static int redis_conn_tls_files(struct redis_conn *c)
{
	unsigned long code;
	const struct redis_conn_opts *o = &c->o;
	if (o->ca_file ? SSL_CTX_load_verify_locations(c->ctx, o->ca_file, NULL) != 1
		       : SSL_CTX_set_default_verify_paths(c->ctx) != 1)
		return redis_conn_fail(c, REDIS_CONN_TLS, "cannot load the CA certificates %.100s: %s",
				       o->ca_file ? o->ca_file : "(system store)", redis_conn_ssl_reason(&code));
	if (o->cert_file == NULL)
		return 0;
	if (SSL_CTX_use_certificate_chain_file(c->ctx, o->cert_file) != 1)
		return redis_conn_fail(c, REDIS_CONN_TLS, "cannot load the client certificate %.100s: %s", o->cert_file,
				       redis_conn_ssl_reason(&code));
	const char *key = o->key_file ? o->key_file : o->cert_file;
	if (SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(c->ctx) != 1)
		return redis_conn_fail(c, REDIS_CONN_TLS, "cannot use the client key %.100s: %s", key,
				       redis_conn_ssl_reason(&code));
	return 0;
}

/* Sets up the client session on the connected socket: TLS 1.2+, peer verified, name checked. */
static int redis_conn_tls_start(struct redis_conn *c)
{
	ERR_clear_error();
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL)
		return redis_conn_fail(c, REDIS_CONN_OOM, "out of memory");
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (redis_conn_tls_files(c) == -1)
		return -1;
	c->ssl = SSL_new(c->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		return redis_conn_fail(c, REDIS_CONN_OOM, "out of memory");
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	const char *name = c->o.server_name ? c->o.server_name : c->o.host;
	X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	int ok = redis_conn_is_ip(name)
			 ? X509_VERIFY_PARAM_set1_ip_asc(param, name) == 1
			 : SSL_set_tlsext_host_name(c->ssl, name) == 1 && SSL_set1_host(c->ssl, name) == 1;
	if (!ok)
		return redis_conn_fail(c, REDIS_CONN_TLS, "cannot verify against the name \"%.100s\"", name);
	c->state = RC_HANDSHAKE;
	return 0;
}

/* Why the handshake failed, in one line an operator can act on. */
static int redis_conn_tls_failed(struct redis_conn *c, int ssl_err)
{
	long v = SSL_get_verify_result(c->ssl);
	const char *name = c->o.server_name ? c->o.server_name : c->o.host;
	unsigned long code;
	const char *reason = redis_conn_ssl_reason(&code);
	if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
		return redis_conn_fail(c, REDIS_CONN_TLS, "TLS: the server's certificate is not valid for \"%.100s\"%s",
				       name,
				       c->o.server_name ? "" : " (MCS_REDIS_TLS_SERVER_NAME sets the name to expect)");
	if (v != X509_V_OK)
		return redis_conn_fail(c, REDIS_CONN_TLS, "TLS: the server's certificate is refused: %s",
				       X509_verify_cert_error_string(v));
	int reason_nr = code ? ERR_GET_REASON(code) : 0;
	if (reason_nr == SSL_R_WRONG_VERSION_NUMBER || reason_nr == SSL_R_PACKET_LENGTH_TOO_LONG)
		return redis_conn_fail(c, REDIS_CONN_TLS,
				       "TLS handshake failed (%s): the server does not speak TLS "
				       "(a plain-text Redis behind rediss://?)",
				       reason);
	if (reason_nr == SSL_R_UNEXPECTED_EOF_WHILE_READING || (ssl_err == SSL_ERROR_SYSCALL && code == 0))
		return redis_conn_fail(c, REDIS_CONN_TLS,
				       "TLS handshake failed: the server closed the connection (not "
				       "a TLS port, or it refused this client)");
	return redis_conn_fail(c, REDIS_CONN_TLS, "TLS handshake failed: %s", reason[0] ? reason : "unknown error");
}

static int redis_conn_handshake(struct redis_conn *c)
{
	ERR_clear_error();
	int r = SSL_connect(c->ssl);
	if (r == 1) {
		c->state = RC_READY;
		c->tls_want = 0;
		return 1;
	}
	int e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->tls_want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		return 0;
	}
	return redis_conn_tls_failed(c, e);
}

int redis_conn_progress(struct redis_conn *c)
{
	if (c->state == RC_READY)
		return 1;
	if (c->state == RC_HANDSHAKE)
		return redis_conn_handshake(c);
	if (c->state != RC_CONNECTING)
		return redis_conn_fail(c, REDIS_CONN_IO, "not connected");
	struct pollfd p = {.fd = c->fd, .events = POLLOUT};
	if (poll(&p, 1, 0) == 0)
		return 0;
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr != 0) {
		close(c->fd);
		c->fd = -1;
		return redis_conn_try_next(c, soerr) == -1 ? -1 : 0;
	}
	if (!c->o.tls) {
		c->state = RC_READY;
		return 1;
	}
	if (redis_conn_tls_start(c) == -1)
		return -1;
	return redis_conn_handshake(c);
}

short redis_conn_events(const struct redis_conn *c)
{
	switch (c->state) {
	case RC_CONNECTING:
		return POLLOUT;
	case RC_HANDSHAKE:
		return c->tls_want;
	case RC_READY:
		return (short)(POLLIN | c->tls_want | (c->olen > c->opos ? POLLOUT : 0));
	default:
		return 0;
	}
}

/* Waits for the connection's events until deadline_ms. 0 ready, -1 timed out (closed). */
static int redis_conn_wait(struct redis_conn *c, uint64_t deadline_ms, const char *what)
{
	for (;;) {
		struct pollfd p = {.fd = c->fd, .events = redis_conn_events(c)};
		int n = poll(&p, 1, mono_ms_left(deadline_ms, mono_now_ms()));
		if (n > 0)
			return 0;
		if (n == 0)
			return redis_conn_fail(c, REDIS_CONN_TIMEOUT, "no answer within %u ms: %s", c->o.timeout_ms,
					       what);
		if (errno != EINTR)
			return redis_conn_fail(c, REDIS_CONN_IO, "poll: %s", strerror(errno));
	}
}

int redis_conn_connect(struct redis_conn *c)
{
	uint64_t deadline = mono_now_ms() + c->o.timeout_ms;
	if (redis_conn_open(c) == -1)
		return -1;
	for (;;) {
		int r = redis_conn_progress(c);
		if (r != 0)
			return r == 1 ? 0 : -1;
		/* A plain-text Redis reads the TLS hello as the start of an inline command and waits. */
		const char *what = c->state == RC_HANDSHAKE ? "TLS handshake (no answer to the TLS hello: a plain-text "
							      "Redis behind rediss://?)"
							    : "connect";
		if (redis_conn_wait(c, deadline, what) == -1)
			return -1;
	}
}

int redis_conn_fd(const struct redis_conn *c) { return c->fd; }

int redis_conn_ready(const struct redis_conn *c) { return c->state == RC_READY; }

int redis_conn_write_pending(const struct redis_conn *c) { return c->olen > c->opos; }

enum redis_conn_err redis_conn_err(const struct redis_conn *c) { return c->err; }

const char *redis_conn_errstr(const struct redis_conn *c) { return c->errstr; }

int redis_conn_keepalive(struct redis_conn *c)
{
	int one = 1;
	if (c->fd == -1 || setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) == -1)
		return redis_conn_fail(c, REDIS_CONN_IO, "cannot enable keepalive: %s", strerror(errno));
	return 0;
}

int redis_conn_append(struct redis_conn *c, int argc, const char **argv, const size_t *lens)
{
	char *cmd = NULL;
	int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
	if (len < 0)
		return redis_conn_fail(c, REDIS_CONN_OOM, "out of memory");
	if (c->opos > 0) {
		memmove(c->obuf, c->obuf + c->opos, c->olen - c->opos);
		c->olen -= c->opos;
		c->opos = 0;
	}
	char *grown = realloc(c->obuf, c->olen + (size_t)len);
	if (grown == NULL) {
		redisFreeCommand(cmd);
		return redis_conn_fail(c, REDIS_CONN_OOM, "out of memory");
	}
	memcpy(grown + c->olen, cmd, (size_t)len);
	redisFreeCommand(cmd);
	c->obuf = grown;
	c->olen += (size_t)len;
	return 0;
}

/* An SSL_read/SSL_write that did not complete: 0 to wait (tls_want set), or -1 (closed). */
static int redis_conn_ssl_io_error(struct redis_conn *c, int r, const char *what)
{
	int e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->tls_want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		return 0;
	}
	unsigned long code;
	const char *reason = redis_conn_ssl_reason(&code);
	/* TLS 1.3: a server refusing the client's certificate (or its absence) does so after the
	 * client's handshake is done, and the alert can be lost to a reset. */
	const char *hint = c->got_bytes ? ""
					: " (dropped right after the handshake: does the server want a client "
					  "certificate, MCS_REDIS_CERT_FILE?)";
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && code == 0 && errno == 0) ||
	    (code && ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING))
		return redis_conn_fail(c, REDIS_CONN_EOF, "connection closed by the server%s", hint);
	if (e == SSL_ERROR_SYSCALL && code == 0)
		return redis_conn_fail(c, REDIS_CONN_IO, "%s: %s%s", what, strerror(errno), hint);
	return redis_conn_fail(c, REDIS_CONN_TLS, "%s: TLS error: %s%s", what, reason[0] ? reason : "unknown", hint);
}

int redis_conn_flush(struct redis_conn *c)
{
	if (c->state != RC_READY)
		return redis_conn_fail(c, REDIS_CONN_IO, "not connected");
	while (c->opos < c->olen) {
		size_t left = c->olen - c->opos;
		ssize_t n;
		if (c->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			int r = SSL_write(c->ssl, c->obuf + c->opos, left > INT32_MAX ? INT32_MAX : (int)left);
			if (r <= 0)
				return redis_conn_ssl_io_error(c, r, "write");
			c->tls_want = 0;
			n = r;
		} else {
			n = send(c->fd, c->obuf + c->opos, left, MSG_NOSIGNAL);
			if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				return 0;
			if (n == -1)
				return redis_conn_fail(c, REDIS_CONN_IO, "write: %s", strerror(errno));
		}
		c->opos += (size_t)n;
	}
	c->olen = c->opos = 0;
	return 1;
}

int redis_conn_read(struct redis_conn *c)
{
	if (c->state != RC_READY)
		return redis_conn_fail(c, REDIS_CONN_IO, "not connected");
	char buf[REDIS_CONN_READ_MAX];
	ssize_t n;
	if (c->ssl != NULL) {
		ERR_clear_error();
		errno = 0;
		int r = SSL_read(c->ssl, buf, sizeof(buf));
		if (r <= 0)
			return redis_conn_ssl_io_error(c, r, "read");
		c->tls_want = 0;
		n = r;
	} else {
		n = read(c->fd, buf, sizeof(buf));
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		if (n == -1)
			return redis_conn_fail(c, REDIS_CONN_IO, "read: %s", strerror(errno));
		if (n == 0 && !c->got_bytes)
			return redis_conn_fail(c, REDIS_CONN_EOF,
					       "connection closed before any reply (a TLS port? "
					       "then use rediss://)");
		if (n == 0)
			return redis_conn_fail(c, REDIS_CONN_EOF, "connection closed by the server");
	}
	c->got_bytes = 1;
	if (resp_scan_feed(&c->scan, buf, (size_t)n) == -1)
		return redis_conn_fail(c, REDIS_CONN_PROTOCOL, "reply refused, connection dropped: %s", c->scan.errstr);
	if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK)
		return redis_conn_fail(c, REDIS_CONN_OOM, "out of memory");
	return 1;
}

int redis_conn_reply(struct redis_conn *c, struct redisReply **reply)
{
	*reply = NULL;
	if (c->reader == NULL)
		return 0;
	void *r = NULL;
	if (redisReaderGetReply(c->reader, &r) != REDIS_OK)
		return redis_conn_fail(c, REDIS_CONN_PROTOCOL, "protocol error: %.120s", c->reader->errstr);
	*reply = r;
	return 0;
}

struct redisReply *redis_conn_command(struct redis_conn *c, int argc, const char **argv, const size_t *lens)
{
	uint64_t deadline = mono_now_ms() + c->o.timeout_ms;
	if (c->state != RC_READY) {
		redis_conn_fail(c, REDIS_CONN_IO, "not connected");
		return NULL;
	}
	if (redis_conn_append(c, argc, argv, lens) == -1)
		return NULL;
	for (;;) {
		redisReply *r;
		if (redis_conn_flush(c) == -1 || redis_conn_reply(c, &r) == -1)
			return NULL;
		if (r != NULL)
			return r;
		int n = redis_conn_write_pending(c) ? 0 : redis_conn_read(c);
		if (n == -1)
			return NULL;
		if (n == 0 && redis_conn_wait(c, deadline, argv[0]) == -1)
			return NULL;
	}
}
