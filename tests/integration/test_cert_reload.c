/* Certificate hot reload (controller/cert_watch.h) in this process against a real HAProxy:
 * a new pair on disk is swapped in over the runtime API (new clients see its certificate, a
 * connection opened before keeps echoing), a mismatched pair is refused once and the old
 * certificate stays, a crt name HAProxy does not know and a chain too big for the CLI fail cleanly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert_watch.h"
#include "hap_conn.h"
#include "harness.h"

static char cert[H_PATH_MAX + 32], key[H_PATH_MAX + 32], pem[H_PATH_MAX + 32];

static void setup(void)
{
	h_gateway_start(&(struct h_opts){.without_controller = 1});
	snprintf(cert, sizeof(cert), "%s/server.cert", H.tls_dir);
	snprintf(key, sizeof(key), "%s/server.key", H.tls_dir);
	snprintf(pem, sizeof(pem), "%s/server.pem", H.run_dir); /* also HAProxy's crt name */
}

static void teardown(void) { h_gateway_stop(); }

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "open %s", path);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void copy_file(const char *from, const char *to)
{
	size_t len = 0;
	char *data = h_read_file(from, &len);
	ck_assert_msg(data != NULL, "read %s", from);
	write_file(to, data, len);
	free(data);
}

/* Steps w every 50 ms until it returns non-zero (or timeout_ms); returns that, msg filled. */
static int step_until(struct cert_watch *w, struct hap_conn *c, char *msg, size_t msglen, unsigned timeout_ms)
{
	uint64_t end = h_now_ms() + timeout_ms;
	int rc = 0;
	while (rc == 0 && h_now_ms() < end) {
		rc = cert_watch_step(w, c, msg, msglen);
		if (rc == 0)
			h_sleep_ms(50);
	}
	return rc;
}

/* A TLS handshake through the frontend; 1 when the served leaf is the first cert of path. */
static int served_is(const char *path)
{
	char err[512];
	struct h_client *c = h_tls_open(H.mcs_port, 0, 0, err, sizeof(err));
	ck_assert_msg(c != NULL, "TLS client: %s", err);
	int same = h_client_cert_is(c, path);
	h_client_close(c);
	return same;
}

static struct h_client *held_client(struct hap_conn *c, struct h_node *node)
{
	char cmd[128], err[512], *reply = NULL;
	ck_assert_msg(h_node_start(node) == 0, "%s", h_error());
	snprintf(cmd, sizeof(cmd), "add server mcs/n1 127.0.0.1:%d id 1", node->port);
	ck_assert_msg(hap_conn_cmd(c, cmd, &reply) == 0, "%s", hap_conn_errstr(c));
	free(reply);
	ck_assert_msg(hap_conn_cmd(c, "set server mcs/n1 state ready", &reply) == 0, "%s", hap_conn_errstr(c));
	free(reply);
	struct h_client *cl = h_client_connect(H.mcs_port, err, sizeof(err));
	ck_assert_msg(cl != NULL, "client: %s", err);
	return cl;
}

START_TEST(test_swap_and_refuse)
{
	char msg[512], err[512], old_cert[H_PATH_MAX + 32], other_cert[H_PATH_MAX + 32], other_key[H_PATH_MAX + 32];
	struct hap_conn *c = hap_conn_new(H.admin_sock, 3000);
	struct h_node node;
	struct h_client *before = held_client(c, &node);
	ck_assert(h_client_cert_is(before, cert));
	snprintf(old_cert, sizeof(old_cert), "%s/old.cert", H.tls_dir);
	copy_file(cert, old_cert);
	struct cert_watch *w = cert_watch_new(cert, key, pem, pem);
	ck_assert(w != NULL);
	ck_assert_int_eq(step_until(w, c, msg, sizeof(msg), 600), 0); /* the served pair: nothing to do */

	/* A new pair, another key type. */
	ck_assert_msg(h_make_cert(cert, key, H_KEY_RSA_PKCS1) == 0, "%s", h_error());
	uint64_t t0 = h_now_ms();
	int rc = step_until(w, c, msg, sizeof(msg), 3000);
	ck_assert_msg(rc == 1, "swap: %d %s", rc, msg);
	printf("swapped after %llu ms: %s\n", (unsigned long long)(h_now_ms() - t0), msg);
	ck_assert_msg(strstr(msg, "subject CN=localhost") && strstr(msg, "notAfter") && strstr(msg, "SHA-256 "), "%s",
		      msg);
	ck_assert_msg(served_is(cert), "a new client does not see the new certificate");
	ck_assert_msg(!served_is(old_cert), "a new client still sees the old certificate");
	ck_assert_msg(served_is(pem), "the combined PEM does not hold the served certificate");
	ck_assert_msg(h_client_cert_is(before, old_cert), "the held connection's certificate changed");
	ck_assert_msg(h_client_echo(before, "still here\n", 3000, err, sizeof(err)) == 0, "held client: %s", err);
	ck_assert_int_eq(step_until(w, c, msg, sizeof(msg), 600), 0);

	/* A mismatched pair: refused once, not retried, the served certificate stays. */
	snprintf(other_cert, sizeof(other_cert), "%s/other.cert", H.tls_dir);
	snprintf(other_key, sizeof(other_key), "%s/other.key", H.tls_dir);
	ck_assert_msg(h_make_cert(other_cert, other_key, H_KEY_EC_SEC1) == 0, "%s", h_error());
	copy_file(cert, old_cert); /* what is served now */
	copy_file(other_cert, cert);
	rc = step_until(w, c, msg, sizeof(msg), 3000);
	ck_assert_msg(rc == -1, "mismatch: %d %s", rc, msg);
	printf("mismatch: %s\n", msg);
	ck_assert_msg(strstr(msg, "refused") != NULL && strchr(msg, '\n') == NULL, "%s", msg);
	ck_assert_int_eq(step_until(w, c, msg, sizeof(msg), 1000), 0); /* logged once */
	ck_assert_msg(served_is(old_cert) && served_is(pem), "a refused pair changed what is served");

	/* The key follows: the pair is whole again and goes in. */
	copy_file(other_key, key);
	rc = step_until(w, c, msg, sizeof(msg), 3000);
	ck_assert_msg(rc == 1, "after the key: %d %s", rc, msg);
	ck_assert_msg(served_is(other_cert), "the fixed pair is not served");
	ck_assert_msg(h_client_echo(before, "still here\n", 3000, err, sizeof(err)) == 0, "held client: %s", err);
	h_client_close(before);
	cert_watch_free(w);
	cert_watch_free(NULL);
	hap_conn_free(c);
}
END_TEST

START_TEST(test_haproxy_refuses)
{
	char msg[512], comb[H_PATH_MAX + 32], big[H_PATH_MAX + 32];
	struct hap_conn *c = hap_conn_new(H.admin_sock, 3000);
	snprintf(comb, sizeof(comb), "%s/elsewhere.pem", H.run_dir);
	ck_assert(cert_watch_new(cert, key, comb, "a b") == NULL);
	ck_assert(cert_watch_new(cert, key, comb, "x;show info") == NULL);
	ck_assert(cert_watch_new(cert, key, comb, "x <<") == NULL);
	/* A crt name HAProxy does not use: refused by HAProxy, not retried. */
	struct cert_watch *w = cert_watch_new(cert, key, comb, "/no/such/crt.pem");
	ck_assert(w != NULL);
	int rc = step_until(w, c, msg, sizeof(msg), 3000); /* comb does not exist: swapped at once */
	ck_assert_msg(rc == -1 && strstr(msg, "REJECTED") != NULL, "%d %s", rc, msg);
	printf("unknown crt: %s\n", msg);
	ck_assert_int_eq(step_until(w, c, msg, sizeof(msg), 1000), 0);
	cert_watch_free(w);

	/* A chain too big for HAProxy's CLI buffer: written for the next start, not sent. */
	size_t len = 0;
	char *leaf = h_read_file(cert, &len);
	ck_assert(leaf != NULL);
	snprintf(big, sizeof(big), "%s/big.cert", H.tls_dir);
	FILE *f = fopen(big, "w");
	ck_assert(f != NULL);
	for (int i = 0; i < 30; i++)
		fwrite(leaf, 1, len, f);
	fclose(f);
	free(leaf);
	w = cert_watch_new(big, key, comb, pem);
	rc = step_until(w, c, msg, sizeof(msg), 3000);
	printf("big chain: %s\n", msg);
	ck_assert_msg(rc == -1 && (strstr(msg, "next restart") != NULL || strstr(msg, "refused") != NULL), "%d %s", rc,
		      msg);
	ck_assert_msg(served_is(pem), "the served certificate changed");
	/* The connection is still in sync after all that. */
	char *reply = NULL;
	ck_assert_int_eq(hap_conn_cmd(c, "show info", &reply), 0);
	free(reply);
	cert_watch_free(w);
	hap_conn_free(c);
}
END_TEST

/* hap_conn_cmd_payload on the real binary: a payload that could end early or smuggle commands
 * is refused before sending; a good one runs, and its "+ " prompts are not in the reply. */
START_TEST(test_payload_rules)
{
	struct hap_conn *c = hap_conn_new(H.admin_sock, 3000);
	char cmd[H_PATH_MAX + 64], *reply = NULL;
	snprintf(cmd, sizeof(cmd), "set ssl cert %s", pem);
	static const struct {
		const char *data;
		size_t len;
	} bad[] = {
		{"line\n\nshow info\n", 17}, {"\nline\n", 6}, {"li\0ne\n", 7}, {"li\rne\n", 7}, {"", 0}, {"a\n\n", 3},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reply = (char *)"untouched";
		ck_assert_int_eq(hap_conn_cmd_payload(c, cmd, bad[i].data, bad[i].len, &reply), -1);
		ck_assert_msg(hap_conn_err(c) == HAP_ERR_INVALID, "payload %zu: %s", i, hap_err_name(hap_conn_err(c)));
		ck_assert(reply == NULL);
	}
	ck_assert_int_eq(hap_conn_cmd_payload(c, "show info;", "x\n", 2, &reply), -1);
	ck_assert_int_eq(hap_conn_err(c), HAP_ERR_INVALID);
	ck_assert_int_eq(hap_conn_cmd_payload(c, "set ssl cert x <<", "x\n", 2, &reply), -1);
	ck_assert_int_eq(hap_conn_err(c), HAP_ERR_INVALID);
	/* Not a PEM: HAProxy refuses, the connection stays in sync. */
	ck_assert_int_eq(hap_conn_cmd_payload(c, cmd, "hello\nworld", 11, &reply), -1);
	ck_assert_int_eq(hap_conn_err(c), HAP_ERR_REJECTED);
	ck_assert_msg(reply != NULL && strncmp(reply, "[3]: ", 5) == 0, "reply: %s", reply ? reply : "(null)");
	free(reply);
	/* The served PEM itself: a transaction is created (then aborted), reply without prompts. */
	size_t len = 0;
	char *data = h_read_file(pem, &len);
	ck_assert(data != NULL);
	ck_assert_msg(hap_conn_cmd_payload(c, cmd, data, len, &reply) == 0, "%s", hap_conn_errstr(c));
	free(data);
	ck_assert_msg(strncmp(reply, "[5]: Transaction created for certificate ", 41) == 0, "reply: %s", reply);
	free(reply);
	snprintf(cmd, sizeof(cmd), "abort ssl cert %s", pem);
	ck_assert_msg(hap_conn_cmd(c, cmd, &reply) == 0, "%s", hap_conn_errstr(c));
	ck_assert_msg(strstr(reply, "aborted") != NULL, "reply: %s", reply);
	free(reply);
	hap_conn_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cert_reload");
	TCase *tc = tcase_create("cert_reload");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_payload_rules);
	tcase_add_test(tc, test_swap_and_refuse);
	tcase_add_test(tc, test_haproxy_refuses);
	suite_add_tcase(s, tc);
	return h_main(s);
}
