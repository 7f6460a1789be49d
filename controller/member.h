/* Strict parsing of one mcs:node member ("IPv4:port" or "[IPv6]:port"): untrusted input from
 * Redis that must never reach HAProxy's runtime socket unvalidated. */
#ifndef MCS_MEMBER_H
#define MCS_MEMBER_H

#include <netinet/in.h>
#include <stddef.h>

#include "names.h"

/* Longest valid member: "[" + 45-char IPv6 text + "]:" + 5-digit port. */
#define MEMBER_MAX_LEN 53
_Static_assert(MEMBER_MAX_LEN < MCS_SERVER_NAME_MAX, "a member's server name must fit MCS_SERVER_NAME_MAX");

struct node_addr {
	char name[MCS_SERVER_NAME_MAX]; /* server name: "1.2.3.4:80" or "2001:db8::1:80" */
	char addr[INET6_ADDRSTRLEN];    /* canonical address text, no brackets */
	unsigned port;                  /* 1..65535 */
	int family;                     /* AF_INET or AF_INET6 */
};

/* Parses len bytes of text (not NUL-terminated; may contain any byte). Returns 0 with out
 * filled, or -1 with the reason ("port 0 is out of range") in err. IPv6 text is
 * canonicalised, so two spellings of one address give the same name. */
int member_parse(const char *text, size_t len, struct node_addr *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Writes a printable, truncated copy of untrusted text for a log line: bytes outside
 * printable ASCII become \xNN, quotes are escaped, at most outlen - 1 bytes. */
void member_quote(const char *text, size_t len, char *out, size_t outlen);

#endif
