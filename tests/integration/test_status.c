/* mcs-lb-status against a running gateway: exit 1 with no node, 0 once nodes serve (their
 * state, sessions and weight in the JSON), draining and maintenance seen as such and 1 when
 * none is healthy, the master's reload count before and after a reload, a broken controller.json
 * named in one line, --watch redrawn in place in a real terminal (tmux) and cut to its width,
 * 2 once nothing runs. The tests
 * run in order on one gateway. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct h_node nodes[2];

/* The tmux server of the watch test: its own socket, named after the gateway's port. */
static char tmux_sock[64];

static void setup(void)
{
	h_gateway_start(&(struct h_opts){.poll_ms = 250});
	snprintf(tmux_sock, sizeof(tmux_sock), "mcs-lb-status-%d", H.mcs_port);
}

static void teardown(void)
{
	/* Also when the watch test failed half-way: its tmux server must not outlive the suite. */
	char out[256];
	const char *kill[] = {"tmux", "-L", tmux_sock, "kill-server", NULL};
	h_run(kill, out, sizeof(out), 5000);
	h_gateway_stop();
}

/* Runs mcs-lb-status with args (up to 2) for H.run_dir; output in out. Returns its status. */
static int status(const char *a1, const char *a2, char *out, size_t outlen)
{
	const char *argv[] = {H_STATUS_BIN, "--run-dir", H.run_dir, a1, a2, NULL};
	int rc = h_run(argv, out, outlen, 10000);
	ck_assert_msg(rc >= 0, "mcs-lb-status: %s", h_error());
	return rc;
}

/* mcs-lb-status --json, parsed; *rc its exit status. */
static json_t *status_json(int *rc)
{
	static char out[1 << 16];
	*rc = status("--json", NULL, out, sizeof(out));
	json_error_t jerr;
	json_t *root = json_loads(out, 0, &jerr);
	ck_assert_msg(json_is_object(root), "not JSON (%s): %s", jerr.text, out);
	ck_assert_int_eq(json_integer_value(json_object_get(root, "exit")), *rc);
	return root;
}

/* The node called name in the JSON's nodes, or NULL. */
static json_t *node_of(json_t *root, const char *name)
{
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(root, "nodes"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
			return v;
	return NULL;
}

static const char *node_state(const char *name)
{
	int rc;
	json_t *root = status_json(&rc);
	static char state[32];
	json_t *n = node_of(root, name);
	snprintf(state, sizeof(state), "%s", n ? json_string_value(json_object_get(n, "state")) : "absent");
	json_decref(root);
	return state;
}

START_TEST(test_no_node)
{
	int rc;
	json_t *root = NULL;
	/* The controller's first step writes controller.json. */
	ck_assert_msg(H_WAIT(5000, (json_decref(root), root = status_json(&rc),
				    json_is_true(json_object_get(json_object_get(root, "controller"), "synced")))),
		      "controller never synced");
	ck_assert_int_eq(rc, 1);
	ck_assert(json_is_true(json_object_get(json_object_get(root, "haproxy"), "up")));
	ck_assert(json_integer_value(json_object_get(json_object_get(root, "haproxy"), "pid")) > 0);
	ck_assert(json_is_true(json_object_get(json_object_get(root, "redis"), "reachable")));
	ck_assert(json_is_false(json_object_get(root, "serving")));
	ck_assert_int_eq(json_array_size(json_object_get(root, "nodes")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(root, "clients"), "limit")), 7900);
	json_decref(root);
}
END_TEST

/* The master's reload count (master.sock, `show proc`): 0 at start, 1 after a reload. */
static long reloads(void)
{
	int rc;
	json_t *root = status_json(&rc);
	json_t *r = json_object_get(json_object_get(json_object_get(root, "haproxy"), "reloads"), "count");
	long n = json_is_integer(r) ? (long)json_integer_value(r) : -1;
	json_decref(root);
	return n;
}

START_TEST(test_reloads)
{
	char out[8192];
	ck_assert_int_eq(reloads(), 0);
	ck_assert_int_eq(kill(H.haproxy->pid, SIGUSR2), 0);
	ck_assert_msg(H_WAIT(10000, reloads() == 1), "reloads %ld after SIGUSR2", reloads());
	status(NULL, NULL, out, sizeof(out));
	printf("%s", out);
	ck_assert_msg(strstr(out, "\nreloads     1 since HAProxy started, 0 failed\n") != NULL, "text: %s", out);
}
END_TEST

START_TEST(test_serving_then_not)
{
	char err[512], out[8192];
	ck_assert_msg(h_nodes_up(nodes, 2, 10000) == 0, "%s", h_error());
	struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	int rc;
	json_t *root = status_json(&rc);
	ck_assert_int_eq(rc, 0);
	ck_assert(json_is_true(json_object_get(root, "serving")));
	ck_assert_int_eq(json_integer_value(json_object_get(root, "healthy_nodes")), 2);
	ck_assert_int_ge(json_integer_value(json_object_get(json_object_get(root, "clients"), "now")), 1);
	json_t *n = node_of(root, c->node);
	ck_assert_msg(n != NULL, "no node %s", c->node);
	ck_assert_int_eq(json_integer_value(json_object_get(n, "sessions")), 1);
	/* A new node warms up from 10% of its weight to 100 (MCS_WARMUP_S). */
	ck_assert_int_eq(json_integer_value(json_object_get(n, "initial_weight")), 100);
	ck_assert_int_ge(json_integer_value(json_object_get(n, "weight")), 1);
	ck_assert_int_le(json_integer_value(json_object_get(n, "weight")), 100);
	ck_assert_int_eq(json_integer_value(json_object_get(n, "failures")), 0);
	ck_assert_msg(strstr("up warming", json_string_value(json_object_get(n, "state"))) != NULL, "state %s",
		      json_string_value(json_object_get(n, "state")));
	/* INI until its first check ends. */
	ck_assert_msg(strstr("L4OK INI", json_string_value(json_object_get(n, "check"))) != NULL, "check %s",
		      json_string_value(json_object_get(n, "check")));
	json_decref(root);
	h_client_close(c);

	ck_assert_int_eq(status(NULL, NULL, out, sizeof(out)), 0);
	printf("%s", out);
	ck_assert_msg(strstr(out, "serving") != NULL && strstr(out, nodes[0].name) != NULL &&
			      strstr(out, nodes[1].name) != NULL,
		      "text: %s", out);

	/* In the same test: its nodes and their heartbeats live as long as the test's process. */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "set server mcs/%s state drain", nodes[0].name);
	free(h_hap_cmd(H.admin_sock, cmd));
	ck_assert_msg(H_WAIT(3000, strcmp(node_state(nodes[0].name), "draining") == 0), "%s: %s", nodes[0].name,
		      node_state(nodes[0].name));
	ck_assert_int_eq(status(NULL, NULL, out, sizeof(out)), 0);
	snprintf(cmd, sizeof(cmd), "disable server mcs/%s", nodes[1].name);
	free(h_hap_cmd(H.admin_sock, cmd));
	ck_assert_msg(H_WAIT(3000, strcmp(node_state(nodes[1].name), "maintenance") == 0), "%s: %s", nodes[1].name,
		      node_state(nodes[1].name));
	ck_assert_int_eq(status(NULL, NULL, out, sizeof(out)), 1);
	printf("%s", out);
	ck_assert_msg(strstr(out, "NOT SERVING") != NULL, "text: %s", out);
}
END_TEST

/* The pane as shown, wrapped lines joined (-J): what the program wrote, not tmux's wrapping. */
static void tmux_screen(char *out, size_t outlen)
{
	const char *argv[] = {"tmux", "-L", tmux_sock, "capture-pane", "-p", "-J", NULL};
	ck_assert_int_eq(h_run(argv, out, outlen, 5000), 0);
}

/* Lines of the screen that start with prefix, and the longest line. */
static int screen_lines(const char *screen, const char *prefix, size_t *longest)
{
	int n = 0;
	*longest = 0;
	for (const char *p = screen; *p != '\0';) {
		size_t len = strcspn(p, "\n");
		if (len > *longest)
			*longest = len;
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
		p += len + (p[len] == '\n');
	}
	return n;
}

/* The first line of the screen (the header, with the time). */
static void first_line(const char *screen, char *out, size_t outlen)
{
	snprintf(out, outlen, "%.*s", (int)strcspn(screen, "\n"), screen);
}

START_TEST(test_watch_in_terminal)
{
	char cmd[H_PATH_MAX + 128], screen[16384], out[1024], head[512], later[512];
	size_t longest;
	snprintf(cmd, sizeof(cmd), "%s --run-dir %s --watch 1", H_STATUS_BIN, H.run_dir);
	const char *start[] = {"tmux", "-L",  tmux_sock, "-f", "/dev/null", "new-session", "-d",
			       "-x",   "120", "-y",      "40", cmd,         NULL};
	ck_assert_msg(h_run(start, out, sizeof(out), 10000) == 0, "tmux: %s", out);
	ck_assert_msg(H_WAIT(10000, (tmux_screen(screen, sizeof(screen)), strstr(screen, "NODE") != NULL)),
		      "no status screen: %s", screen);
	first_line(screen, head, sizeof(head));
	ck_assert_msg(strncmp(head, "mcs-lb ", 7) == 0, "header: %s", head);
	/* Redrawn every second in place: the clock moves, and the screen holds one header, not
	 * the scrolled copies of earlier screens. */
	ck_assert_msg(H_WAIT(10000, (tmux_screen(screen, sizeof(screen)), first_line(screen, later, sizeof(later)),
				     strncmp(later, "mcs-lb ", 7) == 0 && strcmp(later, head) != 0)),
		      "the screen was not redrawn: %s", screen);
	ck_assert_int_eq(screen_lines(screen, "mcs-lb ", &longest), 1);
	ck_assert_int_le(longest, 120);
	printf("watch, 120 columns:\n%s", screen);
	/* A terminal narrower than the header: every line is cut to it at the next redraw. */
	const char *narrow[] = {"tmux", "-L", tmux_sock, "resize-window", "-x", "40", "-y", "40", NULL};
	ck_assert_msg(h_run(narrow, out, sizeof(out), 5000) == 0, "tmux resize-window: %s", out);
	ck_assert_msg(H_WAIT(10000, (tmux_screen(screen, sizeof(screen)),
				     screen_lines(screen, "mcs-lb ", &longest) == 1 && longest <= 40 &&
					     strstr(screen, "haproxy") != NULL)),
		      "not cut to 40 columns (longest %zu): %s", longest, screen);
	printf("watch, 40 columns:\n%s", screen);
	const char *kill[] = {"tmux", "-L", tmux_sock, "kill-server", NULL};
	ck_assert_int_eq(h_run(kill, out, sizeof(out), 5000), 0);
}
END_TEST

START_TEST(test_bad_controller_json)
{
	char path[H_PATH_MAX + 32], out[8192];
	h_proc_stop(H.controller, 5000);
	snprintf(path, sizeof(path), "%s/controller.json", H.run_dir);
	FILE *fp = fopen(path, "w");
	ck_assert(fp != NULL);
	fputs("{\"time\": 1, \"last_sync\": ", fp); /* cut short */
	fclose(fp);
	status(NULL, NULL, out, sizeof(out));
	printf("%s", out);
	ck_assert_msg(strstr(out, "controller  unknown: ") != NULL && strstr(out, path) != NULL, "text: %s", out);
	int rc;
	json_t *root = status_json(&rc);
	ck_assert(json_is_false(json_object_get(json_object_get(root, "controller"), "synced")));
	ck_assert_msg(strstr(json_string_value(json_object_get(json_object_get(root, "controller"), "error")), path),
		      "error names the file");
	json_decref(root);
}
END_TEST

START_TEST(test_nothing_runs)
{
	char out[8192];
	h_proc_stop(H.haproxy, 5000);
	ck_assert_int_eq(status(NULL, NULL, out, sizeof(out)), 2);
	printf("%s", out);
	ck_assert_msg(strstr(out, "NOTHING RUNS") != NULL && strstr(out, "haproxy     DOWN: ") != NULL, "text: %s",
		      out);
	int rc;
	json_decref(status_json(&rc));
	ck_assert_int_eq(rc, 2);
	/* An empty directory, no socket at all: the same. */
	const char *argv[] = {H_STATUS_BIN, "--run-dir", H.dir, "--json", NULL};
	ck_assert_int_eq(h_run(argv, out, sizeof(out), 10000), 2);
	const char *bad[] = {H_STATUS_BIN, "--watch", "0", NULL};
	ck_assert_int_eq(h_run(bad, out, sizeof(out), 10000), 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("status");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_no_node);
	tcase_add_test(tc, test_reloads);
	tcase_add_test(tc, test_serving_then_not);
	tcase_add_test(tc, test_watch_in_terminal);
	tcase_add_test(tc, test_bad_controller_json);
	tcase_add_test(tc, test_nothing_runs);
	suite_add_tcase(s, tc);
	return h_main(s);
}
