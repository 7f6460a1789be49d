/* Per-node memory: joins keep their first-seen time and override across steps. */
#include <check.h>
#include <string.h>

#include "ctl_nodes.h"
#include "unit.h"

static void live(struct node_addr *v, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		strcpy(v[i].name, names[i]);
	}
}

START_TEST(test_update_keeps_and_drops)
{
	struct ctl_nodes set = {0};
	struct node_addr v[3];
	live(v, (const char *const[]){"10.0.0.1:1", "10.0.0.2:1"}, 2);
	ck_assert_int_eq(ctl_nodes_update(&set, v, 2, 100), 0);
	struct agent_override drain = {AGENT_OVERRIDE_DRAIN, 0};
	ctl_nodes_set_override(&set, "10.0.0.2:1", &drain);
	ctl_nodes_set_override(&set, "10.9.9.9:1", &drain); /* unknown: ignored */
	live(v, (const char *const[]){"10.0.0.0:1", "10.0.0.2:1", "10.0.0.3:1"}, 3);
	ck_assert_int_eq(ctl_nodes_update(&set, v, 3, 500), 0);
	ck_assert_uint_eq(set.n, 3);
	ck_assert_ptr_null(ctl_nodes_find(&set, "10.0.0.1:1"));
	ck_assert_uint_eq(ctl_nodes_find(&set, "10.0.0.0:1")->first_seen_ms, 500);
	ck_assert_uint_eq(ctl_nodes_find(&set, "10.0.0.2:1")->first_seen_ms, 100);
	ck_assert_int_eq(ctl_nodes_find(&set, "10.0.0.2:1")->override.kind, AGENT_OVERRIDE_DRAIN);
	ck_assert_int_eq(ctl_nodes_find(&set, "10.0.0.3:1")->override.kind, AGENT_OVERRIDE_NONE);
	ctl_nodes_clear_overrides(&set);
	ck_assert_int_eq(ctl_nodes_find(&set, "10.0.0.2:1")->override.kind, AGENT_OVERRIDE_NONE);
	ck_assert_int_eq(ctl_nodes_update(&set, v, 0, 900), 0);
	ck_assert_uint_eq(set.n, 0);
	ck_assert_ptr_null(ctl_nodes_find(&set, "10.0.0.2:1"));
	ctl_nodes_free(&set);
	ctl_nodes_free(&set);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ctl_nodes");
	TCase *tc = tcase_create("ctl_nodes");
	tcase_add_test(tc, test_update_keeps_and_drops);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
