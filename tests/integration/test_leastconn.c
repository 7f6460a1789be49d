/* Scenario 1, least connections: three nodes and 12 held TLS connections split 4/4/4; after
 * the 4 on one node close, the next 4 clients all go to that node. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define N_NODES 3
#define N_HELD 12

static void setup(void) { h_gateway_start(&(struct h_opts){.poll_ms = 250}); }

static void teardown(void) { h_gateway_stop(); }

/* Opens a client and returns the index of the node it landed on. */
static int open_on(const struct h_node *nodes, struct h_client **out)
{
	char err[512];
	*out = h_client_connect(H.mcs_port, err, sizeof(err));
	ck_assert_msg(*out != NULL, "TLS client: %s", err);
	int i = h_node_index(nodes, N_NODES, (*out)->node);
	ck_assert_msg(i >= 0, "client landed on unknown node %s", (*out)->node);
	return i;
}

START_TEST(test_least_connections)
{
	struct h_node nodes[N_NODES];
	struct h_client *held[N_HELD];
	int on[N_HELD], count[N_NODES] = {0};
	ck_assert_msg(h_nodes_up(nodes, N_NODES, 10000) == 0, "%s", h_error());

	/* One after the other, each greeted before the next: HAProxy counts every one. */
	for (int i = 0; i < N_HELD; i++)
		count[on[i] = open_on(nodes, &held[i])]++;
	printf("12 held connections: %d/%d/%d\n", count[0], count[1], count[2]);
	for (int n = 0; n < N_NODES; n++)
		ck_assert_msg(count[n] == 4, "node %s holds %d connections, want 4 (split %d/%d/%d)", nodes[n].name,
			      count[n], count[0], count[1], count[2]);

	/* Close the 4 on node 0 and wait until HAProxy no longer counts them. */
	for (int i = 0; i < N_HELD; i++) {
		if (on[i] == 0) {
			h_client_close(held[i]);
			held[i] = NULL;
		}
	}
	ck_assert_msg(H_WAIT(5000, h_stat_num("mcs", nodes[0].name, "scur") == 0),
		      "HAProxy still counts %ld sessions on %s", h_stat_num("mcs", nodes[0].name, "scur"),
		      nodes[0].name);

	struct h_client *next[4];
	int landed[N_NODES] = {0};
	for (int i = 0; i < 4; i++)
		landed[open_on(nodes, &next[i])]++;
	printf("next 4 after closing the 4 on %s: %d/%d/%d\n", nodes[0].name, landed[0], landed[1], landed[2]);
	ck_assert_msg(landed[0] == 4, "only %d of the next 4 clients went to the emptied node %s", landed[0],
		      nodes[0].name);

	char err[512];
	for (int i = 0; i < 4; i++) {
		ck_assert_msg(h_client_echo(next[i], "still here\n", 3000, err, sizeof(err)) == 0, "%s", err);
		h_client_close(next[i]);
	}
	for (int i = 0; i < N_HELD; i++)
		h_client_close(held[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("leastconn");
	TCase *tc = tcase_create("leastconn");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_least_connections);
	suite_add_tcase(s, tc);
	return h_main(s);
}
