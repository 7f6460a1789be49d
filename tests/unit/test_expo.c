/* expo: the Prometheus text format writer — label and help escaping, number formatting,
 * families, the sticky out-of-memory contract. Table-driven where it can be. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "unit.h"

/* Takes the text out of b and compares it with want. */
static void assert_text(struct expo_buf *b, const char *want)
{
	size_t len;
	char *text = expo_buf_take(b, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, want);
	ck_assert_uint_eq(len, strlen(want));
	free(text);
}

static const struct {
	const char *in, *out;
} escapes[] = {
	{"127.0.0.1:7000", "127.0.0.1:7000"},
	{"[::1]:7001", "[::1]:7001"},
	{"a\"b", "a\\\"b"},
	{"back\\slash", "back\\\\slash"},
	{"two\nlines", "two\\nlines"},
	{"\"\\\n", "\\\"\\\\\\n"},
	{"", ""},
	{"é utf-8 ✓", "é utf-8 ✓"},
};

START_TEST(test_escape_label_table)
{
	char out[64];
	size_t need = expo_escape_label(escapes[_i].in, out, sizeof(out));
	ck_assert_str_eq(out, escapes[_i].out);
	ck_assert_uint_eq(need, strlen(escapes[_i].out));
}
END_TEST

START_TEST(test_escape_label_cut_never_inside_escape)
{
	char out[4];
	/* a \" b: "a" fits, the 2-byte escape would end at 3 (no room for NUL): cut before it. */
	size_t need = expo_escape_label("a\"b", out, 3);
	ck_assert_uint_eq(need, 4);
	ck_assert_str_eq(out, "a");
	/* Nothing written at all with outlen 0. */
	out[0] = 'x';
	ck_assert_uint_eq(expo_escape_label("abc", out, 0), 3);
	ck_assert_int_eq(out[0], 'x');
	/* Once full, a later 1-byte character is not squeezed in. */
	ck_assert_uint_eq(expo_escape_label("\"z", out, 2), 3);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_sample_with_label_escaped)
{
	struct expo_buf b = EXPO_BUF_INIT;
	expo_write_u64(&b, "lb_backend_up", "backend", "evil\"} 1\nlb_x{a=\"", 1);
	assert_text(&b, "lb_backend_up{backend=\"evil\\\"} 1\\nlb_x{a=\\\"\"} 1\n");
}
END_TEST

START_TEST(test_sample_without_label)
{
	struct expo_buf b = EXPO_BUF_INIT;
	expo_write_u64(&b, "lb_active_connections", NULL, NULL, 0);
	expo_write_u64(&b, "lb_total_connections", NULL, NULL, 18446744073709551615ull);
	assert_text(&b, "lb_active_connections 0\nlb_total_connections 18446744073709551615\n");
}
END_TEST

static const struct {
	double v;
	const char *out;
} doubles[] = {
	{0.0, "x 0\n"}, {0.25, "x 0.25\n"}, {1764182400.0, "x 1764182400\n"}, {0.001, "x 0.001\n"}, {-2.5, "x -2.5\n"},
};

START_TEST(test_double_table)
{
	struct expo_buf b = EXPO_BUF_INIT;
	expo_write_double(&b, "x", NULL, NULL, doubles[_i].v);
	assert_text(&b, doubles[_i].out);
}
END_TEST

START_TEST(test_double_special)
{
	struct expo_buf b = EXPO_BUF_INIT;
	expo_write_double(&b, "x", NULL, NULL, NAN);
	expo_write_double(&b, "x", NULL, NULL, INFINITY);
	expo_write_double(&b, "x", NULL, NULL, -INFINITY);
	assert_text(&b, "x NaN\nx +Inf\nx -Inf\n");
}
END_TEST

START_TEST(test_family_help_escaped)
{
	struct expo_buf b = EXPO_BUF_INIT;
	expo_write_family(&b, "lb_backend_up", "gauge", "1 \"up\", C:\\ and\nnewline");
	/* HELP escapes backslash and newline only; quotes stay as they are. */
	assert_text(&b, "# HELP lb_backend_up 1 \"up\", C:\\\\ and\\nnewline\n# TYPE lb_backend_up gauge\n");
}
END_TEST

START_TEST(test_take_empty_and_clear)
{
	struct expo_buf b = EXPO_BUF_INIT;
	size_t len = 99;
	char *text = expo_buf_take(&b, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "");
	ck_assert_uint_eq(len, 0);
	free(text);
	expo_buf_append(&b, "abc", 3);
	expo_buf_clear(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(test_oom_is_sticky)
{
	struct expo_buf b = EXPO_BUF_INIT;
	expo_buf_append(&b, "abc", 3);
	b.oom = 1; /* as after a failed realloc */
	expo_buf_append(&b, "def", 3);
	ck_assert_uint_eq(b.len, 3);
	size_t len = 7;
	ck_assert_ptr_null(expo_buf_take(&b, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_grows_past_initial_capacity)
{
	struct expo_buf b = EXPO_BUF_INIT;
	char label[32];
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(label, sizeof(label), "10.0.%u.%u:7000", i / 250, i % 250);
		expo_write_u64(&b, "lb_backend_active_connections", "backend", label, i);
	}
	size_t len;
	char *text = expo_buf_take(&b, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	ck_assert_ptr_nonnull(strstr(text, "lb_backend_active_connections{backend=\"10.0.79.249:7000\"} 19999\n"));
	free(text);
}
END_TEST

static const struct {
	const char *name;
	int valid;
} names[] = {
	{"lb_backend_up", 1}, {"_x", 1}, {"a:b", 1}, {"A9", 1}, {"", 0}, {"9a", 0}, {"a-b", 0}, {"a b", 0}, {"é", 0},
};

START_TEST(test_name_valid_table)
{
	ck_assert_int_eq(expo_name_valid(names[_i].name), names[_i].valid);
}
END_TEST

static Suite *expo_suite(void)
{
	Suite *s = suite_create("expo");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_escape_label_table, 0, N_ELEMS(escapes));
	tcase_add_test(tc, test_escape_label_cut_never_inside_escape);
	tcase_add_test(tc, test_sample_with_label_escaped);
	tcase_add_test(tc, test_sample_without_label);
	tcase_add_loop_test(tc, test_double_table, 0, N_ELEMS(doubles));
	tcase_add_test(tc, test_double_special);
	tcase_add_test(tc, test_family_help_escaped);
	tcase_add_test(tc, test_take_empty_and_clear);
	tcase_add_test(tc, test_oom_is_sticky);
	tcase_add_test(tc, test_grows_past_initial_capacity);
	tcase_add_loop_test(tc, test_name_valid_table, 0, N_ELEMS(names));
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(expo_suite()); }
