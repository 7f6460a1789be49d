/* The controller's status file (controller.json, written by mcs-lb-controller after every
 * step) read as untrusted input: a missing, garbled, stale or future-dated file makes the
 * controller "not up", never a crash or a made-up value. Pure: text and clock in. */
#ifndef MCS_BRIDGE_CTL_H
#define MCS_BRIDGE_CTL_H

#include <stddef.h>

/* What the bridge exports of the controller. Values are meaningful only while up is 1. */
struct bridge_ctl_status {
	int up;                          /* 1: the file parsed and is younger than the stale limit */
	char why[160];                   /* up 0: one line saying why ("stale: written 75 s ago") */
	long long time;                  /* when the controller wrote the file (unix seconds) */
	long long last_sync;             /* last step that matched HAProxy to Redis (0: none yet) */
	int redis_ok, haproxy_ok;        /* 1: the last exchange with each succeeded */
	int kept_on_empty;               /* 1: Redis looks empty and every server is being kept */
	unsigned long long live_nodes;   /* live members of mcs:node */
	unsigned long long servers;      /* servers of the backend as the controller last saw them */
	unsigned long long leaving;      /* servers draining on their way out */
	unsigned long long held;         /* live nodes held in drain/maintenance by an operator */
	unsigned long long rejected_total, redis_errors_total, haproxy_errors_total;
	unsigned long long actions_total, action_errors_total;
	/* Optional fields (0 when absent, as written by older controllers): */
	unsigned long long removal_held;         /* drains held back: a mass removal awaiting its hold */
	unsigned long long notified_steps_total; /* steps started at once by a keyspace notification */
	unsigned long long cert_swaps_total;     /* certificates swapped into HAProxy at run time */
	int has_refused;                         /* 1: the two counts below were in the file */
	unsigned long long refused_rate_total;   /* clients refused by the per-address rate limit */
	unsigned long long refused_concurrency_total; /* ... by the per-address concurrency limit */
};

/* Largest status file read, in bytes: anything larger is garbled. */
#define BRIDGE_CTL_MAX_BYTES 65536u

/* Parses len bytes of text (need not be NUL-terminated) written at most stale_s seconds
 * before now (unix seconds) into *out. Returns 0 with out->up 1, or -1 with out->up 0 and
 * out->why set: not JSON, not an object, a field missing or of the wrong type or negative,
 * stale, or dated more than stale_s in the future. */
int bridge_ctl_parse(const char *text, size_t len, long long now, unsigned long stale_s,
		     struct bridge_ctl_status *out) __attribute__((warn_unused_result));

/* Reads the status file at path (at most BRIDGE_CTL_MAX_BYTES) and parses it as above. */
int bridge_ctl_read(const char *path, long long now, unsigned long stale_s, struct bridge_ctl_status *out)
	__attribute__((warn_unused_result));

#endif
