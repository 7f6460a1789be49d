/* common/text: which bytes are control bytes (below 0x20 and DEL, not UTF-8's), the check that
 * finds one within a length, the copy that masks them, cut to its buffer, in place too. */
#include <check.h>
#include <string.h>

#include "text.h"
#include "unit.h"

static const struct {
	const char *s;
	size_t n; /* bytes looked at */
	int has;
} checks[] = {
	{"", 0, 0},
	{"plain words; and \\ too", 22, 0},
	{"caf\xc3\xa9 \xff", 7, 0}, /* bytes past 0x7f are not control bytes */
	{"~", 1, 0},
	{"line\n", 5, 1},
	{"line\n", 4, 0}, /* the control byte is past n */
	{"\ttab", 4, 1},
	{"cr\r", 3, 1},
	{"esc\x1b[0m", 7, 1},
	{"del\x7f", 4, 1},
	{"\x1f", 1, 1},
	{"nul\0after", 9, 1}, /* n counts, not the string's end */
};

START_TEST(test_has_control)
{
	ck_assert_msg(text_has_control(checks[_i].s, checks[_i].n) == checks[_i].has, "case %d", _i);
}
END_TEST

START_TEST(test_is_control)
{
	for (unsigned c = 0; c < 256; c++)
		ck_assert_int_eq(text_is_control((unsigned char)c), c < 0x20 || c == 0x7f);
}
END_TEST

static const struct {
	const char *in;
	size_t outlen;
	const char *out;
} copies[] = {
	{"plain", 16, "plain"},
	{"", 16, ""},
	{"a\nb\rc\td\x7f"
	 "e",
	 16, "a?b?c?d?e"},
	{"caf\xc3\xa9", 16, "caf\xc3\xa9"},
	{"0123456789", 6, "01234"}, /* cut to outlen - 1 bytes */
	{"0123456789", 1, ""},
	{"\n\n\n", 3, "??"},
};

START_TEST(test_printable_copy)
{
	char out[17]; /* one byte past the largest outlen, to see it untouched */
	memset(out, 'x', sizeof(out));
	size_t n = text_printable_copy(out, copies[_i].outlen, copies[_i].in);
	ck_assert_str_eq(out, copies[_i].out);
	ck_assert_uint_eq(n, strlen(copies[_i].out));
	ck_assert_int_eq(out[copies[_i].outlen], 'x'); /* nothing written past outlen */
}
END_TEST

/* Nothing is written into a buffer of no size. */
START_TEST(test_printable_copy_empty_buffer)
{
	char out = 'x';
	ck_assert_uint_eq(text_printable_copy(&out, 0, "abc"), 0);
	ck_assert_int_eq(out, 'x');
}
END_TEST

/* The in-place form: a message masked where it lies. */
START_TEST(test_printable_in_place)
{
	char msg[32] = "file \"a\nb\": bad\x1b";
	ck_assert_uint_eq(text_printable_copy(msg, sizeof(msg), msg), strlen("file \"a?b\": bad?"));
	ck_assert_str_eq(msg, "file \"a?b\": bad?");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("text");
	tcase_add_loop_test(tc, test_has_control, 0, N_ELEMS(checks));
	tcase_add_test(tc, test_is_control);
	tcase_add_loop_test(tc, test_printable_copy, 0, N_ELEMS(copies));
	tcase_add_test(tc, test_printable_copy_empty_buffer);
	tcase_add_test(tc, test_printable_in_place);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
