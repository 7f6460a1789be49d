/* Redis over TLS and a Redis that misbehaves, against real redis-servers started with
 * --tls-port and certificates this suite makes (OpenSSL's API): the controller polls and
 * subscribes over TLS as an ACL user with a client certificate, a demo node registers over TLS
 * and is routed; a wrong CA, a wrong host name, an expired certificate, a plain-text server
 * behind rediss://, a TLS server behind redis:// and hostile reply headers each give one line
 * naming the problem while the current servers stay. A TCP relay in the test process stands
 * between the controller and Redis, so the server behind one REDIS_URL can be swapped. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "redis_conn.h"
#include "redis_src.h"

#define DAY (24L * 3600)

/* ---- certificates ---- */

static char path_ca[H_PATH_MAX], path_srv[H_PATH_MAX], path_srv_key[H_PATH_MAX];
static char path_client[H_PATH_MAX], path_client_key[H_PATH_MAX];
static char path_other_ca_srv[H_PATH_MAX], path_wrong_name[H_PATH_MAX], path_expired[H_PATH_MAX];
static char path_internal[H_PATH_MAX];

static X509 *cert_make(EVP_PKEY *key, const char *cn, const char *san, X509 *issuer, EVP_PKEY *issuer_key, long from_s,
		       long to_s)
{
	static long serial = 1;
	X509 *x = X509_new();
	ck_assert(x != NULL);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from_s);
	X509_gmtime_adj(X509_getm_notAfter(x), to_s);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	const char *ext[][2] = {
		{"basicConstraints", san ? "critical,CA:FALSE" : "critical,CA:TRUE"},
		{"keyUsage", san ? "critical,digitalSignature,keyEncipherment" : "critical,keyCertSign,cRLSign"},
		{"subjectKeyIdentifier", "hash"},
		{"subjectAltName", san},
	};
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		if (ext[i][1] == NULL)
			continue;
		X509_EXTENSION *e = X509V3_EXT_conf(NULL, &ctx, ext[i][0], ext[i][1]);
		ck_assert_msg(e != NULL, "extension %s", ext[i][0]);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	ck_assert(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static void pem_write(const char *path, X509 *cert, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert(cert ? PEM_write_X509(f, cert) == 1 : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
}

/* A leaf of issuer with san into <dir>/<name>.crt; every leaf shares the one key srv.key. */
static void leaf(char *path, const char *name, const char *san, X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *key,
		 long from_s, long to_s)
{
	snprintf(path, H_PATH_MAX, "%s/%s.crt", H.dir, name);
	X509 *x = cert_make(key, name, san, issuer, issuer_key, from_s, to_s);
	pem_write(path, x, NULL);
	X509_free(x);
}

static void certs_make(void)
{
	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *other_key = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256");
	ck_assert(ca_key != NULL && other_key != NULL && key != NULL);
	X509 *ca = cert_make(ca_key, "mcs test CA", NULL, NULL, NULL, -DAY, 30 * DAY);
	X509 *other = cert_make(other_key, "another CA", NULL, NULL, NULL, -DAY, 30 * DAY);
	snprintf(path_ca, sizeof(path_ca), "%s/ca.crt", H.dir);
	pem_write(path_ca, ca, NULL);
	snprintf(path_srv_key, sizeof(path_srv_key), "%s/srv.key", H.dir);
	pem_write(path_srv_key, NULL, key);
	leaf(path_srv, "srv", "DNS:localhost,IP:127.0.0.1", ca, ca_key, key, -DAY, 30 * DAY);
	leaf(path_client, "client", "DNS:mcs-controller", ca, ca_key, key, -DAY, 30 * DAY);
	snprintf(path_client_key, sizeof(path_client_key), "%s", path_srv_key);
	leaf(path_other_ca_srv, "srv-other-ca", "DNS:localhost,IP:127.0.0.1", other, other_key, key, -DAY, 30 * DAY);
	leaf(path_wrong_name, "srv-wrong-name", "DNS:other.example", ca, ca_key, key, -DAY, 30 * DAY);
	leaf(path_expired, "srv-expired", "DNS:localhost,IP:127.0.0.1", ca, ca_key, key, -30 * DAY, -DAY);
	leaf(path_internal, "srv-internal", "DNS:redis.internal", ca, ca_key, key, -DAY, 30 * DAY);
	X509_free(ca);
	X509_free(other);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(key);
}

/* A redis-server on a TLS port only, presenting cert (key srv.key); returns its port. */
static int tls_redis_start(const char *name, const char *cert, const char *auth_clients)
{
	char port[16];
	int p = h_free_port();
	snprintf(port, sizeof(port), "%d", p);
	const char *argv[] = {"redis-server",
			      "--port",
			      "0",
			      "--tls-port",
			      port,
			      "--bind",
			      "127.0.0.1",
			      "--save",
			      "",
			      "--appendonly",
			      "no",
			      "--dir",
			      H.dir,
			      "--tls-cert-file",
			      cert,
			      "--tls-key-file",
			      path_srv_key,
			      "--tls-ca-cert-file",
			      path_ca,
			      "--tls-auth-clients",
			      auth_clients,
			      NULL};
	struct h_proc *proc = h_spawn(name, argv, NULL);
	ck_assert_msg(proc != NULL, "%s", h_error());
	ck_assert_msg(H_WAIT(5000, h_log_has(proc, "Ready to accept connections", NULL, NULL)), "%s did not start",
		      name);
	return p;
}

/* ---- the relay: forwards to a port, or answers every read with hostile bytes ---- */

#define RELAY_PAIRS 16

static struct relay {
	int lfd, port;
	volatile int target; /* port to forward to; 0: answer with hostile */
	const char *volatile hostile;
	volatile int gen; /* bumped by relay_switch: existing connections are closed */
	volatile int stop;
	pthread_t thread;
} relay;

static void relay_close(int *a, int *b)
{
	if (*a != -1)
		close(*a);
	if (*b != -1)
		close(*b);
	*a = *b = -1;
}

static int relay_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd != -1 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Copies what from has to to; -1 on EOF or error. */
static int relay_copy(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0)
		return -1;
	if (to == -1) { /* hostile: whatever was asked, the same answer */
		const char *h = relay.hostile;
		return write(from, h, strlen(h)) == (ssize_t)strlen(h) ? 0 : -1;
	}
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w <= 0)
			return -1;
		off += w;
	}
	return 0;
}

static void *relay_run(void *arg)
{
	int client[RELAY_PAIRS], upstream[RELAY_PAIRS], gen = relay.gen;
	for (int i = 0; i < RELAY_PAIRS; i++)
		client[i] = upstream[i] = -1;
	while (!relay.stop) {
		if (gen != relay.gen) {
			for (int i = 0; i < RELAY_PAIRS; i++)
				relay_close(&client[i], &upstream[i]);
			gen = relay.gen;
		}
		struct pollfd p[1 + 2 * RELAY_PAIRS] = {{.fd = relay.lfd, .events = POLLIN}};
		for (int i = 0; i < RELAY_PAIRS; i++) {
			p[1 + 2 * i] = (struct pollfd){.fd = client[i], .events = POLLIN};
			p[2 + 2 * i] = (struct pollfd){.fd = upstream[i], .events = POLLIN};
		}
		if (poll(p, 1 + 2 * RELAY_PAIRS, 20) <= 0)
			continue;
		for (int i = 0; i < RELAY_PAIRS; i++) {
			if ((p[1 + 2 * i].revents && relay_copy(client[i], upstream[i]) == -1) ||
			    (p[2 + 2 * i].revents && relay_copy(upstream[i], client[i]) == -1))
				relay_close(&client[i], &upstream[i]);
		}
		if (p[0].revents & POLLIN) {
			int fd = accept4(relay.lfd, NULL, NULL, SOCK_CLOEXEC), i = 0;
			while (i < RELAY_PAIRS && client[i] != -1)
				i++;
			int up = relay.target ? relay_connect(relay.target) : -1;
			if (fd == -1 || i == RELAY_PAIRS || (relay.target && up == -1)) {
				relay_close(&fd, &up);
				continue;
			}
			client[i] = fd;
			upstream[i] = up;
		}
	}
	for (int i = 0; i < RELAY_PAIRS; i++)
		relay_close(&client[i], &upstream[i]);
	return arg;
}

static void relay_start(int target)
{
	relay.port = h_free_port();
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)relay.port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	relay.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(relay.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert(bind(relay.lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(relay.lfd, 16) == 0);
	relay.target = target;
	ck_assert(pthread_create(&relay.thread, NULL, relay_run, NULL) == 0);
}

/* From now on new connections go to target (0: hostile bytes); open ones are closed. */
static void relay_switch(int target, const char *hostile)
{
	relay.hostile = hostile;
	relay.target = target;
	relay.gen++;
}

static void relay_stop(void)
{
	relay.stop = 1;
	pthread_join(relay.thread, NULL);
	close(relay.lfd);
}

/* ---- the gateway: the harness's Redis on a plain port (for the test's own commands) and a
 * TLS port requiring client certificates; an ACL user for the controller ---- */

static int tls_port;
static char env_url[256], env_ca[H_PATH_MAX + 32], env_cert[H_PATH_MAX + 32], env_key[H_PATH_MAX + 32];

static void gateway_start(const char *scheme, int port, unsigned poll_ms)
{
	static char tls_port_s[16];
	certs_make();
	snprintf(tls_port_s, sizeof(tls_port_s), "%d", tls_port);
	snprintf(env_url, sizeof(env_url), "REDIS_URL=%s://mcs:s3cret@127.0.0.1:%d", scheme, port ? port : tls_port);
	snprintf(env_ca, sizeof(env_ca), "MCS_REDIS_CA_FILE=%s", path_ca);
	snprintf(env_cert, sizeof(env_cert), "MCS_REDIS_CERT_FILE=%s", path_client);
	snprintf(env_key, sizeof(env_key), "MCS_REDIS_KEY_FILE=%s", path_client_key);
	static const char *redis_args[32];
	const char *args[] = {"--tls-port", tls_port_s, "--tls-cert-file", path_srv, "--tls-key-file", path_srv_key,
			      "--tls-ca-cert-file", path_ca, "--tls-auth-clients", "yes", "--notify-keyspace-events",
			      "Kz",
			      /* What the handbook says the controller needs, and ZADD for the demo node. */
			      "--user", "mcs", "on", ">s3cret", "~mcs:node", "~mcs:node:agent",
			      "&__keyspace@0__:mcs:node", "+time", "+zrevrangebyscore", "+zcount", "+hgetall",
			      "+subscribe", "+config|get", "+zadd", NULL};
	memcpy(redis_args, args, sizeof(args));
	static const char *env[8];
	env[0] = env_url;
	env[1] = env_ca;
	env[2] = env_cert;
	env[3] = env_key;
	env[4] = "MCS_IO_TIMEOUT_MS=1000";
	env[5] = NULL;
	h_gateway_start(
		&(struct h_opts){.poll_ms = poll_ms, .ttl_ms = 3000, .controller_env = env, .redis_args = redis_args});
}

static void teardown(void) { h_gateway_stop(); }

/* ---- the good path ---- */

static void setup_tls(void)
{
	tls_port = h_free_port();
	gateway_start("rediss", 0, 60000);
}

/* Poll and notifications over TLS (mutual, as an ACL user): with polling once a minute, a demo
 * node that registers over TLS is routed within 2 s only through the notification. */
START_TEST(test_tls_poll_notify_demo_node)
{
	ck_assert_msg(H_WAIT(5000, h_log_has(H.controller, "keyspace notifications of", "subscribed", NULL)),
		      "the controller did not subscribe over TLS");
	int port = h_free_port();
	char listen[64], url[128], name[64];
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(name, sizeof(name), "127.0.0.1:%d", port);
	snprintf(url, sizeof(url), "rediss://mcs:s3cret@localhost:%d", tls_port);
	const char *argv[] = {H_DEMO_NODE_BIN, "--listen", listen, "--redis-url", url, "--heartbeat-ms", "500", NULL};
	const char *env[] = {env_ca, env_cert, env_key, NULL};
	uint64_t t0 = h_now_ms();
	struct h_proc *node = h_spawn("demo-tls", argv, env);
	ck_assert_msg(node != NULL, "%s", h_error());
	ck_assert_msg(H_WAIT(2000, h_srv_ready(name)), "demo node %s not routed within 2 s (poll is 60 s)", name);
	printf("demo node start -> routed over TLS notifications: %llu ms\n", (unsigned long long)(h_now_ms() - t0));
	char err[512];
	struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
	ck_assert_msg(c != NULL, "client: %s", err);
	ck_assert_str_eq(c->node, name);
	ck_assert_int_eq(h_client_echo(c, "over tls\n", 2000, err, sizeof(err)), 0);
	h_client_close(c);
	ck_assert(!h_log_has(H.controller, "redis:", "keeping the current servers", NULL));
	ck_assert(!h_log_has(node, "heartbeat to redis", NULL, NULL));
}
END_TEST

/* The transport in-process: MCS_REDIS_TLS_SERVER_NAME makes a certificate for another name
 * acceptable; a server requiring client certificates refuses a client without one; a CA file
 * that cannot be read is named. Each as redis_src_poll reports it. */
static int src_poll(int port, const char *ca, const char *cert, const char *server_name, char *err, size_t errlen)
{
	struct redis_conn_opts opts = {.host = "127.0.0.1",
				       .port = (unsigned)port,
				       .user = "mcs",
				       .password = "s3cret",
				       .tls = 1,
				       .ca_file = ca,
				       .cert_file = cert,
				       .key_file = cert ? path_client_key : NULL,
				       .server_name = server_name,
				       .timeout_ms = 2000};
	resp_limits_for_pairs(&opts.limits, 100);
	struct redis_src *src = redis_src_new(&opts, "mcs:node", NULL);
	ck_assert(src != NULL);
	struct node_list l = {0};
	int rc = redis_src_poll(src, 5000, 30000, 100, &l);
	snprintf(err, errlen, "%s", redis_src_errstr(src));
	node_list_clear(&l);
	redis_src_free(src);
	return rc;
}

START_TEST(test_tls_server_name_client_cert_ca_file)
{
	char err[256];
	int internal = tls_redis_start("redis-internal", path_internal, "no");
	ck_assert_msg(src_poll(internal, path_ca, NULL, NULL, err, sizeof(err)) == -1,
		      "accepted a certificate for another name");
	ck_assert_msg(strstr(err, "not valid for \"127.0.0.1\"") != NULL, "%s", err);
	ck_assert_msg(src_poll(internal, path_ca, NULL, "redis.internal", err, sizeof(err)) == -1, "no ACL user there");
	ck_assert_msg(strstr(err, "AUTH") != NULL, "TLS with the name redis.internal: %s", err); /* TLS passed */
	ck_assert_msg(src_poll(tls_port, path_ca, path_client, "localhost", err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(src_poll(tls_port, path_ca, NULL, NULL, err, sizeof(err)) == -1,
		      "no client certificate, yet served");
	printf("without a client certificate: %s\n", err);
	/* The server's alert, or a reset that lost it: either way the line points at the certificate. */
	ck_assert_msg(strstr(err, "does the server want a client certificate, MCS_REDIS_CERT_FILE?") != NULL, "%s",
		      err);
	ck_assert_msg(src_poll(tls_port, "/nonexistent/ca.pem", path_client, NULL, err, sizeof(err)) == -1,
		      "no CA file");
	ck_assert_msg(strstr(err, "cannot load the CA certificates /nonexistent/ca.pem") != NULL, "%s", err);
}
END_TEST

/* ---- the bad servers, one at a time behind the relay ---- */

static int bad_ports[4];

static void setup_relay_tls(void)
{
	tls_port = h_free_port();
	relay_start(tls_port);
	gateway_start("rediss", relay.port, 200);
}

static void teardown_relay(void)
{
	h_gateway_stop();
	relay_stop();
}

/* Lines of the controller's log holding needle. */
static int log_count(const char *needle)
{
	char *text = h_read_file(H.controller->log, NULL);
	int n = 0;
	for (const char *p = text; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(text);
	return n;
}

/* With the node live and routed, the server behind the URL becomes bad: one line naming the
 * problem, the node stays a ready server meanwhile, and all is well once the good one is back. */
START_TEST(test_tls_bad_servers)
{
	struct h_node n;
	ck_assert_msg(h_nodes_up(&n, 1, 5000) == 0, "node not routed over TLS: %s", h_error());
	const char *node = n.name;
	bad_ports[0] = tls_redis_start("redis-other-ca", path_other_ca_srv, "no");
	bad_ports[1] = tls_redis_start("redis-wrong-name", path_wrong_name, "no");
	bad_ports[2] = tls_redis_start("redis-expired", path_expired, "no");
	static const struct {
		int *port;
		const char *needle;
	} cases[] = {
		{&bad_ports[0], "certificate is refused: unable to get local issuer certificate"},
		{&bad_ports[1], "certificate is not valid for \"127.0.0.1\""},
		{&bad_ports[2], "certificate is refused: certificate has expired"},
		{&H.redis_port,
		 "no answer within 1000 ms: TLS handshake (no answer to the TLS hello: a plain-text Redis "
		 "behind rediss://?)"},
	};
	int recovered = log_count("redis: recovered"); /* the log is appended to by every test of the suite */
	for (int i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		int seen = log_count(cases[i].needle);
		relay_switch(*cases[i].port, NULL);
		ck_assert_msg(H_WAIT(5000, log_count(cases[i].needle) > seen), "case %d: no line with \"%s\"", i,
			      cases[i].needle);
		ck_assert_msg(H_HOLDS(1000, h_srv_ready(node)), "case %d: %s left while Redis was bad", i, node);
		relay_switch(tls_port, NULL);
		ck_assert_msg(H_WAIT(5000, log_count("redis: recovered") == recovered + i + 1),
			      "case %d: not recovered", i);
		printf("case %d: %d line(s) naming it\n", i, log_count(cases[i].needle) - seen);
	}
	ck_assert(h_srv_ready(node));
}
END_TEST

/* The controller on redis:// (plain text): a TLS server and hostile reply headers behind it. */
static void setup_relay_plain(void)
{
	tls_port = h_free_port();
	if (H.redis_port == 0)
		H.redis_port = h_free_port();
	relay_start(H.redis_port);
	gateway_start("redis", relay.port, 200);
}

static long rss_kb(pid_t pid)
{
	char path[64], *text, *p;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	long kb = -1;
	if ((text = h_read_file(path, NULL)) != NULL && (p = strstr(text, "VmRSS:")) != NULL)
		kb = strtol(p + 6, NULL, 10);
	free(text);
	return kb;
}

START_TEST(test_plain_tls_server_and_hostile_replies)
{
	struct h_node n;
	ck_assert_msg(h_nodes_up(&n, 1, 5000) == 0, "node not routed: %s", h_error());
	long rss0 = rss_kb(H.controller->pid);
	static const struct {
		int target; /* 1: the TLS port, 0: hostile bytes */
		const char *hostile;
		const char *needle;
	} cases[] = {
		{1, NULL, "use rediss://"},
		{0, "*4294967296\r\n",
		 "reply refused, connection dropped: an array of 4294967296 elements: more than the "
		 "200064 one reply may hold"},
		{0, "*3\r\n$3\r\nabc\r\n$9223372036854775807\r\n",
		 "a string of 9223372036854775807 bytes: more than the 65536"},
		{0, "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n", "arrays nested deeper than 4"},
		{0, "+OK", "no answer within 1000 ms"}, /* a reply that never ends */
	};
	int recovered = log_count("redis: recovered"); /* the log is appended to by every test of the suite */
	for (int i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		int seen = log_count(cases[i].needle);
		relay_switch(cases[i].target ? tls_port : 0, cases[i].hostile);
		ck_assert_msg(H_WAIT(5000, log_count(cases[i].needle) > seen), "case %d: no line with \"%s\"", i,
			      cases[i].needle);
		ck_assert_msg(H_HOLDS(1000, h_srv_ready(n.name)), "case %d: %s left while Redis was bad", i, n.name);
		relay_switch(H.redis_port, NULL);
		ck_assert_msg(H_WAIT(5000, log_count("redis: recovered") == recovered + i + 1),
			      "case %d: not recovered", i);
		printf("case %d: %d line(s) naming it\n", i, log_count(cases[i].needle) - seen);
	}
	long rss1 = rss_kb(H.controller->pid);
	printf("controller RSS before the hostile replies %ld kB, after %ld kB\n", rss0, rss1);
	ck_assert_msg(rss1 - rss0 < 16 * 1024, "RSS grew by %ld kB", rss1 - rss0);
}
END_TEST

/* Bad TLS settings stop start-up with one line naming the variable. */
START_TEST(test_bad_settings_refused)
{
	static const struct {
		const char *env, *needle;
	} cases[] = {
		{"MCS_REDIS_CA_FILE=/nonexistent/ca.pem", "MCS_REDIS_CA_FILE: \"/nonexistent/ca.pem\" cannot be read"},
		{"MCS_REDIS_CERT_FILE=/nonexistent/c.pem",
		 "MCS_REDIS_CERT_FILE: \"/nonexistent/c.pem\" cannot be read"},
		{"MCS_REDIS_TLS_SERVER_NAME=bad name", "MCS_REDIS_TLS_SERVER_NAME: \"bad name\" is not a host name"},
		{"REDIS_URL=rediss://:pw@h/x", "is not a usable redis:// or rediss:// URL"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[1024];
		const char *argv[] = {"env", cases[i].env, H_CONTROLLER_BIN, "--print-config", NULL};
		ck_assert_int_eq(h_run(argv, out, sizeof(out), 10000), 2);
		ck_assert_msg(strstr(out, cases[i].needle) != NULL, "%s: %s", cases[i].env, out);
		ck_assert_msg(strchr(out, '\n') == strrchr(out, '\n'), "more than one line: %s", out);
		ck_assert_msg(strstr(out, "pw") == NULL, "password shown: %s", out);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("redis_tls");
	TCase *tc = tcase_create("tls");
	tcase_add_checked_fixture(tc, setup_tls, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tls_poll_notify_demo_node);
	tcase_add_test(tc, test_tls_server_name_client_cert_ca_file);
	tcase_add_test(tc, test_bad_settings_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("bad");
	tcase_add_checked_fixture(tc, setup_relay_tls, teardown_relay);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_tls_bad_servers);
	suite_add_tcase(s, tc);
	tc = tcase_create("plain");
	tcase_add_checked_fixture(tc, setup_relay_plain, teardown_relay);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_plain_tls_server_and_hostile_replies);
	suite_add_tcase(s, tc);
	return h_main(s);
}
