/* names.h against the files that spell the same names themselves: HAProxy's configuration
 * and the scripts that start HAProxy and judge the gateway's health. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

#define ROOT FIXTURES_DIR "/../.."

static const struct {
	const char *file; /* below the source root */
	const char *text; /* a line or part of one it holds */
} uses[] = {
	{"haproxy/haproxy.cfg", "\nfrontend " MCS_FRONTEND "\n"},
	{"haproxy/haproxy.cfg", "\nbackend " MCS_BACKEND "\n"},
	{"haproxy/haproxy.cfg", "\nbackend " MCS_REFUSED_TABLE "\n"},
	{"haproxy/haproxy.cfg", "default_backend " MCS_BACKEND "\n"},
	{"haproxy/haproxy.cfg", "/" MCS_ADMIN_SOCK "\" mode 600 level admin"},
	{"haproxy/haproxy.cfg", "/" MCS_STATS_SOCK "\" mode 666 level user"},
	{"haproxy/haproxy.cfg", "ssl crt \"${MCS_RUN_DIR}/" MCS_COMBINED_PEM "\""},
	{"docker/entry/haproxy.sh", "servers=$MCS_RUN_DIR/" MCS_SERVERS_FILE "\n"},
	{"docker/entry/haproxy.sh", "UNIX-CONNECT:$MCS_RUN_DIR/" MCS_ADMIN_SOCK "\""},
	{"docker/entry/haproxy.sh",
	 "\"$MCS_TLS_DIR/" MCS_TLS_CERT "\" \"$MCS_TLS_DIR/" MCS_TLS_KEY "\" \"$MCS_RUN_DIR/" MCS_COMBINED_PEM "\""},
	{"docker/entry/health.sh", "/" MCS_STATS_SOCK "\")"},
	{"docker/entry/health.sh", "status=\"${MCS_RUN_DIR:?}/" MCS_STATUS_FILE "\""},
};

static char *slurp(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", ROOT, name);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	ck_assert_msg(feof(f), "%s is larger than %zu bytes", path, sizeof(buf) - 1);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

START_TEST(test_spelled_alike)
{
	const char *text = slurp(uses[_i].file);
	ck_assert_msg(strstr(text, uses[_i].text) != NULL, "%s lacks \"%s\"", uses[_i].file, uses[_i].text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_spelled_alike, 0, sizeof(uses) / sizeof(uses[0]));
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
