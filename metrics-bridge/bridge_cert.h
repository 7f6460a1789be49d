/* The served certificate's expiry: the notAfter of the first certificate in a PEM text (the
 * leaf of tls/server.cert, full chain leaf first). Pure: text in, time out; the file is read in
 * bridge_scrape.c. */
#ifndef MCS_BRIDGE_CERT_H
#define MCS_BRIDGE_CERT_H

#include <stddef.h>

#define BRIDGE_CERT_MAX_BYTES (1024 * 1024) /* a longer file is refused unread (a chain is a few KB) */

/* Reads the notAfter of the first PEM certificate in pem (len bytes, need not be
 * NUL-terminated) as unix seconds into *not_after. Returns 0, or -1 with a one-line reason in
 * err (no certificate, one that does not parse, a date OpenSSL cannot convert). */
int bridge_cert_not_after(const char *pem, size_t len, long long *not_after, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
