/* A node's failed health checks, seen through `show stat` (chkfail is what /metrics exports as
 * lb_backend_health_check_failures): every failure of a node in service counts, and it goes DOWN
 * only after MCS_CHECK_FALL of them in a row, whether it joined a moment ago (the controller
 * starts its checks from health "up") or after a long run of passing checks. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define CHECK_FALL 3       /* the harness's MCS_CHECK_FALL */
#define CHECK_INTER_MS 300 /* short, so a run of passing checks takes seconds */

static void setup(void) { h_gateway_start(&(struct h_opts){.poll_ms = 250, .check_inter_ms = CHECK_INTER_MS}); }

static void teardown(void) { h_gateway_stop(); }

/* One server's row of `show stat`, read in one reply so its fields belong together. */
struct row {
	char status[32];       /* "UP", "UP 2/3" (going down), "DOWN", ... */
	char check_status[16]; /* "INI", "L4OK", "L4CON", ... */
	long chkfail, chkdown, lastchg;
};

static long num(const char *s) { return s[0] >= '0' && s[0] <= '9' ? strtol(s, NULL, 10) : -1; }

/* The columns row_read keeps, in this order. */
static const char *const cols[] = {"svname", "status", "check_status", "chkfail", "chkdown", "lastchg"};
#define N_COLS (int)(sizeof(cols) / sizeof(cols[0]))

/* Splits a CSV line in place into at most max fields; returns how many. */
static int split(char *line, char **f, int max)
{
	int n = 0;
	for (char *tok; n < max && (tok = strsep(&line, ",")) != NULL;)
		f[n++] = tok;
	return n;
}

/* Fills r from the row of backend mcs named name. 0, or -1 (no such row, no answer). */
static int row_read(const char *name, struct row *r)
{
	char *reply = h_hap_cmd(H.stats_sock, "show stat mcs 4 -1"), *save = NULL, *f[128];
	int col[N_COLS], found = 0, n;
	for (int c = 0; c < N_COLS; c++)
		col[c] = -1;
	for (char *line = reply ? strtok_r(reply, "\n", &save) : NULL; line != NULL && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# ", 2) == 0) {
			n = split(line + 2, f, 128);
			for (int c = 0; c < N_COLS; c++)
				for (int i = 0; i < n; i++)
					col[c] = strcmp(f[i], cols[c]) == 0 ? i : col[c];
			continue;
		}
		n = split(line, f, 128);
		int ok = 1;
		for (int c = 0; c < N_COLS; c++)
			ok = ok && col[c] >= 0 && col[c] < n;
		if (!ok || strcmp(f[col[0]], name) != 0)
			continue;
		snprintf(r->status, sizeof(r->status), "%s", f[col[1]]);
		snprintf(r->check_status, sizeof(r->check_status), "%s", f[col[2]]);
		r->chkfail = num(f[col[3]]), r->chkdown = num(f[col[4]]), r->lastchg = num(f[col[5]]);
		found = 1;
	}
	free(reply);
	return found ? 0 : -1;
}

/* What a node's checks did from now until it was DOWN (or timeout_ms passed). */
struct fall {
	struct row down;  /* the first row seen DOWN (the last one seen, when never) */
	int went_down;    /* 0: still up at the timeout */
	long up_failures; /* the most failures seen while still UP */
	int rows;         /* rows looked at */
};

/* Looks at the row once: 1 when it is DOWN (kept in w->down), else notes its failures. */
static int fall_step(const char *name, struct fall *w)
{
	struct row r;
	if (row_read(name, &r) == -1)
		return 0;
	w->rows++;
	w->down = r;
	if (strncmp(r.status, "DOWN", 4) == 0)
		return 1;
	if (r.chkfail > w->up_failures)
		w->up_failures = r.chkfail;
	return 0;
}

static struct fall watch_fall(const char *name, unsigned timeout_ms)
{
	struct fall w = {.rows = 0};
	w.went_down = H_WAIT(timeout_ms, fall_step(name, &w));
	printf("%s: %d rows; UP with up to %ld failures; %s with chkfail %ld, chkdown %ld (%s)\n", name, w.rows,
	       w.up_failures, w.went_down ? "then DOWN" : "never DOWN", w.down.chkfail, w.down.chkdown,
	       w.down.check_status);
	return w;
}

/* The node went DOWN with exactly CHECK_FALL failures counted, after at least one failure that
 * left it UP, and nothing more is counted while it stays down. */
static void assert_fall(const char *name, const struct fall *w)
{
	ck_assert_msg(w->went_down, "%s never went DOWN (status %s, chkfail %ld)", name, w->down.status,
		      w->down.chkfail);
	ck_assert_msg(w->down.chkfail == CHECK_FALL, "%s went DOWN with %ld failures counted, want %d", name,
		      w->down.chkfail, CHECK_FALL);
	ck_assert_msg(w->up_failures >= 1, "%s was never seen UP after a failed check: its first failure took it down",
		      name);
	ck_assert_int_eq(w->down.chkdown, 1);
	struct row r;
	ck_assert_msg(H_HOLDS(4 * CHECK_INTER_MS, row_read(name, &r) == 0 && r.chkfail == w->down.chkfail &&
							  strncmp(r.status, "DOWN", 4) == 0),
		      "%s after DOWN: status %s, chkfail %ld (was %ld)", name, r.status, r.chkfail, w->down.chkfail);
}

/* Not one check passes: a member nothing listens on, heartbeated like a live node. */
START_TEST(test_dead_from_the_start)
{
	char dead[H_NAME_MAX];
	struct row r;
	snprintf(dead, sizeof(dead), "127.0.0.1:%d", h_free_port());
	ck_assert_msg(h_hb_add(dead) == 0, "%s", h_error());
	ck_assert_msg(H_WAIT(5000, row_read(dead, &r) == 0), "the controller never added %s", dead);
	struct fall w = watch_fall(dead, 10 * CHECK_INTER_MS * CHECK_FALL);
	assert_fall(dead, &w);
}
END_TEST

/* A real node killed the moment it is a ready server: at most a check or two passed. */
START_TEST(test_dies_right_after_joining)
{
	struct h_node node;
	ck_assert_msg(h_node_start(&node) == 0 && h_hb_add(node.name) == 0, "%s", h_error());
	ck_assert_msg(H_WAIT(5000, h_srv_ready(node.name)), "%s never became ready", node.name);
	kill(node.proc->pid, SIGKILL);
	h_proc_stop(node.proc, 2000);
	struct fall w = watch_fall(node.name, 10 * CHECK_INTER_MS * CHECK_FALL);
	assert_fall(node.name, &w);
}
END_TEST

/* A node that passed its checks for seconds (lastchg counts whole seconds since it went UP;
 * at CHECK_INTER_MS that is ten passed checks or more), then dies. */
START_TEST(test_dies_after_passing_checks)
{
	struct h_node node;
	struct row r;
	ck_assert_msg(h_node_start(&node) == 0 && h_hb_add(node.name) == 0, "%s", h_error());
	ck_assert_msg(H_WAIT(15000, row_read(node.name, &r) == 0 && strcmp(r.status, "UP") == 0 && r.lastchg >= 3 &&
					    strcmp(r.check_status, "L4OK") == 0),
		      "%s did not pass its checks for 3 s (status %s, lastchg %ld, check %s)", node.name, r.status,
		      r.lastchg, r.check_status);
	ck_assert_int_eq(r.chkfail, 0);
	kill(node.proc->pid, SIGKILL);
	h_proc_stop(node.proc, 2000);
	struct fall w = watch_fall(node.name, 10 * CHECK_INTER_MS * CHECK_FALL);
	assert_fall(node.name, &w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("check_fall");
	TCase *tc = tcase_create("check_fall");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dead_from_the_start);
	tcase_add_test(tc, test_dies_right_after_joining);
	tcase_add_test(tc, test_dies_after_passing_checks);
	suite_add_tcase(s, tc);
	return h_main(s);
}
