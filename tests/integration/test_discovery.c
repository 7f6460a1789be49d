/* Scenario 2, discovery with the default poll (1 s) and TTL (5 s): a node ZADDed while running
 * receives clients within 2 s; a node whose heartbeat stops receives no new client after
 * TTL + 2 s, while its open connections keep echoing. Prints both measured times. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define TTL_MS 5000
#define DISCOVERY_LIMIT_MS 2000
#define REMOVAL_LIMIT_MS (TTL_MS + 2000)
#define PROBE_EVERY_MS 100

static void setup(void) { h_gateway_start(&(struct h_opts){.ttl_ms = TTL_MS, .poll_ms = 1000}); }

static void teardown(void) { h_gateway_stop(); }

/* A short-lived client: where did it land? Fails the test if the gateway refused it. */
static void probe(char *node, size_t len)
{
	char err[512];
	struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
	ck_assert_msg(c != NULL, "probe client failed: %s", err);
	snprintf(node, len, "%s", c->node);
	h_client_close(c);
}

static struct h_client *hold(void)
{
	char err[512];
	struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
	ck_assert_msg(c != NULL, "TLS client: %s", err);
	return c;
}

/* ZADD a fresh node while the gateway runs; returns the held client that first landed on it. */
static struct h_client *measure_discovery(const struct h_node *c_node)
{
	char err[512];
	uint64_t t0 = h_now_ms();
	ck_assert_msg(h_hb_add(c_node->name) == 0, "ZADD %s: %s", c_node->name, h_error());
	struct h_client *first = NULL;
	/* Probes close again, so the other nodes stay at their held count and the new one (0) wins. */
	while (first == NULL && h_now_ms() - t0 < DISCOVERY_LIMIT_MS + 3000) {
		struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
		ck_assert_msg(c != NULL, "client during discovery: %s", err);
		if (strcmp(c->node, c_node->name) == 0)
			first = c;
		else
			h_client_close(c);
		if (first == NULL)
			h_sleep_ms(PROBE_EVERY_MS / 2);
	}
	uint64_t elapsed = h_now_ms() - t0;
	ck_assert_msg(first != NULL, "no client reached %s within %d ms of its ZADD", c_node->name,
		      DISCOVERY_LIMIT_MS + 3000);
	printf("ZADD->first client: %llu ms\n", (unsigned long long)elapsed);
	ck_assert_msg(elapsed <= DISCOVERY_LIMIT_MS, "ZADD->first client took %llu ms (limit %d ms)",
		      (unsigned long long)elapsed, DISCOVERY_LIMIT_MS);
	return first;
}

START_TEST(test_discovery_and_expiry)
{
	struct h_node nodes[2], c_node;
	char err[512], where[H_NAME_MAX];
	ck_assert_msg(h_nodes_up(nodes, 2, 10000) == 0, "%s", h_error());
	struct h_client *a1 = hold(), *b1 = hold();
	ck_assert_msg(strcmp(a1->node, b1->node) != 0, "two clients on one node (%s) with two idle nodes", a1->node);
	ck_assert_msg(h_node_start(&c_node) == 0, "%s", h_error());

	struct h_client *on_c = measure_discovery(&c_node);

	/* Two held on each old node, one on C: every new client prefers C while C is in rotation. */
	struct h_client *a2 = hold(), *b2 = hold();
	probe(where, sizeof(where));
	ck_assert_msg(strcmp(where, c_node.name) == 0, "with 2/2/1 sessions a new client went to %s, not %s", where,
		      c_node.name);

	uint64_t t_stop = h_hb_remove(c_node.name);
	ck_assert_msg(t_stop != 0, "no heartbeat of %s ever succeeded", c_node.name);
	uint64_t last_on_c = 0, first_off = 0, end = t_stop + REMOVAL_LIMIT_MS + 1500;
	int after_limit = 0;
	while (h_now_ms() < end) {
		uint64_t t = h_now_ms();
		probe(where, sizeof(where));
		if (strcmp(where, c_node.name) != 0) {
			first_off = first_off ? first_off : t;
		} else {
			last_on_c = t;
			first_off = 0;
			ck_assert_msg(t - t_stop <= REMOVAL_LIMIT_MS,
				      "a new client reached %s %llu ms after its last heartbeat", c_node.name,
				      (unsigned long long)(t - t_stop));
		}
		if (t - t_stop > REMOVAL_LIMIT_MS)
			after_limit++;
		h_sleep_ms(PROBE_EVERY_MS);
	}
	ck_assert_msg(after_limit >= 5, "only %d probes after TTL + 2 s: nothing was proven", after_limit);
	ck_assert_msg(last_on_c != 0, "no probe reached %s after its heartbeat stopped: no measurement", c_node.name);
	printf("heartbeat stop->no new clients: %llu ms (last ZADD to the first client sent elsewhere; limit %d ms)\n",
	       (unsigned long long)(first_off - t_stop), REMOVAL_LIMIT_MS);

	/* The node that left still serves the client it had; so do the others. */
	struct h_client *all[] = {on_c, a1, b1, a2, b2};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		ck_assert_msg(h_client_echo(all[i], "still connected\n", 3000, err, sizeof(err)) == 0,
			      "held client %zu: %s", i, err);
		h_client_close(all[i]);
	}
}
END_TEST

/* The controller wakes when the oldest live heartbeat turns stale, not at its next poll: with a
 * 6 s poll and no notifications, a node that stops heartbeating is drained within TTL + 800 ms
 * of its last ZADD (the score is whole seconds of Redis TIME, so often before TTL). Were the
 * controller to notice only at its next poll, this would fail about 9 times in 10. */
#define TIMER_TTL_MS 2500
#define TIMER_POLL_MS 8000
#define TIMER_LIMIT_MS (TIMER_TTL_MS + 800)

static const char *const timer_env[] = {"MCS_REDIS_NOTIFY=off", NULL};

static void setup_timer(void)
{
	h_gateway_start(
		&(struct h_opts){.ttl_ms = TIMER_TTL_MS, .poll_ms = TIMER_POLL_MS, .controller_env = timer_env});
}

START_TEST(test_expiry_timer)
{
	/* Two nodes: the last live one would be kept (the controller never empties the backend). */
	struct h_node v[2], n;
	ck_assert_msg(h_nodes_up(v, 2, 2 * TIMER_POLL_MS + 2000) == 0, "%s", h_error());
	n = v[0];
	uint64_t t_stop = h_hb_remove(n.name);
	ck_assert_msg(t_stop != 0, "no heartbeat of %s ever succeeded", n.name);
	ck_assert_msg(H_WAIT(TIMER_POLL_MS + 2000, !h_srv_ready(n.name)), "%s still ready", n.name);
	uint64_t took = h_now_ms() - t_stop;
	printf("expiry timer: %s out of rotation %llu ms after its last ZADD (TTL %d ms, poll %d ms)\n", n.name,
	       (unsigned long long)took, TIMER_TTL_MS, TIMER_POLL_MS);
	ck_assert_msg(took <= TIMER_LIMIT_MS, "%s left rotation %llu ms after its last heartbeat (limit %d ms)", n.name,
		      (unsigned long long)took, TIMER_LIMIT_MS);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("discovery");
	TCase *tc = tcase_create("discovery");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_discovery_and_expiry);
	suite_add_tcase(s, tc);
	TCase *timer = tcase_create("expiry_timer");
	tcase_add_unchecked_fixture(timer, setup_timer, teardown);
	tcase_set_timeout(timer, 60);
	tcase_add_test(timer, test_expiry_timer);
	suite_add_tcase(s, timer);
	return h_main(s);
}
