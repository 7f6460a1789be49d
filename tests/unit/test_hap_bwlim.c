/* hap_bwlim, the parser of `show mcs bwlim` (haproxy/bwlim.lua's command): its replies, HAProxy
 * 2.6.12's answer when the Lua limit is not loaded, and cut or malformed ones. */
#include <check.h>
#include <string.h>

#include "hap_bwlim.h"
#include "unit.h"

/* Replies to `show mcs bwlim` (haproxy/bwlim.lua) and HAProxy 2.6.12's answer when the Lua limit
 * is not loaded. */
static const struct {
	const char *reply;
	int rc, found;
	unsigned long long throttled;
} bwlims[] = {
	{"throttled_bytes: 1011000\naddresses: 2\nsize: 100000\n\n", 0, 1, 1011000},
	{"throttled_bytes: 0\naddresses: 0\nsize: 100000\n\n", 0, 1, 0},
	{"addresses: 2\nthrottled_bytes: 18446744073709551615\n\n", 0, 1, 18446744073709551615ull},
	{"Unknown command, but maybe one of the following ones is a better match:\n"
	 "  help [<command>]                        : list matching or all commands\n\n",
	 0, 0, 0},
	{"throttled_bytes: 10110", -1, 0, 0}, /* cut short */
	{"throttled_bytes: -1\n\n", -1, 0, 0},
	{"throttled_bytes: 12 bytes\n\n", -1, 0, 0},
	{"throttled_bytes: 184467440737095516150\n\n", -1, 0, 0},
	{"addresses: 2\n\n", -1, 0, 0},
	{"", -1, 0, 0},
};

START_TEST(test_bwlim_table)
{
	struct hap_bwlim bw = {1, 77};
	char err[256] = "";
	ck_assert_int_eq(hap_bwlim_parse(bwlims[_i].reply, &bw, err, sizeof(err)), bwlims[_i].rc);
	ck_assert_int_eq(bw.found, bwlims[_i].found);
	ck_assert_uint_eq(bw.throttled, bwlims[_i].throttled);
	if (bwlims[_i].rc == -1)
		ck_assert_msg(err[0] != '\0' && strchr(err, '\n') == NULL, "err \"%s\"", err);
}
END_TEST

static Suite *hap_bwlim_suite(void)
{
	Suite *s = suite_create("hap_bwlim");
	TCase *tc = tcase_create("show_mcs_bwlim");
	tcase_add_loop_test(tc, test_bwlim_table, 0, N_ELEMS(bwlims));
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(hap_bwlim_suite()); }
