/* MCS_REDIS_SENTINELS parsing: the lists an operator writes, and what is refused. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "redis_sentinel.h"
#include "unit.h"

START_TEST(test_parse_valid)
{
	struct redis_sentinel_addr v[REDIS_SENTINEL_MAX];
	size_t n;
	char err[160] = "";
	ck_assert_msg(redis_sentinel_parse("10.0.0.1:26379,s2.example:26380,[::1]:5000", v, REDIS_SENTINEL_MAX, &n, err,
					   sizeof(err)) == 0,
		      "%s", err);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].host, "10.0.0.1");
	ck_assert_uint_eq(v[0].port, 26379);
	ck_assert_str_eq(v[1].host, "s2.example");
	ck_assert_uint_eq(v[1].port, 26380);
	ck_assert_str_eq(v[2].host, "::1");
	ck_assert_uint_eq(v[2].port, 5000);
	ck_assert_int_eq(redis_sentinel_parse("h:1", v, REDIS_SENTINEL_MAX, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
}
END_TEST

static const char *const invalid[] = {
	"",
	"h",
	"h:",
	":26379",
	"h:0",
	"h:65536",
	"h:12a",
	"h:1,",
	",h:1",
	"h:1,,h:2",
	"::1:26379",
	"[::1:5",
	"[]:5",
	"h h:1",
	"h;x:1",
	"h:1 ",
	"a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9,j:10,k:11,l:12,m:13,n:14,o:15,p:16,q:17",
};

START_TEST(test_parse_invalid)
{
	struct redis_sentinel_addr v[REDIS_SENTINEL_MAX];
	size_t n;
	char err[160] = "";
	ck_assert_msg(redis_sentinel_parse(invalid[_i], v, REDIS_SENTINEL_MAX, &n, err, sizeof(err)) == -1,
		      "\"%s\" accepted", invalid[_i]);
	ck_assert_msg(strstr(err, "is not host:port") != NULL || strstr(err, "more than 16 sentinels") != NULL,
		      "%s: %s", invalid[_i], err);
}
END_TEST

START_TEST(test_switch_valid)
{
	struct redis_sentinel_switch sw;
	char err[160] = "";
	const char *msg = "mymaster 127.0.0.1 6379 10.0.0.2 6380";
	ck_assert_msg(redis_sentinel_parse_switch(msg, strlen(msg), &sw, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(sw.name, "mymaster");
	ck_assert_str_eq(sw.from.host, "127.0.0.1");
	ck_assert_uint_eq(sw.from.port, 6379);
	ck_assert_str_eq(sw.to.host, "10.0.0.2");
	ck_assert_uint_eq(sw.to.port, 6380);
	/* IPv6 without brackets, as Sentinel writes it; the length, not a NUL, ends the message */
	msg = "m-1 ::1 1 fe80::2 65535XYZ";
	ck_assert_msg(redis_sentinel_parse_switch(msg, strlen(msg) - 3, &sw, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(sw.to.host, "fe80::2");
	ck_assert_uint_eq(sw.to.port, 65535);
}
END_TEST

static const char *const bad_switch[] = {
	"",
	"mymaster",
	"mymaster 1.2.3.4 1 5.6.7.8",
	"mymaster 1.2.3.4 1 5.6.7.8 2 extra",
	"mymaster  1.2.3.4 1 5.6.7.8 2",
	" mymaster 1.2.3.4 1 5.6.7.8 2",
	"mymaster 1.2.3.4 1 5.6.7.8 2 ",
	"mymaster 1.2.3.4 0 5.6.7.8 2",
	"mymaster 1.2.3.4 1 5.6.7.8 65536",
	"mymaster 1.2.3.4 1 5.6.7.8 -1",
	"mymaster 1.2.3.4 1 5.6.7.8 080",
	"mymaster 1.2.3.4 1 5.6.7.8 2x",
	"mymaster 1.2.3.4;rm 1 5.6.7.8 2",
	"mymaster 1.2.3.4 1 5.6.7.8/24 2",
	"my\tmaster 1.2.3.4 1 5.6.7.8 2",
	"mymaster 1.2.3.4 1 5.6.7.8 2\n",
	"mymaster 1.2.3.4 1 \xc3\xa9 2",
};

START_TEST(test_switch_invalid)
{
	struct redis_sentinel_switch sw;
	char err[160] = "";
	const char *msg = bad_switch[_i];
	ck_assert_msg(redis_sentinel_parse_switch(msg, strlen(msg), &sw, err, sizeof(err)) == -1, "\"%s\" accepted",
		      msg);
	ck_assert_msg(strncmp(err, "+switch-master: ", 16) == 0 && strchr(err, '\n') == NULL, "%s", err);
}
END_TEST

START_TEST(test_switch_limits)
{
	struct redis_sentinel_switch sw;
	char err[160] = "", msg[700];
	/* a name too long for the buffer, a host of 256 bytes, a NUL inside */
	snprintf(msg, sizeof(msg), "%0200d 1.2.3.4 1 5.6.7.8 2", 0);
	ck_assert_int_eq(redis_sentinel_parse_switch(msg, strlen(msg), &sw, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "master name of 200 bytes"));
	snprintf(msg, sizeof(msg), "m 1.2.3.4 1 %0256d 2", 0);
	ck_assert_int_eq(redis_sentinel_parse_switch(msg, strlen(msg), &sw, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "is not a host"));
	memcpy(msg, "m 1.2.3.4 1 5.6\0.8 2", 21);
	ck_assert_int_eq(redis_sentinel_parse_switch(msg, 21, &sw, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "byte 0x00"));
}
END_TEST

/* An announced master is kept for one connect, then the sentinels are asked again (none here,
 * so asking fails without I/O); without a sentinel the address is only pointed. */
START_TEST(test_follow_then_aim)
{
	struct redis_conn_opts o = {.host = "10.0.0.1", .port = 6379, .timeout_ms = 100};
	struct redis_conn *c = redis_conn_new(&o);
	struct redis_sentinel *s = redis_sentinel_new(NULL, 0, "mymaster", NULL, &o);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(s);
	char addr[64];
	struct {
		struct redis_sentinel *s;
		int aims[2]; /* what two redis_sentinel_aim return after a follow */
	} cases[] = {{s, {0, -1}}, {NULL, {0, 0}}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(redis_sentinel_follow(cases[i].s, c, "10.0.0.9", 6380 + (unsigned)i), 0);
		for (int k = 0; k < 2; k++)
			ck_assert_int_eq(redis_sentinel_aim(cases[i].s, c), cases[i].aims[k]);
		redis_conn_addr(c, addr, sizeof(addr));
		ck_assert_str_eq(addr, i == 0 ? "10.0.0.9:6380" : "10.0.0.9:6381");
	}
	redis_sentinel_free(s);
	redis_conn_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("redis_sentinel");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_valid);
	tcase_add_loop_test(tc, test_parse_invalid, 0, N_ELEMS(invalid));
	suite_add_tcase(s, tc);
	tc = tcase_create("switch");
	tcase_add_test(tc, test_switch_valid);
	tcase_add_loop_test(tc, test_switch_invalid, 0, N_ELEMS(bad_switch));
	tcase_add_test(tc, test_switch_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("follow");
	tcase_add_test(tc, test_follow_then_aim);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
