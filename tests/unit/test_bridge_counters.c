/* bridge_counters: exported counters never decrease while the bridge runs — HAProxy reloads and
 * restarts, a node deleted and added again, a server id change — and forgotten series. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge_counters.h"
#include "bridge_stats.h"
#include "unit.h"

/* Updates a 1-counter series and returns the exported value. */
static unsigned long long up1(struct bridge_counters *m, const char *key, unsigned long long instance,
			      unsigned long long raw)
{
	unsigned long long out = 0;
	ck_assert_int_eq(bridge_counters_update(m, key, instance, &raw, &out), 0);
	return out;
}

/* One round with one series. */
static unsigned long long round1(struct bridge_counters *m, unsigned long long worker, time_t now, const char *key,
				 unsigned long long instance, unsigned long long raw)
{
	bridge_counters_begin(m, worker);
	unsigned long long out = up1(m, key, instance, raw);
	bridge_counters_end(m, now, 3600);
	return out;
}

/* A sequence of raw values of one series (same worker, same server) and what is exported. */
static const struct {
	unsigned long long raw[6], want[6];
} sequences[] = {
	{{0, 1, 2, 5, 5, 9}, {0, 1, 2, 5, 5, 9}},   /* plain growth */
	{{5, 2, 3, 0, 1, 1}, {5, 7, 8, 8, 9, 9}},   /* drops: each one adds the last value seen */
	{{7, 7, 0, 0, 7, 8}, {7, 7, 7, 7, 14, 15}}, /* reset to 0, then back over the old value */
	{{1, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1}},   /* a deleted node's counter stays at its last value */
};

START_TEST(test_sequence_table)
{
	struct bridge_counters *m = bridge_counters_new(1);
	ck_assert_ptr_nonnull(m);
	for (size_t i = 0; i < 6; i++)
		ck_assert_uint_eq(round1(m, 1, (time_t)i, "n", 1, sequences[_i].raw[i]), sequences[_i].want[i]);
	bridge_counters_free(m);
}
END_TEST

START_TEST(test_worker_change_rebases_even_when_raw_grows)
{
	/* A reload between two scrapes: the new worker's chkfail already passed the old value. */
	struct bridge_counters *m = bridge_counters_new(1);
	ck_assert_uint_eq(round1(m, 1, 0, "n", 1, 3), 3);
	ck_assert_uint_eq(round1(m, 2, 1, "n", 1, 5), 8);
	ck_assert_uint_eq(round1(m, 2, 2, "n", 1, 6), 9);
	bridge_counters_free(m);
}
END_TEST

START_TEST(test_instance_change_rebases)
{
	/* Deleted and added again with a new server id between two scrapes. */
	struct bridge_counters *m = bridge_counters_new(1);
	ck_assert_uint_eq(round1(m, 1, 0, "n", 4, 10), 10);
	ck_assert_uint_eq(round1(m, 1, 1, "n", 9, 12), 22);
	ck_assert_uint_eq(round1(m, 1, 2, "n", 9, 13), 23);
	bridge_counters_free(m);
}
END_TEST

START_TEST(test_absent_then_back_continues)
{
	/* Removed for a while (absent from rounds), then re-added from 0: continues. */
	struct bridge_counters *m = bridge_counters_new(1);
	ck_assert_uint_eq(round1(m, 1, 0, "n", 1, 4), 4);
	for (time_t t = 1; t < 100; t++)
		ck_assert_uint_eq(round1(m, 1, t, "other", 1, 0), 0);
	ck_assert_uint_eq(bridge_counters_size(m), 2);
	ck_assert_uint_eq(round1(m, 1, 100, "n", 1, 1), 5);
	bridge_counters_free(m);
}
END_TEST

START_TEST(test_forgotten_after_forget_s)
{
	struct bridge_counters *m = bridge_counters_new(1);
	bridge_counters_begin(m, 1);
	ck_assert_uint_eq(up1(m, "gone", 1, 4), 4);
	ck_assert_uint_eq(up1(m, "stays", 1, 4), 4);
	bridge_counters_end(m, 1000, 60);
	bridge_counters_begin(m, 1);
	ck_assert_uint_eq(up1(m, "stays", 1, 4), 4);
	bridge_counters_end(m, 1060, 60); /* exactly forget_s: kept */
	ck_assert_uint_eq(bridge_counters_size(m), 2);
	bridge_counters_begin(m, 1);
	ck_assert_uint_eq(up1(m, "stays", 1, 4), 4);
	bridge_counters_end(m, 1061, 60);
	ck_assert_uint_eq(bridge_counters_size(m), 1);
	/* Back after being forgotten: starts again from HAProxy's value. */
	ck_assert_uint_eq(round1(m, 1, 1062, "gone", 1, 1), 1);
	bridge_counters_free(m);
}
END_TEST

START_TEST(test_duplicate_in_round)
{
	struct bridge_counters *m = bridge_counters_new(2);
	unsigned long long raw[2] = {3, 4}, out[2];
	bridge_counters_begin(m, 1);
	ck_assert_int_eq(bridge_counters_update(m, "n", 1, raw, out), 0);
	raw[0] = 0, raw[1] = 0; /* the second row with this label does not reset anything */
	ck_assert_int_eq(bridge_counters_update(m, "n", 2, raw, out), 1);
	ck_assert_uint_eq(out[0], 3);
	ck_assert_uint_eq(out[1], 4);
	bridge_counters_end(m, 0, 60);
	bridge_counters_begin(m, 1);
	raw[0] = 3, raw[1] = 4;
	ck_assert_int_eq(bridge_counters_update(m, "n", 1, raw, out), 0);
	ck_assert_uint_eq(out[0], 3);
	bridge_counters_free(m);
}
END_TEST

START_TEST(test_many_series_grow_table)
{
	struct bridge_counters *m = bridge_counters_new(4);
	char key[32];
	unsigned long long raw[4], out[4];
	for (unsigned r = 0; r < 3; r++) {
		bridge_counters_begin(m, 1);
		for (unsigned i = 0; i < 10000; i++) {
			snprintf(key, sizeof(key), "10.0.%u.%u:7000", i / 250, i % 250);
			/* Round 1 drops every value: exported values still go up by the new raw. */
			for (unsigned k = 0; k < 4; k++)
				raw[k] = r == 1 ? 1 : (unsigned long long)(i + k + 5 + r);
			ck_assert_int_eq(bridge_counters_update(m, key, i, raw, out), 0);
			unsigned long long want = r == 0 ? i + 5 : r == 1 ? i + 6 : i + 5 + i + 7;
			ck_assert_uint_eq(out[0], want);
		}
		bridge_counters_end(m, r, 60);
	}
	ck_assert_uint_eq(bridge_counters_size(m), 10000);
	bridge_counters_free(m);
}
END_TEST

START_TEST(test_new_bad_arguments)
{
	ck_assert_ptr_null(bridge_counters_new(0));
	ck_assert_ptr_null(bridge_counters_new(BRIDGE_COUNTERS_MAX + 1));
	bridge_counters_free(NULL);
}
END_TEST

static const struct {
	long pid;
	long long start;
	int same; /* as the worker (pid 100, started at 5000) */
} workers[] = {
	{100, 5000, 1}, {100, 5002, 1}, {100, 4998, 1}, {100, 5003, 0}, {100, 4997, 0}, {101, 5000, 0}, {1, 5000, 0},
};

START_TEST(test_worker_id_table)
{
	unsigned long long first = bridge_counters_worker_id(100, 5000, 0);
	unsigned long long id = bridge_counters_worker_id(workers[_i].pid, workers[_i].start, first);
	ck_assert_int_eq(id == first, workers[_i].same);
}
END_TEST

/* A snapshot with one frontend and two nodes. */
static void snap_fill(struct bridge_snapshot *s, unsigned long long stot, unsigned long long chkfail, unsigned sid)
{
	bridge_snapshot_clear(s);
	s->fe_found = 1;
	s->fe_stot = stot;
	s->fe_ssl_fail = stot / 2;
	s->n_nodes = 2;
	s->nodes = calloc(2, sizeof(*s->nodes));
	ck_assert_ptr_nonnull(s->nodes);
	s->nodes[0] = (struct bridge_node){.label = strdup("10.0.0.1:7000"),
					   .sid = sid,
					   .chkfail = chkfail,
					   .stot = stot,
					   .econ = 1,
					   .chkdown = 1};
	s->nodes[1] = (struct bridge_node){.label = strdup("10.0.0.1:7000"), .sid = 99, .chkfail = 0, .skip = 1};
}

START_TEST(test_apply_across_restart)
{
	struct bridge_counters *fe = bridge_counters_new(2), *be = bridge_counters_new(4);
	struct bridge_snapshot s = {0};
	snap_fill(&s, 10, 4, 1);
	ck_assert_int_eq(bridge_counters_apply(fe, be, &s, 1, 0, 60), 0);
	ck_assert_uint_eq(s.fe_stot, 10);
	ck_assert_uint_eq(s.nodes[0].chkfail, 4);
	ck_assert_uint_eq(s.nodes[1].chkfail, 0); /* a skipped duplicate is left alone */
	/* HAProxy restarted (new worker): everything starts again from small raw values. */
	snap_fill(&s, 2, 1, 1);
	ck_assert_int_eq(bridge_counters_apply(fe, be, &s, 2, 1, 60), 0);
	ck_assert_uint_eq(s.fe_stot, 12);
	ck_assert_uint_eq(s.fe_ssl_fail, 6);
	ck_assert_uint_eq(s.nodes[0].chkfail, 5);
	ck_assert_uint_eq(s.nodes[0].stot, 12);
	ck_assert_uint_eq(s.nodes[0].econ, 2);
	ck_assert_uint_eq(s.nodes[0].chkdown, 2);
	ck_assert_uint_eq(bridge_counters_size(be), 1);
	bridge_snapshot_clear(&s);
	bridge_counters_free(fe);
	bridge_counters_free(be);
}
END_TEST

/* The frontend's third counter (connections refused by the limits) across a restart; a table
 * of two counters, as callers made before it existed, leaves it raw. */
START_TEST(test_apply_refused_counter)
{
	struct bridge_counters *fe = bridge_counters_new(3), *be = bridge_counters_new(4);
	struct bridge_counters *fe2 = bridge_counters_new(2);
	struct bridge_snapshot s = {0};
	snap_fill(&s, 10, 0, 1);
	s.fe_dcon = 40;
	ck_assert_int_eq(bridge_counters_apply(fe, be, &s, 1, 0, 60), 0);
	ck_assert_uint_eq(s.fe_dcon, 40);
	snap_fill(&s, 11, 0, 1);
	s.fe_dcon = 3; /* new worker: HAProxy counts from 0 again */
	ck_assert_int_eq(bridge_counters_apply(fe, be, &s, 2, 1, 60), 0);
	ck_assert_uint_eq(s.fe_dcon, 43);
	ck_assert_uint_eq(s.fe_stot, 21);
	snap_fill(&s, 5, 0, 1);
	s.fe_dcon = 2;
	ck_assert_int_eq(bridge_counters_apply(fe2, be, &s, 3, 2, 60), 0);
	ck_assert_uint_eq(s.fe_dcon, 2);
	bridge_snapshot_clear(&s);
	bridge_counters_free(fe);
	bridge_counters_free(fe2);
	bridge_counters_free(be);
}
END_TEST

/* The frontend's fourth counter (bytes held back by the Lua bandwidth limit) across a reload;
 * a table of three counters leaves it raw. */
START_TEST(test_apply_throttled_counter)
{
	struct bridge_counters *fe = bridge_counters_new(4), *be = bridge_counters_new(4);
	struct bridge_counters *fe3 = bridge_counters_new(3);
	struct bridge_snapshot s = {0};
	snap_fill(&s, 10, 0, 1);
	s.bw_throttled = 5000;
	ck_assert_int_eq(bridge_counters_apply(fe, be, &s, 1, 0, 60), 0);
	ck_assert_uint_eq(s.bw_throttled, 5000);
	snap_fill(&s, 11, 0, 1);
	s.bw_throttled = 700; /* new worker: the Lua state starts again from 0 */
	ck_assert_int_eq(bridge_counters_apply(fe, be, &s, 2, 1, 60), 0);
	ck_assert_uint_eq(s.bw_throttled, 5700);
	ck_assert_uint_eq(s.fe_stot, 21);
	snap_fill(&s, 5, 0, 1);
	s.bw_throttled = 3;
	ck_assert_int_eq(bridge_counters_apply(fe3, be, &s, 3, 2, 60), 0);
	ck_assert_uint_eq(s.bw_throttled, 3);
	bridge_snapshot_clear(&s);
	bridge_counters_free(fe);
	bridge_counters_free(fe3);
	bridge_counters_free(be);
}
END_TEST

static Suite *bridge_counters_suite(void)
{
	Suite *s = suite_create("bridge_counters");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_sequence_table, 0, N_ELEMS(sequences));
	tcase_add_test(tc, test_worker_change_rebases_even_when_raw_grows);
	tcase_add_test(tc, test_instance_change_rebases);
	tcase_add_test(tc, test_absent_then_back_continues);
	tcase_add_test(tc, test_forgotten_after_forget_s);
	tcase_add_test(tc, test_duplicate_in_round);
	tcase_add_test(tc, test_many_series_grow_table);
	tcase_add_test(tc, test_new_bad_arguments);
	tcase_add_loop_test(tc, test_worker_id_table, 0, N_ELEMS(workers));
	tcase_add_test(tc, test_apply_across_restart);
	tcase_add_test(tc, test_apply_refused_counter);
	tcase_add_test(tc, test_apply_throttled_counter);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(bridge_counters_suite()); }
