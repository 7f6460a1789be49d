/* hap_sess, the `show sess` parser: only well-formed ids of the wanted server pass, and a
 * reply cut anywhere is never read past its end. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hap_sess.h"
#include "unit.h"

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

static Suite *hap_sess_suite(void)
{
	Suite *s = suite_create("hap_sess");
	TCase *tc = tcase_create("show_sess");
	tcase_add_test(tc, test_sess_ids);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(hap_sess_suite()); }
