/* Agent answers and override parsing: table-driven. */
#include <check.h>
#include <string.h>

#include "agent_policy.h"
#include "unit.h"

static const struct {
	const char *text;
	int ok;
	enum agent_override_kind kind;
	unsigned pct;
} overrides[] = {
	{"drain", 1, AGENT_OVERRIDE_DRAIN, 0},
	{"maint", 1, AGENT_OVERRIDE_MAINT, 0},
	{"0%", 1, AGENT_OVERRIDE_WEIGHT, 0},
	{"50%", 1, AGENT_OVERRIDE_WEIGHT, 50},
	{"100%", 1, AGENT_OVERRIDE_WEIGHT, 100},
	{"101%", 0, 0, 0},
	{"1000%", 0, 0, 0},
	{"50", 0, 0, 0},
	{"%", 0, 0, 0},
	{"-5%", 0, 0, 0},
	{" 50%", 0, 0, 0},
	{"50% ", 0, 0, 0},
	{"ready", 0, 0, 0},
	{"DRAIN", 0, 0, 0},
	{"drain\n", 0, 0, 0},
	{"", 0, 0, 0},
	{"up 50%", 0, 0, 0},
	{"5%0", 0, 0, 0},
};

START_TEST(test_override_parse)
{
	struct agent_override o;
	char err[128] = "";
	const char *t = overrides[_i].text;
	int rc = agent_override_parse(t, strlen(t), &o, err, sizeof(err));
	ck_assert_msg((rc == 0) == overrides[_i].ok, "\"%s\": rc %d (%s)", t, rc, err);
	if (rc == 0) {
		ck_assert_int_eq(o.kind, overrides[_i].kind);
		ck_assert_uint_eq(o.pct, overrides[_i].pct);
	} else {
		ck_assert_msg(err[0] != '\0', "\"%s\": no reason", t);
	}
}
END_TEST

/* A NUL inside the length is data, and refused. */
START_TEST(test_override_nul)
{
	struct agent_override o;
	char err[128];
	ck_assert_int_eq(agent_override_parse("50%\0", 4, &o, err, sizeof(err)), -1);
	ck_assert_int_eq(agent_override_parse("dr\0in", 5, &o, err, sizeof(err)), -1);
}
END_TEST

static const struct {
	struct agent_view v;
	uint64_t now;
	const char *want;
} answers[] = {
	{{.leaving = 1, .first_seen_ms = 0}, 100000, "drain\n"},
	{{.leaving = 1, .override = {AGENT_OVERRIDE_WEIGHT, 50}}, 100000, "drain\n"},
	{{.first_seen_ms = 1000}, 1000, "up 10%\n"},
	{{.first_seen_ms = 1000}, 6000, "up 55%\n"},
	{{.first_seen_ms = 1000}, 11000, "up 100%\n"},
	{{.first_seen_ms = 1000}, 500, "up 10%\n"}, /* clock before first_seen: start of the ramp */
	{{.first_seen_ms = 0, .override = {AGENT_OVERRIDE_DRAIN, 0}}, 100000, "up 0%\n"},
	{{.first_seen_ms = 0, .override = {AGENT_OVERRIDE_MAINT, 0}}, 100000, "up 0%\n"},
	{{.first_seen_ms = 99000, .override = {AGENT_OVERRIDE_WEIGHT, 70}}, 100000, "up 70%\n"},
};

START_TEST(test_answer)
{
	char out[32];
	agent_policy_answer(&answers[_i].v, answers[_i].now, 10000, 10, out, sizeof(out));
	ck_assert_str_eq(out, answers[_i].want);
	/* The agent has news exactly when the answer is not the steady "up 100%". */
	ck_assert_int_eq(agent_policy_has_news(&answers[_i].v, answers[_i].now, 10000, 10),
			 strcmp(answers[_i].want, "up 100%\n") != 0);
}
END_TEST

/* No warm-up configured: full weight at once; a start of 0% still answers 1% (0 would drain). */
START_TEST(test_answer_no_warmup)
{
	char out[32];
	struct agent_view v = {.first_seen_ms = 5000};
	agent_policy_answer(&v, 5000, 0, 10, out, sizeof(out));
	ck_assert_str_eq(out, "up 100%\n");
	agent_policy_answer(&v, 5000, 10000, 0, out, sizeof(out));
	ck_assert_str_eq(out, "up 1%\n");
	agent_policy_answer(&v, 5000, 10000, 100, out, sizeof(out));
	ck_assert_str_eq(out, "up 100%\n");
	ck_assert_int_eq(agent_policy_has_news(&v, 5000, 0, 10), 0);
	ck_assert_int_eq(agent_policy_has_news(&v, 5000, 10000, 0), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("agent_policy");
	TCase *tc = tcase_create("agent_policy");
	tcase_add_loop_test(tc, test_override_parse, 0, N_ELEMS(overrides));
	tcase_add_test(tc, test_override_nul);
	tcase_add_loop_test(tc, test_answer, 0, N_ELEMS(answers));
	tcase_add_test(tc, test_answer_no_warmup);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
