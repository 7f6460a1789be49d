/* hap_stat parsers against replies captured from HAProxy 2.6.12 (tests/fixtures/show_*), and
 * against hand-made odd cases: cut lines, wrong field counts, missing headers, bad numbers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hap_stat.h"
#include "unit.h"

static char err[256];

/* Every message is one line. */
static void assert_err_has(const char *want)
{
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
	ck_assert_ptr_null(strchr(err, '\n'));
}

static struct hap_csv *csv_fixture(const char *name)
{
	char *text = fixture(name);
	struct hap_csv *t = hap_csv_parse(text, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s: %s", name, err);
	free(text);
	return t;
}

/* Row index of server svname, or fails the test. */
static size_t csv_row_of(const struct hap_csv *t, const char *svname)
{
	int col = hap_csv_col(t, "svname");
	ck_assert_int_ge(col, 0);
	for (size_t r = 0; r < hap_csv_rows(t); r++) {
		if (strcmp(hap_csv_get(t, r, col), svname) == 0)
			return r;
	}
	ck_abort_msg("no row for %s", svname);
	return 0;
}

/* ---- show stat ---------------------------------------------------------------------------- */

/* The captured backend: two servers UP by check, one UP by agent only, DRAIN, DOWN, two MAINT. */
static const struct {
	const char *svname, *status, *addr;
	unsigned long long scur, uweight, chkfail;
} stat_servers[] = {
	{"127.0.0.1:47101", "UP", "127.0.0.1:47101", 2, 100, 0},
	{"127.0.0.1:47102", "DRAIN", "127.0.0.1:47102", 0, 100, 0},
	{"127.0.0.1:47104", "DOWN", "127.0.0.1:47104", 0, 100, 1},
	{"127.0.0.1:47105", "MAINT", "127.0.0.1:47105", 0, 100, 0},
	{"::1:47103", "UP", "[::1]:47103", 2, 100, 0},
	{"2001:db8::1:7000", "MAINT", "[2001:db8::1]:7000", 0, 1, 0}, /* no check: chkfail empty */
	{"agent-1", "no check", "127.0.0.1:47101", 0, 1, 0},
};

START_TEST(test_csv_servers)
{
	struct hap_csv *t = csv_fixture("show_stat_servers.csv");
	ck_assert_uint_eq(hap_csv_rows(t), N_ELEMS(stat_servers));
	size_t r = csv_row_of(t, stat_servers[_i].svname);
	unsigned long long v;
	ck_assert_str_eq(hap_csv_get(t, r, hap_csv_col(t, "pxname")), "mcs");
	ck_assert_str_eq(hap_csv_get(t, r, hap_csv_col(t, "status")), stat_servers[_i].status);
	ck_assert_str_eq(hap_csv_get(t, r, hap_csv_col(t, "addr")), stat_servers[_i].addr);
	ck_assert_int_eq(hap_csv_get_u64(t, r, hap_csv_col(t, "scur"), &v), 0);
	ck_assert_uint_eq(v, stat_servers[_i].scur);
	ck_assert_int_eq(hap_csv_get_u64(t, r, hap_csv_col(t, "uweight"), &v), 0);
	ck_assert_uint_eq(v, stat_servers[_i].uweight);
	ck_assert_int_eq(hap_csv_get_u64(t, r, hap_csv_col(t, "chkfail"), &v), 0);
	ck_assert_uint_eq(v, stat_servers[_i].chkfail);
	hap_csv_free(t);
}
END_TEST

START_TEST(test_csv_columns)
{
	struct hap_csv *t = csv_fixture("show_stat_servers.csv");
	ck_assert_int_eq(hap_csv_col(t, "pxname"), 0);
	ck_assert_int_eq(hap_csv_col(t, "svname"), 1);
	ck_assert_int_gt(hap_csv_col(t, "h1_spliced_bytes_out"), 100);
	ck_assert_int_eq(hap_csv_col(t, "no_such_column"), -1);
	ck_assert_int_eq(hap_csv_col(t, ""), -1); /* the header's trailing comma names nothing */
	ck_assert_int_eq(hap_csv_col(t, NULL), -1);
	ck_assert_int_eq(hap_csv_col(t, "SCUR"), -1);
	ck_assert_ptr_null(hap_csv_get(t, hap_csv_rows(t), 0));
	ck_assert_ptr_null(hap_csv_get(t, 0, -1));
	ck_assert_ptr_null(hap_csv_get(t, 0, 100000));
	unsigned long long v = 42;
	ck_assert_int_eq(hap_csv_get_u64(t, 0, hap_csv_col(t, "status"), &v), -1);
	ck_assert_int_eq(hap_csv_get_u64(t, 0, -1, &v), -1);
	ck_assert_uint_eq(v, 42);
	hap_csv_free(t);
}
END_TEST

/* HAProxy quotes a field holding a comma or a quote: the agent's reply text here. */
START_TEST(test_csv_quoted_field_captured)
{
	struct hap_csv *t = csv_fixture("show_stat_servers.csv");
	size_t r = csv_row_of(t, "agent-1");
	ck_assert_str_eq(hap_csv_get(t, r, hap_csv_col(t, "last_agt")), "via agent : up (chat node, \"ok\")");
	ck_assert_str_eq(hap_csv_get(t, r, hap_csv_col(t, "agent_desc")), "Layer7 check passed");
	hap_csv_free(t);
}
END_TEST

START_TEST(test_csv_empty_backend)
{
	struct hap_csv *t = csv_fixture("show_stat_empty_backend.csv");
	ck_assert_uint_eq(hap_csv_rows(t), 0);
	ck_assert_int_ge(hap_csv_col(t, "scur"), 0);
	ck_assert_ptr_null(hap_csv_get(t, 0, 0));
	hap_csv_free(t);
}
END_TEST

/* `show stat` on a `level user` socket: every proxy, but addr, cookie and algo left empty
 * (HAProxy 2.6 shows them from level operator up). */
START_TEST(test_csv_all_proxies_user_level)
{
	struct hap_csv *t = csv_fixture("show_stat_all.csv");
	ck_assert_uint_eq(hap_csv_rows(t), 9);
	size_t fe = csv_row_of(t, "FRONTEND"), be = csv_row_of(t, "BACKEND");
	ck_assert_str_eq(hap_csv_get(t, fe, hap_csv_col(t, "pxname")), "mcs_tls");
	ck_assert_str_eq(hap_csv_get(t, be, hap_csv_col(t, "mode")), "tcp");
	ck_assert_str_eq(hap_csv_get(t, be, hap_csv_col(t, "algo")), "");
	ck_assert_str_eq(hap_csv_get(t, csv_row_of(t, "127.0.0.1:47101"), hap_csv_col(t, "addr")), "");
	unsigned long long stot;
	ck_assert_int_eq(hap_csv_get_u64(t, fe, hap_csv_col(t, "stot"), &stot), 0);
	ck_assert_uint_eq(stot, 4);
	hap_csv_free(t);
}
END_TEST

START_TEST(test_csv_servers_user_level)
{
	struct hap_csv *t = csv_fixture("show_stat_servers_user_level.csv");
	ck_assert_uint_eq(hap_csv_rows(t), N_ELEMS(stat_servers));
	for (size_t i = 0; i < N_ELEMS(stat_servers); i++) {
		size_t r = csv_row_of(t, stat_servers[i].svname);
		ck_assert_str_eq(hap_csv_get(t, r, hap_csv_col(t, "status")), stat_servers[i].status);
		ck_assert_str_eq(hap_csv_get(t, r, hap_csv_col(t, "addr")), "");
	}
	hap_csv_free(t);
}
END_TEST

START_TEST(test_csv_long_name)
{
	struct hap_csv *t = csv_fixture("show_stat_long_name.csv");
	ck_assert_uint_eq(hap_csv_rows(t), 8);
	const char *name = hap_csv_get(t, 7, hap_csv_col(t, "svname"));
	ck_assert_uint_eq(strlen(name), 200);
	ck_assert_uint_eq(strspn(name, "n"), 200);
	hap_csv_free(t);
}
END_TEST

static const struct {
	const char *fixture; /* or NULL: text */
	const char *text;
	const char *want;
} csv_bad[] = {
	{"show_stat_truncated.csv", NULL, "line 4 is truncated (no end of line)"},
	{"show_stat_no_proxy.csv", NULL, "no \"# pxname,...\" header, the reply starts \"No such proxy.\""},
	{NULL, "", "no \"# pxname,...\" header"},
	{NULL, "pxname,svname\nmcs,a\n", "no \"# pxname,...\" header"},
	{NULL, "# a,b", "line 1 is truncated"},
	{NULL, "# a,b,c\n1,2,3\n1,2\n", "line 3 has 2 fields, the header has 3"},
	{NULL, "# a,b\n1,2,3\n", "line 2 has 3 fields, the header has 2"},
	{NULL, "# a,b\n1,2", "line 2 is truncated (no end of line)"},
	{NULL, "# a,b\n\"x,2\n", "line 2 is truncated inside a quoted field"},
	{NULL, "# a,b\n\"x\"y,2\n", "line 2 is truncated (text after a closing quote)"},
	{NULL, "# a,b\n1,2\n\n3,4\n", "text after the empty line 3: \"3,4\""},
};

START_TEST(test_csv_refused)
{
	char *owned = csv_bad[_i].fixture != NULL ? fixture(csv_bad[_i].fixture) : NULL;
	struct hap_csv *t = hap_csv_parse(owned != NULL ? owned : csv_bad[_i].text, err, sizeof(err));
	ck_assert_ptr_null(t);
	assert_err_has(csv_bad[_i].want);
	free(owned);
}
END_TEST

START_TEST(test_csv_quoting)
{
	struct hap_csv *t = hap_csv_parse("# a,b,c\n\"x,\"\"y\"\"\",\"l1\nl2\",\"\"\n\n", err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	ck_assert_uint_eq(hap_csv_rows(t), 1);
	ck_assert_str_eq(hap_csv_get(t, 0, 0), "x,\"y\"");
	ck_assert_str_eq(hap_csv_get(t, 0, 1), "l1\nl2");
	ck_assert_str_eq(hap_csv_get(t, 0, 2), "");
	hap_csv_free(t);
	hap_csv_free(NULL);
}
END_TEST

static const struct {
	const char *field;
	int rc;
	unsigned long long value;
} u64_cases[] = {
	{"", 0, 0}, /* a counter that does not apply */
	{"0", 0, 0},
	{"12345", 0, 12345},
	{"18446744073709551615", 0, 18446744073709551615ULL},
	{"18446744073709551616", -1, 0},
	{"-1", -1, 0},
	{"+1", -1, 0},
	{" 1", -1, 0},
	{"1 ", -1, 0},
	{"12a", -1, 0},
	{"UP", -1, 0},
	{"1.5", -1, 0},
};

START_TEST(test_csv_get_u64)
{
	char text[128];
	snprintf(text, sizeof(text), "# v,\n\"%s\",\n", u64_cases[_i].field);
	struct hap_csv *t = hap_csv_parse(text, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	unsigned long long v = 777;
	ck_assert_int_eq(hap_csv_get_u64(t, 0, 0, &v), u64_cases[_i].rc);
	ck_assert_uint_eq(v, u64_cases[_i].rc == 0 ? u64_cases[_i].value : 777);
	hap_csv_free(t);
}
END_TEST

/* ---- show servers state ------------------------------------------------------------------- */

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
	ck_assert_uint_eq(HAP_ADMF_FMAINT, 1);  /* a new dynamic server */
	ck_assert_uint_eq(HAP_ADMF_FDRAIN, 8);  /* set server state drain */
	ck_assert_uint_eq(HAP_CHK_ST_CONFIGURED, 2); /* added with `check` */
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

#define SS_HDR "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight " \
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
	{NULL, "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_check_state "
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
	assert_err_has(state_bad[_i].want);
	free(owned);
}
END_TEST

/* ---- show info ---------------------------------------------------------------------------- */

static const struct {
	const char *key;
	size_t outlen;
	int rc;
	const char *value;
} info_cases[] = {
	{"Name", 64, 0, "HAProxy"},
	{"Version", 64, 0, "2.6.12-1+deb12u4"},
	{"Pid", 64, 0, "9256"},
	{"Uptime_sec", 64, 0, "32"},
	{"Unstoppable Jobs", 64, 0, "1"},
	{"Tainted", 64, 0, "0"}, /* the last line */
	{"Pi", 64, -1, ""},      /* a prefix of a key is not the key */
	{"pid", 64, -1, ""},
	{"NoSuchKey", 64, -1, ""},
	{"Version", 16, -1, ""}, /* 16 bytes do not fit in 16 */
	{"Version", 17, 0, "2.6.12-1+deb12u4"},
	{"", 64, -1, ""},
	{"Pid:", 64, -1, ""},
};

START_TEST(test_info)
{
	char *text = fixture("show_info.txt");
	char out[64] = "junk";
	ck_assert_int_eq(hap_info_get(text, info_cases[_i].key, out, info_cases[_i].outlen), info_cases[_i].rc);
	ck_assert_str_eq(out, info_cases[_i].value);
	free(text);
}
END_TEST

START_TEST(test_info_truncated)
{
	char out[32];
	ck_assert_int_eq(hap_info_get("Name: HAProxy\nPid: 12", "Pid", out, sizeof(out)), -1);
	ck_assert_int_eq(hap_info_get("Name: HAProxy\nPid: 12", "Name", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "HAProxy");
	ck_assert_int_eq(hap_info_get("description:\n", "description", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(hap_info_get("", "Pid", out, sizeof(out)), -1);
	ck_assert_int_eq(hap_info_get("Pid: 1\n", "Pid", out, 0), -1);
}
END_TEST

/* The worker's identity from a captured reply, an old worker, and replies without it. */
START_TEST(test_info_parse)
{
	char *text = fixture("bridge_info.txt");
	struct hap_info info;
	ck_assert_msg(hap_info_parse(text, &info, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(info.pid, 12984);
	ck_assert_uint_eq(info.uptime_s, 2);
	ck_assert_int_eq(info.stopping, 0);
	ck_assert_str_eq(info.version, "2.6.12-1+deb12u4");
	char *p = strstr(text, "Stopping: 0");
	ck_assert_ptr_nonnull(p);
	p[10] = '1';
	ck_assert_int_eq(hap_info_parse(text, &info, err, sizeof(err)), 0);
	ck_assert_int_eq(info.stopping, 1);
	p = strstr(text, "Pid: 12984");
	ck_assert_ptr_nonnull(p);
	p[5] = 'x';
	ck_assert_int_eq(hap_info_parse(text, &info, err, sizeof(err)), -1);
	assert_err_has("Pid");
	ck_assert_int_eq(hap_info_parse("Pid: 2147483648\nUptime_sec: 1\n", &info, err, sizeof(err)), -1);
	assert_err_has("Pid");
	ck_assert_int_eq(hap_info_parse("Pid: 7\nUptime_sec: -1\n", &info, err, sizeof(err)), -1);
	assert_err_has("Uptime_sec");
	ck_assert_int_eq(hap_info_parse("Pid: 7\nUptime_sec: 3\n", &info, err, sizeof(err)), 0);
	ck_assert_int_eq(info.stopping, 0); /* absent: a live worker */
	ck_assert_str_eq(info.version, "");
	ck_assert_int_eq(hap_info_parse("", &info, err, sizeof(err)), -1);
	free(text);
}
END_TEST

/* `show table` replies as HAProxy 2.6.12 writes them: level user (sizes only), level admin
 * (entries follow the header line), several tables, none. */
static const struct {
	const char *reply;
	int rc, found;
	unsigned long long size, used;
} tables[] = {
	{"# table: mcs_tls, type: ipv6, size:100000, used:3\n\n", 0, 1, 100000, 3},
	{"# table: mcs_tls, type: ipv6, size:1000, used:2\n"
	 "# contents not dumped due to insufficient privileges\n\n", 0, 1, 1000, 2},
	{"# table: mcs_tls, type: ipv6, size:100000, used:2\n"
	 "0x5565868ebfb0: key=::ffff:127.0.0.2 use=0 exp=599831 gpt0=0 gpc0=3 conn_rate(10000)=8 conn_cur=0 gpc1=0\n"
	 "0x5565868ebd10: key=::ffff:127.0.0.3 use=1 exp=599984 gpt0=0 gpc0=0 conn_rate(10000)=2 conn_cur=1 gpc1=0\n\n",
	 0, 1, 100000, 2},
	{"# table: other, type: ip, size:204800, used:171454\n"
	 "# table: mcs_tls_x, type: ipv6, size:5, used:5\n"
	 "# table: mcs_tls, type: ipv6, size:204800, used:0\n\n", 0, 1, 204800, 0},
	{"# table: other, type: ip, size:204800, used:1\n\n", 0, 0, 0, 0}, /* limits not configured */
	{"\n", 0, 0, 0, 0},
	{"", 0, 0, 0, 0},
	{"# table: mcs_tls, type: ipv6, size:100000, used:3", -1, 0, 0, 0},      /* cut short */
	{"# table: mcs_tls, type: ipv6, size:100000, used:\n\n", -1, 0, 0, 0},
	{"# table: mcs_tls, type: ipv6, size:-1, used:3\n\n", -1, 0, 0, 0},
	{"# table: mcs_tls, type: ipv6, used:3\n\n", -1, 0, 0, 0},
	{"# table: mcs_tls, type: ipv6, size:100000, used:3 more\n\n", -1, 0, 0, 0},
	{"# table: mcs_tls, type: ipv6\n, size:1, used:1\n\n", -1, 0, 0, 0},
};

START_TEST(test_table_use)
{
	struct hap_table_use use = {1, 77, 7};
	err[0] = '\0';
	ck_assert_int_eq(hap_table_use_parse(tables[_i].reply, "mcs_tls", &use, err, sizeof(err)), tables[_i].rc);
	ck_assert_int_eq(use.found, tables[_i].found);
	ck_assert_uint_eq(use.size, tables[_i].size);
	ck_assert_uint_eq(use.used, tables[_i].used);
	if (tables[_i].rc == -1)
		ck_assert_msg(err[0] != '\0' && strchr(err, '\n') == NULL, "err \"%s\"", err);
}
END_TEST

START_TEST(test_table_gpc0)
{
	const char *text = "# table: mcs_refused, type: integer, size:2, used:2\n"
			   "0x7f6804036468: key=1 use=0 exp=0 gpc0=3\n"
			   "0x55746b7bd6b8: key=2 use=0 exp=0 gpc0=17\n\n";
	unsigned long long v = 0;
	ck_assert_int_eq(hap_table_get_gpc0(text, "1", &v), 0);
	ck_assert_uint_eq(v, 3);
	ck_assert_int_eq(hap_table_get_gpc0(text, "2", &v), 0);
	ck_assert_uint_eq(v, 17);
	ck_assert_int_eq(hap_table_get_gpc0(text, "3", &v), -1);
	ck_assert_int_eq(hap_table_get_gpc0("# table: mcs_refused\n# contents not dumped due to insufficient privileges\n", "1", &v), -1);
	ck_assert_int_eq(hap_table_get_gpc0("0x1: key=1 use=0 exp=0 gpc0=\n", "1", &v), -1);
	ck_assert_int_eq(hap_table_get_gpc0("0x1: key=1 use=0 exp=0 gpc0=99999999999999999999999\n", "1", &v), -1);
	ck_assert_int_eq(hap_table_get_gpc0("No such table\n", "1", &v), -1);
}
END_TEST

/* ---- show sess ---------------------------------------------------------------------------- */

/* Lines as HAProxy 2.6 prints them; only well-formed ids of the wanted backend/server pass. */
static const char sess_text[] =
	"0x55d0c1a0f0e0: proto=tcpv4 src=127.0.0.1:40000 fe=mcs_tls be=mcs srv=10.0.0.5:7000 ts=00 age=1s\n"
	"0x55d0c1a0f1f0: proto=tcpv4 src=127.0.0.1:40001 fe=mcs_tls be=mcs srv=10.0.0.6:7000 ts=00 age=1s\n"
	"0x55d0c1a0f2a0: proto=tcpv4 src=127.0.0.1:40002 fe=mcs_tls be=mcs srv=10.0.0.5:70001 ts=00\n"
	"0x55d0c1a0f3b0: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> ts=00\n"
	"0x55d0c1a0f4c0 proto=tcpv4 be=mcs srv=10.0.0.5:7000 (no colon after the id)\n"
	"0xZZ: proto=tcpv4 be=mcs srv=10.0.0.5:7000 (not hex)\n"
	"0x123456789012345678901: be=mcs srv=10.0.0.5:7000 (21 digits)\n"
	"  0x55d0c1a0f5d0: be=mcs srv=10.0.0.5:7000 (indented)\n"
	"0xABCDEF12: proto=tcpv6 src=::1:40003 fe=mcs_tls be=mcs srv=10.0.0.5:7000 ts=00\n"
	"0";

START_TEST(test_sess_ids)
{
	char ids[8][HAP_SESS_ID_SIZE];
	ck_assert_uint_eq(hap_sess_ids(sess_text, "mcs", "10.0.0.5:7000", ids, 8), 2);
	ck_assert_str_eq(ids[0], "0x55d0c1a0f0e0");
	ck_assert_str_eq(ids[1], "0xABCDEF12");
	ck_assert_uint_eq(hap_sess_ids(sess_text, "mcs", "10.0.0.5:7000", ids, 1), 1); /* at most max */
	ck_assert_uint_eq(hap_sess_ids(sess_text, "mcs", "10.0.0.6:7000", ids, 8), 1);
	ck_assert_uint_eq(hap_sess_ids(sess_text, "mcs", "10.0.0.7:7000", ids, 8), 0);
	ck_assert_uint_eq(hap_sess_ids("", "mcs", "10.0.0.5:7000", ids, 8), 0);
	/* A reply cut after "0" or "0x": nothing read past its end (ASan in CI). */
	ck_assert_uint_eq(hap_sess_ids("0", "mcs", "x", ids, 8), 0);
	ck_assert_uint_eq(hap_sess_ids("0x", "mcs", "x", ids, 8), 0);
	ck_assert_uint_eq(hap_sess_ids("0x1", "mcs", "x", ids, 8), 0);
}
END_TEST

static Suite *hap_stat_suite(void)
{
	Suite *s = suite_create("hap_stat");
	TCase *tc = tcase_create("show_stat");
	tcase_add_loop_test(tc, test_csv_servers, 0, (int)N_ELEMS(stat_servers));
	tcase_add_test(tc, test_csv_columns);
	tcase_add_test(tc, test_csv_quoted_field_captured);
	tcase_add_test(tc, test_csv_empty_backend);
	tcase_add_test(tc, test_csv_all_proxies_user_level);
	tcase_add_test(tc, test_csv_servers_user_level);
	tcase_add_test(tc, test_csv_long_name);
	tcase_add_loop_test(tc, test_csv_refused, 0, (int)N_ELEMS(csv_bad));
	tcase_add_test(tc, test_csv_quoting);
	tcase_add_loop_test(tc, test_csv_get_u64, 0, (int)N_ELEMS(u64_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("show_servers_state");
	tcase_add_loop_test(tc, test_state_servers, 0, (int)N_ELEMS(state_servers));
	tcase_add_test(tc, test_state_bits);
	tcase_add_test(tc, test_state_empty);
	tcase_add_test(tc, test_state_by_name);
	tcase_add_loop_test(tc, test_state_refused, 0, (int)N_ELEMS(state_bad));
	suite_add_tcase(s, tc);
	tc = tcase_create("show_sess");
	tcase_add_test(tc, test_sess_ids);
	suite_add_tcase(s, tc);
	tc = tcase_create("show_info");
	tcase_add_loop_test(tc, test_info, 0, (int)N_ELEMS(info_cases));
	tcase_add_test(tc, test_info_truncated);
	tcase_add_test(tc, test_info_parse);
	tcase_add_loop_test(tc, test_table_use, 0, (int)N_ELEMS(tables));
	tcase_add_test(tc, test_table_gpc0);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(hap_stat_suite());
}
