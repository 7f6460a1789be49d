/* Agent-check framing: what HAProxy's agent-send "<server>/" parses to, what is refused (the
 * request is untrusted), and which reply lines the responder lets out (never "ready"). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "hap_cmd.h"
#include "unit.h"

static const char name100[] = "n123456789n123456789n123456789n123456789n123456789"
			      "n123456789n123456789n123456789n123456789n123456789";

static const struct {
	const char *buf;
	size_t len; /* 0: strlen(buf) */
	enum agent_req want;
	const char *name;
} reqs[] = {
	{"10.0.0.5:7000/", 0, AGENT_REQ_OK, "10.0.0.5:7000"},
	{"2001:db8::1:7000/", 0, AGENT_REQ_OK, "2001:db8::1:7000"},
	{"a/", 0, AGENT_REQ_OK, "a"},
	{"", 0, AGENT_REQ_MORE, NULL},
	{"10.0.0.5:70", 0, AGENT_REQ_MORE, NULL},
	{"10.0.0.5:7000", 0, AGENT_REQ_MORE, NULL},
	{"/", 0, AGENT_REQ_BAD, NULL},
	{"-x/", 0, AGENT_REQ_BAD, NULL},
	{"a b/", 0, AGENT_REQ_BAD, NULL},
	{"a;b/", 0, AGENT_REQ_BAD, NULL},
	{"a\n", 0, AGENT_REQ_MORE, NULL}, /* no terminator yet: bounded by size and deadline */
	{"a\n/", 0, AGENT_REQ_BAD, NULL},
	{"a/b", 0, AGENT_REQ_BAD, NULL},
	{"a//", 0, AGENT_REQ_BAD, NULL},
	{"a/\n", 0, AGENT_REQ_BAD, NULL},
	{"mcs/a/", 0, AGENT_REQ_BAD, NULL},
	{"a\0b/", 4, AGENT_REQ_BAD, NULL},
	{"caf\xc3\xa9/", 0, AGENT_REQ_BAD, NULL},
	{"GET / HTTP/1.0\r\n\r\n", 0, AGENT_REQ_BAD, NULL},
};

START_TEST(test_request_parse)
{
	char name[HAP_NAME_MAX + 1];
	size_t len = reqs[_i].len ? reqs[_i].len : strlen(reqs[_i].buf);
	memset(name, 'x', sizeof(name));
	enum agent_req got = agent_request_parse(reqs[_i].buf, len, name, sizeof(name));
	ck_assert_msg(got == reqs[_i].want, "request %d: got %d, want %d", _i, got, reqs[_i].want);
	if (reqs[_i].want == AGENT_REQ_OK)
		ck_assert_str_eq(name, reqs[_i].name);
}
END_TEST

/* Size bounds: the longest name parses; one byte more without '/' is refused, not waited for. */
START_TEST(test_request_bounds)
{
	char buf[AGENT_REQ_MAX + 8], name[HAP_NAME_MAX + 1];
	memcpy(buf, name100, 100);
	buf[100] = '/';
	ck_assert_int_eq(agent_request_parse(buf, 101, name, sizeof(name)), AGENT_REQ_OK);
	ck_assert_str_eq(name, name100);
	ck_assert_int_eq(agent_request_parse(buf, 101, name, 100), AGENT_REQ_BAD); /* no room for the name */
	ck_assert_int_eq(agent_request_parse(buf, 100, name, sizeof(name)), AGENT_REQ_MORE);
	buf[100] = 'n';
	ck_assert_int_eq(agent_request_parse(buf, 101, name, sizeof(name)), AGENT_REQ_BAD);
	buf[101] = '/';
	ck_assert_int_eq(agent_request_parse(buf, 102, name, sizeof(name)), AGENT_REQ_BAD);
}
END_TEST

START_TEST(test_request_format)
{
	char buf[AGENT_REQ_MAX + 1], name[HAP_NAME_MAX + 1];
	ck_assert_int_eq(agent_request_format(buf, sizeof(buf), "10.0.0.5:7000"), 0);
	ck_assert_str_eq(buf, "10.0.0.5:7000/");
	ck_assert(hap_agent_send_valid(buf));
	ck_assert_int_eq(agent_request_parse(buf, strlen(buf), name, sizeof(name)), AGENT_REQ_OK);
	ck_assert_str_eq(name, "10.0.0.5:7000");
	ck_assert_int_eq(agent_request_format(buf, sizeof(buf), name100), 0);
	ck_assert(hap_agent_send_valid(buf));
	ck_assert_int_eq(agent_request_format(buf, 101, name100), -1);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(agent_request_format(buf, sizeof(buf), "a b"), -1);
	ck_assert_int_eq(agent_request_format(buf, sizeof(buf), "a/b"), -1);
	ck_assert_int_eq(agent_request_format(buf, sizeof(buf), NULL), -1);
	ck_assert_str_eq(buf, "");
}
END_TEST

static const struct {
	const char *answer;
	int valid;
} answers[] = {
	{"up 100%\n", 1},
	{"up 0%\n", 1},
	{"drain\n", 1},
	{"maint\n", 1},
	{"down #leaving\n", 1},
	{"", 0},
	{"\n", 0},
	{"up 100%", 0},
	{"up\n100%\n", 0},
	{"up 100%\r\n", 0},
	{"ready\n", 0},
	{"up 100% ready\n", 0},
	{"READY\n", 0},
	{"up,Ready\n", 0},
	{"up\t100%\n", 0},
	{"up 100%\x7f\n", 0},
	{NULL, 0},
};

START_TEST(test_answer_valid)
{
	ck_assert_msg(agent_answer_valid(answers[_i].answer) == answers[_i].valid, "answer %d", _i);
}
END_TEST

START_TEST(test_answer_length)
{
	char a[AGENT_ANSWER_MAX + 1];
	memset(a, 'u', sizeof(a));
	a[AGENT_ANSWER_MAX - 2] = '\n';
	a[AGENT_ANSWER_MAX - 1] = '\0';
	ck_assert_int_eq(agent_answer_valid(a), 1);
	a[AGENT_ANSWER_MAX - 2] = 'u';
	a[AGENT_ANSWER_MAX - 1] = '\n';
	a[AGENT_ANSWER_MAX] = '\0';
	ck_assert_int_eq(agent_answer_valid(a), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("agent");
	TCase *tc = tcase_create("framing");
	tcase_add_loop_test(tc, test_request_parse, 0, (int)N_ELEMS(reqs));
	tcase_add_test(tc, test_request_bounds);
	tcase_add_test(tc, test_request_format);
	tcase_add_loop_test(tc, test_answer_valid, 0, (int)N_ELEMS(answers));
	tcase_add_test(tc, test_answer_length);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
