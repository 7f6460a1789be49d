/* hap_table, the `show table` parsers: replies as HAProxy 2.6.12 writes them at the user and
 * admin levels, and cut or malformed ones. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hap_table.h"
#include "unit.h"

static char err[256];

/* `show table` replies as HAProxy 2.6.12 writes them: level user (sizes only), level admin
 * (entries follow the header line), several tables, none. */
static const struct {
	const char *reply;
	int rc, found;
	unsigned long long size, used;
} tables[] = {
	{"# table: mcs_tls, type: ipv6, size:100000, used:3\n\n", 0, 1, 100000, 3},
	{"# table: mcs_tls, type: ipv6, size:1000, used:2\n"
	 "# contents not dumped due to insufficient privileges\n\n",
	 0, 1, 1000, 2},
	{"# table: mcs_tls, type: ipv6, size:100000, used:2\n"
	 "0x5565868ebfb0: key=::ffff:127.0.0.2 use=0 exp=599831 gpt0=0 gpc0=3 conn_rate(10000)=8 conn_cur=0 gpc1=0\n"
	 "0x5565868ebd10: key=::ffff:127.0.0.3 use=1 exp=599984 gpt0=0 gpc0=0 conn_rate(10000)=2 conn_cur=1 gpc1=0\n\n",
	 0, 1, 100000, 2},
	{"# table: other, type: ip, size:204800, used:171454\n"
	 "# table: mcs_tls_x, type: ipv6, size:5, used:5\n"
	 "# table: mcs_tls, type: ipv6, size:204800, used:0\n\n",
	 0, 1, 204800, 0},
	{"# table: other, type: ip, size:204800, used:1\n\n", 0, 0, 0, 0}, /* limits not configured */
	{"\n", 0, 0, 0, 0},
	{"", 0, 0, 0, 0},
	{"# table: mcs_tls, type: ipv6, size:100000, used:3", -1, 0, 0, 0}, /* cut short */
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
	ck_assert_int_eq(
		hap_table_get_gpc0("# table: mcs_refused\n# contents not dumped due to insufficient privileges\n", "1",
				   &v),
		-1);
	ck_assert_int_eq(hap_table_get_gpc0("0x1: key=1 use=0 exp=0 gpc0=\n", "1", &v), -1);
	ck_assert_int_eq(hap_table_get_gpc0("0x1: key=1 use=0 exp=0 gpc0=99999999999999999999999\n", "1", &v), -1);
	ck_assert_int_eq(hap_table_get_gpc0("No such table\n", "1", &v), -1);
}
END_TEST

static Suite *hap_table_suite(void)
{
	Suite *s = suite_create("hap_table");
	TCase *tc = tcase_create("show_table");
	tcase_add_loop_test(tc, test_table_use, 0, (int)N_ELEMS(tables));
	tcase_add_test(tc, test_table_gpc0);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(hap_table_suite()); }
