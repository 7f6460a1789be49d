/* The event loop (see loop.h): arrays of descriptor and timer slots, one poll() per turn.
 * Slots are never moved while in use, and a generation number tells a slot reused during a
 * dispatch from the registration the dispatch saw; timers are few, so a linear scan finds the
 * next one. */
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mono.h"
#include "vec.h"

/* The pause between tries while poll itself fails. */
#define LOOP_RETRY_MS 100

struct loop_fd {
	int fd;       /* -1: free slot */
	unsigned gen; /* bumped at each add, so a dispatch skips a slot re-used meanwhile */
	loop_fd_fn fn;
	void *ctx;
};

struct loop_timer {
	int used;
	int armed;
	uint64_t at_ms;
	unsigned long long seq; /* arming order: ties broken by it, and fired only if armed before the dispatch */
	loop_timer_fn fn;
	void *ctx;
};

struct loop {
	struct loop_fd *fds;
	size_t n_fds, cap_fds;
	struct loop_timer *timers;
	size_t n_timers, cap_timers;
	struct pollfd *pfds; /* the descriptors of one poll, parallel to pslot and pgen */
	size_t *pslot;
	unsigned *pgen;
	size_t cap_poll;
	unsigned long long seq;
	unsigned gen;
};

struct loop *loop_new(void) { return calloc(1, sizeof(struct loop)); }

void loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	free(l->fds);
	free(l->timers);
	free(l->pfds);
	free(l->pslot);
	free(l->pgen);
	free(l);
}

static struct loop_fd *loop_fd_find(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->n_fds; i++)
		if (l->fds[i].fd == fd)
			return &l->fds[i];
	return NULL;
}

int loop_fd_add(struct loop *l, int fd, loop_fd_fn fn, void *ctx)
{
	if (fd < 0 || fn == NULL || loop_fd_find(l, fd) != NULL)
		return -1;
	struct loop_fd *slot = loop_fd_find(l, -1);
	if (slot == NULL) {
		struct loop_fd *grown = vec_grow(l->fds, &l->cap_fds, l->n_fds, sizeof(*grown), 8);
		if (grown == NULL)
			return -1;
		l->fds = grown;
		slot = &l->fds[l->n_fds++];
	}
	*slot = (struct loop_fd){fd, ++l->gen, fn, ctx};
	return 0;
}

void loop_fd_del(struct loop *l, int fd)
{
	struct loop_fd *slot = fd < 0 ? NULL : loop_fd_find(l, fd);
	if (slot != NULL)
		slot->fd = -1;
}

int loop_timer_new(struct loop *l, loop_timer_fn fn, void *ctx)
{
	size_t i = 0;
	if (fn == NULL)
		return -1;
	while (i < l->n_timers && l->timers[i].used)
		i++;
	if (i == l->n_timers) {
		struct loop_timer *grown = vec_grow(l->timers, &l->cap_timers, l->n_timers, sizeof(*grown), 8);
		if (grown == NULL)
			return -1;
		l->timers = grown;
		l->n_timers++;
	}
	l->timers[i] = (struct loop_timer){.used = 1, .fn = fn, .ctx = ctx};
	return (int)i;
}

int loop_timer_add(struct loop *l, uint64_t at_ms, loop_timer_fn fn, void *ctx)
{
	int timer = loop_timer_new(l, fn, ctx);
	if (timer != -1)
		loop_timer_arm(l, timer, at_ms);
	return timer;
}

static struct loop_timer *loop_timer_get(const struct loop *l, int timer)
{
	if (timer < 0 || (size_t)timer >= l->n_timers || !l->timers[timer].used)
		return NULL;
	return &l->timers[timer];
}

void loop_timer_arm(struct loop *l, int timer, uint64_t at_ms)
{
	struct loop_timer *t = loop_timer_get(l, timer);
	if (t == NULL)
		return;
	t->armed = 1;
	t->at_ms = at_ms;
	t->seq = ++l->seq;
}

void loop_timer_disarm(struct loop *l, int timer)
{
	struct loop_timer *t = loop_timer_get(l, timer);
	if (t != NULL)
		t->armed = 0;
}

int loop_timer_armed(const struct loop *l, int timer, uint64_t *at_ms)
{
	const struct loop_timer *t = loop_timer_get(l, timer);
	if (t == NULL || !t->armed)
		return 0;
	if (at_ms != NULL)
		*at_ms = t->at_ms;
	return 1;
}

void loop_timer_free(struct loop *l, int timer)
{
	struct loop_timer *t = loop_timer_get(l, timer);
	if (t != NULL)
		*t = (struct loop_timer){0};
}

/* The armed timer that fires first among those armed up to seq_max (-1 when none). */
static int loop_timer_next(const struct loop *l, unsigned long long seq_max)
{
	int best = -1;
	for (size_t i = 0; i < l->n_timers; i++) {
		const struct loop_timer *t = &l->timers[i];
		if (!t->used || !t->armed || t->seq > seq_max)
			continue;
		const struct loop_timer *b = best == -1 ? NULL : &l->timers[best];
		if (b == NULL || t->at_ms < b->at_ms || (t->at_ms == b->at_ms && t->seq < b->seq))
			best = (int)i;
	}
	return best;
}

/* Copies the watched descriptors into the poll arrays; returns how many, or -1 on OOM. */
static long loop_poll_fill(struct loop *l)
{
	if (l->cap_poll < l->n_fds) {
		size_t cap = l->n_fds;
		struct pollfd *p = realloc(l->pfds, cap * sizeof(*p));
		if (p != NULL)
			l->pfds = p;
		size_t *s = realloc(l->pslot, cap * sizeof(*s));
		if (s != NULL)
			l->pslot = s;
		unsigned *g = realloc(l->pgen, cap * sizeof(*g));
		if (g != NULL)
			l->pgen = g;
		if (p == NULL || s == NULL || g == NULL)
			return -1;
		l->cap_poll = cap;
	}
	size_t n = 0;
	for (size_t i = 0; i < l->n_fds; i++) {
		if (l->fds[i].fd == -1)
			continue;
		l->pfds[n] = (struct pollfd){.fd = l->fds[i].fd, .events = POLLIN};
		l->pslot[n] = i;
		l->pgen[n++] = l->fds[i].gen;
	}
	return (long)n;
}

/* Calls back the ready descriptors still registered as they were when poll was called. */
static int loop_fd_dispatch(struct loop *l, size_t n)
{
	int ran = 0;
	for (size_t i = 0; i < n; i++) {
		if (l->pfds[i].revents == 0)
			continue;
		const struct loop_fd *slot = &l->fds[l->pslot[i]];
		if (slot->fd != l->pfds[i].fd || slot->gen != l->pgen[i])
			continue;
		slot->fn(l, slot->fd, slot->ctx);
		ran++;
	}
	return ran;
}

/* Fires the timers due at now that were armed before this dispatch began, in order. */
static int loop_timer_dispatch(struct loop *l, uint64_t now)
{
	unsigned long long seq_max = l->seq;
	int ran = 0, i;
	while ((i = loop_timer_next(l, seq_max)) != -1 && l->timers[i].at_ms <= now) {
		struct loop_timer *t = &l->timers[i];
		t->armed = 0;
		t->fn(l, i, t->ctx);
		ran++;
	}
	return ran;
}

int loop_run_once(struct loop *l)
{
	long n = loop_poll_fill(l);
	if (n == -1) {
		errno = ENOMEM;
		return -1;
	}
	int next = loop_timer_next(l, l->seq);
	if (n == 0 && next == -1)
		return 0;
	int timeout = next == -1 ? -1 : mono_ms_left(l->timers[next].at_ms, mono_now_ms());
	if (poll(l->pfds, (nfds_t)n, timeout) == -1) {
		if (errno != EINTR)
			return -1;
		n = 0; /* the revents are not set: dispatch only the timers */
	}
	int ran = loop_fd_dispatch(l, (size_t)n);
	return ran + loop_timer_dispatch(l, mono_now_ms());
}

/* 1 when something can still wake the loop: a watched descriptor or an armed timer. */
static int loop_waits(const struct loop *l)
{
	for (size_t i = 0; i < l->n_fds; i++)
		if (l->fds[i].fd != -1)
			return 1;
	return loop_timer_next(l, l->seq) != -1;
}

void loop_run(struct loop *l, volatile const int *stop)
{
	int failing = 0; /* errno of the poll failures going on, 0 while poll works */
	while (!*stop && loop_waits(l)) {
		if (loop_run_once(l) != -1) {
			if (failing != 0)
				log_info("poll works again");
			failing = 0;
			continue;
		}
		/* A failed poll (out of memory, a descriptor limit) is retried: the jobs' state is
		 * intact, and a daemon that stops would take its HAProxy servers' agent with it. A
		 * pause between tries keeps a lasting failure from spinning a core; one line says so. */
		int e = errno;
		if (e != failing)
			log_warn("poll failed, retrying every %d ms: %s", LOOP_RETRY_MS, strerror(e));
		failing = e;
		struct timespec pause = {0, LOOP_RETRY_MS * 1000000L};
		nanosleep(&pause, NULL);
	}
}
