/* hap_csv, the `show stat` parser, against replies captured from HAProxy 2.6.12
 * (tests/fixtures/show_stat_*) and hand-made odd cases: cut lines and quotes, wrong field counts,
 * a missing header, bad numbers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hap_csv.h"
#include "unit.h"

static char err[256];

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
	unit_assert_err_has(err, csv_bad[_i].want);
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

static Suite *hap_csv_suite(void)
{
	Suite *s = suite_create("hap_csv");
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
	return s;
}

int main(void) { return unit_run(hap_csv_suite()); }
