/* Numeric IP addresses given as text (a bind address, a listen address): the one test of
 * "is this an address", the one way from text and port to a struct sockaddr, and the one way
 * to a listening socket on it. */
#ifndef MCS_ADDR_H
#define MCS_ADDR_H

#include <sys/socket.h>

/* 1 when text is a numeric IPv4 ("127.0.0.1") or IPv6 ("::1", "::ffff:10.0.0.1") address as
 * inet_pton reads it, else 0. The address alone: "[::1]" (the brackets of an "[IPv6]:port"
 * form are the caller's to strip), host names, zone ids ("fe80::1%eth0"), blanks and "" are
 * not addresses. */
int addr_is_literal(const char *text);

/* Fills *out (zeroed first) with the address literal (as addr_is_literal takes it) and port,
 * as a struct sockaddr_in or sockaddr_in6, and *len with that struct's size. Returns 0, or -1
 * when literal is not an address or port is above 65535 (then *out and *len are unchanged). */
int addr_parse(const char *literal, unsigned port, struct sockaddr_storage *out, socklen_t *len)
	__attribute__((warn_unused_result));

/* Opens a TCP socket listening on *ss (len bytes, as addr_parse filled them): non-blocking,
 * close-on-exec, SO_REUSEADDR, backlog as listen(2) takes it. Returns the socket (the caller
 * closes it) with *ss now the address bound (the port chosen when it was 0), or -1 with errno
 * set and nothing left open. */
int addr_listen(struct sockaddr_storage *ss, socklen_t len, int backlog) __attribute__((warn_unused_result));

/* The port of an IPv4 or IPv6 address in host order (as getsockname filled it), 0 for any
 * other family. */
unsigned addr_port(const struct sockaddr_storage *ss);

#endif
