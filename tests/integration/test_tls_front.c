/* Scenario 6, TLS on MCS_PORT: 1.1 refused, 1.2 and 1.3 accepted, the served certificate is
 * tls/server.cert; PKCS#1, PKCS#8 and SEC1 keys pass mcs-lb-tls-check and HAProxy serves with
 * them; a mismatched, missing or encrypted key is refused with one line naming the key file.
 * No controller here: servers are added over the admin socket, so only TLS is under test. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

static void setup(void) { h_gateway_start(&(struct h_opts){.without_controller = 1}); }

static void teardown(void) { h_gateway_stop(); }

/* Puts a demo node into backend mcs of the haproxy behind admin_sock, by hand. */
static void add_node_by_hand(const char *admin_sock, const struct h_node *n)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "add server mcs/%s %s", n->name, n->name);
	char *r = h_hap_cmd(admin_sock, cmd);
	ck_assert_msg(r != NULL && strstr(r, "New server registered") != NULL, "%s: %s", cmd, r ? r : h_error());
	free(r);
	snprintf(cmd, sizeof(cmd), "set server mcs/%s state ready", n->name);
	r = h_hap_cmd(admin_sock, cmd);
	ck_assert_msg(r != NULL, "%s: %s", cmd, h_error());
	free(r);
}

/* A TLS client reaches the node through port, sees cert and gets its bytes echoed. */
static void assert_serves(int port, const char *cert, const struct h_node *n)
{
	char err[512];
	struct h_client *c = h_client_connect(port, err, sizeof(err));
	ck_assert_msg(c != NULL, "TLS client on %d: %s", port, err);
	ck_assert_msg(h_client_cert_is(c, cert), "the served certificate is not %s", cert);
	ck_assert_str_eq(c->node, n->name);
	ck_assert_msg(h_client_echo(c, "ping over tls\n", 3000, err, sizeof(err)) == 0, "%s", err);
	h_client_close(c);
}

START_TEST(test_versions_and_certificate)
{
	char err[512], cert[H_PATH_MAX + 16];
	struct h_node n;
	snprintf(cert, sizeof(cert), "%s/server.cert", H.tls_dir);
	ck_assert_msg(h_node_start(&n) == 0, "%s", h_error());
	add_node_by_hand(H.admin_sock, &n);

	struct h_client *c = h_tls_open(H.mcs_port, TLS1_1_VERSION, TLS1_1_VERSION, err, sizeof(err));
	ck_assert_msg(c == NULL, "a TLS 1.1 handshake was accepted (%s)", c ? SSL_get_version(c->ssl) : "");
	/* The refusal must come from HAProxy (an alert), not from our own client settings. */
	ck_assert_msg(strstr(err, "alert protocol version") != NULL, "TLS 1.1 failed, but not by the server: %s", err);
	printf("TLS 1.1: refused by the server (%s)\n", err);

	static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
	for (size_t i = 0; i < 2; i++) {
		c = h_tls_open(H.mcs_port, versions[i], versions[i], err, sizeof(err));
		ck_assert_msg(c != NULL, "TLS version 0x%x refused: %s", versions[i], err);
		ck_assert_int_eq(SSL_version(c->ssl), versions[i]);
		ck_assert_msg(h_client_cert_is(c, cert), "served certificate differs from %s", cert);
		ck_assert_msg(h_client_hello(c, 5000, err, sizeof(err)) == 0, "%s", err);
		ck_assert_str_eq(c->node, n.name);
		ck_assert_msg(h_client_echo(c, "hello\n", 3000, err, sizeof(err)) == 0, "%s", err);
		printf("%s: accepted, certificate = tls/server.cert, landed on %s\n", SSL_get_version(c->ssl), c->node);
		h_client_close(c);
	}
}
END_TEST

static const struct {
	enum h_key_fmt fmt;
	const char *name;
} key_formats[] = {
	{H_KEY_RSA_PKCS1, "pkcs1-rsa"},
	{H_KEY_EC_PKCS8, "pkcs8-ec"},
	{H_KEY_EC_SEC1, "sec1-ec"},
};

/* Loop over the formats: each one gets its own haproxy, run dir and port. */
START_TEST(test_key_format)
{
	char dir[H_PATH_MAX + 32], run[H_PATH_MAX + 48], cert[H_PATH_MAX + 48], key[H_PATH_MAX + 48],
		pem[H_PATH_MAX + 64], msg[1024], admin[H_PATH_MAX + 64], hname[64];
	const char *name = key_formats[_i].name;
	snprintf(dir, sizeof(dir), "%s/%s", H.dir, name);
	snprintf(run, sizeof(run), "%s/run", dir);
	snprintf(cert, sizeof(cert), "%s/server.cert", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	snprintf(pem, sizeof(pem), "%s/server.pem", run);
	snprintf(admin, sizeof(admin), "%s/admin.sock", run);
	snprintf(hname, sizeof(hname), "haproxy-%s", name);
	ck_assert(mkdir(dir, 0700) == 0 && mkdir(run, 0700) == 0);
	ck_assert_msg(h_make_cert(cert, key, key_formats[_i].fmt) == 0, "%s", h_error());

	int rc = h_tls_check(cert, key, pem, msg, sizeof(msg));
	ck_assert_msg(rc == 0, "%s: mcs-lb-tls-check exit %d: %s", name, rc, msg);
	struct stat st;
	ck_assert_msg(stat(pem, &st) == 0 && (st.st_mode & 0777) == 0600, "%s is missing or not mode 0600", pem);

	struct h_node n;
	ck_assert_msg(h_node_start(&n) == 0, "%s", h_error());
	int port = h_free_port();
	struct h_proc *hap = h_haproxy_start(hname, run, port);
	ck_assert_msg(hap != NULL, "%s: haproxy did not start: %s", name, h_error());
	add_node_by_hand(admin, &n);
	assert_serves(port, cert, &n);
	printf("%s key: mcs-lb-tls-check ok, haproxy serves it\n", name);
	ck_assert_int_eq(h_proc_stop(hap, 5000), 0);
}
END_TEST

/* Runs the checker on a bad pair: exit 1, one line, naming the key file; OUT not written. */
static void assert_refused(const char *what, const char *cert, const char *key, const char *expect)
{
	char msg[1024], pem[H_PATH_MAX + 32];
	struct stat st;
	snprintf(pem, sizeof(pem), "%s/refused.pem", H.dir);
	int rc = h_tls_check(cert, key, pem, msg, sizeof(msg));
	ck_assert_msg(rc == 1, "%s: mcs-lb-tls-check exit %d (want 1): %s %s", what, rc, msg,
		      rc == -1 ? h_error() : "");
	ck_assert_msg(strncmp(msg, "mcs-lb-tls-check: ", 18) == 0, "%s: message \"%s\"", what, msg);
	ck_assert_msg(strchr(msg, '\n') == msg + strlen(msg) - 1, "%s: not exactly one line: \"%s\"", what, msg);
	ck_assert_msg(strstr(msg, key) != NULL, "%s: the message does not name %s: %s", what, key, msg);
	ck_assert_msg(expect == NULL || strstr(msg, expect) != NULL, "%s: the message does not say \"%s\": %s", what,
		      expect, msg);
	ck_assert_msg(stat(pem, &st) == -1, "%s: %s was written anyway", what, pem);
	printf("%s: refused: %s", what, msg);
}

START_TEST(test_bad_keys_refused)
{
	char cert_a[H_PATH_MAX + 16], key_a[H_PATH_MAX + 16], cert_b[H_PATH_MAX + 16], key_b[H_PATH_MAX + 16],
		enc[H_PATH_MAX + 16], missing[H_PATH_MAX + 16];
	snprintf(cert_a, sizeof(cert_a), "%s/a.cert", H.dir);
	snprintf(key_a, sizeof(key_a), "%s/a.key", H.dir);
	snprintf(cert_b, sizeof(cert_b), "%s/b.cert", H.dir);
	snprintf(key_b, sizeof(key_b), "%s/b.key", H.dir);
	snprintf(enc, sizeof(enc), "%s/encrypted.key", H.dir);
	snprintf(missing, sizeof(missing), "%s/no-such.key", H.dir);
	ck_assert_msg(h_make_cert(cert_a, key_a, H_KEY_EC_PKCS8) == 0, "%s", h_error());
	ck_assert_msg(h_make_cert(cert_b, key_b, H_KEY_EC_PKCS8) == 0, "%s", h_error());
	const char *gen_enc[] = {"openssl",      "genpkey",  "-algorithm",
				 "EC",           "-pkeyopt", "ec_paramgen_curve:P-256",
				 "-aes-256-cbc", "-pass",    "pass:secret",
				 "-out",         enc,        NULL};
	ck_assert_msg(h_run(gen_enc, NULL, 0, 30000) == 0, "cannot make an encrypted key: %s", h_error());

	assert_refused("mismatched key", cert_a, key_b, NULL);
	assert_refused("missing key", cert_a, missing, NULL);
	assert_refused("encrypted key", cert_a, enc, NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tls_front");
	TCase *tc = tcase_create("tls");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_versions_and_certificate);
	tcase_add_loop_test(tc, test_key_format, 0, (int)(sizeof(key_formats) / sizeof(key_formats[0])));
	tcase_add_test(tc, test_bad_keys_refused);
	suite_add_tcase(s, tc);
	return h_main(s);
}
