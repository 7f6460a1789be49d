/* mcs-lb-status's reading of the master CLI's `show proc` (HAProxy 2.6.12's own output): the
 * master's reload count and failed reloads, nothing from a reply without a master line. */
#include <check.h>

#include "status.h"
#include "unit.h"

START_TEST(test_proc)
{
	static const char two[] = "#<PID>          <type>          <reloads>       <uptime>        <version>      \n"
				  "18610           master          2 [failed: 1]   0d00h00m02s     2.6.12-1+deb12u4\n"
				  "# workers\n"
				  "18706           worker          0               0d00h00m01s     2.6.12-1+deb12u4\n"
				  "# old workers\n"
				  "18640           worker          1               0d00h00m05s     2.6.12-1+deb12u4\n"
				  "# programs\n\n";
	long r = -1, f = -1;
	ck_assert_int_eq(st_parse_proc(two, &r, &f), 0);
	ck_assert_int_eq(r, 2);
	ck_assert_int_eq(f, 1);
	/* No "[failed: n]" (older versions): none failed. */
	ck_assert_int_eq(st_parse_proc("1 master 7 0d00h00m02s 2.4\n", &r, &f), 0);
	ck_assert_int_eq(r, 7);
	ck_assert_int_eq(f, 0);
}
END_TEST

START_TEST(test_proc_refused)
{
	static const char *const bad[] = {
		"",
		"Unknown command\n",
		"#<PID> <type> <reloads>\n18706 worker 0 0d00h00m01s 2.6\n",
		"18610 master x [failed: 0]\n",
		"18610 master -3 [failed: 0]\n",
		"master 2 [failed: 0]\n",
	};
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		long r = 99, f = 99;
		ck_assert_msg(st_parse_proc(bad[i], &r, &f) == -1, "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(r, 99);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("status_parse");
	TCase *tc = tcase_create("proc");
	tcase_add_test(tc, test_proc);
	tcase_add_test(tc, test_proc_refused);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
