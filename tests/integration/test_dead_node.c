/* Scenario 3, a node whose port is closed while its heartbeat continues: clients that connect
 * meanwhile all succeed on the live nodes (50 attempts, zero client-visible failures). Two
 * ways to die: a member whose port nothing listens on, and a demo node killed with SIGKILL. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define N_LIVE 2
#define ATTEMPTS_PER_PHASE 25

static void setup(void) { h_gateway_start(&(struct h_opts){.poll_ms = 250, .check_inter_ms = 500}); }

static void teardown(void) { h_gateway_stop(); }

static int srv_present(const char *name)
{
	struct h_srv v[H_MAX_SERVERS];
	int n = h_servers(H.stats_sock, v, H_MAX_SERVERS);
	return n > 0 && h_srv_find(v, n, name) != NULL;
}

static int srv_op_state(const char *name)
{
	struct h_srv v[H_MAX_SERVERS];
	int n = h_servers(H.stats_sock, v, H_MAX_SERVERS);
	const struct h_srv *s = n > 0 ? h_srv_find(v, n, name) : NULL;
	return s ? s->op_state : -1;
}

/* n clients, one after the other: each must be greeted by a live node and get its echo. */
static void attempts(const struct h_node *live, int n_live, const char *dead, int n, const char *phase)
{
	char err[512], msg[64];
	int failures = 0, on[N_LIVE + 1] = {0};
	long wredis0 = h_stat_num("mcs", "BACKEND", "wredis");
	uint64_t t0 = h_now_ms();
	for (int i = 0; i < n; i++) {
		struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
		snprintf(msg, sizeof(msg), "attempt %d\n", i);
		if (c == NULL || h_client_echo(c, msg, 3000, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s: attempt %d failed: %s\n", phase, i, err);
			failures++;
		} else {
			ck_assert_msg(strcmp(c->node, dead) != 0, "a client was greeted by the dead node %s", dead);
			int k = h_node_index(live, n_live, c->node);
			on[k < 0 ? N_LIVE : k]++;
		}
		h_client_close(c);
	}
	printf("%s: %d attempts in %llu ms, %d failed, landed %d/%d (+%d elsewhere), %ld redispatched away from %s\n",
	       phase, n, (unsigned long long)(h_now_ms() - t0), failures, on[0], on[1], on[N_LIVE],
	       h_stat_num("mcs", "BACKEND", "wredis") - wredis0, dead);
	ck_assert_msg(failures == 0, "%s: %d of %d clients failed", phase, failures, n);
}

START_TEST(test_dead_port_is_invisible)
{
	struct h_node live[N_LIVE], doomed;
	char dead[H_NAME_MAX];
	ck_assert_msg(h_nodes_up(live, N_LIVE, 10000) == 0, "%s", h_error());

	/* Phase 1: a member nothing listens on, heartbeated like a live node. */
	snprintf(dead, sizeof(dead), "127.0.0.1:%d", h_free_port());
	ck_assert_msg(h_hb_add(dead) == 0, "%s", h_error());
	ck_assert_msg(H_WAIT(5000, srv_present(dead)), "the controller never added %s", dead);
	attempts(live, N_LIVE, dead, ATTEMPTS_PER_PHASE, "closed port");
	ck_assert_msg(H_WAIT(5000, srv_op_state(dead) == 0), "health checks never marked %s down (op_state %d)", dead,
		      srv_op_state(dead));
	ck_assert_msg(srv_present(dead), "%s left the backend although its heartbeat continues", dead);

	/* Phase 2: a real node, in rotation, killed without a word; its heartbeat goes on. */
	ck_assert_msg(h_node_start(&doomed) == 0 && h_hb_add(doomed.name) == 0, "%s", h_error());
	ck_assert_msg(H_WAIT(5000, h_srv_ready(doomed.name)), "%s never became ready", doomed.name);
	kill(doomed.proc->pid, SIGKILL);
	h_proc_stop(doomed.proc, 2000);
	attempts(live, N_LIVE, doomed.name, ATTEMPTS_PER_PHASE, "killed node");
	ck_assert_msg(H_WAIT(5000, srv_op_state(doomed.name) == 0), "health checks never marked %s down", doomed.name);
	/* Proof that clients really were offered the dead servers and moved on. */
	long wredis = h_stat_num("mcs", "BACKEND", "wredis");
	ck_assert_msg(wredis > 0, "no redispatch happened (wredis %ld): the dead servers were never tried", wredis);
	ck_assert_msg(h_proc_running(H.controller), "the controller died");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dead_node");
	TCase *tc = tcase_create("dead_node");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dead_port_is_invisible);
	suite_add_tcase(s, tc);
	return h_main(s);
}
