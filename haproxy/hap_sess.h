/* Parser of HAProxy 2.6's `show sess` reply: the ids of one server's sessions, as `shutdown
 * session` takes them back. Pure. */
#ifndef MCS_HAP_SESS_H
#define MCS_HAP_SESS_H

#include <stddef.h>

#define HAP_SESS_ID_SIZE 24 /* "0x" + at most 20 hex digits + NUL */

/* From a `show sess` reply (lines like "0x55d0c1a0f0e0: proto=tcpv4 ... be=mcs srv=10.0.0.5:7000
 * ..."), copies into ids the ids ("0x" and 1..20 hex digits) of at most max sessions of
 * backend/server, in reply order. A line is taken only when it starts with a well-formed id and a
 * ':' and holds " be=<backend> srv=<server> ": the ids go back into `shutdown session`, so nothing
 * else passes. Returns how many were copied. Pure. */
size_t hap_sess_ids(const char *text, const char *backend, const char *server, char (*ids)[HAP_SESS_ID_SIZE],
		    size_t max);

#endif
