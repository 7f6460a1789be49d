/* Scenario 5, Redis stopped for 10 s: every registered node keeps serving TLS clients and stays
 * in the backend; after Redis returns on the same port (empty: it persists nothing), the
 * heartbeats refill the set and a newly ZADDed node receives clients. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define N_NODES 3
#define OUTAGE_MS 10000
#define RECOVERY_LIMIT_MS 10000 /* the controller backs off up to 5 s while Redis is away */

static void setup(void) { h_gateway_start(&(struct h_opts){.poll_ms = 500}); }

static void teardown(void) { h_gateway_stop(); }

/* One client: lands on one of the nodes and gets its echo. Returns the node index. */
static int serve_one(const struct h_node *nodes, int n, const char *when)
{
	char err[512];
	struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
	ck_assert_msg(c != NULL, "client %s: %s", when, err);
	int k = h_node_index(nodes, n, c->node);
	ck_assert_msg(k >= 0, "client %s landed on unknown node %s", when, c->node);
	ck_assert_msg(h_client_echo(c, "during the outage\n", 3000, err, sizeof(err)) == 0, "client %s: %s", when, err);
	h_client_close(c);
	return k;
}

START_TEST(test_redis_outage)
{
	struct h_node nodes[N_NODES + 1];
	struct h_client *held[N_NODES];
	char err[512];
	ck_assert_msg(h_nodes_up(nodes, N_NODES, 10000) == 0, "%s", h_error());
	for (int i = 0; i < N_NODES; i++) {
		held[i] = h_client_connect(H.mcs_port, err, sizeof(err));
		ck_assert_msg(held[i] != NULL, "%s", err);
	}

	ck_assert_msg(h_redis_stop() == 0, "cannot stop redis-server");
	uint64_t t0 = h_now_ms();
	int clients = 0, seen[N_NODES] = {0};
	while (h_now_ms() - t0 < OUTAGE_MS) {
		seen[serve_one(nodes, N_NODES, "while Redis is down")]++;
		clients++;
		for (int i = 0; i < N_NODES; i++) {
			ck_assert_msg(h_srv_ready(nodes[i].name), "%s left rotation while Redis was down",
				      nodes[i].name);
			ck_assert_msg(h_client_echo(held[i], "held\n", 3000, err, sizeof(err)) == 0, "held client: %s",
				      err);
		}
		h_sleep_ms(250);
	}
	printf("Redis down %d ms: %d clients served (%d/%d/%d), every node stayed ready\n", OUTAGE_MS, clients, seen[0],
	       seen[1], seen[2]);
	for (int i = 0; i < N_NODES; i++)
		ck_assert_msg(seen[i] > 0, "no client reached %s while Redis was down", nodes[i].name);
	ck_assert_msg(h_proc_running(H.controller), "the controller died while Redis was down");

	/* Redis comes back empty on the same port; heartbeats refill it; a new node joins. */
	ck_assert_msg(h_redis_start() == 0, "%s", h_error());
	uint64_t t1 = h_now_ms();
	ck_assert_msg(h_node_start(&nodes[N_NODES]) == 0 && h_hb_add(nodes[N_NODES].name) == 0, "%s", h_error());
	const char *fresh = nodes[N_NODES].name;
	int landed = 0;
	while (!landed && h_now_ms() - t1 < RECOVERY_LIMIT_MS) {
		landed = serve_one(nodes, N_NODES + 1, "after Redis returned") == N_NODES;
		if (!landed)
			h_sleep_ms(50);
	}
	ck_assert_msg(landed, "no client reached %s within %d ms after Redis returned", fresh, RECOVERY_LIMIT_MS);
	printf("Redis back->new node receives clients: %llu ms\n", (unsigned long long)(h_now_ms() - t1));
	for (int i = 0; i < N_NODES; i++) {
		ck_assert_msg(h_srv_ready(nodes[i].name), "%s is not ready after Redis returned", nodes[i].name);
		ck_assert_msg(h_client_echo(held[i], "after\n", 3000, err, sizeof(err)) == 0, "held client: %s", err);
		h_client_close(held[i]);
	}
}
END_TEST

/* Redis restarts empty and the nodes re-register one heartbeat at a time: none of them is
 * drained meanwhile (the controller waits one TTL after Redis returns before taking a missing
 * node for a departed one). One node of four comes back 2 s late: 25%, under the mass-removal
 * threshold, so only that wait can keep it. */
static int all_ready(const struct h_node *v, int n)
{
	for (int i = 0; i < n; i++)
		if (!h_srv_ready(v[i].name))
			return 0;
	return 1;
}

START_TEST(test_redis_restart_empty)
{
	struct h_node nodes[4];
	ck_assert_msg(h_nodes_up(nodes, 4, 10000) == 0, "%s", h_error());
	ck_assert_msg(h_redis_stop() == 0, "cannot stop redis-server");
	h_hb_remove(nodes[3].name); /* its heartbeat resumes late */
	ck_assert_msg(h_redis_start() == 0, "%s", h_error());
	ck_assert_msg(H_HOLDS(2000, all_ready(nodes, 4)), "a node was drained while the set refilled");
	ck_assert_msg(h_hb_add(nodes[3].name) == 0, "%s", h_error());
	ck_assert_msg(H_HOLDS(3000, all_ready(nodes, 4)), "a node was drained after it re-registered");
	ck_assert_msg(H_WAIT(3000, h_log_has(H.controller, "not drained before they had", NULL, NULL)),
		      "no log line about the deferred drains");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("redis_down");
	TCase *tc = tcase_create("redis_down");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_redis_outage);
	suite_add_tcase(s, tc);
	tc = tcase_create("redis_restart_empty");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_redis_restart_empty);
	suite_add_tcase(s, tc);
	return h_main(s);
}
