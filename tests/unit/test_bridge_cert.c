/* bridge_cert: the leaf's notAfter of a captured chain (leaf first), and certificate files that
 * are not certificates (empty, garbage, cut short, a key only, too long) refused with a reason. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge_cert.h"
#include "unit.h"

static char err[128];

/* tests/fixtures/bridge_cert_chain.pem: a leaf valid until Jan 10 22:11:56 2028 GMT, then a CA
 * valid until 2037. */
START_TEST(leaf_not_after)
{
	char *pem = fixture("bridge_cert_chain.pem");
	size_t len = strlen(pem);
	long long t = 0;
	ck_assert_msg(bridge_cert_not_after(pem, len, &t, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(t, 1831155116LL);
	free(pem);
}
END_TEST

static const char *const bad[] = {
	"",
	"hello",
	"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
	"-----BEGIN CERTIFICATE-----\nMIIBfzCCASWgAwIBAgIU\n",
	"-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n",
	"\x00\xff\x00\xff garbage",
};

START_TEST(not_a_certificate)
{
	long long t = 42;
	err[0] = '\0';
	/* The last one starts with a NUL: its length is that of its literal, 12 bytes. */
	size_t len = _i == 5 ? 12 : strlen(bad[_i]);
	ck_assert_int_eq(bridge_cert_not_after(bad[_i], len, &t, err, sizeof(err)), -1);
	ck_assert_int_eq(t, 42);
	ck_assert_msg(err[0] != '\0' && strchr(err, '\n') == NULL, "one-line reason: '%s'", err);
}
END_TEST

START_TEST(too_long)
{
	/* The chain, then zeros up to one byte more than is read. */
	char *pem = fixture("bridge_cert_chain.pem"), *big = calloc(1, BRIDGE_CERT_MAX_BYTES + 1);
	ck_assert_ptr_nonnull(big);
	memcpy(big, pem, strlen(pem));
	long long t = 42;
	ck_assert_int_eq(bridge_cert_not_after(big, BRIDGE_CERT_MAX_BYTES + 1, &t, err, sizeof(err)), -1);
	free(big);
	ck_assert_int_eq(t, 42);
	free(pem);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bridge_cert");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, leaf_not_after);
	tcase_add_loop_test(tc, not_a_certificate, 0, (int)N_ELEMS(bad));
	tcase_add_test(tc, too_long);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
