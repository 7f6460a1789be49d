/* The whole controller with its live features: instant discovery from keyspace
 * notifications, the agent's warm-up and overrides, HAProxy keeping its servers while the
 * controller is down (and the agent re-pointed when it returns), certificate hot reload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define POLL_MS 5000 /* long on purpose: only a notification can explain a fast discovery */

static const char *const live_env[] = {"MCS_WARMUP_S=3", "MCS_WARMUP_START_PCT=10", "MCS_AGENT_INTER_MS=300", NULL};
static const struct h_opts live_opts = {.poll_ms = POLL_MS, .controller_env = live_env};

/* Redis with notifications on before the controller starts (the controller never turns them on). */
static void setup(void)
{
	struct h_opts o = live_opts;
	o.without_controller = 1;
	h_gateway_start(&o);
	redisReply *r = h_redis_cmd("CONFIG SET notify-keyspace-events Kz");
	ck_assert_msg(r != NULL && r->type == REDIS_REPLY_STATUS, "CONFIG SET failed");
	freeReplyObject(r);
	ck_assert_msg((H.controller = h_controller_start(&live_opts)) != NULL, "%s", h_error());
}

static void teardown(void) { h_gateway_stop(); }

static int uweight(const char *name)
{
	struct h_srv v[H_MAX_SERVERS];
	int n = h_servers(H.stats_sock, v, H_MAX_SERVERS);
	const struct h_srv *s = n >= 0 ? h_srv_find(v, n, name) : NULL;
	return s ? s->uweight : -1;
}

static int agent_state(const char *name)
{
	struct h_srv v[H_MAX_SERVERS];
	int n = h_servers(H.stats_sock, v, H_MAX_SERVERS);
	const struct h_srv *s = n >= 0 ? h_srv_find(v, n, name) : NULL;
	return s ? s->agent_state : -1;
}

/* Configured (0x02) but not enabled (0x04): HAProxy runs no agent check on it. */
static int agent_stopped(const char *name)
{
	int st = agent_state(name);
	return st >= 0 && (st & 0x02) && !(st & 0x04);
}

static struct h_client *hold(void)
{
	char err[512];
	struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
	ck_assert_msg(c != NULL, "TLS client: %s", err);
	return c;
}

static void redis_ok(const char *cmd, const char *a, const char *b)
{
	redisReply *r = h_redis_cmd(cmd, a, b);
	ck_assert_msg(r != NULL && r->type != REDIS_REPLY_ERROR, "%s %s: %s", cmd, a, r ? r->str : "no reply");
	freeReplyObject(r);
}

/* A ZADDed node takes clients long before the next poll (5 s away), and starts at a low
 * weight that the agent ramps to full over the warm-up. */
START_TEST(test_instant_discovery_and_warmup)
{
	struct h_node n[1], fresh;
	ck_assert_msg(h_nodes_up(n, 1, 12000) == 0, "%s", h_error());
	struct h_client *held = hold();
	ck_assert_msg(h_node_start(&fresh) == 0, "%s", h_error());
	uint64_t t0 = h_now_ms();
	ck_assert_msg(h_hb_add(fresh.name) == 0, "%s", h_error());
	struct h_client *first = NULL;
	while (first == NULL && h_now_ms() - t0 < POLL_MS) {
		struct h_client *c = hold();
		if (strcmp(c->node, fresh.name) == 0)
			first = c;
		else
			h_client_close(c);
	}
	uint64_t ms = h_now_ms() - t0;
	ck_assert_msg(first != NULL, "no client reached %s within the poll interval", fresh.name);
	printf("notifications: ZADD->first client %llu ms (poll %d ms)\n", (unsigned long long)ms, POLL_MS);
	ck_assert_msg(ms < 1000, "ZADD->first client took %llu ms with notifications on", (unsigned long long)ms);
	int w = uweight(fresh.name);
	ck_assert_msg(w >= 1 && w <= 40, "a fresh node's weight is %d, not its warm-up start", w);
	ck_assert_msg(H_WAIT(6000, uweight(fresh.name) == 100), "warm-up never reached 100 (at %d)",
		      uweight(fresh.name));
	/* Warm-up over: its agent has nothing more to say and is stopped (a steady pool costs no
	 * agent checks); it stays configured, so an override can start it again (test_override). */
	ck_assert_msg(H_WAIT(POLL_MS + 3000, agent_stopped(fresh.name)), "agent of %s not stopped (state %d)",
		      fresh.name, agent_state(fresh.name));
	h_client_close(first);
	h_client_close(held);
	h_hb_remove(fresh.name);
}
END_TEST

/* An override in mcs:node:agent: drain takes a node out of rotation (weight 0, sessions kept),
 * removing it brings the node back; a bad value is refused and changes nothing. */
START_TEST(test_override)
{
	struct h_node n[2];
	ck_assert_msg(h_nodes_up(n, 2, 12000) == 0, "%s", h_error());
	ck_assert_msg(H_WAIT(6000, uweight(n[0].name) == 100 && uweight(n[1].name) == 100), "warm-up did not end");
	ck_assert_msg(H_WAIT(POLL_MS + 3000, agent_stopped(n[0].name)), "agent of %s still running after warm-up",
		      n[0].name);
	struct h_client *on_a = NULL;
	while (on_a == NULL) {
		struct h_client *c = hold();
		if (strcmp(c->node, n[0].name) == 0)
			on_a = c;
		else
			h_client_close(c);
	}
	/* Overrides are read at each step: within one poll interval. */
	redis_ok("HSET mcs:node:agent %s %s", n[0].name, "drain");
	ck_assert_msg(H_WAIT(POLL_MS + 2000, uweight(n[0].name) == 0), "override drain: weight still %d",
		      uweight(n[0].name));
	for (int i = 0; i < 6; i++) {
		struct h_client *c = hold();
		ck_assert_msg(strcmp(c->node, n[1].name) == 0, "a client went to %s under a drain override", c->node);
		h_client_close(c);
	}
	char err[256];
	ck_assert_msg(h_client_echo(on_a, "still here\n", 2000, err, sizeof(err)) == 0, "session under override: %s",
		      err);
	redis_ok("HSET mcs:node:agent %s %s", n[0].name, "ready");
	ck_assert_msg(H_WAIT(POLL_MS + 2000, h_log_has(H.controller, "rejected", "ready", NULL)),
		      "bad override not logged");
	ck_assert_msg(H_WAIT(3000, uweight(n[0].name) == 100), "refused override left weight %d", uweight(n[0].name));
	redis_ok("HSET mcs:node:agent %s %s", n[0].name, "30%");
	ck_assert_msg(H_WAIT(POLL_MS + 2000, uweight(n[0].name) == 30), "override 30%%: weight %d", uweight(n[0].name));
	redis_ok("HDEL mcs:node:agent %s%s", n[0].name, "");
	ck_assert_msg(H_WAIT(POLL_MS + 2000, uweight(n[0].name) == 100), "override removed: weight %d",
		      uweight(n[0].name));
	ck_assert_msg(h_srv_ready(n[0].name), "the node is not ready after its override ended");
	h_client_close(on_a);
}
END_TEST

/* The controller stops: HAProxy keeps every server, clients keep flowing. It comes back on
 * another agent port: the servers are re-pointed and answers flow again. */
START_TEST(test_controller_down)
{
	struct h_node n[2];
	ck_assert_msg(h_nodes_up(n, 2, 12000) == 0, "%s", h_error());
	ck_assert_msg(H_WAIT(6000, uweight(n[0].name) == 100 && uweight(n[1].name) == 100), "warm-up did not end");
	h_proc_stop(H.controller, 3000);
	/* Several agent intervals without an answer: nothing changes. */
	ck_assert_msg(H_HOLDS(2000, h_srv_ready(n[0].name) && uweight(n[0].name) == 100 && h_srv_ready(n[1].name) &&
					    uweight(n[1].name) == 100),
		      "a server changed while the controller was down");
	for (int i = 0; i < 4; i++)
		h_client_close(hold());
	ck_assert_msg((H.controller = h_controller_start(&live_opts)) != NULL, "%s", h_error());
	redis_ok("HSET mcs:node:agent %s %s", n[1].name, "50%");
	ck_assert_msg(H_WAIT(POLL_MS + 4000, uweight(n[1].name) == 50),
		      "the restarted controller's agent is not reached (weight %d)", uweight(n[1].name));
	redis_ok("HDEL mcs:node:agent %s%s", n[1].name, "");
}
END_TEST

/* New tls/server.cert + server.key: swapped into HAProxy at run time, new clients see it,
 * a client connected before keeps its session. */
START_TEST(test_cert_hot_reload)
{
	struct h_node n[1];
	ck_assert_msg(h_nodes_up(n, 1, 12000) == 0, "%s", h_error());
	struct h_client *before = hold();
	char cert[H_PATH_MAX + 32], key[H_PATH_MAX + 32], ncert[H_PATH_MAX + 32], nkey[H_PATH_MAX + 32];
	snprintf(cert, sizeof(cert), "%s/server.cert", H.tls_dir);
	snprintf(key, sizeof(key), "%s/server.key", H.tls_dir);
	snprintf(ncert, sizeof(ncert), "%s/new.cert", H.dir);
	snprintf(nkey, sizeof(nkey), "%s/new.key", H.dir);
	ck_assert_msg(h_make_cert(ncert, nkey, H_KEY_EC_SEC1) == 0, "%s", h_error());
	ck_assert_msg(rename(nkey, key) == 0 && rename(ncert, cert) == 0, "cannot replace the pair");
	uint64_t t0 = h_now_ms();
	int seen = 0;
	while (!seen && h_now_ms() - t0 < 5000) {
		struct h_client *c = hold();
		seen = h_client_cert_is(c, cert);
		h_client_close(c);
		if (!seen)
			h_sleep_ms(100);
	}
	ck_assert_msg(seen, "new clients never saw the new certificate");
	printf("certificate hot reload: new certificate served %llu ms after the files changed\n",
	       (unsigned long long)(h_now_ms() - t0));
	char err[256];
	ck_assert_msg(h_client_echo(before, "across the swap\n", 2000, err, sizeof(err)) == 0, "held session: %s", err);
	ck_assert_msg(h_log_has(H.controller, "swapped", NULL, NULL), "no log line for the swap");
	h_client_close(before);
}
END_TEST

static TCase *live_case(const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	_tcase_add_test(tc, test, 0, 0, 0, 1);
	return tc;
}

int main(void)
{
	Suite *s = suite_create("live");
	suite_add_tcase(s, live_case("discovery_warmup", test_instant_discovery_and_warmup));
	suite_add_tcase(s, live_case("override", test_override));
	suite_add_tcase(s, live_case("controller_down", test_controller_down));
	suite_add_tcase(s, live_case("cert_reload", test_cert_hot_reload));
	return h_main(s);
}
