/* Monotonic counters across HAProxy restarts, reloads and server re-adds. HAProxy's counters
 * restart from 0 when its worker changes or a server is deleted and added again; Prometheus
 * counters must not go down while the bridge runs. For each series the bridge keeps the last
 * raw value and an offset: when the raw value drops, or the worker or the server id changes,
 * the last raw value is added to the offset and the export goes on from there.
 * Pure: the clock is an argument. */
#ifndef MCS_BRIDGE_COUNTERS_H
#define MCS_BRIDGE_COUNTERS_H

#include <stddef.h>
#include <time.h>

#define BRIDGE_COUNTERS_MAX 4 /* counters per series at most */

struct bridge_counters;
struct bridge_snapshot;

/* Creates an empty table of series with n counters each (1..BRIDGE_COUNTERS_MAX). Returns NULL on
 * OOM or a bad n. Free with bridge_counters_free. */
struct bridge_counters *bridge_counters_new(size_t n);

/* Frees m. NULL is a no-op. */
void bridge_counters_free(struct bridge_counters *m);

/* Starts a round of updates. worker identifies HAProxy's process (its pid and start time
 * folded together by the caller): when it differs from the previous round's, every series
 * is rebased, since all of HAProxy's counters restarted from 0. */
void bridge_counters_begin(struct bridge_counters *m, unsigned long long worker);

/* Updates series key with instance (e.g. the server id: a change means a new server) and the
 * raw values raw[0..n-1], writes the exported values to out[0..n-1]. A key met for the first
 * time exports its raw values. Returns 0, 1 when key was already updated in this round (out is
 * then the earlier result, nothing changes), or -1 on OOM (out = raw). */
int bridge_counters_update(struct bridge_counters *m, const char *key, unsigned long long instance,
			   const unsigned long long *raw, unsigned long long *out) __attribute__((warn_unused_result));

/* Ends the round: forgets series not updated in the last forget_s seconds (their counters
 * would then start again from HAProxy's value, a reset Prometheus sees). now is any clock in
 * seconds, the same for every call. */
void bridge_counters_end(struct bridge_counters *m, time_t now, unsigned long forget_s);

/* Number of series kept. */
size_t bridge_counters_size(const struct bridge_counters *m);

/* Applies fe (1 series, 4 counters: stot, ssl failures, refused connections, bytes held back by
 * the bandwidth limit; made with fewer, the later ones stay raw) and be (one series per node
 * label, 4 counters: chkfail, stot, econ, chkdown) to s in place: its raw counters become the
 * exported ones.
 * worker as for bridge_counters_begin. Returns 0, or -1 on OOM (values then raw). */
int bridge_counters_apply(struct bridge_counters *fe, struct bridge_counters *be, struct bridge_snapshot *s,
			  unsigned long long worker, time_t now, unsigned long forget_s)
	__attribute__((warn_unused_result));

/* Folds a worker's pid and start time (now - uptime, in seconds) into one identity; a start
 * time that moved by less than 3 s is the same worker (uptime is read at whole seconds). */
unsigned long long bridge_counters_worker_id(long pid, long long start_s, unsigned long long previous);

#endif
