/* The event loop of a daemon: descriptors to read and timers, each with its own callback and
 * context, waited for with one poll() (as Redis's ae.c: aeCreateFileEvent, aeCreateTimeEvent).
 * A job (a responder, a watcher, a periodic task) registers what it waits for and keeps its
 * own state; nothing else has to know its deadlines. Single-threaded; times are mono_now_ms(). */
#ifndef MCS_LOOP_H
#define MCS_LOOP_H

#include <stdint.h>

struct loop;

/* Called when fd is readable, or has an error or hang-up to read (poll's POLLIN, POLLERR,
 * POLLHUP). The callback may add and remove descriptors and timers, its own included. */
typedef void (*loop_fd_fn)(struct loop *l, int fd, void *ctx);

/* Called once when the timer's time has come; the timer is disarmed first, so a periodic job
 * arms it again from its callback. */
typedef void (*loop_timer_fn)(struct loop *l, int timer, void *ctx);

/* A loop with nothing registered. Returns NULL when out of memory; free with loop_free. */
struct loop *loop_new(void) __attribute__((warn_unused_result));

/* Frees l and its registrations (it closes no descriptor: they belong to their jobs). NULL is a
 * no-op. */
void loop_free(struct loop *l);

/* Watches fd for reading with fn(l, fd, ctx). Returns 0, or -1 when out of memory or fd is
 * negative or already watched. */
int loop_fd_add(struct loop *l, int fd, loop_fd_fn fn, void *ctx) __attribute__((warn_unused_result));

/* Stops watching fd (no-op when not watched). Safe from any callback: a descriptor removed
 * during a dispatch is not called back in it, even when it was ready, or added again. */
void loop_fd_del(struct loop *l, int fd);

/* Creates a disarmed timer that calls fn(l, timer, ctx). Returns its id (>= 0), or -1 when out
 * of memory. */
int loop_timer_new(struct loop *l, loop_timer_fn fn, void *ctx) __attribute__((warn_unused_result));

/* loop_timer_new and loop_timer_arm in one: a timer that fires first at at_ms. Returns its
 * id, or -1 when out of memory. */
int loop_timer_add(struct loop *l, uint64_t at_ms, loop_timer_fn fn, void *ctx) __attribute__((warn_unused_result));

/* Arms timer to fire once at at_ms (monotonic; a time passed fires at the next dispatch),
 * replacing any earlier time. Timers fire in order of their time, those of one time in the
 * order they were armed. A timer armed from a callback fires at the earliest in the next
 * loop_run_once, so a job re-arming itself "now" cannot starve the others. */
void loop_timer_arm(struct loop *l, int timer, uint64_t at_ms);

/* Disarms timer (no-op when it is not armed). */
void loop_timer_disarm(struct loop *l, int timer);

/* 1 when timer is armed, with its time in *at_ms (when not NULL); else 0. */
int loop_timer_armed(const struct loop *l, int timer, uint64_t *at_ms);

/* Removes timer; its id may be reused by a later loop_timer_new. Safe from any callback,
 * its own included: a removed timer is not called. -1 is a no-op. */
void loop_timer_free(struct loop *l, int timer);

/* Waits, at most until the first armed timer (forever with none and no descriptor: returns 0
 * at once then), for a watched descriptor; calls the ready descriptors' callbacks, then those
 * of the timers whose time has come. A signal ends the wait early. Returns how many callbacks
 * ran, or -1 when poll failed for another reason than a signal (errno set). */
int loop_run_once(struct loop *l);

/* Runs loop_run_once until *stop is non-zero (set by a signal handler: poll is interrupted)
 * or nothing is left to wait for. */
void loop_run(struct loop *l, volatile const int *stop);

#endif
