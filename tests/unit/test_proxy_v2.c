/* The demo node's PROXY v2 parser: HAProxy's headers (PROXY over TCP4/TCP6, LOCAL for health
 * checks) are read, anything else is refused, and a header cut anywhere asks for more. */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "proxy_v2.h"
#include "unit.h"

#define SIG "\r\n\r\n\0\r\nQUIT\n"

/* 127.0.0.1:50000 -> 127.0.0.2:64400, then a NOOP TLV of 2 bytes */
static const unsigned char tcp4[] = SIG "\x21\x11\x00\x11"
					"\x7f\x00\x00\x01\x7f\x00\x00\x02\xc3\x50\xfb\x90"
					"\x04\x00\x02xy";
/* [::1]:50001 -> [2001:db8::1]:64400 */
static const unsigned char tcp6[] = SIG "\x21\x21\x00\x24"
					"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"
					"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
					"\xc3\x51\xfb\x90";
/* LOCAL, family UNSPEC, no body: what HAProxy 2.6's health checks send */
static const unsigned char local[] = SIG "\x20\x00\x00\x00";

static enum pp2_result parse(const unsigned char *b, size_t n, struct pp2_header *h, char *err)
{
	return pp2_parse(b, n, h, err, 128);
}

START_TEST(test_tcp4)
{
	struct pp2_header h;
	char err[128], ip[INET_ADDRSTRLEN];
	ck_assert_int_eq(parse(tcp4, sizeof(tcp4) - 1, &h, err), PP2_DONE);
	ck_assert_uint_eq(h.len, sizeof(tcp4) - 1);
	ck_assert_int_eq(h.local, 0);
	const struct sockaddr_in *s = (const struct sockaddr_in *)&h.src, *d = (const struct sockaddr_in *)&h.dst;
	ck_assert_int_eq(s->sin_family, AF_INET);
	ck_assert_str_eq(inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip)), "127.0.0.1");
	ck_assert_uint_eq(ntohs(s->sin_port), 50000);
	ck_assert_str_eq(inet_ntop(AF_INET, &d->sin_addr, ip, sizeof(ip)), "127.0.0.2");
	ck_assert_uint_eq(ntohs(d->sin_port), 64400);
}
END_TEST

START_TEST(test_tcp6)
{
	struct pp2_header h;
	char err[128], ip[INET6_ADDRSTRLEN];
	ck_assert_int_eq(parse(tcp6, sizeof(tcp6) - 1, &h, err), PP2_DONE);
	ck_assert_uint_eq(h.len, 16 + 36);
	const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&h.src, *d = (const struct sockaddr_in6 *)&h.dst;
	ck_assert_int_eq(s->sin6_family, AF_INET6);
	ck_assert_str_eq(inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip)), "::1");
	ck_assert_uint_eq(ntohs(s->sin6_port), 50001);
	ck_assert_str_eq(inet_ntop(AF_INET6, &d->sin6_addr, ip, sizeof(ip)), "2001:db8::1");
}
END_TEST

START_TEST(test_local)
{
	struct pp2_header h;
	char err[128];
	ck_assert_int_eq(parse(local, sizeof(local) - 1, &h, err), PP2_DONE);
	ck_assert_uint_eq(h.len, 16);
	ck_assert_int_eq(h.local, 1);
	/* LOCAL may carry addresses of any family; they are skipped, not read */
	unsigned char with_body[16 + 12];
	memcpy(with_body, tcp4, sizeof(with_body));
	with_body[12] = 0x20;
	with_body[15] = 12;
	ck_assert_int_eq(parse(with_body, sizeof(with_body), &h, err), PP2_DONE);
	ck_assert_int_eq(h.local, 1);
	ck_assert_uint_eq(h.len, 28);
}
END_TEST

/* Every prefix of a valid header is "more", naming how much is needed; the whole is never
 * asked to grow past its own length. */
START_TEST(test_prefixes)
{
	const struct {
		const unsigned char *b;
		size_t n;
	} hs[] = {{tcp4, sizeof(tcp4) - 1}, {tcp6, sizeof(tcp6) - 1}, {local, sizeof(local) - 1}};
	for (size_t i = 0; i < N_ELEMS(hs); i++) {
		for (size_t n = 0; n < hs[i].n; n++) {
			struct pp2_header h;
			char err[128];
			ck_assert_int_eq(parse(hs[i].b, n, &h, err), PP2_MORE);
			ck_assert_uint_eq(h.len, n < 16 ? 16 : hs[i].n);
		}
	}
}
END_TEST

/* Byte patches of the TCP4 header, each refused with its reason. */
static const struct {
	size_t at;
	unsigned char value;
	const char *why;
} bad[] = {
	{0, 'G', "no PROXY v2 signature"}, /* an HTTP client: "GET ..." */
	{0, 'P', "no PROXY v2 signature"}, /* PROXY protocol v1 ("PROXY TCP4 ...") */
	{11, 0x0b, "no PROXY v2 signature"},
	{12, 0x11, "PROXY protocol version 1, not 2"},
	{12, 0x31, "PROXY protocol version 3, not 2"},
	{12, 0x22, "unknown PROXY v2 command 0x2"},
	{13, 0x12, "PROXY v2 family 0x12 is not TCP over IPv4 or IPv6"}, /* UDP */
	{13, 0x31, "PROXY v2 family 0x31 is not TCP over IPv4 or IPv6"}, /* unix */
	{13, 0x00, "PROXY v2 family 0x00 is not TCP over IPv4 or IPv6"}, /* PROXY with UNSPEC */
	{13, 0x21, "PROXY v2 address block of 17 bytes is too short"},   /* claims TCP6 */
	{14, 0x10, "PROXY v2 header of 4129 bytes is too long"},
	{15, 0x0b, "PROXY v2 address block of 11 bytes is too short"},
	{15, 0x10, "PROXY v2 TLVs do not fill the header's 16 bytes"}, /* cuts the TLV */
	{15, 0x0e, "PROXY v2 TLVs do not fill the header's 14 bytes"}, /* 2 bytes of TLV */
	{30, 0x03, "PROXY v2 TLVs do not fill the header's 17 bytes"}, /* TLV claims 3 bytes */
};

START_TEST(test_refused)
{
	unsigned char b[sizeof(tcp4)];
	struct pp2_header h;
	char err[128] = "";
	memcpy(b, tcp4, sizeof(b));
	b[bad[_i].at] = bad[_i].value;
	ck_assert_int_eq(parse(b, sizeof(tcp4) - 1, &h, err), PP2_BAD);
	ck_assert_str_eq(err, bad[_i].why);
}
END_TEST

/* A wrong signature is refused at its first wrong byte, not after 16. */
START_TEST(test_refused_early)
{
	struct pp2_header h;
	char err[128];
	ck_assert_int_eq(parse((const unsigned char *)"\r\nX", 3, &h, err), PP2_BAD);
	ck_assert_int_eq(parse((const unsigned char *)"\r", 1, &h, err), PP2_MORE);
	/* a short err buffer is cut, not overrun */
	char small[8];
	ck_assert_int_eq(pp2_parse((const unsigned char *)"GET /", 5, &h, small, sizeof(small)), PP2_BAD);
	ck_assert_str_eq(small, "no PROX");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proxy_v2");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, test_tcp4);
	tcase_add_test(tc, test_tcp6);
	tcase_add_test(tc, test_local);
	tcase_add_test(tc, test_prefixes);
	tcase_add_loop_test(tc, test_refused, 0, N_ELEMS(bad));
	tcase_add_test(tc, test_refused_early);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
