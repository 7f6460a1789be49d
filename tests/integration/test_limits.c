/* Abuse protection at the edge against the real thing: haproxy with haproxy/haproxy.cfg, demo
 * chat nodes, TLS clients bound to their own 127.0.0.x source addresses, the stick table read
 * over both runtime sockets and the refused count through a real mcs-lb-metrics. Per-address
 * connection-rate and concurrent-connection limits, lifting them for one address at run time,
 * the limits turned off, and the bound on a TLS handshake. Per-address bandwidth (the Lua filter
 * of haproxy/bwlim.lua) against a node that streams: shared by an address's connections, each
 * direction, other and exempt addresses, a reload, a full table, IPv6, bad values. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* The gateway's settings in case "limits" (small, so a test reaches them quickly). The period is
 * long so that no address's count decays while a test runs. */
#define RATE 6 /* MCS_LIMIT_CONN_RATE: new connections per period per address */
#define RATE_PERIOD_S 60
#define CONCURRENT 3    /* MCS_LIMIT_CONCURRENT */
#define HANDSHAKE_S 2   /* MCS_HANDSHAKE_TIMEOUT_S */
#define TABLE_SIZE 1000 /* MCS_LIMIT_TABLE_SIZE */

/* ---------------------------------------------------------------- clients */

/* Waits until SSL's last call (returned ret) can go on. 0 to retry, -1 to give up. */
static int ssl_wait(struct h_client *c, int ret, uint64_t end)
{
	int e = SSL_get_error(c->ssl, ret);
	long left = (long)(end - h_now_ms());
	struct pollfd pfd = {c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 0};
	if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || left <= 0)
		return -1;
	return poll(&pfd, 1, (int)left) == 1 ? 0 : -1;
}

/* A TCP connection from src (an address of 127.0.0.0/8, or ::1) to the gateway on the loopback
 * address of src's family, non-blocking. */
static int tcp_from(const char *src, char *err, size_t errlen)
{
	int v6 = strchr(src, ':') != NULL, fd = -1, soerr = 0;
	struct sockaddr_in from4 = {.sin_family = AF_INET}, to4 = {.sin_family = AF_INET};
	struct sockaddr_in6 from6 = {.sin6_family = AF_INET6}, to6 = {.sin6_family = AF_INET6};
	to4.sin_port = to6.sin6_port = htons((uint16_t)H.mcs_port);
	to4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	to6.sin6_addr = in6addr_loopback;
	struct sockaddr *from = v6 ? (struct sockaddr *)&from6 : (struct sockaddr *)&from4;
	struct sockaddr *to = v6 ? (struct sockaddr *)&to6 : (struct sockaddr *)&to4;
	socklen_t alen = v6 ? sizeof(from6) : sizeof(from4), len = sizeof(soerr);
	struct pollfd pfd = {-1, POLLOUT, 0};
	if ((pfd.fd = fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1 ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, src, v6 ? (void *)&from6.sin6_addr : (void *)&from4.sin_addr) != 1 ||
	    bind(fd, from, alen) == -1 || (connect(fd, to, alen) == -1 && errno != EINPROGRESS) ||
	    poll(&pfd, 1, 5000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1 || soerr != 0) {
		snprintf(err, errlen, "connect from %s: %s", src, strerror(soerr ? soerr : errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* Connects from src and completes the TLS handshake. Returns the client (h_client_close frees
 * it), or NULL with the reason in err: a refused client sees its connection reset or closed
 * before any TLS byte. */
static struct h_client *tls_from(const char *src, char *err, size_t errlen)
{
	uint64_t end = h_now_ms() + 5000;
	struct h_client *c = calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	if ((c->fd = tcp_from(src, err, errlen)) == -1)
		goto fail;
	c->ctx = SSL_CTX_new(TLS_client_method());
	ck_assert_ptr_nonnull(c->ctx);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	c->ssl = SSL_new(c->ctx);
	ck_assert(c->ssl != NULL && SSL_set_fd(c->ssl, c->fd) && SSL_set_tlsext_host_name(c->ssl, "localhost"));
	int ret;
	while ((ret = SSL_connect(c->ssl)) != 1) {
		if (ssl_wait(c, ret, end) == -1) {
			snprintf(err, errlen, "TLS handshake from %s failed (%s)", src,
				 errno ? strerror(errno) : "closed");
			goto fail;
		}
	}
	return c;
fail:
	h_client_close(c);
	return NULL;
}

/* tls_from, then the node's greeting. */
static struct h_client *open_from(const char *src, char *err, size_t errlen)
{
	struct h_client *c = tls_from(src, err, errlen);
	if (c != NULL && h_client_hello(c, 5000, err, errlen) == -1) {
		h_client_close(c);
		c = NULL;
	}
	return c;
}

/* One short visit from src: connect, greeting, close. 1 when served, 0 when refused. */
static int visit(const char *src)
{
	char err[256];
	errno = 0;
	struct h_client *c = open_from(src, err, sizeof(err));
	h_client_close(c);
	return c != NULL;
}

/* ---------------------------------------------------------------- runtime sockets */

/* HAProxy's frontend counter field (show stat on the stats socket). */
static long fe_stat(const char *field)
{
	long v = h_stat_num("mcs_tls", "FRONTEND", field);
	ck_assert_msg(v >= 0, "%s", h_error());
	return v;
}

/* The reply to cmd on sock; caller frees. */
static char *hap(const char *sock, const char *cmd)
{
	char *reply = h_hap_cmd(sock, cmd);
	ck_assert_msg(reply != NULL, "%s", h_error());
	return reply;
}

/* The stick-table line of IPv4 address src from the admin socket ("" when it has none), and
 * the value of "<field>=" in it (-1: absent). */
static long entry_field(const char *src, const char *field)
{
	char cmd[128], *p;
	snprintf(cmd, sizeof(cmd), "show table mcs_tls key ::ffff:%s", src);
	char *reply = hap(H.admin_sock, cmd);
	char want[64];
	snprintf(want, sizeof(want), " %s=", field);
	long v = (p = strstr(reply, want)) != NULL ? strtol(p + strlen(want), NULL, 10) : -1;
	free(reply);
	return v;
}

/* `show table` (level user): the used count of mcs_tls, checking its size on the way. */
static long table_used(void)
{
	char *reply = hap(H.stats_sock, "show table");
	char want[96];
	long used = -1;
	snprintf(want, sizeof(want), "# table: mcs_tls, type: ipv6, size:%d, used:", TABLE_SIZE);
	const char *p = strstr(reply, want);
	if (p != NULL)
		used = strtol(p + strlen(want), NULL, 10);
	ck_assert_msg(p != NULL, "show table: %s", reply);
	free(reply);
	return used;
}

/* ---------------------------------------------------------------- set-up */

static void setenv_all(const char *rate, const char *concurrent)
{
	char v[32];
	ck_assert_int_eq(setenv("MCS_LIMIT_CONN_RATE", rate, 1), 0);
	ck_assert_int_eq(setenv("MCS_LIMIT_CONCURRENT", concurrent, 1), 0);
	snprintf(v, sizeof(v), "%d", RATE_PERIOD_S);
	ck_assert_int_eq(setenv("MCS_LIMIT_CONN_RATE_PERIOD_S", v, 1), 0);
	snprintf(v, sizeof(v), "%d", TABLE_SIZE);
	ck_assert_int_eq(setenv("MCS_LIMIT_TABLE_SIZE", v, 1), 0);
	ck_assert_int_eq(setenv("MCS_LIMIT_EXPIRE_S", "300", 1), 0);
	snprintf(v, sizeof(v), "%d", HANDSHAKE_S);
	ck_assert_int_eq(setenv("MCS_HANDSHAKE_TIMEOUT_S", v, 1), 0);
	ck_assert_int_eq(unsetenv("MCS_LIMIT_BYTES_PER_S"), 0);
}

/* The harness passes its own environment on to haproxy: the settings go there. */
static void setup_on(void)
{
	char rate[16], conc[16];
	snprintf(rate, sizeof(rate), "%d", RATE);
	snprintf(conc, sizeof(conc), "%d", CONCURRENT);
	setenv_all(rate, conc);
	h_gateway_start(&(struct h_opts){.poll_ms = 250});
}

static void setup_off(void)
{
	setenv_all("0", "0");
	h_gateway_start(&(struct h_opts){.poll_ms = 250});
}

static void teardown(void) { h_gateway_stop(); }

/* 1 when no server of backend mcs is in rotation. */
static int none_in_rotation(void)
{
	struct h_srv v[H_MAX_SERVERS];
	int n = h_servers(H.stats_sock, v, H_MAX_SERVERS);
	for (int i = 0; i < n; i++)
		if (v[i].op_state == 2 && v[i].admin_state == 0)
			return 0;
	return n >= 0;
}

/* A demo node of this test. The previous test's node died with its process but stays in
 * rotation until MCS_CHECK_FALL checks have failed (the controller starts checks from health
 * up): wait for that first, or this test's clients could be sent to it. */
static void node_up(void)
{
	struct h_node node;
	ck_assert_msg(H_WAIT(5000, none_in_rotation()), "a dead node stays in rotation");
	ck_assert_msg(h_nodes_up(&node, 1, 10000) == 0, "%s", h_error());
}

/* ---------------------------------------------------------------- the limits */

START_TEST(test_rate_limit_per_address)
{
	const char *a = "127.0.0.2", *b = "127.0.0.3";
	node_up();
	long dcon0 = fe_stat("dcon"), ssl0 = fe_stat("ssl_failed_handshake"), stot0 = fe_stat("stot");
	/* A opens connections one after the other, faster than RATE per period; B, another address,
	 * keeps connecting in between. */
	int served_a[10], n_a = 0, n_b = 0;
	for (int i = 0; i < 10; i++) {
		n_a += served_a[i] = visit(a);
		if (i < RATE)
			n_b += visit(b);
	}
	printf("rate: %s served %d of 10 (", a, n_a);
	for (int i = 0; i < 10; i++)
		printf("%c", served_a[i] ? '+' : '-');
	printf("), %s served %d of %d, dcon +%ld\n", b, n_b, RATE, fe_stat("dcon") - dcon0);
	for (int i = 0; i < 10; i++)
		ck_assert_msg(served_a[i] == (i < RATE), "attempt %d of %s: served %d", i + 1, a, served_a[i]);
	ck_assert_int_eq(n_b, RATE);
	/* Refused before the handshake: counted by the tcp-request rules, not as TLS failures. */
	ck_assert_int_eq(fe_stat("dcon") - dcon0, 10 - RATE);
	ck_assert_int_eq(fe_stat("ssl_failed_handshake"), ssl0);
	ck_assert_int_eq(fe_stat("stot") - stot0, 2 * RATE);

	/* Who is limited: sizes on the read-only socket, entries only on the admin socket. */
	ck_assert_int_ge(table_used(), 2);
	char *reply = hap(H.stats_sock, "show table mcs_tls");
	ck_assert_msg(strstr(reply, "insufficient privileges") != NULL, "stats socket: %s", reply);
	free(reply);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "show table mcs_tls key ::ffff:%s", a);
	reply = hap(H.admin_sock, cmd);
	printf("%s", reply);
	free(reply);
	ck_assert_int_eq(entry_field(a, "gpc0"), 10 - RATE); /* refusals for rate */
	ck_assert_int_eq(entry_field(a, "gpc1"), 0);
	ck_assert_int_eq(entry_field(b, "gpc0"), 0);
}
END_TEST

START_TEST(test_lift_limit_for_one_address)
{
	const char *a = "127.0.0.8";
	char cmd[128];
	node_up();
	for (int i = 0; i < RATE; i++)
		ck_assert(visit(a));
	ck_assert(!visit(a));
	/* The read-only socket may look, never lift. */
	snprintf(cmd, sizeof(cmd), "set table mcs_tls key ::ffff:%s data.gpt0 1", a);
	char *reply = hap(H.stats_sock, cmd);
	ck_assert_msg(strstr(reply, "Permission denied") != NULL, "stats socket: %s", reply);
	free(reply);
	ck_assert(!visit(a));

	/* Exempt (gpt0 1): served however fast it comes, until an operator takes it back. */
	free(hap(H.admin_sock, cmd));
	for (int i = 0; i < 3; i++)
		ck_assert_msg(visit(a), "exempt %s refused at visit %d", a, i + 1);
	snprintf(cmd, sizeof(cmd), "set table mcs_tls key ::ffff:%s data.gpt0 0", a);
	free(hap(H.admin_sock, cmd));
	ck_assert(!visit(a));

	/* Cleared: the address starts from nothing (once HAProxy has closed its connections). */
	ck_assert_msg(H_WAIT(3000, entry_field(a, "conn_cur") == 0), "conn_cur of %s stays %ld", a,
		      entry_field(a, "conn_cur"));
	snprintf(cmd, sizeof(cmd), "clear table mcs_tls key ::ffff:%s", a);
	free(hap(H.admin_sock, cmd));
	ck_assert_int_eq(entry_field(a, "conn_rate(60000)"), -1);
	ck_assert(visit(a));
	ck_assert_int_eq(entry_field(a, "conn_rate(60000)"), 1);
}
END_TEST

START_TEST(test_concurrent_cap)
{
	const char *c = "127.0.0.4", *d = "127.0.0.5";
	struct h_client *held[CONCURRENT], *other;
	char err[256], msg[32];
	node_up();
	long dcon0 = fe_stat("dcon");
	for (int i = 0; i < CONCURRENT; i++)
		ck_assert_msg((held[i] = open_from(c, err, sizeof(err))) != NULL, "connection %d: %s", i + 1, err);
	ck_assert_msg(!visit(c), "%s got a connection beyond its %d", c, CONCURRENT);
	ck_assert_msg((other = open_from(d, err, sizeof(err))) != NULL, "%s: %s", d, err);
	/* The cap refuses new connections; the held ones keep working. */
	for (int i = 0; i < CONCURRENT; i++) {
		snprintf(msg, sizeof(msg), "held %d\n", i);
		ck_assert_msg(h_client_echo(held[i], msg, 3000, err, sizeof(err)) == 0, "%s", err);
	}
	ck_assert_int_eq(entry_field(c, "conn_cur"), CONCURRENT);
	ck_assert_int_eq(entry_field(c, "gpc1"), 1); /* refusals for concurrency */
	ck_assert_int_eq(entry_field(c, "gpc0"), 0);
	ck_assert_int_eq(fe_stat("dcon") - dcon0, 1);
	/* One closes: room for one more. */
	h_client_close(held[0]);
	ck_assert_msg(H_WAIT(3000, entry_field(c, "conn_cur") == CONCURRENT - 1), "conn_cur stays %ld",
		      entry_field(c, "conn_cur"));
	ck_assert_msg((held[0] = open_from(c, err, sizeof(err))) != NULL, "%s after a close: %s", c, err);
	for (int i = 0; i < CONCURRENT; i++)
		h_client_close(held[i]);
	h_client_close(other);
}
END_TEST

/* ---------------------------------------------------------------- /metrics */

/* The build directory holds the bridge: <build>/tests/integration/it_limits ->
 * <build>/metrics-bridge/mcs-lb-metrics. */
static void bridge_path(char *out, size_t outlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(self, '/');
		ck_assert_ptr_nonnull(slash);
		*slash = '\0';
	}
	snprintf(out, outlen, "%s/metrics-bridge/mcs-lb-metrics", self);
	ck_assert_msg(access(out, X_OK) == 0, "%s is not built", out);
}

/* GET /metrics over plain HTTP/1.0; the body (malloc'd), or NULL. */
static char *get_metrics(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	static const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	struct timeval tv = {5, 0};
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	ssize_t r = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (buf == NULL || connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
		goto fail;
	while ((r = read(fd, buf + len, cap - len - 1)) > 0)
		if ((len += (size_t)r) + 1 == cap && (buf = realloc(buf, cap *= 2)) == NULL)
			goto fail;
	buf[len] = '\0';
	char *body = strstr(buf, "\r\n\r\n");
	if (r < 0 || strncmp(buf, "HTTP/1.", 7) != 0 || strstr(buf, " 200 ") == NULL || body == NULL)
		goto fail;
	memmove(buf, body + 4, strlen(body + 4) + 1);
	close(fd);
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

/* A sample's value on the page, or -1. */
static double sample(const char *page, const char *series)
{
	size_t len = strlen(series);
	for (const char *p = page; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, len) == 0 && p[len] == ' ')
			return strtod(p + len + 1, NULL);
	return -1;
}

/* Starts mcs-lb-metrics on a port of its choosing (PROMETHEUS_PORT=0), read from its log
 * <name>.log (one name per bridge: a log is appended to). */
static int bridge_start(const char *name)
{
	char bin[PATH_MAX], run[H_PATH_MAX + 16];
	static const char mark[] = "started: http://127.0.0.1:";
	int port = 0;
	bridge_path(bin, sizeof(bin));
	snprintf(run, sizeof(run), "MCS_RUN_DIR=%s", H.run_dir);
	const char *env[] = {"PROMETHEUS_PORT=0", run, "MCS_METRICS_BIND_ADDR=127.0.0.1", "MCS_LOG_LEVEL=debug", NULL};
	const char *argv[] = {bin, NULL};
	struct h_proc *p = h_spawn(name, argv, env);
	ck_assert_msg(p != NULL, "%s", h_error());
	for (uint64_t end = h_now_ms() + 10000; port == 0 && h_now_ms() < end && h_proc_running(p);) {
		char *log = h_read_file(p->log, NULL);
		const char *m = log ? strstr(log, mark) : NULL;
		if (m != NULL && strchr(m, '\n') != NULL)
			port = atoi(m + strlen(mark));
		free(log);
		if (port == 0)
			h_sleep_ms(H_STEP_MS);
	}
	ck_assert_msg(port > 0, "the bridge did not log its port (see %s)", p->log);
	return port;
}

/* Samples of the families this suite cares about, with HAProxy's own counter beside them. */
static int metrics_match(int port, long want_refused_min, double *refused, double *entries, double *size)
{
	char *page = get_metrics(port);
	if (page == NULL)
		return 0;
	*refused = sample(page, "lb_limit_refused_connections_total");
	*entries = sample(page, "lb_limit_table_entries");
	*size = sample(page, "lb_limit_table_size");
	int ok = strstr(page, "# TYPE lb_limit_refused_connections_total counter\n") != NULL &&
		 strstr(page, "# HELP lb_limit_table_entries ") != NULL && *refused >= (double)want_refused_min &&
		 *refused == (double)fe_stat("dcon") && *size == TABLE_SIZE && *entries == (double)table_used();
	free(page);
	return ok;
}

/* The sample of lb_limit_refused_by_reason_total for reason, -1 when absent. */
static double reason_count(int port, const char *reason)
{
	char series[96];
	snprintf(series, sizeof(series), "lb_limit_refused_by_reason_total{reason=\"%s\"}", reason);
	char *page = get_metrics(port);
	double v = page != NULL ? sample(page, series) : -1;
	free(page);
	return v;
}

START_TEST(test_refused_count_in_metrics)
{
	const char *e = "127.0.0.6";
	node_up();
	int port = bridge_start("bridge-limits");
	for (int i = 0; i < RATE + 2; i++)
		visit(e);
	double refused = -1, entries = -1, size = -1;
	int ok = H_WAIT(10000, metrics_match(port, 2, &refused, &entries, &size));
	printf("/metrics: lb_limit_refused_connections_total %g (dcon %ld), lb_limit_table_entries %g, "
	       "lb_limit_table_size %g\n",
	       refused, fe_stat("dcon"), entries, size);
	ck_assert_msg(ok, "/metrics does not match HAProxy's counters");
	ck_assert_double_ge(entries, 1);
	/* By reason: the table mcs_refused, which only the admin socket shows, read by the
	 * controller's refusals job and carried to the bridge in controller.json. */
	double by_rate = -1;
	ok = H_WAIT(10000, (by_rate = reason_count(port, "rate")) >= 2);
	printf("/metrics: lb_limit_refused_by_reason_total{reason=\"rate\"} %g\n", by_rate);
	ck_assert_msg(ok, "the refusals by reason did not reach /metrics");
}
END_TEST

/* ---------------------------------------------------------------- the handshake bound */

/* A TLS 1.3 ClientHello as OpenSSL writes it, into buf; returns its length. */
static size_t client_hello(unsigned char *buf, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
	ck_assert(ssl != NULL && in != NULL && out != NULL);
	SSL_set_bio(ssl, in, out);
	SSL_set_tlsext_host_name(ssl, "localhost");
	ck_assert_int_eq(SSL_connect(ssl), -1); /* wants the server's answer */
	int n = BIO_read(out, buf, (int)cap);
	ck_assert_int_gt(n, 100);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return (size_t)n;
}

/* 1 while the peer has neither closed (FIN) nor reset fd; pending bytes (a TLS session
 * ticket) do not count. */
static int still_open(int fd)
{
	struct pollfd p = {fd, POLLRDHUP, 0};
	return poll(&p, 1, 0) != 1; /* 1: RDHUP, HUP or ERR; -1 (EINTR): look again at the next step */
}

START_TEST(test_stalled_handshake_is_cut)
{
	enum { SILENT, HALF_HELLO, HELLO_ONLY, N_STALL };
	static const char *const what[] = {"connects and sends nothing", "sends half a ClientHello",
					   "sends a ClientHello, then nothing"};
	unsigned char hello[4096];
	size_t hello_len = client_hello(hello, sizeof(hello));
	char err[256];
	int fd[N_STALL];
	uint64_t closed[N_STALL] = {0};
	node_up();
	/* A chat client that finished its handshake and then says nothing for longer than the bound. */
	struct h_client *idle = open_from("127.0.0.9", err, sizeof(err));
	ck_assert_msg(idle != NULL, "%s", err);
	uint64_t start = h_now_ms();
	for (int i = 0; i < N_STALL; i++) {
		ck_assert_int_ne(fd[i] = tcp_from("127.0.0.10", err, sizeof(err)), -1);
		size_t len = i == SILENT ? 0 : i == HALF_HELLO ? hello_len / 2 : hello_len;
		ck_assert_int_eq(write(fd[i], hello, len), (ssize_t)len);
	}
	/* Each is closed by HAProxy (EOF or reset) once the bound has passed. */
	for (int open = N_STALL; open > 0 && h_now_ms() < start + (HANDSHAKE_S + 5) * 1000;) {
		struct pollfd p[N_STALL];
		for (int i = 0; i < N_STALL; i++)
			p[i] = (struct pollfd){closed[i] ? -1 : fd[i], POLLIN, 0};
		ck_assert_int_ge(poll(p, N_STALL, 200), 0);
		for (int i = 0; i < N_STALL; i++) {
			char buf[4096];
			ssize_t r = -1;
			errno = EAGAIN;
			while (p[i].revents && (r = read(fd[i], buf, sizeof(buf))) > 0)
				; /* a server flight in answer to the ClientHello */
			if (p[i].revents && !closed[i] && (r == 0 || errno != EAGAIN)) {
				closed[i] = h_now_ms();
				open--;
			}
		}
	}
	for (int i = 0; i < N_STALL; i++) {
		long took = closed[i] ? (long)(closed[i] - start) : -1;
		printf("handshake bound %d s: a client that %s was cut after %ld ms\n", HANDSHAKE_S, what[i], took);
		ck_assert_msg(took >= HANDSHAKE_S * 1000 - 300 && took <= HANDSHAKE_S * 1000 + 1500,
			      "a client that %s was cut after %ld ms (bound %d s)", what[i], took, HANDSHAKE_S);
		close(fd[i]);
	}
	/* The bound is on the handshake only: the idle chat connection, idle since before start, stays
	 * open past the bound and still works. */
	int stayed = H_HOLDS(500, still_open(idle->fd));
	ck_assert_msg(stayed, "an idle chat connection was closed by HAProxy after %llu ms",
		      (unsigned long long)(h_now_ms() - start));
	ck_assert_msg(h_client_echo(idle, "still here\n", 3000, err, sizeof(err)) == 0,
		      "an idle chat connection was cut after %llu ms: %s", (unsigned long long)(h_now_ms() - start),
		      err);
	h_client_close(idle);
}
END_TEST

/* ---------------------------------------------------------------- limits off */

START_TEST(test_limits_off_nobody_refused)
{
	const char *f = "127.0.0.7";
	enum { N = 20 }; /* beyond both limits of the other case */
	struct h_client *held[N];
	char err[256];
	node_up();
	for (int i = 0; i < N; i++)
		ck_assert_msg((held[i] = open_from(f, err, sizeof(err))) != NULL, "connection %d refused: %s", i + 1,
			      err);
	for (int i = 0; i < N; i++)
		ck_assert(visit(f));
	ck_assert_int_eq(fe_stat("dcon"), 0);
	ck_assert_int_eq(table_used(), 0); /* nothing is even tracked */
	printf("limits off: %d held and %d more from %s, none refused\n", N, N, f);
	for (int i = 0; i < N; i++)
		h_client_close(held[i]);
}
END_TEST

/* ---------------------------------------------------------------- bandwidth */

/* MCS_LIMIT_BYTES_PER_S in the bandwidth cases (each direction, per address; burst: one
 * second's worth). Rates are measured from BW_FROM_MS, when the burst is long spent, to
 * BW_TO_MS, and must be within BW_TOLERANCE of the limit. */
#define BW_LIMIT 100000
#define BW_FROM_MS 1000
#define BW_TO_MS 4000
#define BW_TOLERANCE 0.15
#define BW_EXEMPT_BYTES (3 << 20) /* an exempt client reads this much, then stops: 10x the limit */

/* A chat node that streams, in threads of the test process: a client that says "D\n" gets bytes
 * as fast as HAProxy takes them; every byte one that says "U\n" sends is counted. */
static atomic_ullong node_uploaded;

static void *node_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static const char zeros[16384];
	char cmd[2] = {0}, buf[16384];
	ssize_t r;
	if (recv(fd, cmd, 2, MSG_WAITALL) == 2 && cmd[0] == 'D') {
		for (uint64_t end = h_now_ms() + 60000; h_now_ms() < end;)
			if (send(fd, zeros, sizeof(zeros), MSG_NOSIGNAL) <= 0)
				break;
	} else if (cmd[0] == 'U') {
		while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
			atomic_fetch_add(&node_uploaded, (unsigned long long)r);
	}
	close(fd);
	return NULL;
}

static void *node_accept(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	for (;;) {
		pthread_t t;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1 && errno != EINTR && errno != ECONNABORTED)
			return NULL;
		if (fd != -1 && pthread_create(&t, NULL, node_conn, (void *)(intptr_t)fd) != 0)
			close(fd);
		else if (fd != -1)
			pthread_detach(t);
	}
}

/* Starts the streaming node, heartbeats it and waits until HAProxy serves it; its member name
 * goes to name (for stream_node_down). */
static void stream_node_up(char *name, size_t len)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	pthread_t t;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert(fd != -1 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 64) == 0 &&
		  getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
	ck_assert_int_eq(pthread_create(&t, NULL, node_accept, (void *)(intptr_t)fd), 0);
	pthread_detach(t);
	snprintf(name, len, "127.0.0.1:%d", ntohs(a.sin_port));
	ck_assert_msg(h_hb_add(name) == 0, "%s", h_error());
	ck_assert_msg(H_WAIT(10000, h_srv_ready(name)), "node %s is not served by HAProxy", name);
}

/* The node leaves Redis now, so that the next test's clients do not meet it once it is gone. */
static void stream_node_down(const char *name)
{
	h_hb_remove(name);
	redisReply *r = h_redis_cmd("ZREM mcs:node %s", name);
	ck_assert_ptr_nonnull(r);
	freeReplyObject(r);
}

/* One client of a bandwidth case. */
struct bw_client {
	const char *src;        /* source address */
	int upload;             /* 1: sends as fast as it may (the node counts); 0: reads the stream */
	unsigned long long cap; /* stops reading there (0: never) */
	struct h_client *c;
	unsigned long long bytes, at_from, at_to; /* read so far; at BW_FROM_MS and BW_TO_MS */
	int closed;                               /* the connection ended (it must not) */
};

static void bw_open(struct bw_client *v, int n)
{
	char err[256];
	for (int i = 0; i < n; i++) {
		uint64_t end = h_now_ms() + 5000;
		int r;
		ck_assert_msg((v[i].c = tls_from(v[i].src, err, sizeof(err))) != NULL, "%s", err);
		while ((r = SSL_write(v[i].c->ssl, v[i].upload ? "U\n" : "D\n", 2)) <= 0)
			ck_assert_msg(ssl_wait(v[i].c, r, end) == 0, "%s: cannot send its request", v[i].src);
	}
}

/* Reads or writes what it may without waiting. */
static void bw_step(struct bw_client *v)
{
	static const char zeros[16384];
	static char buf[16384];
	int r;
	for (int rounds = 0; rounds < 64 && (v->cap == 0 || v->bytes < v->cap); rounds++) {
		r = v->upload ? SSL_write(v->c->ssl, zeros, sizeof(zeros)) : SSL_read(v->c->ssl, buf, sizeof(buf));
		if (r <= 0) {
			int e = SSL_get_error(v->c->ssl, r);
			v->closed = e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
			ERR_clear_error();
			return;
		}
		v->bytes += (unsigned long long)r;
	}
}

/* Runs the clients for BW_TO_MS, each as fast as its limit lets it; uploaded bytes are read
 * from the node at the same two moments (up[0], up[1]). */
static void bw_run(struct bw_client *v, int n, unsigned long long up[2])
{
	struct pollfd p[8];
	int marked = 0;
	ck_assert_int_le(n, 8);
	uint64_t t0 = h_now_ms();
	for (uint64_t now = t0; now - t0 < BW_TO_MS; now = h_now_ms()) {
		if (!marked && now - t0 >= BW_FROM_MS) {
			for (int i = 0; i < n; i++)
				v[i].at_from = v[i].bytes;
			up[0] = atomic_load(&node_uploaded);
			marked = 1;
		}
		for (int i = 0; i < n; i++) {
			int done = v[i].closed || (v[i].cap != 0 && v[i].bytes >= v[i].cap);
			p[i] = (struct pollfd){done ? -1 : v[i].c->fd, v[i].upload ? POLLOUT : POLLIN, 0};
		}
		ck_assert_int_ge(poll(p, (nfds_t)n, 10), 0);
		for (int i = 0; i < n; i++)
			if (p[i].revents != 0)
				bw_step(&v[i]);
	}
	for (int i = 0; i < n; i++)
		v[i].at_to = v[i].bytes;
	up[1] = atomic_load(&node_uploaded);
}

/* Bytes per second of one or more clients of an address over the measured window. */
static double bw_rate(const struct bw_client *v, int n)
{
	unsigned long long bytes = 0;
	for (int i = 0; i < n; i++)
		bytes += v[i].at_to - v[i].at_from;
	return (double)bytes * 1000.0 / (BW_TO_MS - BW_FROM_MS);
}

static void bw_assert_limited(const char *what, double rate, double limit)
{
	printf("bandwidth: %s %.0f bytes/s (limit %.0f)\n", what, rate, limit);
	ck_assert_msg(rate >= limit * (1 - BW_TOLERANCE) && rate <= limit * (1 + BW_TOLERANCE),
		      "%s: %.0f bytes/s, not within %.0f%% of %.0f", what, rate, BW_TOLERANCE * 100, limit);
}

static void bw_close(struct bw_client *v, int n)
{
	for (int i = 0; i < n; i++) {
		ck_assert_msg(!v[i].closed, "the connection from %s was cut", v[i].src);
		h_client_close(v[i].c);
	}
}

/* The Lua limit's counters on the read-only socket: field "<name>: <n>", -1 when absent. */
static long long bwlim_field(const char *name)
{
	char *reply = hap(H.stats_sock, "show mcs bwlim"), want[64];
	snprintf(want, sizeof(want), "%s: ", name);
	const char *p = strstr(reply, want);
	long long v = p != NULL ? strtoll(p + strlen(want), NULL, 10) : -1;
	free(reply);
	return v;
}

/* The threads (a mask) running the connections from src, from `show sess all` (admin socket):
 * each session's block names its "source=<src>:<port>" before its task's "tmask=0x<mask>". */
static unsigned long sess_threads(const char *src)
{
	char *reply = hap(H.admin_sock, "show sess all"), want[80];
	unsigned long mask = 0;
	snprintf(want, sizeof(want), "source=%s:", src);
	for (const char *p = strstr(reply, want), *t; p != NULL; p = strstr(p + 1, want))
		if ((t = strstr(p, "tmask=0x")) != NULL)
			mask |= strtoul(t + 8, NULL, 16);
	free(reply);
	return mask;
}

/* Entries in the limit table (mcs_tls) now, from `show table` on the read-only socket. */
static long bw_table_used(void)
{
	char *reply = hap(H.stats_sock, "show table"), *p = strstr(reply, "# table: mcs_tls,");
	long used = p != NULL && (p = strstr(p, "used:")) != NULL ? strtol(p + 5, NULL, 10) : -1;
	free(reply);
	return used;
}

/* lb_limit_throttled_bytes_total on the bridge's page (also in *out), -1 when absent or the
 * family is not declared a counter. */
static double throttled_in_metrics(int port, double *out)
{
	char *page = get_metrics(port);
	*out = page != NULL && strstr(page, "# TYPE lb_limit_throttled_bytes_total counter\n") != NULL
		       ? sample(page, "lb_limit_throttled_bytes_total")
		       : -1;
	free(page);
	return *out;
}

static void setup_bw(const char *table_size, const char *expire_s, const char *bind_addr)
{
	char rate[16], conc[16], limit[16];
	snprintf(rate, sizeof(rate), "%d", RATE);
	snprintf(conc, sizeof(conc), "%d", CONCURRENT);
	snprintf(limit, sizeof(limit), "%d", BW_LIMIT);
	setenv_all(rate, conc);
	ck_assert_int_eq(setenv("MCS_LIMIT_BYTES_PER_S", limit, 1), 0);
	ck_assert_int_eq(setenv("MCS_LIMIT_TABLE_SIZE", table_size, 1), 0);
	ck_assert_int_eq(setenv("MCS_LIMIT_EXPIRE_S", expire_s, 1), 0);
	h_gateway_start(&(struct h_opts){.poll_ms = 250, .bind_addr = bind_addr});
}

static void setup_bandwidth(void) { setup_bw("1000", "300", NULL); }
static void setup_bandwidth_table(void) { setup_bw("1", "1", NULL); }
static void setup_bandwidth_ipv6(void) { setup_bw("1000", "300", "::1"); }

/* One address with two connections, a second address, an uploading address and an exempt one,
 * all at once: each address (each direction) gets the limit whatever the others do, the exempt
 * one is not limited, and the bytes that waited are in /metrics. */
START_TEST(test_bw_per_address)
{
	char node[H_NAME_MAX], cmd[128];
	stream_node_up(node, sizeof(node));
	snprintf(cmd, sizeof(cmd), "set table mcs_tls key ::ffff:127.0.0.4 data.gpt0 1");
	free(hap(H.admin_sock, cmd));
	struct bw_client v[] = {{.src = "127.0.0.2"},
				{.src = "127.0.0.2"},
				{.src = "127.0.0.3"},
				{.src = "127.0.0.5", .upload = 1},
				{.src = "127.0.0.4", .cap = BW_EXEMPT_BYTES}};
	unsigned long long up[2];
	bw_open(v, 5);
	uint64_t t0 = h_now_ms();
	bw_run(v, 5, up);
	/* The two connections of 127.0.0.2 run on different threads: the limit holds across them. */
	unsigned long threads = sess_threads("127.0.0.2");
	printf("bandwidth: 127.0.0.2's connections on threads 0x%lx\n", threads);
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		ck_assert_msg(__builtin_popcountl(threads) == 2, "127.0.0.2's connections on threads 0x%lx", threads);
	printf("bandwidth: 127.0.0.2's two connections %.0f + %.0f bytes/s\n", bw_rate(&v[0], 1), bw_rate(&v[1], 1));
	bw_assert_limited("127.0.0.2, two connections together", bw_rate(v, 2), BW_LIMIT);
	for (int i = 0; i < 2; i++) /* they take turns: neither starves */
		ck_assert_msg(bw_rate(&v[i], 1) >= BW_LIMIT / 4, "connection %d of 127.0.0.2 starved", i + 1);
	bw_assert_limited("127.0.0.3, at the same time", bw_rate(&v[2], 1), BW_LIMIT);
	bw_assert_limited("127.0.0.5 uploading, at the same time",
			  (double)(up[1] - up[0]) * 1000.0 / (BW_TO_MS - BW_FROM_MS), BW_LIMIT);
	printf("bandwidth: exempt 127.0.0.4 read %llu bytes in %llu ms\n", v[4].bytes,
	       (unsigned long long)(h_now_ms() - t0));
	ck_assert_msg(v[4].bytes >= BW_EXEMPT_BYTES, "exempt 127.0.0.4 read only %llu bytes", v[4].bytes);
	bw_close(v, 5);

	/* The bytes that waited: on the read-only socket, and in /metrics. */
	long long throttled = bwlim_field("throttled_bytes");
	printf("bandwidth: show mcs bwlim: throttled_bytes %lld\n", throttled);
	ck_assert_int_gt(throttled, 3 * (BW_TO_MS - BW_FROM_MS) * BW_LIMIT / 1000);
	/* As many threads as HAProxy chooses with the filter off (one per CPU): one Lua copy each. */
	char *info = hap(H.stats_sock, "show info");
	const char *nb = strstr(info, "\nNbthread: ");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	ck_assert_msg(nb != NULL && (cpus < 2 || strtol(nb + 11, NULL, 10) >= 2), "%ld CPUs, show info: %.300s", cpus,
		      info);
	free(info);
	int port = bridge_start("bridge-bandwidth");
	double exported = -1;
	ck_assert_msg(H_WAIT(10000, throttled_in_metrics(port, &exported) >= (double)throttled),
		      "/metrics: lb_limit_throttled_bytes_total %g, HAProxy %lld", exported, throttled);
	stream_node_down(node);
}
END_TEST

/* The pid of the worker answering the stats socket, or -1. */
static long worker_pid(void)
{
	char *info = h_hap_cmd(H.stats_sock, "show info");
	const char *p = info ? strstr(info, "\nPid: ") : NULL;
	long pid = p != NULL ? strtol(p + 6, NULL, 10) : -1;
	free(info);
	return pid;
}

/* A reload starts a new worker whose buckets start afresh, full: the limit holds again. */
START_TEST(test_bw_reload)
{
	char node[H_NAME_MAX];
	stream_node_up(node, sizeof(node));
	long old_pid = worker_pid(), new_pid = old_pid;
	ck_assert_int_gt(old_pid, 0);
	ck_assert_int_eq(kill(H.haproxy->pid, SIGUSR2), 0);
	ck_assert_msg(H_WAIT(10000, (new_pid = worker_pid()) > 0 && new_pid != old_pid),
		      "no new worker after the reload");
	printf("bandwidth: reloaded (worker %ld -> %ld), throttled_bytes %lld\n", old_pid, new_pid,
	       bwlim_field("throttled_bytes"));
	struct bw_client v[] = {{.src = "127.0.0.6"}, {.src = "127.0.0.6"}};
	unsigned long long up[2];
	bw_open(v, 2);
	bw_run(v, 2, up);
	bw_assert_limited("127.0.0.6 after a reload, two connections together", bw_rate(v, 2), BW_LIMIT);
	bw_close(v, 2);
	stream_node_down(node);
}
END_TEST

/* HAProxy refuses to start on a bad value, with one line naming the variable. */
static void bw_refused(const char *name, const char *value, const char *want)
{
	char dir[H_PATH_MAX + 32], pem[H_PATH_MAX + 48], port[16], out[8192];
	snprintf(dir, sizeof(dir), "%s/run-refused", H.dir);
	snprintf(pem, sizeof(pem), "%s/server.pem", H.run_dir);
	char *cert = h_read_file(pem, NULL);
	ck_assert_ptr_nonnull(cert);
	ck_assert(mkdir(dir, 0700) == 0 || errno == EEXIST);
	snprintf(pem, sizeof(pem), "%s/server.pem", dir);
	FILE *f = fopen(pem, "w");
	ck_assert(f != NULL && fputs(cert, f) >= 0 && fclose(f) == 0);
	free(cert);
	snprintf(port, sizeof(port), "%d", h_free_port());
	ck_assert(setenv("MCS_RUN_DIR", dir, 1) == 0 && setenv("MCS_PORT", port, 1) == 0 &&
		  setenv("MCS_BIND_ADDR", "127.0.0.1", 1) == 0 && setenv("MCS_LIMIT_BYTES_PER_S", "1000", 1) == 0);
	ck_assert_int_eq(value ? setenv(name, value, 1) : unsetenv(name), 0);
	const char *argv[] = {"haproxy", "-db", "-f", h_haproxy_cfg(), NULL};
	int rc = h_run(argv, out, sizeof(out), 10000);
	char *line = strstr(out, want);
	printf("bandwidth: %s=%s%s%s: haproxy exits %d: %.*s\n", name, value ? "\"" : "(unset)", value ? value : "",
	       value ? "\"" : "", rc, line ? (int)strcspn(line, "\n") : 0, line ? line : "");
	ck_assert_msg(rc > 0 && line != NULL, "haproxy exited %d without \"%s\":\n%s", rc, want, out);
}

START_TEST(test_bw_bad_values_refused)
{
	ck_assert_int_eq(setenv("MCS_HAPROXY_DIR", "/nonexistent", 1), 0);
	bw_refused("MCS_HAPROXY_DIR", NULL, "MCS_HAPROXY_DIR");
	char cfg_dir[H_PATH_MAX];
	snprintf(cfg_dir, sizeof(cfg_dir), "%.*s", (int)(strrchr(h_haproxy_cfg(), '/') - h_haproxy_cfg()),
		 h_haproxy_cfg());
	ck_assert_int_eq(setenv("MCS_HAPROXY_DIR", cfg_dir, 1), 0);
	bw_refused("MCS_LIMIT_BYTES_PER_S", "abc",
		   "MCS_LIMIT_BYTES_PER_S: \"abc\" is not a number of bytes per second");
	bw_refused("MCS_LIMIT_BYTES_PER_S", "4294967296", "MCS_LIMIT_BYTES_PER_S: \"4294967296\" is not");
	bw_refused("MCS_LIMIT_BURST_BYTES", "-1", "MCS_LIMIT_BURST_BYTES: \"-1\" is not a number of bytes");
}
END_TEST

/* MCS_LIMIT_TABLE_SIZE 1: the first address has the table's only entry, the next two share one
 * bucket, never unlimited; MCS_LIMIT_EXPIRE_S 1: idle addresses are forgotten and a new one has
 * the entry. */
START_TEST(test_bw_table_full_and_expiry)
{
	char node[H_NAME_MAX];
	stream_node_up(node, sizeof(node));
	struct bw_client v[] = {{.src = "127.0.0.2"}, {.src = "127.0.0.3"}, {.src = "127.0.0.4"}};
	unsigned long long up[2];
	bw_open(v, 1); /* the first address has the entry: 127.0.0.2, then the others */
	ck_assert_msg(H_WAIT(3000, bw_table_used() == 1), "127.0.0.2 is not in the table");
	bw_open(&v[1], 2);
	bw_run(v, 3, up);
	printf("bandwidth: beyond the table, 127.0.0.3 on threads 0x%lx, 127.0.0.4 on 0x%lx\n",
	       sess_threads("127.0.0.3"), sess_threads("127.0.0.4"));
	ck_assert_int_eq(bw_table_used(), 1);
	bw_assert_limited("127.0.0.2, the table's one address", bw_rate(&v[0], 1), BW_LIMIT);
	printf("bandwidth: beyond the table, 127.0.0.3 %.0f + 127.0.0.4 %.0f bytes/s\n", bw_rate(&v[1], 1),
	       bw_rate(&v[2], 1));
	bw_assert_limited("127.0.0.3 and 127.0.0.4, beyond the table, together", bw_rate(&v[1], 2), BW_LIMIT);
	bw_close(v, 3);
	uint64_t t0 = h_now_ms();
	ck_assert_msg(H_WAIT(5000, bw_table_used() == 0), "idle addresses are still in the table");
	printf("bandwidth: idle addresses forgotten %llu ms after their connections closed (expire 1 s)\n",
	       (unsigned long long)(h_now_ms() - t0));
	struct bw_client w[] = {{.src = "127.0.0.7"}, {.src = "127.0.0.8"}};
	bw_open(w, 1);
	ck_assert_msg(H_WAIT(3000, bw_table_used() == 1), "127.0.0.7 is not in the table");
	bw_open(&w[1], 1);
	bw_run(w, 2, up);
	bw_assert_limited("127.0.0.7, the table's one address now", bw_rate(&w[0], 1), BW_LIMIT);
	bw_assert_limited("127.0.0.8, beyond the table", bw_rate(&w[1], 1), BW_LIMIT);
	bw_close(w, 2);
	stream_node_down(node);
}
END_TEST

/* IPv6: two connections from ::1, on two threads, share its limit. */
START_TEST(test_bw_ipv6)
{
	char node[H_NAME_MAX];
	stream_node_up(node, sizeof(node));
	struct bw_client v[] = {{.src = "::1"}, {.src = "::1"}};
	unsigned long long up[2];
	bw_open(v, 2);
	bw_run(v, 2, up);
	unsigned long threads = sess_threads("::1");
	printf("bandwidth: ::1's connections on threads 0x%lx\n", threads);
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		ck_assert_msg(__builtin_popcountl(threads) == 2, "::1's connections on threads 0x%lx", threads);
	bw_assert_limited("::1, two connections together", bw_rate(v, 2), BW_LIMIT);
	bw_close(v, 2);
	ck_assert_int_eq(bw_table_used(), 1);
	stream_node_down(node);
}
END_TEST

/* Off (the default): the Lua filter is not even loaded. */
START_TEST(test_bw_off_not_loaded)
{
	char *reply = hap(H.stats_sock, "show mcs bwlim");
	ck_assert_msg(strncmp(reply, "Unknown command", 15) == 0, "show mcs bwlim: %s", reply);
	free(reply);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("limits");
	TCase *on = tcase_create("limits"), *off = tcase_create("off");
	tcase_add_unchecked_fixture(on, setup_on, teardown);
	tcase_add_unchecked_fixture(off, setup_off, teardown);
	tcase_add_test(on, test_rate_limit_per_address);
	tcase_add_test(on, test_lift_limit_for_one_address);
	tcase_add_test(on, test_concurrent_cap);
	tcase_add_test(on, test_refused_count_in_metrics);
	tcase_add_test(on, test_stalled_handshake_is_cut);
	tcase_add_test(off, test_limits_off_nobody_refused);
	tcase_add_test(off, test_bw_off_not_loaded);
	TCase *bw = tcase_create("bandwidth"), *bw_table = tcase_create("bandwidth_table");
	TCase *bw_ipv6 = tcase_create("bandwidth_ipv6");
	tcase_add_unchecked_fixture(bw, setup_bandwidth, teardown);
	tcase_add_unchecked_fixture(bw_table, setup_bandwidth_table, teardown);
	tcase_add_unchecked_fixture(bw_ipv6, setup_bandwidth_ipv6, teardown);
	tcase_add_test(bw, test_bw_per_address);
	tcase_add_test(bw, test_bw_reload);
	tcase_add_test(bw, test_bw_bad_values_refused);
	tcase_add_test(bw_table, test_bw_table_full_and_expiry);
	tcase_add_test(bw_ipv6, test_bw_ipv6);
	TCase *all[] = {on, off, bw, bw_table, bw_ipv6};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		tcase_set_timeout(all[i], 60);
		suite_add_tcase(s, all[i]);
	}
	return h_main(s);
}
