/* The reply bound: what Redis legitimately sends passes, whatever a reply would cost beyond
 * the limits is refused with a line naming it, whichever way reads split the stream. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "resp_scan.h"
#include "unit.h"

static const struct resp_limits lim = {.max_elements = 8, .max_bulk = 16, .max_bytes = 160, .max_depth = 3};

/* Feeds text whole, then byte by byte into a fresh scan: both verdicts must agree. */
static int scan(const char *text, char *why, size_t whylen)
{
	struct resp_scan a, b;
	resp_scan_init(&a, &lim);
	resp_scan_init(&b, &lim);
	size_t len = strlen(text);
	int ra = resp_scan_feed(&a, text, len), rb = 0;
	for (size_t i = 0; i < len && rb == 0; i++)
		rb = resp_scan_feed(&b, text + i, 1);
	ck_assert_msg(ra == rb, "%s: whole %d, bytewise %d", text, ra, rb);
	snprintf(why, whylen, "%s", a.errstr);
	return ra;
}

static const char *const good[] = {
	"+OK\r\n", "-ERR wrong\r\n", ":12345\r\n:-3\r\n", "$5\r\nhello\r\n$0\r\n\r\n$-1\r\n",
	"*2\r\n$10\r\n1700000000\r\n$6\r\n123456\r\n", /* TIME */
	"*0\r\n*-1\r\n",
	"*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n",
	"*3\r\n$6\r\nmaster\r\n:10\r\n*1\r\n*3\r\n$3\r\nh.x\r\n$4\r\n6380\r\n$2\r\n10\r\n", /* ROLE, depth 3 */
	/* Limits count per reply: two replies of 8 elements each are fine. */
	"*8\r\n:1\r\n:2\r\n:3\r\n:4\r\n:5\r\n:6\r\n:7\r\n:8\r\n*8\r\n:1\r\n:2\r\n:3\r\n:4\r\n:5\r\n:6\r\n:7\r\n:8\r\n",
	"$16\r\n0123456789abcdef\r\n", "+a\rb\r\n", /* a lone CR inside a status line */
	"*1\r\n$3\r\na\r\n\r\n",                    /* the payload is skipped by length, CRLF inside it included */
};

START_TEST(test_good)
{
	char why[160];
	ck_assert_msg(scan(good[_i], why, sizeof(why)) == 0, "%s refused: %s", good[_i], why);
}
END_TEST

static const struct {
	const char *text;
	const char *why; /* part of the message */
} bad[] = {
	{"*4294967296\r\n", "an array of 4294967296 elements: more than the 8"},
	{"*9223372036854775807\r\n", "an array of 9223372036854775807 elements"},
	{"*99999999999999999999\r\n", "malformed '*' header"},
	{"*9\r\n", "an array of 9 elements"},
	{"*5\r\n*4\r\n", "an array of 4 elements: more than the 8 one reply may hold"}, /* nested, counted together */
	{"$17\r\n", "a string of 17 bytes: more than the 16"},
	{"$2147483648\r\n", "a string of 2147483648 bytes"},
	{"*1\r\n*1\r\n*1\r\n*1\r\n", "nested deeper than 3"},
	{"+0123456789abcdefX", "a '+' line longer than 16 bytes"},
	{"-0123456789abcdefX", "a '-' line longer than 16 bytes"},
	{"*-2\r\n", "malformed '*' header"},
	{"$-5\r\n", "malformed '$' header"},
	{"*1x\r\n", "malformed '*' header"},
	{"*\r\n", "malformed '*' header"},
	{"$3\rx", "'\\r' not followed by '\\n'"},
	{"PING\r\n", "byte 0x50 is not a RESP reply type"},
	{"\x15\x03\x03\x00\x02\x02\x46", "a TLS record (byte 0x15)"},
	{"\x16\x03\x01", "the server speaks TLS (use rediss://)"},
	/* 8 elements of 16-byte strings: under the element and string limits, over 160 bytes. */
	{"*8\r\n$16\r\n0123456789abcdef\r\n$16\r\n0123456789abcdef\r\n$16\r\n0123456789abcdef\r\n"
	 "$16\r\n0123456789abcdef\r\n$16\r\n0123456789abcdef\r\n$16\r\n0123456789abcdef\r\n"
	 "$16\r\n0123456789abcdef\r\n$16\r\n0123456789abcdef\r\n",
	 "a reply of more than 160 bytes"},
};

START_TEST(test_bad)
{
	char why[160];
	ck_assert_msg(scan(bad[_i].text, why, sizeof(why)) == -1, "%s accepted", bad[_i].text);
	ck_assert_msg(strstr(why, bad[_i].why) != NULL, "\"%s\" lacks \"%s\"", why, bad[_i].why);
}
END_TEST

/* A stream sending a huge bulk slowly never passes the byte budget, and a refused reply
 * leaves the scan refusing. */
START_TEST(test_budget_streams)
{
	struct resp_limits l = {.max_elements = 100, .max_bulk = 1000, .max_bytes = 300, .max_depth = 2};
	struct resp_scan s;
	resp_scan_init(&s, &l);
	ck_assert_int_eq(resp_scan_feed(&s, "*100\r\n", 6), 0);
	int rc = 0;
	for (int i = 0; i < 100 && rc == 0; i++)
		rc = resp_scan_feed(&s, "$5\r\nabcde\r\n", 11);
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(strstr(s.errstr, "more than 300 bytes") != NULL, "%s", s.errstr);
}
END_TEST

/* The limits derived for MCS_MAX_NODES hold the biggest legitimate poll reply: that many
 * IPv6 members with microsecond scores. */
START_TEST(test_limits_fit_max_nodes)
{
	struct resp_limits l;
	size_t nodes = 20000;
	resp_limits_for_pairs(&l, nodes);
	ck_assert_uint_eq(l.max_elements, 2 * nodes + 64);
	const char *member = "[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]:65535", *score = "1700000000.123456";
	char item[160];
	int n = snprintf(item, sizeof(item), "$%zu\r\n%s\r\n$%zu\r\n%s\r\n", strlen(member), member, strlen(score),
			 score);
	struct resp_scan s;
	resp_scan_init(&s, &l);
	char head[32];
	snprintf(head, sizeof(head), "*%zu\r\n", 2 * nodes);
	ck_assert_int_eq(resp_scan_feed(&s, head, strlen(head)), 0);
	for (size_t i = 0; i < nodes; i++)
		ck_assert_int_eq(resp_scan_feed(&s, item, (size_t)n), 0);
	ck_assert_uint_eq(s.depth, 0); /* the reply is complete */
	ck_assert_uint_eq(s.bytes, 0);
	/* One more pair than MCS_MAX_NODES allows still fits the slack; a count far beyond does not. */
	snprintf(head, sizeof(head), "*%zu\r\n", 2 * nodes + 65);
	ck_assert_int_eq(resp_scan_feed(&s, head, strlen(head)), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("resp_scan");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_good, 0, N_ELEMS(good));
	tcase_add_loop_test(tc, test_bad, 0, N_ELEMS(bad));
	tcase_add_test(tc, test_budget_streams);
	tcase_add_test(tc, test_limits_fit_max_nodes);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
