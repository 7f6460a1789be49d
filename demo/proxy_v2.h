/* PROXY protocol v2 header parser for the demo chat node: the bytes HAProxy sends ahead of a
 * connection with `send-proxy-v2` (proxy-protocol.txt, section 2.2). Pure; the bytes are
 * untrusted, anything outside the specification is refused. */
#ifndef MCS_PROXY_V2_H
#define MCS_PROXY_V2_H

#include <stddef.h>
#include <sys/socket.h>

#define PP2_FIXED_LEN 16 /* signature, version/command, family, length */
#define PP2_MAX_LEN 4096 /* longest header accepted, TLVs included */

enum pp2_result {
	PP2_BAD = -1, /* not a valid header: close the connection */
	PP2_MORE = 0, /* valid so far: read up to hdr->len bytes in all, then parse again */
	PP2_DONE = 1, /* a complete header of hdr->len bytes */
};

struct pp2_header {
	size_t len;                  /* PP2_MORE: bytes needed in all; PP2_DONE: bytes the header takes */
	int local;                   /* 1: LOCAL command (the proxy's own connection, e.g. a health check) */
	struct sockaddr_storage src; /* PROXY over TCP: the client's address and port (AF_INET or AF_INET6) */
	struct sockaddr_storage dst; /* ... and the address it connected to */
};

/* Parses the first n bytes of a connection. Returns PP2_DONE with *hdr filled, PP2_MORE when
 * the bytes are a valid start (hdr->len says how many are needed: never more than PP2_MAX_LEN),
 * or PP2_BAD with the reason in err. A PROXY command must carry TCP over IPv4 or IPv6; a LOCAL
 * one may carry any family (its addresses are ignored); TLVs must fill the rest exactly. */
enum pp2_result pp2_parse(const unsigned char *buf, size_t n, struct pp2_header *hdr, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
