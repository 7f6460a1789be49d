/* Certificate hot reload, the pure decision: a changed pair waits one step and the settle time,
 * a pair changed again restarts the wait, and known pairs (served, refused) are left alone. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cert_watch.h"
#include "unit.h"

#define SETTLE 300

static struct cert_pair_sig sig(long long cert_mtime, long long key_mtime)
{
	struct cert_pair_sig s = {{0, 1, 10, 500, cert_mtime}, {0, 1, 11, 200, key_mtime}};
	return s;
}

START_TEST(test_unchanged_is_idle)
{
	struct cert_watch_state st = {.applied = sig(1, 1), .has_applied = 1};
	struct cert_pair_sig now = sig(1, 1);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(cert_watch_decide(&st, &now, 1000 * (uint64_t)i, SETTLE), CERT_WATCH_IDLE);
	ck_assert_int_eq(st.has_pending, 0);
}
END_TEST

START_TEST(test_change_settles_then_applies)
{
	struct cert_watch_state st = {.applied = sig(1, 1), .has_applied = 1};
	struct cert_pair_sig now = sig(2, 1);
	ck_assert_int_eq(cert_watch_decide(&st, &now, 1000, SETTLE), CERT_WATCH_WAIT);  /* first seen */
	ck_assert_int_eq(cert_watch_decide(&st, &now, 1100, SETTLE), CERT_WATCH_WAIT);  /* same, too soon */
	ck_assert_int_eq(cert_watch_decide(&st, &now, 1300, SETTLE), CERT_WATCH_APPLY); /* settled */
	/* The key follows while waiting: the wait starts again. */
	st = (struct cert_watch_state){.applied = sig(1, 1), .has_applied = 1};
	ck_assert_int_eq(cert_watch_decide(&st, &now, 1000, SETTLE), CERT_WATCH_WAIT);
	now = sig(2, 2);
	ck_assert_int_eq(cert_watch_decide(&st, &now, 1500, SETTLE), CERT_WATCH_WAIT);
	ck_assert_int_eq(cert_watch_decide(&st, &now, 1700, SETTLE), CERT_WATCH_WAIT);
	ck_assert_int_eq(cert_watch_decide(&st, &now, 1800, SETTLE), CERT_WATCH_APPLY);
}
END_TEST

/* Every field of the signature counts: same mtime but a new inode (rename) or size is a change. */
START_TEST(test_signature_fields)
{
	struct cert_pair_sig base = sig(1, 1), v[5];
	for (int i = 0; i < 5; i++)
		v[i] = base;
	v[0].cert.ino = 99;
	v[1].key.size = 201;
	v[2].cert.dev = 2;
	v[3].key.mtime_ns = 2;
	v[4].cert = (struct cert_file_sig){.err = 2}; /* ENOENT mid-rename */
	for (int i = 0; i < 5; i++) {
		struct cert_watch_state st = {.applied = base, .has_applied = 1};
		ck_assert_int_eq(cert_watch_decide(&st, &v[i], 0, SETTLE), CERT_WATCH_WAIT);
	}
}
END_TEST

START_TEST(test_refused_not_retried)
{
	struct cert_watch_state st = {.applied = sig(1, 1), .has_applied = 1, .refused = sig(2, 1), .has_refused = 1};
	struct cert_pair_sig bad = sig(2, 1), fixed = sig(2, 3), back = sig(1, 1);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(cert_watch_decide(&st, &bad, 1000 + 1000 * (uint64_t)i, SETTLE), CERT_WATCH_IDLE);
	ck_assert_int_eq(cert_watch_decide(&st, &fixed, 5000, SETTLE), CERT_WATCH_WAIT);
	ck_assert_int_eq(cert_watch_decide(&st, &fixed, 6000, SETTLE), CERT_WATCH_APPLY);
	/* Back to the served pair: nothing to do, the pending change is dropped. */
	ck_assert_int_eq(cert_watch_decide(&st, &back, 7000, SETTLE), CERT_WATCH_IDLE);
	ck_assert_int_eq(st.has_pending, 0);
}
END_TEST

/* Nothing known as served (the combined PEM older than the files): the pair is swapped in. */
START_TEST(test_nothing_applied)
{
	struct cert_watch_state st = {0};
	struct cert_pair_sig now = sig(1, 1);
	ck_assert_int_eq(cert_watch_decide(&st, &now, 0, SETTLE), CERT_WATCH_WAIT);
	ck_assert_int_eq(cert_watch_decide(&st, &now, SETTLE, SETTLE), CERT_WATCH_APPLY);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cert_watch");
	TCase *tc = tcase_create("decide");
	tcase_add_test(tc, test_unchanged_is_idle);
	tcase_add_test(tc, test_change_settles_then_applies);
	tcase_add_test(tc, test_signature_fields);
	tcase_add_test(tc, test_refused_not_retried);
	tcase_add_test(tc, test_nothing_applied);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
