/* bridge_stats against replies captured from HAProxy 2.6.12 (tests/fixtures/bridge_*, made by
 * bridge_capture.sh): nodes UP, DRAIN, DOWN, MAINT, IPv6, held sessions, the stats socket's
 * level user (empty addr column) and admin level, an empty backend, a very long server name,
 * a duplicate address, truncated and malformed replies. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge_stats.h"
#include "hap_info.h"
#include "hap_servers.h"
#include "unit.h"

static char err[256];

/* Parses a `show servers state` fixture; the caller frees *states. */
static size_t states_fixture(const char *name, struct hap_server_state **states)
{
	char *text = fixture(name);
	size_t n = 0;
	ck_assert_msg(hap_servers_state_parse(text, states, &n, err, sizeof(err)) == 0, "%s: %s", name, err);
	free(text);
	return n;
}

/* Parses stat fixture csv with the states of state (NULL: none) into s. */
static void parse_fixture(const char *csv, const char *state, struct bridge_snapshot *s)
{
	struct hap_server_state *states = NULL;
	size_t n = state != NULL ? states_fixture(state, &states) : 0;
	char *text = fixture(csv);
	ck_assert_msg(bridge_stats_parse_stat(text, "mcs_tls", "mcs", states, n, s, err, sizeof(err)) == 0, "%s: %s",
		      csv, err);
	free(text);
	free(states);
}

static const struct bridge_node *node_of(const struct bridge_snapshot *s, const char *label)
{
	for (size_t i = 0; i < s->n_nodes; i++)
		if (strcmp(s->nodes[i].label, label) == 0 && !s->nodes[i].skip)
			return &s->nodes[i];
	ck_abort_msg("no node %s", label);
	return NULL;
}

/* The nodes of the captured gateway, as bridge_capture.sh set them up. */
static const struct {
	const char *label;
	unsigned sid;
	unsigned long long scur, stot, chkdown;
	int up, maint, drain, check_ok;
} captured[] = {
	{"127.0.0.1:46593", 1, 2, 2, 0, 1, 0, 0, 1},
	{"127.0.0.1:44079", 2, 0, 0, 0, 1, 0, 1, 1},  /* DRAIN: passes checks */
	{"127.0.0.1:48169", 3, 0, 0, 1, 0, 0, 0, 0},  /* DOWN: refuses, L4CON; chkfail stays 0 */
	{"[::1]:55297", 4, 1, 1, 0, 1, 0, 0, 1},      /* IPv6, server name "::1:55297" */
	{"127.0.0.1:35253", 5, 0, 0, 1, 0, 1, 0, -1}, /* MAINT: checks paused, no check status */
};

static void assert_captured(const struct bridge_snapshot *s)
{
	ck_assert_uint_eq(s->n_nodes, N_ELEMS(captured));
	ck_assert_uint_eq(s->n_unlabelled, 0);
	for (size_t i = 0; i < N_ELEMS(captured); i++) {
		const struct bridge_node *n = &s->nodes[i];
		ck_assert_str_eq(n->label, captured[i].label);
		ck_assert_uint_eq(n->sid, captured[i].sid);
		ck_assert_uint_eq(n->scur, captured[i].scur);
		ck_assert_uint_eq(n->stot, captured[i].stot);
		ck_assert_uint_eq(n->chkfail, 0);
		ck_assert_uint_eq(n->chkdown, captured[i].chkdown);
		ck_assert_uint_eq(n->econ, 0);
		ck_assert_uint_eq(n->weight, 100);
		ck_assert_int_eq(n->up, captured[i].up);
		ck_assert_int_eq(n->maint, captured[i].maint);
		ck_assert_int_eq(n->drain, captured[i].drain);
		ck_assert_int_eq(n->check_ok, captured[i].check_ok);
		ck_assert_int_eq(n->skip, 0);
	}
	ck_assert_int_eq(s->fe_found, 1);
	ck_assert_int_eq(s->be_found, 1);
	ck_assert_uint_eq(s->fe_scur, 3);
	ck_assert_uint_eq(s->fe_stot, 3);
	ck_assert_uint_eq(s->fe_slim, 8000);
	ck_assert_int_eq(s->fe_has_ssl_fail, 1);
	ck_assert_uint_eq(s->fe_ssl_fail, 1);
	ck_assert_int_eq(s->fe_has_dcon, 1);
	ck_assert_uint_eq(s->fe_dcon, 0);
}

START_TEST(test_user_level_labels_from_servers_state)
{
	struct bridge_snapshot s = {0};
	parse_fixture("bridge_stat_user.csv", "bridge_state.txt", &s);
	assert_captured(&s);
	ck_assert(s.nodes[2].check_duration_s >= 0);
	ck_assert(s.nodes[4].check_duration_s < 0);
	bridge_snapshot_clear(&s);
}
END_TEST

START_TEST(test_admin_level_labels_from_addr_column)
{
	struct bridge_snapshot s = {0};
	parse_fixture("bridge_stat_admin.csv", NULL, &s);
	assert_captured(&s);
	bridge_snapshot_clear(&s);
}
END_TEST

START_TEST(test_user_level_labels_from_names)
{
	struct bridge_snapshot s = {0};
	parse_fixture("bridge_stat_user.csv", NULL, &s);
	assert_captured(&s);
	bridge_snapshot_clear(&s);
}
END_TEST

START_TEST(test_empty_backend)
{
	struct bridge_snapshot s = {0};
	parse_fixture("bridge_stat_empty.csv", NULL, &s);
	ck_assert_int_eq(s.be_found, 1);
	ck_assert_int_eq(s.fe_found, 1);
	ck_assert_uint_eq(s.n_nodes, 0);
	ck_assert_uint_eq(s.fe_scur, 0);
	bridge_snapshot_clear(&s);
}
END_TEST

START_TEST(test_other_proxy_names_give_nothing)
{
	struct bridge_snapshot s = {0};
	char *text = fixture("bridge_stat_user.csv");
	ck_assert_int_eq(bridge_stats_parse_stat(text, "other_fe", "other_be", NULL, 0, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(s.fe_found, 0);
	ck_assert_int_eq(s.be_found, 0);
	ck_assert_uint_eq(s.n_nodes, 0);
	free(text);
	bridge_snapshot_clear(&s);
}
END_TEST

START_TEST(test_long_name_and_alias_without_states)
{
	/* A 200-byte server name: the servers state parser refuses the whole reply (its name
	 * field holds 127 bytes). Names that are addresses still label their nodes. */
	char *text = fixture("bridge_state_odd.txt");
	struct hap_server_state *states = NULL;
	size_t n = 0;
	int rc = hap_servers_state_parse(text, &states, &n, err, sizeof(err));
	free(text);
	free(states);
	struct bridge_snapshot s = {0};
	parse_fixture("bridge_stat_odd_user.csv", rc == 0 ? "bridge_state_odd.txt" : NULL, &s);
	ck_assert_uint_eq(s.n_nodes, rc == 0 ? 6 : 5);
	ck_assert_uint_eq(s.n_unlabelled, rc == 0 ? 1 : 2);
	ck_assert_uint_eq(node_of(&s, "127.0.0.1:46593")->sid, 1);
	ck_assert_uint_eq(node_of(&s, "[::1]:55297")->scur, 1);
	bridge_snapshot_clear(&s);
}
END_TEST

/* Drops the line of the 200-byte name from a `show servers state` reply. */
static void drop_long_line(char *text)
{
	char *p = strstr(text, "\n3 mcs 20 nnnn");
	ck_assert_ptr_nonnull(p);
	char *end = strchr(p + 1, '\n');
	ck_assert_ptr_nonnull(end);
	memmove(p, end, strlen(end) + 1);
}

START_TEST(test_duplicate_address_keeps_first)
{
	/* alias-1 serves 127.0.0.1:46593 too: one series per label, the first row wins. */
	char *state = fixture("bridge_state_odd.txt");
	drop_long_line(state);
	struct hap_server_state *states = NULL;
	size_t n = 0;
	ck_assert_msg(hap_servers_state_parse(state, &states, &n, err, sizeof(err)) == 0, "%s", err);
	char *csv = fixture("bridge_stat_odd_user.csv");
	struct bridge_snapshot s = {0};
	ck_assert_int_eq(bridge_stats_parse_stat(csv, "mcs_tls", "mcs", states, n, &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n_nodes, 6);
	ck_assert_uint_eq(s.n_unlabelled, 1); /* the long name: not an address, no state line */
	size_t kept = 0, skipped = 0;
	for (size_t i = 0; i < s.n_nodes; i++) {
		if (strcmp(s.nodes[i].label, "127.0.0.1:46593") != 0)
			continue;
		kept += !s.nodes[i].skip;
		skipped += s.nodes[i].skip;
		ck_assert_uint_eq(s.nodes[i].sid, s.nodes[i].skip ? 21 : 1);
	}
	ck_assert_uint_eq(kept, 1);
	ck_assert_uint_eq(skipped, 1);
	bridge_snapshot_clear(&s);
	free(states);
	free(csv);
	free(state);
}
END_TEST

START_TEST(test_truncated_never_wrong)
{
	/* Cut the reply at every byte: either refused, or a prefix whose values are right. */
	char *full = fixture("bridge_stat_user.csv");
	size_t len = strlen(full);
	for (size_t cut = 0; cut + 1 < len; cut++) {
		char *part = strndup(full, cut);
		struct bridge_snapshot s = {0};
		if (bridge_stats_parse_stat(part, "mcs_tls", "mcs", NULL, 0, &s, err, sizeof(err)) == 0) {
			ck_assert_uint_le(s.n_nodes, N_ELEMS(captured));
			for (size_t i = 0; i < s.n_nodes; i++) {
				ck_assert_str_eq(s.nodes[i].label, captured[i].label);
				ck_assert_uint_eq(s.nodes[i].scur, captured[i].scur);
			}
		} else {
			ck_assert_ptr_null(s.nodes);
			ck_assert_uint_eq(s.n_nodes, 0);
			ck_assert_ptr_null(strchr(err, '\n'));
		}
		bridge_snapshot_clear(&s);
		free(part);
	}
	free(full);
}
END_TEST

START_TEST(test_truncated_mid_line_refused)
{
	char *full = fixture("bridge_stat_user.csv");
	char *p = strstr(full, "\nmcs,127.0.0.1:48169,");
	ck_assert_ptr_nonnull(p);
	p[20] = '\0';
	struct bridge_snapshot s = {.pid = 7};
	ck_assert_int_eq(bridge_stats_parse_stat(full, "mcs_tls", "mcs", NULL, 0, &s, err, sizeof(err)), -1);
	ck_assert_uint_eq(s.n_nodes, 0);
	ck_assert_int_eq(s.pid, 7); /* what show info gave is kept */
	free(full);
}
END_TEST

/* Replaces the first occurrence of from in text (same length) with to. */
static void patch(char *text, const char *from, const char *to)
{
	char *p = strstr(text, from);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
}

/* A drained node whose checks fail: HAProxy's status says DOWN, its admin state still drain. */
START_TEST(test_drained_and_down)
{
	char *state = fixture("bridge_state.txt"), *csv = fixture("bridge_stat_user.csv");
	patch(state, "3 mcs 3 127.0.0.1:48169 127.0.0.1 0 0 ", "3 mcs 3 127.0.0.1:48169 127.0.0.1 0 8 ");
	struct hap_server_state *states = NULL;
	size_t n = 0;
	ck_assert_int_eq(hap_servers_state_parse(state, &states, &n, err, sizeof(err)), 0);
	struct bridge_snapshot s = {0};
	ck_assert_msg(bridge_stats_parse_stat(csv, "mcs_tls", "mcs", states, n, &s, err, sizeof(err)) == 0, "%s", err);
	const struct bridge_node *down = node_of(&s, "127.0.0.1:48169");
	ck_assert_int_eq(down->up, 0);
	ck_assert_int_eq(down->drain, 1);
	ck_assert_int_eq(node_of(&s, "127.0.0.1:46593")->drain, 0);
	bridge_snapshot_clear(&s);
	free(states);
	free(state);
	free(csv);
}
END_TEST

START_TEST(test_missing_column_refused)
{
	char *text = fixture("bridge_stat_user.csv");
	patch(text, ",chkfail,", ",chkfaiX,");
	struct bridge_snapshot s = {0};
	ck_assert_int_eq(bridge_stats_parse_stat(text, "mcs_tls", "mcs", NULL, 0, &s, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "no chkfail column"));
	free(text);
}
END_TEST

START_TEST(test_bad_number_refused)
{
	char *text = fixture("bridge_stat_user.csv");
	patch(text, "mcs,127.0.0.1:46593,0,0,2,", "mcs,127.0.0.1:46593,0,0,x,");
	struct bridge_snapshot s = {0};
	ck_assert_int_eq(bridge_stats_parse_stat(text, "mcs_tls", "mcs", NULL, 0, &s, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "127.0.0.1:46593"));
	free(text);
}
END_TEST

/* Hand-made rows for the status mapping: only the columns the bridge needs, by name. */
static const struct {
	const char *status, *check;
	int up, maint, drain, check_ok;
} statuses[] = {
	{"UP", "L4OK", 1, 0, 0, 1},
	{"UP 1/3", "L4TOUT", 1, 0, 0, 0}, /* going down: still serving */
	{"DOWN", "L4CON", 0, 0, 0, 0},
	{"DOWN 1/2", "* L4OK", 0, 0, 0, 1}, /* going up; a check running now */
	{"NOLB", "L7OK", 1, 0, 0, 1},
	{"DRAIN", "L4OK", 1, 0, 1, 1},
	{"MAINT", "", 0, 1, 0, -1},
	{"MAINT (via)", "", 0, 1, 0, -1},
	{"MAINT(resolution)", "INI", 0, 1, 0, -1},
	{"no check", "", 1, 0, 0, -1},
	{"???", "SOCKERR", 0, 0, 0, 0},
};

START_TEST(test_status_table)
{
	char csv[512];
	snprintf(csv, sizeof(csv),
		 "# pxname,svname,type,scur,stot,chkfail,status,sid,addr,check_status\n"
		 "mcs,10.0.0.1:7000,2,0,0,0,%s,1,,%s\n\n",
		 statuses[_i].status, statuses[_i].check);
	struct bridge_snapshot s = {0};
	ck_assert_msg(bridge_stats_parse_stat(csv, "mcs_tls", "mcs", NULL, 0, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(s.n_nodes, 1);
	ck_assert_str_eq(s.nodes[0].label, "10.0.0.1:7000");
	ck_assert_int_eq(s.nodes[0].up, statuses[_i].up);
	ck_assert_int_eq(s.nodes[0].maint, statuses[_i].maint);
	ck_assert_int_eq(s.nodes[0].drain, statuses[_i].drain);
	ck_assert_int_eq(s.nodes[0].check_ok, statuses[_i].check_ok);
	ck_assert_int_eq(s.fe_has_ssl_fail, 0);
	bridge_snapshot_clear(&s);
}
END_TEST

/* Server names that are, or are not, addresses (used when no other source labels a node). */
static const struct {
	const char *name, *label;
} names[] = {
	{"10.0.0.5:7000", "10.0.0.5:7000"},
	{"2001:db8::1:7000", "[2001:db8::1]:7000"},
	{"[2001:db8::1]:7000", "[2001:db8::1]:7000"},
	{"::1:1", "[::1]:1"},
	{"srv3", NULL},
	{"10.0.0.5:0", NULL},
	{"10.0.0.5:65536", NULL},
	{"10.0.0.5:", NULL},
	{"host.example:7000", NULL},
	{"1.2.3.4:80x", NULL},
	{":80", NULL},
};

START_TEST(test_label_from_name_table)
{
	char csv[512];
	snprintf(csv, sizeof(csv),
		 "# pxname,svname,type,scur,stot,chkfail,status,sid,addr\n"
		 "mcs,%s,2,0,0,0,UP,1,\n\n",
		 names[_i].name);
	struct bridge_snapshot s = {0};
	ck_assert_msg(bridge_stats_parse_stat(csv, "mcs_tls", "mcs", NULL, 0, &s, err, sizeof(err)) == 0, "%s", err);
	if (names[_i].label == NULL) {
		ck_assert_uint_eq(s.n_nodes, 0);
		ck_assert_uint_eq(s.n_unlabelled, 1);
	} else {
		ck_assert_uint_eq(s.n_nodes, 1);
		ck_assert_str_eq(s.nodes[0].label, names[_i].label);
	}
	bridge_snapshot_clear(&s);
}
END_TEST

START_TEST(test_state_must_match_name_and_id)
{
	/* A state line of another server with the same id (deleted and re-added between the two
	 * commands) is not used: the node falls back to its name. */
	struct hap_server_state st = {.name = "other", .addr = "192.0.2.9", .port = 9, .id = 1};
	const char *csv = "# pxname,svname,type,scur,stot,chkfail,status,sid,addr\n"
			  "mcs,10.0.0.1:7000,2,0,0,0,UP,1,\nmcs,mystery,2,0,0,0,UP,2,\n\n";
	struct bridge_snapshot s = {0};
	ck_assert_int_eq(bridge_stats_parse_stat(csv, "mcs_tls", "mcs", &st, 1, &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n_nodes, 1);
	ck_assert_str_eq(s.nodes[0].label, "10.0.0.1:7000");
	ck_assert_uint_eq(s.n_unlabelled, 1);
	bridge_snapshot_clear(&s);
}
END_TEST

/* `show info` (parsed by hap_info_parse, see test_hap_info.c) into the snapshot. */
START_TEST(test_info)
{
	char *text = fixture("bridge_info.txt");
	struct bridge_snapshot s = {0};
	struct hap_info info;
	ck_assert_msg(hap_info_parse(text, &info, err, sizeof(err)) == 0, "%s", err);
	bridge_stats_set_info(&s, &info);
	ck_assert_int_eq(s.pid, 12984);
	ck_assert_uint_eq(s.uptime_s, 2);
	ck_assert_str_eq(s.version, "2.6.12-1+deb12u4");
	free(text);
}
END_TEST

static const struct {
	const char *addr;
	unsigned port;
	size_t outlen;
	const char *want; /* NULL: refused */
} labels[] = {
	{"1.2.3.4", 80, 64, "1.2.3.4:80"},
	{"::1", 7001, 64, "[::1]:7001"},
	{"2001:db8::1", 65535, 64, "[2001:db8::1]:65535"},
	{"", 80, 64, NULL},
	{"1.2.3.4", 80, 10, NULL},
	{"1.2.3.4", 80, 11, "1.2.3.4:80"},
};

START_TEST(test_label_table)
{
	char out[64];
	int rc = bridge_stats_label(labels[_i].addr, labels[_i].port, out, labels[_i].outlen);
	if (labels[_i].want == NULL) {
		ck_assert_int_eq(rc, -1);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out, labels[_i].want);
	}
}
END_TEST

/* The frontend's refused connections (dcon): read when present, absent from older headers. */
START_TEST(test_dcon_column)
{
	const char *with = "# pxname,svname,type,scur,stot,chkfail,status,sid,addr,dcon\n"
			   "mcs_tls,FRONTEND,0,3,40,,OPEN,,,17\n\n";
	const char *without = "# pxname,svname,type,scur,stot,chkfail,status,sid,addr\n"
			      "mcs_tls,FRONTEND,0,3,40,,OPEN,,\n\n";
	struct bridge_snapshot s = {0};
	ck_assert_msg(bridge_stats_parse_stat(with, "mcs_tls", "mcs", NULL, 0, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(s.fe_has_dcon, 1);
	ck_assert_uint_eq(s.fe_dcon, 17);
	ck_assert_msg(bridge_stats_parse_stat(without, "mcs_tls", "mcs", NULL, 0, &s, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_int_eq(s.fe_found, 1);
	ck_assert_int_eq(s.fe_has_dcon, 0);
	bridge_snapshot_clear(&s);
}
END_TEST

/* `show table` (parsed by hap_table_use_parse, see test_hap_table.c) sets the table's three
 * fields and leaves the rest of the snapshot alone, on success and failure alike. */
START_TEST(test_table_into_snapshot)
{
	struct bridge_snapshot s = {.pid = 9, .fe_found = 1, .table_found = 1, .table_size = 77, .table_used = 7};
	ck_assert_int_eq(bridge_stats_parse_table("# table: mcs_tls, type: ipv6, size:1000, used:2\n\n", "mcs_tls", &s,
						  err, sizeof(err)),
			 0);
	ck_assert_int_eq(s.table_found, 1);
	ck_assert_uint_eq(s.table_size, 1000);
	ck_assert_uint_eq(s.table_used, 2);
	ck_assert_int_eq(bridge_stats_parse_table("# table: mcs_tls, type: ipv6, used:3\n\n", "mcs_tls", &s, err,
						  sizeof(err)),
			 -1);
	ck_assert_int_eq(s.table_found, 0);
	ck_assert_uint_eq(s.table_size, 0);
	ck_assert_int_eq(s.pid, 9);
	ck_assert_int_eq(s.fe_found, 1);
}
END_TEST

static Suite *bridge_stats_suite(void)
{
	Suite *s = suite_create("bridge_stats");
	TCase *tc = tcase_create("captured");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_user_level_labels_from_servers_state);
	tcase_add_test(tc, test_admin_level_labels_from_addr_column);
	tcase_add_test(tc, test_user_level_labels_from_names);
	tcase_add_test(tc, test_empty_backend);
	tcase_add_test(tc, test_other_proxy_names_give_nothing);
	tcase_add_test(tc, test_long_name_and_alias_without_states);
	tcase_add_test(tc, test_duplicate_address_keeps_first);
	tcase_add_test(tc, test_truncated_never_wrong);
	tcase_add_test(tc, test_truncated_mid_line_refused);
	tcase_add_test(tc, test_drained_and_down);
	tcase_add_test(tc, test_missing_column_refused);
	tcase_add_test(tc, test_bad_number_refused);
	tcase_add_test(tc, test_info);
	tcase_add_test(tc, test_dcon_column);
	suite_add_tcase(s, tc);
	TCase *tt = tcase_create("tables");
	tcase_add_loop_test(tt, test_status_table, 0, N_ELEMS(statuses));
	tcase_add_loop_test(tt, test_label_from_name_table, 0, N_ELEMS(names));
	tcase_add_test(tt, test_state_must_match_name_and_id);
	tcase_add_loop_test(tt, test_label_table, 0, N_ELEMS(labels));
	tcase_add_test(tt, test_table_into_snapshot);
	suite_add_tcase(s, tt);
	return s;
}

int main(void) { return unit_run(bridge_stats_suite()); }
