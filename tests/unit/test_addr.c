/* common/addr: which texts are address literals (IPv4 and IPv6 as inet_pton reads them, alone:
 * no brackets, names, zone ids or blanks) and the socket address each makes with a port. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "unit.h"

static const struct {
	const char *text;
	unsigned port;
	int family;        /* AF_INET, AF_INET6, or 0: refused */
	const char *canon; /* inet_ntop of the address stored */
} cases[] = {
	{"127.0.0.1", 8080, AF_INET, "127.0.0.1"},
	{"0.0.0.0", 0, AF_INET, "0.0.0.0"},
	{"255.255.255.255", 65535, AF_INET, "255.255.255.255"},
	{"::1", 9000, AF_INET6, "::1"},
	{"::", 1, AF_INET6, "::"},
	{"2001:DB8::0:1", 443, AF_INET6, "2001:db8::1"},
	{"::ffff:10.0.0.1", 80, AF_INET6, "::ffff:10.0.0.1"},
	/* brackets belong to an "[IPv6]:port" form, not to the address */
	{"[::1]", 80, 0, NULL},
	{"[127.0.0.1]", 80, 0, NULL},
	/* garbage */
	{"", 80, 0, NULL},
	{" 127.0.0.1", 80, 0, NULL},
	{"127.0.0.1 ", 80, 0, NULL},
	{"localhost", 80, 0, NULL},
	{"127.1", 80, 0, NULL},
	{"256.0.0.1", 80, 0, NULL},
	{"1.2.3.4:80", 80, 0, NULL},
	{"::1:80:", 80, 0, NULL},
	{"fe80::1%eth0", 80, 0, NULL},
	{"0x7f.0.0.1", 80, 0, NULL},
	{"127.0.0.1\n", 80, 0, NULL},
	/* a port past 65535 makes no address */
	{"127.0.0.1", 65536, 0, NULL},
	{"::1", 70000, 0, NULL},
};

START_TEST(test_parse)
{
	struct sockaddr_storage ss;
	socklen_t len = 12345;
	memset(&ss, 0xa5, sizeof(ss));
	int rc = addr_parse(cases[_i].text, cases[_i].port, &ss, &len);
	if (cases[_i].family == 0) {
		ck_assert_msg(rc == -1, "\"%s\" port %u taken", cases[_i].text, cases[_i].port);
		ck_assert_uint_eq(len, 12345); /* untouched */
		ck_assert_uint_eq(((unsigned char *)&ss)[0], 0xa5);
		return;
	}
	ck_assert_msg(rc == 0, "\"%s\" refused", cases[_i].text);
	ck_assert_int_eq(ss.ss_family, cases[_i].family);
	ck_assert_uint_eq(addr_port(&ss), cases[_i].port);
	char text[INET6_ADDRSTRLEN];
	if (cases[_i].family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)&ss;
		ck_assert_uint_eq(len, sizeof(*v4));
		ck_assert_uint_eq(ntohs(v4->sin_port), cases[_i].port);
		ck_assert_ptr_nonnull(inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text)));
		ck_assert_int_eq(memcmp(v4->sin_zero, "\0\0\0\0\0\0\0\0", sizeof(v4->sin_zero)), 0);
	} else {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&ss;
		ck_assert_uint_eq(len, sizeof(*v6));
		ck_assert_uint_eq(ntohs(v6->sin6_port), cases[_i].port);
		ck_assert_uint_eq(v6->sin6_flowinfo, 0);
		ck_assert_uint_eq(v6->sin6_scope_id, 0);
		ck_assert_ptr_nonnull(inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text)));
	}
	ck_assert_str_eq(text, cases[_i].canon);
}
END_TEST

/* addr_is_literal agrees with addr_parse on every case; those refused for their port alone
 * are literals. */
START_TEST(test_is_literal)
{
	int want = cases[_i].family != 0 || cases[_i].port > 65535;
	ck_assert_msg(addr_is_literal(cases[_i].text) == want, "\"%s\"", cases[_i].text);
}
END_TEST

START_TEST(test_port_other_family)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert_uint_eq(addr_port(&ss), 0);
}
END_TEST

/* addr_listen binds on this host only: loopback, or an address it does not have (refused
 * before any packet). */
static const struct {
	const char *literal;
	int taken;      /* 1: the port of a socket already listening there */
	int want_errno; /* 0: a listening socket */
} listens[] = {
	{"127.0.0.1", 0, 0},
	{"127.0.0.1", 1, EADDRINUSE},
	{"192.0.2.1", 0, EADDRNOTAVAIL}, /* TEST-NET-1: no host has it */
};

START_TEST(test_listen)
{
	struct sockaddr_storage ss, first;
	socklen_t len;
	ck_assert_int_eq(addr_parse("127.0.0.1", 0, &first, &len), 0);
	int busy = addr_listen(&first, len, 1);
	ck_assert_int_ge(busy, 0);
	ck_assert_int_eq(addr_parse(listens[_i].literal, listens[_i].taken ? addr_port(&first) : 0, &ss, &len), 0);
	errno = 0;
	int fd = addr_listen(&ss, len, 8);
	if (listens[_i].want_errno != 0) {
		ck_assert_int_eq(fd, -1);
		ck_assert_int_eq(errno, listens[_i].want_errno);
	} else {
		ck_assert_int_ge(fd, 0);
		ck_assert_uint_ne(addr_port(&ss), 0);
		int flags = fcntl(fd, F_GETFL);
		ck_assert(flags != -1 && (flags & O_NONBLOCK));
		ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);
	}
	close(busy);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("addr");
	tcase_add_loop_test(tc, test_parse, 0, N_ELEMS(cases));
	tcase_add_loop_test(tc, test_is_literal, 0, N_ELEMS(cases));
	tcase_add_test(tc, test_port_other_family);
	suite_add_tcase(s, tc);
	tc = tcase_create("listen");
	tcase_add_loop_test(tc, test_listen, 0, N_ELEMS(listens));
	suite_add_tcase(s, tc);
	return unit_run(s);
}
