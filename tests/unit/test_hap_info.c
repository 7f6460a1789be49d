/* hap_info, the `show info` parser, against a reply captured from HAProxy 2.6.12
 * (tests/fixtures/show_info.txt, bridge_info.txt), cut replies and bad numbers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hap_info.h"
#include "unit.h"

static char err[256];

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
	unit_assert_err_has(err, "Pid");
	ck_assert_int_eq(hap_info_parse("Pid: 2147483648\nUptime_sec: 1\n", &info, err, sizeof(err)), -1);
	unit_assert_err_has(err, "Pid");
	ck_assert_int_eq(hap_info_parse("Pid: 7\nUptime_sec: -1\n", &info, err, sizeof(err)), -1);
	unit_assert_err_has(err, "Uptime_sec");
	ck_assert_int_eq(hap_info_parse("Pid: 7\nUptime_sec: 3\n", &info, err, sizeof(err)), 0);
	ck_assert_int_eq(info.stopping, 0); /* absent: a live worker */
	ck_assert_str_eq(info.version, "");
	ck_assert_int_eq(hap_info_parse("", &info, err, sizeof(err)), -1);
	free(text);
}
END_TEST

static Suite *hap_info_suite(void)
{
	Suite *s = suite_create("hap_info");
	TCase *tc = tcase_create("show_info");
	tcase_add_loop_test(tc, test_info, 0, (int)N_ELEMS(info_cases));
	tcase_add_test(tc, test_info_truncated);
	tcase_add_test(tc, test_info_parse);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(hap_info_suite()); }
