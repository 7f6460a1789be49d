/* bridge_ctl: controller.json as untrusted input — the controller's own output is read whole;
 * anything missing, garbled, mistyped, stale or future-dated makes the controller "not up". */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "bridge_ctl.h"
#include "unit.h"

#define NOW 1764180000LL

/* What an older mcs-lb-controller wrote (JSON_COMPACT), at time t: every required key, none of
 * the optional ones a newer one adds (removal_held, agent, ... : ctlfile/ctl_file.h). The
 * current controller's whole output is read back in test_ctl_file.c. */
static void ctl_json(char *out, size_t len, long long t, const char *redis_ok)
{
	snprintf(out, len,
		 "{\"pid\":4242,\"time\":%lld,\"last_sync\":%lld,\"redis_ok\":%s,\"redis_error\":\"\","
		 "\"haproxy_ok\":true,\"haproxy_error\":\"\",\"live_nodes\":3,\"servers\":4,\"leaving\":1,"
		 "\"kept_on_empty\":false,\"held_by_operator\":2,\"rejected_members_total\":5,"
		 "\"redis_errors_total\":6,\"haproxy_errors_total\":7,\"actions_total\":8,\"action_errors_total\":9}",
		 t, t - 1, redis_ok);
}

START_TEST(test_controller_output_read_whole)
{
	char text[1024];
	struct bridge_ctl_status c;
	ctl_json(text, sizeof(text), NOW - 2, "true");
	ck_assert_int_eq(bridge_ctl_parse(text, strlen(text), NOW, 30, &c), 0);
	ck_assert_int_eq(c.up, 1);
	ck_assert_int_eq(c.v.time, NOW - 2);
	ck_assert_int_eq(c.v.last_sync, NOW - 3);
	ck_assert_int_eq(c.v.redis_ok, 1);
	ck_assert_int_eq(c.v.haproxy_ok, 1);
	ck_assert_int_eq(c.v.kept_on_empty, 0);
	ck_assert_uint_eq(c.v.live_nodes, 3);
	ck_assert_uint_eq(c.v.servers, 4);
	ck_assert_uint_eq(c.v.leaving, 1);
	ck_assert_uint_eq(c.v.held_by_operator, 2);
	ck_assert_uint_eq(c.v.rejected_members_total, 5);
	ck_assert_uint_eq(c.v.redis_errors_total, 6);
	ck_assert_uint_eq(c.v.haproxy_errors_total, 7);
	ck_assert_uint_eq(c.v.actions_total, 8);
	ck_assert_uint_eq(c.v.action_errors_total, 9);
	ck_assert_uint_eq(c.v.removal_held, 0); /* absent: an older controller */
}
END_TEST

/* The newer controller's optional fields: read when present, refused when of the wrong type. */
START_TEST(test_optional_fields)
{
	char text[1024], base[900];
	struct bridge_ctl_status c;
	ctl_json(base, sizeof(base), NOW - 1, "true");
	base[strlen(base) - 1] = '\0'; /* drop the closing brace */
	snprintf(text, sizeof(text), "%s,\"removal_held\":3,\"notified_steps_total\":11,\"cert_swaps_total\":2}", base);
	ck_assert_int_eq(bridge_ctl_parse(text, strlen(text), NOW, 30, &c), 0);
	ck_assert_uint_eq(c.v.removal_held, 3);
	ck_assert_uint_eq(c.v.notified_steps_total, 11);
	ck_assert_uint_eq(c.v.cert_swaps_total, 2);
	ck_assert_int_eq(c.has_refused, 0);
	snprintf(text, sizeof(text), "%s,\"refused_rate_total\":4,\"refused_concurrency_total\":1}", base);
	ck_assert_int_eq(bridge_ctl_parse(text, strlen(text), NOW, 30, &c), 0);
	ck_assert_int_eq(c.has_refused, 1);
	ck_assert_uint_eq(c.v.refused_rate_total, 4);
	ck_assert_uint_eq(c.v.refused_concurrency_total, 1);
	snprintf(text, sizeof(text), "%s,\"removal_held\":\"3\"}", base);
	ck_assert_int_eq(bridge_ctl_parse(text, strlen(text), NOW, 30, &c), -1);
	ck_assert_int_eq(c.up, 0);
	ck_assert_ptr_nonnull(strstr(c.why, "removal_held"));
	snprintf(text, sizeof(text), "%s,\"cert_swaps_total\":-1}", base);
	ck_assert_int_eq(bridge_ctl_parse(text, strlen(text), NOW, 30, &c), -1);
}
END_TEST

START_TEST(test_redis_down_is_still_up)
{
	/* The controller is up and says Redis is not: both facts are exported. */
	char text[1024];
	struct bridge_ctl_status c;
	ctl_json(text, sizeof(text), NOW, "false");
	ck_assert_int_eq(bridge_ctl_parse(text, strlen(text), NOW, 30, &c), 0);
	ck_assert_int_eq(c.up, 1);
	ck_assert_int_eq(c.v.redis_ok, 0);
}
END_TEST

static const struct {
	const char *text;
	const char *why; /* a part of the reason */
} garbled[] = {
	{"", "not JSON"},
	{"{", "not JSON"},
	{"not json", "not JSON"},
	{"[]", "(top level)"},
	{"null", "not JSON"}, /* only an object or array is a JSON text to jansson */
	{"{}", "missing"},
	{"{\"redis_ok\":1}", "redis_ok"},
	{"{\"redis_ok\":true,\"haproxy_ok\":true,\"kept_on_empty\":false,\"time\":\"now\"}", "time"},
	{"{\"redis_ok\":true,\"haproxy_ok\":true,\"kept_on_empty\":false,\"time\":1764180000,\"last_sync\":-1}",
	 "last_sync"},
	{"{\"redis_ok\":true,\"haproxy_ok\":true,\"kept_on_empty\":false,\"time\":1764180000,\"last_sync\":0,"
	 "\"live_nodes\":1.5}",
	 "live_nodes"},
	{"{\"redis_ok\":true,\"redis_ok\":false}", "not JSON"}, /* duplicate key */
};

START_TEST(test_garbled_table)
{
	struct bridge_ctl_status c;
	memset(&c, 0x5a, sizeof(c));
	const char *text = garbled[_i].text;
	ck_assert_int_eq(bridge_ctl_parse(text, strlen(text), NOW, 30, &c), -1);
	ck_assert_int_eq(c.up, 0);
	ck_assert_uint_eq(c.v.live_nodes, 0);
	ck_assert_msg(strstr(c.why, garbled[_i].why) != NULL, "why \"%s\" lacks \"%s\"", c.why, garbled[_i].why);
	ck_assert_ptr_null(strchr(c.why, '\n'));
}
END_TEST

START_TEST(test_cut_at_every_byte)
{
	char text[1024];
	struct bridge_ctl_status c;
	ctl_json(text, sizeof(text), NOW, "true");
	for (size_t cut = 0; cut < strlen(text); cut++)
		ck_assert_int_eq(bridge_ctl_parse(text, cut, NOW, 30, &c), -1);
}
END_TEST

START_TEST(test_embedded_nul)
{
	char text[1024];
	struct bridge_ctl_status c;
	ctl_json(text, sizeof(text), NOW, "true");
	size_t len = strlen(text);
	text[len - 1] = '\0'; /* the closing brace becomes a NUL inside the buffer */
	ck_assert_int_eq(bridge_ctl_parse(text, len, NOW, 30, &c), -1);
}
END_TEST

static const struct {
	long long age; /* now - time */
	int up;
} ages[] = {
	{0, 1}, {30, 1}, {31, 0}, {100000, 0}, {-30, 1}, {-31, 0},
};

START_TEST(test_age_table)
{
	char text[1024];
	struct bridge_ctl_status c;
	ctl_json(text, sizeof(text), NOW - ages[_i].age, "true");
	ck_assert_int_eq(bridge_ctl_parse(text, strlen(text), NOW, 30, &c), ages[_i].up ? 0 : -1);
	ck_assert_int_eq(c.up, ages[_i].up);
	if (!ages[_i].up)
		ck_assert_ptr_nonnull(strstr(c.why, ages[_i].age > 0 ? "stale" : "future"));
}
END_TEST

START_TEST(test_huge_numbers)
{
	const char *text =
		"{\"time\":1764180000,\"last_sync\":9223372036854775807,\"redis_ok\":true,\"haproxy_ok\":true,"
		"\"kept_on_empty\":true,\"live_nodes\":0,\"servers\":0,\"leaving\":0,\"held_by_operator\":0,"
		"\"rejected_members_total\":9223372036854775807,\"redis_errors_total\":0,"
		"\"haproxy_errors_total\":0,\"actions_total\":0,\"action_errors_total\":0}";
	struct bridge_ctl_status c;
	ck_assert_int_eq(bridge_ctl_parse(text, strlen(text), NOW, 30, &c), 0);
	ck_assert_uint_eq(c.v.rejected_members_total, 9223372036854775807ull);
	ck_assert_int_eq(c.v.kept_on_empty, 1);
}
END_TEST

static Suite *bridge_ctl_suite(void)
{
	Suite *s = suite_create("bridge_ctl");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_controller_output_read_whole);
	tcase_add_test(tc, test_optional_fields);
	tcase_add_test(tc, test_redis_down_is_still_up);
	tcase_add_loop_test(tc, test_garbled_table, 0, N_ELEMS(garbled));
	tcase_add_test(tc, test_cut_at_every_byte);
	tcase_add_test(tc, test_embedded_nul);
	tcase_add_loop_test(tc, test_age_table, 0, N_ELEMS(ages));
	tcase_add_test(tc, test_huge_numbers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(bridge_ctl_suite()); }
