/* common/log: MCS_LOG_FORMAT=json makes every line one JSON object (time, program, level, msg)
 * whatever the message holds (quotes, backslashes, control bytes, bytes that are not UTF-8), and
 * the text form is unchanged. Lines are read back from stderr and parsed. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

/* Runs log_info("%s", msg) with stderr sent to a file, returns what was written (malloc'd). */
static char *logged(enum log_format format, enum log_level level, const char *msg)
{
	char path[] = "/tmp/mcs-test-log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ck_assert(fd != -1 && saved != -1);
	fflush(stderr);
	ck_assert_int_eq(dup2(fd, 2), 2);
	log_set_program("mcs-lb-test");
	log_set_format(format);
	log_set_level(LOG_LVL_DEBUG);
	log_msg(level, "%s", msg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char *text = calloc(1, 8192);
	ck_assert_ptr_nonnull(text);
	ck_assert(pread(fd, text, 8191, 0) >= 0);
	close(fd);
	unlink(path);
	return text;
}

static const struct {
	const char *msg;  /* logged */
	const char *want; /* "msg" read back from the JSON */
} msgs[] = {
	{"started: redis redis://127.0.0.1:6379", "started: redis redis://127.0.0.1:6379"},
	{"member \"a\\b\" refused", "member \"a\\b\" refused"},
	{"line\nbreak\ttab\x01 and ]}", "line\nbreak\ttab\x01 and ]}"},
	{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"}, /* UTF-8 kept */
	{"bad \xff\xfe end", "bad ?? end"},                                                         /* not UTF-8 */
	{"overlong \xc0\xaf cut \xe2\x82", "overlong ?? cut ??"}, /* overlong '/', a cut sequence */
	{"surrogate \xed\xa0\x80 big \xf4\x90\x80\x80", "surrogate ??? big ????"},
	{"", ""},
};

START_TEST(test_json_line)
{
	char *text = logged(LOG_FMT_JSON, LOG_LVL_WARN, msgs[_i].msg);
	size_t len = strlen(text);
	ck_assert_msg(len > 0 && text[len - 1] == '\n' && strchr(text, '\n') == text + len - 1, "not one line: %s",
		      text);
	json_error_t jerr;
	json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(json_is_object(o), "%s: %s", jerr.text, text);
	ck_assert_uint_eq(json_object_size(o), 4);
	ck_assert_str_eq(json_string_value(json_object_get(o, "msg")), msgs[_i].want);
	ck_assert_str_eq(json_string_value(json_object_get(o, "level")), "warn");
	ck_assert_str_eq(json_string_value(json_object_get(o, "program")), "mcs-lb-test");
	const char *t = json_string_value(json_object_get(o, "time"));
	struct tm tm;
	const char *rest = t ? strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	ck_assert_msg(rest != NULL && strlen(rest) == 5 && rest[0] == '.' && rest[4] == 'Z', "time \"%s\"", t);
	/* The fields in the order people read them, as HAProxy's JSON access log has them. */
	ck_assert_msg(strncmp(text, "{\"time\":", 8) == 0, "%s", text);
	json_decref(o);
	free(text);
}
END_TEST

START_TEST(test_text_unchanged)
{
	char *text = logged(LOG_FMT_TEXT, LOG_LVL_INFO, "plain \"words\"");
	const char *rest = strchr(text, ' ');
	ck_assert_ptr_nonnull(rest);
	ck_assert_str_eq(rest, " mcs-lb-test info: plain \"words\"\n");
	free(text);
}
END_TEST

/* The words of MCS_LOG_LEVEL and MCS_LOG_FORMAT (CFG_ENUM rows store the index) are the enums'. */
START_TEST(test_words)
{
	ck_assert_str_eq(log_level_words[LOG_LVL_ERR], "error");
	ck_assert_str_eq(log_level_words[LOG_LVL_WARN], "warn");
	ck_assert_str_eq(log_level_words[LOG_LVL_INFO], "info");
	ck_assert_str_eq(log_level_words[LOG_LVL_DEBUG], "debug");
	ck_assert_ptr_null(log_level_words[LOG_LVL_DEBUG + 1]);
	ck_assert_str_eq(log_format_words[LOG_FMT_TEXT], "text");
	ck_assert_str_eq(log_format_words[LOG_FMT_JSON], "json");
	ck_assert_ptr_null(log_format_words[LOG_FMT_JSON + 1]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	tcase_add_loop_test(tc, test_json_line, 0, N_ELEMS(msgs));
	tcase_add_test(tc, test_text_unchanged);
	tcase_add_test(tc, test_words);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
