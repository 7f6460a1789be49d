/* Parser of the reply to `show mcs bwlim`, the command haproxy/bwlim.lua registers (allowed at
 * level user) while the Lua bandwidth limit is loaded: "throttled_bytes: <n>\nsize: <n>\n". Pure. */
#ifndef MCS_HAP_BWLIM_H
#define MCS_HAP_BWLIM_H

#include <stddef.h>

/* What `show mcs bwlim` says. */
struct hap_bwlim {
	int found;                    /* 1: the command answered: the Lua bandwidth limit runs */
	unsigned long long throttled; /* throttled_bytes: bytes that waited for their address's bucket,
				       * all threads, since the worker started */
};

/* Parses a `show mcs bwlim` reply into *out; found is 0 when HAProxy does not know the command
 * ("Unknown command, ...": the limit is off, or HAProxy's own bwlim filter applies it). Returns 0,
 * or -1 with *out zeroed and a one-line reason in err when the command is known but its reply
 * has no throttled_bytes number or is cut short. */
int hap_bwlim_parse(const char *text, struct hap_bwlim *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
