/* names.h against the files that spell the same names themselves: HAProxy's configuration
 * and the scripts that start HAProxy and judge the gateway's health. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "unit.h"

static const struct {
	const char *file; /* from tests/fixtures: the source root is ../.. */
	const char *text; /* a line or part of one it holds */
} uses[] = {
	{"../../haproxy/haproxy.cfg", "\nfrontend " MCS_FRONTEND "\n"},
	{"../../haproxy/haproxy.cfg", "\nbackend " MCS_BACKEND "\n"},
	{"../../haproxy/haproxy.cfg", "\nbackend " MCS_REFUSED_TABLE "\n"},
	{"../../haproxy/haproxy.cfg", "default_backend " MCS_BACKEND "\n"},
	{"../../haproxy/haproxy.cfg", "/" MCS_ADMIN_SOCK "\" mode 600 level admin"},
	{"../../haproxy/haproxy.cfg", "/" MCS_STATS_SOCK "\" mode 666 level user"},
	{"../../haproxy/haproxy.cfg", "ssl crt \"${MCS_RUN_DIR}/" MCS_COMBINED_PEM "\""},
	{"../../docker/entry/haproxy.sh", "servers=$MCS_RUN_DIR/" MCS_SERVERS_FILE "\n"},
	{"../../docker/entry/haproxy.sh", "UNIX-CONNECT:$MCS_RUN_DIR/" MCS_ADMIN_SOCK "\""},
	{"../../docker/entry/haproxy.sh",
	 "\"$MCS_TLS_DIR/" MCS_TLS_CERT "\" \"$MCS_TLS_DIR/" MCS_TLS_KEY "\" \"$MCS_RUN_DIR/" MCS_COMBINED_PEM "\""},
	{"../../docker/entry/health.sh", "/" MCS_STATS_SOCK "\")"},
	{"../../docker/entry/health.sh", "status=\"${MCS_RUN_DIR:?}/" MCS_STATUS_FILE "\""},
};

START_TEST(test_spelled_alike)
{
	char *text = fixture(uses[_i].file);
	ck_assert_msg(strstr(text, uses[_i].text) != NULL, "%s lacks \"%s\"", uses[_i].file, uses[_i].text);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_spelled_alike, 0, N_ELEMS(uses));
	suite_add_tcase(s, tc);
	return unit_run(s);
}
