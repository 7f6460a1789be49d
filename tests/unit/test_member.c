/* member_parse, member_quote and the node_list helpers: untrusted Redis members must become a
 * strict, canonical node or a one-line reason, and log copies of them must never overflow. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "member.h"
#include "redis_src.h"
#include "unit.h"

#define LEN_STR ((size_t)-1) /* table marker: the length is strlen(text) */

static size_t case_len(const char *text, size_t len) { return len == LEN_STR ? strlen(text) : len; }

/* ---- member_parse: accepted ---- */

static const struct {
	const char *text;
	size_t len;
	const char *name, *addr;
	unsigned port;
	int family;
} valid[] = {
	{"1.2.3.4:80", LEN_STR, "1.2.3.4:80", "1.2.3.4", 80, AF_INET},
	{"127.0.0.1:1", LEN_STR, "127.0.0.1:1", "127.0.0.1", 1, AF_INET},
	{"10.20.30.40:65535", LEN_STR, "10.20.30.40:65535", "10.20.30.40", 65535, AF_INET},
	{"1.0.0.0:7000", LEN_STR, "1.0.0.0:7000", "1.0.0.0", 7000, AF_INET},
	{"223.255.255.255:443", LEN_STR, "223.255.255.255:443", "223.255.255.255", 443, AF_INET},
	{"[2001:db8::1]:7000", LEN_STR, "2001:db8::1:7000", "2001:db8::1", 7000, AF_INET6},
	{"[2001:DB8::1]:7000", LEN_STR, "2001:db8::1:7000", "2001:db8::1", 7000, AF_INET6},
	{"[2001:0db8:0000:0000:0000:0000:0000:0001]:7000", LEN_STR, "2001:db8::1:7000", "2001:db8::1", 7000, AF_INET6},
	{"[2001:db8:0:0::1]:7000", LEN_STR, "2001:db8::1:7000", "2001:db8::1", 7000, AF_INET6},
	{"[::1]:80", LEN_STR, "::1:80", "::1", 80, AF_INET6},
	{"[fe80::1]:80", LEN_STR, "fe80::1:80", "fe80::1", 80, AF_INET6},
	/* MEMBER_MAX_LEN exactly: 45-character IPv6 text and a 5-digit port. */
	{"[1111:2222:3333:4444:5555:6666:123.123.123.123]:65535", LEN_STR,
	 "1111:2222:3333:4444:5555:6666:7b7b:7b7b:65535", "1111:2222:3333:4444:5555:6666:7b7b:7b7b", 65535, AF_INET6},
	/* Not NUL-terminated: only len bytes count. */
	{"1.2.3.4:80;junk", 10, "1.2.3.4:80", "1.2.3.4", 80, AF_INET},
	{"1.2.3.4:8080\0junk", 12, "1.2.3.4:8080", "1.2.3.4", 8080, AF_INET},
};

START_TEST(test_parse_valid)
{
	struct node_addr n;
	char err[128] = "";
	memset(&n, 0x5a, sizeof(n));
	size_t len = case_len(valid[_i].text, valid[_i].len);
	ck_assert_msg(member_parse(valid[_i].text, len, &n, err, sizeof(err)) == 0, "%s: refused: %s", valid[_i].text,
		      err);
	ck_assert_str_eq(n.name, valid[_i].name);
	ck_assert_str_eq(n.addr, valid[_i].addr);
	ck_assert_uint_eq(n.port, valid[_i].port);
	ck_assert_int_eq(n.family, valid[_i].family);
}
END_TEST

/* ---- member_parse: refused ---- */

static char big[10 * 1024];

static const struct {
	const char *text; /* NULL: the 10 KB buffer */
	size_t len;
	const char *why; /* a part of the reason, or NULL to only require one */
} invalid[] = {
	{"", 0, "length 0"},
	{"abc", LEN_STR, NULL},
	{"1.2.3.4", LEN_STR, "no ':port'"},
	{"1.2.3.4:", LEN_STR, "no port"},
	{":80", LEN_STR, NULL},
	{":", LEN_STR, NULL},
	{"1.2.3.4:0", LEN_STR, "port 0"},
	{"1.2.3.4:65536", LEN_STR, "port 65536"},
	{"1.2.3.4:99999", LEN_STR, "port 99999"},
	{"1.2.3.4:100000", LEN_STR, NULL},
	{"1.2.3.4:01", LEN_STR, NULL},
	{"1.2.3.4:00", LEN_STR, NULL},
	{"1.2.3.4:8a", LEN_STR, NULL},
	{"1.2.3.4:-1", LEN_STR, NULL},
	{"1.2.3.4:+80", LEN_STR, NULL},
	{"010.0.0.1:80", LEN_STR, NULL},
	{"01.2.3.4:80", LEN_STR, NULL},
	{"1.2.3.04:80", LEN_STR, NULL},
	{"256.1.1.1:80", LEN_STR, NULL},
	{"1.2.3:80", LEN_STR, NULL},
	{"1.2.3.4.5:80", LEN_STR, NULL},
	{"0.0.0.0:80", LEN_STR, "not a unicast"},
	{"0.1.2.3:80", LEN_STR, "not a unicast"},
	{"224.0.0.1:80", LEN_STR, "not a unicast"},
	{"239.255.255.250:80", LEN_STR, "not a unicast"},
	{"240.0.0.1:80", LEN_STR, "not a unicast"},
	{"255.255.255.255:80", LEN_STR, "not a unicast"},
	{"[::]:80", LEN_STR, "not a unicast"},
	{"[0:0::0]:80", LEN_STR, "not a unicast"},
	{"[ff02::1]:80", LEN_STR, "not a unicast"},
	{"[FF05::2]:80", LEN_STR, "not a unicast"},
	/* IPv4-mapped forms of the IPv4 addresses refused above: same socket address, same rule. */
	/* IPv4-mapped: one node, one name (the IPv4 one), and no way around the unicast rule. */
	{"[::ffff:1.2.3.4]:80", LEN_STR, "IPv4-mapped"},
	{"[::FFFF:1.2.3.4]:80", LEN_STR, "IPv4-mapped"},
	{"[::ffff:0.0.0.0]:80", LEN_STR, "IPv4-mapped"},
	{"[::ffff:224.0.0.1]:80", LEN_STR, "IPv4-mapped"},
	{"[::ffff:255.255.255.255]:80", LEN_STR, "IPv4-mapped"},
	{"::1:80", LEN_STR, NULL},
	{"2001:db8::1:7000", LEN_STR, NULL},
	{"[::1", LEN_STR, NULL},
	{"[::1]80", LEN_STR, NULL},
	{"[::1]:", LEN_STR, NULL},
	{"[]:80", LEN_STR, NULL},
	{"[::1]]:80", LEN_STR, NULL},
	{"[[::1]:80", LEN_STR, NULL},
	{"[::1]:80:80", LEN_STR, NULL},
	{"[1.2.3.4]:80", LEN_STR, NULL},
	{"1.2.3.4]:80", LEN_STR, NULL},
	{"[fe80::1%eth0]:80", LEN_STR, "not allowed"},
	{"1.2.3.4:80; shutdown sessions server mcs/x", LEN_STR, "not allowed"},
	{"1.2.3.4:80\n", LEN_STR, "not allowed"},
	{"1.2.3.4\n:80", LEN_STR, "not allowed"},
	{"1.2.3.4\r:80", LEN_STR, "not allowed"},
	{"1.2.3.4\0:80", 11, "not allowed"},
	{"1.2.3.4:80\0", 11, "not allowed"},
	{NULL, sizeof(big), "length"},
	{"1.2.3.4:80 ", LEN_STR, "not allowed"},
	{" 1.2.3.4:80", LEN_STR, "not allowed"},
	{"redis:80", LEN_STR, "not allowed"},
	{"localhost:80", LEN_STR, "not allowed"},
	{"cafe:80", LEN_STR, NULL},                                   /* a hostname spelled in hex digits */
	{"1.2.3.4:\xef\xbc\x98\xef\xbc\x90", LEN_STR, "not allowed"}, /* fullwidth "80" */
};

START_TEST(test_parse_invalid)
{
	struct node_addr n;
	char err[128] = "";
	const char *text = invalid[_i].text;
	if (text == NULL) {
		memset(big, '1', sizeof(big));
		memcpy(big, "1.2.3.4:", 8);
		text = big;
	}
	size_t len = case_len(text, invalid[_i].len);
	ck_assert_msg(member_parse(text, len, &n, err, sizeof(err)) == -1, "case %d accepted as %s", _i, n.name);
	ck_assert_msg(err[0] != '\0', "case %d: no reason", _i);
	ck_assert_msg(strchr(err, '\n') == NULL, "case %d: reason has a newline: %s", _i, err);
	if (invalid[_i].why != NULL)
		ck_assert_msg(strstr(err, invalid[_i].why) != NULL, "case %d: \"%s\" lacks \"%s\"", _i, err,
			      invalid[_i].why);
}
END_TEST

/* A tiny error buffer is truncated, never overrun. */
START_TEST(test_parse_small_err)
{
	struct node_addr n;
	char err[16];
	memset(err, '#', sizeof(err));
	ck_assert_int_eq(member_parse("1.2.3.4:99999", 13, &n, err, 8), -1);
	ck_assert_uint_eq(strlen(err), 7);
	for (size_t i = 8; i < sizeof(err); i++)
		ck_assert_int_eq(err[i], '#');
}
END_TEST

/* Two spellings of one IPv6 node give one name, so they cannot become two servers. */
START_TEST(test_parse_same_name)
{
	static const char *const spellings[] = {
		"[2001:db8::a:1]:7000",
		"[2001:DB8::A:1]:7000",
		"[2001:db8:0::a:1]:7000",
		"[2001:0db8:0000:0000:0000:0000:000a:0001]:7000",
	};
	for (size_t i = 0; i < N_ELEMS(spellings); i++) {
		struct node_addr n;
		char err[128];
		ck_assert_int_eq(member_parse(spellings[i], strlen(spellings[i]), &n, err, sizeof(err)), 0);
		ck_assert_str_eq(n.name, "2001:db8::a:1:7000");
	}
}
END_TEST

/* ---- member_quote ---- */

static char ten_kb[10 * 1024];

static const struct {
	const char *text; /* NULL: ten_kb of 'x' */
	size_t len;
	size_t outlen;
	const char *want; /* NULL: out must be untouched (outlen 0) */
} quotes[] = {
	{"abc", 3, 0, NULL},
	{"abc", 3, 1, ""},
	{"abc", 3, 7, ""},
	{"", 0, 8, ""},
	{"abcd", 4, 8, "abcd"},
	{"abcde", 5, 8, "abcd..."},
	{"\n", 1, 8, "\\x0a"},
	{"\n\n", 2, 8, "\\x0a..."},
	{"abcdefgh", 8, 9, "abcde..."},
	{"abcde", 5, 9, "abcde"},
	{"ab\ncd", 5, 9, "ab..."},
	{"ab\ncd", 5, 12, "ab\\x0acd"},
	{"abcdefghij", 10, 12, "abcdefgh..."},
	{"a\"b\\c", 5, 64, "a\\x22b\\x5cc"},
	{"\0\x01\x1f\x7f\x80\xff", 6, 64, "\\x00\\x01\\x1f\\x7f\\x80\\xff"},
	{"1.2.3.4:80; shutdown sessions server mcs/x", 42, 64, "1.2.3.4:80; shutdown sessions server mcs/x"},
	{"1.2.3.4:80\r\nshow info", 21, 64, "1.2.3.4:80\\x0d\\x0ashow info"},
	{"a\0b", 3, 64, "a\\x00b"}, /* len, not the NUL, ends the text */
	{NULL, sizeof(ten_kb), 80, NULL},
};

START_TEST(test_quote)
{
	char out[128];
	const char *text = quotes[_i].text;
	size_t outlen = quotes[_i].outlen;
	if (text == NULL) {
		memset(ten_kb, 'x', sizeof(ten_kb));
		text = ten_kb;
	}
	memset(out, '#', sizeof(out));
	member_quote(text, quotes[_i].len, out, outlen);
	for (size_t i = outlen; i < sizeof(out); i++)
		ck_assert_msg(out[i] == '#', "case %d: byte %zu written past outlen %zu", _i, i, outlen);
	if (outlen == 0)
		return;
	ck_assert_msg(strlen(out) < outlen, "case %d: %zu bytes in %zu", _i, strlen(out), outlen);
	if (quotes[_i].text == NULL) {
		/* 76 bytes of text, "...", NUL. */
		ck_assert_uint_eq(strlen(out), 79);
		ck_assert_str_eq(out + 76, "...");
		ck_assert_uint_eq(strspn(out, "x"), 76);
	} else {
		ck_assert_str_eq(out, quotes[_i].want);
	}
}
END_TEST

/* Every output size from 0 to 40 for text needing escapes: never past outlen - 1. */
START_TEST(test_quote_all_sizes)
{
	static const char text[] = "\x01\"ab\\\n\xff 1.2.3.4:80\x7f\x00zz";
	for (size_t outlen = 0; outlen <= 40; outlen++) {
		char out[64];
		memset(out, '#', sizeof(out));
		member_quote(text, sizeof(text) - 1, out, outlen);
		for (size_t i = outlen; i < sizeof(out); i++)
			ck_assert_msg(out[i] == '#', "outlen %zu: byte %zu written", outlen, i);
		if (outlen > 0)
			ck_assert_msg(memchr(out, '\0', outlen) != NULL, "outlen %zu: not terminated", outlen);
		for (size_t i = 0; outlen > 0 && out[i] != '\0'; i++)
			ck_assert_msg(out[i] >= 0x20 && out[i] < 0x7f && out[i] != '"', "outlen %zu: byte %zu", outlen,
				      i);
	}
}
END_TEST

/* ---- node_list ---- */

static void list_add(struct node_list *l, const char *text)
{
	struct node_addr n;
	char err[128];
	ck_assert_msg(member_parse(text, strlen(text), &n, err, sizeof(err)) == 0, "%s: %s", text, err);
	ck_assert_int_eq(node_list_add(l, &n), 0);
}

START_TEST(test_node_list_sort_unique)
{
	static const struct {
		const char *in[8];
		const char *out[8];
	} cases[] = {
		{{NULL}, {NULL}},
		{{"1.2.3.4:80", NULL}, {"1.2.3.4:80", NULL}},
		{{"10.0.0.2:80", "10.0.0.1:80", "10.0.0.2:80", NULL}, {"10.0.0.1:80", "10.0.0.2:80", NULL}},
		{{"[2001:db8::1]:80", "[2001:DB8:0::1]:80", "1.2.3.4:80", "1.2.3.4:80", "1.2.3.4:80", NULL},
		 {"1.2.3.4:80", "2001:db8::1:80", NULL}},
		{{"10.0.0.1:81", "10.0.0.1:8", "10.0.0.1:80", NULL},
		 {"10.0.0.1:8", "10.0.0.1:80", "10.0.0.1:81", NULL}},
	};
	for (size_t c = 0; c < N_ELEMS(cases); c++) {
		struct node_list l = {0};
		for (size_t i = 0; cases[c].in[i] != NULL; i++)
			list_add(&l, cases[c].in[i]);
		node_list_sort_unique(&l);
		size_t n = 0;
		while (cases[c].out[n] != NULL)
			n++;
		ck_assert_uint_eq(l.n_nodes, n);
		for (size_t i = 0; i < n; i++)
			ck_assert_str_eq(l.nodes[i].name, cases[c].out[i]);
		node_list_clear(&l);
		ck_assert_ptr_null(l.nodes);
		ck_assert_uint_eq(l.n_nodes, 0);
	}
}
END_TEST

/* Growth past the first allocation keeps every node. */
START_TEST(test_node_list_grow)
{
	struct node_list l = {0};
	char text[32];
	for (unsigned i = 1; i <= 300; i++) {
		snprintf(text, sizeof(text), "10.0.%u.%u:80", i / 256, i % 256);
		list_add(&l, text);
	}
	list_add(&l, "10.0.0.7:80");
	node_list_sort_unique(&l);
	ck_assert_uint_eq(l.n_nodes, 300);
	for (size_t i = 1; i < l.n_nodes; i++)
		ck_assert_int_lt(strcmp(l.nodes[i - 1].name, l.nodes[i].name), 0);
	node_list_clear(&l);
}
END_TEST

START_TEST(test_node_list_reject)
{
	struct node_list l = {0};
	ck_assert_int_eq(node_list_reject(&l, "bad\nmember\"", 11, "byte 3 is not allowed in ip:port"), 0);
	ck_assert_uint_eq(l.n_rejects, 1);
	ck_assert_uint_eq(l.n_total_rejects, 1);
	ck_assert_str_eq(l.rejects[0].text, "bad\\x0amember\\x22");
	ck_assert_str_eq(l.rejects[0].why, "byte 3 is not allowed in ip:port");

	memset(ten_kb, 'y', sizeof(ten_kb));
	ck_assert_int_eq(node_list_reject(&l, ten_kb, sizeof(ten_kb), ten_kb), 0);
	ck_assert_uint_lt(strlen(l.rejects[1].text), sizeof(l.rejects[1].text));
	ck_assert_str_eq(l.rejects[1].text + strlen(l.rejects[1].text) - 3, "...");
	ck_assert_uint_eq(strlen(l.rejects[1].why), sizeof(l.rejects[1].why) - 1);

	/* The first 64 are kept, all are counted. */
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(node_list_reject(&l, "x", 1, "no ':port'"), 0);
	ck_assert_uint_eq(l.n_rejects, 64);
	ck_assert_uint_eq(l.n_total_rejects, 102);
	node_list_clear(&l);
	ck_assert_ptr_null(l.rejects);
	ck_assert_uint_eq(l.n_rejects, 0);
	ck_assert_uint_eq(l.n_total_rejects, 0);
	node_list_clear(&l); /* twice is harmless */
}
END_TEST

static Suite *member_suite(void)
{
	Suite *s = suite_create("member");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_valid, 0, N_ELEMS(valid));
	tcase_add_loop_test(tc, test_parse_invalid, 0, N_ELEMS(invalid));
	tcase_add_test(tc, test_parse_small_err);
	tcase_add_test(tc, test_parse_same_name);
	suite_add_tcase(s, tc);
	tc = tcase_create("quote");
	tcase_add_loop_test(tc, test_quote, 0, N_ELEMS(quotes));
	tcase_add_test(tc, test_quote_all_sizes);
	suite_add_tcase(s, tc);
	tc = tcase_create("node_list");
	tcase_add_test(tc, test_node_list_sort_unique);
	tcase_add_test(tc, test_node_list_grow);
	tcase_add_test(tc, test_node_list_reject);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(member_suite()); }
