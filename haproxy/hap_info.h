/* Parser of HAProxy 2.6's `show info` reply: any "Key: value" line, and the answering worker's
 * identity (pid, uptime, whether it is an old one stopping after a reload). Pure. */
#ifndef MCS_HAP_INFO_H
#define MCS_HAP_INFO_H

#include <stddef.h>

/* Finds the line "<key>: <value>" of a `show info` reply (key matched whole and case-sensitive,
 * e.g. "Pid", "Uptime_sec") and copies value, without the line end, to out. Returns 0, or -1
 * when the key is absent or the value does not fit in outlen (out is then ""). */
int hap_info_get(const char *text, const char *key, char *out, size_t outlen) __attribute__((warn_unused_result));

/* What `show info` says of the worker that answered. */
struct hap_info {
	long pid;                    /* Pid */
	unsigned long long uptime_s; /* Uptime_sec */
	int stopping;                /* 1: "Stopping: 1", an old worker finishing after a reload */
	char version[64];            /* Version, "" when absent or longer */
};

/* Parses a `show info` reply into *out. "Stopping" absent (older versions) reads as a live
 * worker. Returns 0, or -1 with a one-line reason in err when Pid (1..2^31-1 digits' worth)
 * or Uptime_sec is missing or not a decimal number. */
int hap_info_parse(const char *text, struct hap_info *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
