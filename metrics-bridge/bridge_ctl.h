/* The controller's status file (controller.json, written by mcs-lb-controller after every
 * step) read as untrusted input: a missing, garbled, stale or future-dated file makes the
 * controller "not up", never a crash or a made-up value. Pure: text and clock in. */
#ifndef MCS_BRIDGE_CTL_H
#define MCS_BRIDGE_CTL_H

#include <stddef.h>

#include "ctl_file.h"

/* What the bridge exports of the controller. Values are meaningful only while up is 1. */
struct bridge_ctl_status {
	int up;            /* 1: the file parsed and is younger than the stale limit */
	char why[160];     /* up 0: one line saying why ("stale: written 75 s ago") */
	struct ctl_file v; /* the file's values (ctl_file.h); optional keys absent: 0, KNOWN ones -1 */
	int has_refused;   /* 1: both refused_*_total counts were in the file */
};

/* Largest status file read, in bytes: anything larger is garbled. */
#define BRIDGE_CTL_MAX_BYTES 65536u

/* Parses len bytes of text (need not be NUL-terminated) written at most stale_s seconds
 * before now (unix seconds) into *out. Returns 0 with out->up 1, or -1 with out->up 0 and
 * out->why set: not JSON, not an object, a field missing or of the wrong type or negative,
 * stale, or dated more than stale_s in the future. */
int bridge_ctl_parse(const char *text, size_t len, long long now, unsigned long stale_s, struct bridge_ctl_status *out)
	__attribute__((warn_unused_result));

/* Reads the status file at path (at most BRIDGE_CTL_MAX_BYTES) and parses it as above. */
int bridge_ctl_read(const char *path, long long now, unsigned long stale_s, struct bridge_ctl_status *out)
	__attribute__((warn_unused_result));

#endif
