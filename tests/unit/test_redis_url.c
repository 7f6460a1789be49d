/* REDIS_URL parsing, checking and redaction: what the controller connects to, and what it may
 * print about it. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "redis_url.h"
#include "unit.h"

static const struct {
	const char *url;
	const char *host;
	unsigned port, db;
	const char *user, *password; /* NULL: absent */
	int tls;
} valid[] = {
	{"redis://redis:6379", "redis", 6379, 0, NULL, NULL, 0},
	{"redis://127.0.0.1", "127.0.0.1", 6379, 0, NULL, NULL, 0},
	{"redis://127.0.0.1/", "127.0.0.1", 6379, 0, NULL, NULL, 0},
	{"redis://h:1/3", "h", 1, 3, NULL, NULL, 0},
	{"redis://h:65535/99999", "h", 65535, 99999, NULL, NULL, 0},
	{"redis://user:p%40ss@h/0", "h", 6379, 0, "user", "p@ss", 0},
	{"redis://u%3Ax:a%3Ab%25@h:7/2", "h", 7, 2, "u:x", "a:b%", 0},
	{"redis://user@h", "h", 6379, 0, "user", NULL, 0},
	{"redis://[::1]:6380", "::1", 6380, 0, NULL, NULL, 0},
	{"redis://[2001:db8::5]/4", "2001:db8::5", 6379, 4, NULL, NULL, 0},
	{"redis://u:pw@[::1]:6380/1", "::1", 6380, 1, "u", "pw", 0},
	/* "redis://:password@host" is how a password without an ACL user is written: the user is
	 * absent (AUTH password), not an empty user name (AUTH "" password fails). */
	{"redis://:secret@h:1/3", "h", 1, 3, NULL, "secret", 0},
	{"rediss://h", "h", 6379, 0, NULL, NULL, 1},
	{"rediss://app:pw@redis.example:6380/2", "redis.example", 6380, 2, "app", "pw", 1},
	{"REDISS://[::1]:7000", "::1", 7000, 0, NULL, NULL, 1},
};

START_TEST(test_parse_valid)
{
	struct redis_url u;
	char err[256] = "";
	ck_assert_msg(redis_url_parse(valid[_i].url, &u, err, sizeof(err)) == 0, "%s: %s", valid[_i].url, err);
	ck_assert_str_eq(u.host, valid[_i].host);
	ck_assert_uint_eq(u.port, valid[_i].port);
	ck_assert_uint_eq(u.db, valid[_i].db);
	ck_assert_int_eq(u.tls, valid[_i].tls);
	if (valid[_i].user == NULL)
		ck_assert_msg(u.user == NULL, "%s: user \"%s\", want none", valid[_i].url, u.user);
	else
		ck_assert_str_eq(u.user, valid[_i].user);
	if (valid[_i].password == NULL)
		ck_assert_ptr_null(u.password);
	else
		ck_assert_str_eq(u.password, valid[_i].password);
	redis_url_clear(&u);
	ck_assert_ptr_null(u.user);
	ck_assert_ptr_null(u.password);
	ck_assert_uint_eq(u.port, 0);
}
END_TEST

static const struct {
	const char *url;
	const char *why; /* part of the reason */
} invalid[] = {
	{"http://x", "scheme \"http\""},
	{"rediss:x", "not a URL"},
	{"redis+tls://x", "scheme \"redis+tls\""},
	{"unix:///run/redis.sock", "scheme"},
	{"redis://", "not a URL"},
	{"redis://h:0", "port 0"},
	{"redis://h:70000", "not a URL"},
	{"redis://h:-1", "not a URL"},
	{"redis://h/abc", "database \"abc\""},
	{"redis://h/-1", "database"},
	{"redis://h/100000", "database \"100000\""},
	{"redis://h/1/2", "database"},
	{"redis://h//", "database"},
	{"redis://h/%31", "database"},
	{"redis://h/1?x=1", "query"},
	{"redis://h?", "query"},
	{"redis://h/1#f", "fragment"},
	{"not a url", "not a URL"},
	{"", "not a URL"},
	{"redis:h", "not a URL"},
	{"redis://u:p@ss@h:1", "not a URL"},
	{"redis://h h:1", "not a URL"},
};

START_TEST(test_parse_invalid)
{
	struct redis_url u;
	char err[256] = "";
	ck_assert_msg(redis_url_parse(invalid[_i].url, &u, err, sizeof(err)) == -1, "%s accepted", invalid[_i].url);
	ck_assert_msg(strstr(err, invalid[_i].why) != NULL, "%s: \"%s\" lacks \"%s\"", invalid[_i].url, err,
		      invalid[_i].why);
	/* On -1 there is nothing to free. */
	ck_assert_ptr_null(u.user);
	ck_assert_ptr_null(u.password);
	ck_assert_int_eq(u.host[0], '\0');
}
END_TEST

/* A user and password parsed before a later part is refused are not leaked or left behind. */
START_TEST(test_parse_invalid_with_credentials)
{
	struct redis_url u;
	char err[256];
	ck_assert_int_eq(redis_url_parse("redis://u:pw@h/abc", &u, err, sizeof(err)), -1);
	ck_assert_ptr_null(u.user);
	ck_assert_ptr_null(u.password);
	redis_url_clear(&u);
	redis_url_clear(NULL);
}
END_TEST

START_TEST(test_check)
{
	char err[256] = "";
	ck_assert_int_eq(redis_url_check("redis://redis:6379", err, sizeof(err)), 0);
	ck_assert_int_eq(redis_url_check("redis://u:pw@h:1/2", err, sizeof(err)), 0);
	ck_assert_int_eq(redis_url_check("redis://h/abc", err, sizeof(err)), -1);
	ck_assert_str_eq(
		err,
		"\"redis://h/abc\" is not a usable redis:// or rediss:// URL: database \"abc\" is not a number from 0 to 99999");
	ck_assert_int_eq(redis_url_check("http://x", err, 16), -1);
	ck_assert_uint_eq(strlen(err), 15);
}
END_TEST

/* The check's message ends up on stderr at start-up: it must not carry the password that
 * --print-config takes care to hide. */
START_TEST(test_check_hides_password)
{
	static const char *const urls[] = {"redis://u:s3cr3t@h/abc", "redis://:s3cr3t@h:0", "rediss://:s3cr3t@h/x",
					   "redis://:s3cr3t@h/1?x=1"};
	for (size_t i = 0; i < N_ELEMS(urls); i++) {
		char err[256] = "";
		ck_assert_int_eq(redis_url_check(urls[i], err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, "s3cr3t") == NULL, "%s: message shows the password: %s", urls[i], err);
	}
}
END_TEST

static const struct {
	const char *url, *want;
} redactions[] = {
	{"redis://u:secret@h:1", "redis://u:***@h:1"},
	{"redis://:secret@h:1/3", "redis://:***@h:1/3"},
	{"redis://user:p%40ss@h/0", "redis://user:***@h/0"},
	{"redis://u:pw@[::1]:6380/1", "redis://u:***@[::1]:6380/1"},
	{"redis://u:@h", "redis://u:***@h"},
	{"redis://h:1", "redis://h:1"},
	{"redis://redis:6379", "redis://redis:6379"},
	{"redis://user@h:1", "redis://user@h:1"},
	{"redis://[::1]:6380", "redis://[::1]:6380"},
	{"", ""},
};

START_TEST(test_redact)
{
	char out[128];
	redis_url_redact(redactions[_i].url, out, sizeof(out));
	ck_assert_str_eq(out, redactions[_i].want);
}
END_TEST

/* A short buffer truncates; it never shows more of the password than the full form. */
START_TEST(test_redact_small)
{
	char out[32];
	for (size_t outlen = 1; outlen <= sizeof(out); outlen++) {
		memset(out, '#', sizeof(out));
		redis_url_redact("redis://u:secret@host:6379/0", out, outlen);
		ck_assert_uint_lt(strlen(out), outlen);
		ck_assert_ptr_null(strstr(out, "sec"));
		for (size_t i = outlen; i < sizeof(out); i++)
			ck_assert_int_eq(out[i], '#');
	}
}
END_TEST

static Suite *redis_url_suite(void)
{
	Suite *s = suite_create("redis_url");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_valid, 0, N_ELEMS(valid));
	tcase_add_loop_test(tc, test_parse_invalid, 0, N_ELEMS(invalid));
	tcase_add_test(tc, test_parse_invalid_with_credentials);
	suite_add_tcase(s, tc);
	tc = tcase_create("check");
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_check_hides_password);
	suite_add_tcase(s, tc);
	tc = tcase_create("redact");
	tcase_add_loop_test(tc, test_redact, 0, N_ELEMS(redactions));
	tcase_add_test(tc, test_redact_small);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(redis_url_suite()); }
