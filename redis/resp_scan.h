/* A bound on what one Redis reply may cost, checked on the raw bytes before hiredis's reader
 * sees them: hiredis 0.14 allocates a whole array as soon as it reads `*<count>`, and buffers a
 * bulk string or a status line until it is complete, so a broken or hostile server could make
 * it allocate without limit. The scanner follows the RESP2 framing byte by byte (headers,
 * bulk payloads, nesting) and refuses a reply that would exceed the limits. */
#ifndef MCS_RESP_SCAN_H
#define MCS_RESP_SCAN_H

#include <stddef.h>

#define RESP_SCAN_DEPTH_MAX 8 /* nesting the scanner can track; limits.max_depth is at most this */

struct resp_limits {
	size_t max_elements; /* array elements in one reply, nested ones included */
	size_t max_bulk;     /* bytes of one bulk string, status or error line */
	size_t max_bytes;    /* bytes of one whole reply as sent */
	unsigned max_depth;  /* nested arrays: 1 is a flat array */
};

struct resp_scan {
	struct resp_limits lim;
	int state;    /* where in the framing the next byte falls */
	char type;    /* the header's type byte */
	char num[24]; /* a $, * or : header's digits so far */
	size_t num_len;
	size_t line_len;                     /* bytes of the current + or - line */
	int cr;                              /* the last header byte was '\r' */
	unsigned long long bulk_left;        /* payload and CRLF still to skip */
	long long left[RESP_SCAN_DEPTH_MAX]; /* elements still to come in each open array */
	unsigned depth;                      /* open arrays */
	size_t elements, bytes;              /* what the current reply cost so far */
	char errstr[160];                    /* why the stream was refused */
};

/* The limits for replies of at most max_pairs two-element items (members with scores, hash
 * fields with values): 2 * max_pairs + 64 elements, 64 KiB per string, 128 bytes per element
 * on average plus 64 KiB, depth 4 (ROLE is 3 deep). */
void resp_limits_for_pairs(struct resp_limits *lim, size_t max_pairs);

/* Starts a scan of a new connection's replies under lim (copied; max_depth capped). */
void resp_scan_init(struct resp_scan *s, const struct resp_limits *lim);

/* Follows len more bytes of the stream. Returns 0, or -1 when they break the framing or a
 * limit, with one line saying which in s->errstr; the stream cannot be trusted afterwards. */
int resp_scan_feed(struct resp_scan *s, const char *buf, size_t len) __attribute__((warn_unused_result));

#endif
