/* The runtime-API client (haproxy/hap_conn.h) against a real haproxy: one persistent prompt-mode
 * connection, refusals as -1 with HAProxy's text, commands carrying `;` or a newline refused
 * before sending, a reply far beyond one buffer read whole, the new worker reached after a
 * reload (hap_worker.h), and a reconnect after a restart. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hap_conn.h"
#include "hap_worker.h"
#include "harness.h"

#define N_MANY 1000

static void setup(void) { h_gateway_start(&(struct h_opts){.without_controller = 1}); }

static void teardown(void) { h_gateway_stop(); }

/* Runs cmd, which must succeed; returns the malloc'd reply. */
static char *must(struct hap_conn *c, const char *cmd)
{
	char *reply = NULL;
	int rc = hap_conn_cmd(c, cmd, &reply);
	ck_assert_msg(rc == 0, "%s: -1 (%s: %s)", cmd, hap_err_name(hap_conn_err(c)), hap_conn_errstr(c));
	ck_assert_msg(reply != NULL, "%s: 0 without a reply", cmd);
	return reply;
}

/* A numeric line "Name: value" of `show info`. */
static long info_field(const char *info, const char *name)
{
	char key[64];
	snprintf(key, sizeof(key), "\n%s: ", name);
	const char *p = strstr(info, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

START_TEST(test_prompt_mode_persistent)
{
	struct hap_conn *c = hap_conn_new(H.admin_sock, 3000);
	ck_assert(c != NULL);
	char *a = must(c, "show info"), *b = must(c, "show info");
	ck_assert_msg(strncmp(a, "Name: HAProxy", 13) == 0, "reply does not start with show info: %.60s", a);
	ck_assert_msg(strstr(a, "\n> ") == NULL && strncmp(a + strlen(a) - 2, "> ", 2) != 0, "the prompt leaked: %s",
		      a);
	/* CumConns counts runtime-socket connections too: one connection for both commands. */
	ck_assert_msg(info_field(a, "CumConns") == info_field(b, "CumConns"), "a new connection per command (%ld, %ld)",
		      info_field(a, "CumConns"), info_field(b, "CumConns"));
	free(a);
	free(b);
	/* Byte for byte what a plain socket client reads. */
	char *mine = must(c, "show backend"), *plain = h_hap_cmd(H.admin_sock, "show backend");
	ck_assert_msg(plain != NULL, "%s", h_error());
	ck_assert_str_eq(mine, plain);
	free(mine);
	free(plain);
	hap_conn_free(c);
	hap_conn_free(NULL);
}
END_TEST

START_TEST(test_errors_and_refusals)
{
	struct hap_conn *c = hap_conn_new(H.admin_sock, 3000);
	char *reply = (char *)"untouched";
	ck_assert(c != NULL);
	ck_assert_int_eq(hap_conn_cmd(c, "set server mcs/no-such-server state ready", &reply), -1);
	ck_assert_msg(hap_conn_err(c) == HAP_ERR_REJECTED, "class %s", hap_err_name(hap_conn_err(c)));
	ck_assert_msg(reply != NULL && strstr(reply, "No such server") != NULL, "reply: %s", reply ? reply : "(null)");
	free(reply);
	ck_assert_int_eq(hap_conn_cmd(c, "no-such-command", &reply), -1);
	ck_assert_int_eq(hap_conn_err(c), HAP_ERR_REJECTED);
	free(reply);

	/* Refused before sending: the `add server` before the `;` must not have run. */
	static const char *const bad[] = {"add server mcs/semi 127.0.0.1:9; show info",
					  "add server mcs/nl 127.0.0.1:9\nshow info", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reply = (char *)"untouched";
		ck_assert_int_eq(hap_conn_cmd(c, bad[i], &reply), -1);
		ck_assert_msg(hap_conn_err(c) == HAP_ERR_INVALID, "\"%s\": class %s", bad[i],
			      hap_err_name(hap_conn_err(c)));
		ck_assert_msg(reply == NULL, "\"%s\": reply not NULL", bad[i]);
	}
	struct h_srv v[H_MAX_SERVERS];
	int n = h_servers(H.stats_sock, v, H_MAX_SERVERS);
	ck_assert_msg(n >= 0 && !h_srv_find(v, n, "semi") && !h_srv_find(v, n, "nl"), "a refused command ran");
	/* The connection is still good after all that. */
	free(must(c, "show info"));
	hap_conn_free(c);
}
END_TEST

START_TEST(test_long_reply)
{
	struct hap_conn *c = hap_conn_new(H.admin_sock, 5000);
	char cmd[128];
	ck_assert(c != NULL);
	for (int i = 0; i < N_MANY; i++) {
		snprintf(cmd, sizeof(cmd), "add server mcs/many-%04d 127.0.0.1:%d id %d", i, 20000 + i, 1000 + i);
		free(must(c, cmd));
	}
	char *stat = must(c, "show stat");
	size_t rows = 0, len = strlen(stat);
	for (const char *p = stat; (p = strstr(p, "\nmcs,many-")) != NULL; p++)
		rows++;
	printf("show stat: %zu bytes, %zu of %d server rows\n", len, rows, N_MANY);
	ck_assert_msg(rows == N_MANY, "show stat came back with %zu of %d server rows (%zu bytes)", rows, N_MANY, len);
	ck_assert_msg(len > 64 * 1024 && stat[len - 1] == '\n', "reply of %zu bytes does not end with a line", len);
	ck_assert_msg(strstr(stat, "\nmcs,BACKEND,") != NULL, "the backend row (after the servers) is missing");
	free(stat);
	hap_conn_free(c);
}
END_TEST

/* kill -USR2 on the master: the connection still reaches the old worker, which answers
 * "Stopping: 1" (or closes); hap_worker_info goes on to the new one. */
START_TEST(test_worker_after_reload)
{
	struct hap_conn *c = hap_conn_new(H.admin_sock, 3000);
	struct hap_info before, after = {0};
	char err[256] = "";
	ck_assert(c != NULL);
	ck_assert_msg(hap_worker_info(c, &before, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(kill(H.haproxy->pid, SIGUSR2) == 0, "kill -USR2 %d", (int)H.haproxy->pid);
	/* The old worker answers until the new one has started. */
	ck_assert_msg(H_WAIT(10000, hap_worker_info(c, &after, err, sizeof(err)) == 0 && after.pid != before.pid),
		      "still worker %ld after the reload (%s)", before.pid, err);
	ck_assert_int_eq(after.stopping, 0);
	printf("haproxy reloaded: worker %ld -> %ld\n", before.pid, after.pid);
	hap_conn_free(c);
}
END_TEST

START_TEST(test_reconnect_after_restart)
{
	struct hap_conn *c = hap_conn_new(H.admin_sock, 3000);
	ck_assert(c != NULL);
	char *info = must(c, "show info");
	long old_pid = info_field(info, "Pid");
	free(info);

	ck_assert_int_eq(h_proc_stop(H.haproxy, 5000), 0);
	struct h_proc *again = h_haproxy_start("haproxy-restarted", H.run_dir, H.mcs_port);
	ck_assert_msg(again != NULL, "%s", h_error());

	char *reply = NULL;
	int first = hap_conn_cmd(c, "show info", &reply);
	if (first == -1) {
		enum hap_err e = hap_conn_err(c);
		ck_assert_msg(e == HAP_ERR_EOF || e == HAP_ERR_IO, "after a restart: class %s (%s)", hap_err_name(e),
			      hap_conn_errstr(c));
		ck_assert_msg(reply == NULL, "a failed command left a reply");
		reply = must(c, "show info");
	}
	long new_pid = info_field(reply, "Pid");
	printf("haproxy restarted (worker %ld -> %ld): %s\n", old_pid, new_pid,
	       first == 0 ? "the next command reconnected by itself" : "one EOF/IO error, then reconnected");
	ck_assert_msg(new_pid > 0 && new_pid != old_pid, "still talking to worker %ld", old_pid);
	free(reply);
	hap_conn_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hap_conn");
	TCase *tc = tcase_create("hap_conn");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_prompt_mode_persistent);
	tcase_add_test(tc, test_errors_and_refusals);
	tcase_add_test(tc, test_long_reply);
	tcase_add_test(tc, test_worker_after_reload);
	tcase_add_test(tc, test_reconnect_after_restart); /* last: it replaces the suite's haproxy */
	suite_add_tcase(s, tc);
	return h_main(s);
}
