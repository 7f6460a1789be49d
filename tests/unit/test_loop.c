/* The event loop: timers fire in order of their time and once, descriptors call back when
 * readable, and whatever a callback removes is not called afterwards in the same dispatch.
 * Pipes stand in for sockets; timers are armed in the past so nothing waits. */
#include <check.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include "loop.h"
#include "mono.h"
#include "unit.h"

struct trace {
	char log[64]; /* one letter per callback, in call order */
	struct loop *l;
	int victim_timer; /* freed by the timer 'a' (when >= 0) */
	int victim_fd;    /* unwatched by the descriptor callback (when >= 0) */
	int rearm;        /* timer 'a' arms itself again at once */
};

static void trace_add(struct trace *t, char c)
{
	size_t n = strlen(t->log);
	if (n + 1 < sizeof(t->log))
		t->log[n] = c, t->log[n + 1] = '\0';
}

static struct trace tr;

static void on_a(struct loop *l, int timer, void *ctx)
{
	trace_add(&tr, *(const char *)ctx);
	if (tr.victim_timer >= 0)
		loop_timer_free(l, tr.victim_timer);
	if (tr.rearm)
		loop_timer_arm(l, timer, 0);
}

static void on_timer(struct loop *l, int timer, void *ctx) { trace_add(&tr, *(const char *)ctx); }

static void on_fd(struct loop *l, int fd, void *ctx)
{
	char buf[16];
	trace_add(&tr, *(const char *)ctx);
	if (read(fd, buf, sizeof(buf)) < 0)
		trace_add(&tr, '!');
	if (tr.victim_fd >= 0)
		loop_fd_del(l, tr.victim_fd);
}

static struct loop *setup(void)
{
	memset(&tr, 0, sizeof(tr));
	tr.victim_timer = tr.victim_fd = -1;
	struct loop *l = loop_new();
	ck_assert_ptr_nonnull(l);
	return l;
}

START_TEST(test_timers_in_order)
{
	struct loop *l = setup();
	uint64_t now = mono_now_ms();
	int a = loop_timer_new(l, on_timer, "a"), b = loop_timer_new(l, on_timer, "b");
	int c = loop_timer_new(l, on_timer, "c"), d = loop_timer_new(l, on_timer, "d");
	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(d, 0);
	loop_timer_arm(l, a, now - 3);
	loop_timer_arm(l, b, now - 1);
	loop_timer_arm(l, c, now - 5);
	loop_timer_arm(l, d, now + 60000); /* not due */
	ck_assert_int_eq(loop_run_once(l), 3);
	ck_assert_str_eq(tr.log, "cab");
	/* One-shot: fired timers are disarmed, the later one stays armed. */
	ck_assert_int_eq(loop_timer_armed(l, a, NULL), 0);
	uint64_t at = 0;
	ck_assert_int_eq(loop_timer_armed(l, d, &at), 1);
	ck_assert_uint_eq(at, now + 60000);
	loop_timer_disarm(l, d);
	ck_assert_int_eq(loop_run_once(l), 0); /* nothing armed, nothing watched: no wait */
	loop_free(l);
}
END_TEST

START_TEST(test_timer_ties_and_rearm)
{
	struct loop *l = setup();
	int a = loop_timer_new(l, on_timer, "a"), b = loop_timer_new(l, on_timer, "b");
	/* Same time: the order they were armed in, whatever their ids. */
	loop_timer_arm(l, b, 10);
	loop_timer_arm(l, a, 10);
	ck_assert_int_eq(loop_run_once(l), 2);
	ck_assert_str_eq(tr.log, "ba");
	/* Re-armed later: the new time replaces the old one. */
	loop_timer_arm(l, a, 5);
	loop_timer_arm(l, a, mono_now_ms() + 60000);
	ck_assert_int_eq(loop_timer_armed(l, a, NULL), 1);
	loop_timer_free(l, a);
	ck_assert_int_eq(loop_timer_armed(l, a, NULL), 0);
	loop_timer_free(l, a); /* twice: no-op */
	loop_timer_free(l, -1);
	loop_free(l);
}
END_TEST

START_TEST(test_timer_rearmed_from_callback_waits_a_turn)
{
	struct loop *l = setup();
	tr.rearm = 1;
	int a = loop_timer_new(l, on_a, "a"), b = loop_timer_new(l, on_timer, "b");
	loop_timer_arm(l, a, 1);
	loop_timer_arm(l, b, 2);
	/* a re-arms itself in the past: not fired again in this dispatch, b still runs. */
	ck_assert_int_eq(loop_run_once(l), 2);
	ck_assert_str_eq(tr.log, "ab");
	tr.rearm = 0;
	ck_assert_int_eq(loop_run_once(l), 1);
	ck_assert_str_eq(tr.log, "aba");
	loop_free(l);
}
END_TEST

START_TEST(test_timer_freed_during_dispatch)
{
	struct loop *l = setup();
	int a = loop_timer_new(l, on_a, "a"), b = loop_timer_new(l, on_timer, "b");
	tr.victim_timer = b;
	loop_timer_arm(l, a, 1);
	loop_timer_arm(l, b, 2); /* due as well, but a frees it first */
	ck_assert_int_eq(loop_run_once(l), 1);
	ck_assert_str_eq(tr.log, "a");
	/* Its id is reused by the next timer, which starts disarmed. */
	int c = loop_timer_new(l, on_timer, "c");
	ck_assert_int_eq(c, b);
	ck_assert_int_eq(loop_timer_armed(l, c, NULL), 0);
	loop_free(l);
}
END_TEST

START_TEST(test_fd_callbacks)
{
	struct loop *l = setup();
	int p[2], q[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	ck_assert_int_eq(loop_fd_add(l, p[0], on_fd, "p"), 0);
	ck_assert_int_eq(loop_fd_add(l, q[0], on_fd, "q"), 0);
	ck_assert_int_eq(loop_fd_add(l, q[0], on_fd, "q"), -1); /* already watched */
	ck_assert_int_eq(loop_fd_add(l, -1, on_fd, "x"), -1);
	ck_assert_int_eq(write(q[1], "x", 1), 1);
	/* A timer bounds the wait; only the readable descriptor is called back. */
	int t = loop_timer_new(l, on_timer, "t");
	loop_timer_arm(l, t, mono_now_ms() + 20);
	ck_assert_int_eq(loop_run_once(l), 1);
	ck_assert_str_eq(tr.log, "q");
	ck_assert_int_eq(loop_run_once(l), 1); /* nothing readable: the timer after ~20 ms */
	ck_assert_str_eq(tr.log, "qt");
	/* A hang-up is reported too, so the owner sees the end of its connection. */
	close(p[1]);
	ck_assert_int_eq(loop_run_once(l), 1);
	ck_assert_str_eq(tr.log, "qtp");
	loop_fd_del(l, p[0]);
	loop_fd_del(l, p[0]); /* twice: no-op */
	loop_fd_del(l, q[0]);
	ck_assert_int_eq(loop_run_once(l), 0);
	close(p[0]);
	close(q[0]);
	close(q[1]);
	loop_free(l);
}
END_TEST

/* Both ends readable; whichever is called first unwatches the other: it is not called. */
START_TEST(test_fd_removed_during_dispatch)
{
	struct loop *l = setup();
	int p[2], q[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	ck_assert_int_eq(loop_fd_add(l, p[0], on_fd, "p"), 0);
	ck_assert_int_eq(loop_fd_add(l, q[0], on_fd, "q"), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(write(q[1], "x", 1), 1);
	tr.victim_fd = q[0];
	ck_assert_int_eq(loop_run_once(l), 1);
	ck_assert_str_eq(tr.log, "p");
	/* Watched again with another callback: that one is called, not the old one. */
	tr.victim_fd = -1;
	ck_assert_int_eq(loop_fd_add(l, q[0], on_fd, "Q"), 0);
	ck_assert_int_eq(write(q[1], "x", 1), 1);
	ck_assert_int_eq(loop_run_once(l), 1);
	ck_assert_str_eq(tr.log, "pQ");
	for (int i = 0; i < 2; i++) {
		close(p[i]);
		close(q[i]);
	}
	loop_free(l);
	loop_free(NULL);
}
END_TEST

static volatile int stop_flag;

static void on_stop(struct loop *l, int timer, void *ctx)
{
	trace_add(&tr, 's');
	stop_flag = 1;
}

START_TEST(test_run_until_stop)
{
	struct loop *l = setup();
	int a = loop_timer_new(l, on_timer, "a"), s = loop_timer_new(l, on_stop, NULL);
	uint64_t now = mono_now_ms();
	loop_timer_arm(l, a, now + 5);
	loop_timer_arm(l, s, now + 10);
	stop_flag = 0;
	loop_run(l, &stop_flag);
	ck_assert_str_eq(tr.log, "as");
	/* Nothing left to wait for: loop_run returns instead of sleeping forever. */
	stop_flag = 0;
	loop_run(l, &stop_flag);
	loop_free(l);
}
END_TEST

static void on_alarm(int sig) { stop_flag = 1; }

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* A poll that keeps failing (here: more descriptors watched than the process may open, EINVAL)
 * is retried with a pause, not in a busy loop: one second of it costs far less than a second
 * of CPU (a spinning loop costs nearly all of it). */
START_TEST(test_failing_poll_does_not_spin)
{
	struct loop *l = setup();
	int pipes[8][2];
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(pipe(pipes[i]), 0);
		ck_assert_int_eq(loop_fd_add(l, pipes[i][0], on_fd, "r"), 0);
	}
	/* Only the soft limit, given back below: check and the sanitizers' exit-time reports open
	 * files of their own (with a lasting limit of 4 LeakSanitizer hung at exit). */
	struct rlimit old, few;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	few = (struct rlimit){4, old.rlim_max};
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &few), 0);
	stop_flag = 0;
	signal(SIGALRM, on_alarm);
	double before = cpu_seconds();
	alarm(1);
	loop_run(l, &stop_flag);
	double used = cpu_seconds() - before;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	for (int i = 0; i < 8; i++)
		close(pipes[i][0]), close(pipes[i][1]);
	ck_assert_int_eq(stop_flag, 1);
	ck_assert_msg(used < 0.2, "%.3f s of CPU in one second of failing polls", used);
	ck_assert_str_eq(tr.log, "");
	loop_free(l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("loop");
	tcase_add_test(tc, test_timers_in_order);
	tcase_add_test(tc, test_timer_ties_and_rearm);
	tcase_add_test(tc, test_timer_rearmed_from_callback_waits_a_turn);
	tcase_add_test(tc, test_timer_freed_during_dispatch);
	tcase_add_test(tc, test_fd_callbacks);
	tcase_add_test(tc, test_fd_removed_during_dispatch);
	tcase_add_test(tc, test_run_until_stop);
	tcase_add_test(tc, test_failing_poll_does_not_spin);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
