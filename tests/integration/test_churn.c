/* The controller under churn: graceful drain that keeps sessions, a node that comes
 * back while draining, the drain timeout shutting sessions spread over time, a mass removal
 * held back, an operator's drain respected, and an HAProxy reload under client load. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define TTL_MS 1500
#define POLL_MS 200

static const char *const drain_env[] = {"MCS_DRAIN_TIMEOUT_S=300", NULL};
static const char *const timeout_env[] = {"MCS_DRAIN_TIMEOUT_S=2", "MCS_DRAIN_SPREAD_S=2", NULL};
static const char *const mass_env[] = {"MCS_MASS_REMOVAL_PCT=50", "MCS_MASS_REMOVAL_HOLD_S=3", NULL};

static void setup_drain(void)
{
	h_gateway_start(&(struct h_opts){.ttl_ms = TTL_MS, .poll_ms = POLL_MS, .controller_env = drain_env});
}

static void setup_timeout(void)
{
	h_gateway_start(&(struct h_opts){.ttl_ms = TTL_MS, .poll_ms = POLL_MS, .controller_env = timeout_env});
}

static void setup_mass(void)
{
	h_gateway_start(&(struct h_opts){.ttl_ms = TTL_MS, .poll_ms = POLL_MS, .controller_env = mass_env});
}

static void teardown(void) { h_gateway_stop(); }

static struct h_client *hold(void)
{
	char err[512];
	struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
	ck_assert_msg(c != NULL, "TLS client: %s", err);
	return c;
}

/* The admin state of server name, or -1 when HAProxy does not have it. */
static int admin_state(const char *name)
{
	struct h_srv v[H_MAX_SERVERS];
	int n = h_servers(H.stats_sock, v, H_MAX_SERVERS);
	const struct h_srv *s = n >= 0 ? h_srv_find(v, n, name) : NULL;
	return s ? s->admin_state : -1;
}

static int is_drained(const char *name) { return admin_state(name) == 0x08; }

static int is_gone(const char *name) { return admin_state(name) == -1; }

static int echoes(struct h_client *c)
{
	char err[256];
	return h_client_echo(c, "ping\n", 1000, err, sizeof(err)) == 0;
}

/* A node that leaves keeps its open sessions, gets no new client, and is deleted once the
 * last of its clients has left. */
START_TEST(test_graceful_drain)
{
	struct h_node n[2];
	ck_assert_msg(h_nodes_up(n, 2, 10000) == 0, "%s", h_error());
	struct h_client *c1 = hold(), *c2 = hold();
	struct h_client *on_a = strcmp(c1->node, n[0].name) == 0 ? c1 : c2;
	ck_assert_msg(strcmp(on_a->node, n[0].name) == 0, "no client on %s", n[0].name);

	h_hb_remove(n[0].name);
	ck_assert_msg(H_WAIT(TTL_MS + 2000, is_drained(n[0].name)), "%s not drained after its heartbeat stopped",
		      n[0].name);
	for (int i = 0; i < 10; i++) {
		struct h_client *c = hold();
		ck_assert_msg(strcmp(c->node, n[1].name) == 0, "new client %d went to the draining %s", i, c->node);
		h_client_close(c);
		ck_assert_msg(echoes(on_a), "the session on the draining node broke (round %d)", i);
	}
	/* Several polls later it is still there, serving its client. */
	ck_assert_msg(H_HOLDS(5 * POLL_MS, is_drained(n[0].name)), "%s left HAProxy while a client was on it",
		      n[0].name);
	ck_assert_msg(echoes(on_a), "the session on the draining node broke");

	uint64_t t0 = h_now_ms();
	h_client_close(on_a);
	ck_assert_msg(H_WAIT(3000, is_gone(n[0].name)), "%s still in HAProxy 3 s after its last client left",
		      n[0].name);
	printf("last client left -> server deleted: %llu ms\n", (unsigned long long)(h_now_ms() - t0));
	ck_assert_msg(admin_state(n[1].name) == 0, "%s was touched", n[1].name);
	h_client_close(on_a == c1 ? c2 : c1);
}
END_TEST

/* A node that comes back while draining is made ready again and keeps its sessions. */
START_TEST(test_comes_back)
{
	struct h_node n[2];
	ck_assert_msg(h_nodes_up(n, 2, 10000) == 0, "%s", h_error());
	struct h_client *c1 = hold(), *c2 = hold();
	struct h_client *on_b = strcmp(c1->node, n[1].name) == 0 ? c1 : c2;
	h_hb_remove(n[1].name);
	ck_assert_msg(H_WAIT(TTL_MS + 2000, is_drained(n[1].name)), "%s not drained", n[1].name);
	ck_assert_msg(h_hb_add(n[1].name) == 0, "%s", h_error());
	ck_assert_msg(H_WAIT(2000, admin_state(n[1].name) == 0), "%s not ready again after its heartbeat resumed",
		      n[1].name);
	ck_assert_msg(echoes(on_b), "its session did not survive the drain and return");
	h_client_close(c1);
	h_client_close(c2);
}
END_TEST

/* The drain timeout: sessions are shut over the spread, not all at once, then the server goes. */
START_TEST(test_drain_timeout_spread)
{
	enum { HELD = 8 };
	struct h_node n[1];
	ck_assert_msg(h_nodes_up(n, 1, 10000) == 0, "%s", h_error());
	struct h_client *c[HELD];
	uint64_t closed_at[HELD] = {0};
	for (int i = 0; i < HELD; i++)
		c[i] = hold();
	/* A second node keeps the live set non-empty (an empty one removes nothing). */
	struct h_node spare[1];
	ck_assert_msg(h_nodes_up(spare, 1, 10000) == 0, "%s", h_error());
	uint64_t t0 = h_now_ms();
	h_hb_remove(n[0].name);
	int open = HELD;
	while (open > 0 && h_now_ms() - t0 < TTL_MS + 9000) {
		for (int i = 0; i < HELD; i++) {
			if (closed_at[i] == 0 && !echoes(c[i])) {
				closed_at[i] = h_now_ms();
				open--;
			}
		}
		h_sleep_ms(50);
	}
	ck_assert_msg(open == 0, "%d sessions still open %llu ms after the heartbeat stopped", open,
		      (unsigned long long)(h_now_ms() - t0));
	uint64_t first = UINT64_MAX, last = 0;
	for (int i = 0; i < HELD; i++) {
		first = closed_at[i] < first ? closed_at[i] : first;
		last = closed_at[i] > last ? closed_at[i] : last;
		h_client_close(c[i]);
	}
	printf("drain timeout: %d sessions shut over %llu ms (first %llu ms after the heartbeat stopped)\n", HELD,
	       (unsigned long long)(last - first), (unsigned long long)(first - t0));
	ck_assert_msg(first - t0 >= 2000, "sessions cut %llu ms after the heartbeat stopped, before the timeout",
		      (unsigned long long)(first - t0));
	ck_assert_msg(last - first >= 800, "all %d sessions shut within %llu ms: not spread", HELD,
		      (unsigned long long)(last - first));
	ck_assert_msg(H_WAIT(3000, is_gone(n[0].name)), "%s not deleted after its sessions were shut", n[0].name);
}
END_TEST

/* Three of four nodes vanish at once: held for the hold time, then drained. */
START_TEST(test_mass_removal_held)
{
	struct h_node n[4];
	ck_assert_msg(h_nodes_up(n, 4, 10000) == 0, "%s", h_error());
	uint64_t t0 = h_now_ms();
	for (int i = 1; i < 4; i++)
		h_hb_remove(n[i].name);
	/* One last heartbeat with one score for the three, so they leave the live set together (a
	 * heartbeat round between two removals would otherwise let one go alone, not a mass removal). */
	long long last = h_redis_time();
	for (int i = 1; i < 4; i++)
		ck_assert_msg(h_zadd(n[i].name, strlen(n[i].name), last) == 0, "%s", h_error());
	/* TTL_MS after the stop the nodes are gone from the live set: the hold starts, and nothing
	 * is drained meanwhile. */
	ck_assert_msg(H_HOLDS(TTL_MS + 4 * POLL_MS, admin_state(n[1].name) == 0 && admin_state(n[2].name) == 0 &&
							    admin_state(n[3].name) == 0),
		      "a node was drained %llu ms after 3 of 4 vanished: not held",
		      (unsigned long long)(h_now_ms() - t0));
	ck_assert_msg(h_log_has(H.controller, "HOLDING the removal of 3", NULL, NULL), "no loud log line for the hold");
	char status[H_PATH_MAX + 32];
	snprintf(status, sizeof(status), "%s/controller.json", H.run_dir);
	char *json = h_read_file(status, NULL);
	ck_assert_msg(json != NULL && strstr(json, "\"removal_held\":3") != NULL, "controller.json: %s",
		      json ? json : "missing");
	free(json);
	for (int i = 1; i < 4; i++)
		ck_assert_msg(H_WAIT(TTL_MS + 6000, admin_state(n[i].name) != 0),
			      "%s never drained after the hold time", n[i].name);
	uint64_t held = h_now_ms() - t0;
	printf("mass removal: 3 of 4 drained after %llu ms (TTL %d ms + hold 3000 ms)\n", (unsigned long long)held,
	       TTL_MS);
	ck_assert_msg(held >= 3000, "drained after %llu ms, before the 3 s hold", (unsigned long long)held);
	ck_assert_msg(admin_state(n[0].name) == 0, "the live node was touched");
}
END_TEST

/* An operator's drain of a live node stays; the node is still deleted when it leaves. */
START_TEST(test_operator_drain)
{
	struct h_node n[2];
	ck_assert_msg(h_nodes_up(n, 2, 10000) == 0, "%s", h_error());
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "set server mcs/%s state drain", n[0].name);
	free(h_hap_cmd(H.admin_sock, cmd));
	ck_assert_msg(H_HOLDS(6 * POLL_MS, is_drained(n[0].name)),
		      "the controller undid the operator's drain (admin %d)", admin_state(n[0].name));
	struct h_client *c = hold();
	ck_assert_msg(strcmp(c->node, n[1].name) == 0, "a new client went to the node the operator drained");
	h_client_close(c);
	h_hb_remove(n[0].name);
	ck_assert_msg(H_WAIT(TTL_MS + 3000, is_gone(n[0].name)), "%s not deleted after it left", n[0].name);
}
END_TEST

/* Stops the controller, writes text to path when not NULL (while none runs), starts a new one
 * on a fresh log, so log assertions see only the new controller's lines. */
static void restart_controller_with(const char *path, const char *text)
{
	ck_assert_msg(h_proc_stop(H.controller, 3000) == 0, "controller did not stop");
	/* The earlier lines move aside (kept for a failure report), the new controller's log is fresh. */
	static int restarts;
	char aside[sizeof(H.controller->log) + 16];
	snprintf(aside, sizeof(aside), "%s.%d", H.controller->log, ++restarts);
	ck_assert_msg(rename(H.controller->log, aside) == 0, "rename %s", H.controller->log);
	if (path != NULL) {
		FILE *f = fopen(path, "w");
		ck_assert_msg(f != NULL && fputs(text, f) != EOF && fclose(f) == 0, "cannot write %s", path);
	}
	const struct h_opts o = {.ttl_ms = TTL_MS, .poll_ms = POLL_MS, .controller_env = drain_env};
	ck_assert_msg((H.controller = h_controller_start(&o)) != NULL, "%s", h_error());
}

static void restart_controller(void) { restart_controller_with(NULL, NULL); }

/* A restarted controller takes back the drains of the one before it (controller.json): a node
 * that returns after the restart is made ready again, not held as an operator's drain. */
START_TEST(test_restart_takes_back_drain)
{
	struct h_node n[2];
	ck_assert_msg(h_nodes_up(n, 2, 10000) == 0, "%s", h_error());
	struct h_client *c1 = hold(), *c2 = hold();
	struct h_client *on_b = strcmp(c1->node, n[1].name) == 0 ? c1 : c2;
	h_hb_remove(n[1].name);
	ck_assert_msg(H_WAIT(TTL_MS + 2000, is_drained(n[1].name)), "%s not drained", n[1].name);
	restart_controller();
	ck_assert_msg(H_WAIT(3000, h_log_has(H.controller, "took back 1 drain(s)", NULL, NULL)),
		      "the restarted controller did not take back its predecessor's drain");
	ck_assert_msg(h_hb_add(n[1].name) == 0, "%s", h_error());
	ck_assert_msg(
		H_WAIT(3000, admin_state(n[1].name) == 0),
		"%s held in drain after it returned (admin %d): the restarted controller took it for an operator's",
		n[1].name, admin_state(n[1].name));
	ck_assert_msg(echoes(on_b), "its session did not survive the drain, the restart and the return");
	h_client_close(c1);
	h_client_close(c2);
}
END_TEST

/* controller.json is read back at start: a broken one costs one line per fault, nothing else. */
static void restart_with_status(const char *text, const char *want_log)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/controller.json", H.run_dir);
	restart_controller_with(path, text);
	ck_assert_msg(H_WAIT(3000, h_log_has(H.controller, want_log, NULL, NULL)), "no line \"%s\" for %s", want_log,
		      text);
}

START_TEST(test_bad_status_file)
{
	struct h_node n[2];
	ck_assert_msg(h_nodes_up(n, 2, 10000) == 0, "%s", h_error());
	restart_with_status("{\"draining\": [", "controller.json: ");
	restart_with_status("{\"draining\": 7}", "\"draining\" is not an array");
	restart_with_status("{\"draining\": [{\"server\": \"a b\", \"for_ms\": 5}, 7, "
			    "{\"server\": \"127.0.0.1:1\", \"for_ms\": -1}, {\"server\": \"127.0.0.1:2\"}]}",
			    "draining entry 3 is not");
	ck_assert_msg(!h_log_has(H.controller, "took back", NULL, NULL), "a bad entry was taken back");
	/* A live node named there is not "taken back" into a drain: it keeps serving. */
	char text[256];
	snprintf(text, sizeof(text), "{\"draining\": [{\"server\": \"%s\", \"for_ms\": 5}]}", n[0].name);
	restart_with_status(text, "took back 1 drain(s)");
	ck_assert_msg(H_HOLDS(5 * POLL_MS, admin_state(n[0].name) == 0 && admin_state(n[1].name) == 0),
		      "a live node was touched (admin %d / %d)", admin_state(n[0].name), admin_state(n[1].name));
	h_client_close(hold()); /* and clients are served */
}
END_TEST

/* kill -USR2 on the master: the new worker starts from the controller's servers file, so no new
 * client is refused (before the servers file, ~100 ms of clients were, until the next step). */
START_TEST(test_reload_under_load)
{
	struct h_node n[2];
	ck_assert_msg(h_nodes_up(n, 2, 10000) == 0, "%s", h_error());
	struct h_client *held = hold();
	ck_assert_msg(kill(H.haproxy->pid, SIGUSR2) == 0, "kill -USR2 %d", (int)H.haproxy->pid);
	uint64_t t0 = h_now_ms(), first_fail = 0, last_fail = 0;
	int tries = 0, fails = 0;
	while (h_now_ms() - t0 < 4000) {
		char err[256];
		struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
		uint64_t t = h_now_ms();
		tries++;
		if (c == NULL) {
			fails++;
			first_fail = first_fail ? first_fail : t;
			last_fail = t;
		}
		h_client_close(c);
		h_sleep_ms(20);
	}
	printf("reload: %d of %d new clients refused, over %llu ms (poll %d ms)\n", fails, tries,
	       (unsigned long long)(fails ? last_fail - first_fail : 0), POLL_MS);
	ck_assert_msg(fails == 0, "%d clients refused over %llu ms after the reload", fails,
		      (unsigned long long)(last_fail - first_fail));
	ck_assert_msg(h_srv_ready(n[0].name) && h_srv_ready(n[1].name), "not every node restored after the reload");
	ck_assert_msg(echoes(held), "a session held across the reload broke");
	h_client_close(held);
}
END_TEST

/* HAProxy dies and is started again (as ./mcs-lb up and the compose restart policy do): the
 * new process starts from the servers file, so no client is refused once it is up. */
START_TEST(test_restart_under_load)
{
	struct h_node n[2];
	ck_assert_msg(h_nodes_up(n, 2, 10000) == 0, "%s", h_error());
	h_proc_stop(H.haproxy, 3000);
	struct h_proc *again = h_haproxy_start("haproxy-again", H.run_dir, H.mcs_port);
	ck_assert_msg(again != NULL, "%s", h_error());
	uint64_t t0 = h_now_ms(), last_fail = 0;
	int tries = 0, fails = 0;
	while (h_now_ms() - t0 < 3000) {
		char err[256];
		struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
		tries++;
		if (c == NULL) {
			fails++;
			last_fail = h_now_ms();
		}
		h_client_close(c);
		h_sleep_ms(20);
	}
	printf("restart: %d of %d new clients refused, the last %llu ms after HAProxy was up again (poll %d ms)\n",
	       fails, tries, (unsigned long long)(fails ? last_fail - t0 : 0), POLL_MS);
	ck_assert_msg(fails == 0, "%d clients refused, the last %llu ms after the restart", fails,
		      (unsigned long long)(last_fail - t0));
	ck_assert_msg(h_srv_ready(n[0].name) && h_srv_ready(n[1].name), "not every node restored after the restart");
	h_proc_stop(again, 3000);
}
END_TEST

static TCase *churn_case(const char *name, void (*setup)(void), const TTest *test)
{
	TCase *tc = tcase_create(name);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	_tcase_add_test(tc, test, 0, 0, 0, 1);
	return tc;
}

int main(void)
{
	Suite *s = suite_create("churn");
	suite_add_tcase(s, churn_case("graceful_drain", setup_drain, test_graceful_drain));
	suite_add_tcase(s, churn_case("comes_back", setup_drain, test_comes_back));
	suite_add_tcase(s, churn_case("restart_takes_back_drain", setup_drain, test_restart_takes_back_drain));
	suite_add_tcase(s, churn_case("bad_status_file", setup_drain, test_bad_status_file));
	suite_add_tcase(s, churn_case("operator_drain", setup_drain, test_operator_drain));
	suite_add_tcase(s, churn_case("drain_timeout", setup_timeout, test_drain_timeout_spread));
	suite_add_tcase(s, churn_case("mass_removal", setup_mass, test_mass_removal_held));
	suite_add_tcase(s, churn_case("reload", setup_drain, test_reload_under_load));
	suite_add_tcase(s, churn_case("restart", setup_drain, test_restart_under_load));
	return h_main(s);
}
