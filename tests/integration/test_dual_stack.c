/* Dual stack: with MCS_BIND_ADDR empty the gateway greets TLS clients on 127.0.0.1 and on ::1
 * (IPv4 ones keep their plain address), and the per-address concurrency limit holds ::1 to
 * its count while 127.0.0.1 goes on; with an explicit MCS_BIND_ADDR only that address listens.
 * No controller: the demo node is added over the admin socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define LIMIT 3 /* MCS_LIMIT_CONCURRENT */

static struct h_node node;

static void start(const char *bind_addr)
{
	static const char *const env[] = {"MCS_LIMIT_CONCURRENT=3", "MCS_ACCESS_LOG=on", NULL};
	h_gateway_start(&(struct h_opts){.without_controller = 1, .bind_addr = bind_addr, .haproxy_env = env});
	ck_assert_msg(h_node_start(&node) == 0, "%s", h_error());
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "add server mcs/%s %s", node.name, node.name);
	char *r = h_hap_cmd(H.admin_sock, cmd);
	ck_assert_msg(r != NULL && strstr(r, "New server registered") != NULL, "%s: %s", cmd, r ? r : h_error());
	free(r);
	snprintf(cmd, sizeof(cmd), "set server mcs/%s state ready", node.name);
	free(h_hap_cmd(H.admin_sock, cmd));
}

static void setup_any(void) { start(""); }
static void setup_explicit(void) { start("127.0.0.1"); }
static void teardown(void) { h_gateway_stop(); }

static struct h_client *greeted(const char *addr)
{
	char err[512];
	struct h_client *c = h_client_connect_addr(addr, H.mcs_port, err, sizeof(err));
	ck_assert_msg(c != NULL, "TLS client on %s: %s", addr, err);
	ck_assert_str_eq(c->node, node.name);
	return c;
}

/* The `show table mcs_tls` line of key (e.g. "::1"), malloc'd, or NULL. */
static char *table_entry(const char *key)
{
	char *reply = h_hap_cmd(H.admin_sock, "show table mcs_tls"), *out = NULL, pat[96];
	snprintf(pat, sizeof(pat), ": key=%s use=", key);
	char *p = reply ? strstr(reply, pat) : NULL;
	if (p != NULL)
		out = strndup(p, strcspn(p, "\n"));
	free(reply);
	return out;
}

/* 1 when the entry of key has the field " name=value" want, whole (the order of fields varies). */
static int entry_has(const char *key, const char *want)
{
	char *e = table_entry(key);
	const char *p = e ? strstr(e, want) : NULL;
	int ok = p != NULL && (p[strlen(want)] == ' ' || p[strlen(want)] == '\0');
	free(e);
	return ok;
}

/* 1 when the haproxy log has an access line of client addr. */
static int logged(const char *addr)
{
	char needle[96];
	snprintf(needle, sizeof(needle), " access client=%s client_port=", addr);
	return h_log_has(H.haproxy, needle, NULL, NULL);
}

START_TEST(test_both_families)
{
	char err[512];
	static const char *const addrs[] = {"127.0.0.1", "::1"};
	for (size_t i = 0; i < 2; i++) {
		struct h_client *c = greeted(addrs[i]);
		ck_assert_msg(h_client_echo(c, "over both families\n", 3000, err, sizeof(err)) == 0, "%s", err);
		h_client_close(c);
		ck_assert_msg(H_WAIT(5000, logged(addrs[i])), "no access line for %s in %s", addrs[i], H.haproxy->log);
		printf("%s: greeted by %s, logged as client=%s\n", addrs[i], node.name, addrs[i]);
	}
}
END_TEST

START_TEST(test_limit_per_ipv6_address)
{
	char err[512];
	struct h_client *held[LIMIT];
	for (int i = 0; i < LIMIT; i++)
		held[i] = greeted("::1");
	ck_assert_msg(H_WAIT(3000, entry_has("::1", " conn_cur=3")), "show table mcs_tls: %s", table_entry("::1"));

	/* One more from ::1 is refused before TLS; 127.0.0.1 is another address and goes on. */
	struct h_client *over = h_client_connect_addr("::1", H.mcs_port, err, sizeof(err));
	ck_assert_msg(over == NULL, "a connection from ::1 beyond its limit of %d was served", LIMIT);
	printf("::1 connection %d refused: %s\n", LIMIT + 1, err);
	struct h_client *v4 = greeted("127.0.0.1");
	ck_assert_msg(H_WAIT(3000, entry_has("::1", " gpc1=1")), "the refusal is not counted: %s", table_entry("::1"));
	ck_assert_msg(entry_has("::ffff:127.0.0.1", " conn_cur=1"), "IPv4 entry: %s", table_entry("::ffff:127.0.0.1"));
	char *e = table_entry("::1");
	printf("%s\n", e);
	free(e);

	/* One of ::1's connections ends: ::1 is served again. */
	h_client_close(held[0]);
	ck_assert_msg(H_WAIT(3000, entry_has("::1", " conn_cur=2")), "show table mcs_tls: %s", table_entry("::1"));
	held[0] = greeted("::1");
	for (int i = 0; i < LIMIT; i++)
		h_client_close(held[i]);
	h_client_close(v4);
}
END_TEST

/* An explicit MCS_BIND_ADDR keeps its meaning: 127.0.0.1 only, nothing on ::1. */
START_TEST(test_explicit_address)
{
	char err[512];
	h_client_close(greeted("127.0.0.1"));
	struct h_client *c = h_tls_open_addr("::1", H.mcs_port, 0, 0, err, sizeof(err));
	ck_assert_msg(c == NULL, "MCS_BIND_ADDR=127.0.0.1, yet ::1 was served");
	ck_assert_msg(strstr(err, "Connection refused") != NULL, "::1: %s", err);
	printf("MCS_BIND_ADDR=127.0.0.1: ::1 %s\n", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dual_stack");
	TCase *any = tcase_create("any_address"), *explicit = tcase_create("explicit_address");
	tcase_add_unchecked_fixture(any, setup_any, teardown);
	tcase_add_unchecked_fixture(explicit, setup_explicit, teardown);
	tcase_set_timeout(any, 60);
	tcase_set_timeout(explicit, 60);
	tcase_add_test(any, test_both_families);
	tcase_add_test(any, test_limit_per_ipv6_address);
	tcase_add_test(explicit, test_explicit_address);
	suite_add_tcase(s, any);
	suite_add_tcase(s, explicit);
	return h_main(s);
}
