/* The RESP2 framing as a byte-at-a-time state machine that only counts: it never buffers a
 * payload, so its own cost is fixed whatever the server sends. */
#include "resp_scan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RESP_S_TYPE, RESP_S_LINE, RESP_S_NUM, RESP_S_BULK };

void resp_limits_for_pairs(struct resp_limits *lim, size_t max_pairs)
{
	lim->max_elements = 2 * max_pairs + 64;
	lim->max_bulk = 64 * 1024;
	lim->max_bytes = lim->max_elements * 128 + 64 * 1024;
	lim->max_depth = 4;
}

void resp_scan_init(struct resp_scan *s, const struct resp_limits *lim)
{
	memset(s, 0, sizeof(*s));
	s->lim = *lim;
	if (s->lim.max_depth > RESP_SCAN_DEPTH_MAX)
		s->lim.max_depth = RESP_SCAN_DEPTH_MAX;
}

__attribute__((format(printf, 2, 3))) static int resp_scan_fail(struct resp_scan *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errstr, sizeof(s->errstr), fmt, ap);
	va_end(ap);
	return -1;
}

/* One element (a string, an integer, a null, an empty or completed array) is complete:
 * close the arrays it completes; the reply ends when none is left open. */
static void resp_scan_element_done(struct resp_scan *s)
{
	while (s->depth > 0) {
		if (--s->left[s->depth - 1] > 0)
			return;
		s->depth--;
	}
	s->elements = 0;
	s->bytes = 0;
}

static int resp_scan_type(struct resp_scan *s, unsigned char c)
{
	if (c != '+' && c != '-' && c != ':' && c != '$' && c != '*') {
		if (c == 0x15 || c == 0x16)
			return resp_scan_fail(s,
					      "a TLS record (byte 0x%02x) where a reply should start: the server "
					      "speaks TLS (use rediss://)",
					      c);
		return resp_scan_fail(s, "byte 0x%02x is not a RESP reply type", c);
	}
	s->type = (char)c;
	s->num_len = 0;
	s->line_len = 0;
	s->cr = 0;
	s->state = c == '+' || c == '-' ? RESP_S_LINE : RESP_S_NUM;
	return 0;
}

/* A complete $, * or : header: its number decides what follows. */
static int resp_scan_header(struct resp_scan *s)
{
	s->num[s->num_len] = '\0';
	char *end;
	errno = 0;
	long long v = strtoll(s->num, &end, 10);
	if (s->num_len == 0 || *end != '\0' || errno == ERANGE || (s->type != ':' && v < -1))
		return resp_scan_fail(s, "malformed '%c' header \"%.24s\"", s->type, s->num);
	s->state = RESP_S_TYPE;
	if (s->type == ':' || v == -1) {
		resp_scan_element_done(s);
		return 0;
	}
	if (s->type == '$') {
		if ((unsigned long long)v > s->lim.max_bulk)
			return resp_scan_fail(s, "a string of %lld bytes: more than the %zu one may hold", v,
					      s->lim.max_bulk);
		s->bulk_left = (unsigned long long)v + 2;
		s->state = RESP_S_BULK;
		return 0;
	}
	if ((unsigned long long)v > s->lim.max_elements - s->elements)
		return resp_scan_fail(s, "an array of %lld elements: more than the %zu one reply may hold", v,
				      s->lim.max_elements);
	if (v == 0) {
		resp_scan_element_done(s);
		return 0;
	}
	if (s->depth == s->lim.max_depth)
		return resp_scan_fail(s, "arrays nested deeper than %u", s->lim.max_depth);
	s->elements += (size_t)v;
	s->left[s->depth++] = v;
	return 0;
}

/* One byte of a header line; "\r\n" ends it. */
static int resp_scan_line_byte(struct resp_scan *s, char c)
{
	if (s->cr && c == '\n') {
		if (s->state == RESP_S_NUM)
			return resp_scan_header(s);
		s->state = RESP_S_TYPE;
		resp_scan_element_done(s);
		return 0;
	}
	if (s->cr && s->state == RESP_S_NUM)
		return resp_scan_fail(s, "malformed '%c' header: '\\r' not followed by '\\n'", s->type);
	s->cr = c == '\r';
	if (s->cr)
		return 0;
	if (s->state == RESP_S_LINE) {
		if (++s->line_len > s->lim.max_bulk)
			return resp_scan_fail(s, "a '%c' line longer than %zu bytes", s->type, s->lim.max_bulk);
		return 0;
	}
	if (s->num_len + 1 >= sizeof(s->num) || !(c == '-' || (c >= '0' && c <= '9')))
		return resp_scan_fail(s, "malformed '%c' header", s->type);
	s->num[s->num_len++] = c;
	return 0;
}

int resp_scan_feed(struct resp_scan *s, const char *buf, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t step = 1;
		if (s->state == RESP_S_BULK) {
			step = len - i < s->bulk_left ? len - i : (size_t)s->bulk_left;
			s->bulk_left -= step;
		}
		if (s->bytes + step > s->lim.max_bytes)
			return resp_scan_fail(s, "a reply of more than %zu bytes", s->lim.max_bytes);
		s->bytes += step;
		if (s->state == RESP_S_BULK) {
			if (s->bulk_left == 0) {
				s->state = RESP_S_TYPE;
				resp_scan_element_done(s);
			}
		} else if (s->state == RESP_S_TYPE) {
			if (resp_scan_type(s, (unsigned char)buf[i]) == -1)
				return -1;
		} else if (resp_scan_line_byte(s, buf[i]) == -1) {
			return -1;
		}
		i += step;
	}
	return 0;
}
