/* hap_servers, the `show servers state` parser, against replies captured from HAProxy 2.6.12
 * (tests/fixtures/show_servers_state*) and hand-made odd cases: another version, a missing
 * header or column, wrong field counts, bad numbers, names too long. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hap_servers.h"
#include "unit.h"

static char err[256];

static const struct hap_server_state state_servers[] = {
	/* name, addr, port, id, op, admin, uweight, iweight, check, agent, agent port */
	{"127.0.0.1:47101", "127.0.0.1", 47101, 1, HAP_SRV_ST_RUNNING, 0, 100, 100, 6, 0, 0, ""},
	{"127.0.0.1:47102", "127.0.0.1", 47102, 2, HAP_SRV_ST_RUNNING, HAP_ADMF_FDRAIN, 100, 100, 6, 0, 0, ""},
	{"127.0.0.1:47104", "127.0.0.1", 47104, 3, HAP_SRV_ST_STOPPED, 0, 100, 100, 6, 0, 0, ""},
	{"127.0.0.1:47105", "127.0.0.1", 47105, 4, HAP_SRV_ST_STOPPED, HAP_ADMF_FMAINT, 100, 100, 6, 0, 0, ""},
	{"::1:47103", "::1", 47103, 5, HAP_SRV_ST_RUNNING, 0, 100, 100, 6, 0, 0, ""},
	{"2001:db8::1:7000", "2001:db8::1", 7000, 6, HAP_SRV_ST_STOPPED, HAP_ADMF_FMAINT, 1, 1, 0, 0, 0, ""},
	{"agent-1", "127.0.0.1", 47101, 7, HAP_SRV_ST_RUNNING, 0, 1, 1, 0, 22, 47110, "127.0.0.1"},
};

START_TEST(test_state_servers)
{
	char *text = fixture("show_servers_state.txt");
	struct hap_server_state *s = NULL;
	size_t n = 0;
	ck_assert_msg(hap_servers_state_parse(text, &s, &n, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(n, N_ELEMS(state_servers));
	const struct hap_server_state *want = &state_servers[_i], *got = &s[_i];
	ck_assert_str_eq(got->name, want->name);
	ck_assert_str_eq(got->addr, want->addr);
	ck_assert_uint_eq(got->port, want->port);
	ck_assert_uint_eq(got->id, want->id);
	ck_assert_uint_eq(got->op_state, want->op_state);
	ck_assert_uint_eq(got->admin_state, want->admin_state);
	ck_assert_uint_eq(got->uweight, want->uweight);
	ck_assert_uint_eq(got->iweight, want->iweight);
	ck_assert_uint_eq(got->check_state, want->check_state);
	ck_assert_uint_eq(got->agent_state, want->agent_state);
	ck_assert_uint_eq(got->agent_port, want->agent_port);
	ck_assert_str_eq(got->agent_addr, want->agent_addr);
	free(s);
	free(text);
}
END_TEST

/* The bit values as HAProxy 2.6 shows them after add / enable health / drain / enable agent. */
START_TEST(test_state_bits)
{
	ck_assert_uint_eq(HAP_ADMF_FMAINT, 1);                            /* a new dynamic server */
	ck_assert_uint_eq(HAP_ADMF_FDRAIN, 8);                            /* set server state drain */
	ck_assert_uint_eq(HAP_CHK_ST_CONFIGURED, 2);                      /* added with `check` */
	ck_assert_uint_eq(HAP_CHK_ST_CONFIGURED | HAP_CHK_ST_ENABLED, 6); /* after enable health */
	ck_assert_uint_eq(HAP_CHK_ST_CONFIGURED | HAP_CHK_ST_ENABLED | HAP_CHK_ST_AGENT, 22); /* enable agent */
	ck_assert(state_servers[3].admin_state & HAP_ADMF_MAINT);
	ck_assert(!(state_servers[1].admin_state & HAP_ADMF_MAINT));
	ck_assert(state_servers[1].admin_state & HAP_ADMF_DRAIN);
}
END_TEST

START_TEST(test_state_empty)
{
	char *text = fixture("show_servers_state_empty.txt");
	struct hap_server_state *s = (void *)1;
	size_t n = 99;
	ck_assert_msg(hap_servers_state_parse(text, &s, &n, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(s);
	free(text);
}
END_TEST

#define SS_HDR                                                                                                         \
	"1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "                        \
	"srv_check_state srv_agent_state srv_port\n"

/* Columns are found by name: a reordered header still lands every value in its field. */
START_TEST(test_state_by_name)
{
	const char *text = "1\n# srv_port srv_agent_state srv_check_state srv_uweight srv_admin_state srv_op_state "
			   "srv_addr srv_name srv_id extra\n"
			   "8080 16 6 50 8 2 - node-a 12 x\n"
			   "# a comment line\n"
			   "80 0 0 1 1 0 10.0.0.1 node-b 13 y\n\n";
	struct hap_server_state *s = NULL;
	size_t n = 0;
	ck_assert_msg(hap_servers_state_parse(text, &s, &n, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(s[0].name, "node-a");
	ck_assert_str_eq(s[0].addr, "");
	ck_assert_uint_eq(s[0].port, 8080);
	ck_assert_uint_eq(s[0].id, 12);
	ck_assert_uint_eq(s[0].op_state, 2);
	ck_assert_uint_eq(s[0].admin_state, 8);
	ck_assert_uint_eq(s[0].uweight, 50);
	ck_assert_uint_eq(s[0].check_state, 6);
	ck_assert_uint_eq(s[0].agent_state, 16);
	ck_assert_str_eq(s[1].addr, "10.0.0.1");
	ck_assert_uint_eq(s[1].id, 13);
	free(s);
}
END_TEST

static const struct {
	const char *fixture; /* or NULL: text */
	const char *text;
	const char *want;
} state_bad[] = {
	{"show_servers_state_truncated.txt", NULL, "line 6 is truncated (no end of line)"},
	{"show_servers_state_long_name.txt", NULL, "line 10: srv_name of 200 bytes exceeds 127"},
	{"show_servers_state_no_backend.txt", NULL, "expected format version 1, got \"Can't find backend.\""},
	{NULL, "", "expected format version 1, got \"\""},
	{NULL, "1", "line 1 is truncated"},
	{NULL, "2\n# be_id\n", "expected format version 1, got \"2\""},
	{NULL, "1\n3 mcs 1 a 1.2.3.4 2 0 1 6 0 80\n", "line 2 is not the \"# be_id ...\" header"},
	{NULL, "1\n", "line 2 is not the \"# be_id ...\" header"},
	{NULL,
	 "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_check_state "
	 "srv_agent_state srv_port\n",
	 "the header lacks column srv_uweight"},
	{NULL, SS_HDR "3 mcs 1 a 1.2.3.4 2 0 1 6 0\n", "line 3 has 10 fields, the header has 11"},
	{NULL, SS_HDR "3 mcs 1 a 1.2.3.4 2 0 1 6 0 80 9\n", "line 3 has 12 fields, the header has 11"},
	{NULL, SS_HDR "3 mcs 1 a 1.2.3.4 2 0 1 6 0 80\n3 mcs 1  1.2.3.4 2 0 1 6 0 80\n", "line 4: field 4 is empty"},
	{NULL, SS_HDR "3 mcs 1 a 1.2.3.4 2 0 1 6 0 80 \n", "line 3: field 12 is empty"},
	{NULL, "1\n# \n", "line 2: field 1 is empty"},
	{NULL, SS_HDR "3 mcs 1 a 1.2.3.4 2 0 1 6 0 http\n", "line 3: srv_port \"http\" is not an unsigned number"},
	{NULL, SS_HDR "3 mcs 1 a 1.2.3.4 2 0 -1 6 0 80\n", "line 3: srv_uweight \"-1\" is not an unsigned number"},
	{NULL, SS_HDR "3 mcs 4294967296 a 1.2.3.4 2 0 1 6 0 80\n", "srv_id \"4294967296\" is not an unsigned"},
	{NULL, SS_HDR "3 mcs 1 a 1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd 2 0 1 6 0 80\n",
	 "line 3: srv_addr of 64 bytes exceeds 63"},
	{NULL, SS_HDR "3 mcs 1 a 1.2.3.4 2 0 1 6 0 80", "line 3 is truncated (no end of line)"},
	{NULL, SS_HDR "3 mcs 1 a 1.2.3.4 2 0 1 6 0 80\n\n3 mcs 2 b 1.2.3.4 2 0 1 6 0 80\n",
	 "text after the empty line 4: \"3 mcs 2 b"},
};

START_TEST(test_state_refused)
{
	char *owned = state_bad[_i].fixture != NULL ? fixture(state_bad[_i].fixture) : NULL;
	struct hap_server_state *s = (void *)1;
	size_t n = 99;
	ck_assert_int_eq(hap_servers_state_parse(owned != NULL ? owned : state_bad[_i].text, &s, &n, err, sizeof(err)),
			 -1);
	ck_assert_ptr_null(s);
	ck_assert_uint_eq(n, 0);
	unit_assert_err_has(err, state_bad[_i].want);
	free(owned);
}
END_TEST

static Suite *hap_servers_suite(void)
{
	Suite *s = suite_create("hap_servers");
	TCase *tc = tcase_create("show_servers_state");
	tcase_add_loop_test(tc, test_state_servers, 0, (int)N_ELEMS(state_servers));
	tcase_add_test(tc, test_state_bits);
	tcase_add_test(tc, test_state_empty);
	tcase_add_test(tc, test_state_by_name);
	tcase_add_loop_test(tc, test_state_refused, 0, (int)N_ELEMS(state_bad));
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(hap_servers_suite()); }
